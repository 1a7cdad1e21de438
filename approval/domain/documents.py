"""The Chinese text of the written notices to the applicant (书面告知), rendered from their facts.

This is the one place where that text lives. A `Notice` carries the facts; `render_notice`
turns them into a `Document`: a title and a plain-text body with line breaks, in the formal
style of the 行政许可法. Pure: no I/O, same notice, centre and lookup in, same document out.

A notice that shows the check code (``Notice.shows_check_code``: every notice of a case under
a supervision policy) also tells the applicant how to follow the case without an account: the
case number, its check code (查询码) and the public progress page's address, given by the caller
as a `ProgressLookup` (the code is derived from the audit key, which the domain never holds).
Every other notice renders exactly as before, byte for byte, whatever lookup is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TypeVar
from zoneinfo import ZoneInfo

from approval.domain.catalogue import Frozen
from approval.domain.labels import INCLUSIVE, PROCEDURE_NAMES
from approval.domain.models import NoticeItem
from approval.domain.notices import DepartmentReason, Notice, NoticeKind

SHANGHAI = ZoneInfo("Asia/Shanghai")

PROVISIONAL_NOTE = "该日期按暂定工作日历计算，如法定节假日安排公布后有变化，以调整后日期为准。"
"""Said whenever a completion date rests on a holiday calendar not yet published (R5)."""

_T = TypeVar("_T")

_TERMINAL = ("。", "！", "？", "；", ".", "!", "?")


class Document(Frozen):
    """One rendered notice: what is printed, signed and handed to the applicant."""

    notice_no: str
    kind: NoticeKind
    title: str
    body: str


class ProgressLookup(Frozen):
    """How the applicant follows a case without an account: its check code (查询码,
    approval.domain.check_code) and the address of the public progress page."""

    check_code: str
    address: str


def render_notice(notice: Notice, centre: str, lookup: ProgressLookup | None = None) -> Document:
    """Render `notice` as issued by the service centre named `centre`; a notice that shows
    the check code also states the case number, `lookup`'s check code and its address (a
    notice that does not ignores `lookup`).

    Raises ValueError when the notice lacks a fact its kind must state (a deadline, a
    reason, the items to supplement…, the lookup of a notice that shows the check code) or
    when `issued_at` is a naive datetime.
    """
    if not centre.strip():
        raise ValueError("centre: the issuing service centre's name is required")
    if notice.shows_check_code and lookup is None:
        raise ValueError(f"{notice.notice_no}: a notice that shows the check code needs lookup")
    draft = _RENDERERS[notice.kind](notice, centre.strip())
    return draft.document(lookup if notice.shows_check_code else None)


# --- formatting helpers ---------------------------------------------------------------------


def cn_date(day: date) -> str:
    """A date as written in official documents: 2026年11月28日."""
    return f"{day.year}年{day.month}月{day.day}日"


def issue_date(notice: Notice) -> date:
    """The calendar day in Beijing time on which the notice was issued."""
    if notice.issued_at.tzinfo is None or notice.issued_at.utcoffset() is None:
        raise ValueError(f"{notice.notice_no}: issued_at must be timezone-aware")
    return notice.issued_at.astimezone(SHANGHAI).date()


def _sentence(text: str) -> str:
    """`text` stripped and closed with a full stop unless it already ends a sentence."""
    text = text.strip()
    return text if text.endswith(_TERMINAL) else f"{text}。"


def _clause(text: str) -> str:
    """`text` stripped of surrounding blanks and of a closing full stop, to embed mid-sentence."""
    return text.strip().rstrip("。.")


def _numbered(lines: Iterable[str]) -> list[str]:
    return [f"{i}. {line}" for i, line in enumerate(lines, start=1)]


def _item_lines(notice: Notice) -> list[str]:
    items: Sequence[NoticeItem] = _require(notice.items, "items", notice)
    return _numbered(f"{_material(notice, item.code)}：{_sentence(item.reason)}" for item in items)


def _material(notice: Notice, code: str) -> str:
    """A material by its catalogue name with its code, 人防工程设计说明（RFSJ）; the code
    alone on a notice that does not carry the names (issued before they were kept)."""
    name = notice.material_names.get(code)
    return f"{name}（{code}）" if name else code


def _rejection_lines(rejections: Sequence[DepartmentReason]) -> list[str]:
    return _numbered(f"{r.department}：{_sentence(r.reasons)}" for r in rejections)


def _require(value: _T | None, field: str, notice: Notice) -> _T:
    """`value`, which this kind of notice must state; ValueError if it is missing or empty."""
    if value is None or (isinstance(value, str | tuple) and not value):
        raise ValueError(f"{notice.notice_no}: a {notice.kind.value} must state {field}")
    return value


def _due(notice: Notice) -> str:
    return cn_date(_require(notice.due, "due", notice))


def _until(notice: Notice) -> str:
    """A deadline as every face shows it: its last day, that day included (R17: a deadline
    is the end of its last day), e.g. 2027年1月4日（含当日）."""
    return f"{_due(notice)}{INCLUSIVE if notice.edition >= 2 else ''}"


def _reason(notice: Notice) -> str:
    return _clause(_require(notice.reason, "reason", notice))


def _appeal_rights(document_name: str) -> str:
    """The remedies a refusal must tell of: 行政复议 within 60 days, 行政诉讼 within 6 months."""
    return (
        f"如不服本决定，可以自收到本{document_name}之日起60日内依法申请行政复议，"
        f"或者自收到本{document_name}之日起6个月内依法向人民法院提起行政诉讼。"
    )


@dataclass(frozen=True)
class _Draft:
    """A notice's text before the lookup lines (if any) and the footer: what each kind's
    renderer writes."""

    notice: Notice
    centre: str
    title: str
    paragraphs: Sequence[str]
    number_label: str
    addressed: bool

    def document(self, lookup: ProgressLookup | None) -> Document:
        """The shared frame: centre, title and facts of the case above; the way to follow the
        case (when `lookup` is given), the issuer and the date below."""
        notice, centre = self.notice, self.centre
        header = [
            centre,
            self.title,
            "",
            f"{self.number_label}：{notice.notice_no}",
            f"办件编号：{notice.case_no}",
            f"申请人：{notice.applicant_name}",
            f"事项：{notice.matter_name}（事项编码：{notice.matter_code}）",
            "",
        ]
        salutation = [f"{notice.applicant_name}："] if self.addressed else []
        follow = _lookup_lines(notice, lookup) if lookup is not None else []
        footer = ["", f"{centre}（盖章）", f"日期：{cn_date(issue_date(notice))}"]
        body = "\n".join([*header, *salutation, *self.paragraphs, *follow, *footer])
        return Document(notice_no=notice.notice_no, kind=notice.kind, title=self.title, body=body)


def _lookup_lines(notice: Notice, lookup: ProgressLookup) -> list[str]:
    """How the applicant follows the case without an account (办件进度查询)."""
    return [
        "",
        f"查询码：{lookup.check_code}",
        f"凭办件编号 {notice.case_no} 和查询码，可在 {lookup.address} 查询办理进度，"
        "无需登录；办结后可在同一页面对办理服务作出评价。",
    ]


def _document(
    notice: Notice,
    centre: str,
    title: str,
    paragraphs: Sequence[str],
    *,
    number_label: str = "文书编号",
    addressed: bool = True,
) -> _Draft:
    """A kind's text in the shared frame (``_Draft.document``)."""
    return _Draft(notice, centre, title, paragraphs, number_label, addressed)


def _provisional(notice: Notice) -> list[str]:
    return [PROVISIONAL_NOTE] if notice.due_provisional else []


# --- one renderer per kind ------------------------------------------------------------------


def _acceptance_voucher(notice: Notice, centre: str) -> _Draft:
    as_of = cn_date(_require(notice.as_of, "as_of", notice))
    return _document(
        notice,
        centre,
        "受理通知书",
        [
            f"你（单位）提出的{notice.matter_name}申请，申请材料齐全、符合法定形式。"
            "根据《中华人民共和国行政许可法》第三十二条的规定，本中心决定予以受理。",
            f"受理日期：{as_of}",
            f"承诺办结日期：{_due(notice)}",
            *_provisional(notice),
            "请妥善保管本通知书，凭本通知书查询办理进度、领取办理结果。",
        ],
    )


def _non_acceptance_voucher(notice: Notice, centre: str) -> _Draft:
    redirect = (
        [f"请向{notice.competent_organ.strip()}申请。"]
        if notice.competent_organ and notice.competent_organ.strip()
        else []
    )
    return _document(
        notice,
        centre,
        "不予受理通知书",
        [
            f"你（单位）提出的{notice.matter_name}申请，经审查，{_reason(notice)}。"
            "根据《中华人民共和国行政许可法》第三十二条的规定，本中心决定不予受理。",
            *redirect,
            _appeal_rights("通知书"),
        ],
    )


def _one_time_notice(notice: Notice, centre: str) -> _Draft:
    return _document(
        notice,
        centre,
        "一次性告知书",
        [
            f"你（单位）提出的{notice.matter_name}申请，经审查，申请材料不齐全或者不符合法定形式。"
            "根据《中华人民共和国行政许可法》第三十二条的规定，现将需要补正的全部内容一次性告知如下：",
            *_item_lines(notice),
            f"请于{_until(notice)}前补正上述全部材料。逾期未补正的，视为撤回申请。",
        ],
    )


def _consolidated_notice(notice: Notice, centre: str) -> _Draft:
    return _document(
        notice,
        centre,
        "补正材料一次性告知书",
        [
            f"你（单位）申请的{notice.matter_name}事项正在并联审查中。"
            "以下为各审查部门提出的补正要求，经本中心汇总，现一次性告知如下：",
            *_item_lines(notice),
            "补正期间不计入审批时限，各审查部门的审查期限自补正材料提交之日起继续计算。",
            f"请于{_until(notice)}前一次性提交上述全部补正材料。逾期未补正的，视为撤回申请。",
        ],
    )


def _extension_notice(notice: Notice, centre: str) -> _Draft:
    return _document(
        notice,
        centre,
        "延长审批期限告知书",
        [
            f"你（单位）申请的{notice.matter_name}事项，因{_reason(notice)}，"
            "在原承诺期限内不能作出决定。根据《中华人民共和国行政许可法》第四十二条的规定，"
            "经负责人批准，审批期限予以延长。",
            *_extended_due(notice),
        ],
    )


def _extended_due(notice: Notice) -> list[str]:
    """The new completion date; while the applicant supplements the case's clock is stopped
    (R12) and has no date yet: it is counted again from the supplement."""
    if notice.due is None:
        return ["补正期间不计入审批时限，延长后的承诺办结日期自补正材料提交之日起继续计算。"]
    return [f"延长后的承诺办结日期：{_due(notice)}", *_provisional(notice)]


def _fee_line(notice: Notice) -> list[str]:
    if notice.fee_yuan is None or not notice.fee_yuan.strip():
        return []
    message = f"{notice.notice_no}: fee_yuan {notice.fee_yuan!r} is not an amount"
    try:
        amount = Decimal(notice.fee_yuan.strip())
    except InvalidOperation as exc:
        raise ValueError(message) from exc
    if not amount.is_finite() or amount < 0:
        raise ValueError(message)
    if amount == 0:
        return []
    return [f"应缴费用{notice.fee_yuan.strip()}元，于窗口一次性缴纳。"]


def _approval_decision(notice: Notice, centre: str) -> _Draft:
    deemed = (
        [
            "下列审查部门未在承诺期限内提出审查意见，按超时默认同意处理：",
            *_numbered(f"{d}（超时默认同意）" for d in notice.deemed_departments),
        ]
        if notice.deemed_departments
        else []
    )
    absent = (
        [
            "下列审查部门缺席联合审查会议，按缺席默认同意处理：",
            *_numbered(f"{d}（缺席默认同意）" for d in notice.absent_departments),
        ]
        if notice.absent_departments
        else []
    )
    return _document(
        notice,
        centre,
        "准予行政许可决定书",
        [
            f"你（单位）申请的{notice.matter_name}事项，经审查，符合法定条件、标准。"
            "根据《中华人民共和国行政许可法》第三十八条的规定，决定准予行政许可。",
            *deemed,
            *absent,
            *_fee_line(notice),
        ],
    )


def _rejection_decision(notice: Notice, centre: str) -> _Draft:
    rejections = _require(notice.rejections, "rejections", notice)
    return _document(
        notice,
        centre,
        "不予行政许可决定书",
        [
            f"你（单位）申请的{notice.matter_name}事项，经并联审查，不符合法定条件、标准。"
            "根据《中华人民共和国行政许可法》第三十八条的规定，决定不予行政许可。",
            "理由如下：",
            *_rejection_lines(rejections),
            _appeal_rights("决定书"),
        ],
    )


def _certificate(notice: Notice, centre: str) -> _Draft:
    return _document(
        notice,
        centre,
        "证照",
        [
            f"兹准予{notice.applicant_name}{notice.matter_name}行政许可，特发此证。",
            f"发证机关：{centre}",
        ],
        number_label="证照编号",
        addressed=False,
    )


def _withdrawal_notice(notice: Notice, centre: str) -> _Draft:
    reason = (
        [f"撤回原因：{_sentence(notice.reason)}"] if notice.reason and notice.reason.strip() else []
    )
    return _document(
        notice,
        centre,
        "撤回申请确认书",
        [
            f"根据你（单位）的申请，你（单位）申请的{notice.matter_name}事项已撤回，"
            "本办件按撤回申请办结。",
            *reason,
            "你（单位）可以依法重新提出申请。",
        ],
    )


def _follow_up_reply(notice: Notice, centre: str) -> _Draft:
    follow_up = _require(notice.follow_up_no, "follow_up_no", notice)
    party = _require(notice.party_name, "party_name", notice)
    return _document(
        notice,
        centre,
        "整改情况告知书",
        [
            f"你（单位）对{notice.matter_name}事项的评价或投诉（整改单 {follow_up}），"
            f"已由{party}核查，现将情况告知如下。",
            f"情况说明：{_sentence(_reason(notice))}",
            f"整改措施：{_sentence(_require(notice.remedy, 'remedy', notice))}",
            "如对答复不满意，可以向本中心效能监督部门反映。",
        ],
    )


def _lapse_notice(notice: Notice, centre: str) -> _Draft:
    return _document(
        notice,
        centre,
        "逾期未补正视为撤回通知书",
        [
            f"你（单位）申请的{notice.matter_name}事项，本中心已一次性告知需要补正的全部内容。"
            f"你（单位）未于{_until(notice)}前补正，该申请视为撤回，本办件终止办理。",
            "你（单位）可以依法重新提出申请。",
        ],
    )


def _excluded_period_notice(notice: Notice, centre: str) -> _Draft:
    procedure = PROCEDURE_NAMES[_require(notice.procedure, "procedure", notice)]
    expected_wd = _require(notice.expected_wd, "expected_wd", notice)
    return _document(
        notice,
        centre,
        "特别程序期间告知书",
        [
            f"你（单位）申请的{notice.matter_name}事项，因{_reason(notice)}，需要依法进行"
            f"{procedure}。根据《中华人民共和国行政许可法》第四十五条的规定，{procedure}"
            "所需时间不计算在审批期限内。",
            f"{procedure}预计需要{expected_wd}个工作日，预计于{_until(notice)}前完成；"
            "完成后审批期限继续计算。",
            *_provisional(notice),
        ],
    )


_RENDERERS: dict[NoticeKind, Callable[[Notice, str], _Draft]] = {
    NoticeKind.ACCEPTANCE_VOUCHER: _acceptance_voucher,
    NoticeKind.NON_ACCEPTANCE_VOUCHER: _non_acceptance_voucher,
    NoticeKind.ONE_TIME_NOTICE: _one_time_notice,
    NoticeKind.CONSOLIDATED_NOTICE: _consolidated_notice,
    NoticeKind.EXTENSION_NOTICE: _extension_notice,
    NoticeKind.APPROVAL_DECISION: _approval_decision,
    NoticeKind.REJECTION_DECISION: _rejection_decision,
    NoticeKind.CERTIFICATE: _certificate,
    NoticeKind.WITHDRAWAL_NOTICE: _withdrawal_notice,
    NoticeKind.LAPSE_NOTICE: _lapse_notice,
    NoticeKind.EXCLUDED_PERIOD_NOTICE: _excluded_period_notice,
    NoticeKind.FOLLOW_UP_REPLY: _follow_up_reply,
}

"""The Chinese text of the applicant's written notices (approval.domain.documents)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from approval.domain.documents import PROVISIONAL_NOTE, Document, ProgressLookup, render_notice
from approval.domain.models import ExcludedProcedure, NoticeItem
from approval.domain.notices import EDITION, DepartmentReason, Notice, NoticeKind

CENTRE = "滨州市政务服务中心"
# 17:30 UTC on 28 November is 01:30 on 29 November in Beijing.
ISSUED = datetime(2026, 11, 28, 17, 30, tzinfo=UTC)
ISSUED_CN = "2026年11月29日"

ITEMS = (
    NoticeItem(code="M01", reason="营业执照复印件未加盖公章"),
    NoticeItem(code="M03", reason="消防验收意见书缺失。"),
)

COMPLETE: dict[NoticeKind, dict[str, Any]] = {
    NoticeKind.ACCEPTANCE_VOUCHER: {"as_of": date(2026, 11, 28), "due": date(2026, 12, 28)},
    NoticeKind.NON_ACCEPTANCE_VOUCHER: {"reason": "申请事项依法不需要取得行政许可"},
    NoticeKind.ONE_TIME_NOTICE: {"items": ITEMS, "due": date(2026, 12, 3)},
    NoticeKind.CONSOLIDATED_NOTICE: {"items": ITEMS, "due": date(2026, 12, 10)},
    NoticeKind.EXTENSION_NOTICE: {"reason": "需要组织现场核查", "due": date(2027, 1, 20)},
    NoticeKind.APPROVAL_DECISION: {},
    NoticeKind.REJECTION_DECISION: {
        "rejections": (DepartmentReason(department="市消防救援支队", reasons="疏散通道宽度不足"),)
    },
    NoticeKind.CERTIFICATE: {},
    NoticeKind.WITHDRAWAL_NOTICE: {"reason": "申请人经营计划调整"},
    NoticeKind.LAPSE_NOTICE: {"due": date(2026, 12, 3)},
    NoticeKind.EXCLUDED_PERIOD_NOTICE: {
        "procedure": ExcludedProcedure.EXPERT_REVIEW,
        "reason": "建设方案涉及重大安全事项",
        "expected_wd": 15,
        "due": date(2026, 12, 18),
    },
    NoticeKind.FOLLOW_UP_REPLY: {
        "follow_up_no": "371600-20261128-000042-F01",
        "party_name": "市场监督管理局",
        "reason": "现场核查人员未按时到场",
        "remedy": "已调整核查排班并向申请人致歉",
    },
}
"""The facts each kind must state, enough to render it."""


def notice(kind: NoticeKind, **facts: Any) -> Notice:
    """A notice of `kind` for one case, with `facts` over the complete defaults of its kind."""
    fields: dict[str, Any] = {
        "notice_no": "BZ-2026-000042-01",
        "kind": kind,
        "case_no": "371600-20261128-000042",
        "matter_code": "FOOD-LIC",
        "matter_name": "食品经营许可",
        "applicant_name": "滨州市鲁北餐饮有限公司",
        "issued_at": ISSUED,
        "edition": EDITION,
        **COMPLETE[kind],
        **facts,
    }
    return Notice(**fields)


def render(kind: NoticeKind, **facts: Any) -> Document:
    return render_notice(notice(kind, **facts), CENTRE)


def assert_frame(doc: Document, title: str) -> None:
    """The shared header and footer: title, numbers, parties, matter, centre, Beijing date."""
    assert doc.title == title
    for fact in (
        title,
        CENTRE,
        "BZ-2026-000042-01",
        "办件编号：371600-20261128-000042",
        "滨州市鲁北餐饮有限公司",
        "食品经营许可",
        f"日期：{ISSUED_CN}",
    ):
        assert fact in doc.body


def test_every_kind_has_a_renderer() -> None:
    """Every NoticeKind renders to a Document of that kind with its own title."""
    titles = set()
    for kind in NoticeKind:
        doc = render(kind)
        assert doc.kind is kind
        assert doc.notice_no == "BZ-2026-000042-01"
        assert doc.body.strip()
        titles.add(doc.title)
    assert len(titles) == len(NoticeKind)


def test_rendering_is_deterministic() -> None:
    """The same notice and centre always give the same document, for every kind."""
    for kind in NoticeKind:
        assert render(kind) == render(kind)
        assert render_notice(notice(kind), CENTRE).body == render(kind).body


def test_issue_date_is_the_beijing_calendar_day() -> None:
    """The date is written in Chinese and taken in Asia/Shanghai, whatever zone issued_at uses."""
    in_utc = render(NoticeKind.APPROVAL_DECISION)
    in_new_york = render(
        NoticeKind.APPROVAL_DECISION, issued_at=ISSUED.astimezone(timezone(timedelta(hours=-5)))
    )
    assert f"日期：{ISSUED_CN}" in in_utc.body
    assert in_utc.body == in_new_york.body
    assert "2026年11月28日" not in in_utc.body


def test_naive_issue_time_is_refused() -> None:
    """A naive issued_at cannot be placed on the Beijing calendar, so rendering refuses it."""
    with pytest.raises(ValueError, match="timezone-aware"):
        render(NoticeKind.CERTIFICATE, issued_at=datetime(2026, 11, 28, 9, 0))


def test_missing_facts_are_refused() -> None:
    """A notice lacking a fact its kind must state (deadline, reason, items) is not rendered."""
    with pytest.raises(ValueError, match="due"):
        render(NoticeKind.ACCEPTANCE_VOUCHER, due=None)
    with pytest.raises(ValueError, match="reason"):
        render(NoticeKind.NON_ACCEPTANCE_VOUCHER, reason=None)
    with pytest.raises(ValueError, match="items"):
        render(NoticeKind.ONE_TIME_NOTICE, items=())
    with pytest.raises(ValueError, match="rejections"):
        render(NoticeKind.REJECTION_DECISION, rejections=())


def test_blank_centre_is_refused() -> None:
    """Every notice names its issuing centre; an empty name is refused."""
    with pytest.raises(ValueError, match="centre"):
        render_notice(notice(NoticeKind.CERTIFICATE), "  ")


def test_acceptance_voucher_states_acceptance_and_committed_date() -> None:
    """R5: the 受理通知书 states the acceptance date and the committed completion date."""
    doc = render(NoticeKind.ACCEPTANCE_VOUCHER)
    assert_frame(doc, "受理通知书")
    assert "予以受理" in doc.body
    assert "受理日期：2026年11月28日" in doc.body
    assert "承诺办结日期：2026年12月28日" in doc.body
    assert PROVISIONAL_NOTE not in doc.body


def test_acceptance_voucher_flags_a_provisional_date() -> None:
    """R5: a completion date computed on a provisional holiday calendar is said to be so."""
    doc = render(NoticeKind.ACCEPTANCE_VOUCHER, due_provisional=True)
    assert "该日期按暂定工作日历计算，如法定节假日安排公布后有变化，以调整后日期为准。" in doc.body


def test_non_acceptance_voucher_gives_reason_organ_and_appeal_rights() -> None:
    """R5: the 不予受理通知书 gives the reason, the competent organ, and the rights to
    行政复议 within 60日 and 行政诉讼 within 6个月."""
    doc = render(NoticeKind.NON_ACCEPTANCE_VOUCHER, competent_organ="滨州市自然资源和规划局")
    assert_frame(doc, "不予受理通知书")
    assert "申请事项依法不需要取得行政许可" in doc.body
    assert "不予受理" in doc.body
    assert "请向滨州市自然资源和规划局申请" in doc.body
    assert "60日内依法申请行政复议" in doc.body
    assert "6个月内依法向人民法院提起行政诉讼" in doc.body


def test_non_acceptance_voucher_without_competent_organ() -> None:
    """R5: without a competent organ the voucher does not send the applicant anywhere."""
    doc = render(NoticeKind.NON_ACCEPTANCE_VOUCHER)
    assert "请向" not in doc.body
    assert "60日内" in doc.body


def test_one_time_notice_lists_every_item_and_the_deadline() -> None:
    """R3: the window's 一次性告知书 lists ALL defects, numbered, the supplement deadline, and
    that failing to supplement by then is deemed withdrawal."""
    doc = render(NoticeKind.ONE_TIME_NOTICE)
    assert_frame(doc, "一次性告知书")
    assert "1. M01：营业执照复印件未加盖公章。" in doc.body
    assert "2. M03：消防验收意见书缺失。" in doc.body
    assert "。。" not in doc.body
    assert "请于2026年12月3日（含当日）前补正" in doc.body
    assert "视为撤回申请" in doc.body


def test_consolidated_notice_merges_department_requests_and_suspends_the_clock() -> None:
    """R11: the 补正材料一次性告知书 lists all items as the departments' consolidated requests,
    says supplementing time is not counted, and gives the deadline."""
    doc = render(NoticeKind.CONSOLIDATED_NOTICE)
    assert_frame(doc, "补正材料一次性告知书")
    assert "各审查部门" in doc.body
    assert "汇总" in doc.body
    assert "1. M01：营业执照复印件未加盖公章。" in doc.body
    assert "2. M03：消防验收意见书缺失。" in doc.body
    assert "补正期间不计入审批时限" in doc.body
    assert "2026年12月10日（含当日）前" in doc.body


def test_extension_notice_gives_reason_and_new_date() -> None:
    """R13: the 延长审批期限告知书 gives the reason and the new completion date."""
    doc = render(NoticeKind.EXTENSION_NOTICE)
    assert_frame(doc, "延长审批期限告知书")
    assert "需要组织现场核查" in doc.body
    assert "延长后的承诺办结日期：2027年1月20日" in doc.body


def test_approval_decision_names_deemed_departments_and_fee() -> None:
    """R14: the 准予行政许可决定书 names each silently consenting department as 超时默认同意,
    and states the fee to pay at the window."""
    doc = render(
        NoticeKind.APPROVAL_DECISION,
        deemed_departments=("滨州市市场监督管理局", "滨州市卫生健康委员会"),
        fee_yuan="120.00",
    )
    assert_frame(doc, "准予行政许可决定书")
    assert "准予行政许可" in doc.body
    assert "1. 滨州市市场监督管理局（超时默认同意）" in doc.body
    assert "2. 滨州市卫生健康委员会（超时默认同意）" in doc.body
    assert "应缴费用120.00元，于窗口一次性缴纳。" in doc.body


def test_approval_decision_without_deemed_departments_or_fee() -> None:
    """R14: with no silent consent and no (or zero) fee, neither is mentioned."""
    for fee in (None, "0", "0.00"):
        doc = render(NoticeKind.APPROVAL_DECISION, fee_yuan=fee)
        assert "超时默认" not in doc.body
        assert "应缴费用" not in doc.body


def test_unreadable_fee_is_refused() -> None:
    """A fee that is not an amount is refused rather than printed on a decision."""
    for fee in ("一百元", "NaN", "-5.00"):
        with pytest.raises(ValueError, match="fee_yuan"):
            render(NoticeKind.APPROVAL_DECISION, fee_yuan=fee)


def test_rejection_decision_gives_each_department_reasons_and_appeal_rights() -> None:
    """R14: the 不予行政许可决定书 gives each rejecting department with its reasons, and the
    rights to 行政复议 within 60日 and 行政诉讼 within 6个月."""
    doc = render(
        NoticeKind.REJECTION_DECISION,
        rejections=(
            DepartmentReason(department="市消防救援支队", reasons="疏散通道宽度不足"),
            DepartmentReason(department="市生态环境局", reasons="油烟排放不达标。"),
        ),
    )
    assert_frame(doc, "不予行政许可决定书")
    assert "1. 市消防救援支队：疏散通道宽度不足。" in doc.body
    assert "2. 市生态环境局：油烟排放不达标。" in doc.body
    assert "自收到本决定书之日起60日内依法申请行政复议" in doc.body
    assert "6个月内依法向人民法院提起行政诉讼" in doc.body


def test_certificate_is_numbered_by_the_notice() -> None:
    """R16: the 证照 is for the matter and the applicant, numbered with the notice number."""
    doc = render(NoticeKind.CERTIFICATE)
    assert_frame(doc, "证照")
    assert "证照编号：BZ-2026-000042-01" in doc.body
    assert "兹准予滨州市鲁北餐饮有限公司食品经营许可行政许可" in doc.body


def test_withdrawal_notice_closes_the_case_as_withdrawn() -> None:
    """R18: the 撤回申请确认书 closes the case as withdrawn at the applicant's request."""
    doc = render(NoticeKind.WITHDRAWAL_NOTICE)
    assert_frame(doc, "撤回申请确认书")
    assert "根据你（单位）的申请" in doc.body
    assert "撤回" in doc.body
    assert "申请人经营计划调整" in doc.body


def test_lapse_notice_deems_the_application_withdrawn() -> None:
    """R6: the 逾期未补正视为撤回通知书 states the missed deadline, the deemed withdrawal, and
    that the applicant may apply again."""
    doc = render(NoticeKind.LAPSE_NOTICE)
    assert_frame(doc, "逾期未补正视为撤回通知书")
    assert "未于2026年12月3日（含当日）前补正" in doc.body
    assert "视为撤回" in doc.body
    assert "重新提出申请" in doc.body


def test_R12_the_excluded_period_notice_states_the_procedure_and_its_expected_length() -> None:
    """An excluded period is told in writing: the procedure, why, that art. 45 keeps its time
    out of the periods, and how long it is expected to take (R12)."""
    body = render(NoticeKind.EXCLUDED_PERIOD_NOTICE).body
    for fact in ("特别程序期间告知书", "专家评审", "建设方案涉及重大安全事项", "第四十五条"):
        assert fact in body
    assert "预计需要15个工作日" in body
    assert "2026年12月18日" in body


def test_R10_the_approval_names_departments_deemed_by_absence_apart_from_silent_consent() -> None:
    """An approval lists a department deemed to agree by absence from the joint meeting as
    such, not as silent consent (R10, R14)."""
    body = render(
        NoticeKind.APPROVAL_DECISION,
        deemed_departments=("市消防救援支队",),
        absent_departments=("市人防办",),
    ).body
    assert "市人防办（缺席默认同意）" in body
    assert "市消防救援支队（超时默认同意）" in body
    assert "市人防办（超时默认同意）" not in body


# ---- the check code on the notices of supervised cases (R20) ---------------------------------

LOOKUP = ProgressLookup(
    check_code="0123456789ABCDEF", address="https://zwfw.example.gov.cn/web/progress"
)
OLDER_VOUCHER = """滨州市政务服务中心
受理通知书

文书编号：BZ-2026-000042-01
办件编号：371600-20261128-000042
申请人：滨州市鲁北餐饮有限公司
事项：食品经营许可（事项编码：FOOD-LIC）

滨州市鲁北餐饮有限公司：
你（单位）提出的食品经营许可申请，申请材料齐全、符合法定形式。根据《中华人民共和国行政许可法》第三十二条的规定，本中心决定予以受理。
受理日期：2026年11月28日
承诺办结日期：2026年12月28日
请妥善保管本通知书，凭本通知书查询办理进度、领取办理结果。

滨州市政务服务中心（盖章）
日期：2026年11月29日"""
"""An acceptance voucher of a case numbered before the check code was printed, as the store
keeps it (rendered by the code before this change)."""


def test_R5_an_older_form_notice_renders_as_before_byte_for_byte() -> None:
    """R5, R21: a notice that does not show the check code (a case received before the
    supervision policy) renders exactly the stored text of before, with or without a lookup,
    so stored bodies and the auditor's rebuild keep agreeing; no kind mentions a check code."""
    voucher = notice(NoticeKind.ACCEPTANCE_VOUCHER)
    assert voucher.shows_check_code is False
    assert render_notice(voucher, CENTRE).body == OLDER_VOUCHER
    assert render_notice(voucher, CENTRE, LOOKUP).body == OLDER_VOUCHER
    for kind in NoticeKind:
        older = render_notice(notice(kind), CENTRE, LOOKUP)
        assert older == render(kind)
        assert "查询码" not in older.body and LOOKUP.address not in older.body


def test_R20_notices_that_show_the_check_code_state_case_code_and_address() -> None:
    """R20, R5: the acceptance voucher and both decision letters of a supervised case state
    the case number, its check code and the public progress page's address, between the text
    of before and the footer (issuer, date); the rest is unchanged. Every kind that shows the
    check code does so."""
    for kind in NoticeKind:
        shown = render_notice(notice(kind, progress_url=LOOKUP.address), CENTRE, LOOKUP).body
        older = render(kind).body
        lines = shown.split("\n")
        at = lines.index(f"查询码：{LOOKUP.check_code}")
        assert lines[at - 1] == "" and lines[at + 2] == ""
        told = lines[at + 1]
        assert "371600-20261128-000042" in told and LOOKUP.address in told and "无需登录" in told
        assert "\n".join([*lines[: at - 1], *lines[at + 2 :]]) == older
        assert lines[-2:] == [f"{CENTRE}（盖章）", f"日期：{ISSUED_CN}"]
    voucher = render_notice(
        notice(NoticeKind.ACCEPTANCE_VOUCHER, progress_url=LOOKUP.address), CENTRE, LOOKUP
    )
    assert voucher.body.startswith(OLDER_VOUCHER.split("\n\n滨州市政务服务中心（盖章）")[0])
    assert "办件编号：371600-20261128-000042" in voucher.body


def test_R20_a_notice_that_shows_the_check_code_is_not_rendered_without_it() -> None:
    """R20: the store must give the code (derived from the audit key) to a notice that shows
    it; without a lookup the notice is refused rather than printed without the code."""
    with pytest.raises(ValueError, match="check code"):
        render_notice(notice(NoticeKind.ACCEPTANCE_VOUCHER, progress_url=LOOKUP.address), CENTRE)


def test_R3_R17_items_are_named_by_their_catalogue_names_and_deadlines_include_the_day() -> None:
    """R3, R11, R17: a notice that carries the materials' catalogue names lists each item by
    its name with its code beside it, and says the deadline as its last day, that day
    included (a deadline is the end of its last day)."""
    names = {"M01": "营业执照", "M03": "消防验收意见书"}
    for kind in (NoticeKind.ONE_TIME_NOTICE, NoticeKind.CONSOLIDATED_NOTICE):
        doc = render(kind, material_names=names)
        assert "1. 营业执照（M01）：营业执照复印件未加盖公章。" in doc.body
        assert "2. 消防验收意见书（M03）：消防验收意见书缺失。" in doc.body
        assert "（含当日）前" in doc.body


def test_R17_a_notice_of_the_first_edition_renders_as_it_was_issued() -> None:
    """R21: a notice issued before the wording's second edition (its deadline said without
    the day included, its items by code) renders byte for byte as it did, so that a rebuild
    from the histories equals the notices in the store."""
    older = render(NoticeKind.ONE_TIME_NOTICE, edition=1).body
    assert "请于2026年12月3日前补正上述全部材料。" in older
    assert "1. M01：营业执照复印件未加盖公章。" in older
    assert older.replace("前补正", "（含当日）前补正") == render(NoticeKind.ONE_TIME_NOTICE).body

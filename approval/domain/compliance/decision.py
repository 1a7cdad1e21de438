"""The decision: R13 overall limit and extension, R14 decision contents, R16 delivery."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from approval.domain.compliance.evidence import RuleResult, _Findings
from approval.domain.compliance.labels import listed, named, wd
from approval.domain.compliance.moments import TIMER_LATENCY, _day, _end_of, when
from approval.domain.compliance.periods import _CaseClock
from approval.domain.compliance.record import _Record, _text, ref
from approval.domain.documents import ProgressLookup, render_notice
from approval.domain.events import (
    CaseApproved,
    CaseEventBase,
    CaseLapsed,
    CaseRejected,
    CaseWithdrawn,
    CertificateIssued,
    DeliveryOverdue,
    NoticeIssued,
    ReceivedPeriods,
    ResultDelivered,
    ReviewDeemedApproved,
    ReviewDeemedApprovedInAbsence,
    ReviewRejected,
)
from approval.domain.notices import Notice, NoticeKind

_AUDIT_CENTRE = "审计复核"
"""Issuer name used when a notice is re-rendered to read its text."""
_AUDIT_LOOKUP = ProgressLookup(check_code="(查询码)", address="(办件进度查询页面)")
"""Stands in for the check code and address of a notice that shows them: the check reads
what the written decision states of the decision, not the code (derived from the audit key,
which the compliance check does not hold)."""


# ---- R13 overall limit and extension ---------------------------------------------------------


def _check_r13(record: _Record, clock: _CaseClock | None) -> RuleResult:
    """R13: the decision came within the committed period (plus one extension) counted from the
    acceptance date by the calendar without the stops; at most one extension, by the matter's
    extension WD, with a reason sent to the applicant; an expired period is recorded."""
    found = _Findings("R13")
    periods = record.periods
    if clock is None or periods is None:
        if record.acceptance is not None:
            found.bad(f"无法计算承诺办结期限：{record.periods_problem}")
        return found.result()
    if periods.committed_wd > periods.statutory_wd:
        found.bad(f"承诺时限 {wd(periods.committed_wd)}超过法定时限 {wd(periods.statutory_wd)}")
    found.note(
        f"{ref(clock.accepted)}：自 {_day(clock.as_of)} 起受理，承诺 "
        f"{wd(periods.committed_wd)} → 最后一日 {clock.first_last_day}"
    )
    stated = clock.accepted.due
    if stated != clock.first_last_day:
        found.note(
            f"{ref(clock.accepted)}载明的最后一日为 {stated}"
            f"{'（暂定）' if clock.accepted.provisional else ''}；"
            f"按现行日历计为 {clock.first_last_day}"
        )
    _check_extensions(found, record, clock, periods)
    _check_decision_time(found, record, clock)
    return found.result()


def _check_extensions(
    found: _Findings, record: _Record, clock: _CaseClock, periods: ReceivedPeriods
) -> None:
    for index, (e, last_day, left) in enumerate(clock.extensions):
        extra, reason = e.extra_wd, _text(e.reason)
        if index:
            found.bad(f"{ref(e)}：第二次延期（第一次为{ref(clock.extensions[0][0])}）")
        if extra != periods.extension_wd:
            found.bad(f"{ref(e)}：延长 {wd(extra)}，而不是 {wd(periods.extension_wd)}")
        if not reason:
            found.bad(f"{ref(e)}：延期未载明理由")
        written = [
            (n, facts)
            for n, facts in record.notices(NoticeKind.EXTENSION_NOTICE)
            if n.seq > e.seq and _text(facts.reason) == reason
        ]
        if not written:
            found.bad(f"{ref(e)}：延期理由未告知申请人（没有延长审批期限告知书）")
            continue
        notice, facts = written[0]
        stated = facts.due
        if stated is not None and last_day is not None and stated != last_day:
            found.bad(f"{ref(notice)}：载明的最后一日为 {stated}；按日历计为 {last_day}")
        if index == 0 and extra == periods.extension_wd and reason:
            after = f"最后一日 {last_day}" if last_day else f"停止计时中，剩余 {wd(left or 0)}"
            found.ok(f"{ref(e)}：延期一次，延长 {wd(extra)} → {after}；已以{ref(notice)}告知")


def _check_decision_time(found: _Findings, record: _Record, clock: _CaseClock) -> None:
    for e, due in clock.expiries:
        if due is not None and e.at < due:
            found.bad(f"{ref(e)}：承诺办结期限在届满时间 {when(due)} 之前即记为超期")
    last_day, decision = clock.decision_last_day, record.decision
    due = _end_of(last_day) if last_day else None
    if decision is None:
        closed = next(iter(record.of_type(CaseWithdrawn, CaseLapsed)), None)
        if closed is not None:
            found.ok(f"{ref(closed)}：未作决定即结案")
        elif due is not None and (reached := record.passed(due)) is not None:
            expiry = f"已于{ref(clock.expiries[-1][0])}记录超期" if clock.expiries else "未记录超期"
            found.bad(
                f"承诺办结期限已届满（最后一日 {last_day}），仍未作出决定（{expiry}）；"
                f"记录至{ref(reached)}"
            )
        elif last_day is not None:
            found.ok(f"尚在期限内：尚未作出决定，期限至 {last_day}（含当日）")
        else:
            found.note("尚未作出决定；承诺办结期限停止计时中")
        return
    used = record.calendar.working_days_between(_day(clock.as_of), _day(decision.at)) - sum(
        record.calendar.working_days_between(_day(s.stopped.at), _day(s.resumed.at))
        for s in clock.stops
        if s.resumed is not None and s.left is not None
    )
    if due is None:
        found.bad(f"{ref(decision)}：在承诺办结期限停止计时期间作出决定")
    elif decision.at <= due + TIMER_LATENCY:
        found.ok(
            f"{ref(decision)}：在期限内作出决定（最后一日 {last_day}；自受理起用时 "
            f"{wd(used)}，不含停止计时）"
        )
    else:
        expired = "（已记录超期）" if clock.expiries else "，且未记录超期"
        found.bad(
            f"{ref(decision)}：在最后一日 {last_day} 之后作出决定{expired}；自受理起用时 "
            f"{wd(used)}，不含停止计时"
        )


# ---- R14 decision -------------------------------------------------------------------------------


def _check_r14(record: _Record) -> RuleResult:
    """R14: any rejection rejects the case, naming every rejecting department with its reasons,
    in writing with the applicant's remedies; an approval lists exactly the deemed departments."""
    found = _Findings("R14")
    decision = record.decision
    if decision is None:
        return found.result()
    before = [e for e in record.events if e.seq < decision.seq]
    rejected = {e.department: e for e in before if isinstance(e, ReviewRejected)}
    if isinstance(decision, CaseRejected):
        _check_rejection(found, record, decision, rejected)
    else:
        for dept, e in sorted(rejected.items()):
            found.bad(f"{ref(decision)}：{dept} 已于{ref(e)}不同意，却准予许可")
        _check_approval(found, record, decision, before)
    return found.result()


def _check_rejection(
    found: _Findings,
    record: _Record,
    decision: CaseRejected,
    rejected: dict[str, ReviewRejected],
) -> None:
    stated = decision.rejections
    if not rejected:
        found.bad(f"{ref(decision)}：不予许可，但没有部门不同意")
    for dept, e in sorted(rejected.items()):
        reasons = _text(e.reasons)
        if dept not in stated:
            found.bad(f"{ref(decision)}：遗漏了于{ref(e)}不同意的 {dept}")
        elif _text(stated[dept]) != reasons or not reasons:
            found.bad(
                f"{ref(decision)}：所载 {dept} 的理由为「{_text(stated[dept])}」；{ref(e)}"
                f"给出的理由为「{reasons}」"
            )
        else:
            found.ok(f"{ref(decision)}：载明 {dept} 在{ref(e)}给出的理由")
    for dept in sorted(set(stated) - set(rejected)):
        found.bad(f"{ref(decision)}：列入了未作不同意意见的 {dept}")
    written = _written_decision(found, record, decision, NoticeKind.REJECTION_DECISION)
    if written is None:
        return
    notice_event, facts = written
    given = Counter(_text(r.reasons) for r in facts.rejections)
    expected = Counter(_text(e.reasons) for e in rejected.values())
    if given != expected:
        missing = sorted((expected - given).elements())
        quoted = listed(f"「{reason}」" for reason in missing)
        found.bad(f"{ref(notice_event)}：书面决定书遗漏了理由 {quoted}")
    else:
        found.ok(f"{ref(notice_event)}：书面决定书载明各部门的全部理由")
    try:
        body = render_notice(facts, _AUDIT_CENTRE, _AUDIT_LOOKUP).body
    except ValueError as error:
        found.bad(f"{ref(notice_event)}：书面决定书无法生成：{error}")
        return
    if "行政复议" in body and "行政诉讼" in body:
        found.ok(f"{ref(notice_event)}：载明申请人申请行政复议（60 日内）和提起行政诉讼的权利")
    else:
        found.bad(f"{ref(notice_event)}：未载明申请人的救济途径")


def _check_approval(
    found: _Findings,
    record: _Record,
    decision: CaseApproved,
    before: Sequence[CaseEventBase],
) -> None:
    deemed: dict[str, CaseEventBase] = {}
    for label, stated, kind, always in (
        ("超时默认同意的部门", decision.deemed_departments, ReviewDeemedApproved, True),
        ("缺席默认同意的部门", decision.absent_departments, ReviewDeemedApprovedInAbsence, False),
    ):
        found_of_kind = {e.department: e for e in before if isinstance(e, kind)}
        _DeemedList(label, kind, always).check(found, decision, set(stated), found_of_kind)
        deemed.update(found_of_kind)
    written = _written_decision(found, record, decision, NoticeKind.APPROVAL_DECISION)
    if written is None:
        return
    notice_event, facts = written
    written_names = [*facts.deemed_departments, *facts.absent_departments]
    if len(written_names) != len(deemed):
        found.bad(
            f"{ref(notice_event)}：书面决定书列明 {len(written_names)} 个默认同意的部门"
            f"（{listed(written_names)}）；记录中有 {len(deemed)} 个"
        )
    else:
        found.ok(f"{ref(notice_event)}：书面决定书列明 {len(written_names)} 个默认同意的部门")


@dataclass(frozen=True)
class _DeemedList:
    """One list of deemed departments an approval states: its Chinese name, the event that
    deems a department so, and whether the check says so when the list is empty."""

    label: str
    kind: type[CaseEventBase]
    always: bool

    def check(
        self,
        found: _Findings,
        decision: CaseApproved,
        stated: set[str],
        deemed: Mapping[str, CaseEventBase],
    ) -> None:
        """The decision's departments of this list (``stated``) are exactly those the record
        deemed so."""
        for dept, e in sorted(deemed.items()):
            if dept not in stated:
                found.bad(f"{ref(decision)}：{self.label}中遗漏了 {dept}（{ref(e)}）")
        for dept in sorted(stated - set(deemed)):
            found.bad(
                f"{ref(decision)}：{self.label}中列有 {dept}，但记录中没有其{named(self.kind)}"
            )
        if stated == set(deemed) and (stated or self.always):
            found.ok(f"{ref(decision)}：{self.label}（{listed(sorted(stated))}）与记录一致")


# ---- R16 delivery -----------------------------------------------------------------------------


def _check_r16(record: _Record) -> RuleResult:
    """R16: after an approval the certificate is issued and delivered within the delivery period,
    or the delivery is recorded overdue when that period ends."""
    found = _Findings("R16")
    approval = next(iter(record.of_type(CaseApproved)), None)
    if approval is None:
        return found.result()
    if record.periods is None:
        found.bad(f"无法计算送达期限：{record.periods_problem}")
        return found.result()
    days = record.periods.delivery_wd
    last_day = record.last_day(approval.at, days)
    due = _end_of(last_day)
    found.note(f"{ref(approval)}：应在 {wd(days)}内送达，最后一日 {last_day}")
    overdue = [e for e in record.of_type(DeliveryOverdue) if e.seq > approval.seq]
    for e in overdue:
        if e.at < due:
            found.bad(f"{ref(e)}：送达期限届满前即记为送达超期（最后一日 {last_day}）")
    delivered = next((e for e in record.of_type(ResultDelivered) if e.seq > approval.seq), None)
    if delivered is None:
        reached = record.passed(due)
        if reached is None:
            found.ok(f"尚在期限内：尚未送达，期限至 {last_day}（含当日）")
        elif overdue:
            found.ok(f"{ref(overdue[0])}：送达期限届满，已记录送达超期")
        else:
            found.bad(
                f"送达期限已届满（最后一日 {last_day}）；记录至{ref(reached)}，既无送达也无"
                f"{named(DeliveryOverdue)}"
            )
        return found.result()
    certificate = next(
        (e for e in record.of_type(CertificateIssued) if approval.seq < e.seq < delivered.seq),
        None,
    )
    if certificate is None:
        found.bad(f"{ref(delivered)}：准予许可后未{named(CertificateIssued)}即送达")
    if delivered.at < due:
        found.ok(f"{ref(delivered)}：在 {wd(days)}内送达（最后一日 {last_day}）")
    elif overdue and overdue[0].seq < delivered.seq:
        found.ok(f"{ref(delivered)}：逾期送达；{ref(overdue[0])}已记录送达超期")
    else:
        found.bad(
            f"{ref(delivered)}：在最后一日 {last_day} 之后送达，且未记录{named(DeliveryOverdue)}"
        )
    return found.result()


DECISION_TITLES = {
    NoticeKind.REJECTION_DECISION: "不予行政许可决定书",
    NoticeKind.APPROVAL_DECISION: "准予行政许可决定书",
}


def _written_decision(
    found: _Findings, record: _Record, decision: CaseApproved | CaseRejected, kind: NoticeKind
) -> tuple[NoticeIssued, Notice] | None:
    """The written decision of ``kind`` issued after ``decision``; a finding when there is none."""
    written = [(e, n) for e, n in record.notices(kind) if e.seq > decision.seq]
    if not written:
        found.bad(f"{ref(decision)}：未出具书面的{DECISION_TITLES[kind]}")
        return None
    return written[0]

"""The departments' reviews: R9 silent consent, R11 one consolidated notice, R12 clock stop."""

from __future__ import annotations

from approval.domain.compliance.evidence import RuleResult, _Findings
from approval.domain.compliance.labels import listed, named, recorder, wd
from approval.domain.compliance.moments import _day, when
from approval.domain.compliance.periods import _CaseClock, _stop_windows, _TaskPeriod, _Tasks
from approval.domain.compliance.record import _codes, _Record, _text, ref
from approval.domain.events import (
    DEADLINE_EVENTS,
    ActionRefused,
    ClocksResumed,
    ClocksStopped,
    ConsolidatedNoticeIssued,
    ExcludedPeriodOpened,
    NoticeIssued,
    ReviewApproved,
    ReviewDeemedApproved,
    ReviewEscalated,
    ReviewSupplementRequested,
    ReviewTaskDispatched,
    SupplementForwarded,
    SupplementReceived,
)
from approval.domain.labels import PROCEDURE_NAMES
from approval.domain.models import Role
from approval.domain.notices import NoticeKind

# ---- R9 silent consent -----------------------------------------------------------------------


def _check_r9(record: _Record, tasks: _Tasks) -> RuleResult:
    """R9: every review period that ended unanswered was closed as deemed approved (silent
    consent) or escalated (silent consent excluded), at or after its end, recorded as overdue
    and by the engine; a deemed approval is never also shown as a plain approval."""
    found = _Findings("R9")
    periods = record.periods
    if periods is None:
        if record.of_type(ReviewTaskDispatched):
            found.bad(f"无法检查审查期限：{record.periods_problem}")
        return found.result()
    silent = periods.silent_consent
    found.note("适用超时默认同意（超时默认）" if silent else "不适用超时默认：期限届满应上报督办")
    for period in tasks.periods:
        _check_task_period(found, record, period, silent)
    for e, why in tasks.orphans:
        if isinstance(e, ReviewApproved):
            found.bad(f"{ref(e)}：记为部门同意，但{why}")
        else:
            found.bad(f"{ref(e)}：{why}")
    for e in record.of_type(ReviewApproved):
        dept, actor = e.department, e.actor
        if actor.role is not Role.REVIEWER or actor.department != dept:
            found.bad(
                f"{ref(e)}：{dept} 的同意由{recorder(actor)}记录：视为同意的，应记为"
                f"{named(ReviewDeemedApproved)}"
            )
    return found.result()


def _check_task_period(
    found: _Findings, record: _Record, period: _TaskPeriod, silent: bool
) -> None:
    closed, due = period.closed, period.due
    ends = f"{period.label}（自{ref(period.opened)}起 {wd(period.wd)}，最后一日 {period.last_day}）"
    expected = ReviewDeemedApproved if silent else ReviewEscalated
    if closed is None:
        reached = record.passed(due)
        if reached is not None:
            found.bad(f"{ends}届满未答复；记录至{ref(reached)}，仍无{named(expected)}")
        else:
            found.ok(f"尚在期限内：{ends}仍在计算")
        return
    if isinstance(closed, ReviewDeemedApproved | ReviewEscalated):
        if not isinstance(closed, expected):
            found.bad(f"{ref(closed)}：{ends}届满未答复，应记为{named(expected)}")
        elif closed.at < due and period.stopped_by is None:
            found.bad(f"{ref(closed)}：早于 {ends}届满")
        elif closed.at < due:
            found.note(f"{ref(closed)}：早于恢复计时后的 {ends}届满（见 R12）")
        elif not closed.overdue:
            found.bad(f"{ref(closed)}：未记录该部门超期")
        elif closed.actor.role is not Role.SYSTEM:
            found.bad(f"{ref(closed)}：由{recorder(closed.actor)}记录，而不是由系统记录")
        elif closed.at >= due:
            verb = "视为同意" if silent else "上报效能监察督办"
            found.ok(f"{ref(closed)}：{ends}届满未答复，已{verb}，并记录该部门超期")
        return
    if closed.at >= due and not isinstance(closed, ClocksStopped):
        found.bad(f"{ref(closed)}：此前 {ends}已届满，届满时未记录{named(expected)}")
    else:
        found.ok(f"{ref(closed)}：{period.label}在期限内作出答复")


# ---- R11 one consolidated notice --------------------------------------------------------------


def _check_r11(record: _Record, tasks: _Tasks) -> RuleResult:
    """R11: departments' requests go to the applicant as one consolidated notice per round,
    issued once no task is still waiting for its first opinion, listing every request; after the
    first notice no request names a new item; the supplement is forwarded to those who asked."""
    found = _Findings("R11")
    first_codes: list[str] | None = None
    asked: dict[str, tuple[ReviewSupplementRequested, list[str]]] = {}
    notice_open: ConsolidatedNoticeIssued | None = None
    notified: list[str] = []
    for e in record.events:
        if isinstance(e, ReviewSupplementRequested):
            dept, codes = e.department, _codes(e.items)
            asked[dept] = (e, codes)
            if first_codes is not None:
                new = sorted(set(codes) - set(first_codes))
                if new:
                    found.bad(f"{ref(e)}：{dept} 要求补正 {listed(new)}，不在首次告知之内")
                else:
                    found.ok(f"{ref(e)}：{dept} 再次要求的只是首次告知中的材料")
        elif isinstance(e, ConsolidatedNoticeIssued):
            if notice_open is not None:
                found.bad(f"{ref(e)}：在{ref(notice_open)}的同一轮中第二次合并告知")
            _check_consolidated_notice(found, record, tasks, e, asked)
            if first_codes is None:
                first_codes = _codes(e.items)
            notice_open, notified = e, list(e.departments)
            asked = {}
        elif isinstance(e, SupplementReceived) and notice_open is not None:
            _check_forwarding(found, record, e, notified)
        elif isinstance(e, ClocksResumed):
            notice_open = None
        elif isinstance(e, ActionRefused) and "R11" in _text(e.reason):
            found.ok(f"{ref(e)}：已拒绝并记录——{_text(e.reason)}")
    return found.result()


def _check_forwarding(
    found: _Findings, record: _Record, supplement: SupplementReceived, notified: list[str]
) -> None:
    resumed = next((r for r in record.of_type(ClocksResumed) if r.seq > supplement.seq), None)
    forwarded = {
        f.department
        for f in record.of_type(SupplementForwarded)
        if supplement.seq < f.seq and (resumed is None or f.seq < resumed.seq)
    }
    not_forwarded = sorted(set(notified) - forwarded)
    if not_forwarded:
        found.bad(f"{ref(supplement)}：补正材料未转送 {listed(not_forwarded)}")
    else:
        found.ok(f"{ref(supplement)}：补正材料已转送 {listed(sorted(notified))}")


def _check_consolidated_notice(
    found: _Findings,
    record: _Record,
    tasks: _Tasks,
    notice: ConsolidatedNoticeIssued,
    asked: dict[str, tuple[ReviewSupplementRequested, list[str]]],
) -> None:
    codes = set(_codes(notice.items))
    departments = set(notice.departments)
    problems: list[str] = []
    for dept, (request, requested) in sorted(asked.items()):
        left_out = sorted(set(requested) - codes)
        if left_out:
            problems.append(f"遗漏了 {dept} 在{ref(request)}要求补正的 {listed(left_out)}")
        if dept not in departments:
            problems.append(f"未列明在{ref(request)}提出要求的 {dept}")
    unasked = sorted(departments - set(asked))
    if unasked:
        problems.append(f"列入了本轮未提出要求的 {listed(unasked)}")
    problems += [
        f"发出时 {p.label}（自{ref(p.opened)}起）仍在等待审查意见"
        for p in tasks.periods
        if p.opened.seq < notice.seq and (p.closed is None or p.closed.seq > notice.seq)
    ]
    written = [
        (e, facts)
        for e, facts in record.notices(NoticeKind.CONSOLIDATED_NOTICE)
        if e.seq > notice.seq and set(_codes(facts.items)) == codes
    ]
    if not written:
        problems.append("未发出载有这些材料的书面补正材料一次性告知书")
    for problem in problems:
        found.bad(f"{ref(notice)}：{problem}")
    if not problems:
        written_event, facts = written[0]
        found.ok(
            f"{ref(notice)}：就 {listed(sorted(codes))} 一次性合并告知（提出部门 "
            f"{listed(sorted(departments))}），书面告知书 {facts.notice_no}（{ref(written_event)}）"
        )


# ---- R12 clock stop --------------------------------------------------------------------------


def _check_r12(record: _Record, tasks: _Tasks, clock: _CaseClock | None) -> RuleResult:
    """R12: no deadline fires while the clocks are stopped; every period resumes with the
    working days it had left, checked against the deadline events after the resumption and,
    where a SupplementForwarded states a ``due``, against that due; each stop is told to the
    applicant in writing."""
    found = _Findings("R12")
    windows = _stop_windows(record)
    for stopped, resumed in windows:
        until = ref(resumed) if resumed else "记录末尾"
        found.note(f"自{ref(stopped)}起停止计时，至{until}")
        inside = [
            e
            for e in record.of_type(*DEADLINE_EVENTS)
            if (e.seq > stopped.seq and (resumed is None or e.seq < resumed.seq))
            or (stopped.at < e.at and resumed is not None and e.at < resumed.at)
        ]
        for e in inside:
            found.bad(f"{ref(e)}：停止计时期间触发了期限")
        if not inside:
            found.ok(f"自{ref(stopped)}至{until}，未触发任何期限")
        told = [
            e
            for e in record.of_type(NoticeIssued)
            if e.seq > stopped.seq and (resumed is None or e.seq < resumed.seq)
        ]
        if not told:
            found.bad(f"{ref(stopped)}：停止计时期间未书面告知申请人")
    for opened in record.of_type(ExcludedPeriodOpened):
        _check_excluded_period_notice(found, record, opened)
    if clock is not None:
        _check_case_clock_resumptions(found, record, clock)
    for period in tasks.periods:
        if period.stopped_by is not None:
            _check_resumed_task(found, period)
    return found.result()


def _check_excluded_period_notice(
    found: _Findings, record: _Record, opened: ExcludedPeriodOpened
) -> None:
    """An excluded period is told to the applicant in writing with its expected length."""
    expected = opened.expected_wd
    told = [
        e
        for e, facts in record.notices(NoticeKind.EXCLUDED_PERIOD_NOTICE)
        if e.seq > opened.seq and facts.expected_wd == expected
    ]
    procedure = PROCEDURE_NAMES.get(opened.procedure, opened.procedure.value)
    if told:
        found.ok(f"{ref(opened)}：{procedure}，预计 {wd(expected)}，已于{ref(told[0])}书面告知")
    else:
        found.bad(f"{ref(opened)}：未书面告知{procedure}的预计所需时间")


def _check_case_clock_resumptions(found: _Findings, record: _Record, clock: _CaseClock) -> None:
    for stop in clock.stops:
        if stop.left is None:
            found.note(f"{ref(stop.stopped)}时承诺办结期限已不在计算（已超期）")
            continue
        stopped = (
            f"承诺办结期限：{ref(stop.stopped)}时剩余 {wd(stop.left)}（原最后一日 "
            f"{stop.last_day_before}）"
        )
        if stop.resumed is None or stop.last_day_after is None:
            found.note(f"{stopped}；记录中尚未恢复计时")
            continue
        with_wd = record.calendar.working_days_between(_day(stop.resumed.at), stop.last_day_after)
        extension = f"（含延长的 {wd(stop.extended_wd)}）" if stop.extended_wd else ""
        found.ok(
            f"{stopped}；{ref(stop.resumed)}恢复计时，剩余 {wd(with_wd)}{extension} → 最后一日 "
            f"{stop.last_day_after}"
        )
    resumed_at = [s.resumed.seq for s in clock.stops if s.resumed is not None]
    for e, due in clock.expiries:
        if due is not None and e.at < due and any(seq < e.seq for seq in resumed_at):
            found.bad(
                f"{ref(e)}：承诺办结期限在恢复计时后的届满时间 {when(due)} 之前即记为超期："
                "恢复计时时的剩余工作日少于停止计时时"
            )


def _check_resumed_task(found: _Findings, period: _TaskPeriod) -> None:
    assert period.stopped_by is not None
    story = (
        f"{period.department}：{ref(period.stopped_by)}时剩余 {wd(period.wd)}（原最后一日 "
        f"{period.left_before}）；{ref(period.opened)}恢复计时 → 最后一日 {period.last_day}"
    )
    stated = period.stated_due
    closed = period.closed
    if stated is not None and stated != period.due:
        found.bad(f"{story}，但记录载明的期限为 {when(stated)}")
    elif closed is not None and isinstance(closed, DEADLINE_EVENTS) and closed.at < period.due:
        found.bad(f"{story}，但{ref(closed)}早于该期限：恢复计时时的剩余工作日少于停止计时时")
    else:
        found.ok(story)

"""R3: the one-time notice, or the acceptance, within the notice period."""

from __future__ import annotations

from datetime import date

from approval.domain.compliance.evidence import RuleResult, _Findings
from approval.domain.compliance.labels import listed, wd
from approval.domain.compliance.moments import _aware, _end_of, when
from approval.domain.compliance.record import _codes, _Record, ref
from approval.domain.events import (
    ApplicationAccepted,
    ApplicationDeemedAccepted,
    ApplicationNotAccepted,
    ApplicationReceived,
    CaseEventBase,
    CaseLapsed,
    CaseWithdrawn,
    OneTimeNoticeIssued,
    SupplementReceived,
)

_WINDOW_ANSWERS = (OneTimeNoticeIssued, ApplicationAccepted, ApplicationNotAccepted)


def _check_r3(record: _Record) -> RuleResult:
    """R3: the window answered (notice, acceptance or non-acceptance) within the notice period
    of the receipt or of the supplement that reopened the check, or a deemed acceptance as of
    that instant was recorded once it ended; the first notice lists every missing item and a
    later one names only items of the first."""
    found = _Findings("R3")
    received, periods = record.received, record.periods
    if received is None and (
        not record.events or isinstance(record.events[0], ApplicationNotAccepted)
    ):
        if record.events:
            found.note(f"{ref(record.events[0])}：当场不予受理，未收件（R1）")
        return found.result()
    if received is None or periods is None:
        found.bad(f"无法检查窗口受理期限：{record.periods_problem}")
        return found.result()
    days = periods.notice_wd
    start: CaseEventBase | None = received
    decided = False
    for e in record.events:
        if e.seq <= received.seq or decided:
            continue
        if start is None:
            if isinstance(e, SupplementReceived):
                start = e
            continue
        last_day = record.last_day(start.at, days)
        if isinstance(e, _WINDOW_ANSWERS):
            if e.at < _end_of(last_day):
                found.ok(f"{ref(e)}：在{ref(start)}后 {wd(days)}内作出（最后一日 {last_day}）")
            else:
                found.bad(
                    f"{ref(e)}：{ref(start)}起 {wd(days)}的告知期限届满（最后一日 "
                    f"{last_day}）后才作出，且未记录视为受理"
                )
            decided = not isinstance(e, OneTimeNoticeIssued)
            start = None
        elif isinstance(e, ApplicationDeemedAccepted):
            _check_deemed_acceptance(found, e, start, last_day, days)
            decided, start = True, None
        elif isinstance(e, CaseWithdrawn | CaseLapsed):
            found.note(f"{ref(e)}：窗口未作答复，审查即告结束")
            decided, start = True, None
    if start is not None and not decided:
        last_day = record.last_day(start.at, days)
        reached = record.passed(_end_of(last_day))
        if reached is not None:
            found.bad(
                f"{ref(start)}起 {wd(days)}的告知期限已届满（最后一日 {last_day}）；记录至"
                f"{ref(reached)}，仍无一次性告知、受理或视为受理"
            )
        else:
            found.ok(f"尚在期限内：{ref(start)}起的告知期限至 {last_day}（含当日）")
    _check_intake_notices(found, record, received)
    return found.result()


def _check_deemed_acceptance(
    found: _Findings,
    e: ApplicationDeemedAccepted,
    start: CaseEventBase,
    last_day: date,
    days: int,
) -> None:
    as_of = _aware(e.as_of)
    if e.at < _end_of(last_day):
        found.bad(f"{ref(e)}：告知期限届满前即记为视为受理（最后一日 {last_day}）")
    elif as_of != start.at:
        stated = when(as_of) if as_of else "未载明日期"
        found.bad(f"{ref(e)}：视为自 {stated} 起受理，而不是自{ref(start)}起")
    else:
        found.ok(
            f"{ref(e)}：窗口 {wd(days)}内未作答复（最后一日 {last_day}），视为自 "
            f"{when(as_of)}（{ref(start)}）起受理"
        )


def _check_intake_notices(found: _Findings, record: _Record, received: ApplicationReceived) -> None:
    notices = record.of_type(OneTimeNoticeIssued)
    if not notices:
        return
    first, *later = notices
    first_codes = _codes(first.items)
    missing = list(received.missing)
    left_out = sorted(set(missing) - set(first_codes))
    if left_out:
        found.bad(f"{ref(first)}：首次告知遗漏了{ref(received)}时已缺少的 {listed(left_out)}")
    else:
        found.ok(f"{ref(first)}：首次告知列明了全部缺少的材料 {listed(sorted(first_codes))}")
    for e in later:
        new = sorted(set(_codes(e.items)) - set(first_codes))
        if new:
            found.bad(f"{ref(e)}：之后的告知提出了首次告知中没有的 {listed(new)}")
        else:
            found.ok(f"{ref(e)}：之后的告知只涉及首次告知中的材料")

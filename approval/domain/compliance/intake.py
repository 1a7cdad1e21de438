"""R3: the one-time notice, or the acceptance, within the notice period."""

from __future__ import annotations

from datetime import date

from approval.domain.compliance.evidence import RuleResult, _Findings
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
            found.note(f"{ref(record.events[0])}: refused at once, nothing was received (R1)")
        return found.result()
    if received is None or periods is None:
        found.bad(f"cannot check the window: {record.periods_problem}")
        return found.result()
    wd = periods.notice_wd
    start: CaseEventBase | None = received
    decided = False
    for e in record.events:
        if e.seq <= received.seq or decided:
            continue
        if start is None:
            if isinstance(e, SupplementReceived):
                start = e
            continue
        last_day = record.last_day(start.at, wd)
        if isinstance(e, _WINDOW_ANSWERS):
            if e.at < _end_of(last_day):
                found.ok(f"{ref(e)}: within {wd} WD of {ref(start)} (last day {last_day})")
            else:
                found.bad(
                    f"{ref(e)}: after the {wd} WD window of {ref(start)} ended "
                    f"(last day {last_day}), and no deemed acceptance was recorded"
                )
            decided = not isinstance(e, OneTimeNoticeIssued)
            start = None
        elif isinstance(e, ApplicationDeemedAccepted):
            _check_deemed_acceptance(found, e, start, last_day, wd)
            decided, start = True, None
        elif isinstance(e, CaseWithdrawn | CaseLapsed):
            found.note(f"{ref(e)}: the check ended without an answer")
            decided, start = True, None
    if start is not None and not decided:
        last_day = record.last_day(start.at, wd)
        reached = record.passed(_end_of(last_day))
        if reached is not None:
            found.bad(
                f"the {wd} WD window of {ref(start)} ended (last day {last_day}); the record "
                f"runs to {ref(reached)} without a notice, acceptance or deemed acceptance"
            )
        else:
            found.ok(f"so far on time: the window of {ref(start)} is open until {last_day}")
    _check_intake_notices(found, record, received)
    return found.result()


def _check_deemed_acceptance(
    found: _Findings,
    e: ApplicationDeemedAccepted,
    start: CaseEventBase,
    last_day: date,
    wd: int,
) -> None:
    as_of = _aware(e.as_of)
    if e.at < _end_of(last_day):
        found.bad(f"{ref(e)}: deemed accepted before the window ended (last day {last_day})")
    elif as_of != start.at:
        stated = when(as_of) if as_of else "no date"
        found.bad(f"{ref(e)}: deemed accepted as of {stated}, not as of {ref(start)}")
    else:
        found.ok(
            f"{ref(e)}: the window was silent for {wd} WD (last day {last_day}); deemed "
            f"accepted as of {when(as_of)} ({ref(start)})"
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
        found.bad(
            f"{ref(first)}: the first notice leaves out {left_out}, missing at {ref(received)}"
        )
    else:
        found.ok(f"{ref(first)}: the first notice lists every missing item {sorted(first_codes)}")
    for e in later:
        new = sorted(set(_codes(e.items)) - set(first_codes))
        if new:
            found.bad(f"{ref(e)}: a later notice names {new}, not in the first notice")
        else:
            found.ok(f"{ref(e)}: a later notice names only items of the first notice")

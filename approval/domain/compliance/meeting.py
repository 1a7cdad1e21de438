"""R10 absence consent: a joint review meeting deems its absent departments to agree."""

from __future__ import annotations

from approval.domain.compliance.evidence import RuleResult, _Findings
from approval.domain.compliance.periods import _Tasks
from approval.domain.compliance.record import _Record, ref
from approval.domain.events import JointMeetingRecorded, ReviewDeemedApprovedInAbsence
from approval.domain.models import Role


def _check_r10(record: _Record, tasks: _Tasks) -> RuleResult:
    """R10: at each recorded joint review meeting every absent department whose review was
    open is deemed to agree, by the engine, citing the meeting; nobody else is deemed so."""
    found = _Findings("R10")
    meetings = {e.seq: e for e in record.of_type(JointMeetingRecorded)}
    consents = record.of_type(ReviewDeemedApprovedInAbsence)
    for meeting in meetings.values():
        _check_meeting(found, tasks, meeting, consents)
    for consent in consents:
        dept = consent.department
        meeting_ = meetings.get(consent.meeting_seq)
        if meeting_ is None or dept not in _absent(meeting_):
            found.bad(
                f"{ref(consent)}: {dept} deemed by absence, but no meeting recorded it absent"
            )
    return found.result()


def _check_meeting(
    found: _Findings,
    tasks: _Tasks,
    meeting: JointMeetingRecorded,
    consents: list[ReviewDeemedApprovedInAbsence],
) -> None:
    absent = _absent(meeting)
    found.note(f"{ref(meeting)}: joint review meeting, absent {sorted(absent) or 'none'}")
    open_reviews = {
        p.department
        for p in tasks.periods
        if p.opened.seq < meeting.seq and (p.closed is None or p.closed.seq > meeting.seq)
    }
    for dept in sorted(absent - open_reviews):
        found.note(f"{dept} was absent with no open review: nothing to deem")
    for dept in sorted(absent & open_reviews):
        consent = next(
            (c for c in consents if c.department == dept and c.meeting_seq == meeting.seq),
            None,
        )
        if consent is None:
            found.bad(
                f"{ref(meeting)}: {dept} was absent with its review open, not deemed to agree"
            )
        elif consent.actor.role is not Role.SYSTEM:
            found.bad(f"{ref(consent)}: recorded by {consent.actor.role.value}, not by the engine")
        else:
            found.ok(f"{ref(consent)}: {dept}, absent from the meeting, deemed to agree")


def _absent(meeting: JointMeetingRecorded) -> set[str]:
    return set(meeting.absent)

"""R10 absence consent: a joint review meeting deems its absent departments to agree."""

from __future__ import annotations

from approval.domain.compliance.evidence import RuleResult, _Findings
from approval.domain.compliance.labels import listed, role_label
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
            found.bad(f"{ref(consent)}：{dept} 被记为缺席默认同意，但没有会议记录其缺席")
    return found.result()


def _check_meeting(
    found: _Findings,
    tasks: _Tasks,
    meeting: JointMeetingRecorded,
    consents: list[ReviewDeemedApprovedInAbsence],
) -> None:
    absent = _absent(meeting)
    found.note(f"{ref(meeting)}：联合审查会议，缺席部门 {listed(sorted(absent))}")
    open_reviews = {
        p.department
        for p in tasks.periods
        if p.opened.seq < meeting.seq and (p.closed is None or p.closed.seq > meeting.seq)
    }
    for dept in sorted(absent - open_reviews):
        found.note(f"{dept} 缺席，但其审查不在进行中：无需视为同意")
    for dept in sorted(absent & open_reviews):
        consent = next(
            (c for c in consents if c.department == dept and c.meeting_seq == meeting.seq),
            None,
        )
        if consent is None:
            found.bad(f"{ref(meeting)}：{dept} 缺席时审查仍在进行，未被视为同意")
        elif consent.actor.role is not Role.SYSTEM:
            who = role_label(consent.actor.role)
            found.bad(f"{ref(consent)}：由{who}记录，而不是由系统记录")
        else:
            found.ok(f"{ref(consent)}：{dept} 缺席联合审查会议，视为同意")


def _absent(meeting: JointMeetingRecorded) -> set[str]:
    return set(meeting.absent)

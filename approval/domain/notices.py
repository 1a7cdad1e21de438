"""Written notices to the applicant (书面告知): their kinds and the facts each one states."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from approval.domain.catalogue import Frozen
from approval.domain.models import ExcludedProcedure, NoticeItem


class NoticeKind(StrEnum):
    """Every document the engine issues to the applicant."""

    ACCEPTANCE_VOUCHER = "acceptance_voucher"  # 受理通知书 (R5)
    NON_ACCEPTANCE_VOUCHER = "non_acceptance_voucher"  # 不予受理通知书 (R1, R5)
    ONE_TIME_NOTICE = "one_time_notice"  # 一次性告知书 at the window (R3)
    CONSOLIDATED_NOTICE = "consolidated_notice"  # 补正材料一次性告知书 during review (R11)
    EXTENSION_NOTICE = "extension_notice"  # 延长审批期限告知书 (R13)
    APPROVAL_DECISION = "approval_decision"  # 准予行政许可决定书 (R14)
    REJECTION_DECISION = "rejection_decision"  # 不予行政许可决定书 (R14)
    CERTIFICATE = "certificate"  # 证照 (R16)
    WITHDRAWAL_NOTICE = "withdrawal_notice"  # 撤回申请确认书 (R18)
    LAPSE_NOTICE = "lapse_notice"  # 逾期未补正视为撤回通知书 (R6)
    EXCLUDED_PERIOD_NOTICE = "excluded_period_notice"  # 特别程序期间告知书 (art. 45, R12)
    FOLLOW_UP_REPLY = "follow_up_reply"  # 整改情况告知书: a follow-up's answer (R20)


EDITION = 2
"""The edition of the notices' wording the engine issues now: since edition 2 a deadline is
said with its last day included (2027年1月4日（含当日）前) and materials by their names."""


class DepartmentReason(Frozen):
    """A rejecting department and its written reasons."""

    department: str
    reasons: str


class Notice(Frozen):
    """The facts of one notice; the Chinese text is rendered from them (documents module)."""

    notice_no: str
    kind: NoticeKind
    case_no: str
    matter_code: str
    matter_name: str
    applicant_name: str
    issued_at: datetime
    items: tuple[NoticeItem, ...] = ()
    """Missing or defective materials (one-time notices)."""
    edition: int = 1
    """The edition of its wording (EDITION when issued now). A notice renders in the wording
    it was issued in, so that a rebuild from the histories renders older notices alike."""
    material_names: dict[str, str] = Field(default_factory=dict)
    """The catalogue names of the items' materials, by code: the notice names each material
    by its name (notices issued before these were kept name the code alone)."""
    rejections: tuple[DepartmentReason, ...] = ()
    deemed_departments: tuple[str, ...] = ()
    """Departments whose approval was deemed by silent consent (R9, R14)."""
    absent_departments: tuple[str, ...] = ()
    """Departments deemed to agree by absence from a joint review meeting (R10, R14)."""
    due: date | None = None
    """Committed completion date, supplement deadline or delivery date, by kind."""
    due_provisional: bool = False
    as_of: date | None = None
    """Acceptance date (the receipt date for a deemed acceptance, R3)."""
    competent_organ: str | None = None
    reason: str | None = None
    """Why: non-acceptance, extension, withdrawal."""
    fee_yuan: str | None = None
    procedure: ExcludedProcedure | None = None
    """The excluded procedure (art. 45)."""
    expected_wd: int | None = None
    """Its expected length in working days (R12)."""
    follow_up_no: str | None = None
    """The follow-up answered (R20)."""
    party_name: str | None = None
    """Who answered the follow-up: a department or the window."""
    remedy: str | None = None
    """The remedy the follow-up's answer states; ``reason`` holds its explanation."""
    progress_url: str | None = None
    """The public progress page the notice sends the applicant to with the case's check code
    (查询码), fixed when the case was received (its supervision policy); the store renders the
    code, which is derived from the case number and the audit key. None: older notices, which
    show neither."""

    @property
    def shows_check_code(self) -> bool:
        """Whether the notice tells the applicant the check code and where to look."""
        return self.progress_url is not None

"""The check code (查询码) of a case: what an applicant types, with the case number, to see the
case's progress without an account. Derived from the case number and the audit key, so the
acceptance voucher can print it and nothing needs to be stored (pure).

The code has 64 bits: 16 hex digits of HMAC-SHA256(key, "check-code/v2:" + case number).
Cases numbered before the 64-bit code went into service were given the 32-bit code (8 hex
digits of HMAC-SHA256(key, case number)); that form is accepted only for a case whose number
is dated on or before ``LEGACY_CODES_UNTIL``, the day the 64-bit code went into service, so a
newer case can only be found with its 64-bit code.

The notices that show the check code tell the applicant where to type it: the public progress
page, ``PROGRESS_PATH`` under the public base URL (``APPROVAL_PUBLIC_BASE_URL``)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime

CHECK_CODE_LENGTH = 16
LEGACY_CHECK_CODE_LENGTH = 8
CHECK_CODE_PATTERN = (
    rf"^(?:[0-9A-Fa-f]{{{CHECK_CODE_LENGTH}}}|[0-9A-Fa-f]{{{LEGACY_CHECK_CODE_LENGTH}}})$"
)
"""16 hex digits, or the 8 of a case numbered before the 64-bit code (either case)."""
LABEL = b"check-code/v2:"
LEGACY_CODES_UNTIL = date(2026, 12, 1)
"""The last day whose cases were numbered with the 32-bit check code."""
PROGRESS_PATH = "/web/progress"
"""The public progress page (办件进度查询), under the public base URL."""


def _hex_hmac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest().upper()


def _same(expected: str, typed: str) -> bool:
    """Constant-time comparison, also of a typed text that is not ASCII."""
    return hmac.compare_digest(expected.encode(), typed.encode())


def check_code(case_no: str, key: bytes) -> str:
    """The case's 64-bit check code: 16 upper-case hex digits."""
    return _hex_hmac(key, LABEL + case_no.encode())[:CHECK_CODE_LENGTH]


def legacy_check_code(case_no: str, key: bytes) -> str:
    """The 32-bit check code cases were given before the 64-bit one: 8 upper-case hex digits."""
    return _hex_hmac(key, case_no.encode())[:LEGACY_CHECK_CODE_LENGTH]


def numbered_on(case_no: str) -> date | None:
    """The day in a case number ``371600-YYYYMMDD-NNNNNN``; None if it has none."""
    parts = case_no.split("-")
    try:
        return datetime.strptime(parts[1], "%Y%m%d").date() if len(parts) == 3 else None
    except ValueError:
        return None


def matches(
    case_no: str, key: bytes, code: str, legacy_until: date | None = LEGACY_CODES_UNTIL
) -> bool:
    """Whether ``code`` (either case) is the case's check code, compared in constant time: its
    64-bit code, or its 32-bit one when the case is numbered on or before ``legacy_until``."""
    typed = code.upper()
    if len(typed) == CHECK_CODE_LENGTH:
        return _same(check_code(case_no, key), typed)
    day = numbered_on(case_no)
    if len(typed) != LEGACY_CHECK_CODE_LENGTH or legacy_until is None or day is None:
        return False
    return day <= legacy_until and _same(legacy_check_code(case_no, key), typed)


def progress_address(public_base_url: str) -> str:
    """The public progress page's address, as the notices print it."""
    return public_base_url.rstrip("/") + PROGRESS_PATH

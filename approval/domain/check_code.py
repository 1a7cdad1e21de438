"""The check code (查询码) of a case: what an applicant types, with the case number, to see the
case's progress without an account. Derived from the case number and the audit key, so the
acceptance voucher can print it and nothing needs to be stored (pure)."""

from __future__ import annotations

import hashlib
import hmac

CHECK_CODE_LENGTH = 8
CHECK_CODE_PATTERN = rf"^[0-9A-Fa-f]{{{CHECK_CODE_LENGTH}}}$"


def check_code(case_no: str, key: bytes) -> str:
    """The first 8 hex digits, upper-cased, of HMAC-SHA256(key, case_no)."""
    digest = hmac.new(key, case_no.encode(), hashlib.sha256).hexdigest()
    return digest[:CHECK_CODE_LENGTH].upper()


def matches(case_no: str, key: bytes, code: str) -> bool:
    """Whether ``code`` (either case) is the case's check code, compared in constant time."""
    return hmac.compare_digest(check_code(case_no, key), code.upper())

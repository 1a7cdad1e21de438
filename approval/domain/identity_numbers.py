"""The applicant's identity number, checked at the window: an 18-character 统一社会信用代码
(GB 32100-2015) or 公民身份号码 (GB 11643-1999) must carry the check character its other
characters give. A 15-character number (the older 身份证 and registration numbers) has none
to check. The check is made when an application is received, not where a case is read back:
the histories of cases received before it replay as they are."""

from __future__ import annotations

USCC_CHARACTERS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of a 统一社会信用代码, by value (no I, O, S, V, Z)."""
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CITIZEN_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CITIZEN_CHECKS = "10X98765432"
"""The check character of a 公民身份号码 by the weighted sum of its first 17 digits mod 11."""


def uscc_check_character(first_17: str) -> str:
    """The check character of a 统一社会信用代码 whose first 17 characters are ``first_17``."""
    total = sum(USCC_CHARACTERS.index(c) * w for c, w in zip(first_17, USCC_WEIGHTS, strict=True))
    return USCC_CHARACTERS[(31 - total % 31) % 31]


def citizen_check_character(first_17: str) -> str:
    """The check character of a 公民身份号码 whose first 17 digits are ``first_17``."""
    total = sum(int(c) * w for c, w in zip(first_17, CITIZEN_WEIGHTS, strict=True))
    return CITIZEN_CHECKS[total % 11]


def identity_number_problem(number: str) -> str | None:
    """Why ``number`` is not a valid identity number (in Chinese), or None when it is: valid
    as either kind is valid (an all-digit number may be read as both)."""
    if len(number) != 18:
        return None
    body, check = number[:17], number[17]
    as_code = all(c in USCC_CHARACTERS for c in number)
    if as_code and check == uscc_check_character(body):
        return None
    if body.isdigit() and check == citizen_check_character(body):
        return None
    if body.isdigit() and (check.isdigit() or check == "X"):
        expected, kind = citizen_check_character(body), "公民身份号码"
    elif as_code:
        expected, kind = uscc_check_character(body), "统一社会信用代码"
    else:
        return "不是有效的统一社会信用代码或公民身份号码（含有其中不用的字母）"
    return f"{kind}校验码不正确：第18位应为 {expected}，而不是 {check}"

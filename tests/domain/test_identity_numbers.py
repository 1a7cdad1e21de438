"""Identity numbers checked at the window (approval.domain.identity_numbers): the check
character of an 18-character 统一社会信用代码 (GB 32100-2015) and 公民身份号码 (GB 11643-1999)."""

from __future__ import annotations

import pytest

from approval.domain.identity_numbers import (
    citizen_check_character,
    identity_number_problem,
    uscc_check_character,
)

VALID = [
    "91350100M000100Y43",  # a 统一社会信用代码 as published
    "91371600MA3C00000L",  # the demo company's
    "11010519491231002X",  # a 公民身份号码 whose check character is X
    "440524188001010014",
    "37160219900101123X",  # the demo citizen's
    "371602900101123",  # 15 characters: an older number, no check character
]


@pytest.mark.parametrize("number", VALID)
def test_a_number_with_its_right_check_character_is_valid(number: str) -> None:
    """Each number whose 18th character is the one its first 17 give (or a 15-character
    older number) is accepted."""
    assert identity_number_problem(number) is None


@pytest.mark.parametrize(
    ("number", "expected", "kind"),
    [
        ("91371600MA3C000001", "L", "统一社会信用代码"),
        ("91350100M000100Y44", "3", "统一社会信用代码"),
        ("110105194912310021", "X", "公民身份号码"),
        ("371602199001011234", "X", "公民身份号码"),
    ],
)
def test_a_wrong_check_character_is_named_with_the_right_one(
    number: str, expected: str, kind: str
) -> None:
    """A wrong 18th character is refused in Chinese, naming the kind of number and the check
    character it should have."""
    problem = identity_number_problem(number)
    assert problem is not None and kind in problem and f"应为 {expected}" in problem


def test_characters_a_credit_code_never_uses_are_refused() -> None:
    """I, O, S, V and Z are no characters of a 统一社会信用代码."""
    problem = identity_number_problem("91371600MA3C4XYZ1K")
    assert problem is not None and "不是有效的" in problem


def test_the_check_characters_follow_the_standards_weights() -> None:
    """Hand-computed: GB 11643's weighted sum of 11010519491231002 is 167, 167 mod 11 = 2 → X;
    GB 32100's of 91350100M000100Y4 gives 31 − (sum mod 31) = 3."""
    assert citizen_check_character("11010519491231002") == "X"
    assert uscc_check_character("91350100M000100Y4") == "3"

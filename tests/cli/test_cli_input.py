"""Bad input at the command line: one line naming the field, exit status 2, no stack trace,
and nothing sent anywhere. These run without any server and without a token: the input is
checked before the token is looked for, and before anything would be sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.processes import invoke_cli

CASE = "371600-20261128-000001"
SUBMIT = ("submit", "JS-GHXK-001", "--applicant", "张三")
ID_NUMBER = ("--id-number", "37160219900101123X")


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((*SUBMIT, "--id-number", "12", "--key", "key-00001"), "applicant.id_number"),
        ((*SUBMIT, *ID_NUMBER, "--key", "k"), "idempotency_key"),
        ((*SUBMIT, *ID_NUMBER, "--key", "key-00001", "--channel", "fax"), "channel"),
        (
            (*SUBMIT, *ID_NUMBER, "--key", "key-00001", "--material", "SQB=/no/such/file"),
            "material",
        ),
        ((*SUBMIT, *ID_NUMBER, "--key", "key-00001", "--material", "SQB"), "material"),
        (("supplement", CASE, "--material", "S Q=/no/such/file"), "material"),
        (("status", "371600-2026-1"), "case_no"),
        (("accept", "../inbox"), "case_no"),
        (("notice", CASE, "--defective", "RFSJ"), "defective"),
        (("decide", CASE, "maybe"), "outcome"),
        (("decide", CASE, "request_supplement", "--item", "SJFA"), "item"),
        (("pay", CASE, "--amount", "eighty", "--receipt", "R1"), "amount"),
        (("meeting", CASE, "--minutes", "纪要"), "present"),
        (("meeting", CASE, "--minutes", "纪要", "--absent", "ZJJ", "--present", "ZJJ"), "absent"),
        (
            (
                "exclude",
                CASE,
                "--procedure",
                "expert_review",
                "--reason",
                "论证",
                "--expected-wd",
                "0",
            ),
            "expected_wd",
        ),
        (
            ("exclude", CASE, "--procedure", "party", "--reason", "论证", "--expected-wd", "5"),
            "procedure",
        ),
    ],
)
def test_malformed_or_missing_field_is_refused_with_its_name(
    args: tuple[str, ...], field: str, tmp_path: Path
) -> None:
    """A malformed or missing field is refused before anything is sent (no API listens, no
    token is given), in one line naming the field, with exit status 2."""
    env = {
        "APPROVAL_API_URL": "http://127.0.0.1:9",
        "APPROVAL_DATA_DIR": str(tmp_path),
        "APPROVAL_TOKEN": None,
    }
    result = invoke_cli(*args, env=env)
    assert result.exited(2), result
    lines = result.message_lines()
    assert len(lines) == 1 and lines[0].startswith(f"错误 error: {field}: "), result
    assert "Traceback" not in result.stderr and result.stdout == "", result

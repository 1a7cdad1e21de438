"""Bad input at the command line: one line naming the field, exit status 2, no stack trace,
and nothing sent anywhere (these run without any server)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from approval.config import PROJECT_ROOT


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """starter.py with ``args``, its output captured."""
    return subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "starter.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
        check=False,
    )


CASE = "371600-20261128-000001"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (
            (
                "submit",
                "JS-GHXK-001",
                "--applicant",
                "张三",
                "--id-number",
                "12",
                "--key",
                "key-00001",
            ),
            "id_number",
        ),
        (
            (
                "submit",
                "JS-GHXK-001",
                "--applicant",
                "张三",
                "--id-number",
                "371602199001011234",
                "--key",
                "k",
            ),
            "idempotency_key",
        ),
        (
            (
                "submit",
                "JS-GHXK-001",
                "--applicant",
                "张三",
                "--id-number",
                "371602199001011234",
                "--key",
                "key-00001",
                "--material",
                "SQB=/no/such/file",
            ),
            "material",
        ),
        (("decide", "371600-20261128-000001", "reject", "--department", "ZJJ"), "reasons"),
        (("pay", "371600-20261128-000001", "--amount", "eighty", "--receipt", "R1"), "amount"),
        (("meeting", "371600-20261128-000001", "--minutes", "纪要"), "present"),
        (
            ("meeting", CASE, "--minutes", "纪要", "--absent", "ZJJ", "--present", "ZJJ"),
            "absent",
        ),
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
    ],
)
def test_malformed_or_missing_field_is_refused_with_its_name(
    args: tuple[str, ...], field: str
) -> None:
    """A malformed or missing field is refused before anything is sent, naming the field."""
    result = run_cli(*args)
    assert result.returncode == 2
    assert field in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

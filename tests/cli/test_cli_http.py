"""The command line as a client of the HTTP API: it acts with a token (``--token``,
``APPROVAL_TOKEN``, in development ``--as USER``) and nothing else decides who it is (R22); the
idempotency key of a submission and the request id of a decision go with the request (R23); an
outage is one line and exit status 3, told apart from a refusal (exit status 2), and records
nothing; ``--help`` and a read load neither Temporal nor the store.

The API here is either a recording stand-in (what the command line sends) or the real app over
a store whose engine cannot be reached (what an outage does); the command line against the real
engine is tests/e2e/test_end_to_end.py."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, cast

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, sessionmaker

from approval.api.app import create_app
from approval.cli.app import OUTCOMES, PROCEDURES
from approval.config import PROJECT_ROOT, Settings
from approval.domain.catalogue import Catalogue
from approval.domain.models import Application, CaseCommand, ExcludedProcedure, Outcome, Supplement
from approval.domain.status import CaseStatus
from approval.service import CaseService, EngineUnavailableError, Submission
from approval.store.audit_log import events_of
from approval.store.numbering import case_known
from approval.store.users import create_users_with_tokens
from tests.domain_fixtures import MONDAY, received_case, status
from tests.processes import CliResult, invoke_cli, run_python, serving

CASE = "371600-20261201-000001"
TOKEN = "token-of-the-clerk"
STATUS = {"case_no": CASE, "stage": "in_review"}
"""What the stand-in API answers for a case (the command line prints it as it is with --json)."""
NOTICES = [
    {"notice_no": "N01", "kind": "one_time_notice", "title": "一次性告知书", "body": "请补正 RFSJ"},
    {"notice_no": "N02", "kind": "acceptance_voucher", "title": "受理通知书", "body": "予以受理"},
]


@pytest.fixture
def store_backend() -> str:
    """SQLite only: the store is not what is tested here."""
    return "sqlite"


def closed_port() -> int:
    """A port of 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def assert_one_line(result: CliResult, status: int, start: str) -> str:
    """Exit ``status``, nothing on stdout, one line on stderr beginning with ``start``, no
    stack trace; the line."""
    assert result.exited(status), result
    assert result.stdout == "" and "Traceback" not in result.stderr, result
    lines = result.message_lines()
    assert len(lines) == 1 and lines[0].startswith(start), result
    return lines[0]


# ---- what the command line sends -------------------------------------------------------------


class Recording:
    """A stand-in API: answers every request with ``answers[path]`` and keeps what came."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.requests: list[dict[str, Any]] = []
        self.app = FastAPI()
        self.app.add_api_route("/{path:path}", self.answer, methods=["GET", "POST"])

    async def answer(self, request: Request, path: str) -> JSONResponse:
        """Keep the request; answer with the canned body of its path."""
        body = await request.body()
        self.requests.append(
            {
                "method": request.method,
                "path": f"/{path}",
                "authorization": request.headers.get("authorization"),
                "idempotency_key": request.headers.get("idempotency-key"),
                "json": json.loads(body) if body else None,
            }
        )
        return JSONResponse(self.answers[f"/{path}"])


@pytest.fixture
def recording() -> Iterator[tuple[Recording, str]]:
    """The stand-in API, served; with its base URL."""
    api = Recording(
        {
            "/cases": {"case_no": CASE, "created": True},
            f"/cases/{CASE}": STATUS,
            f"/cases/{CASE}/decision": STATUS,
            f"/cases/{CASE}/refuse": STATUS,
            f"/cases/{CASE}/notices": NOTICES,
            f"/cases/{CASE}/rating": STATUS,
            f"/cases/{CASE}/complaints": STATUS,
            f"/cases/{CASE}/follow-ups/answer": STATUS,
        }
    )
    with serving(api.app) as url:
        yield api, url


def test_R22_a_command_without_a_token_is_refused_in_one_line(tmp_path: Path) -> None:
    """R22: with no --token, no --as and no APPROVAL_TOKEN, a read and an action are refused
    in one line naming the token, exit status 2, before anything is sent."""
    env = {"APPROVAL_API_URL": f"http://127.0.0.1:{closed_port()}", "APPROVAL_TOKEN": None}
    for args in (("status", CASE), ("accept", CASE), ("decide", CASE, "approve")):
        line = assert_one_line(invoke_cli(*args, env=env), 2, "错误 error: token: ")
        assert "APPROVAL_TOKEN" in line and "--token" in line


def test_R22_R23_the_token_the_key_and_the_request_id_go_with_the_requests(
    recording: tuple[Recording, str], tmp_path: Path
) -> None:
    """R22, R23: the token of APPROVAL_TOKEN (or of --token, which comes first) is the bearer
    of every request; a submission carries its --key as the idempotency key, a decision its
    --request-id as the Idempotency-Key header; the --json output is the API's answer."""
    api, url = recording
    env = {"APPROVAL_API_URL": url, "APPROVAL_DATA_DIR": str(tmp_path), "APPROVAL_TOKEN": TOKEN}
    submitted = invoke_cli(
        *("submit", "JS-GHXK-001", "--applicant", "张三", "--id-number", "37160219900101123X"),
        *("--key", "key-00001", "--json"),
        env=env,
    )
    decided = invoke_cli(
        *("--token", "token-of-zjj", "decide", CASE, "approve", "--request-id", "d-1", "--json"),
        env=env,
    )
    assert submitted.exited(0) and decided.exited(0), (submitted, decided)
    assert submitted.json() == {"case_no": CASE, "created": True, "status": STATUS}
    assert decided.json() == STATUS
    sent = [(r["method"], r["path"], r["authorization"]) for r in api.requests]
    assert sent == [
        ("POST", "/cases", f"Bearer {TOKEN}"),
        ("GET", f"/cases/{CASE}", f"Bearer {TOKEN}"),
        ("POST", f"/cases/{CASE}/decision", "Bearer token-of-zjj"),
    ]
    assert api.requests[0]["json"]["idempotency_key"] == "key-00001"
    assert api.requests[2]["idempotency_key"] == "d-1"
    assert api.requests[2]["json"]["outcome"] == "approve"


def test_refusing_at_intake_and_reading_the_notices_go_to_their_routes(
    recording: tuple[Recording, str], tmp_path: Path
) -> None:
    """`refuse` posts the reason and the competent organ to POST /cases/{no}/refuse;
    `notices` prints the body of every notice GET /cases/{no}/notices gives, and with --json
    the list as it came."""
    api, url = recording
    env = {"APPROVAL_API_URL": url, "APPROVAL_TOKEN": TOKEN}
    refused = invoke_cli(
        "refuse",
        CASE,
        "--reason",
        "不属于本机关职权",
        "--competent-organ",
        "省厅",
        "--json",
        env=env,
    )
    printed = invoke_cli("notices", CASE, env=env)
    listed = invoke_cli("notices", CASE, "--json", env=env)
    assert refused.exited(0) and printed.exited(0) and listed.exited(0), (refused, printed)
    assert api.requests[0]["path"] == f"/cases/{CASE}/refuse"
    assert api.requests[0]["json"] == {"reason": "不属于本机关职权", "competent_organ": "省厅"}
    assert "请补正 RFSJ" in printed.stdout and "予以受理" in printed.stdout
    assert listed.json() == NOTICES


def test_R20_rate_complain_and_answer_followup_go_to_their_routes(
    recording: tuple[Recording, str], tmp_path: Path
) -> None:
    """R20: `rate` posts the level, comment and concerns (its --request-id as the
    Idempotency-Key), `complain` the text, `answer-followup` the follow-up's number with the
    explanation and remedy; a level that does not exist is refused in one line naming the
    field, before anything is sent."""
    api, url = recording
    env = {"APPROVAL_API_URL": url, "APPROVAL_TOKEN": TOKEN}
    rated = invoke_cli(
        *("rate", CASE, "dissatisfied", "--comment", "等待太久", "--concerns", "RFB"),
        *("--request-id", "r-1", "--json"),
        env=env,
    )
    complained = invoke_cli("complain", CASE, "多次催问无人答复", "--json", env=env)
    answered = invoke_cli(
        *("answer-followup", CASE, f"{CASE}-F01", "--explanation", "已核实"),
        *("--remedy", "已整改", "--json"),
        env=env,
    )
    assert rated.exited(0) and complained.exited(0) and answered.exited(0), (rated, answered)
    assert [(r["path"], r["json"]) for r in api.requests] == [
        (
            f"/cases/{CASE}/rating",
            {"level": "dissatisfied", "comment": "等待太久", "concerns": ["RFB"]},
        ),
        (f"/cases/{CASE}/complaints", {"text": "多次催问无人答复", "concerns": []}),
        (
            f"/cases/{CASE}/follow-ups/answer",
            {"follow_up_no": f"{CASE}-F01", "explanation": "已核实", "remedy": "已整改"},
        ),
    ]
    assert api.requests[0]["idempotency_key"] == "r-1"
    wrong = invoke_cli("rate", CASE, "great", env=env)
    assert "level" in assert_one_line(wrong, 2, "错误 error: ")
    assert len(api.requests) == 3


def test_R22_as_user_takes_a_demo_token_in_development_only(
    recording: tuple[Recording, str], tmp_path: Path
) -> None:
    """R22: in development, --as USER acts with the token `make run` wrote for that demo user;
    an unknown user, and --as outside development, are one-line refusals that send nothing."""
    api, url = recording
    (tmp_path / "demo-tokens.txt").write_text(
        "clerk-01         clerk             tok-clerk\n"
        "reviewer-ZJJ     reviewer   ZJJ    tok-zjj\n",
        encoding="utf-8",
    )
    env = {"APPROVAL_API_URL": url, "APPROVAL_DATA_DIR": str(tmp_path), "APPROVAL_TOKEN": None}
    as_reviewer = invoke_cli("--as", "reviewer-ZJJ", "status", CASE, "--json", env=env)
    assert as_reviewer.exited(0), as_reviewer
    assert [r["authorization"] for r in api.requests] == ["Bearer tok-zjj"]

    unknown = invoke_cli("--as", "mayor-01", "status", CASE, env=env)
    assert "clerk-01, reviewer-ZJJ" in assert_one_line(unknown, 2, "错误 error: as: ")
    production = {**env, "APPROVAL_ENVIRONMENT": "production"}
    outside = invoke_cli("--as", "clerk-01", "status", CASE, env=production)
    assert "development" in assert_one_line(outside, 2, "错误 error: as: ")
    assert len(api.requests) == 1


# ---- outages -------------------------------------------------------------------------------------


class EngineDown:
    """The engine as the routes use it, with Temporal out of reach: every call raises
    EngineUnavailableError, as approval.service does then."""

    def __init__(self, settings: Settings, catalogue: Catalogue) -> None:
        self.settings, self.catalogue = settings, catalogue

    async def _down(self, *_args: Any, **_kwargs: Any) -> NoReturn:
        raise EngineUnavailableError("temporal: connection refused")

    submit = act = act_and_read = status = keep_refusal = _down


def test_an_outage_is_exit_status_3_in_one_line_and_records_nothing(
    sessions: sessionmaker[Session], settings: Settings, catalogue: Catalogue, tmp_path: Path
) -> None:
    """With nothing listening at APPROVAL_API_URL, and with the API up but its engine out of
    reach (503, Retry-After, code engine_unavailable), a submission and an action end with
    one Chinese line and exit status 3 — not 2, they were not refused — and the store holds
    no case and no event."""
    with sessions.begin() as session:
        tokens = create_users_with_tokens(session, [("clerk-1", "clerk", None)], datetime.now(UTC))
    engine = cast(CaseService, EngineDown(settings, catalogue))
    submit = (
        *("submit", "JS-GHXK-001", "--applicant", "张三", "--id-number", "37160219900101123X"),
        *("--key", "key-00001", "--material", f"SQB={PROJECT_ROOT / 'data/samples/SQB.txt'}"),
    )
    env = {"APPROVAL_DATA_DIR": str(tmp_path), "APPROVAL_TOKEN": tokens["clerk-1"]}
    unreachable = {**env, "APPROVAL_API_URL": f"http://127.0.0.1:{closed_port()}"}
    for args in (submit, ("accept", CASE)):
        line = assert_one_line(invoke_cli(*args, env=unreachable), 3, "不可用 unavailable: ")
        assert "api_unreachable" in line and "未做任何记录" in line
    with serving(create_app(service=engine, sessions=sessions, settings=settings)) as url:
        for args in (submit, ("accept", CASE)):
            result = invoke_cli(*args, env={**env, "APPROVAL_API_URL": url})
            line = assert_one_line(result, 3, "不可用 unavailable: engine_unavailable: ")
            assert "未做任何记录，5 秒后可重试" in line
    with sessions() as session:
        assert not case_known(session, CASE) and events_of(session, CASE) == []


# ---- material files ------------------------------------------------------------------------------


class Receiving:
    """The engine as the routes use it, receiving: it keeps the application and the commands
    it is given and answers with a received case's status."""

    def __init__(self, settings: Settings, catalogue: Catalogue) -> None:
        self.settings, self.catalogue = settings, catalogue
        self.applications: list[Application] = []
        self.commands: list[CaseCommand] = []

    async def submit(self, application: Application, _clerk: Any) -> Submission:
        """Keep the application; a new case."""
        self.applications.append(application)
        return Submission(case_no=CASE, created=True)

    async def status(self, _case_no: str, _as_of: Any = None) -> CaseStatus:
        """A case just received."""
        return status(received_case("JS-GHXK-001"), MONDAY)

    async def act_and_read(
        self, case_no: str, command: CaseCommand, request_id: str | None = None
    ) -> CaseStatus:
        """Keep the command; the received case's status."""
        self.commands.append(command)
        return await self.status(case_no)


@pytest.fixture
def receiving_api(
    sessions: sessionmaker[Session], settings: Settings, catalogue: Catalogue
) -> Iterator[tuple[Receiving, str, dict[str, str]]]:
    """The real API over a receiving engine, served; the engine, a clerk's token and the
    environment of a clerk's command line (its own data directory, the token in
    APPROVAL_TOKEN)."""
    with sessions.begin() as session:
        tokens = create_users_with_tokens(session, [("clerk-1", "clerk", None)], datetime.now(UTC))
    engine = Receiving(settings, catalogue)
    app = create_app(service=cast(CaseService, engine), sessions=sessions, settings=settings)
    with serving(app) as url:
        env = {
            "APPROVAL_API_URL": url,
            "APPROVAL_DATA_DIR": str(settings.data_dir / "client"),
            "APPROVAL_TOKEN": tokens["clerk-1"],
        }
        yield engine, tokens["clerk-1"], env


def test_material_files_are_uploaded_to_the_api_and_only_their_hashes_are_submitted(
    receiving_api: tuple[Receiving, str, dict[str, str]], settings: Settings, tmp_path: Path
) -> None:
    """`submit --material CODE=PATH` and `supplement --material CODE=PATH` upload each file to
    the API (POST /materials, streamed: a 3 MiB drawing too) before the command; the
    application and the supplement carry only ``doc:<sha256>`` and the file's SHA-256; the
    files are in the API's store under their hashes, byte for byte, and nothing is kept on the
    command line's side. The upload acts with the command's token, from --token (which comes
    first) as from APPROVAL_TOKEN."""
    engine, token, env = receiving_api
    drawing = tmp_path / "总平面图.dwg"
    drawing.write_bytes(os.urandom(3 * 1024 * 1024))
    form = tmp_path / "申请表.txt"
    form.write_text("建设工程规划许可申请表", encoding="utf-8")
    rfsj = tmp_path / "RFSJ.txt"
    rfsj.write_text("人防工程设计说明", encoding="utf-8")
    submitted = invoke_cli(
        *("submit", "JS-GHXK-001", "--applicant", "张三", "--id-number", "37160219900101123X"),
        *("--key", "key-00001", "--material", f"SQB={form}", "--material", f"SJFA={drawing}"),
        "--json",
        env=env,
    )
    supplement_args = ("supplement", CASE, "--material", f"RFSJ={rfsj}", "--json")
    supplemented = invoke_cli(
        "--token", token, *supplement_args, env={**env, "APPROVAL_TOKEN": "not-a-token"}
    )
    assert submitted.exited(0) and supplemented.exited(0), (submitted, supplemented)

    [application] = engine.applications
    [supplement] = engine.commands
    assert isinstance(supplement, Supplement)
    sent = {m.code: m for m in (*application.materials, *supplement.materials)}
    files = {"SQB": form, "SJFA": drawing, "RFSJ": rfsj}
    for code, path in files.items():
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        assert (sent[code].document_ref, sent[code].sha256) == (f"doc:{sha}", sha)
        assert (settings.documents_dir / sha[:2] / sha).read_bytes() == path.read_bytes()
    assert not (settings.data_dir / "client").exists()


def test_a_material_file_past_the_apis_limit_is_refused_in_one_line(
    sessions: sessionmaker[Session], settings: Settings, catalogue: Catalogue, tmp_path: Path
) -> None:
    """A file past the API's APPROVAL_MATERIAL_MAX_BYTES is refused in one line naming the
    material in Chinese, exit status 2, and nothing is submitted: far past the limit (its
    length refused before the API reads it) and just past it."""
    limited = settings.model_copy(update={"material_max_bytes": 64 * 1024})
    with sessions.begin() as session:
        tokens = create_users_with_tokens(session, [("clerk-1", "clerk", None)], datetime.now(UTC))
    engine = Receiving(limited, catalogue)
    app = create_app(service=cast(CaseService, engine), sessions=sessions, settings=limited)
    big = tmp_path / "big.pdf"
    with serving(app) as url:
        env = {"APPROVAL_API_URL": url, "APPROVAL_TOKEN": tokens["clerk-1"]}
        for size in (8 * 1024 * 1024, 64 * 1024 + 1):
            big.write_bytes(b"x" * size)
            result = invoke_cli("supplement", CASE, "--material", f"FWSYQ={big}", env=env)
            line = assert_one_line(result, 2, "错误 error: materials.FWSYQ: ")
            assert "材料 FWSYQ 的文件超过 64 KB 上限" in line
    assert engine.commands == []


# ---- what --help and a read load -----------------------------------------------------------------


def test_the_help_names_every_outcome_and_excluded_procedure() -> None:
    """The outcome and the procedure are checked by the domain when a command runs (so that
    --help need not load it); the help still names every value the domain knows."""
    assert all(o.value in OUTCOMES for o in Outcome)
    assert all(p.value in PROCEDURES for p in ExcludedProcedure)


PROBE = """
import sys
from typer.testing import CliRunner
from approval.cli.app import app
for args in {runs!r}:
    result = CliRunner().invoke(app, args)
    print(result.exit_code)
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & {{"temporalio", "sqlalchemy", "fastapi",
    "structlog", "alembic", "workflows", "activities"}})
print(" ".join(heavy) or "-")
print("domain" if any(m.startswith("approval.domain") for m in sys.modules) else "-")
"""


@pytest.mark.parametrize(
    ("runs", "codes", "domain"),
    [
        ([["--help"], ["decide", "--help"]], ["0", "0"], "-"),
        ([["--token", "t", "status", CASE, "--json"]], ["3"], "domain"),
    ],
)
def test_help_and_a_read_load_neither_temporal_nor_the_store(
    runs: list[list[str]], codes: list[str], domain: str
) -> None:
    """`starter.py --help` loads neither Temporal, the store, the API framework, the logging
    set-up nor the domain; a read over HTTP (here with no API listening: exit status 3) loads
    the domain's models to check and show its answer, but still neither Temporal nor the
    store. Run in a fresh interpreter: this one has loaded everything."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPROVAL_")}
    env["APPROVAL_API_URL"] = f"http://127.0.0.1:{closed_port()}"
    probe = run_python(PROBE.format(runs=runs), env)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.splitlines() == [*codes, "-", domain], probe.stdout

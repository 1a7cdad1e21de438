"""Material files over the HTTP API, on the time-skipping Temporal server and a real store
(SQLite and PostgreSQL): the clerk uploads a file (POST /materials), names it in the
submission or supplement by the reference and hash the upload answered, and whoever reads the
case's materials downloads the file the case recorded, its hash checked (R22: the clerk, the
supervisor, the auditor, a reviewer only where its department has a task; a refusal is kept in
the case's record, R21). Too large a file is refused and leaves nothing; a tampered one is
never served."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from approval.api.app import create_app
from approval.config import Settings
from approval.domain.catalogue import Catalogue
from approval.service import CaseService
from approval.store.audit_log import events_of
from tests.api import test_api
from tests.api.test_api import DEPARTMENTS, Api, application
from tests.domain_fixtures import material
from tests.materials.test_store import files_in
from tests.workflows.test_workflow import messages_of, recorded

api = test_api.api  # the API fixture: its users and their tokens

SMALL_LIMIT = 64 * 1024


async def upload(
    api: Api, code: str, content: bytes, name: str = "file.pdf", caller: str = "clerk"
) -> httpx.Response:
    """POST /materials?code=CODE with ``content`` as the multipart file ``name``."""
    return await api.client.post(
        "/materials",
        params={"code": code},
        files={"file": (name, content)},
        headers=api.headers[caller],
    )


async def kept(api: Api, code: str, content: bytes, name: str = "file.pdf") -> dict[str, Any]:
    """The material as a submission names it, from a successful upload of ``content``."""
    response = await upload(api, code, content, name)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    assert answer["sha256"] == hashlib.sha256(content).hexdigest()
    assert answer["size"] == len(content) and answer["document_ref"] == f"doc:{answer['sha256']}"
    return {k: answer[k] for k in ("code", "document_ref", "sha256")}


async def download(api: Api, caller: str, case_no: str, code: str) -> httpx.Response:
    """GET /cases/{case_no}/materials/{code}/file as ``caller``."""
    return await api.call(caller, "GET", f"/cases/{case_no}/materials/{code}/file")


def refused_actions(sessions: sessionmaker[Session], case_no: str) -> list[tuple[str, str]]:
    """The case's refused attempts: actor and action."""
    with sessions() as session:
        rows = [e for e in events_of(session, case_no) if e.type == "ActionRefused"]
    return [(e.actor_id, e.payload["action"]) for e in rows]


async def test_R22_R21_a_file_uploaded_submitted_and_supplemented_is_downloaded_as_kept(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """R22, R21: files uploaded by the clerk go into a submission (SJFA, among others) and a
    supplement (RFSJ and a corrected SJFA) by reference and hash only; once the case is
    accepted, the reviewer of a department with a task, the supervisor, the auditor and the
    clerk download each material's latest file: the same bytes, its SHA-256 in X-Content-SHA256
    and Digest, its Chinese name in Content-Disposition (RFC 5987), as GET .../materials lists
    it. A reviewer of a department without a task is refused (403) and the attempt is kept in
    the case's record; a material the case does not have is 404 with its machine code."""
    first_plan = "第一版总平面图".encode() * 50
    corrected = "更正后的总平面图".encode() * 50
    sent = {code: await kept(api, code, f"{code} 的内容".encode()) for code in ("SQB", "XMPZ")}
    sent["SJFA"] = await kept(api, "SJFA", first_plan, "总平面图.pdf")
    body = application(catalogue, leave_out=("RFSJ",))
    body["materials"] = list(sent.values())
    submitted = await api.call("clerk", "POST", "/cases", body)
    assert submitted.status_code == 201, submitted.text
    case_no = submitted.json()["case_no"]
    notice = {"defective": [{"code": "SJFA", "reason": "总平面图比例不符"}]}
    supplement = {
        "materials": [
            await kept(api, "RFSJ", "人防工程设计说明".encode(), "人防说明.txt"),
            await kept(api, "SJFA", corrected, "总平面图（更正）.pdf"),
        ]
    }
    for step, step_body in (("notice", notice), ("supplement", supplement), ("accept", None)):
        done = await api.call("clerk", "POST", f"/cases/{case_no}/{step}", step_body)
        assert done.status_code == 200, done.text
    assert await messages_of(sessions, case_no, "task", len(DEPARTMENTS))

    listed = (await api.call("reviewer", "GET", f"/cases/{case_no}/materials")).json()
    recorded_sha = {m["code"]: m["sha256"] for m in listed["materials"] if m["submitted"]}
    for caller in ("reviewer", "supervisor", "auditor", "clerk"):
        got = await download(api, caller, case_no, "SJFA")
        assert got.status_code == 200, got.text
        assert got.content == corrected
        sha = hashlib.sha256(corrected).hexdigest()
        assert got.headers["x-content-sha256"] == sha == recorded_sha["SJFA"]
        assert got.headers["digest"] == "sha-256=" + base64.b64encode(bytes.fromhex(sha)).decode()
        assert got.headers["content-type"] == "application/pdf"
        assert (
            "filename*=UTF-8''%E6%80%BB%E5%B9%B3%E9%9D%A2%E5%9B%BE"
            in (got.headers["content-disposition"])
        )
    text = await download(api, "reviewer", case_no, "RFSJ")
    assert text.content == "人防工程设计说明".encode()
    assert text.headers["content-type"] == "text/plain"

    outsider = await download(api, "outsider", case_no, "SJFA")
    assert outsider.status_code == 403 and outsider.json()["detail"]["field"] == "case_no"
    assert await recorded(sessions, case_no, "ActionRefused", 1)
    assert refused_actions(sessions, case_no) == [("outsider", "download_material")]
    absent = await download(api, "clerk", case_no, "YYZZ")
    assert absent.status_code == 404
    assert absent.json()["detail"]["code"] == "material_not_found"


async def test_a_file_altered_in_the_store_is_not_served_and_one_never_kept_is_404(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """A kept file whose bytes were altered in the store is refused (500,
    ``material_integrity_failed``, a Chinese reason) and none of its bytes are sent; a material
    the case recorded by a hash whose file was never uploaded is 404 (``material_not_found``,
    "不在文件库中")."""
    sqb = await kept(api, "SQB", b"original application form")
    body = application(catalogue)
    body["materials"] = [sqb, *(m for m in body["materials"] if m["code"] != "SQB")]
    submitted = await api.call("clerk", "POST", "/cases", body)
    assert submitted.status_code == 201, submitted.text
    case_no = submitted.json()["case_no"]
    assert await recorded(sessions, case_no, "ApplicationReceived", 1)
    stored = settings.documents_dir / sqb["sha256"][:2] / sqb["sha256"]
    stored.write_bytes(b"altered application form")

    altered = await download(api, "clerk", case_no, "SQB")
    assert altered.status_code == 500
    assert altered.json()["detail"]["code"] == "material_integrity_failed"
    assert "校验失败" in altered.json()["detail"]["reason"]
    assert b"altered" not in altered.content

    never = await download(api, "clerk", case_no, "XMPZ")
    assert never.status_code == 404, never.text
    assert never.json()["detail"]["code"] == "material_not_found"
    assert "不在文件库中" in never.json()["detail"]["reason"]
    assert material("XMPZ").sha256[:12] in never.json()["detail"]["reason"]


@pytest.fixture
async def small_limit_api(
    api: Api, engine: CaseService, sessions: sessionmaker[Session], settings: Settings
) -> AsyncIterator[Api]:
    """The app with the users of ``api`` and a limit of SMALL_LIMIT bytes a file."""
    limited = settings.model_copy(update={"material_max_bytes": SMALL_LIMIT})
    app = create_app(service=engine, sessions=sessions, settings=limited)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield Api(client, api.headers)


async def chunked_upload(size: int) -> AsyncIterator[bytes]:
    """A multipart body with a file of ``size`` bytes, sent in chunks without a length."""
    yield b'--edge\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
    for _ in range(size // 1024):
        yield b"x" * 1024
    yield b"\r\n--edge--\r\n"


async def test_a_file_past_the_limit_is_refused_naming_it_and_leaves_nothing(
    small_limit_api: Api, settings: Settings
) -> None:
    """Past APPROVAL_MATERIAL_MAX_BYTES the upload is refused with 413, the material named
    in Chinese (``material_too_large``): one byte over (found while kept), far over (its
    Content-Length says so before a byte is read) and far over without a length (counted as
    it streams); the documents folder holds no file afterwards. A file of exactly the limit is
    kept."""
    api = small_limit_api
    over = [
        await upload(api, "FWSYQ", b"x" * (SMALL_LIMIT + 1)),
        await upload(api, "FWSYQ", b"x" * (4 * SMALL_LIMIT)),
        await api.client.post(
            "/materials",
            params={"code": "FWSYQ"},
            content=chunked_upload(4 * SMALL_LIMIT),
            headers={**api.headers["clerk"], "Content-Type": "multipart/form-data; boundary=edge"},
        ),
    ]
    for response in over:
        assert response.status_code == 413, response.text
        assert response.json()["detail"] == {
            "field": "materials.FWSYQ",
            "reason": "材料 FWSYQ 的文件超过 64 KB 上限",
            "code": "material_too_large",
        }
    assert not settings.documents_dir.exists() or files_in(settings.documents_dir) == []

    exact = await upload(api, "FWSYQ", b"x" * SMALL_LIMIT)
    assert exact.status_code == 201 and exact.json()["size"] == SMALL_LIMIT


async def test_R22_only_the_clerk_uploads_and_only_a_file(api: Api) -> None:
    """R22: a reviewer's or supervisor's upload is refused (403) and keeps nothing; without a
    token, 401. The clerk's request without a file is 422 naming ``file``
    (``material_upload_invalid``); without a material code, 422 naming ``code``."""
    for caller, status in (("reviewer", 403), ("supervisor", 403), ("none", 401)):
        response = await upload(api, "SQB", b"content", caller=caller)
        assert response.status_code == status, response.text
    no_file = await api.client.post(
        "/materials", params={"code": "SQB"}, data={"note": "x"}, headers=api.headers["clerk"]
    )
    assert no_file.status_code == 422
    assert no_file.json()["detail"]["field"] == "file"
    assert no_file.json()["detail"]["code"] == "material_upload_invalid"
    no_code = await api.client.post(
        "/materials", files={"file": ("a.pdf", b"x")}, headers=api.headers["clerk"]
    )
    assert no_code.status_code == 422 and no_code.json()["detail"]["field"] == "code"

"""The material files over HTTP, for the API and the console alike: keep an uploaded file
(``keep_upload``), read a multipart upload off a request as it arrives (``receive_upload``),
open the file a case recorded for a material (``open_case_material``) and answer it
(``file_response``). The blocking file work runs in the thread pool, never on the event loop.

An upload is refused as early as can be: when its Content-Length already says it is too large
(before a byte is read), as soon as more than the limit has arrived, and while it is kept
(the exact limit). Starlette spools the file part to a temporary file (1 MiB in memory at most,
the rest on disk, removed when the form closes); the store then copies it in 1 MiB chunks.

A download is checked before the first byte goes out (so a bad file is a refusal with its
status, not a broken answer) and again while it streams, from the same open file (so bytes
changed in between cut the answer short instead of completing it)."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import StreamingResponse

from approval.materials.store import (
    MaterialFile,
    MaterialNotFoundError,
    MaterialUploadError,
    StoredMaterial,
    material_store,
    too_large,
)
from approval.store.queries import case_materials

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from approval.config import Settings

ENVELOPE_BYTES = 64 * 1024
"""What a multipart upload may carry besides the file: boundaries, part headers, small fields."""
UPLOAD_FIELD = "file"
NOT_ASCII_SAFE = re.compile(r'[^\x20-\x7e]|["\\%;]')


async def keep_upload(upload: UploadFile, code: str, settings: Settings) -> StoredMaterial:
    """Keep an uploaded file (a starlette UploadFile, from the start) as a material of
    ``code``, read in chunks: its SHA-256, size, reference, name and media type.
    MaterialTooLargeError (an InvalidInputError naming ``materials.<code>``) past
    ``settings.material_max_bytes``, nothing kept."""
    await upload.seek(0)
    store = material_store(settings)
    return await run_in_threadpool(
        store.keep, upload.file, code, upload.filename, upload.content_type
    )


async def receive_upload(request: Request, code: str, settings: Settings) -> StoredMaterial:
    """The file of the multipart field ``file`` of ``request``, kept as a material of
    ``code``; refused as too large from its Content-Length, or once more than the limit
    arrived; MaterialUploadError naming ``file`` when the body is not such an upload."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise MaterialUploadError(UPLOAD_FIELD, "需要以 multipart/form-data 上传文件（字段 file）")
    limit = settings.material_max_bytes + ENVELOPE_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(code, settings.material_max_bytes)
    stream = _limited(request.stream(), limit, code, settings.material_max_bytes)
    parser = MultiPartParser(request.headers, stream, max_files=1, max_fields=10)
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise MaterialUploadError(UPLOAD_FIELD, f"上传内容无法解析：{error.message}") from None
    try:
        upload = form.get(UPLOAD_FIELD)
        if not isinstance(upload, UploadFile):
            raise MaterialUploadError(UPLOAD_FIELD, "没有上传文件：需要 multipart 字段 file")
        return await keep_upload(upload, code, settings)
    finally:
        await form.close()


async def _limited(
    stream: AsyncIterator[bytes], limit: int, code: str, max_bytes: int
) -> AsyncGenerator[bytes, None]:
    """``stream`` as it comes, refused (MaterialTooLargeError) once past ``limit`` bytes."""
    received = 0
    async for chunk in stream:
        received += len(chunk)
        if received > limit:
            raise too_large(code, max_bytes)
        yield chunk


async def open_material(settings: Settings, sha256: str, code: str) -> MaterialFile:
    """The kept file of ``sha256`` as a material of ``code``, its hash checked;
    MaterialNotFoundError when it is not kept, MaterialIntegrityError (logged) when its bytes
    do not match."""
    store = material_store(settings)
    return await run_in_threadpool(store.open, sha256, code)


async def open_case_material(
    session: Session, case_no: str, code: str, settings: Settings
) -> MaterialFile:
    """The file the case recorded for material ``code``: the document of its latest
    submission or supplement, opened and checked as ``open_material`` does;
    MaterialNotFoundError when the case has no such material."""
    recorded = {m.code: m for m in case_materials(session, case_no).materials}.get(code)
    if recorded is None or recorded.sha256 is None:
        raise MaterialNotFoundError(f"materials.{code}", f"办件 {case_no} 没有材料 {code}")
    return await open_material(settings, recorded.sha256, code)


def file_response(opened: MaterialFile) -> StreamingResponse:
    """The opened file as an answer, streamed in chunks (checked again as it goes): its
    media type, its size, its original name as an attachment (RFC 6266, RFC 5987 for a
    Chinese name) and its SHA-256 (``X-Content-SHA256`` in hex, ``Digest`` in base64)."""
    stored = opened.stored
    headers = {
        "Content-Type": stored.media_type,
        "Content-Length": str(stored.size),
        "Content-Disposition": content_disposition(stored.name),
        "X-Content-SHA256": stored.sha256,
        "Digest": f"sha-256={base64.b64encode(bytes.fromhex(stored.sha256)).decode()}",
    }
    return StreamingResponse(opened.chunks(), headers=headers)


def content_disposition(name: str) -> str:
    """``attachment`` with the name twice: ASCII for old clients, UTF-8 per RFC 5987."""
    fallback = NOT_ASCII_SAFE.sub("_", name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"

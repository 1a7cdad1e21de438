"""The file store of the materials: each file kept once, under its SHA-256, in the data
directory (``settings.documents_dir``). Only the reference and the hash enter a case (and so
a Temporal payload); the bytes stay here.

Writing streams the source in chunks into a hidden temporary file in the store's folder while
hashing it, refuses a file past ``settings.material_max_bytes`` (the partial file deleted), then
renames it into place with ``os.replace``: nothing half-written ever has a content-hash name.
Reading checks the hash before the first byte is served and again while streaming; bytes that
do not match are refused (MaterialIntegrityError, logged), never served.

Layout: ``documents_dir/<sha[:2]>/<sha>`` and beside it ``<sha>.json`` (the original name, the
media type and the size as first kept). Files the command line kept flat as
``documents_dir/<sha>`` before are still found.

An object store is not built: MaterialStore is the seam, ``material_store`` the one place that
chooses an implementation (a setting would name another)."""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, ClassVar, Protocol

import structlog

from approval.domain.errors import DomainError, InvalidInputError
from approval.domain.models import SubmittedMaterial

if TYPE_CHECKING:
    from approval.config import Settings

log = structlog.get_logger(__name__)

CHUNK_BYTES = 1024 * 1024
"""How much of a file is read, hashed and written at a time."""
OCTET_STREAM = "application/octet-stream"
MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
NAME_MAX_CHARS = 200
INCOMING_PREFIX = ".incoming-"


class MaterialError(DomainError):
    """A material's file cannot be kept or served: the field, a Chinese reason, a stable
    machine ``code`` and the HTTP status it is answered with."""

    code: ClassVar[str] = "material_error"
    status: ClassVar[int] = 422


class MaterialTooLargeError(MaterialError, InvalidInputError):
    """The file is larger than ``material_max_bytes``; nothing of it was kept."""

    code = "material_too_large"
    status = 413


class MaterialUploadError(MaterialError, InvalidInputError):
    """The request is not an upload of one file."""

    code = "material_upload_invalid"


class MaterialNotFoundError(MaterialError):
    """The case has no such material, or its file is not in the store."""

    code = "material_not_found"
    status = 404


class MaterialIntegrityError(MaterialError):
    """The stored bytes do not hash to the SHA-256 the case recorded: refused, not served."""

    code = "material_integrity_failed"
    status = 500


@dataclass(frozen=True)
class StoredMaterial:
    """A file in the store, as a material of ``code``: what a submission or supplement
    carries (``document_ref`` and ``sha256``), with its size, original name and media type."""

    code: str
    sha256: str
    size: int
    name: str
    media_type: str

    @property
    def document_ref(self) -> str:
        """The reference a case records: ``doc:<sha256>``, the file's key in the store."""
        return f"doc:{self.sha256}"

    def submitted(self) -> SubmittedMaterial:
        """The material as a submission or supplement names it (reference and hash only)."""
        return SubmittedMaterial(code=self.code, document_ref=self.document_ref, sha256=self.sha256)


class MaterialFile:
    """A stored file opened for reading, its hash already checked once: ``chunks()`` streams
    it, checking the hash again as it goes. Close it (or use ``with``) when done."""

    def __init__(self, handle: IO[bytes], stored: StoredMaterial, path: Path) -> None:
        self._handle = handle
        self.stored = stored
        self._path = path

    def chunks(self) -> Iterator[bytes]:
        """The file from its start, in chunks; MaterialIntegrityError at the end if the bytes
        changed since they were checked (the answer is then cut short, never completed)."""
        try:
            self._handle.seek(0)
            digest, size = hashlib.sha256(), 0
            while chunk := self._handle.read(CHUNK_BYTES):
                digest.update(chunk)
                size += len(chunk)
                yield chunk
            _check(self.stored, self._path, digest.hexdigest(), size)
        finally:
            self.close()

    def close(self) -> None:
        """Close the file."""
        self._handle.close()

    def __enter__(self) -> MaterialFile:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class MaterialStore(Protocol):
    """Where material files are kept by content hash: the folder of FileMaterialStore, or
    (not built) an object store."""

    def keep(
        self, source: IO[bytes], code: str, name: str | None, media_type: str | None
    ) -> StoredMaterial:
        """Read ``source`` to its end in chunks and keep it; MaterialTooLargeError past the
        limit, nothing kept."""
        ...

    def open(self, sha256: str, code: str) -> MaterialFile:
        """The file of ``sha256``, its hash checked; MaterialNotFoundError when it is not
        kept, MaterialIntegrityError when its bytes do not match."""
        ...


class FileMaterialStore:
    """Material files in a folder of this machine (or a shared volume), by SHA-256."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def keep(
        self, source: IO[bytes], code: str, name: str | None, media_type: str | None
    ) -> StoredMaterial:
        """Stream ``source`` into a hidden temporary file here while hashing it; past
        ``max_bytes`` delete it and refuse (MaterialTooLargeError naming ``code``); else
        rename it to its hash (atomically) and note its name and media type."""
        self.root.mkdir(parents=True, exist_ok=True)
        descriptor, incoming = tempfile.mkstemp(dir=self.root, prefix=INCOMING_PREFIX)
        try:
            with os.fdopen(descriptor, "wb") as target:
                sha256, size = self._copy(source, target, code)
                target.flush()
                os.fsync(target.fileno())
            path = self._path(sha256)
            path.parent.mkdir(exist_ok=True)
            os.replace(incoming, path)
        except BaseException:
            Path(incoming).unlink(missing_ok=True)
            raise
        stored = StoredMaterial(code, sha256, size, *described(code, sha256, name, media_type))
        self._note(stored)
        log.info("materials.kept", code=code, sha256=sha256, size=size)
        return stored

    def _copy(self, source: IO[bytes], target: IO[bytes], code: str) -> tuple[str, int]:
        """Copy ``source`` into ``target`` chunk by chunk: its SHA-256 and size."""
        digest, size = hashlib.sha256(), 0
        while chunk := source.read(CHUNK_BYTES):
            size += len(chunk)
            if size > self.max_bytes:
                raise too_large(code, self.max_bytes)
            digest.update(chunk)
            target.write(chunk)
        return digest.hexdigest(), size

    def open(self, sha256: str, code: str) -> MaterialFile:
        """The file of ``sha256`` (fanned out, or flat as the command line kept it), read once
        to check its hash before anything is served."""
        path = self.find(sha256)
        if path is None:
            raise MaterialNotFoundError(
                f"materials.{code}", f"材料 {code} 的文件（SHA-256 {sha256[:12]}…）不在文件库中"
            )
        handle = path.open("rb")
        try:
            actual, size = _digest(handle)
            stored = self._stored(sha256, code, size)
            _check(stored, path, actual, size)
        except BaseException:
            handle.close()
            raise
        return MaterialFile(handle, stored, path)

    def find(self, sha256: str) -> Path | None:
        """Where the file of ``sha256`` is, or None when it is not kept."""
        if not SHA256.fullmatch(sha256):
            return None
        for path in (self._path(sha256), self.root / sha256):
            if path.is_file():
                return path
        return None

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def _note(self, stored: StoredMaterial) -> None:
        """Write the file's record (name, media type, size) once, atomically: the first name
        a content was kept under stays."""
        record = self._path(stored.sha256).with_suffix(".json")
        if record.exists():
            return
        text = json.dumps(
            {"name": stored.name, "media_type": stored.media_type, "size": stored.size},
            ensure_ascii=False,
        )
        descriptor, incoming = tempfile.mkstemp(dir=record.parent, prefix=INCOMING_PREFIX)
        with os.fdopen(descriptor, "w", encoding="utf-8") as target:
            target.write(text)
        os.replace(incoming, record)

    def _stored(self, sha256: str, code: str, size: int) -> StoredMaterial:
        """The kept file as a material of ``code``: its record's name and media type, or
        names made up from the code for a file kept without one."""
        record = self._path(sha256).with_suffix(".json")
        try:
            noted = json.loads(record.read_text(encoding="utf-8"))
            name, media_type = str(noted["name"]), str(noted["media_type"])
        except (OSError, ValueError, KeyError, TypeError):
            name, media_type = None, None
        return StoredMaterial(code, sha256, size, *described(code, sha256, name, media_type))


def material_store(settings: Settings) -> MaterialStore:
    """The store the settings name: the folder ``documents_dir``, with their size limit."""
    return FileMaterialStore(settings.documents_dir, settings.material_max_bytes)


def _digest(handle: IO[bytes]) -> tuple[str, int]:
    """The SHA-256 and size of what ``handle`` reads to its end, chunk by chunk."""
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(CHUNK_BYTES):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _check(stored: StoredMaterial, path: Path, actual: str, size: int) -> None:
    """Nothing when the bytes read hash to the stored SHA-256; else log and refuse."""
    if actual == stored.sha256:
        return
    log.error(
        "materials.integrity_failed",
        code=stored.code,
        expected=stored.sha256,
        actual=actual,
        size=size,
        path=str(path),
    )
    raise MaterialIntegrityError(
        f"materials.{stored.code}",
        f"材料 {stored.code} 的文件校验失败：存储的内容与登记的 SHA-256 不符，"
        "已拒绝提供，请联系管理员核查文件库",
    )


def too_large(code: str, max_bytes: int) -> MaterialTooLargeError:
    """The refusal of a file of ``code`` past ``max_bytes``."""
    return MaterialTooLargeError(
        f"materials.{code}", f"材料 {code} 的文件超过 {size_text(max_bytes)} 上限"
    )


def size_text(size: int) -> str:
    """A size as a person reads it: ``100 MB``, ``512 KB``, ``10 字节``."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.4g} {unit}"
    return f"{size} 字节"


def described(code: str, sha256: str, name: str | None, media_type: str | None) -> tuple[str, str]:
    """The name and media type a file is kept and served under: the given ones made safe,
    else the media type guessed from the name and a name made of the code and the hash."""
    clean = clean_name(name or "")
    kind = media_type.strip().lower() if media_type else ""
    if kind == OCTET_STREAM or not MEDIA_TYPE.fullmatch(kind):
        kind = (mimetypes.guess_type(clean)[0] if clean else None) or OCTET_STREAM
    if not clean:
        extension = "" if kind == OCTET_STREAM else mimetypes.guess_extension(kind) or ""
        clean = f"{code}-{sha256[:12]}{extension}"
    return clean, kind


def clean_name(name: str) -> str:
    """A file name as given, without any folder, control or format characters, quotes or
    backslashes, at most NAME_MAX_CHARS long; empty when nothing is left."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(c for c in base if unicodedata.category(c)[0] != "C" and c not in '"').strip()
    return "" if kept in ("", ".", "..") else kept[-NAME_MAX_CHARS:]

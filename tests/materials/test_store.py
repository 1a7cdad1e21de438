"""The materials' file store (approval.materials.store) on a real folder: a file is kept once
under its SHA-256 and read back only when its bytes still hash to it; a file past the size
limit is refused and leaves nothing; a 50 MB drawing is written and read with memory bounded
far below its size; files the command line kept flat before are still found."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from approval.config import Settings
from approval.materials.serving import content_disposition
from approval.materials.store import (
    CHUNK_BYTES,
    FileMaterialStore,
    MaterialIntegrityError,
    MaterialNotFoundError,
    MaterialTooLargeError,
    clean_name,
    material_store,
    size_text,
)

MIB = 1024 * 1024
DRAWING_BYTES = 50 * MIB


def files_in(folder: Path) -> list[Path]:
    """Every file under ``folder``, hidden ones too."""
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_a_file_is_kept_once_under_its_hash_and_read_back_the_same(tmp_path: Path) -> None:
    """A kept file answers its SHA-256, size, reference ``doc:<sha256>``, original name and
    media type; it lies under ``<sha[:2]>/<sha>`` with its record, nothing else (no temporary
    file) is left; keeping the same bytes again under another name changes neither; reading
    gives the same bytes and the first name."""
    store = FileMaterialStore(tmp_path / "documents", max_bytes=MIB)
    content = "总平面图 1:500\n".encode() * 100
    sha = hashlib.sha256(content).hexdigest()

    kept = store.keep(io.BytesIO(content), "SJFA", "图纸/总平面图.pdf", "application/pdf")
    again = store.keep(io.BytesIO(content), "SJFA", "copy.pdf", None)

    assert (kept.sha256, kept.size, kept.document_ref) == (sha, len(content), f"doc:{sha}")
    assert (kept.name, kept.media_type) == ("总平面图.pdf", "application/pdf")
    assert again.sha256 == sha
    root = tmp_path / "documents"
    assert files_in(root) == [root / sha[:2] / sha, root / sha[:2] / f"{sha}.json"]
    with store.open(sha, "SJFA") as opened:
        assert b"".join(opened.chunks()) == content
        assert (opened.stored.name, opened.stored.size) == ("总平面图.pdf", len(content))
    assert kept.submitted().model_dump() == {
        "code": "SJFA",
        "document_ref": f"doc:{sha}",
        "sha256": sha,
    }


def test_a_file_the_command_line_kept_flat_is_still_found(settings: Settings) -> None:
    """A file kept before as ``documents_dir/<sha>`` (no record) is found and served, under a
    name made of its code and hash, its media type unknown."""
    content = b"legacy material"
    sha = hashlib.sha256(content).hexdigest()
    settings.documents_dir.mkdir(parents=True)
    (settings.documents_dir / sha).write_bytes(content)

    with material_store(settings).open(sha, "SQB") as opened:
        assert b"".join(opened.chunks()) == content
        assert opened.stored.name == f"SQB-{sha[:12]}"
        assert opened.stored.media_type == "application/octet-stream"


def test_a_file_past_the_limit_is_refused_naming_the_material_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    """A file one byte past ``max_bytes`` is refused with an invalid-input error naming the
    material in Chinese (413, ``material_too_large``), and the folder holds no file, not even a
    partial one; a file of exactly ``max_bytes`` is kept."""
    root = tmp_path / "documents"
    store = FileMaterialStore(root, max_bytes=3 * CHUNK_BYTES // 2)
    with pytest.raises(MaterialTooLargeError) as refused:
        store.keep(io.BytesIO(b"x" * (store.max_bytes + 1)), "FWSYQ", "房屋所有权证.pdf", None)
    assert refused.value.field == "materials.FWSYQ"
    assert refused.value.reason == "材料 FWSYQ 的文件超过 1.5 MB 上限"
    assert (refused.value.status, refused.value.code) == (413, "material_too_large")
    assert files_in(root) == []

    kept = store.keep(io.BytesIO(b"x" * store.max_bytes), "FWSYQ", None, None)
    assert kept.size == store.max_bytes
    assert size_text(100 * MIB) == "100 MB"


def test_a_tampered_file_is_refused_on_read_and_logged(tmp_path: Path) -> None:
    """A kept file whose bytes were changed afterwards is refused when opened, with a Chinese
    reason and the machine code ``material_integrity_failed``, and the mismatch is logged as
    an error naming both hashes; nothing of it is served."""
    store = FileMaterialStore(tmp_path / "documents", max_bytes=MIB)
    kept = store.keep(io.BytesIO(b"the approved drawing"), "SJFA", "a.pdf", None)
    path = store.find(kept.sha256)
    assert path is not None
    path.write_bytes(b"the altered drawing!")

    with capture_logs() as logs, pytest.raises(MaterialIntegrityError) as refused:
        store.open(kept.sha256, "SJFA")
    assert refused.value.code == "material_integrity_failed"
    assert "校验失败" in refused.value.reason and refused.value.field == "materials.SJFA"
    [logged] = [e for e in logs if e["event"] == "materials.integrity_failed"]
    assert logged["log_level"] == "error" and logged["expected"] == kept.sha256
    assert logged["actual"] == hashlib.sha256(b"the altered drawing!").hexdigest()


def test_a_file_changed_after_its_check_cuts_the_stream_short(tmp_path: Path) -> None:
    """Bytes changed between the check on opening and the streaming are caught while
    streaming: the stream ends with MaterialIntegrityError instead of completing."""
    store = FileMaterialStore(tmp_path / "documents", max_bytes=4 * MIB)
    content = os.urandom(2 * CHUNK_BYTES)
    kept = store.keep(io.BytesIO(content), "SJFA", None, None)
    opened = store.open(kept.sha256, "SJFA")
    path = store.find(kept.sha256)
    assert path is not None
    with path.open("r+b") as changed:
        changed.seek(CHUNK_BYTES)
        changed.write(b"\0" * 16)
    with pytest.raises(MaterialIntegrityError):
        b"".join(opened.chunks())


def test_a_file_not_kept_is_not_found(tmp_path: Path) -> None:
    """A hash with no file, and a value that is no SHA-256, are MaterialNotFoundError (404,
    ``material_not_found``), naming the material."""
    store = FileMaterialStore(tmp_path / "documents", max_bytes=MIB)
    for sha in ("0" * 64, "../../etc/passwd"):
        with pytest.raises(MaterialNotFoundError) as missing:
            store.open(sha, "SQB")
        assert (missing.value.status, missing.value.code) == (404, "material_not_found")
        assert missing.value.field == "materials.SQB" and "不在文件库中" in missing.value.reason


def test_a_50_mb_drawing_is_written_and_read_with_bounded_memory(tmp_path: Path) -> None:
    """A 50 MB file is kept from a file on disk and read back (hash checked on opening and
    while streaming) with the peak of Python's allocations under 8 MiB: the store never holds
    the file whole. The bytes read back hash to what was kept."""
    source = tmp_path / "drawing.dwg"
    with source.open("wb") as out:
        for _ in range(DRAWING_BYTES // MIB):
            out.write(os.urandom(MIB))
    store = FileMaterialStore(tmp_path / "documents", max_bytes=100 * MIB)

    tracemalloc.start()
    try:
        with source.open("rb") as upload:
            kept = store.keep(upload, "SJFA", source.name, None)
        digest = hashlib.sha256()
        with store.open(kept.sha256, "SJFA") as opened:
            for chunk in opened.chunks():
                digest.update(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert kept.size == DRAWING_BYTES and digest.hexdigest() == kept.sha256
    assert peak < 8 * MIB, f"peak {peak} bytes for a {DRAWING_BYTES}-byte file"


def test_names_are_made_safe_and_sent_in_both_forms() -> None:
    """An uploaded name loses its folders, quotes and control characters; the download's
    Content-Disposition carries an ASCII fallback and the UTF-8 name (RFC 5987)."""
    assert clean_name('C:\\用户\\..\\总平面"图\x07.pdf') == "总平面图.pdf"
    assert clean_name("../..") == ""
    assert content_disposition("总平面图.pdf") == (
        'attachment; filename="____.pdf"; '
        "filename*=UTF-8''%E6%80%BB%E5%B9%B3%E9%9D%A2%E5%9B%BE.pdf"
    )

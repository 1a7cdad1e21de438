"""What the command line reads from its arguments before anything is sent: material files,
``CODE=REASON`` items, amounts and case numbers. A malformed one is an InvalidInputError
naming the option, in Chinese; the API checks the rest.

A material's file (``CODE=PATH``) is uploaded to the API's file store as the command's user,
streamed from disk (``POST /materials``); the case carries only the reference and the SHA-256
the store answered, checked against the file's own. Nothing is kept on this machine."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from approval.domain.errors import InvalidInputError
from approval.domain.models import CASE_NUMBER_PATTERN, NoticeItem, SubmittedMaterial

if TYPE_CHECKING:
    from collections.abc import Callable

    from approval.cli.api_client import ApiClient

MATERIAL_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
"""A material's code as the catalogue writes it (approval.domain.catalogue.Code)."""
CHUNK_BYTES = 1024 * 1024


def case_number(case_no: str) -> str:
    """``case_no`` when it is a case number; refused before anything is sent otherwise."""
    if not re.fullmatch(CASE_NUMBER_PATTERN, case_no):
        raise InvalidInputError(
            "case_no", f"{case_no!r} 不是办件编号（形如 371600-20261128-000001）"
        )
    return case_no


def material_file(spec: str) -> tuple[str, Path]:
    """``CODE=PATH``: the material's code and its file, which must exist."""
    code, sep, path_text = spec.partition("=")
    if not sep or not code:
        raise InvalidInputError("material", f"{spec!r} 不是“材料编码=文件路径”（CODE=PATH）的形式")
    if not MATERIAL_CODE.fullmatch(code):
        raise InvalidInputError(
            "material", f"{code!r} 不是材料编码（字母、数字、_ . -，至多 40 个）"
        )
    path = Path(path_text)
    if not path.is_file():
        raise InvalidInputError("material", f"材料 {code} 的文件 {path_text!r} 不存在")
    return code, path


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def store_material(spec: str, client: Callable[[], ApiClient]) -> SubmittedMaterial:
    """``CODE=PATH``: the file uploaded to the API's file store by ``client()`` (the running
    command's user, asked for only once the spec is good), and the material as the case names
    it (its reference and SHA-256); refused when the store's hash is not the file's."""
    code, path = material_file(spec)
    expected = file_sha256(path)
    kept = client().upload_material(code, path)
    if kept.get("sha256") != expected:
        raise InvalidInputError(
            "material", f"材料 {code} 上传后文件库的 SHA-256 与本地文件不符，未提交，请重试"
        )
    return SubmittedMaterial(code=code, document_ref=kept["document_ref"], sha256=expected)


def parse_items(specs: list[str], option: str) -> tuple[NoticeItem, ...]:
    """``CODE=REASON`` pairs."""
    items = []
    for spec in specs:
        code, sep, reason = spec.partition("=")
        if not sep:
            raise InvalidInputError(option, f"{spec!r} 不是“编码=理由”（CODE=REASON）的形式")
        items.append(NoticeItem(code=code, reason=reason))
    return tuple(items)


def parse_amount(amount: str) -> Decimal:
    """An amount in yuan, e.g. ``80.00``."""
    try:
        return Decimal(amount)
    except InvalidOperation:
        raise InvalidInputError("amount", f"{amount!r} 不是以元计的金额（如 80.00）") from None

"""What the command line reads from its arguments before anything is sent: material files,
``CODE=REASON`` items, amounts and case numbers. A malformed one is an InvalidInputError
naming the option; the API checks the rest."""

from __future__ import annotations

import hashlib
import re
import shutil
from decimal import Decimal, InvalidOperation
from pathlib import Path

from approval.config import Settings
from approval.domain.errors import InvalidInputError
from approval.domain.models import CASE_NUMBER_PATTERN, NoticeItem, SubmittedMaterial


def case_number(case_no: str) -> str:
    """``case_no`` when it is a case number; refused before anything is sent otherwise."""
    if not re.fullmatch(CASE_NUMBER_PATTERN, case_no):
        raise InvalidInputError(
            "case_no", f"{case_no!r} is not a case number like 371600-20261128-000001"
        )
    return case_no


def store_material(spec: str, settings: Settings) -> SubmittedMaterial:
    """``CODE=PATH``: keep the file by content hash; only the reference enters the case."""
    code, sep, path_text = spec.partition("=")
    path = Path(path_text)
    if not sep or not code:
        raise InvalidInputError("material", f"{spec!r} is not CODE=PATH")
    if not path.is_file():
        raise InvalidInputError("material", f"{code}: file {path_text!r} not found")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    settings.documents_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, settings.documents_dir / digest)
    return SubmittedMaterial(code=code, document_ref=f"doc:{digest}", sha256=digest)


def parse_items(specs: list[str], option: str) -> tuple[NoticeItem, ...]:
    """``CODE=REASON`` pairs."""
    items = []
    for spec in specs:
        code, sep, reason = spec.partition("=")
        if not sep:
            raise InvalidInputError(option, f"{spec!r} is not CODE=REASON")
        items.append(NoticeItem(code=code, reason=reason))
    return tuple(items)


def parse_amount(amount: str) -> Decimal:
    """An amount in yuan, e.g. ``80.00``."""
    try:
        return Decimal(amount)
    except InvalidOperation:
        raise InvalidInputError("amount", f"{amount!r} is not an amount in yuan") from None

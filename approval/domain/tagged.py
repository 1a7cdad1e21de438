"""Members of a union told apart by a tag with a default: a command's ``kind``, an event's
``type``.

The engine writes only the fields a model was given (approval.contracts.DATA_CONVERTER); a tag
left to its default would not be written, and the union could not tell its members apart when
reading. So the tag always counts as given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, model_validator


class Tagged(BaseModel):
    """A model whose ``TAG`` field names which member of its union it is."""

    TAG: ClassVar[str]

    @model_validator(mode="before")
    @classmethod
    def _tag_is_given(cls, value: Any) -> Any:
        field = cls.model_fields.get(cls.TAG)
        if field is None or not isinstance(value, Mapping) or cls.TAG in value:
            return value
        return {**value, cls.TAG: field.default}

"""Bad input told as one ``field: reason``: the first problem of a validation error, as every
face of the engine refuses it — the API (422, ``{"detail": {"field", "reason", "code"}}``), the
console (the page's one line) and the command line (``错误 error: field: reason``, exit status
2). ``field`` is the field's machine path (``applicant.id_number``), stable for programs; the
reason is Chinese and names the field by its Chinese label (approval.domain.field_labels):
``证件号码格式不正确：应为15至18位数字或大写字母……``. Pydantic's English message never reaches
a person.

A model's own check names its field at the start of its message ("items: ..."); that field is
the one at fault (approval.domain.errors.field_and_reason). Light on purpose: nothing here
imports pydantic or FastAPI, so the command line's ``--help`` stays quick."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from approval.domain.errors import field_and_reason
from approval.domain.field_labels import FORMAT_HINTS, field_label, label_path

REQUEST_PARTS = ("body", "path", "query", "header")
"""Where in a request FastAPI locates a problem; not part of the field's name."""
INVALID_INPUT = "invalid_input"
"""The machine code of every refusal of malformed input."""


class Invalid(Protocol):
    """A validation error: pydantic's ValidationError, FastAPI's RequestValidationError."""

    def errors(self) -> Sequence[Any]:
        """Its problems, each with ``loc`` and ``msg``."""
        ...


def first_problem(
    error: Invalid, *, unnamed: str = "request", of_request: bool = False
) -> tuple[str, str]:
    """The first problem of ``error`` as ``(field, reason)``, the reason in Chinese; ``unnamed``
    when it names no field. ``of_request``: the error is a request's, whose locations start
    with the part of the request: ``applicant.id_number``, not ``body.applicant.id_number``;
    the part alone when the problem is the part as a whole (a body that is not JSON, a list
    item)."""
    problems = list(error.errors())
    if not problems:
        return unnamed, "输入不正确"
    first = problems[0]
    loc = [str(part) for part in first.get("loc", ())]
    if of_request and loc and loc[0] in REQUEST_PARTS:
        loc = loc[:1] if all(part.isdigit() for part in loc[1:]) else loc[1:]
    field = ".".join(loc) or unnamed
    message = str(first.get("msg", ""))
    if first.get("type") == "value_error":
        named, reason = field_and_reason(field, message)
        if reason != message:  # a model's own check, which says it in Chinese
            return named, reason
    return field, chinese_reason(field, first)


def problem_line(error: Invalid, *, unnamed: str = "request") -> str:
    """The first problem of ``error`` as one line, ``field: reason``."""
    field, reason = first_problem(error, unnamed=unnamed)
    return f"{field}: {reason}"


def _named(field: str) -> str:
    """How a reason opens: the field's Chinese label with its list position (第2项), or 该项
    for a field the engine does not know."""
    label = field_label(field)
    positions = [int(part) + 1 for part in field.split(".") if part.isdigit()]
    where = f"第{positions[0]}项" if positions else ""
    if label is None:
        return f"{where}该项" if where else "该项"
    return f"{label}{where and f'（{where}）'}"


def _expected(ctx: Mapping[str, Any]) -> str:
    """The values an enumeration allows, as pydantic lists them ('a', 'b' or 'c'): a、b、c."""
    found = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
    return "、".join(found)


def _choice(name: str, ctx: Mapping[str, Any]) -> str:
    expected = _expected(ctx)
    return f"{name}的取值不正确" + (f"，可选：{expected}" if expected else "")


def _pattern(field: str, name: str, ctx: Mapping[str, Any]) -> str:
    hint = FORMAT_HINTS.get(label_path(field))
    return f"{name}格式不正确" + (f"：{hint}" if hint else "")


def _too_short(name: str, ctx: Mapping[str, Any]) -> str:
    least = ctx.get("min_length", 1)
    return f"{name}不能为空" if least == 1 else f"{name}至少应有{least}个字符"


def _too_few(name: str, ctx: Mapping[str, Any]) -> str:
    least = ctx.get("min_length", 1)
    return f"{name}不能为空" if least == 1 else f"{name}至少应有{least}项"


ReasonOf = Callable[[str, str, Mapping[str, Any]], str]
REASONS: dict[str, ReasonOf] = {
    "missing": lambda f, n, c: f"{n}必须填写",
    "string_too_short": lambda f, n, c: _too_short(n, c),
    "string_too_long": lambda f, n, c: f"{n}不能超过{c.get('max_length')}个字符",
    "too_short": lambda f, n, c: _too_few(n, c),
    "too_long": lambda f, n, c: f"{n}不能超过{c.get('max_length')}项",
    "string_pattern_mismatch": _pattern,
    "string_type": lambda f, n, c: f"{n}应为文字",
    "enum": lambda f, n, c: _choice(n, c),
    "literal_error": lambda f, n, c: _choice(n, c),
    "int_parsing": lambda f, n, c: f"{n}应为整数",
    "int_type": lambda f, n, c: f"{n}应为整数",
    "int_from_float": lambda f, n, c: f"{n}应为整数",
    "decimal_parsing": lambda f, n, c: f"{n}应为数字金额",
    "decimal_type": lambda f, n, c: f"{n}应为数字金额",
    "decimal_max_places": lambda f, n, c: f"{n}最多保留{c.get('decimal_places')}位小数",
    "decimal_max_digits": lambda f, n, c: f"{n}位数过多",
    "finite_number": lambda f, n, c: f"{n}应为有限的数字",
    "greater_than_equal": lambda f, n, c: f"{n}不能小于{c.get('ge')}",
    "greater_than": lambda f, n, c: f"{n}应大于{c.get('gt')}",
    "less_than_equal": lambda f, n, c: f"{n}不能大于{c.get('le')}",
    "less_than": lambda f, n, c: f"{n}应小于{c.get('lt')}",
    "bool_parsing": lambda f, n, c: f"{n}应为是或否",
    "bool_type": lambda f, n, c: f"{n}应为是或否",
    "date_parsing": lambda f, n, c: f"{n}应为日期，如 2026-11-28",
    "date_from_datetime_parsing": lambda f, n, c: f"{n}应为日期，如 2026-11-28",
    "datetime_parsing": lambda f, n, c: f"{n}应为日期时间",
    "datetime_from_date_parsing": lambda f, n, c: f"{n}应为日期时间",
    "extra_forbidden": lambda f, n, c: f"{n}不是可以填写的项目",
    "model_type": lambda f, n, c: f"{n}的结构不正确",
    "model_attributes_type": lambda f, n, c: f"{n}的结构不正确",
    "dict_type": lambda f, n, c: f"{n}的结构不正确",
    "list_type": lambda f, n, c: f"{n}应为一组（列表）",
    "tuple_type": lambda f, n, c: f"{n}应为一组（列表）",
    "set_type": lambda f, n, c: f"{n}应为一组（列表）",
    "json_invalid": lambda f, n, c: "请求内容无法解析，应为 JSON 格式",
    "json_type": lambda f, n, c: "请求内容无法解析，应为 JSON 格式",
    "union_tag_invalid": lambda f, n, c: "操作类型不正确",
    "union_tag_not_found": lambda f, n, c: "未说明操作类型",
    "string_unicode": lambda f, n, c: f"{n}含有无法识别的字符",
    "url_parsing": lambda f, n, c: f"{n}应为网址",
}
"""Pydantic's problems by type, in Chinese; any other type is said as 填写不正确."""


def chinese_reason(field: str, problem: Mapping[str, Any]) -> str:
    """One pydantic problem of ``field`` in Chinese, naming the field by its label."""
    name = _named(field)
    reason = REASONS.get(str(problem.get("type", "")))
    ctx = problem.get("ctx") or {}
    return reason(field, name, ctx) if reason else f"{name}填写不正确"

"""The forms of the case page: who may post each (R22), in which stages it is offered, and
the engine command it becomes; and the form fields they share with the intake form."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import cast

from starlette.datastructures import FormData, UploadFile

from approval.config import Settings
from approval.domain.models import (
    Accept,
    Actor,
    CaseCommand,
    CloseExcludedPeriod,
    CollectFee,
    Command,
    Deliver,
    Extend,
    IssueNotice,
    NoticeItem,
    OpenExcludedPeriod,
    RecordMeeting,
    Role,
    Supplement,
    Withdraw,
)
from approval.domain.state import BEFORE_DECISION, SUPPLEMENTING, Stage
from approval.domain.status import CaseStatus
from approval.materials.serving import keep_upload


async def materials_of(
    codes: Iterable[str], form: FormData, settings: Settings
) -> list[dict[str, str]]:
    """The materials entered for ``codes``: an uploaded file, kept in the material store by
    its content hash (approval.materials, streamed; refused past the size limit, naming the
    material), or a SHA-256 typed in for a document kept elsewhere; items left empty are not
    submitted. Only the reference and the hash go on to the engine, never the bytes."""
    materials = []
    for code in codes:
        upload = form.get(f"file_{code}")
        sha = str(form.get(f"sha_{code}") or "").strip().lower()
        ref = str(form.get(f"ref_{code}") or "").strip()
        if isinstance(upload, UploadFile) and upload.filename:
            kept = await keep_upload(upload, code, settings)
            sha, ref = kept.sha256, kept.document_ref
        if sha:
            materials.append({"code": code, "document_ref": ref or f"web:{code}", "sha256": sha})
    return materials


FormCommand = Callable[[Actor, FormData, Settings], Awaitable[CaseCommand]]
"""Builds the engine's command from a posted form, in the actor's name."""


@dataclass(frozen=True)
class CaseAction:
    """A form of the case page: who may post it (R22), in which stages it is offered, the
    engine's name of the action (as the API's role check records it) and its command."""

    label: str
    action: str
    role: Role
    stages: frozenset[Stage]
    command: FormCommand
    possible: Callable[[CaseStatus], bool] = lambda _case: True
    """Whether the case allows the action now beyond its stage: 受理 only once nothing is
    missing (R2, R3), the extension only once (R13)."""

    def offered(self, actor: Actor, case: CaseStatus) -> bool:
        """Whether the case page shows this form to ``actor`` now: only the case's next
        possible actions, never one the engine would refuse for the case's state."""
        in_stage = case.stage in self.stages and self.possible(case)
        return actor.role is self.role and in_stage


def _text(form: FormData, name: str) -> str:
    """A text field of the form, trimmed; empty when missing."""
    return str(form.get(name) or "").strip()


async def _accept(actor: Actor, _form: FormData, _settings: Settings) -> CaseCommand:
    """受理."""
    return Accept(actor=actor)


async def _notice(actor: Actor, form: FormData, _settings: Settings) -> CaseCommand:
    """一次性告知, with the defective items typed in."""
    return IssueNotice(actor=actor, defective=notice_items(_text(form, "defective")))


async def _deliver(actor: Actor, form: FormData, _settings: Settings) -> CaseCommand:
    """送达, by the method typed in (窗口领取 by default)."""
    return Deliver(actor=actor, method=_text(form, "method") or "窗口领取")


async def _supplement(actor: Actor, form: FormData, settings: Settings) -> CaseCommand:
    """The supplement's materials: a file or a SHA-256 per asked item (``file_X``/``sha_X``)."""
    codes = sorted({k.split("_", 1)[1] for k in form if k.startswith(("file_", "sha_"))})
    return Supplement.model_validate(
        {"actor": actor, "materials": await materials_of(codes, form, settings)}
    )


def _typed_in(command: type[Command], *fields: str) -> FormCommand:
    """A form whose fields are the command's own, typed in: 撤回 (R18), 收费 (R15), 延期 (R13),
    特别程序 and its end (R12). The command checks them, naming the field at fault."""

    async def build(actor: Actor, form: FormData, _settings: Settings) -> CaseCommand:
        typed = {name: _text(form, name) for name in fields}
        return cast(CaseCommand, command.model_validate({"actor": actor, **typed}))

    return build


async def _meeting(actor: Actor, form: FormData, _settings: Settings) -> CaseCommand:
    """联合审查会议: each department ticked present (``present_X``), the others absent (R10)."""
    departments = [str(d) for d in form.getlist("departments")]
    present = [d for d in departments if form.get(f"present_{d}")]
    return RecordMeeting(
        actor=actor,
        present=tuple(present),
        absent=tuple(d for d in departments if d not in present),
        minutes=_text(form, "minutes"),
    )


CASE_ACTIONS = {
    "accept": CaseAction(
        "受理",
        "accept",
        Role.CLERK,
        frozenset({Stage.RECEIVED}),
        _accept,
        possible=lambda case: not case.missing_materials,
    ),
    "notice": CaseAction(
        "一次性告知", "issue_notice", Role.CLERK, frozenset({Stage.RECEIVED}), _notice
    ),
    "supplement": CaseAction("补正", "supplement", Role.CLERK, SUPPLEMENTING, _supplement),
    "withdraw": CaseAction(
        "撤回", "withdraw", Role.CLERK, BEFORE_DECISION, _typed_in(Withdraw, "reason")
    ),
    "fee": CaseAction(
        "收费",
        "collect_fee",
        Role.CLERK,
        frozenset({Stage.AWAITING_FEE}),
        _typed_in(CollectFee, "amount_yuan", "receipt_no"),
    ),
    "deliver": CaseAction(
        "送达", "deliver", Role.CLERK, frozenset({Stage.AWAITING_DELIVERY}), _deliver
    ),
    "extend": CaseAction(
        "延期",
        "extend",
        Role.SUPERVISOR,
        frozenset({Stage.IN_REVIEW, Stage.AWAITING_SUPPLEMENT}),
        _typed_in(Extend, "reason"),
        possible=lambda case: not case.extended,
    ),
    "exclude": CaseAction(
        "特别程序",
        "open_excluded_period",
        Role.SUPERVISOR,
        frozenset({Stage.IN_REVIEW}),
        _typed_in(OpenExcludedPeriod, "procedure", "reason", "expected_wd"),
    ),
    "resume": CaseAction(
        "结束特别程序",
        "close_excluded_period",
        Role.SUPERVISOR,
        frozenset({Stage.EXCLUDED_PERIOD}),
        _typed_in(CloseExcludedPeriod, "result"),
    ),
    "meeting": CaseAction(
        "记录联合审查会议",
        "record_meeting",
        Role.SUPERVISOR,
        frozenset({Stage.IN_REVIEW}),
        _meeting,
    ),
}
FIELD_LABELS = {
    "amount_yuan": "收费金额",
    "receipt_no": "收据编号",
    "reason": "理由",
    "materials": "补正材料",
    "stage": "办件阶段",
    "case_no": "办件编号",
    "extend": "延期",
    "method": "送达方式",
    "defective": "不合格材料",
    "actor.role": "角色",
    "procedure": "特别程序",
    "expected_wd": "预计工作日",
    "result": "结论",
    "present": "出席部门",
    "absent": "缺席部门",
    "minutes": "会议纪要",
}


def notice_items(text: str) -> tuple[NoticeItem, ...]:
    """Notice items, one a line: ``CODE=what is wrong`` (or ``CODE 理由``)."""
    items = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        code, _, reason = line.replace("＝", "=").partition("=")
        if not reason:
            code, _, reason = line.partition(" ")
        items.append(NoticeItem(code=code.strip(), reason=reason.strip() or "需补正"))
    return tuple(items)

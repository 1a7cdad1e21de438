"""The catalogue of matters (事项目录): what this centre may decide, who reviews it, in how long.

The catalogue is data, versioned and validated on load; a case keeps the version it was
received under. “目录之外无权力”: a matter not in the catalogue is refused (R1).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from approval.domain.errors import CatalogueError, NotCompetentError, UnknownMatterError

Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]

SINGLE_ORGAN_STATUTORY_WD = 20
JOINT_STATUTORY_WD = 45
SINGLE_ORGAN_EXTENSION_WD = 10
JOINT_EXTENSION_WD = 15


class Frozen(BaseModel):
    """Immutable model that refuses unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class MatterKind(StrEnum):
    """Committed matters (承诺件) are reviewed by departments; instant ones (即办件) are
    decided at the window."""

    COMMITTED = "committed"
    INSTANT = "instant"


class MaterialRequirement(Frozen):
    """One item of the matter's list of materials."""

    code: Code
    name: str = Field(min_length=1)
    shared: bool = False
    """Obtainable by data sharing (免提交): never demanded from the applicant (R2)."""
    shared_from: str | None = None


class DepartmentReview(Frozen):
    """One reviewing department of a matter and its review period in working days."""

    department: Code
    name: str = Field(min_length=1)
    period_wd: int = Field(ge=1, le=60)
    depends_on: tuple[Code, ...] = ()
    """Departments whose approval this review waits for (R7: only where declared)."""


class WarningThreshold(Frozen):
    """When a supervised clock turns yellow (R19): at ``remaining_wd`` working days left, or
    once ``used_share`` of its period is used, whichever comes first."""

    remaining_wd: int = Field(default=1, ge=0, le=20)
    used_share: float = Field(default=0.8, gt=0, le=1)

    def is_yellow(self, period_wd: int | None, remaining: int) -> bool:
        """Whether ``remaining`` working days left of ``period_wd`` is at the threshold."""
        used_up = period_wd is not None and period_wd - remaining >= self.used_share * period_wd
        return remaining <= self.remaining_wd or used_up

    def yellow_within(self, period_wd: int) -> int:
        """The most days left at which a clock of ``period_wd`` days shows yellow."""
        return next(
            (left for left in range(period_wd, -1, -1) if self.is_yellow(period_wd, left)), 0
        )


class Matter(Frozen):
    """A catalogue entry (事项)."""

    code: Code
    name: str = Field(min_length=1)
    kind: MatterKind = MatterKind.COMMITTED
    lead_department: Code
    reviews: tuple[DepartmentReview, ...] = ()
    materials: tuple[MaterialRequirement, ...] = Field(min_length=1)
    statutory_period_wd: int = Field(ge=0, le=JOINT_STATUTORY_WD)
    committed_period_wd: int = Field(ge=0)
    fee_yuan: Decimal = Field(default=Decimal(0), ge=0, decimal_places=2)
    silent_consent: bool = True
    """Whether an unanswered review is deemed approved (超时默认, R9); safety matters exclude it."""
    notice_period_wd: int = Field(default=5, ge=1, le=20)
    """R3: the window accepts or issues the one-time notice within this many WD of receipt."""
    supplement_period_days: int = Field(default=30, ge=1, le=180)
    """R6: calendar days the applicant has to supplement before the case closes as withdrawn."""
    delivery_period_wd: int = Field(default=10, ge=1, le=30)
    """R16: the certificate is issued and delivered within this many WD of an approval."""
    warning: WarningThreshold | None = None
    """R19: this matter's own threshold for yellow lights (default: the centre's)."""

    @property
    def is_joint(self) -> bool:
        """Reviewed by more than one organ: the joint limits of art. 42 apply."""
        return len(self.reviews) > 1

    @property
    def extension_wd(self) -> int:
        """The one extension a supervisor may grant (R13)."""
        return JOINT_EXTENSION_WD if self.is_joint else SINGLE_ORGAN_EXTENSION_WD

    @property
    def statutory_limit_wd(self) -> int:
        """The statutory ceiling for this kind of handling (art. 42)."""
        return JOINT_STATUTORY_WD if self.is_joint else SINGLE_ORGAN_STATUTORY_WD

    def review(self, department: str) -> DepartmentReview:
        """The review of ``department``; refuses a department not on the matter."""
        for review in self.reviews:
            if review.department == department:
                return review
        raise UnknownMatterError("department", f"部门 {department} 不审查事项 {self.code}")

    def material(self, code: str) -> MaterialRequirement | None:
        """The listed material with ``code``, or None."""
        return next((m for m in self.materials if m.code == code), None)

    def material_label(self, code: str) -> str:
        """A material as people read it: its catalogue name with its code, e.g.
        人防工程设计说明（RFSJ）; the code alone for one the matter does not list."""
        found = self.material(code)
        return f"{found.name}（{code}）" if found else code

    def material_labels(self, codes: Iterable[str]) -> str:
        """Materials as people read them, joined by 、."""
        return "、".join(self.material_label(code) for code in codes)

    def material_names(self, codes: Iterable[str]) -> dict[str, str]:
        """The catalogue names of the listed materials among ``codes``, by code."""
        return {code: found.name for code in codes if (found := self.material(code))}

    @property
    def demanded_materials(self) -> tuple[MaterialRequirement, ...]:
        """The materials the applicant must bring: all but the 免提交 ones (R2)."""
        return tuple(m for m in self.materials if not m.shared)

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        _check_unique("materials", [m.code for m in self.materials])
        _check_unique("reviews", [r.department for r in self.reviews])
        if self.committed_period_wd > self.statutory_period_wd:
            raise ValueError("committed_period_wd may not exceed statutory_period_wd")
        if self.statutory_period_wd > self.statutory_limit_wd:
            raise ValueError(f"statutory_period_wd exceeds the limit of {self.statutory_limit_wd}")
        if self.kind is MatterKind.INSTANT:
            if self.reviews:
                raise ValueError("an instant matter (即办件) has no department reviews")
            return self
        if not self.reviews:
            raise ValueError("a committed matter needs at least one review")
        if self.lead_department not in {r.department for r in self.reviews}:
            raise ValueError("lead_department must be one of the reviewing departments")
        self._check_dependencies()
        return self

    def _check_dependencies(self) -> None:
        known = {r.department for r in self.reviews}
        for review in self.reviews:
            unknown = set(review.depends_on) - known
            if unknown:
                raise ValueError(f"{review.department} depends_on unknown {sorted(unknown)}")
            if review.period_wd > self.committed_period_wd:
                raise ValueError(f"{review.department} period_wd exceeds committed_period_wd")
        _check_acyclic({r.department: r.depends_on for r in self.reviews})


class Referral(Frozen):
    """A matter this centre knows but does not decide: the competent organ is named (R1)."""

    code: Code
    name: str = Field(min_length=1)
    competent_organ: str = Field(min_length=1)


class ScoreWeights(Frozen):
    """The efficiency score of a department (效能评估), out of 100: the weighted mean of its
    on-time rate, its satisfaction rate and its rate of follow-ups answered on time (each
    0–1, weights summing to 1), minus ``red_mark_points`` for each red mark per 100 tasks.
    A rate with nothing to count (no rating yet) counts as 1."""

    on_time: float = Field(default=0.5, ge=0, le=1)
    satisfaction: float = Field(default=0.3, ge=0, le=1)
    follow_up: float = Field(default=0.2, ge=0, le=1)
    red_mark_points: float = Field(default=2.0, ge=0, le=100)

    @model_validator(mode="after")
    def _sum_to_one(self) -> Self:
        if abs(self.on_time + self.satisfaction + self.follow_up - 1) > 1e-9:
            raise ValueError("on_time + satisfaction + follow_up must be 1")
        return self


class _Supervised(Frozen):
    """The yellow threshold, how long the applicant may rate the completed case, and the
    period of a follow-up (R19, R20)."""

    warning: WarningThreshold = WarningThreshold()
    rating_period_days: int = Field(default=15, ge=0, le=90)
    """Calendar days after completion during which the applicant may rate (0: no rating)."""
    follow_up_period_wd: int = Field(default=5, ge=1, le=30)
    """Working days to answer a bad rating or a complaint (R20)."""


class CasePolicy(_Supervised):
    """What a case is supervised by (R19, R20), fixed at receipt."""

    progress_url: str | None = None
    """The public progress page the case's notices name beside its check code (fixed at
    receipt, so that the notices render alike whenever the record is rebuilt)."""


class SupervisionPolicy(_Supervised):
    """The centre's supervision settings: what every matter's cases run under unless the
    matter names its own threshold, and the weights of the efficiency score."""

    weights: ScoreWeights = ScoreWeights()


class Catalogue(Frozen):
    """A version of the catalogue of matters."""

    version: str = Field(min_length=1)
    region_code: str = Field(pattern=r"^\d{6}$")
    centre: str = Field(min_length=1)
    matters: tuple[Matter, ...] = Field(min_length=1)
    referrals: tuple[Referral, ...] = ()
    supervision: SupervisionPolicy = SupervisionPolicy()

    def policy_for(self, matter: Matter, progress_url: str | None = None) -> CasePolicy:
        """The supervision a case of ``matter`` runs under (R19, R20), its notices naming the
        public progress page at ``progress_url``."""
        centre = self.supervision
        return CasePolicy(
            warning=matter.warning or centre.warning,
            rating_period_days=centre.rating_period_days,
            follow_up_period_wd=centre.follow_up_period_wd,
            progress_url=progress_url,
        )

    @model_validator(mode="after")
    def _check_codes(self) -> Self:
        _check_unique("matters", [m.code for m in self.matters] + [r.code for r in self.referrals])
        return self

    def matter(self, code: str) -> Matter:
        """The matter with ``code``; refuses codes outside the catalogue or competence (R1)."""
        for matter in self.matters:
            if matter.code == code:
                return matter
        for referral in self.referrals:
            if referral.code == code:
                raise NotCompetentError(
                    "matter_code",
                    f"{referral.name}（事项编码 {code}）由{referral.competent_organ}办理，"
                    "不属于本中心的受理范围",
                    referral.competent_organ,
                    matter_name=referral.name,
                )
        raise UnknownMatterError(
            "matter_code", f"申请事项（事项编码 {code}）不在本中心的政务服务事项目录内"
        )


def load_catalogue(path: Path) -> Catalogue:
    """Read and validate a catalogue file; errors name the file and the field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogueError(str(path), f"cannot be read: {exc}") from exc
    try:
        return Catalogue.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "catalogue"
        raise CatalogueError(f"{path.name}: {where}", first["msg"]) from exc


def _check_unique(what: str, codes: list[str]) -> None:
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ValueError(f"duplicate codes in {what}: {duplicates}")


def _check_acyclic(graph: dict[str, tuple[str, ...]]) -> None:
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        if node in path:
            raise ValueError(f"depends_on forms a cycle: {' -> '.join((*path, node))}")
        if node in done:
            return
        for parent in graph[node]:
            visit(parent, (*path, node))
        done.add(node)

    for node in graph:
        visit(node, ())

"""The catalogue of matters (事项目录): the demo data, the R1/R2/R13 rules it carries, and the
loader's refusals of bad files. Pure tests, no server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from approval.domain.catalogue import (
    JOINT_EXTENSION_WD,
    JOINT_STATUTORY_WD,
    SINGLE_ORGAN_EXTENSION_WD,
    SINGLE_ORGAN_STATUTORY_WD,
    Catalogue,
    DepartmentReview,
    MaterialRequirement,
    Matter,
    MatterKind,
    load_catalogue,
)
from approval.domain.errors import CatalogueError, NotCompetentError, UnknownMatterError

DEMO_PATH = Path(__file__).resolve().parents[2] / "data" / "catalogue.yaml"

Raw = dict[str, Any]


@pytest.fixture(scope="module")
def demo() -> Catalogue:
    """The demo catalogue shipped in data/catalogue.yaml."""
    return load_catalogue(DEMO_PATH)


def demo_raw() -> Raw:
    """A fresh, mutable copy of the demo catalogue as plain YAML data."""
    raw: Raw = yaml.safe_load(DEMO_PATH.read_text(encoding="utf-8"))
    return raw


def matter_raw(raw: Raw, code: str) -> Raw:
    """The raw entry of matter ``code``."""
    found: Raw = next(m for m in raw["matters"] if m["code"] == code)
    return found


def refusal(tmp_path: Path, mutate: Callable[[Raw], None]) -> CatalogueError:
    """Load the demo catalogue after ``mutate`` and return the loader's refusal."""
    raw = demo_raw()
    mutate(raw)
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    return info.value


def single_organ_matter(**overrides: Any) -> Matter:
    """A committed matter reviewed by one department only."""
    fields: Raw = {
        "code": "T-SINGLE-001",
        "name": "单部门审查事项",
        "lead_department": "SCJG",
        "reviews": (DepartmentReview(department="SCJG", name="市场监督管理局", period_wd=5),),
        "materials": (MaterialRequirement(code="SQS", name="申请书"),),
        "statutory_period_wd": 20,
        "committed_period_wd": 10,
    }
    return Matter(**(fields | overrides))


def finish_wd(matter: Matter, department: str) -> int:
    """WD from dispatch until ``department`` ends at the latest, waiting for its dependencies."""
    review = matter.review(department)
    before = max((finish_wd(matter, d) for d in review.depends_on), default=0)
    return before + review.period_wd


# --- the demo catalogue ------------------------------------------------------------------


def test_demo_catalogue_loads_with_at_least_seven_matters(demo: Catalogue) -> None:
    """The demo file validates, names its version, region and centre, and has ≥ 7 matters."""
    assert demo.version == "2026.11-demo"
    assert demo.region_code == "371600"
    assert demo.centre == "滨州市政务服务中心"
    assert len(demo.matters) >= 7
    assert len(demo.referrals) >= 2


def test_demo_has_a_matter_excluding_silent_consent(demo: Catalogue) -> None:
    """At least one committed matter excludes silent consent (超时默认, R9), e.g. safety."""
    excluded = [m for m in demo.matters if not m.silent_consent]
    assert excluded
    assert all(m.kind is MatterKind.COMMITTED for m in excluded)


def test_demo_has_an_instant_matter_without_reviews(demo: Catalogue) -> None:
    """At least one matter is instant (即办件): decided at the window, no department reviews."""
    instant = [m for m in demo.matters if m.kind is MatterKind.INSTANT]
    assert instant
    assert all(not m.reviews and not m.is_joint for m in instant)


def test_demo_committed_matters_have_two_to_six_reviews(demo: Catalogue) -> None:
    """Every committed matter of the demo is a parallel (并联) one, with 2–6 departments."""
    for matter in demo.matters:
        if matter.kind is MatterKind.COMMITTED:
            assert 2 <= len(matter.reviews) <= 6, matter.code


def test_demo_declares_a_review_dependency(demo: Catalogue) -> None:
    """R7: the construction permit's drawing review waits for the planning check, as declared."""
    permit = demo.matter("JS-SGXK-001")
    assert permit.review("ZJJ").depends_on == ("ZRZY",)
    assert permit.review("ZRZY").depends_on == ()


def test_demo_dependency_chains_fit_the_committed_period(demo: Catalogue) -> None:
    """R7/R13: along every declared chain of dependencies the review periods add up to no more
    than the committed period, so waiting never forces a case past its commitment."""
    for matter in demo.matters:
        for review in matter.reviews:
            assert finish_wd(matter, review.department) <= matter.committed_period_wd, matter.code


def test_demo_department_codes_name_one_department(demo: Catalogue) -> None:
    """A department code means the same department in every matter that lists it."""
    names: dict[str, set[str]] = {}
    for matter in demo.matters:
        for review in matter.reviews:
            names.setdefault(review.department, set()).add(review.name)
    assert all(len(found) == 1 for found in names.values()), names


def test_demo_shared_materials_name_their_source(demo: Catalogue) -> None:
    """R2: every 免提交 item names the agency it is obtained from by data sharing."""
    shared = [m for matter in demo.matters for m in matter.materials if m.shared]
    assert shared
    assert all(m.shared_from for m in shared)


# --- R1: catalogue and competence --------------------------------------------------------


def test_r1_matter_returns_a_catalogued_matter(demo: Catalogue) -> None:
    """R1: a code in the catalogue yields its matter."""
    assert demo.matter("JS-GHXK-001").name == "建设工程规划许可证核发"


def test_r1_unknown_matter_is_refused_naming_matter_code(demo: Catalogue) -> None:
    """R1 (目录之外无权力): a code outside the catalogue is refused on the field matter_code."""
    with pytest.raises(UnknownMatterError) as info:
        demo.matter("XX-NONE-999")
    assert info.value.field == "matter_code"
    assert "XX-NONE-999" in info.value.reason


def test_r1_referral_is_refused_naming_the_competent_organ(demo: Catalogue) -> None:
    """R1: a matter known but outside this centre's competence is refused with the organ named."""
    with pytest.raises(NotCompetentError) as info:
        demo.matter("GA-CRJ-001")
    assert info.value.field == "matter_code"
    assert info.value.competent_organ == "滨州市公安局出入境管理支队"
    assert info.value.competent_organ in str(info.value)


# --- R2: materials obtainable by data sharing ---------------------------------------------


def test_r2_demanded_materials_exclude_shared_items(demo: Catalogue) -> None:
    """R2: items marked shared (免提交) are never in the list demanded from the applicant."""
    matter = demo.matter("SC-SPJY-001")
    demanded = {m.code for m in matter.demanded_materials}
    shared = {m.code for m in matter.materials if m.shared}
    assert shared == {"YYZZ", "SFZ"}
    assert demanded == {m.code for m in matter.materials} - shared
    assert all(not m.shared for m in matter.demanded_materials)


def test_r2_a_material_is_shared_per_matter(demo: Catalogue) -> None:
    """R2: the business licence is shared for a food licence but its original is demanded for a
    name change (the original is surrendered), so sharing is a property of the matter's list."""
    food = demo.matter("SC-SPJY-001").material("YYZZ")
    change = demo.matter("SC-GTBG-001").material("YYZZ")
    assert food is not None and food.shared
    assert change is not None and not change.shared
    assert change in demo.matter("SC-GTBG-001").demanded_materials


# --- R13: joint handling and the one extension --------------------------------------------


def test_r13_joint_matter_extends_by_fifteen_wd(demo: Catalogue) -> None:
    """R13: a matter reviewed by several organs is joint: limit 45 WD, one extension of 15 WD."""
    matter = demo.matter("JS-GHXK-001")
    assert matter.is_joint
    assert matter.extension_wd == JOINT_EXTENSION_WD == 15
    assert matter.statutory_limit_wd == JOINT_STATUTORY_WD == 45


def test_r13_single_organ_matter_extends_by_ten_wd() -> None:
    """R13: a matter reviewed by one organ is not joint: limit 20 WD, one extension of 10 WD."""
    matter = single_organ_matter()
    assert not matter.is_joint
    assert matter.extension_wd == SINGLE_ORGAN_EXTENSION_WD == 10
    assert matter.statutory_limit_wd == SINGLE_ORGAN_STATUTORY_WD == 20


def test_r13_instant_matter_counts_as_single_organ(demo: Catalogue) -> None:
    """R13: an instant matter has no reviews, so the single-organ limits apply to it."""
    matter = demo.matter("SC-GTBG-001")
    assert not matter.is_joint
    assert matter.extension_wd == SINGLE_ORGAN_EXTENSION_WD


def test_r13_single_organ_statutory_period_over_twenty_is_refused() -> None:
    """R13: one organ may not be given a statutory period beyond 20 WD (art. 42)."""
    with pytest.raises(ValueError, match="statutory_period_wd exceeds the limit of 20"):
        single_organ_matter(statutory_period_wd=21)


# --- the loader refuses bad catalogues, naming the field ----------------------------------


def test_r13_loader_refuses_committed_over_statutory(tmp_path: Path) -> None:
    """R13: a committed period longer than the statutory one is refused, naming both fields."""

    def mutate(raw: Raw) -> None:
        matter = matter_raw(raw, "JS-GHXK-001")
        matter["committed_period_wd"] = matter["statutory_period_wd"] + 1

    error = refusal(tmp_path, mutate)
    assert "matters.0" in str(error)
    assert "committed_period_wd may not exceed statutory_period_wd" in str(error)


def test_r8_loader_refuses_review_period_over_committed(tmp_path: Path) -> None:
    """R8/R13: a department period longer than the committed period is refused, naming period_wd."""

    def mutate(raw: Raw) -> None:
        matter = matter_raw(raw, "CG-HGSZ-001")
        matter["reviews"][1]["period_wd"] = matter["committed_period_wd"] + 1

    error = refusal(tmp_path, mutate)
    assert "ZRZY period_wd exceeds committed_period_wd" in str(error)


def test_r7_loader_refuses_dependency_on_unknown_department(tmp_path: Path) -> None:
    """R7: a review may only wait for a department of the same matter; depends_on is named."""

    def mutate(raw: Raw) -> None:
        matter_raw(raw, "JS-SGXK-001")["reviews"][1]["depends_on"] = ["WJW"]

    error = refusal(tmp_path, mutate)
    assert "matters.1" in str(error)
    assert "ZJJ depends_on unknown ['WJW']" in str(error)


def test_r7_loader_refuses_a_dependency_cycle(tmp_path: Path) -> None:
    """R7: declared dependencies that form a cycle would deadlock the case and are refused."""

    def mutate(raw: Raw) -> None:
        matter_raw(raw, "JS-SGXK-001")["reviews"][0]["depends_on"] = ["ZJJ"]

    error = refusal(tmp_path, mutate)
    assert "depends_on forms a cycle" in str(error)
    assert "ZRZY" in str(error) and "ZJJ" in str(error)


def test_r2_loader_refuses_duplicate_material_codes(tmp_path: Path) -> None:
    """R2: a material code must be unique within a matter's list; the duplicate is named."""

    def mutate(raw: Raw) -> None:
        materials = matter_raw(raw, "SC-SPJY-001")["materials"]
        materials.append({"code": materials[0]["code"], "name": "重复的申请书"})

    error = refusal(tmp_path, mutate)
    assert "duplicate codes in materials: ['SQS']" in str(error)


def test_loader_refuses_an_unknown_field(tmp_path: Path) -> None:
    """A misspelt or unknown field is refused (extra="forbid"), with its location."""

    def mutate(raw: Raw) -> None:
        raw["matters"][0]["silent_consnet"] = False

    error = refusal(tmp_path, mutate)
    assert error.field == "catalogue.yaml: matters.0.silent_consnet"
    assert "Extra inputs are not permitted" in error.reason


def test_r1_loader_refuses_a_matter_code_also_listed_as_referral(tmp_path: Path) -> None:
    """R1: a code is either decided here or referred, never both."""

    def mutate(raw: Raw) -> None:
        raw["referrals"][0]["code"] = raw["matters"][0]["code"]

    error = refusal(tmp_path, mutate)
    assert "duplicate codes in matters" in str(error)


def test_loader_refuses_malformed_yaml(tmp_path: Path) -> None:
    """A file that is not valid YAML is refused with the file named, not with a traceback."""
    path = tmp_path / "catalogue.yaml"
    path.write_text("version: '2026.11-demo\nmatters: [\n", encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    assert info.value.field == str(path)
    assert "cannot be read" in info.value.reason


def test_loader_refuses_a_file_not_in_utf8(tmp_path: Path) -> None:
    """A GBK-encoded catalogue is refused as unreadable, naming the file."""
    path = tmp_path / "catalogue.yaml"
    path.write_bytes(DEMO_PATH.read_text(encoding="utf-8").encode("gbk"))
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    assert info.value.field == str(path)


def test_loader_refuses_a_missing_file(tmp_path: Path) -> None:
    """A catalogue path that does not exist is refused, naming the path."""
    path = tmp_path / "absent.yaml"
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    assert info.value.field == str(path)
    assert "cannot be read" in info.value.reason


def test_loader_refuses_an_empty_file(tmp_path: Path) -> None:
    """An empty file is refused as a whole catalogue, not accepted as an empty one."""
    path = tmp_path / "catalogue.yaml"
    path.write_text("", encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    assert info.value.field == "catalogue.yaml: catalogue"

"""The rules checked, their verdicts, and the evidence collected for each."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

RULE_TITLES: dict[str, tuple[str, str]] = {
    "R3": (
        "一次性告知与受理时限：告知期限内一次性告知或受理",
        "One-time notice or acceptance within the notice period",
    ),
    "R9": (
        "超时默认：审查期限届满未答复的视为同意",
        "Silent consent when a review period ends unanswered",
    ),
    "R10": (
        "缺席默认：缺席联合审查会议的部门视为同意",
        "A department absent from a joint review meeting is deemed to agree",
    ),
    "R11": (
        "一次性合并告知补正：此后不得提出新的补正要求",
        "One consolidated supplement notice, no new items afterwards",
    ),
    "R12": (
        "补正及特别程序期间停止计时",
        "Clocks stop while supplementing and in excluded periods",
    ),
    "R13": (
        "承诺时限与一次延期：在承诺时限内作出决定，至多延长一次",
        "Decision within the committed period, extended at most once",
    ),
    "R14": (
        "决定书内容：载明全部理由、救济途径和默认同意的部门",
        "Decision states every reason, the remedies and the deemed approvals",
    ),
    "R16": ("送达时限：在送达期限内送达结果", "Result delivered within the delivery period"),
    "R21": ("记录前后一致", "The record is consistent with itself"),
}
"""The rules checked, by id: (Chinese title, which people read; English title, kept in
``title_en`` for the programs that read it)."""


class Verdict(StrEnum):
    """The outcome of one rule on one case."""

    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"


class RuleResult(BaseModel):
    """One rule checked on one case, with the evidence from the record."""

    rule: str
    title_zh: str
    title_en: str
    verdict: Verdict
    evidence: list[str]


class _Findings:
    """Evidence collected for one rule; any violation fails it, any fact makes it apply."""

    def __init__(self, rule: str) -> None:
        self.rule = rule
        self.lines: list[str] = []
        self.violated = False
        self.applies = False

    def ok(self, line: str) -> None:
        self.applies = True
        self.lines.append(f"✓ {line}")

    def bad(self, line: str) -> None:
        self.applies = self.violated = True
        self.lines.append(f"✗ {line}")

    def note(self, line: str) -> None:
        self.lines.append(f"· {line}")

    def result(self) -> RuleResult:
        verdict = (
            Verdict.FAIL
            if self.violated
            else Verdict.PASS
            if self.applies
            else Verdict.NOT_APPLICABLE
        )
        zh, en = RULE_TITLES[self.rule]
        return RuleResult(
            rule=self.rule, title_zh=zh, title_en=en, verdict=verdict, evidence=self.lines
        )

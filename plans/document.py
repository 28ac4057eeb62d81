"""A plan as plain data: the shape of shared/plan-template.md, with no Django in sight.

An empty string (or an empty list) means "not filled in yet"; plans/markdown.py turns template
placeholders into empties on import and back into placeholders on export.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

RISK_LEVELS = ("Low", "Medium", "High")


@dataclass
class CheckItem:
    text: str
    checked: bool = False


@dataclass
class FileChange:
    path: str  # without backticks; "" when the line names no `path`
    description: str = ""


@dataclass
class Step:
    title: str
    objective: str = ""
    actions: list[CheckItem] = field(default_factory=list)
    files: list[FileChange] = field(default_factory=list)
    dependencies: str = ""
    estimate: str = ""  # as written, e.g. "2-3 hours"; see parse_estimate_hours
    risk: str = ""  # one of RISK_LEVELS, or ""


@dataclass
class Approval:
    reviewer: str = ""
    date: str = ""
    status: str = ""
    comments: str = ""


@dataclass
class ExtraSection:
    heading: str
    body: str = ""
    after: str = ""  # key of the known section it follows (see markdown.SECTION_KEYS); "" = top


@dataclass
class PlanDocument:
    title: str = ""
    created: str = ""
    status: str = ""
    problem_statement: str = ""
    existing_system: str = ""
    research_findings: str = ""
    high_level_approach: str = ""
    technical_design: str = ""
    steps: list[Step] = field(default_factory=list)
    unit_testing: str = ""
    integration_testing: str = ""
    manual_testing: str = ""
    high_risk_items: str = ""
    medium_risk_items: str = ""
    risk_dependencies: str = ""
    success_criteria: list[CheckItem] = field(default_factory=list)
    rollback_if_fails: str = ""
    rollback_partial: str = ""
    review_checklist: str = ""
    approval: Approval = field(default_factory=Approval)
    extra_sections: list[ExtraSection] = field(default_factory=list)


_HOURS_PER_UNIT = {"h": Decimal(1), "min": Decimal(1) / Decimal(60), "d": Decimal(8)}
_UNITS = {
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "m": "min", "min": "min", "mins": "min", "minute": "min", "minutes": "min",
    "d": "d", "day": "d", "days": "d",
}  # fmt: skip
_NUMBER = r"\d+(?:\.\d+)?"
_ESTIMATE_RE = re.compile(rf"^(?:{_NUMBER}\s*[-–]\s*)?({_NUMBER})\s*([a-z]+)$")


def parse_estimate_hours(text: str) -> Decimal | None:
    """Hours meant by an estimate as people write it; a range counts as its upper bound.

    "4 hours", "1.5 hours", "30 minutes", "45 min", "2-3 hours" (3), "1 day" (8), "0.5h".
    "" and the template's "X hours" mean no estimate (None); anything else is a ValueError.
    """
    cleaned = text.strip().lower()
    if cleaned in ("", "x hours"):
        return None
    match = _ESTIMATE_RE.match(cleaned)
    unit = _UNITS.get(match.group(2)) if match else None
    if match is None or unit is None:
        raise ValueError(
            f"expected an estimate such as '4 hours', '30 minutes', '2-3 hours' or '1 day', "
            f"got {text.strip()!r}"
        )
    hours = Decimal(match.group(1)) * _HOURS_PER_UNIT[unit]
    return hours.quantize(Decimal("0.01"))

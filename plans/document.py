"""A plan as plain data: the shape of shared/plan-template.md, with no Django in sight.

An empty string (or an empty list) means "not filled in yet"; plans/markdown.py turns template
placeholders into empties on import and back into placeholders on export.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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

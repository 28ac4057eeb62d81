"""A plan as plain data: the shape of plans/plan-template.md, with no Django in sight.

An empty string (or an empty list) means "not filled in yet"; plans/markdown.py turns template
placeholders into empties on import and back into placeholders on export.

Plans people write only loosely follow the template: what the importer recognises fills these
fields, and the rest is kept as written (``Step.notes``; a section's own text before its
subsections or between its items in ``sections[key]`` of a GROUP, STEPS or CRITERIA section;
unknown sections and the preamble in ``extra_sections``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from plans import schema

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
    notes: str = ""  # the step's other text as written: prose, code, tables, unknown fields


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
    after: str = ""  # key of the '##' section it follows (schema.top_level()); "" = top
    # heading "" is the preamble: the text before the first section that is not the header


@dataclass
class _DocumentFields:
    title: str = ""
    created: str = ""
    status: str = ""
    sections: dict[str, str] = field(default_factory=dict)  # prose section key -> Markdown
    steps: list[Step] = field(default_factory=list)
    success_criteria: list[CheckItem] = field(default_factory=list)
    review_checklist: str = ""
    approval: Approval = field(default_factory=Approval)
    extra_sections: list[ExtraSection] = field(default_factory=list)


@schema.section_attributes
class PlanDocument(_DocumentFields):
    """A whole plan. ``sections`` holds every prose section of plans/schema.py ("" when empty),
    so documents compare equal however they were built; a section can also be given, read and
    set by its key: ``PlanDocument(problem_statement=...)``, ``doc.problem_statement``."""

    def __init__(self, *, sections: dict[str, str] | None = None, **values) -> None:
        texts = {key: values.pop(key) for key in schema.prose_keys() if key in values}
        empty = dict.fromkeys(schema.prose_keys(), "")
        super().__init__(sections={**empty, **(sections or {}), **texts}, **values)

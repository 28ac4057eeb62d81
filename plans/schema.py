"""The sections of a plan, in one table: what each is called, what it holds, where it sits and
whether review needs it.

Everything that knows the sections reads ``SECTIONS`` when it runs, never a copy: the model
(Plan.sections and its attributes), the Markdown importer and exporter, the editor form and
page, the plan page, the services and the review forms. Prose is stored in ``Plan.sections`` by
key, so adding a prose section is one row here and needs no migration. Its placeholder text (for
the export of an empty section) comes from markdown.TEMPLATE when the template has the section.

Tests add a section for their duration with one ``monkeypatch.setattr(schema, "SECTIONS", ...)``.
"""

from __future__ import annotations

from dataclasses import dataclass

# What a section holds (Section.kind):
PROSE = "prose"  # Markdown text, in Plan.sections[key]
GROUP = "group"  # nothing of its own: its '###' subsections (PROSE rows whose parent it is)
STEPS = "steps"  # the implementation steps (PlanStep rows)
CRITERIA = "criteria"  # the success criteria checklist (SuccessCriterion rows)
REVIEW_CHECKLIST = "review_checklist"  # raw text in Plan.review_checklist; for the reviewer
APPROVAL = "approval"  # the reviewer's sign-off block; only in the Markdown, never stored

#: The reviewer's sections, not the author's: a Markdown document may leave them out, the
#: editor does not show them and comments are not anchored to them.
REVIEWER_KINDS = (REVIEW_CHECKLIST, APPROVAL)


@dataclass(frozen=True)
class Section:
    """One row of the table; its order is its position in SECTIONS."""

    key: str  # Plan.sections key (prose), ExtraSection.after value ('##' sections)
    heading: str  # as written after '## ' ('### ' when it has a parent)
    kind: str
    parent: str = ""  # key of the GROUP this is a '###' subsection of; "" for a '##' section
    # Needed before submission: a PROSE section filled in, a GROUP with any subsection filled
    # in, STEPS at least one step, each with an objective and a risk level.
    required: bool = False
    # Other headings that mean this section in plans people write (casefolded, compared after
    # plans/markdown.py's heading_key: numbering, a trailing colon or "(...)" suffix removed).
    synonyms: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The heading in sentence case: the editor's label and the author's to-do item."""
        return self.heading[:1] + self.heading[1:].lower()

    def children(self) -> list[Section]:
        """The '###' subsections of a GROUP, in order."""
        return [section for section in SECTIONS if section.parent == self.key]


SECTIONS: tuple[Section, ...] = (
    Section("problem_statement", "Problem Statement", PROSE, required=True, synonyms=(
        "problem", "objective", "objectives", "goal", "goals", "overview", "summary", "scope",
        "motivation", "purpose", "description")),
    Section("current_state_analysis", "Current State Analysis", GROUP, synonyms=(
        "current state", "background", "context", "analysis", "research")),
    Section("existing_system", "Existing System", PROSE, parent="current_state_analysis",
            synonyms=("current implementation", "current system", "existing code")),
    Section("research_findings", "Research Findings", PROSE, parent="current_state_analysis",
            synonyms=("research", "findings")),
    Section("proposed_solution", "Proposed Solution", GROUP, synonyms=(
        "solution", "approach", "design", "technical design", "architecture",
        "technical approach", "proposal")),
    Section("high_level_approach", "High-Level Approach", PROSE, parent="proposed_solution",
            synonyms=("high level approach", "approach", "overview", "strategy")),
    Section("technical_design", "Technical Design", PROSE, parent="proposed_solution",
            synonyms=("design", "architecture", "technical details")),
    Section("implementation_steps", "Implementation Steps", STEPS, required=True, synonyms=(
        "steps", "implementation", "implementation plan", "plan", "tasks", "phases",
        "implementation phases", "work breakdown", "milestones", "task breakdown")),
    Section("testing_strategy", "Testing Strategy", GROUP, required=True, synonyms=(
        "testing", "tests", "test plan", "testing plan", "verification", "validation",
        "test strategy")),
    Section("unit_testing", "Unit Testing", PROSE, parent="testing_strategy",
            synonyms=("unit tests", "unit test")),
    Section("integration_testing", "Integration Testing", PROSE, parent="testing_strategy",
            synonyms=("integration tests", "integration test", "end-to-end tests")),
    Section("manual_testing", "Manual Testing", PROSE, parent="testing_strategy",
            synonyms=("manual tests", "manual verification", "manual checks")),
    Section("risk_assessment", "Risk Assessment", GROUP, synonyms=(
        "risks", "risk", "risk mitigation", "risks and mitigations", "risks & mitigations",
        "risk analysis", "risks and mitigation")),
    Section("high_risk_items", "High Risk Items", PROSE, parent="risk_assessment",
            synonyms=("high risks", "high risk", "high-risk items")),
    Section("medium_risk_items", "Medium Risk Items", PROSE, parent="risk_assessment",
            synonyms=("medium risks", "medium risk", "medium-risk items")),
    Section("risk_dependencies", "Dependencies", PROSE, parent="risk_assessment",
            synonyms=("external dependencies",)),
    Section("success_criteria", "Success Criteria", CRITERIA, synonyms=(
        "success metrics", "acceptance criteria", "definition of done", "done when",
        "exit criteria")),
    Section("rollback_plan", "Rollback Plan", GROUP, required=True, synonyms=(
        "rollback", "rollback strategy", "rollback procedure", "revert plan", "rollback steps")),
    Section("rollback_if_fails", "If Implementation Fails", PROSE, parent="rollback_plan"),
    Section("rollback_partial", "Partial Implementation", PROSE, parent="rollback_plan"),
    Section("review_checklist", "Review Checklist", REVIEW_CHECKLIST),
    Section("approval", "Approval", APPROVAL, synonyms=("sign-off", "sign off")),
)


def top_level() -> list[Section]:
    """The '##' sections, in order."""
    return [section for section in SECTIONS if not section.parent]


def prose() -> list[Section]:
    """The sections that hold Markdown text of their own ('##' or '###'), in order."""
    return [section for section in SECTIONS if section.kind == PROSE]


def prose_keys() -> list[str]:
    return [section.key for section in prose()]


def names(section: Section) -> list[str]:
    """Every heading that means this section, casefolded: its own, then its synonyms."""
    return [section.heading.casefold(), *section.synonyms]


def get(key: str) -> Section:
    """The section with this key (KeyError if there is none)."""
    for section in SECTIONS:
        if section.key == key:
            return section
    raise KeyError(key)


def _section_attribute(key: str) -> property:
    def read(obj) -> str:
        return obj.sections.get(key, "")

    def write(obj, value: str) -> None:
        obj.sections[key] = value

    return property(read, write, doc=f"The Markdown of the {key!r} section (in .sections).")


def section_attributes(cls: type) -> type:
    """Class decorator: an attribute per prose section (``plan.problem_statement``) that reads
    and writes ``obj.sections[key]``, so code and tests keep the names they used when each
    section was a field of its own (Django also accepts them as Plan(...) keywords).

    Only the sections in the table when the class is made get one; code that must see every
    section (including one a test adds) reads ``obj.sections`` by key.
    """
    for key in prose_keys():
        setattr(cls, key, _section_attribute(key))
    return cls

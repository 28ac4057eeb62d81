"""Lossless import and export of a plan as the Markdown of shared/plan-template.md.

Two layers:
- ``parse_plan`` / ``render_plan`` turn text into a ``PlanDocument`` and back, with no Django.
  Template placeholders become "" (or []) on import, and empties become placeholders on export,
  so the bare template imports as an empty plan and exports back to itself.
- ``document_from_plan`` / ``export_plan`` read a plan into a document; writing one into a plan
  is plans/services.py's ``apply_document`` (the editor's writers).

Which sections there are, their headings and order come from plans/schema.py. The placeholders
are not written out here: ``PLACEHOLDERS`` is the bare template parsed as is.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from plans import schema
from plans.document import (
    RISK_LEVELS,
    Approval,
    CheckItem,
    ExtraSection,
    FileChange,
    PlanDocument,
    Step,
)

if TYPE_CHECKING:
    from plans.models import Plan

__all__ = [
    "PLACEHOLDERS",
    "SECTION_KEYS",
    "TEMPLATE",
    "MarkdownImportError",
    "canonical_text",
    "content_hash_text",
    "document_from_plan",
    "export_plan",
    "parse_created",
    "parse_estimate_hours",
    "parse_plan",
    "parse_risk",
    "render_plan",
]

MAX_BYTES = 1_000_000

# A verbatim copy of shared/plan-template.md (tests check that they agree).
TEMPLATE = """\
# Implementation Plan - [Feature Name]

*Created: [DATE]*
*Status: PENDING_REVIEW*

## Problem Statement
Brief description of the problem or feature request.

## Current State Analysis
### Existing System
- Current implementation details
- Known limitations
- Dependencies

### Research Findings
- Key insights from Phase 1 research
- Technical constraints
- Available resources

## Proposed Solution
### High-Level Approach
- Overall strategy
- Key design decisions
- Trade-offs considered

### Technical Design
- Architecture changes needed
- New components to create
- Existing components to modify

## Implementation Steps

### Step 1: [Description]
**Objective**: What this step accomplishes
**Actions**:
- [ ] Specific task 1
- [ ] Specific task 2
- [ ] Specific task 3

**Files to Modify/Create**:
- `path/to/file1.py` - Description of changes
- `path/to/file2.sh` - Description of changes

**Dependencies**: Any prerequisites
**Estimated Time**: X hours
**Risk Level**: Low/Medium/High

### Step 2: [Description]
**Objective**: What this step accomplishes
**Actions**:
- [ ] Specific task 1
- [ ] Specific task 2

**Files to Modify/Create**:
- List of files

**Dependencies**: Dependencies on previous steps
**Estimated Time**: X hours
**Risk Level**: Low/Medium/High

### Step 3: [Description]
**Objective**: What this step accomplishes
**Actions**:
- [ ] Final tasks

**Files to Modify/Create**:
- List of files

**Dependencies**: Final dependencies
**Estimated Time**: X hours
**Risk Level**: Low/Medium/High

## Testing Strategy
### Unit Testing
- Test cases to write
- Existing tests to update
- Coverage requirements

### Integration Testing
- Integration points to test
- Test scenarios
- Test data requirements

### Manual Testing
- Manual test procedures
- User acceptance criteria
- Edge cases to verify

## Risk Assessment
### High Risk Items
- List potential high-risk aspects
- Mitigation strategies

### Medium Risk Items
- Moderate risks and mitigations

### Dependencies
- External dependencies
- Version requirements
- Compatibility considerations

## Success Criteria
- [ ] Functional requirement 1
- [ ] Functional requirement 2
- [ ] Performance requirement 1
- [ ] Quality requirement 1

## Rollback Plan
### If Implementation Fails
- Steps to revert changes
- Data recovery procedures
- Service restoration steps

### Partial Implementation
- How to handle incomplete implementation
- Safe stopping points

## Review Checklist
*For human reviewer:*

### Technical Review
- [ ] Solution addresses the problem completely
- [ ] Implementation steps are clear and actionable
- [ ] Dependencies are identified correctly
- [ ] Risk assessment is realistic
- [ ] Testing strategy is comprehensive

### Project Alignment
- [ ] Aligns with project architecture
- [ ] Follows coding standards
- [ ] Maintains backward compatibility
- [ ] Considers security implications

### Resource Planning
- [ ] Time estimates are reasonable
- [ ] Required skills are available
- [ ] No conflicting work planned

### Documentation
- [ ] Plan is clear and detailed
- [ ] Success criteria are measurable
- [ ] Rollback plan is viable

## Approval
**Reviewer**: [Name]
**Date**: [Date]
**Status**: [APPROVED/NEEDS_REVISION/REJECTED]
**Comments**:

---
**NOTE**: This plan must be reviewed and approved before proceeding to Phase 3 (Implementation).
"""

FOOTER = TEMPLATE.rstrip("\n").splitlines()[-2:]  # ["---", "**NOTE**: ..."]

#: The '##' section keys as the schema had them at import (what ExtraSection.after may be);
#: this module reads schema.top_level() when it runs.
SECTION_KEYS = [section.key for section in schema.top_level()]

_STEP_FIELDS = {  # label as written (casefolded) -> Step attribute
    "objective": "objective",
    "actions": "actions",
    "files to modify/create": "files",
    "dependencies": "dependencies",
    "estimated time": "estimate",
    "risk level": "risk",
}
_APPROVAL_FIELDS = {"reviewer": "reviewer", "date": "date", "status": "status",
                    "comments": "comments"}  # fmt: skip

_H1_RE = re.compile(r"^#[ \t]+Implementation Plan[ \t]+-[ \t]*(?P<title>.*?)[ \t]*$", re.I)
_HEADING_RE = re.compile(r"^(?P<hashes>#{1,6})(?:[ \t]+(?P<text>.*?))?[ \t]*$")
_STEP_RE = re.compile(r"^Step[ \t]+\d+[ \t]*:[ \t]*(?P<title>.*)$", re.I)
_META_RE = re.compile(r"^\*(?P<label>Created|Status):[ \t]*(?P<value>.*?)[ \t]*\*$", re.I)
_FIELD_RE = re.compile(r"^\*\*(?P<label>[^*]+?)(?::\*\*|\*\*:)[ \t]*(?P<value>.*?)[ \t]*$")
_CHECK_RE = re.compile(r"^[-*+][ \t]+\[(?P<mark>[ xX])\][ \t]+(?P<text>\S.*)$")
_BULLET_RE = re.compile(r"^[-*+][ \t]+(?P<text>\S.*)$")
_FILE_RE = re.compile(r"^`(?P<path>[^`]+)`(?: - (?P<description>.*))?$")
_FENCE_RE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class MarkdownImportError(ValueError):
    """The text is not a plan; ``line`` (1-based, None for the whole document) says where."""

    def __init__(self, line: int | None, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}" if line is not None else message)


# --- text to lines ---------------------------------------------------------------------------


def _decode(text: str | bytes) -> str:
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise MarkdownImportError(None, "the file is larger than the 1 MB limit")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = text.count(b"\n", 0, exc.start) + 1
            raise MarkdownImportError(
                line, f"the file is not valid UTF-8 (byte {exc.start}); save it as UTF-8"
            ) from None
    elif len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise MarkdownImportError(None, "the text is larger than the 1 MB limit")
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise MarkdownImportError(line, "the text contains a NUL character; remove it")
    return text


def _in_code(lines: list[str]) -> list[bool]:
    """For each line, whether it belongs to a fenced code block (fences included)."""
    flags, fence = [], ""
    for line in lines:
        match = _FENCE_RE.match(line)
        if not fence and match:
            fence = match["fence"]
            flags.append(True)
        elif fence:
            flags.append(True)
            stripped = line.strip()
            if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                fence = ""
        else:
            flags.append(False)
    return flags


def _prose(lines: Iterable[str]) -> str:
    """Lines as one Markdown string, without leading and trailing blank lines."""
    lines = list(lines)
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def _same(a: str, b: str) -> bool:
    """Equal up to trailing whitespace on each line."""

    def lines(text: str) -> list[str]:
        return [line.rstrip() for line in text.strip().split("\n")]

    return lines(a) == lines(b)


def _quote(line: str) -> str:
    return repr(line if len(line) <= 60 else line[:57] + "...")


# --- parsing ---------------------------------------------------------------------------------


@dataclass
class _Block:
    """A heading (or the document start) and the lines up to the next heading of its level."""

    title: str
    line: int  # index of the heading line
    body: list[int]  # indexes of the body lines


class _Parser:
    def __init__(self, text: str, *, check: bool = True) -> None:
        self.lines = text.split("\n")
        self.code = _in_code(self.lines)
        self.check = check  # False only to read the template itself into PLACEHOLDERS

    def error(self, index: int, message: str) -> MarkdownImportError:
        return MarkdownImportError(min(index, len(self.lines) - 1) + 1, message)

    def heading(self, index: int, level: int) -> str | None:
        """The text of a heading of exactly this level on this line (None if not one)."""
        if self.code[index]:
            return None
        match = _HEADING_RE.match(self.lines[index])
        if match is None or len(match["hashes"]) != level:
            return None
        return match["text"] or ""

    def split(self, indexes: list[int], level: int) -> tuple[list[int], list[_Block]]:
        """Lines before the first heading of ``level``, and one block per such heading."""
        before: list[int] = []
        blocks: list[_Block] = []
        for i in indexes:
            text = self.heading(i, level)
            if text is not None:
                blocks.append(_Block(text, i, []))
            elif blocks:
                blocks[-1].body.append(i)
            else:
                before.append(i)
        return before, blocks

    def text(self, indexes: Iterable[int]) -> str:
        return _prose(self.lines[i] for i in indexes)

    def parse(self) -> PlanDocument:
        doc = PlanDocument()
        end = self.footer_start()
        header, blocks = self.split(list(range(end)), 2)
        self.parse_header(doc, header)

        sections = schema.top_level()
        known = {section.heading.casefold(): section.key for section in sections}
        found: dict[str, _Block] = {}
        after = ""
        for block in blocks:
            key = known.get(block.title.strip().casefold())
            if key is None:
                doc.extra_sections.append(ExtraSection(block.title, self.text(block.body), after))
                continue
            if key in found:
                raise self.error(block.line, f"the section '## {block.title}' appears twice")
            found[key] = block
            after = key

        for position, section in enumerate(sections):
            block = found.get(section.key)
            # The reviewer's sections may be left out; and the template itself (read unchecked)
            # may lack a section added to the schema since: it then has no placeholder.
            if block is None and (section.kind in schema.REVIEWER_KINDS or not self.check):
                continue
            if block is None:
                raise self.missing(section, sections[position + 1 :], found, end)
            self.parse_section(doc, section, block)
        return doc

    def parse_section(self, doc: PlanDocument, section: schema.Section, block: _Block) -> None:
        if section.kind == schema.STEPS:
            doc.steps = self.parse_steps(block)
        elif section.kind == schema.CRITERIA:
            doc.success_criteria = self.parse_checklist(block.body, "a success criterion")
        elif section.kind == schema.APPROVAL:
            doc.approval = self.parse_approval(block)
        elif section.kind == schema.GROUP:
            self.parse_subsections(doc, block, section.children())
        elif section.kind == schema.REVIEW_CHECKLIST:
            doc.review_checklist = self.text(block.body)
        else:
            doc.sections[section.key] = self.text(block.body)

    def footer_start(self) -> int:
        """Index where the closing '---' / '**NOTE**' lines start (or the number of lines)."""
        content = [i for i, line in enumerate(self.lines) if line.strip()]
        if len(content) >= 2 and not self.code[content[-1]]:
            last, before = content[-1], content[-2]
            if [self.lines[before].strip(), self.lines[last].strip()] == FOOTER:
                return before
        return len(self.lines)

    def missing(
        self, section: schema.Section, later: list[schema.Section], found: dict[str, _Block],
        end: int,
    ) -> MarkdownImportError:
        for after in later:
            if after.key in found:
                return self.error(
                    found[after.key].line,
                    f"missing section '## {section.heading}'; expected it before "
                    f"'## {after.heading}'",
                )
        return self.error(end, f"missing section '## {section.heading}'; expected it at the end")

    def parse_header(self, doc: PlanDocument, indexes: list[int]) -> None:
        content = [i for i in indexes if self.lines[i].strip()]
        if not content or not (match := _H1_RE.match(self.lines[content[0]])):
            first = content[0] if content else 0
            raise self.error(
                first,
                "expected '# Implementation Plan - <title>' as the first line, got "
                + _quote(self.lines[first].strip()),
            )
        if not match["title"]:
            raise self.error(content[0], "expected a title after '# Implementation Plan - '")
        doc.title = match["title"]
        for i in content[1:]:
            meta = _META_RE.match(self.lines[i].strip())
            if meta is None:
                raise self.error(
                    i,
                    "expected '*Created: <date>*' or '*Status: <status>*' before the first "
                    f"section, got {_quote(self.lines[i].strip())}",
                )
            setattr(doc, meta["label"].lower(), meta["value"])

    def parse_subsections(
        self, doc: PlanDocument, block: _Block, subsections: list[schema.Section]
    ) -> None:
        """Known H3s fill their section; an unknown H3 stays as text in the section above it."""
        names = {section.heading.casefold(): section.key for section in subsections}
        bodies: dict[str, list[int]] = {}
        current: str | None = None
        for i in block.body:
            text = self.heading(i, 3)
            name = names.get(text.strip().casefold()) if text is not None else None
            if name is not None:
                if name in bodies:
                    raise self.error(i, f"the subsection '### {text}' appears twice")
                current = name
                bodies[name] = []
            elif current is not None:
                bodies[current].append(i)
            elif self.lines[i].strip():
                raise self.error(
                    i,
                    f"expected '### {subsections[0].heading}' to open '## {block.title}', "
                    f"got {_quote(self.lines[i].strip())}",
                )
        for name, indexes in bodies.items():
            doc.sections[name] = self.text(indexes)

    def parse_steps(self, block: _Block) -> list[Step]:
        before, blocks = self.split(block.body, 3)
        for i in before:
            if self.lines[i].strip():
                raise self.error(i, f"expected '### Step 1: <title>', got {_quote(self.lines[i])}")
        owners = {  # a subsection's heading -> the heading of its '##' section
            section.heading.casefold(): schema.get(section.parent).heading
            for section in schema.SECTIONS if section.parent
        }  # fmt: skip
        steps = []
        for number, step_block in enumerate(blocks, start=1):
            match = _STEP_RE.match(step_block.title)
            owner = owners.get(step_block.title.strip().casefold())
            if match is None and owner is not None:  # its '## ...' heading is missing
                raise self.error(
                    step_block.line,
                    f"'### {step_block.title}' belongs under a '## {owner}' section; expected "
                    f"'## {owner}' before it (or '### Step {number}: <title>')",
                )
            if match is None:
                raise self.error(
                    step_block.line,
                    f"expected '### Step {number}: <title>', got '### {step_block.title}'",
                )
            if not match["title"].strip():
                raise self.error(step_block.line, f"expected a title after 'Step {number}:'")
            steps.append(self.parse_step(match["title"].strip(), step_block.body, number))
        return steps

    def parse_step(self, title: str, indexes: list[int], number: int) -> Step:
        step = Step(title=title)
        seen: set[str] = set()
        current: str | None = None  # the field whose lines we are reading
        previous_blank = True
        for i in indexes:
            line = self.lines[i]
            field_match = None if self.code[i] else _FIELD_RE.match(line)
            if field_match is not None:
                label = field_match["label"].strip()
                current = _STEP_FIELDS.get(label.casefold())
                if current is None:
                    raise self.error(i, f"unknown field '**{label}**' in step {number}")
                if current in seen:
                    raise self.error(i, f"'**{label}**' appears twice in step {number}")
                seen.add(current)
                self.step_field(step, current, field_match["value"], i)
            elif not line.strip():
                pass
            elif current in ("objective", "dependencies") and not previous_blank:
                setattr(step, current, getattr(step, current) + "\n" + line)
            elif current == "actions":
                self.check_item(i, step.actions, previous_blank, "an action")
            elif current == "files":
                self.file_item(i, step.files, previous_blank)
            else:
                raise self.error(
                    i,
                    f"unexpected text in step {number}; expected a field such as "
                    f"'**Objective**:' or '**Risk Level**:', got {_quote(line.strip())}",
                )
            previous_blank = not line.strip()
        return step

    def step_field(self, step: Step, name: str, value: str, i: int) -> None:
        if name in ("actions", "files"):
            if value:
                raise self.error(i, "expected the list on the lines below, not on this line")
        elif name == "risk" and self.check:
            try:
                level = parse_risk(value)
            except ValueError as exc:
                raise self.error(i, str(exc)) from None
            step.risk = level.capitalize() if level else value  # the placeholder stays as is
        elif name == "estimate" and self.check:
            try:
                parse_estimate_hours(value)
            except ValueError as exc:
                raise self.error(i, str(exc)) from None
            step.estimate = value
        else:
            setattr(step, name, value)

    def check_item(self, i: int, items: list[CheckItem], previous_blank: bool, what: str) -> None:
        """A '- [ ] text' line starts an item; an indented line right below continues it."""
        line = self.lines[i]
        match = None if self.code[i] else _CHECK_RE.match(line)
        if match is not None:
            items.append(CheckItem(match["text"].rstrip(), match["mark"] != " "))
        elif items and line[:1].isspace() and not previous_blank:
            items[-1].text += "\n" + line
        else:
            raise self.error(i, f"expected {what} like '- [ ] text', got {_quote(line.strip())}")

    def file_item(self, i: int, files: list[FileChange], previous_blank: bool) -> None:
        """'- `path` - description' or '- free text'; an indented line right below continues."""
        line = self.lines[i]
        match = None if self.code[i] else _BULLET_RE.match(line)
        if match is None:
            if files and line[:1].isspace() and not previous_blank:
                files[-1].description += "\n" + line
                return
            raise self.error(
                i, f"expected a file like '- `path` - description', got {_quote(line.strip())}"
            )
        text = match["text"].rstrip()
        path_match = _FILE_RE.match(text)
        if path_match is None:
            files.append(FileChange("", text))
        else:
            files.append(FileChange(path_match["path"], path_match["description"] or ""))

    def parse_checklist(self, indexes: list[int], what: str) -> list[CheckItem]:
        items: list[CheckItem] = []
        previous_blank = True
        for i in indexes:
            if self.lines[i].strip():
                self.check_item(i, items, previous_blank, what)
            previous_blank = not self.lines[i].strip()
        return items

    def parse_approval(self, block: _Block) -> Approval:
        approval = Approval()
        comments: list[str] | None = None  # lines from '**Comments**:' to the end
        for i in block.body:
            line = self.lines[i]
            match = None if self.code[i] else _FIELD_RE.match(line)
            name = _APPROVAL_FIELDS.get(match["label"].strip().casefold()) if match else None
            if match is not None and name == "comments":
                comments = [match["value"]]
            elif match is not None and name is not None:
                setattr(approval, name, match["value"])
            elif comments is not None:
                comments.append(line)
            elif line.strip():
                raise self.error(
                    i,
                    "expected '**Reviewer**:', '**Date**:', '**Status**:' or '**Comments**:', "
                    f"got {_quote(line.strip())}",
                )
        approval.comments = _prose(comments or [])
        return approval


def parse_risk(text: str) -> str:
    """The risk level meant, as stored: 'low', 'medium' or 'high', whatever the case.

    "" and the template's placeholder mean none (""); anything else is a ValueError.
    """
    cleaned = text.strip().casefold()
    if cleaned in ("", PLACEHOLDERS.steps[0].risk.casefold()):
        return ""
    if cleaned in (level.casefold() for level in RISK_LEVELS):
        return cleaned
    raise ValueError(f"expected a risk level of Low, Medium or High, got {text!r}")


def parse_created(text: str) -> date | None:
    """The *Created:* date: YYYY-MM-DD, or "" for none; anything else is a ValueError."""
    if not text:
        return None
    try:
        if not _ISO_DATE_RE.match(text):  # fromisoformat also takes 20261120 and week dates
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected the Created date as YYYY-MM-DD, got {text!r}") from None


_HOURS_PER_UNIT = {"hour": Decimal(1), "minute": Decimal(1) / Decimal(60), "day": Decimal(8)}
_UNITS = {
    "h": "hour", "hr": "hour", "hrs": "hour", "hour": "hour", "hours": "hour",
    "m": "minute", "min": "minute", "mins": "minute", "minute": "minute", "minutes": "minute",
    "d": "day", "day": "day", "days": "day",
}  # fmt: skip
_NUMBER = r"\d+(?:\.\d+)?"
MAX_ESTIMATE_HOURS = 100_000  # PlanStep.estimated_hours holds at most 999999.99
_ESTIMATE_RE = re.compile(
    rf"^(?:{_NUMBER}[ \t]*[-–][ \t]*)?(?P<n>{_NUMBER})[ \t]*(?P<unit>[a-z]+)$"
)


def parse_estimate_hours(text: str) -> Decimal | None:
    """Hours meant by an estimate as people write it; a range counts as its upper bound.

    "4 hours", "1.5 hours", "30 minutes", "45 min", "2-3 hours" (3), "1 day" (8 hours), "0.5h".
    "" and the template's placeholder mean no estimate (None); anything else is a ValueError.
    """
    cleaned = text.strip().lower()
    if cleaned in ("", PLACEHOLDERS.steps[0].estimate.lower()):
        return None
    match = _ESTIMATE_RE.match(cleaned)
    unit = _UNITS.get(match["unit"]) if match else None
    if match is None or unit is None:
        raise ValueError(
            "expected an estimated time such as '4 hours', '30 minutes', '2-3 hours' or "
            f"'1 day', got {text.strip()!r}"
        )
    hours = (Decimal(match["n"]) * _HOURS_PER_UNIT[unit]).quantize(Decimal("0.01"))
    if hours >= MAX_ESTIMATE_HOURS:
        raise ValueError(
            f"an estimated time must be under {MAX_ESTIMATE_HOURS:,} hours, got {text.strip()!r}; "
            "split the step into smaller ones"
        )
    return hours


# --- placeholders ----------------------------------------------------------------------------

PLACEHOLDERS: PlanDocument = _Parser(TEMPLATE, check=False).parse()
"""The bare template, read as is: every field holds its placeholder text."""

_STEP_SCALARS = ["title", "objective", "dependencies", "estimate", "risk"]
_HEADER_FIELDS = ["title", "created"]  # status is kept as written; "" exports as the template's
_APPROVAL_NAMES = [f.name for f in fields(Approval)]


def _is_template_step(step: Step) -> bool:
    """Every value of the step is empty or one the template's steps use."""
    for f in fields(Step):
        value = getattr(step, f.name)
        used = [getattr(template_step, f.name) for template_step in PLACEHOLDERS.steps]
        if isinstance(value, list):
            if any(item not in [x for items in used for x in items] for item in value):
                return False
        elif value and value not in used:
            return False
    return True


def _without_placeholders(doc: PlanDocument) -> PlanDocument:
    ph = PLACEHOLDERS
    for name in [*_HEADER_FIELDS, "review_checklist"]:
        if _same(getattr(doc, name), getattr(ph, name)):
            setattr(doc, name, "")
    for key, text in doc.sections.items():
        if _same(text, ph.sections.get(key, "")):
            doc.sections[key] = ""
    for name in _APPROVAL_NAMES:
        if _same(getattr(doc.approval, name), getattr(ph.approval, name)):
            setattr(doc.approval, name, "")
    if all(_is_template_step(step) for step in doc.steps):
        doc.steps = []
    for step in doc.steps:
        for name in _STEP_SCALARS:
            if getattr(step, name) == getattr(ph.steps[0], name):
                setattr(step, name, "")
    if all(item in ph.success_criteria for item in doc.success_criteria):
        doc.success_criteria = []
    return doc


def _with_placeholders(doc: PlanDocument) -> PlanDocument:
    doc, ph = copy.deepcopy(doc), PLACEHOLDERS
    for name in [*_HEADER_FIELDS, "status", "review_checklist"]:
        if not getattr(doc, name).strip():
            setattr(doc, name, getattr(ph, name))
    for key in schema.prose_keys():
        if not doc.sections.get(key, "").strip():
            doc.sections[key] = ph.sections.get(key, "")
    for name in _APPROVAL_NAMES:
        if not getattr(doc.approval, name).strip():
            setattr(doc.approval, name, getattr(ph.approval, name))
    doc.steps = doc.steps or copy.deepcopy(ph.steps)
    for step in doc.steps:
        for name in _STEP_SCALARS:
            if not getattr(step, name).strip():
                setattr(step, name, getattr(ph.steps[0], name))
    doc.success_criteria = doc.success_criteria or copy.deepcopy(ph.success_criteria)
    return doc


# --- public: text <-> document ---------------------------------------------------------------


def parse_plan(text: str | bytes) -> PlanDocument:
    """Read a plan written in the template's Markdown; placeholders become empty values.

    Raises MarkdownImportError naming the line and what was expected there.
    """
    return _without_placeholders(_Parser(_decode(text)).parse())


def render_plan(doc: PlanDocument) -> str:
    """The document in the template's exact layout; empty values become placeholders."""
    doc = _with_placeholders(doc)
    sections = schema.top_level()
    keys = [section.key for section in sections]
    extras: dict[str, list[ExtraSection]] = {}
    for extra in doc.extra_sections:
        after = extra.after if extra.after in ("", *keys) else keys[-1]
        extras.setdefault(after, []).append(extra)

    out = [f"# Implementation Plan - {doc.title}", "", f"*Created: {doc.created}*",
           f"*Status: {doc.status}*", ""]  # fmt: skip
    out += _render_extras(extras.get("", []))
    for section in sections:
        out += [f"## {section.heading}", *_render_section(doc, section)]
        out += _render_extras(extras.get(section.key, []))
    return "\n".join([*out, *FOOTER]) + "\n"


def _render_section(doc: PlanDocument, section: schema.Section) -> list[str]:
    """The lines below a '##' heading, up to and including the blank line that ends them."""
    if section.kind == schema.STEPS:
        steps = enumerate(doc.steps, start=1)
        return ["", *(line for number, step in steps for line in _render_step(number, step))]
    if section.kind == schema.CRITERIA:
        return [*_render_checklist(doc.success_criteria), ""]
    if section.kind == schema.APPROVAL:
        a = doc.approval
        # One line stays on the label's line; more go below it (a fence must open a line).
        comments = f"\n{a.comments}" if "\n" in a.comments else f" {a.comments}".rstrip()
        return [f"**Reviewer**: {a.reviewer}", f"**Date**: {a.date}",
                f"**Status**: {a.status}", f"**Comments**:{comments}", ""]  # fmt: skip
    if section.kind == schema.GROUP:
        return [line for sub in section.children()
                for line in (f"### {sub.heading}", doc.sections.get(sub.key, ""), "")]
    if section.kind == schema.REVIEW_CHECKLIST:
        return [doc.review_checklist, ""]
    return [doc.sections.get(section.key, ""), ""]


def _render_extras(extras: list[ExtraSection]) -> list[str]:
    out: list[str] = []
    for extra in extras:
        out += [f"## {extra.heading}", *([extra.body] if extra.body else []), ""]
    return out


def _render_checklist(items: list[CheckItem]) -> list[str]:
    return [f"- [{'x' if item.checked else ' '}] {item.text}" for item in items]


def _render_file(change: FileChange) -> str:
    if not change.path:
        return f"- {change.description}"
    if not change.description:
        return f"- `{change.path}`"
    return f"- `{change.path}` - {change.description}"


def _render_step(number: int, step: Step) -> list[str]:
    return [
        f"### Step {number}: {step.title}",
        f"**Objective**: {step.objective}",
        "**Actions**:",
        *_render_checklist(step.actions),
        "",
        "**Files to Modify/Create**:",
        *(_render_file(change) for change in step.files),
        "",
        f"**Dependencies**: {step.dependencies}",
        f"**Estimated Time**: {step.estimate}",
        f"**Risk Level**: {step.risk}",
        "",
    ]


def canonical_text(doc: PlanDocument) -> str:
    """The export with status and approval as placeholders: what a content hash is taken of."""
    return render_plan(replace(doc, status="", approval=Approval()))


# --- public: document <-> models -------------------------------------------------------------


def document_from_plan(plan: Plan, approval: Approval | None = None) -> PlanDocument:
    """The plan's content as a document (uses prefetched steps, actions, files and criteria)."""
    return PlanDocument(
        title=plan.title,
        created=plan.created_on.isoformat() if plan.created_on else "",
        status=str(plan.status),
        sections={key: plan.sections.get(key, "") for key in schema.prose_keys()},
        review_checklist=plan.review_checklist,
        steps=[
            Step(
                title=step.title,
                objective=step.objective,
                actions=[CheckItem(a.text, a.done) for a in step.actions.all()],
                files=[FileChange(f.path, f.description) for f in step.files.all()],
                dependencies=step.dependencies,
                estimate=step.estimate,
                risk=step.risk.capitalize(),
            )
            for step in plan.steps.all()
        ],
        success_criteria=[CheckItem(c.text, c.done) for c in plan.success_criteria.all()],
        approval=approval or Approval(),
        extra_sections=[
            ExtraSection(e["heading"], e.get("body", ""), e.get("after", ""))
            for e in plan.extra_sections or []
        ],
    )


def export_plan(plan: Plan, approval: Approval | None = None) -> str:
    return render_plan(document_from_plan(plan, approval))


def content_hash_text(plan: Plan) -> str:
    """The export with status and approval forced to placeholders (see canonical_text)."""
    return canonical_text(document_from_plan(plan))

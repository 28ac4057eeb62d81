"""Plans as Markdown: a tolerant importer and a format-preserving exporter.

Any UTF-8 Markdown plan imports (up to 1 MB). What is recognised fills the structure of
plans/schema.py; everything else is kept as written, where it stood. Nothing is refused for its
shape: ``parse_plan_with_warnings`` reports every finding at once, each with its line. Only text
that is not text (not UTF-8, a NUL byte) or too large raises MarkdownImportError.

Two layers:
- ``parse_plan`` / ``render_plan`` turn text into a ``PlanDocument`` and back, with no Django.
  ``render_plan`` writes the template's exact layout (a plan made in the editor); template
  placeholders become "" on import and empties become placeholders on that export.
- ``patch_source(source, document)`` is the export of an imported plan: the source text with only
  the fields that differ from what the source says rewritten in place, in the source's own style
  (the parser records where each field came from: ``_Parsed.spans``). Unedited, it is the source,
  byte for byte.

``document_from_plan`` / ``export_plan`` read a plan into a document and its Markdown; writing a
document into a plan is plans/services.py's ``apply_document``.
"""

from __future__ import annotations

import copy
import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal
from functools import cached_property, lru_cache
from pathlib import Path
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
    "Finding",
    "ImportReport",
    "MarkdownImportError",
    "StepLines",
    "canonical_text",
    "content_hash_text",
    "decode_plan",
    "decode_text",
    "document_from_plan",
    "estimate_hours",
    "export_plan",
    "heading_key",
    "normalise_text",
    "parse_created",
    "parse_estimate_hours",
    "parse_plan",
    "parse_plan_with_warnings",
    "parse_risk",
    "patch_source",
    "read_back",
    "render_plan",
    "step_lines",
]

MAX_BYTES = 1_000_000

#: The plan template (plans/plan-template.md): what authors and agents are asked to follow.
TEMPLATE_PATH = Path(__file__).with_name("plan-template.md")
TEMPLATE = TEMPLATE_PATH.read_text(encoding="utf-8")

#: Demo plans in several shapes (``manage.py seed_demo`` imports them; tests read them too).
DEMO_DIR = Path(__file__).with_name("demo")

FOOTER = TEMPLATE.rstrip("\n").splitlines()[-2:]  # ["---", "**NOTE**: ..."]

#: The '##' section keys as the schema had them at import (what ExtraSection.after may be);
#: this module reads schema.top_level() when it runs.
SECTION_KEYS = [section.key for section in schema.top_level()]

# Limits of the model fields a parsed value goes into (plans/models.py); a value over them stays
# in the text (a step's notes) with a warning instead of failing the import.
MAX_TITLE, MAX_STEP_TITLE, MAX_ESTIMATE, MAX_ITEM, MAX_PATH = 200, 300, 100, 1000, 500

_STEP_FIELDS = {  # label as written (casefolded, without a trailing colon) -> Step attribute
    **dict.fromkeys(["objective", "goal", "purpose", "description", "summary", "what"],
                    "objective"),
    **dict.fromkeys(["actions", "tasks", "todo", "to do", "changes", "action items", "steps"],
                    "actions"),
    **dict.fromkeys(["files to modify/create", "files", "files to modify", "files to create",
                     "files to change", "affected files", "files changed", "file changes",
                     "files to modify / create", "files to touch"], "files"),
    **dict.fromkeys(["dependencies", "depends on", "prerequisites", "requires", "dependency"],
                    "dependencies"),
    **dict.fromkeys(["estimated time", "estimate", "time estimate", "effort", "time",
                     "duration", "estimated effort", "estimation"], "estimate"),
    **dict.fromkeys(["risk level", "risk"], "risk"),
}  # fmt: skip
_LIST_FIELDS = ("actions", "files")
_SCALARS = (None, "objective", "dependencies", "estimate", "risk")  # plain bullets may follow
_FIELD_LABELS = {"objective": "Objective", "actions": "Actions",
                 "files": "Files to Modify/Create", "dependencies": "Dependencies",
                 "estimate": "Estimated Time", "risk": "Risk Level"}  # fmt: skip
_APPROVAL_FIELDS = {"reviewer": "reviewer", "date": "date", "status": "status",
                    "comments": "comments", "approved by": "reviewer"}  # fmt: skip
_DECISIONS = ("APPROVED", "NEEDS_REVISION", "NEEDS REVISION", "REJECTED")

_HEADING_RE = re.compile(r"^(?P<indent>)(?P<hashes>#{1,6})(?:[ \t]+(?P<text>.*?))?[ \t]*$")
_H1_TITLE_RE = re.compile(
    r"^(?:implementation[ \t]+plan|plan)[ \t]*(?:[-:–—|][ \t]*)(?P<title>\S.*)$", re.I)
# A step's number and its one separator: "." or ")" against the number ("1.", "3)", "1.-" as
# one), else one of ":.-)" or a dash after it ("Step 2:", "1 -"). Punctuation after that is the
# title's ("### 1. - Fix" is titled "- Fix").
_STEP_RE = re.compile(
    r"^(?:(?:step|phase|stage|part|task|milestone)[ \t]*\d+(?:\.\d+)*|\d+(?:\.\d+)*)"
    r"(?=[ \t:.\-–—)]|$)(?:[.)][:\-–—]?|[ \t]*[:.\-–—)])?[ \t]*", re.I)
_NUMBER_PREFIX = re.compile(r"^(?:\d+(?:\.\d+)*[.)]?|[ivx]+\.)[ \t]+", re.I)
_META_PRE = r"^(?:>[ \t]*)?(?:[-*+][ \t]+)?"
_META_LABEL = r"(?P<label>created|date|status)"
_META_RES = [  # "*Created: X*", "**Status**: X", "**Status:** X", "Status: X"
    re.compile(_META_PRE + r"(?P<m>\*\*|\*|__|_)" + _META_LABEL
               + r":[ \t]*(?P<value>.*?)[ \t]*(?P=m)[ \t]*$", re.I),
    re.compile(_META_PRE + r"(?P<m>\*\*|__)" + _META_LABEL
               + r"(?P=m)[ \t]*:[ \t]*(?P<value>.*?)[ \t]*$", re.I),
    re.compile(_META_PRE + r"(?P<m>\*\*|__)" + _META_LABEL
               + r":(?P=m)[ \t]*(?P<value>.*?)[ \t]*$", re.I),
    re.compile(_META_PRE + _META_LABEL + r":[ \t]*(?P<value>.*?)[ \t]*$", re.I),
]


def _meta(line: str):
    return next((m for regex in _META_RES if (m := regex.match(line))), None)
_FIELD_RE = re.compile(
    r"^(?P<pre>[ \t]*(?:[-*+][ \t]+)?)(?:\*\*(?P<bold>[^*]+?)(?::\*\*|\*\*[ \t]*:)"
    r"|(?P<plain>[A-Za-z][A-Za-z /-]{1,30}?):(?=[ \t]|$))[ \t]*(?P<value>.*?)[ \t]*$")
_BOLD_FIELD_RE = re.compile(r"^[ \t]*(?:[-*+][ \t]+)?\*\*[^*]+?(?::\*\*|\*\*[ \t]*:)")
_ITEM_RE = re.compile(
    r"^(?P<marker>(?P<bullet>[-*+]|\d{1,9}[.)])[ \t]+)(?:\[(?P<mark>[ xX])\][ \t]+)?"
    r"(?P<text>\S.*?)[ \t]*$")
_FILE_RE = re.compile(r"^`(?P<path>[^`]+)`(?:[ \t]*(?: - |:|—|–)[ \t]*(?P<description>.*))?$")
_FENCE_RE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


class MarkdownImportError(ValueError):
    """The text cannot be read as text; ``line`` (1-based, None: the whole text) says where."""

    def __init__(self, line: int | None, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}" if line is not None else message)


@dataclass(frozen=True, order=True)
class Finding:
    """Something the author may want to fix; never a reason to refuse the plan."""

    line: int  # 1-based
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "message": self.message}


@dataclass
class ImportReport:
    """How closely a plan follows the template, and what the importer noticed."""

    warnings: list[Finding] = field(default_factory=list)
    #: Of the template's sections the author writes (not the Review Checklist and Approval,
    #: which Plangate keeps itself): how many the text has, of how many, and which it lacks.
    sections_found: int = 0
    sections_total: int = 0
    extra_sections: int = 0
    sections_missing: list[str] | None = field(default_factory=list)  # None: not recorded

    def conformance(self) -> str:
        extra = self.extra_sections
        kept = f", {extra} extra section{'s' if extra != 1 else ''} kept" if extra else ""
        missing = f" (not found: {', '.join(self.sections_missing)})" if self.sections_missing \
            else ""
        return (f"{self.sections_found} of {self.sections_total} template sections"
                f"{missing}{kept}")

    @classmethod
    def from_dict(cls, data: dict) -> ImportReport:
        return cls(
            warnings=[Finding(int(w["line"]), str(w["message"])) for w in data.get("warnings", [])],
            sections_found=data.get("sections_found", 0),
            sections_total=data.get("sections_total", len(schema.top_level())),
            extra_sections=data.get("extra_sections", 0),
            # (A report stored before the missing sections were recorded does not know them.)
            sections_missing=data.get("sections_missing"),
        )

    def as_dict(self) -> dict:
        return {"warnings": [w.as_dict() for w in self.warnings],
                "sections_found": self.sections_found, "sections_total": self.sections_total,
                "extra_sections": self.extra_sections,
                "sections_missing": self.sections_missing}  # fmt: skip


# --- text to lines ---------------------------------------------------------------------------


def decode_text(text: str | bytes) -> str:
    """The text as given, decoded and checked: what an imported plan keeps as its source, its
    BOM and line endings (CRLF, CR, LF, mixed) included, so that it exports back byte for byte.

    Raises MarkdownImportError for more than 1 MB, text that is not UTF-8, and NUL characters.
    """
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise MarkdownImportError(None, "the file is larger than the 1 MB limit")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = _fold(text[:exc.start].decode("utf-8", "replace")).count("\n") + 1
            raise MarkdownImportError(
                line, f"the file is not valid UTF-8 (byte {exc.start}); save it as UTF-8"
            ) from None
    elif len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise MarkdownImportError(None, "the text is larger than the 1 MB limit")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = _fold(text[:exc.start]).count("\n") + 1
        raise MarkdownImportError(line, "the text is not valid UTF-8; save it as UTF-8") from None
    if "\x00" in text:
        line = _fold(text[:text.index("\x00")]).count("\n") + 1
        raise MarkdownImportError(line, "the text contains a NUL character; remove it")
    return text


def decode_plan(text: str | bytes) -> str:
    """decode_text of a plan given to import or amend with: one of nothing but blank lines is
    no plan (MarkdownImportError), whether a file, a paste or an API call."""
    text = decode_text(text)
    if not _fold(text).strip():
        raise MarkdownImportError(None, "the plan is empty: it has only blank lines")
    return text


def _fold(text: str) -> str:
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def normalise_text(text: str | bytes) -> str:
    """The text as parsed and hashed: decode_text's, BOM dropped, line endings as LF (a
    checkout that converts line endings holds the same plan)."""
    return _fold(decode_text(text))


#: A line with its ending (CRLF, CR or LF; the last line may have none).
_SOURCE_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _prose(lines) -> str:
    """Lines as one Markdown string, without leading and trailing blank lines."""
    lines = list(lines)
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def _same(a: str, b: str) -> bool:
    """Equal up to surrounding blank lines and trailing whitespace on each line."""
    return _norm(a) == _norm(b)


def _norm(text: str) -> str:
    text = (text or "").strip()
    if "\n" not in text:  # most values: one line, already as the join below would give it
        return text
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _quote(line: str) -> str:
    return repr(line if len(line) <= 60 else line[:57] + "...")


def _single_line(value: str, limit: int) -> bool:
    return len(value) <= limit and not _CONTROL_RE.search(value.replace("\t", " "))


def _list_item_ok(value: str, limit: int = MAX_ITEM) -> bool:
    """What plans.models.validate_list_item accepts: one line, or indented continuations."""
    first, *rest = value.split("\n")
    if len(value) > limit or not _single_line(first, limit):
        return False
    return all(line[:1].isspace() and line.strip() and _single_line(line, limit)
               and not _FENCE_RE.match(line) for line in rest)


def heading_key(text: str) -> str:
    """A heading reduced to what it names: "## 2. Implementation Steps (TDD):" -> "implementation
    steps". Emphasis, numbering, a trailing colon, '#'s and a "(...)" suffix go."""
    text = text.strip().strip("#").strip()
    text = re.sub(r"[*_`]", "", text)
    text = _NUMBER_PREFIX.sub("", text)
    text = re.sub(r"^[^\w(]+", "", text)  # a leading emoji or symbol
    text = re.sub(r"[ \t]*\([^)]*\)[ \t]*$", "", text.rstrip(" \t:."))
    text = text.rstrip(" \t:.")
    return re.sub(r"\s+", " ", text).casefold()


def _lookup(text: str, sections: list[schema.Section]) -> schema.Section | None:
    """The section a heading names: exactly, else by the part before a ' - ' or ': ' suffix."""
    key = heading_key(text)
    candidates = [key]
    for separator in (" - ", " – ", " — ", ": ", " & ", " and "):
        if separator in key and separator not in (" & ", " and "):
            candidates.append(key.split(separator, 1)[0].strip())
    for candidate in candidates:
        for section in sections:
            if candidate in schema.names(section):
                return section
    return None


def _prefer_exact(matches: list[tuple]) -> list[tuple]:
    """(heading, section) pairs, where a synonym loses its section to a heading that names it
    exactly ("## Context" stays an extra section when "## Current State Analysis" follows)."""
    exact = {section.key for (_, text, *_), section in matches
             if section is not None and heading_key(text) == section.heading.casefold()}
    return [(block, None if section is not None and section.key in exact
             and heading_key(block[1]) != section.heading.casefold() else section)
            for block, section in matches]


# --- parsing ---------------------------------------------------------------------------------


@dataclass
class _Item:
    """Where a list item came from: its characters, and how its line begins."""

    start: int  # offsets into the source
    end: int
    indent: str
    bullet: str  # "-", "*", "1." ...
    checkbox: bool


@dataclass
class _StepSpans:
    start: int  # the heading line's start
    end: int  # the start of the next block (the heading that ends the step), or the section end
    content_end: int  # end of the step's last non-blank line
    level: int
    title: tuple[int, int] | None = None
    title_prefix: str = ""  # "Step 2: " as written
    fields: dict = field(default_factory=dict)  # scalar name -> (start, end) of the value
    field_line: dict = field(default_factory=dict)  # list name -> end of its label line
    items: dict = field(default_factory=dict)  # "actions"/"files" -> [_Item]


@dataclass
class _Spans:
    """Where each structured value came from (offsets into the source)."""

    title: tuple[int, int] | None = None
    created: tuple[int, int] | None = None
    header_end: int = 0  # where a missing Created line would go
    sections: dict = field(default_factory=dict)  # prose key -> (start, end) of its body text
    blocks: dict = field(default_factory=dict)  # '##' key -> (heading start, block end)
    level: int = 2  # the level of the '##' sections
    steps: list = field(default_factory=list)  # [_StepSpans], for doc_raw.steps
    steps_end: int | None = None  # where a new step goes
    criteria: list = field(default_factory=list)  # [_Item]
    criteria_end: int | None = None
    review_checklist: tuple[int, int] | None = None
    headings: dict = field(default_factory=dict)  # '###' prose key -> its heading line's start
    end: int = 0  # where a new section goes (before the closing note)
    # A code block never closed: (where its code starts, the line that would close it, where
    # its opening line starts). What an edit adds from there on would be code, so the export
    # closes the block first (_Edits).
    open_fence: tuple[int, str, int] | None = None


@dataclass
class _Parsed:
    document: PlanDocument  # placeholders as ""; values fit the models
    raw: PlanDocument  # as written (placeholders kept), what spans point into
    spans: _Spans
    report: ImportReport

    @cached_property
    def stored_steps(self) -> list[tuple]:
        """The document's steps as _patch_steps compares them: worked out once per parse, not
        once per export (the parse is memoised: _parsed_source)."""
        return _stored_steps(self.document.steps)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.split("\n")
        self.offsets = []
        position = 0
        for line in self.lines:
            self.offsets.append(position)
            position += len(line) + 1
        self.warnings: list[Finding] = []
        self.spans = _Spans(end=len(text))
        self.code = self._in_code()

    # -- helpers ------------------------------------------------------------------------------

    def warn(self, index: int, message: str) -> None:
        self.warnings.append(Finding(min(index, len(self.lines) - 1) + 1, message))

    def _in_code(self) -> list[bool]:
        """For each line, whether it belongs to a fenced code block (fences included). An
        unclosed fence runs to the end, as on GitHub, and is reported at its opening line."""
        flags, fence, opened = [], "", 0
        for index, line in enumerate(self.lines):
            match = _FENCE_RE.match(line)
            if not fence and match and not (match["fence"][0] == "`" and "`" in match["info"]):
                fence, opened = match["fence"], index
                flags.append(True)
            elif fence:
                flags.append(True)
                stripped = line.strip()
                if (len(line) - len(line.lstrip(" ")) <= 3 and stripped.startswith(fence)
                        and set(stripped) == {fence[0]}):
                    fence = ""
            else:
                flags.append(False)
        if fence:
            self.warn(opened, f"a code block opened here ({fence}) is never closed; everything "
                              "after it reads as code")
            opener = self.lines[opened]
            indent = opener[: len(opener) - len(opener.lstrip(" "))]
            self.spans.open_fence = (self.line_end(opened), indent + fence, self.offsets[opened])
        return flags

    def heading(self, index: int) -> tuple[int, str] | None:
        """(level, text) of an ATX heading on this line, outside code."""
        if self.code[index]:
            return None
        match = _HEADING_RE.match(self.lines[index])
        if match is None:
            return None
        return len(match["hashes"]), match["text"] or ""

    def heading_text_span(self, index: int) -> tuple[int, int]:
        match = _HEADING_RE.match(self.lines[index])
        start = match.start("text") if match["text"] else len(self.lines[index])
        end = match.end("text") if match["text"] else start
        return self.offsets[index] + start, self.offsets[index] + end

    def line_end(self, index: int) -> int:
        return self.offsets[index] + len(self.lines[index])

    def body_span(self, indexes: list[int], after: int) -> tuple[int, int]:
        """The characters of a body's text (blank lines around it excluded); for an empty body,
        the start of the line after ``after`` (its heading)."""
        content = [i for i in indexes if self.lines[i].strip()]
        if not content:
            start = self.offsets[after + 1] if after + 1 < len(self.lines) else len(self.text)
            return start, start
        return self.offsets[content[0]], self.line_end(content[-1])

    def block_end(self, indexes: list[int], heading: int) -> int:
        """Offset of the start of the line after the block (or the text's end)."""
        last = indexes[-1] if indexes else heading
        return self.offsets[last + 1] if last + 1 < len(self.lines) else len(self.text)

    def content_end(self, indexes: list[int], heading: int) -> int:
        content = [i for i in indexes if self.lines[i].strip()]
        return self.line_end(content[-1] if content else heading)

    def joined(self, indexes) -> str:
        return _prose(self.lines[i] for i in indexes)

    def runs(self, indexes: list[int]) -> str:
        """Lines kept aside (notes), with a blank line where they were not adjacent."""
        out: list[str] = []
        previous = None
        for i in indexes:
            if previous is not None and i != previous + 1 and out and out[-1].strip():
                out.append("")
            out.append(self.lines[i])
            previous = i
        return _prose(out)

    # -- the document -------------------------------------------------------------------------

    def parse(self) -> tuple[PlanDocument, _Spans]:
        doc = PlanDocument()
        sections = schema.top_level()
        footer = self.footer_start()
        self.spans.end = self.offsets[footer] if footer < len(self.lines) else len(self.text)
        headings = [(i, *h) for i in range(footer) if (h := self.heading(i)) is not None]

        # The title: a first '#' heading that does not name a section. The sections' level is
        # that of the first heading naming one (usually 2).
        title_index = None
        if headings and headings[0][1] == 1 and not (
            _lookup(headings[0][2], sections) and len([h for h in headings if h[1] == 1]) > 1
        ):
            title_index = headings[0][0]
        level = next((lv for i, lv, text in headings
                      if i != title_index and _lookup(text, sections)), 2)
        self.spans.level = level

        blocks: list[tuple[int, str, list[int]]] = []  # (heading index, text, body indexes)
        header: list[int] = []
        for i in range(footer):
            if i == title_index:
                continue
            h = self.heading(i)
            if h is not None and h[0] <= level:
                blocks.append((i, h[1], []))
            elif blocks:
                blocks[-1][2].append(i)
            else:
                header.append(i)
        self.parse_header(doc, title_index, header)

        found: dict[str, tuple[int, str, list[int]]] = {}
        after = ""
        matched = _prefer_exact([(block, _lookup(block[1], sections)) for block in blocks])
        for block, section in matched:
            index, text, body = block
            if section is not None and section.key in found:
                self.warn(index, f"a second '{section.heading}' section ('{text.strip()}'); "
                                 "kept as an extra section")
                section = None
            if section is None:
                doc.extra_sections.append(ExtraSection(text, self.joined(body), after))
                continue
            found[section.key] = block
            after = section.key
            self.spans.blocks[section.key] = (self.offsets[index], self.block_end(body, index))
            self.parse_section(doc, section, index, body)

        for position, section in enumerate(sections):
            if section.key not in found and section.kind not in schema.REVIEWER_KINDS:
                later = next((found[s.key][0] for s in sections[position + 1:]
                              if s.key in found), None)
                where = "before '" + self.lines[later].strip() + "'" if later is not None \
                    else "at the end"
                self.warn(later if later is not None else footer,
                          f"missing section '## {section.heading}' (expected {where})")
        return doc, found

    def footer_start(self) -> int:
        """Index where the template's closing '---' / '**NOTE**' lines start (or len(lines))."""
        content = [i for i, line in enumerate(self.lines) if line.strip()]
        if len(content) >= 2 and not self.code[content[-1]]:
            last, before = content[-1], content[-2]
            if [self.lines[before].strip(), self.lines[last].strip()] == FOOTER:
                return before
        return len(self.lines)

    def parse_header(self, doc: PlanDocument, title_index: int | None, indexes: list[int]):
        if title_index is None:
            self.warn(0, "no '# <title>' heading at the top; the plan has no title")
        else:
            text = self.heading(title_index)[1]
            start, end = self.heading_text_span(title_index)
            match = _H1_TITLE_RE.match(text)
            if match:
                start += match.start("title")
            title = self.text[start:end]
            if _single_line(title, MAX_TITLE):
                doc.title = title
                self.spans.title = (start, end)
            else:
                self.warn(title_index, "the title is longer than 200 characters or has control "
                                       "characters; the plan has no title")
        self.spans.header_end = self.line_end(title_index) if title_index is not None else 0
        preamble: list[int] = []
        for i in indexes:
            meta = None if self.code[i] else _meta(self.lines[i])
            label = meta["label"].casefold() if meta else ""
            if label in ("created", "date") and not doc.created and meta["value"]:
                doc.created = meta["value"]
                start = self.offsets[i] + meta.start("value")
                self.spans.created = (start, self.offsets[i] + meta.end("value"))
                self.spans.header_end = self.line_end(i)
            elif label == "status" and not doc.status and meta["value"]:
                doc.status = meta["value"]
                if any(d in meta["value"].upper() for d in _DECISIONS):
                    self.warn(i, f"the plan says 'Status: {meta['value']}'; kept as the author's "
                                 "text, not a decision: only reviewers decide in Plangate")
            else:
                preamble.append(i)
        if self.joined(preamble):
            doc.extra_sections.append(ExtraSection("", self.joined(preamble), ""))

    def parse_section(self, doc: PlanDocument, section: schema.Section, index: int,
                      body: list[int]) -> None:
        if section.kind == schema.STEPS:
            self.parse_steps(doc, section, index, body)
        elif section.kind == schema.CRITERIA:
            self.parse_criteria(doc, section, index, body)
        elif section.kind == schema.APPROVAL:
            doc.approval = self.parse_approval(body)
        elif section.kind == schema.GROUP:
            self.parse_group(doc, section, index, body)
        elif section.kind == schema.REVIEW_CHECKLIST:
            doc.review_checklist = self.joined(body)
            self.spans.review_checklist = self.body_span(body, index)
        else:
            doc.sections[section.key] = self.joined(body)
            self.spans.sections[section.key] = self.body_span(body, index)

    def parse_group(self, doc, section: schema.Section, index: int, body: list[int]) -> None:
        """Known subsections fill their section; an unknown one stays in the text above it (the
        group's own text when it comes first)."""
        children = section.children()
        level = self.spans.level + 1
        bodies: dict[str, tuple[int, list[int]]] = {}
        intro: list[int] = []
        current = intro
        subs = [(i, h[1]) for i in body if (h := self.heading(i)) is not None and h[0] == level]
        named = dict(_prefer_exact([(sub, _lookup(sub[1], children)) for sub in subs]))
        for i in body:
            h = self.heading(i)
            child = named.get((i, h[1])) if h is not None and h[0] == level else None
            if child is not None and child.key not in bodies:
                bodies[child.key] = (i, [])
                current = bodies[child.key][1]
            else:
                current.append(i)
        for key, (heading, lines) in bodies.items():
            self.spans.headings[key] = self.offsets[heading]
            doc.sections[key] = self.joined(lines)
            self.spans.sections[key] = self.body_span(lines, heading)
        if self.joined(intro):
            doc.sections[section.key] = self.joined(intro)

    def parse_steps(self, doc, section: schema.Section, index: int, body: list[int]) -> None:
        subs = [(i, h) for i in body if (h := self.heading(i)) is not None]
        numbered = [h[0] for i, h in subs if _STEP_RE.match(h[1].strip())]
        levels = numbered or [h[0] for i, h in subs]
        self.spans.steps_end = self.content_end(body, index)
        if not levels:
            if self.joined(body):
                doc.sections[section.key] = self.joined(body)
            self.warn(index, f"no steps found under '{self.lines[index].strip()}' (write each "
                             "step as '### Step 1: <title>'); its text is kept as written")
            return
        level = min(levels)
        starts = [i for i, h in subs if h[0] == level and (not numbered
                                                              or _STEP_RE.match(h[1].strip()))]
        intro = [i for i in body if i < starts[0]]
        if self.joined(intro):
            doc.sections[section.key] = self.joined(intro)
        for number, start in enumerate(starts, start=1):
            following = [i for i in body if i > start]
            nxt = starts[number] if number < len(starts) else None
            lines = [i for i in following if nxt is None or i < nxt]
            # Among numbered steps, a heading of theirs that is not numbered is not a step: it
            # and what follows it are this step's text as written, never its fields.
            folded = next((i for i, h in subs if h[0] == level and start < i
                           and (nxt is None or i < nxt)), None)
            if folded is not None:
                self.warn(folded, f"'{self.lines[folded].strip()}' is not numbered as the other "
                                  f"steps are, so it is not a step: it and the lines after it "
                                  f"are kept as text of step {number}")
            doc.steps.append(self.parse_step(number, start, level, lines, folded))

    def parse_step(self, number: int, heading: int, level: int, indexes: list[int],
                   folded: int | None = None) -> Step:
        text = self.heading(heading)[1]
        start, end = self.heading_text_span(heading)
        match = _STEP_RE.match(text.strip())
        lead = len(text) - len(text.lstrip())
        prefix_len = lead + (match.end() if match else 0)
        title = text[prefix_len:].strip()
        spans = _StepSpans(
            start=self.offsets[heading], end=self.block_end(indexes, heading),
            content_end=self.content_end(indexes, heading), level=level,
            title=(start + prefix_len, end), title_prefix=text[:prefix_len],
        )
        if not title or not _single_line(title, MAX_STEP_TITLE):
            if title:
                self.warn(heading, f"step {number}: the title is longer than 300 characters; "
                                   f"called 'Step {number}'")
            title = f"Step {number}"
        step = Step(title=title)
        self.spans.steps.append(spans)

        notes: list[int] = []
        current: str | None = None  # the known field whose lines we are reading
        seen: set[str] = set()
        has_actions_field = any(self.field_name(i) == "actions" for i in indexes
                                if folded is None or i < folded)
        previous_blank = True
        for i in indexes:
            line = self.lines[i]
            name = self.field_name(i)
            h = self.heading(i)
            if folded is not None and i >= folded:
                notes.append(i)
            elif h is not None and _STEP_FIELDS.get(heading_key(h[1])) in _LIST_FIELDS \
                    and _STEP_FIELDS[heading_key(h[1])] not in seen:
                name = _STEP_FIELDS[heading_key(h[1])]  # '#### Files to modify' as a label
                seen.add(name)
                current = name
                spans.field_line[name] = self.line_end(i)
            elif name is not None and name not in seen:
                seen.add(name)
                value = _FIELD_RE.match(line)
                current = self.step_field(step, spans, name, value, i, number)
            elif not line.strip():
                if current in ("objective", "dependencies", "estimate", "risk", "notes"):
                    current = None
            elif current in ("objective", "dependencies") and not previous_blank \
                    and name is None and h is None and not self.code[i] \
                    and not _ITEM_RE.match(line.strip()) and not _BOLD_FIELD_RE.match(line):
                setattr(step, current, getattr(step, current) + "\n" + line.strip())
                spans.fields[current] = (spans.fields[current][0], self.line_end(i))
            elif current in _LIST_FIELDS or (current in _SCALARS and not has_actions_field
                                              and "actions" not in seen and not self.code[i]
                                              and _ITEM_RE.match(line)):
                if current not in _LIST_FIELDS:
                    current = "implicit"
                    seen.add("actions")
                    spans.field_line.setdefault("actions", self.line_end(i - 1))
                target = "actions" if current == "implicit" else current
                if not self.list_line(step, spans, target, i, previous_blank):
                    notes.append(i)
                    current = "notes"
            elif current == "implicit" and self.list_line(step, spans, "actions", i,
                                                          previous_blank):
                pass
            else:
                notes.append(i)
                current = "notes"
            previous_blank = not line.strip()
        step.notes = self.runs(notes)
        self.check_step(step, number, heading, spans)
        return step

    def field_name(self, i: int) -> str | None:
        if self.code[i]:
            return None
        match = _FIELD_RE.match(self.lines[i])
        if match is None:
            return None
        label = (match["bold"] or match["plain"] or "").strip().rstrip(":").strip().casefold()
        name = _STEP_FIELDS.get(label)
        if match["plain"] and (name is None or match["pre"].strip()):
            return None  # a plain "Label:" counts only on a line of its own
        return name

    def step_field(self, step: Step, spans: _StepSpans, name: str, match, i: int,
                   number: int) -> str:
        value = match["value"]
        start = self.offsets[i] + match.start("value")
        if name in _LIST_FIELDS:
            spans.field_line[name] = self.line_end(i)
            if value:  # "**Files**: `a.py`": one item on the label's line
                self.add_item(step, spans, name, i, match.start("value"), value, "", "", False)
            return name
        spans.fields[name] = (start, start + len(value))
        if name == "estimate" and not _single_line(value, MAX_ESTIMATE):
            self.warn(i, f"step {number}: the estimated time is longer than 100 characters; "
                         "kept as written, counted as unknown")
            spans.fields.pop(name)
            return name
        setattr(step, name, value)
        return name

    def add_item(self, step, spans, name, i, column, text, indent, bullet, checkbox, done=False):
        item = _Item(self.offsets[i] + (column if not bullet else 0), self.line_end(i),
                     indent, bullet, checkbox)
        if name == "files":
            match = _FILE_RE.match(text)
            step.files.append(FileChange(match["path"], match["description"] or "") if match
                              else FileChange("", text))
        else:
            step.actions.append(CheckItem(text, done))
        spans.items.setdefault(name, []).append(item)

    def list_line(self, step: Step, spans: _StepSpans, name: str, i: int,
                  previous_blank: bool) -> bool:
        """A list item of the field, or an indented line continuing the last one; False when
        the line is something else (it then stays in the step's notes)."""
        line = self.lines[i]
        items = step.actions if name == "actions" else step.files
        if not line.strip():
            return True
        if self.code[i]:
            return False
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        match = _ITEM_RE.match(stripped)
        if match is not None and len(indent) < 2:
            text = match["text"]
            ok = _list_item_ok(text) and (name == "actions" or _single_line(
                (_FILE_RE.match(text) or {"path": ""})["path"] or "", MAX_PATH))
            if not ok:
                return False
            self.add_item(step, spans, name, i, 0, text, indent, match["bullet"],
                          match["mark"] is not None, (match["mark"] or " ") != " ")
            return True
        if items and indent and not previous_blank and spans.items.get(name):
            last = items[-1]
            attribute = "text" if name == "actions" else "description"
            value = getattr(last, attribute) + "\n" + line.rstrip()
            if _list_item_ok(value):
                setattr(last, attribute, value)
                spans.items[name][-1].end = self.line_end(i)
                return True
        return False

    def check_step(self, step: Step, number: int, heading: int, spans: _StepSpans) -> None:
        where = f"step {number} ('{step.title}')"
        estimate = step.estimate.strip()
        if not estimate:
            self.warn(heading, f"{where} has no estimated time")
        elif estimate_hours(estimate) is None and not _is_placeholder("estimate", estimate):
            line = self.text.count("\n", 0, spans.fields["estimate"][0])
            self.warn(line, f"{where}: estimated time {estimate!r} is not a duration; kept as "
                            "written, counted as unknown in totals")
        risk = step.risk.strip()
        if not risk:
            self.warn(heading, f"{where} has no risk level")
        elif _risk_level(risk) is None and not _is_placeholder("risk", risk):
            line = self.text.count("\n", 0, spans.fields["risk"][0])
            self.warn(line, f"{where}: risk {risk!r} is not Low, Medium or High; kept as "
                            "written, counted as unknown")
        if not step.objective.strip():
            self.warn(heading, f"{where} has no objective")

    def parse_criteria(self, doc, section, index: int, body: list[int]) -> None:
        step = Step(title="")
        spans = _StepSpans(0, 0, 0, 0)
        notes: list[int] = []
        previous_blank, in_list = True, False
        for i in body:
            line = self.lines[i]
            if not line.strip():
                previous_blank = True
                continue
            stripped = line.lstrip()
            is_item = not self.code[i] and _ITEM_RE.match(stripped) and len(line) - len(
                stripped) < 2
            if (is_item or in_list) and self.list_line(step, spans, "actions", i, previous_blank):
                in_list = True
            else:
                notes.append(i)
                in_list = False
            previous_blank = False
        doc.success_criteria = step.actions
        self.spans.criteria = spans.items.get("actions", [])
        self.spans.criteria_end = self.content_end(body, index)
        if self.runs(notes):
            doc.sections[section.key] = self.runs(notes)

    def parse_approval(self, body: list[int]) -> Approval:
        approval = Approval()
        comments: list[str] | None = None  # lines from '**Comments**:' to the end
        for i in body:
            line = self.lines[i]
            match = None if self.code[i] else _FIELD_RE.match(line)
            label = (match["bold"] or match["plain"] or "").strip().rstrip(":").casefold() \
                if match else ""
            name = _APPROVAL_FIELDS.get(label)
            if name == "comments":
                comments = [match["value"]]
            elif name is not None and not getattr(approval, name):
                setattr(approval, name, match["value"])
            elif comments is not None:
                comments.append(line)
        approval.comments = _prose(comments or [])
        placeholder = PLACEHOLDERS.approval if PLACEHOLDERS is not None else Approval()
        filled = [n for n in _APPROVAL_NAMES
                  if getattr(approval, n).strip() and not _same(getattr(approval, n),
                                                                getattr(placeholder, n))]
        if filled:
            first = body[0] if body else 0
            self.warn(first - 1, "the Approval section is filled in; kept as the author's text, "
                                 "not a decision: only reviewers approve in Plangate")
        return approval


# --- values as people write them -------------------------------------------------------------


def _risk_level(text: str) -> str | None:
    """'low', 'medium' or 'high' for a risk as written ("Low-Medium" -> the higher, "medium"),
    "" for none, None when no level can be read."""
    cleaned = text.strip().casefold()
    if not cleaned:
        return ""
    words = re.findall(r"[a-z]+", cleaned)
    ranks = {"low": 1, "medium": 2, "med": 2, "moderate": 2, "high": 3, "critical": 3}
    found = [w for w in words if w in ranks]
    if not found:
        return None
    best = max(found, key=ranks.__getitem__)
    return {1: "low", 2: "medium", 3: "high"}[ranks[best]]


def parse_risk(text: str) -> str:
    """The risk level meant, as stored: 'low', 'medium' or 'high', whatever the case.

    "" and the template's placeholder mean none (""); anything else is a ValueError.
    """
    cleaned = text.strip().casefold()
    if cleaned in ("", _placeholder("risk").casefold()):
        return ""
    if cleaned in (level.casefold() for level in RISK_LEVELS):
        return cleaned
    raise ValueError(f"expected a risk level of Low, Medium or High, got {text!r}")


def risk_level(text: str) -> str:
    """A risk as written, read leniently ("Low-Medium" -> "medium"); "" when unknown."""
    if _is_placeholder("risk", text):
        return ""
    return _risk_level(text) or ""


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


def created_date(text: str) -> date | None:
    """The Created date if it is written YYYY-MM-DD, else None (kept only in the text)."""
    try:
        return parse_created(text.strip())
    except ValueError:
        return None


_HOURS_PER_UNIT = {"hour": Decimal(1), "minute": Decimal(1) / Decimal(60), "day": Decimal(8),
                   "week": Decimal(40)}  # fmt: skip
_UNITS = {
    "h": "hour", "hr": "hour", "hrs": "hour", "hour": "hour", "hours": "hour",
    "m": "minute", "min": "minute", "mins": "minute", "minute": "minute", "minutes": "minute",
    "d": "day", "day": "day", "days": "day",
    "w": "week", "wk": "week", "wks": "week", "week": "week", "weeks": "week",
}  # fmt: skip
_NUMBER = r"\d+(?:\.\d+)?"
MAX_ESTIMATE_HOURS = 100_000  # PlanStep.estimated_hours holds at most 999999.99
_PART_RE = re.compile(
    rf"(?:{_NUMBER}[ \t]*(?:[-–]|to)[ \t]*)?(?P<n>{_NUMBER})[ \t]*(?P<unit>[a-z]+)")


class EstimateTooLarge(ValueError):
    """An estimate that reads as a time but is too large to store."""


def parse_estimate_hours(text: str) -> Decimal | None:
    """Hours meant by an estimate as people write it; a range counts as its upper bound.

    "4 hours", "1.5 hours", "30 minutes", "45 min", "2-3 hours" (3), "1 day" (8 hours), "0.5h",
    "~2 hours", "2h 30m", "1 week" (40 hours). "" and the template's placeholder mean no
    estimate (None); anything else is a ValueError (EstimateTooLarge when too large).
    """
    cleaned = text.strip().lower()
    if cleaned in ("", _placeholder("estimate").lower()):
        return None
    cleaned = re.sub(r"^(?:~|≈|about|approx\.?|approximately|around|roughly|ca\.?)[ \t]*", "",
                     cleaned).strip()
    parts = list(_PART_RE.finditer(cleaned))
    rest = _PART_RE.sub("", cleaned).replace(",", " ").replace("and", " ").replace("+", " ")
    units = [_UNITS.get(part["unit"]) for part in parts]
    if not parts or rest.strip() or None in units:
        raise ValueError(
            "expected an estimated time such as '4 hours', '30 minutes', '2-3 hours' or "
            f"'1 day', got {text.strip()!r}"
        )
    hours = sum((Decimal(p["n"]) * _HOURS_PER_UNIT[u] for p, u in zip(parts, units, strict=True)),
                Decimal(0)).quantize(Decimal("0.01"))
    if hours >= MAX_ESTIMATE_HOURS:
        raise EstimateTooLarge(
            f"an estimated time must be under {MAX_ESTIMATE_HOURS:,} hours, got {text.strip()!r}; "
            "split the step into smaller ones"
        )
    return hours


def estimate_hours(text: str) -> Decimal | None:
    """The hours of an estimate, or None when it cannot be read ("TBD"): unknown in totals."""
    try:
        return parse_estimate_hours(text)
    except ValueError:
        return None


# --- placeholders ----------------------------------------------------------------------------

PLACEHOLDERS: PlanDocument | None = None  # set below: the bare template, read as is

_STEP_SCALARS = ["title", "objective", "dependencies", "estimate", "risk"]
_HEADER_FIELDS = ["title", "created"]  # status is kept as written; "" exports as the template's
_APPROVAL_NAMES = [f.name for f in fields(Approval)]


def _placeholder(name: str) -> str:
    if PLACEHOLDERS is None or not PLACEHOLDERS.steps:
        return {"estimate": "X hours", "risk": "Low/Medium/High"}.get(name, "")
    return getattr(PLACEHOLDERS.steps[0], name)


def _is_placeholder(name: str, value: str) -> bool:
    return value.strip() == _placeholder(name)


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
    doc, ph = copy.deepcopy(doc), PLACEHOLDERS
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
        for name in _STEP_SCALARS[1:]:  # a title stays: a step has one (the placeholder's)
            if getattr(step, name) == getattr(ph.steps[0], name):
                setattr(step, name, "")
        if step.risk:  # stored as the level it names; the text keeps what was written
            step.risk = (risk_level(step.risk) or "").capitalize()
    if all(item in ph.success_criteria for item in doc.success_criteria):
        doc.success_criteria = []
    return doc


def _with_placeholders(doc: PlanDocument) -> PlanDocument:
    # Copies of what is filled in below (the document, its sections, approval and steps); the
    # rest (actions, files, criteria, extra sections) is only read, so it is shared: a deep copy
    # of a 200-step plan was most of the time its export took.
    doc, ph = copy.copy(doc), PLACEHOLDERS
    doc.sections, doc.approval = dict(doc.sections), copy.copy(doc.approval)
    for name in [*_HEADER_FIELDS, "status", "review_checklist"]:
        if not getattr(doc, name).strip():
            setattr(doc, name, getattr(ph, name))
    for key in schema.prose_keys():
        if not doc.sections.get(key, "").strip():
            doc.sections[key] = ph.sections.get(key, "")
    for name in _APPROVAL_NAMES:
        if not getattr(doc.approval, name).strip():
            setattr(doc.approval, name, getattr(ph.approval, name))
    doc.steps = [copy.copy(step) for step in doc.steps] or copy.deepcopy(ph.steps)
    for step in doc.steps:
        for name in _STEP_SCALARS:
            if not getattr(step, name).strip():
                setattr(step, name, getattr(ph.steps[0], name))
    doc.success_criteria = doc.success_criteria or copy.deepcopy(ph.success_criteria)
    return doc


# --- public: text <-> document ---------------------------------------------------------------


def _parse(text: str | bytes) -> _Parsed:
    text = normalise_text(text)
    parser = _Parser(text)
    raw, found = parser.parse()
    sections = [s for s in schema.top_level() if s.kind not in schema.REVIEWER_KINDS]
    report = ImportReport(
        warnings=sorted(set(parser.warnings)),
        sections_found=len([s for s in sections if s.key in found]),
        sections_total=len(sections),
        extra_sections=len([e for e in raw.extra_sections if e.heading]),
        sections_missing=[s.heading for s in sections if s.key not in found],
    )
    return _Parsed(_without_placeholders(raw), raw, parser.spans, report)


def parse_plan(text: str | bytes) -> PlanDocument:
    """Read any Markdown plan; placeholders become empty values. Never refuses a shape: see
    parse_plan_with_warnings for what was noticed. Raises MarkdownImportError only for text that
    is too large, not UTF-8 or has a NUL character."""
    return _parse(text).document


def parse_plan_with_warnings(text: str | bytes) -> tuple[PlanDocument, ImportReport]:
    """parse_plan, and the report: warnings with their lines, and how closely the text follows
    the template."""
    parsed = _parse(text)
    return parsed.document, parsed.report


@dataclass(frozen=True)
class StepLines:
    """Where one step stands in a plan's text (see step_lines)."""

    number: int  # its position, from 1: the plan's PlanStep at that position once imported
    line_from: int  # the heading's line (1-based)
    line_to: int  # the step's last non-blank line (inclusive)
    level: int  # the heading's level
    heading: str  # the heading's text as written ("Phase 2: Index")


def step_lines(text: str | bytes) -> list[StepLines]:
    """The steps of ``text`` exactly as the importer finds them (in the implementation-steps
    section only, whatever their heading's word and level), in document order. What the
    review conversation anchors comments on, so that its step N is the plan's step N.
    Text that cannot be imported (MarkdownImportError) has no steps."""
    try:
        source = normalise_text(text)
        parsed = _parsed_source(source)
    except MarkdownImportError:
        return []
    lines = source.split("\n")
    starts = [0]  # each line's offset, for the spans' offsets
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    found = []
    for number, span in enumerate(parsed.spans.steps, start=1):
        first, last = bisect_right(starts, span.start), bisect_right(starts, span.content_end)
        heading = _HEADING_RE.match(lines[first - 1])
        found.append(StepLines(number, first, max(first, last), span.level,
                               (heading["text"] or "").strip() if heading else ""))
    return found


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
    own = doc.sections.get(section.key, "") if section.kind != schema.PROSE else ""
    intro = [own, ""] if own.strip() else []
    if section.kind == schema.STEPS:
        steps = enumerate(doc.steps, start=1)
        return ["", *intro,
                *(line for number, step in steps for line in _render_step(number, step))]
    if section.kind == schema.CRITERIA:
        return [*intro, *_render_checklist(doc.success_criteria), ""]
    if section.kind == schema.APPROVAL:
        a = doc.approval
        # One line stays on the label's line; more go below it (a fence must open a line).
        comments = f"\n{a.comments}" if "\n" in a.comments else f" {a.comments}".rstrip()
        return [f"**Reviewer**: {a.reviewer}", f"**Date**: {a.date}",
                f"**Status**: {a.status}", f"**Comments**:{comments}", ""]  # fmt: skip
    if section.kind == schema.GROUP:
        return [*intro, *(line for sub in section.children()
                          for line in (f"### {sub.heading}", doc.sections.get(sub.key, ""), ""))]
    if section.kind == schema.REVIEW_CHECKLIST:
        return [doc.review_checklist, ""]
    return [doc.sections.get(section.key, ""), ""]


def _render_extras(extras: list[ExtraSection]) -> list[str]:
    out: list[str] = []
    for extra in extras:
        heading = [f"## {extra.heading}"] if extra.heading else []
        out += [*heading, *([extra.body] if extra.body else []), ""]
    return out


def _render_check(item: CheckItem, bullet: str = "-") -> str:
    return f"{bullet} [{'x' if item.checked else ' '}] {item.text}"


def _render_checklist(items: list[CheckItem]) -> list[str]:
    return [_render_check(item) for item in items]


def _render_file(change: FileChange, bullet: str = "-") -> str:
    if not change.path:
        return f"{bullet} {change.description}"
    if not change.description:
        return f"{bullet} `{change.path}`"
    return f"{bullet} `{change.path}` - {change.description}"


def _render_step(number: int, step: Step, level: int = 3, prefix: str | None = None) -> list[str]:
    """The step's lines; ``prefix``: its heading's text before the title ("Step 2: ")."""
    return [
        f"{'#' * level} {_separated(f'Step {number}: ' if prefix is None else prefix, step.title)}",
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
        *(["", step.notes] if step.notes.strip() else []),
        "",
    ]


def canonical_text(doc: PlanDocument) -> str:
    """The export with status and approval as placeholders: what the content hash of a plan
    made in the editor is taken of (an imported plan's is taken of its source text)."""
    return render_plan(replace(doc, status="", approval=Approval()))


# --- format-preserving export ----------------------------------------------------------------


def _same_value(old: str, new: str) -> bool:
    return _norm(old) == _norm(new)


def _stored_step(step: Step) -> tuple:
    """A step as the database holds it, for "did the author change it?" comparisons."""
    def clean(name):
        value = getattr(step, name)
        return "" if name != "title" and _is_placeholder(name, value) else _norm(value)

    return clean("title"), clean("objective"), clean("dependencies"), clean("estimate"), \
        risk_level(step.risk)


def _stored_steps(steps: list[Step]) -> list[tuple]:
    return [(_stored_step(s), [_item_key(i) for i in s.actions], [_item_key(i) for i in s.files])
            for s in steps]


def _item_key(item) -> tuple:
    if isinstance(item, CheckItem):
        return _norm(item.text), item.checked
    return item.path.strip(), _norm(item.description)


def _render_item(item, style: _Item | None) -> str:
    indent, bullet = (style.indent, style.bullet) if style and style.bullet else ("", "-")
    if isinstance(item, FileChange):
        return indent + _render_file(item, bullet)
    if style is not None and style.bullet and not style.checkbox and not item.checked:
        return f"{indent}{bullet} {item.text}"
    return indent + _render_check(item, bullet)


class _Edits:
    def __init__(self, text: str, open_fence: tuple[int, str, int] | None = None) -> None:
        self.text = text
        self.edits: list[tuple[int, int, str]] = []
        self.open_fence = open_fence  # _Spans.open_fence of the text

    def _closed(self, start: int, new: str) -> str:
        """``new``, written at ``start`` inside the text's unclosed code block, after a line
        closing that block (the opener's own marker), so that it does not read as code."""
        at_line_start = start == 0 or self.text[start - 1] == "\n"
        return _after_closer(at_line_start, self.open_fence[1], new)

    def replace(self, span: tuple[int, int], new: str) -> None:
        self.edits.append((span[0], span[1], new))

    def insert(self, at: int, new: str) -> None:
        self.edits.append((at, at, new))

    def apply(self, source: str | None = None) -> str:
        """The text edited. Given ``source``, the text as given that self.text is normalised
        from (normalise_text), the edits are made in it instead: everything they leave keeps
        its bytes (a BOM, each line's own ending), and what they write takes the line ending
        most of its lines have."""
        text, bom, position_in, newline = self.text, "", None, "\n"
        if source is not None and ("\r" in source or source.startswith("\ufeff")):
            bom = "\ufeff" if source.startswith("\ufeff") else ""
            text = source.removeprefix(bom)
            position_in, newline = _source_positions(text)
        out, done, position = [bom], 0, 0  # (done: where the last edit ended in self.text)
        fence, rescan = self.open_fence, False
        edited, at = [], 0  # self.text as edited so far (up to ``at``), for a rescan
        for start, end, new in sorted(self.edits, key=lambda e: (e[0], e[1])):
            if start < done:  # overlapping: the later edit is inside one already made
                continue
            done = end
            if fence is not None and start < fence[0] and end > fence[2]:
                # The edit rewrites (or removes) the opener's line: whether what follows is
                # still code is for the edited text to say, not the source.
                fence, rescan = None, True
            elif rescan and new:
                before = "".join(edited) + self.text[at:start]
                still_open = _Parser(before).spans.open_fence
                if still_open is not None:
                    new = _after_closer(not before or before.endswith("\n"), still_open[1], new)
            elif fence is not None and new and start >= fence[0]:  # the first text written there
                new, fence = self._closed(start, new), None
            if self.open_fence is not None:
                edited += [self.text[at:start], new]
                at = end
            if position_in is not None:
                start, end, new = position_in(start), position_in(end), new.replace("\n", newline)
            out += [text[position:start], new]
            position = end
        return "".join([*out, text[position:]])


def _after_closer(at_line_start: bool, marker: str, new: str) -> str:
    """``new``, written inside a code block (at a line's start or not), after a line closing
    that block with ``marker``."""
    close = ("" if at_line_start else "\n") + marker
    return close + ("" if new.startswith("\n") else "\n") + new


def _source_positions(text: str):
    """For ``text`` (any line endings, no BOM): a function from an offset in its normalised
    form to the same place in it, and the line ending most of its lines have."""
    folded_starts, starts, lengths, endings = [], [], [], Counter()
    folded = at = 0
    for line in _SOURCE_LINE.findall(text):
        content = len(line.rstrip("\r\n"))
        folded_starts.append(folded)
        starts.append(at)
        lengths.append((content, len(line)))
        endings[line[content:]] += 1
        folded += content + (content < len(line))
        at += len(line)
    del endings[""]  # a last line without one

    def position_in(offset: int) -> int:
        line = bisect_right(folded_starts, offset) - 1
        if line < 0:
            return 0
        column = offset - folded_starts[line]
        content, length = lengths[line]
        return starts[line] + (column if column <= content else length)

    return position_in, (endings.most_common(1)[0][0] if endings else "\n")


def _patch_items(edits: _Edits, old: list, new: list, spans: list[_Item], end: int | None,
                 old_stored: list, label_line: str = "") -> None:
    """Rewrite only the items that changed; removed ones go, added ones follow the last."""
    if [_item_key(i) for i in old_stored] == [_item_key(i) for i in new]:
        return
    for index, item in enumerate(new[: len(old)]):
        if index < len(spans) and _item_key(item) != _item_key(old[index]):
            edits.replace((spans[index].start, spans[index].end),
                          _render_item(item, spans[index]))
    for span in spans[len(new):]:
        # The item's line with the line break before it: what is added at the end of the
        # item's step or section (where this line ends) then still has a place to go.
        start = max(0, edits.text.rfind("\n", 0, span.start))
        edits.replace((start, span.end), "")
    added = new[len(old):]
    if added:
        style = spans[-1] if spans else None
        lines = "\n".join(_render_item(item, _next_style(style, n))
                          for n, item in enumerate(added, start=1))
        if spans:
            edits.insert(spans[-1].end, "\n" + lines)
        elif end is not None:
            label = _gap_after(edits.text, end) + "\n" + label_line if label_line else ""
            edits.insert(end, label + "\n" + lines)


def _next_style(style: _Item | None, n: int) -> _Item | None:
    """The style of the ``n``-th item added after ``style``'s: a numbered list counts on
    ("2." is followed by "3.")."""
    number = re.fullmatch(r"(\d{1,9})([.)])", style.bullet) if style is not None else None
    if number is None:
        return style
    return replace(style, bullet=f"{int(number[1]) + n}{number[2]}")


def _gap_after(text: str, at: int) -> str:
    """A blank line to write at ``at`` (a line's end) before a new field, when that line is a
    list item or a table row: a line right under it would read as more of it on GitHub."""
    line = text[text.rfind("\n", 0, at) + 1:at].strip()
    return "\n" if _ITEM_RE.match(line) or line.startswith("|") else ""


def _patch_section_text(edits: _Edits, span: tuple[int, int] | None, new: str, heading: str,
                        at: int, level: int) -> None:
    if span is not None:
        text = new if span[0] != span[1] else (new + "\n" if new else "")
        if span[0] == span[1] == len(edits.text) and not edits.text.endswith("\n") and text:
            text = "\n" + text
        edits.replace(span, text)
    elif new.strip():
        edits.insert(at, _block_text(edits.text, at, f"{'#' * level} {heading}\n{new}"))


def _block_text(text: str, at: int, block: str) -> str:
    """A new block of lines inserted at ``at`` (a line's start, or the end of a line's content),
    separated by blank lines from its neighbours."""
    before, after = text[:at], text[at:]
    if before and not before.endswith("\n"):
        return "\n\n" + block
    lead = "" if not before or before.endswith("\n\n") else "\n"
    return lead + block + "\n" + ("\n" if after and not after.startswith("\n") else "")


@lru_cache(maxsize=16)
def _parsed_source(source: str) -> _Parsed:
    """_parse, memoised: a plan's source is parsed again by every export and revision of it
    (the parse is pure, and patch_source only reads what it gives)."""
    return _parse(source)


def patch_source(source: str, doc: PlanDocument) -> str:
    """``source`` (normalised: LF line endings, no BOM) with the values of ``doc`` that differ
    from what it says written in place, in its own style; the rest byte for byte. Status and
    approval are the author's text: left."""
    return _source_edits(source, doc).apply()


def read_back(text: str, doc: PlanDocument) -> tuple[list[str], ImportReport]:
    """What of ``doc`` its text (patch_source's, for an imported plan) does not read back as,
    named as the editor labels it ("Step 2: objective", "Testing strategy: unit testing"),
    and the text's import report: one parse. Compared as the writer compares, so what it
    takes for unchanged is no disagreement."""
    parsed = _parse(text)
    back = parsed.document
    problems = []

    def same_text(found: str, entered: str) -> bool:
        # A value whose code block runs to its end (never closed) reads back with the line
        # closing it that the writer puts before what an edit adds after it (after the blank
        # lines that ended the value, which the block then holds): the same text.
        if _same_value(found, entered):
            return True
        still_open = _Parser(entered).spans.open_fence if "`" in entered or "~" in entered \
            else None
        closer = "\n" + still_open[1] if still_open is not None else None
        return closer is not None and found.endswith(closer) \
            and _same_value(found[:-len(closer)].rstrip(), entered)

    if not _same_value(back.title, doc.title):
        problems.append("Title")
    if (created_date(back.created) or "") != (created_date(doc.created) or ""):
        problems.append("Created date")
    for key in schema.prose_keys():
        if not same_text(back.sections.get(key, ""), doc.sections.get(key, "")):
            section = schema.get(key)
            parent = f"{schema.get(section.parent).label}: " if section.parent else ""
            problems.append(parent + (section.label.lower() if parent else section.label))
    written, read = _stored_steps(doc.steps), parsed.stored_steps
    if len(written) != len(read):
        numbered = [s.title for s in doc.steps if _STEP_RE.match(_norm(s.title))]
        hint = (f": a step heading beginning with a number, as '{numbered[0]}' does, makes "
                "it the only step of a plan whose other step headings have none; begin the "
                "title with a word") if numbered and len(read) < len(written) else ""
        problems.append(f"Steps ({len(written)} entered, {len(read)} in the text{hint})")
    names = ("title", *(_FIELD_LABELS[name].lower() for name in _STEP_SCALARS[1:]))
    for number, (entered, found) in enumerate(zip(written, read, strict=False), start=1):
        wrong = [name + _paragraph_note(getattr(doc.steps[number - 1], name))
                 if name in ("objective", "dependencies") else name
                 for name, a, b in zip(names, entered[0], found[0], strict=True) if a != b]
        wrong += [_FIELD_LABELS[name].lower() for name, a, b
                  in zip(_LIST_FIELDS, entered[1:], found[1:], strict=True) if a != b]
        if wrong:
            problems.append(f"Step {number}: {', '.join(wrong)}")
    if [_item_key(i) for i in back.success_criteria] != [_item_key(i)
                                                        for i in doc.success_criteria]:
        problems.append(schema.get("success_criteria").label)
    if not same_text(back.review_checklist, doc.review_checklist):
        problems.append(schema.get("review_checklist").label)
    return problems, parsed.report


def _paragraph_note(value: str) -> str:
    """Why a step's objective or dependencies cannot read back, when it is for its shape: in
    the Markdown each is one paragraph after its label, so a blank line or a list ends it."""
    rest = _norm(value).split("\n")[1:]
    if any(not line.strip() or _ITEM_RE.match(line.strip()) for line in rest):
        return (" (in the Markdown it is one paragraph after its label: write it without "
                "blank lines or '- ' lists)")
    return ""


def _source_edits(source: str, doc: PlanDocument) -> _Edits:
    """patch_source's edits, in the normalised source (export_plan makes them in the source
    as given)."""
    parsed = _parsed_source(source)
    old, spans = parsed.document, parsed.spans
    edits = _Edits(normalise_text(source), spans.open_fence)
    level = spans.level

    if not _same_value(old.title, doc.title):
        # A title that itself begins "Plan: " would lose that to the parser in a heading with
        # nothing before it: it is written after the template's "Implementation Plan - ".
        guarded = f"Implementation Plan - {doc.title}" if _H1_TITLE_RE.match(doc.title) \
            else doc.title
        if spans.title is not None:
            line_start = edits.text.rfind("\n", 0, spans.title[0]) + 1
            prefixed = edits.text[line_start:spans.title[0]].strip("# \t")
            edits.replace(spans.title, doc.title if prefixed else guarded)
        elif doc.title.strip():
            edits.insert(0, f"# {guarded}\n\n")
    if (created_date(old.created) or "") != (created_date(doc.created) or ""):
        if spans.created is not None:
            edits.replace(spans.created, doc.created)
        elif doc.created:
            edits.insert(spans.header_end, ("\n\n" if spans.header_end else "")
                         + f"*Created: {doc.created}*" + ("" if spans.header_end else "\n\n"))

    # The steps' edits first: what they add at the end of the last step must come before a
    # section added at the same place (a text ending right after its last step).
    _patch_steps(edits, parsed, doc)
    # The sections in the template's order: what is added at one place keeps that order.
    top = schema.top_level()
    for group in top:
        if group.kind == schema.CRITERIA:
            _patch_criteria(edits, parsed, doc, top)
        elif group.kind == schema.REVIEW_CHECKLIST and not _same_value(
                old.review_checklist, doc.review_checklist):
            # As a prose section: rewritten in place, emptied under its heading, or (a text
            # without one) added before the Approval.
            _patch_section_text(edits, spans.review_checklist, doc.review_checklist,
                                group.heading, _section_insert_point(spans, top, group), level)
        added = []  # the subsections of a group the text lacks: under one heading, added
        for section in schema.prose():
            key, new = section.key, doc.sections.get(section.key, "")
            if group.key not in (key, section.parent) or _same_value(
                    old.sections.get(key, ""), new):
                continue
            if section.parent and section.parent in spans.blocks:
                siblings = group.children()
                later = [s.key for s in siblings[siblings.index(section) + 1:]]
                at = next((spans.headings[k] for k in later if k in spans.headings),
                          _block_content_end(edits.text, spans.blocks[section.parent]))
                _patch_section_text(edits, spans.sections.get(key), new, section.heading, at,
                                    level + 1)
            elif section.parent:
                added.append(f"{'#' * (level + 1)} {section.heading}\n{new}")
            else:
                at = _section_insert_point(spans, top, section)
                _patch_section_text(edits, spans.sections.get(key), new, section.heading, at,
                                    level)
        if added:
            at = _section_insert_point(spans, top, group)
            block = f"{'#' * level} {group.heading}\n" + "\n\n".join(added)
            edits.insert(at, _block_text(edits.text, at, block))
    return edits


def _patch_criteria(edits: _Edits, parsed: _Parsed, doc: PlanDocument, top: list) -> None:
    spans = parsed.spans
    _patch_items(edits, parsed.raw.success_criteria, doc.success_criteria, spans.criteria,
                 spans.criteria_end, parsed.document.success_criteria)
    if spans.criteria_end is None and doc.success_criteria:
        section = schema.get("success_criteria")
        at = _section_insert_point(spans, top, section)
        items = "\n".join(_render_checklist(doc.success_criteria))
        edits.insert(at, _block_text(edits.text, at,
                                     f"{'#' * spans.level} {section.heading}\n{items}"))


def _block_content_end(text: str, block: tuple[int, int]) -> int:
    end = block[1]
    while end > block[0] and text[end - 1] == "\n":
        end -= 1
    return end


def _section_insert_point(spans: _Spans, top: list[schema.Section], section) -> int:
    later = [s.key for s in top[top.index(section) + 1:]]
    return next((spans.blocks[k][0] for k in later if k in spans.blocks), spans.end)


def _insert_objective(edits: _Edits, span: _StepSpans, value: str) -> None:
    """A new objective goes where the template has it: first, on the line under the step's
    heading (not at the step's end, which may be after its notes or inside a code block). A
    blank line keeps the line that followed the heading from reading as more of it, unless
    that line is blank or another field."""
    at = edits.text.find("\n", span.start)
    at = len(edits.text) if at < 0 else at
    following = edits.text[at + 1:].split("\n", 1)[0] if at < len(edits.text) else ""
    gap = "\n" if following.strip() and not _BOLD_FIELD_RE.match(following) else ""
    edits.insert(at, f"\n**{_FIELD_LABELS['objective']}**: {value}{gap}")


def _step_prefix(written: str | None, number: int) -> str | None:
    """A new step's heading text before its title, in the style of the last step's as
    ``written`` ("Phase 2: " gives "Phase 3: "); none when the steps are not numbered (a number
    on one heading would leave the others out of the steps). None: the template's."""
    if written is None:
        return None
    if not written.strip():
        return ""
    prefix = re.sub(r"\d+(?:\.\d+)*", str(number), written, count=1)
    return prefix if prefix[-1].isspace() else prefix + (": " if prefix[-1].isalnum() else " ")


def _renumbered(prefix: str, number: int, old_number: int) -> str:
    """A step heading's text before its title (``prefix``) for the step now at ``number``: its
    number changed when it numbered the step by its place (``old_number``), else as written
    (a count of its own: "Phase 2.1")."""
    match = re.search(r"\d+(?:\.\d+)*", prefix)
    if match is None or match[0] != str(old_number):
        return prefix
    return prefix[:match.start()] + str(number) + prefix[match.end():]


def _step_heading(prefix: str, title: str, number: int) -> str:
    """A step heading's text: ``prefix`` (its number as written) and ``title``; the title a
    step without one reads as ("Step 3") leaves the bare number ("### Step 3")."""
    if prefix.strip() and (not title or _norm(title) == f"Step {number}"):
        return prefix.rstrip().rstrip(":-–—").rstrip()
    return _separated(prefix, title)


def _separated(prefix: str, title: str) -> str:
    """``prefix`` (a step's number as written, perhaps with its separator) and ``title`` as a
    heading's text that reads back as ``title``: with a separator after the number when there
    is none to follow ("### Step 3"), or when the title would read as one ("Step 3 " and
    "- Fix" give "Step 3: - Fix", not "Step 3 - Fix", titled "Fix")."""
    text = prefix + title
    match = _STEP_RE.match(text)
    if not prefix.strip() or (prefix[-1].isspace() and match is not None
                              and text[match.end():].strip() == title.strip()):
        return text
    prefix = prefix.rstrip()
    return prefix + (": " if prefix[-1].isalnum() else " ") + title


def _heading_span(span: _StepSpans) -> tuple[int, int]:
    """Where a step heading's text (its number and title) is."""
    return span.title[0] - len(span.title_prefix), span.title[1]


def _align_steps(old: list[Step], new: list[Step]) -> list[int | None]:
    """For each step of ``new`` (the steps as edited), the index of the step of ``old`` (the
    text's) it is, or None for a step the edit added. By preference: the same step unchanged
    (perhaps moved); else the one with the same notes (what a step's text holds besides its
    fields, which the editor keeps with the step); else the same title; else the one at the
    same place (a step edited where it is)."""
    rules = (lambda step: (_stored_steps([step])[0], _norm(step.notes)),
             lambda step: _norm(step.notes) or None,
             lambda step: _stored_step(step)[0])
    free = list(range(len(old)))
    matched: list[int | None] = [None] * len(new)
    for rule in rules:
        old_keys = [rule(step) for step in old]
        for j, step in enumerate(new):
            key = rule(step) if matched[j] is None else None
            found = next((i for i in free if old_keys[i] == key), None) if key else None
            if found is not None:
                matched[j] = found
                free.remove(found)
    for j in range(len(new)):
        if matched[j] is None and j in free:
            matched[j] = j
            free.remove(j)
    return matched


def _staying(indexes: list[int]) -> set[int]:
    """The most of ``indexes`` (the text's steps, in their new order) that keep their order:
    those stay where they are written; the others move."""
    runs: list[list[int]] = []  # runs[k]: the longest increasing run ending at indexes[k]
    for k, value in enumerate(indexes):
        before = max((runs[m] for m in range(k) if indexes[m] < value), key=len, default=[])
        runs.append([*before, value])
    return set(max(runs, key=len, default=[]))


def _patch_step(edits: _Edits, span: _StepSpans, before: Step, after: Step, number: int,
                old_number: int) -> None:
    """Step ``before`` of the text, now ``after`` at ``number``: only what changed rewritten."""
    stored_before, stored_after = _stored_step(before), _stored_step(after)
    if span.title is not None:
        prefix = _renumbered(span.title_prefix, number, old_number)
        retitled = stored_before[0] != stored_after[0]
        if retitled or prefix != span.title_prefix:
            title = after.title if retitled else edits.text[span.title[0]:span.title[1]]
            edits.replace(_heading_span(span), _step_heading(prefix, title, number))
    added = False  # a field added at the step's end (after a blank line, if it ends in a list)
    for position, name in enumerate(("objective", "dependencies", "estimate", "risk"), start=1):
        if stored_before[position] == stored_after[position]:
            continue
        value = getattr(after, name)
        if name == "risk":
            value = (risk_level(value) or value).capitalize()
        if name in span.fields:
            edits.replace(span.fields[name], value)
        elif name == "objective" and value.strip():
            _insert_objective(edits, span, value)
        elif value.strip():
            edits.insert(span.content_end, _gap_after(edits.text, span.content_end) * (not added)
                         + f"\n**{_FIELD_LABELS[name]}**: {value}")
            added = True
    for name in _LIST_FIELDS:
        label = f"**{_FIELD_LABELS[name]}**:"
        end = span.field_line.get(name, span.content_end)
        _patch_items(edits, getattr(before, name), getattr(after, name),
                     span.items.get(name, []), end, getattr(before, name),
                     "" if name in span.field_line else label)


def _moved_step(text: str, span: _StepSpans, number: int, old_number: int) -> str:
    """A step's lines as written (to its last non-blank one), for the place it moved to: its
    heading renumbered."""
    if span.title is None:
        return text[span.start:span.content_end]
    start, end = _heading_span(span)
    prefix = _renumbered(span.title_prefix, number, old_number)
    heading = _step_heading(prefix, text[span.title[0]:end], number)
    return text[span.start:start] + heading + text[end:span.content_end]


def _patch_steps(edits: _Edits, parsed: _Parsed, doc: PlanDocument) -> None:
    """The steps as edited. Each step of the text is matched with the step it now is
    (_align_steps): those that keep their order are rewritten where they are, only in what
    changed; a removed step's lines go; a moved one's lines go where it now is (written again
    from its fields if it changed too), as do added steps, each after the step before it."""
    if parsed.stored_steps == _stored_steps(doc.steps):
        return
    raw, spans = parsed.raw, parsed.spans
    level = spans.steps[-1].level if spans.steps else spans.level + 1
    style = spans.steps[-1].title_prefix if spans.steps else None
    # Steps numbered from elsewhere than 1 ("Step 9", "Step 10") go on counting from there.
    written = re.search(r"\d+(?:\.\d+)*", style or "")
    shift = int(written[0]) - len(spans.steps) if written and written[0].isdigit() else 0

    def rendered(number: int, step: Step) -> str:
        prefix = _step_prefix(style, number + shift)
        return "\n".join(_render_step(number, step, level, prefix)).rstrip("\n")

    if not spans.steps:
        block = "\n\n".join(rendered(n, step) for n, step in enumerate(doc.steps, start=1))
        at = spans.steps_end
        if at is None:  # no steps section at all
            at = _section_insert_point(spans, schema.top_level(),
                                       schema.get("implementation_steps"))
            heading = f"{'#' * spans.level} Implementation Steps\n\n"
            edits.insert(at, _block_text(edits.text, at, heading + block))
        else:
            edits.insert(at, "\n\n" + block)
        return
    matched = _align_steps(raw.steps, doc.steps)
    staying = _staying([i for i in matched if i is not None])
    for i, span in enumerate(spans.steps):
        if i not in staying:  # removed, or written again where it moved to
            edits.replace((span.start, span.end), "")
    after, first = None, []  # the last step left in place so far; what goes before the first
    for number, (step, i) in enumerate(zip(doc.steps, matched, strict=True), start=1):
        if i in staying:
            span = spans.steps[i]
            if first:
                edits.insert(span.start, "\n\n".join(first) + "\n\n")
                first = []
            _patch_step(edits, span, raw.steps[i], step, number, i + 1)
            after = span
            continue
        if i is not None and _stored_steps([raw.steps[i]]) == _stored_steps([step]):
            block = _moved_step(edits.text, spans.steps[i], number, i + 1)
        else:
            block = rendered(number, step)
        if after is None:
            first.append(block)
        else:
            edits.insert(after.content_end, "\n\n" + block)
    if first:  # no step stayed: where the first one was
        edits.insert(spans.steps[0].start, "\n\n".join(first) + "\n\n")


# --- public: document <-> models -------------------------------------------------------------


def _related(instance, name: str):
    """``instance.<name>.all()``: the prefetched rows when there are, without the related
    manager that each access makes (on a large plan, making one for every step's actions and
    files took longer than reading the rows); else the manager's query."""
    prefetched = getattr(instance, "_prefetched_objects_cache", {}).get(name)
    return prefetched if prefetched is not None else getattr(instance, name).all()


def document_from_plan(plan: Plan, approval: Approval | None = None) -> PlanDocument:
    """The plan's content as a document (uses prefetched steps, actions, files and criteria)."""
    return PlanDocument(
        title=plan.title,
        created=plan.created_on.isoformat() if plan.created_on else "",
        status=str(plan.status),
        sections={**(plan.sections or {}),
                  **{key: plan.sections.get(key, "") for key in schema.prose_keys()}},
        review_checklist=plan.review_checklist,
        steps=[
            Step(
                title=step.title,
                objective=step.objective,
                actions=[CheckItem(a.text, a.done) for a in _related(step, "actions")],
                files=[FileChange(f.path, f.description) for f in _related(step, "files")],
                dependencies=step.dependencies,
                estimate=step.estimate,
                risk=step.risk.capitalize(),
                notes=step.notes,
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
    """The plan's Markdown: an imported plan's own text, byte for byte (its BOM and line
    endings too), with only what was edited since rewritten; a plan made in the editor in the
    template's layout."""
    if plan.source is not None:
        return _source_edits(plan.source, document_from_plan(plan)).apply(plan.source)
    return render_plan(document_from_plan(plan, approval))


def content_hash_text(plan: Plan) -> str:
    """What a revision of the plan holds and is hashed over: an imported plan's text (as
    export_plan gives it, normalised: line endings as LF, no BOM, so an agent's unedited file
    hashes as itself however its checkout ends lines), else canonical_text."""
    if plan.source is not None:
        return patch_source(plan.source, document_from_plan(plan))
    return canonical_text(document_from_plan(plan))


PLACEHOLDERS = _Parser(TEMPLATE).parse()[0]
"""The bare template, read as is: every field holds its placeholder text."""

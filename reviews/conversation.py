"""Where comments sit on a revision's text: its blocks (with their line numbers, section and step)
and anchors that follow unchanged text from one revision to the next.

A revision is immutable Markdown, so everything here is a pure function of its text (and cached
by its content hash). An anchor is a line range plus the text of those lines: on another
revision it is found again where the same lines stand, nearest to where they were (a step that
moved down by three lines moves with it), and it is *outdated* when those lines are there no
longer. Computed when the conversation is read, so no hook on submission is needed and the
answer never depends on the order things happened in.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field

from django.core.cache import cache
from markdown_it import MarkdownIt

from plans.rendering import RENDER_VERSION, render_markdown

logger = logging.getLogger(__name__)

_PARSER = MarkdownIt("commonmark").enable("table")
_STEP_HEADING = re.compile(r"step\s+(\d+)\b", re.IGNORECASE)
#: Template furniture the app shows as its own UI (the checklist, approval, status): not content.
FURNITURE_SECTIONS = {"review checklist", "approval"}
_PLACEHOLDER_LINE = re.compile(r"^\s*\*(Status|Created):.*\*\s*$")


@dataclass(frozen=True)
class Block:
    """One anchorable piece of the rendered revision: source lines ``line_from``..``line_to``
    (1-based, inclusive), the section (``##`` heading) and step it belongs to."""

    line_from: int
    line_to: int
    html: str
    section: str = ""
    step: int | None = None
    heading: int = 0  # the heading level, 0 when the block is not a heading


@dataclass(frozen=True)
class Outline:
    blocks: list[Block]
    sections: dict[str, tuple[int, int]] = field(default_factory=dict)  # title -> lines
    steps: dict[int, tuple[int, int, str]] = field(default_factory=dict)  # n -> lines, title


def lines_of(text: str) -> list[str]:
    return (text or "").split("\n")


def anchor_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _trimmed(lines: list[str], start: int, end: int) -> tuple[int, int]:
    """``start``..``end`` (1-based) without the blank lines at its end."""
    while end > start and not lines[end - 1].strip():
        end -= 1
    return start, end


def _ranges(blocks: list[tuple[int, int, int, str]], last: int, lines: list[str]):
    """Sections (level 2) and steps (level 3 "Step N") from the headings, each running to the
    line before the next heading of the same or a higher level."""
    sections, steps = {}, {}
    for index, (level, start, _end, title) in enumerate(blocks):
        if level not in (2, 3):
            continue
        stop = next((b[1] - 1 for b in blocks[index + 1:] if 0 < b[0] <= level), last)
        if level == 2:
            sections.setdefault(title, _trimmed(lines, start, stop))
        elif (match := _STEP_HEADING.match(title)) and int(match.group(1)) not in steps:
            steps[int(match.group(1))] = (*_trimmed(lines, start, stop), title)
    return sections, steps


def _pieces(text: str) -> list[tuple[int, int, int, str]]:
    """(heading level or 0, first line, last line, heading text) of each top-level block; a
    list is split into its items so each item can be commented on by itself."""
    tokens = _PARSER.parse(text)
    pieces = []
    for index, token in enumerate(tokens):
        if token.map is None:
            continue
        if token.level == 0 and token.type == "heading_open":
            title = tokens[index + 1].content.strip()
            pieces.append((int(token.tag[1]), token.map[0] + 1, token.map[1], title))
        elif (token.level == 1 and token.type == "list_item_open") or (
            token.level == 0 and token.type not in ("bullet_list_open", "ordered_list_open")
        ):  # a top-level block, or an item of a top-level list
            pieces.append((0, token.map[0] + 1, token.map[1], ""))
    return pieces


def _build(text: str) -> Outline:
    lines = lines_of(text)
    pieces = _pieces(text)
    sections, steps = _ranges(pieces, len(lines), lines)
    section, step, blocks = "", None, []
    for level, start, end, title in pieces:
        if level == 2:
            section, step = title, None
        elif level == 3:
            match = _STEP_HEADING.match(title)
            step = int(match.group(1)) if match else None
        elif level == 1:
            section, step = "", None
        if section.lower() in FURNITURE_SECTIONS:
            continue
        start, end = _trimmed(lines, start, end)
        if not level and all(_PLACEHOLDER_LINE.match(line) for line in lines[start - 1:end]):
            continue  # the template's date and status placeholders: the app shows the real ones
        source = "\n".join(lines[start - 1:end])
        blocks.append(Block(start, end, render_markdown(source), section, step, level))
    return Outline(blocks, sections, steps)


def outline(revision) -> Outline:
    """The revision's blocks, sections and steps; cached by its content hash."""
    key = f"reviews:outline:v{RENDER_VERSION}:1:{revision.content_hash}"
    try:
        found = cache.get(key)
    except Exception:
        logger.warning("Render cache unavailable: rendering without it", exc_info=True)
        return _build(revision.content)
    if found is None:
        found = _build(revision.content)
        try:
            cache.set(key, found, 60 * 60 * 24 * 7)
        except Exception:
            logger.warning("Render cache unavailable: result not kept", exc_info=True)
    return found


def locate(anchor_text: str, line_from: int, lines: list[str]) -> tuple[int, int] | None:
    """Where the anchored lines stand in ``lines`` unchanged (nearest to ``line_from``), or
    None when they are gone (the thread is outdated)."""
    wanted = lines_of(anchor_text)
    size = len(wanted)
    if not size or not anchor_text.strip():
        return None
    here = line_from - 1
    if lines[here:here + size] == wanted:
        return line_from, line_from + size - 1
    starts = [i for i, line in enumerate(lines) if line == wanted[0]
              and lines[i:i + size] == wanted]
    if not starts:
        return None
    best = min(starts, key=lambda i: (abs(i - here), i))
    return best + 1, best + size


def step_heading(line: str) -> int | None:
    """N when ``line`` is a "### Step N: ..." heading."""
    match = re.match(r"\s*###\s+(.*)", line)
    found = match and _STEP_HEADING.match(match.group(1))
    return int(found.group(1)) if found else None


def section_of(outline_: Outline, line: int) -> tuple[str, int | None]:
    """The section and step a line is in (from the blocks; "" and None outside them)."""
    for block in outline_.blocks:
        if block.line_from <= line <= block.line_to:
            return block.section, block.step
    for title, (start, end) in outline_.sections.items():
        if start <= line <= end:
            return title, None
    return "", None

"""Section-by-section diff of two plan texts (the canonical Markdown of two revisions).

The text is split at ``##`` and ``###`` headings (not inside fenced code blocks); sections are
matched by heading, and each pair is diffed line by line with difflib.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

_HEADING = re.compile(r"^(#{2,3})\s+(?P<text>.+?)\s*#*\s*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


@dataclass
class DiffLine:
    kind: str  # "equal", "insert" or "delete"
    text: str


@dataclass
class SectionDiff:
    heading: str  # "Implementation Steps / Step 1: Cache sessions"; "" for the text before any
    status: str  # "unchanged", "changed", "added" or "removed"
    lines: list[DiffLine] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.status != "unchanged"

    @property
    def inserted(self) -> int:
        return sum(1 for line in self.lines if line.kind == "insert")

    @property
    def deleted(self) -> int:
        return sum(1 for line in self.lines if line.kind == "delete")


def split_sections(text: str) -> list[tuple[str, list[str]]]:
    """(heading path, lines) per section; a section's lines start with its heading line."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    parent, fence = "", ""
    for line in (text or "").replace("\r\n", "\n").split("\n"):
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = ""
        elif opening:
            fence = opening.group(1)
        else:
            match = _HEADING.match(line)
            if match:
                heading = match["text"]
                if len(match.group(1)) == 2:
                    parent, path = heading, heading
                else:
                    path = f"{parent} / {heading}" if parent else heading
                sections.append((path, [line]))
                continue
        sections[-1][1].append(line)
    if not sections[0][1] or not any(line.strip() for line in sections[0][1]):
        sections = sections[1:]
    return [(heading, _trim(lines)) for heading, lines in sections]


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def _lines_diff(old: list[str], new: list[str]) -> list[DiffLine]:
    out: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out += [DiffLine("equal", line) for line in old[a1:a2]]
            continue
        out += [DiffLine("delete", line) for line in old[a1:a2]]
        out += [DiffLine("insert", line) for line in new[b1:b2]]
    return out


def _pair(old: tuple[str, list[str]], new: tuple[str, list[str]]) -> SectionDiff:
    lines = _lines_diff(old[1], new[1])
    status = "unchanged" if old[1] == new[1] else "changed"
    return SectionDiff(new[0], status, lines)


def section_diff(old_text: str, new_text: str) -> list[SectionDiff]:
    """The sections of new_text (and removed ones of old_text), each with its line diff."""
    old, new = split_sections(old_text), split_sections(new_text)
    matcher = difflib.SequenceMatcher(
        a=[h for h, _ in old], b=[h for h, _ in new], autojunk=False
    )
    result: list[SectionDiff] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            result += [_pair(o, n) for o, n in zip(old[a1:a2], new[b1:b2], strict=True)]
            continue
        paired = min(a2 - a1, b2 - b1) if op == "replace" else 0
        result += [_pair(old[a1 + i], new[b1 + i]) for i in range(paired)]
        result += [
            SectionDiff(h, "removed", [DiffLine("delete", line) for line in lines])
            for h, lines in old[a1 + paired:a2]
        ]
        result += [
            SectionDiff(h, "added", [DiffLine("insert", line) for line in lines])
            for h, lines in new[b1 + paired:b2]
        ]
    return result

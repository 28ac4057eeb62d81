"""The drift check: which changed files the approved revision's steps planned, and which not.

The planned files come from the approved revision's own text (PlanRevision.content, parsed as
the importer reads plans), not from the plan's rows: rows change when an amendment is submitted,
the approved text never does. That parse is cached by the revision's content hash.

A planned path is matched as a glob with git's pathspec meaning: ``*`` and ``?`` stay inside a
path segment, ``**`` spans any number of segments (``tests/**`` is everything under tests/,
``**/conftest.py`` any conftest.py), ``[abc]`` is a set. A path ending in ``/`` (or naming a
folder, ``app/``) covers everything under it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from plans.markdown import parse_plan_with_warnings


@dataclass(frozen=True)
class PlannedFile:
    pattern: str
    step_number: int
    step_title: str


@dataclass
class DriftResult:
    changed: list[str]
    unplanned: list[str] = field(default_factory=list)
    untouched: list[str] = field(default_factory=list)
    matches: dict[str, list[int]] = field(default_factory=dict)

    @property
    def clear(self) -> bool:
        return not self.unplanned


def clean_path(path: str) -> str:
    """A planned or changed path as compared: backticks, ``./`` and surrounding space dropped,
    backslashes as slashes."""
    path = path.strip().strip("`").strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def _segment(segment: str) -> str:
    """One path segment of a glob as a regex (``*``, ``?``, ``[...]`` within the segment)."""
    out, i = [], 0
    while i < len(segment):
        ch = segment[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = segment.find("]", i + 2 if segment[i + 1:i + 2] in ("!", "]") else i + 1)
            if end == -1:
                out.append(re.escape(ch))
            else:
                body = segment[i + 1:end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


@lru_cache(maxsize=2048)
def glob_regex(pattern: str) -> re.Pattern:
    """The compiled regex of a planned path (see the module docstring)."""
    pattern = clean_path(pattern)
    parts = [p for p in pattern.strip("/").split("/") if p]
    regex = ""
    for index, part in enumerate(parts):
        if part == "**":
            if index == len(parts) - 1:
                regex += ".*" if index == 0 else "(?:/.*)?"
            else:
                regex += "(?:[^/]+/)*" if index == 0 else "/(?:[^/]+/)*"
            continue
        if index > 0 and parts[index - 1] != "**":
            regex += "/"
        regex += _segment(part)
    last = parts[-1] if parts else ""
    if pattern.endswith("/") or (last != "**" and "." not in last
                                 and not any(ch in last for ch in "*?[")):
        regex += "(?:/.*)?"  # a folder covers what is under it
    try:
        return re.compile(f"^{regex}$")
    except re.error:  # e.g. a bracket range written backwards, "[z-a]": that very path only
        return re.compile(f"^{re.escape(pattern)}$")


def matches(path: str, pattern: str) -> bool:
    return bool(glob_regex(pattern).match(clean_path(path)))


@lru_cache(maxsize=256)
def _planned_for_text(content_hash: str, content: str) -> tuple[PlannedFile, ...]:
    document, _ = parse_plan_with_warnings(content)
    return tuple(
        PlannedFile(pattern=clean_path(change.path), step_number=number, step_title=step.title)
        for number, step in enumerate(document.steps, start=1)
        for change in step.files if clean_path(change.path or "")
    )


@lru_cache(maxsize=256)
def _steps_for_text(content_hash: str, content: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    document, _ = parse_plan_with_warnings(content)
    return tuple((step.title, tuple(action.text for action in step.actions))
                 for step in document.steps)


def revision_steps(revision) -> list[tuple[str, tuple[str, ...]]]:
    """Each step of this revision's text as (title, its actions' texts), read as the importer
    reads plans (so as the plan's rows were written from it), cached by its content hash."""
    return list(_steps_for_text(revision.content_hash, revision.content))


def planned_files(revision) -> list[PlannedFile]:
    """The files (or globs) each step of this revision lists, cached by its content hash."""
    return list(_planned_for_text(revision.content_hash, revision.content))


def compare(changed: list[str], planned: list[PlannedFile]) -> DriftResult:
    """Changed files against planned ones: which step each changed file belongs to, the changed
    files no step planned, and the planned entries no changed file touched."""
    files = sorted({clean_path(p) for p in changed if clean_path(p)})
    result = DriftResult(changed=files)
    used: set[str] = set()
    for path in files:
        steps = sorted({p.step_number for p in planned if matches(path, p.pattern)})
        if steps:
            result.matches[path] = steps
            used.update(p.pattern for p in planned if matches(path, p.pattern))
        else:
            result.unplanned.append(path)
    seen: set[str] = set()
    for entry in planned:
        if entry.pattern not in used and entry.pattern not in seen:
            result.untouched.append(entry.pattern)
            seen.add(entry.pattern)
    return result

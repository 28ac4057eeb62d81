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
import re
import uuid
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

from django.template.loader import get_template, render_to_string
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

from core import cache as shared_cache
from plans.markdown import step_lines
from plans.rendering import CACHE_SECONDS, RENDER_VERSION, render_comment, render_markdown

_PARSER = MarkdownIt("commonmark").enable("table")
#: Bump when what an outline holds changes: in the keys of the outline, the blocks' HTML (their
#: data-step) and, through partials_digest, the page rows (the threads' labels).
OUTLINE_VERSION = 3  # 3: an outdated thread's step is the one it was written on
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
    #: position (1..n, the plan's PlanStep positions) -> (first line, last line, heading text)
    steps: dict[int, tuple[int, int, str]] = field(default_factory=dict)

    @property
    def commentable(self) -> list[str]:
        """The sections a comment or concern can be on: the '##' sections in document order,
        less the template's furniture the app shows as its own UI."""
        return [title for title in self.sections if title.lower() not in FURNITURE_SECTIONS]


def lines_of(text: str) -> list[str]:
    return (text or "").split("\n")


def anchor_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _trimmed(lines: list[str], start: int, end: int) -> tuple[int, int]:
    """``start``..``end`` (1-based) without the blank lines at its end."""
    while end > start and not lines[end - 1].strip():
        end -= 1
    return start, end


def _sections(blocks: list[tuple[int, int, int, str]], last: int, lines: list[str]):
    """Sections (level 2) from the headings, each running to the line before the next heading
    of the same or a higher level."""
    sections = {}
    for index, (level, start, _end, title) in enumerate(blocks):
        if level == 2:
            stop = next((b[1] - 1 for b in blocks[index + 1:] if 0 < b[0] <= level), last)
            sections.setdefault(title, _trimmed(lines, start, stop))
    return sections


def _steps(text: str) -> dict[int, tuple[int, int, str]]:
    """The steps as the importer finds them (plans.markdown.step_lines: in the implementation
    steps section only, any of its step headings, at the level it reads them at), numbered by
    position, as the plan's PlanSteps are: a comment's step N is the plan's step N."""
    return {s.number: (s.line_from, s.line_to, s.heading) for s in step_lines(text)}


def _step_at(steps: dict[int, tuple[int, int, str]], line: int) -> int | None:
    """The step whose lines include ``line`` (steps are in document order and never overlap)."""
    numbers = list(steps)
    index = bisect_right([steps[n][0] for n in numbers], line) - 1
    if index >= 0 and line <= steps[numbers[index]][1]:
        return numbers[index]
    return None


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
    sections, steps = _sections(pieces, len(lines), lines), _steps(text)
    section, blocks = "", []
    for level, start, end, title in pieces:
        if level == 2:
            section = title
        elif level == 1:
            section = ""
        if section.lower() in FURNITURE_SECTIONS:
            continue
        start, end = _trimmed(lines, start, end)
        if not level and all(_PLACEHOLDER_LINE.match(line) for line in lines[start - 1:end]):
            continue  # the template's date and status placeholders: the app shows the real ones
        source = "\n".join(lines[start - 1:end])
        blocks.append(Block(start, end, render_markdown(source), section,
                            _step_at(steps, start), level))
    return Outline(blocks, sections, steps)


def outline(revision) -> Outline:
    """The revision's blocks, sections and steps; cached by its content hash (its text is read
    only when the cache misses: a revision loaded without it costs no query then)."""
    return outline_of(revision.content_hash, lambda: revision.content)


def outline_of(content_hash: str, text: Callable[[], str]) -> Outline:
    """The outline of a plan's text (a revision's, or a draft's as it would be frozen), cached
    by its SHA-256 ``content_hash``; ``text()`` is called on a miss."""
    key = f"reviews:outline:v{RENDER_VERSION}:{OUTLINE_VERSION}:{content_hash}"
    return shared_cache.cached(key, lambda: _build(text()), CACHE_SECONDS)


_BLOCK_TEMPLATE = "reviews/includes/conversation_block.html"
_THREAD_TEMPLATE = "reviews/includes/conversation_thread.html"
_COMMENT_TEMPLATE = "reviews/includes/conversation_comment.html"


def partials_digest() -> str:
    """A digest of the page's partials: in the keys of what is rendered with them."""
    partials = [get_template(name).template.source
                for name in (_BLOCK_TEMPLATE, _THREAD_TEMPLATE, _COMMENT_TEMPLATE)]
    # The outline's version too: the blocks carry its steps, the page rows its labels.
    return hashlib.sha256("\0".join([str(OUTLINE_VERSION), *partials]).encode()).hexdigest()[:16]


def block_fragments(revision, outline_: Outline) -> list[SafeString]:
    """Each block's HTML as the conversation page shows it (line links, data attributes, the
    rendered text), in the order of ``outline_.blocks``. A pure function of the revision's
    text, its number (in the links) and the partial, so cached under all three: the page then
    lays out only its threads."""
    key = (f"reviews:cv-blocks:v{RENDER_VERSION}:{partials_digest()}:{revision.content_hash}:"
           f"{revision.number}")
    found = shared_cache.cached(
        key, lambda: [render_to_string(_BLOCK_TEMPLATE, {"block": b, "number": revision.number})
                      for b in outline_.blocks], CACHE_SECONDS)
    return [mark_safe(html) for html in found]  # noqa: S308 - the partial escapes; nh3 cleaned


@dataclass(frozen=True)
class ThreadFragments:
    """A thread's HTML for every viewer, in pieces between which the viewer's CSRF token goes:
    the thread up to its comments, each comment as everyone sees it and as its author does while
    they may edit it, and the rest (the reply form) by (may comment, may resolve)."""

    head: str
    comments: list[tuple[list[str], list[str]]]
    tails: dict[tuple[bool, bool], list[str]]

    def html(self, csrf_token: str, editable: list[bool], can_comment: bool,
             can_resolve: bool) -> SafeString:
        token = conditional_escape(csrf_token)
        parts = [self.head,
                 *(token.join(seen[e]) for seen, e in zip(self.comments, editable, strict=True)),
                 token.join(self.tails[can_comment, can_comment and can_resolve])]
        return mark_safe("".join(parts))  # noqa: S308 - the partials escaped every value


def thread_fragments(thread, edit_minutes: int) -> ThreadFragments:
    """The thread partial rendered once for every viewer (``thread``: selectors.Thread)."""
    # Stands for the CSRF token, and for the comments in the thread partial (where the HTML is
    # split): drawn after every text rendered here was written, so none of them contains it.
    mark = uuid.uuid4().hex

    def comment(c, editable: bool) -> list[str]:
        return render_to_string(_COMMENT_TEMPLATE, {
            "c": c, "editable": editable, "edit_minutes": edit_minutes, "csrf_token": mark,
        }).split(mark)  # fmt: skip

    def pieces(can_comment: bool, can_resolve: bool) -> list[str]:
        return render_to_string(_THREAD_TEMPLATE, {
            "thread": thread, "comments": mark, "csrf_token": mark,
            "can_comment": can_comment, "can_resolve": can_resolve,
        }).split(mark)  # fmt: skip

    variants = {key: pieces(*key) for key in ((False, False), (True, False), (True, True))}
    return ThreadFragments(
        head=variants[False, False][0],
        comments=[(comment(c, False), comment(c, True)) for c in thread.comments],
        tails={key: found[1:] for key, found in variants.items()})


def comment_html(texts) -> dict[str, SafeString]:
    """Each comment text (Markdown) as sanitised HTML (plans.rendering.render_comment), cached
    by the text's SHA-256, so a whole conversation costs one cache round trip; an edited
    comment is another text, so it never shows an old rendering."""
    keys = {text: f"reviews:comment-html:v{RENDER_VERSION}:{anchor_hash(text)}"
            for text in set(texts) if text}
    found = shared_cache.get_many(keys.values())
    missing = {}
    result = {}
    for text, key in keys.items():
        html = found.get(key)
        if html is None:
            html = missing[key] = render_comment(text)
        result[text] = mark_safe(html)  # noqa: S308 - nh3 sanitised it
    shared_cache.set_many(missing, CACHE_SECONDS)
    return result


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


def section_of(outline_: Outline, line: int) -> tuple[str, int | None]:
    """The section and step a line is in (from the blocks; "" and None outside them)."""
    for block in outline_.blocks:
        if block.line_from <= line <= block.line_to:
            return block.section, block.step
    for title, (start, end) in outline_.sections.items():
        if start <= line <= end:
            return title, None
    return "", None

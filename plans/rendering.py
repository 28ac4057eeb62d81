"""Markdown to safe HTML as GitHub renders it: markdown-it-py with mdit-py-plugins' GFM set
(tables, task lists, strikethrough, autolinks, footnotes, alerts, fenced code) renders, nh3
sanitises. Pages, the review page, the editor preview (markdownx's MARKDOWNX_MARKDOWNIFY_FUNCTION)
and comments all render through here, so a plan looks the same wherever it is read.

Raw HTML in the Markdown is kept for nh3 to sanitise (as before): nh3 allows its default tags
and attributes plus only what the GFM output needs, checked value by value below.
"""

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import unquote, urlsplit

import nh3
from django.conf import settings
from django.db.models import Prefetch
from django.template.loader import get_template, render_to_string
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt
from mdit_py_plugins.gfm import gfm_plugin

from core import cache as shared_cache

from . import schema, selectors
from .diff import section_diff
from .markdown import MarkdownImportError, estimate_hours, parse_plan, risk_level
from .models import Plan, PlanEditor, PlanRevision, PlanStep, highest_risk

_ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
_URL_IGNORED = re.compile(r"[\t\n\r]")  # browsers drop these inside URLs

# --- the allow-list: nh3's defaults, plus what GFM output needs ---------------------------------
_ALERT_KINDS = ("note", "tip", "important", "warning", "caution")
#: The classes markdown-it's GFM output uses, per tag; any other class is dropped.
_CLASSES = {
    "ul": {"contains-task-list"},
    "ol": {"contains-task-list", "footnotes-list"},
    "li": {"task-list-item", "footnote-item"},
    "input": {"task-list-item-checkbox"},
    "div": {"markdown-alert", *(f"markdown-alert-{kind}" for kind in _ALERT_KINDS)},
    "p": {"markdown-alert-title"},
    "sup": {"footnote-ref"},
    "a": {"footnote-backref"},
    "section": {"footnotes"},
    "hr": {"footnotes-sep"},
    # A table column's alignment: a class (see _align_classes), since the CSP allows no style=.
    "th": {"align-left", "align-center", "align-right"},
    "td": {"align-left", "align-center", "align-right"},
}
_LANGUAGE_CLASS = re.compile(r"language-[\w+#.-]{1,40}")  # <code> of a fence: "```python"
_FOOTNOTE_ID = re.compile(r"fn(ref)?-[0-9a-f]{12}-\d+(:\d+)?")  # see _doc_id
_TAGS = nh3.ALLOWED_TAGS | {"input", "section"}
_ATTRIBUTES = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
for _tag in _CLASSES:
    _ATTRIBUTES.setdefault(_tag, set()).add("class")
for _tag, _name in [("code", "class"), ("li", "id"), ("a", "id")]:
    _ATTRIBUTES.setdefault(_tag, set()).add(_name)
#: A task list's box is a disabled checkbox whatever the text says: no other input type, no
#: name, value or form, and always disabled, so nothing in a plan can take input or post a form.
#: (Only "disabled" is forced: nh3 adds forced attributes in no fixed order, and HTML that
#: changes from one process to the next would defeat the render cache and the tests.)
_INPUT_VALUES = {"input": {"type": {"checkbox"}, "checked": {""}}}
_INPUT_FORCED = {"input": {"disabled": ""}}


def _local_image_src(src: str) -> str | None:
    """``src`` when it points at an uploaded image (under MEDIA_URL), else None.

    An image from elsewhere would tell its host who reads the plan, and when (and breaks on a
    closed network); and an image on this site outside MEDIA_URL (``/notifications/25/open/``,
    or a relative ``../open/``) would make every reader's browser GET that page. MEDIA_URL
    serves only stored images (config/urls.py serve_media, deploy/Caddyfile), so only uploads
    are shown.
    """
    url = _URL_IGNORED.sub("", src).strip()
    media = settings.MEDIA_URL or ""  # "/media/" (Django prefixes a relative one) or a host's
    # markdown-it percent-encodes what it writes ("/\\host" becomes "/%5Chost"): judge the
    # decoded form, so no spelling of "/\\host", "//host" or ".." (a browser resolves
    # "/media/../notifications/" to "/notifications/") gets through.
    decoded = _URL_IGNORED.sub("", unquote(url)).strip()
    if not media or "\\" in decoded or ".." in urlsplit(decoded).path.split("/"):
        return None
    return url if url.startswith(media) and decoded.startswith(media) else None


def _attribute_filter(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src":
        return _local_image_src(value)
    if attribute == "class":
        allowed = _CLASSES.get(element, set())
        kept = [c for c in value.split() if c in allowed
                or (element == "code" and _LANGUAGE_CLASS.fullmatch(c))]
        return " ".join(kept) or None
    if attribute == "id":  # only footnotes' own anchors, so text cannot clobber page ids
        return value if _FOOTNOTE_ID.fullmatch(value) else None
    return value


def _clean(html: str) -> str:
    """Sanitised HTML, without markdown-it's final newline (so a fragment ends at its tag)."""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        tag_attribute_values=_INPUT_VALUES,
        set_tag_attribute_values=_INPUT_FORCED,
        url_schemes=_ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_attribute_filter,
    ).rstrip("\n")


# --- the renderer ---------------------------------------------------------------------------------
def _image_alt_first(renderer, tokens, idx, options, env) -> str:
    """markdown-it's image rule with ``alt`` written before ``src`` (as the previous renderer
    did), so the HTML of an image does not change with the renderer."""
    token = tokens[idx]
    alt = renderer.renderInlineAsText(token.children or [], options, env)
    token.attrs = {"alt": alt, **{k: v for k, v in token.attrs.items() if k != "alt"}}
    return renderer.renderToken(tokens, idx, options, env)


def _align_classes(state) -> None:
    """A table cell's ``style="text-align:right"`` (GFM column alignment) as ``class=
    "align-right"``: pages are served under a Content-Security-Policy that refuses inline
    styles, and static/css/plangate.css aligns the classes."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open") and "style" in token.attrs:
            align = str(token.attrs.pop("style")).removeprefix("text-align:")
            token.attrs["class"] = f"align-{align}"


def _markdown_it(**options) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, **options}).use(gfm_plugin)
    md.add_render_rule("image", _image_alt_first)
    md.core.ruler.push("align_classes", _align_classes)
    return md


_DOCUMENT = _markdown_it()
_COMMENT = _markdown_it(breaks=True)  # as on GitHub, a newline in a comment is a line break


def _doc_id(text: str) -> str:
    """Footnote anchors are named after the text ("fn-<12 hex>-1"), so two texts rendered on
    one page (a plan's sections) do not share ids and the same text always gets the same."""
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def render_markdown(text: str) -> str:
    """Render Markdown to HTML that is safe to embed: no script, handler or javascript: URL."""
    text = text or ""
    return _clean(_DOCUMENT.render(text, {"docId": _doc_id(text)}))


def render_comment(text: str) -> str:
    """A comment's Markdown as safe HTML; unlike a document, each newline is a line break."""
    text = text or ""
    return _clean(_COMMENT.render(text, {"docId": _doc_id(text)}))


def render_inline(text: str) -> str:
    """Like render_markdown, without the paragraph around a single line (checklist items)."""
    html = render_markdown(text).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        return html[3:-4]
    return html


def diff_section_html(section) -> str:
    """A section of plans/diff.py's diff as it reads after the change: its inserted and kept
    lines, without the heading line (the diff page shows it already), rendered."""
    lines = [line.text for line in section.lines if line.kind != "delete"]
    return render_markdown("\n".join(lines[1:] if section.heading else lines))


RENDER_VERSION = 6  # bump when the renderer's output changes, to drop cached HTML
CACHE_SECONDS = 60 * 60 * 24 * 7
#: The plan's own texts as the schema had them at import; _plan_sources reads it when it runs.
PLAN_PROSE_FIELDS = [*schema.prose_keys(), "review_checklist"]


def _text_keys() -> list[str]:
    """The sections whose own text a page shows: the prose sections, and the text an import
    kept under a GROUP, STEPS or CRITERIA heading (before its subsections or items)."""
    return [s.key for s in schema.SECTIONS if s.kind not in schema.REVIEWER_KINDS]


def _plan_sources(plan) -> dict:
    """Every Markdown text the plan page shows (uses prefetched steps, actions, files); the
    texts of "fields" are keyed by section key."""
    return {
        "fields": {**{key: plan.sections.get(key, "") for key in _text_keys()},
                   "review_checklist": plan.review_checklist},
        "steps": [
            {
                "objective": step.objective,
                "dependencies": step.dependencies,
                "actions": [a.text for a in step.actions.all()],
                "files": [f.description for f in step.files.all()],
                "notes": step.notes,
            }
            for step in plan.steps.all()
        ],
        "criteria": [c.text for c in plan.success_criteria.all()],
        "extras": [e.get("body", "") for e in plan.extra_sections or []],
    }


def plan_html(plan) -> dict:
    """The plan's Markdown rendered to safe HTML, in the shape of _plan_sources.

    Cached under the SHA-256 of the sources, so a plan's HTML is rendered once per content
    (i.e. per revision) whoever views it, and any change of content misses the cache.
    """
    sources = _plan_sources(plan)
    digest = hashlib.sha256(json.dumps(sources, sort_keys=True).encode()).hexdigest()

    def render() -> dict:
        return {
            "fields": {k: render_markdown(v) for k, v in sources["fields"].items()},
            "steps": [
                {
                    "objective": render_markdown(s["objective"]),
                    "dependencies": render_markdown(s["dependencies"]),
                    "actions": [render_inline(t) for t in s["actions"]],
                    "files": [render_inline(t) for t in s["files"]],
                    "notes": render_markdown(s["notes"]),
                }
                for s in sources["steps"]
            ],
            "criteria": [render_inline(t) for t in sources["criteria"]],
            "extras": [render_markdown(t) for t in sources["extras"]],
        }

    return _cached(f"plans:html:v{RENDER_VERSION}:{digest}", render)


#: The partials a plan's document is laid out with (plans/includes/plan_sections.html and what
#: it includes): their text is part of every cached layout's key, so editing one drops them.
DOCUMENT_TEMPLATES = ("plans/includes/plan_sections.html", "plans/includes/plan_step.html",
                      "plans/includes/plan_extra.html", "plans/includes/revision_document.html",
                      "plans/includes/revision_diff_sections.html")


#: What a layout kept for every viewer has where a form's CSRF token goes (a new token is made
#: for every response: the plan page's toolbar and review panel put theirs in). Escaping leaves
#: it as it is (private-use characters); it is taken for a token only as one is written,
#: value="MARK" (TOKEN_SLOT): a text that has the mark (a title, say) has its quotes escaped.
TOKEN_MARK = "\ue000csrf-token\ue000"
TOKEN_SLOT = re.compile(f'(?<=value="){TOKEN_MARK}(?=")')


@functools.cache
def templates_digest(names: tuple[str, ...] = DOCUMENT_TEMPLATES) -> str:
    """These templates' sources (the same for the life of a process): in the keys of what is
    kept laid out with them, so a release that changes them lays it out afresh."""
    sources = [get_template(name).template.source for name in names]
    return hashlib.sha256("\0".join(sources).encode()).hexdigest()[:16]


def _document_facts(plan) -> dict:
    """What the document shows besides its Markdown: titles, estimates, risks, ticks, paths."""
    return {
        "steps": [
            [step.title, step.estimate, str(step.estimated_hours), step.risk,
             [a.done for a in step.actions.all()], [f.path for f in step.files.all()]]
            for step in plan.steps.all()
        ],
        "criteria": [c.done for c in plan.success_criteria.all()],
        "extras": [[e.get("heading", ""), e.get("after", "")] for e in plan.extra_sections or []],
    }


def plan_document_context(plan, html: dict) -> dict:
    """The context of plans/includes/plan_sections.html for a plan (uses prefetched steps,
    actions, files and criteria) and its ``plan_html``."""
    return {
        "html": html["fields"],
        "steps": [
            {
                "step": step,
                "html": step_html,
                "actions": list(zip(step.actions.all(), step_html["actions"], strict=True)),
                "files": list(zip(step.files.all(), step_html["files"], strict=True)),
            }
            for step, step_html in zip(plan.steps.all(), html["steps"], strict=True)
        ],
        "criteria": list(zip(plan.success_criteria.all(), html["criteria"], strict=True)),
        "extras": [
            {"heading": extra.get("heading", ""), "after": extra.get("after", ""), "html": body}
            for extra, body in zip(plan.extra_sections or [], html["extras"], strict=True)
        ],
    }


def plan_document_html(plan) -> str:
    """The plan's sections laid out as the plan page shows them (plan_sections.html), cached
    under the SHA-256 of everything it shows and of the partials: rendering the 50 steps of a
    plan is most of its page, and the same content always lays out the same."""
    facts = {"sources": _plan_sources(plan), **_document_facts(plan)}
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()

    def render() -> str:
        context = plan_document_context(plan, plan_html(plan))
        return render_to_string("plans/includes/plan_sections.html", context)

    html = _cached(f"plans:document:v{RENDER_VERSION}:{templates_digest()}:{digest}", render)
    return mark_safe(html)  # noqa: S308 - the partials escape; Markdown went through nh3


#: A step's columns, as the plan page's cached entry keeps them (in the model's field order).
_STEP_FIELDS = tuple(f.attname for f in PlanStep._meta.concrete_fields)
#: The current revision's columns the entry keeps: all but its text.
_REVISION_FIELDS = tuple(f.attname for f in PlanRevision._meta.concrete_fields
                         if f.name != "content")


def page_entry_key(plan) -> str:
    """The cache key of plan_page_document's entry (the plan page reads it ahead)."""
    own = {"sections": plan.sections, "review_checklist": plan.review_checklist,
           "extras": plan.extra_sections or [], "steps": _STEP_FIELDS,
           "revision": _REVISION_FIELDS, "transitions": selectors.TRANSITION_FIELDS}
    digest = hashlib.sha256(json.dumps(own, sort_keys=True).encode()).hexdigest()
    return (f"plans:page:v{RENDER_VERSION}:{templates_digest()}:{plan.pk}:"
            f"{plan.updated_at.isoformat()}:{digest}")


def plan_page_document(plan) -> str:
    """The plan page's document (plan_document_html), and set on ``plan`` as if loaded: its
    steps (as if prefetched: its totals and panels read them), its current revision, the ids
    of its editors and its transitions (plans/selectors.py current_revision, editor_ids,
    transitions), from one cache entry kept under the plan's ``updated_at``. Every write of a
    plan's content (steps, actions, files, criteria) or of who edited it saves the plan in its
    transaction (plans/services.py plan_create, plan_update, apply_document), and so does every
    new revision (plan_submit, implementation's amendment_submit: revisions are immutable) and
    every transition (with the audit entry that records it; audit entries never change); the
    plan's own texts are in the key too. A hit reads nothing but the plan row already loaded;
    a miss reads the plan with everything (nine queries) and lays it out by its content hash
    (so a transition, which shows nothing new in the document, lays out nothing again)."""

    def load() -> dict:
        full = Plan.objects.prefetch_related(
            Prefetch("steps", queryset=PlanStep.objects.prefetch_related("actions", "files")),
            "success_criteria",
        ).get(pk=plan.pk)
        revision = (PlanRevision.objects.filter(plan=plan).order_by("-number")
                    .values_list(*_REVISION_FIELDS).first())
        return {"html": str(plan_document_html(full)),
                "steps": [[getattr(step, name) for name in _STEP_FIELDS]
                          for step in full.steps.all()],
                "revision": None if revision is None else list(revision),
                "editors": sorted(PlanEditor.objects.filter(plan=plan)
                                  .values_list("user_id", flat=True)),
                "transitions": selectors.load_transitions(plan)}

    entry = _cached(page_entry_key(plan), load)
    steps = [PlanStep.from_db(plan._state.db, _STEP_FIELDS, values) for values in entry["steps"]]
    for step in steps:
        step.plan = plan
    prefetched = plan.steps.all()  # what prefetch_related("steps") leaves on a plan
    prefetched._result_cache, prefetched._prefetch_done = steps, True
    plan._prefetched_objects_cache = {**getattr(plan, "_prefetched_objects_cache", {}),
                                      "steps": prefetched}
    revision = entry["revision"]
    if revision is not None:
        revision = PlanRevision.from_db(plan._state.db, _REVISION_FIELDS, revision)
        revision.plan = plan
    plan._current_revision, plan.has_revisions = revision, revision is not None
    plan._editor_ids = set(entry["editors"])
    # Kept with the names as they were: named as today when shown (a rename saves no plan).
    plan._transitions = selectors.with_display_names(entry["transitions"], plan)
    return mark_safe(entry["html"])  # noqa: S308 - as plan_document_html


def _cached(key: str, render):
    """``render()``, cached under ``key`` (core.cache: without the cache, rendered afresh)."""
    return shared_cache.cached(key, render, CACHE_SECONDS)


def revision_diff_html(old, new) -> dict:
    """The diff page's sections (plans/includes/revision_diff_sections.html) from revision
    ``old`` to ``new`` and how many changed: {"html", "changed"}. Cached under both content
    hashes and numbers (a revision is frozen), so the texts are read and diffed only on a miss
    (the revisions may come without their content)."""

    def render() -> dict:
        texts = dict(PlanRevision.objects.filter(pk__in=[old.pk, new.pk])
                     .values_list("pk", "content"))
        sections = section_diff(texts[old.pk], texts[new.pk])
        html = render_to_string("plans/includes/revision_diff_sections.html",
                                {"sections": sections, "old": old, "new": new})
        return {"html": str(html), "changed": sum(1 for s in sections if s.changed)}

    key = (f"plans:revision-diff:v{RENDER_VERSION}:{templates_digest()}:{old.content_hash}:"
           f"{old.number}:{new.content_hash}:{new.number}")
    diff = _cached(key, render)
    return {"html": mark_safe(diff["html"]),  # noqa: S308 - the partial escapes; nh3 sanitised
            "changed": diff["changed"]}


# --- a revision's text, laid out as the plan page lays out a plan -------------------------------
@dataclass(frozen=True)
class _Check:
    """A checklist item as the plan page's partials read it (``done``, like the models')."""

    done: bool


@dataclass(frozen=True)
class _StepFacts:
    """The parts of a step the step partial reads from the model, taken from a document."""

    title: str
    estimate: str
    estimated_hours: Decimal | None
    risk: str  # "low", "medium", "high" (read leniently: "Low-Medium" is "medium"), or ""
    risk_as_written: str  # what the step says, shown as it is ("Low-Medium", "TBD")


def _step_facts(step) -> _StepFacts:
    return _StepFacts(step.title, step.estimate, estimate_hours(step.estimate),
                      risk_level(step.risk), step.risk.strip())


def document_context(doc) -> dict:
    """A ``PlanDocument`` rendered to safe HTML, in the context the plan page's partials take
    (plans/templates/plans/includes/plan_sections.html): a revision's text reads like the plan."""
    steps = [
        {
            "step": _step_facts(step),
            "html": {"objective": render_markdown(step.objective),
                     "dependencies": render_markdown(step.dependencies),
                     "notes": render_markdown(step.notes)},
            "actions": [(_Check(a.checked), render_inline(a.text)) for a in step.actions],
            "files": [(f, render_inline(f.description)) for f in step.files],
        }
        for step in doc.steps
    ]
    return {
        "title": doc.title,
        "created": doc.created,
        "html": {**{key: render_markdown(doc.sections.get(key, "")) for key in _text_keys()},
                 "review_checklist": render_markdown(doc.review_checklist)},
        "steps": steps,
        "criteria": [(_Check(c.checked), render_inline(c.text)) for c in doc.success_criteria],
        "extras": [{"heading": e.heading, "after": e.after, "html": render_markdown(e.body)}
                   for e in doc.extra_sections],
        "total_hours": sum((s["step"].estimated_hours or Decimal(0) for s in steps), Decimal(0)),
        "highest_risk": highest_risk([s["step"].risk for s in steps]),
    }


def _revision_document(text: str) -> str:
    try:
        doc = parse_plan(text)
    except MarkdownImportError:  # text the importer cannot read at all: show it as it is
        return render_markdown(text)
    return render_to_string("plans/includes/revision_document.html", document_context(doc))


def revision_html(revision) -> str:
    """A frozen revision's Markdown as safe HTML, laid out like the plan page (steps with their
    objective, actions as a task list, files, dependencies, estimate and risk); the whole text
    rendered as Markdown when it cannot be read as a plan. Cached by its content hash."""
    return _cached(
        f"plans:revision-html:v{RENDER_VERSION}:{templates_digest()}:{revision.content_hash}",
        lambda: _revision_document(revision.content),
    )

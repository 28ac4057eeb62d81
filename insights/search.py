"""Search across plans, their steps, comments and concerns.

Each plan has one SearchDocument (insights/models.py): its title (weight A), its prose and steps
(B) and its discussion (C): comments, concerns and reviewers' decision comments. On PostgreSQL
the document carries a weighted tsvector (GIN-indexed) searched with websearch syntax, ranked
by ts_rank and highlighted by ts_headline; on SQLite (the development default) a case-insensitive
contains-search over the same three texts ranks a title match before a content match before a
discussion match, and highlights in Python.

The document is refreshed once per plan after the transaction that changed what it indexes
commits, by a task (insights/indexing.py, insights/tasks.py), and rewritten only when its text
changed; `manage.py search_reindex` rebuilds every plan's (after bulk loads, which send no
signals).
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from core.cache import SharedValue
from plans.models import Plan, PlanStep
from reviews.models import Comment, Concern, Review

from .models import SearchDocument

CONFIG = "english"  # stemming: "deploys" finds "deploy"
# ts_headline marks matches with these private-use characters; the text is escaped first and
# only then are they turned into <mark>, so a plan's own text never becomes markup.
START, STOP = "\ue000", "\ue001"
HEADLINE_OPTIONS = {"start_sel": START, "stop_sel": STOP, "max_words": 30, "min_words": 12,
                    "max_fragments": 2, "fragment_delimiter": " … "}
EXCERPT = 90  # characters either side of a match in the SQLite fallback


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


#: A new value after every committed write of a document (core.cache.SharedValue). Documents are
#: rewritten by a task after the change's own commit, so audit's data_version alone would let a
#: cached result page outlive the documents it was ranked on.
_DOCUMENTS = SharedValue("search-documents", lambda: uuid.uuid4().hex)


def documents_version() -> str:
    return _DOCUMENTS.get()


# --- building documents ------------------------------------------------------------------------
def _lines(*parts) -> str:
    return "\n".join(p.strip() for p in parts if p and p.strip())


def _texts(plan: Plan, steps, comments, concerns, decisions) -> dict[str, str]:
    prose = [str(v) for v in (plan.sections or {}).values()]
    prose += [_lines(e.get("heading", ""), e.get("body", "")) for e in plan.extra_sections or []]
    step_text = [
        _lines(s.title, s.objective, s.dependencies, s.notes, *(a.text for a in s.actions.all()))
        for s in steps
    ]
    return {
        "title": plan.title,
        "content": _lines(*prose, *step_text),
        "discussion": _lines(*comments, *(_lines(t, b) for t, b in concerns), *decisions),
    }


def documents(plan_ids) -> dict[int, dict[str, str]]:
    """The three weighted texts of each plan, in six queries for any number of plans: plans,
    steps, their actions, comments, concerns, reviewers' decision comments."""
    plans = Plan.objects.filter(pk__in=plan_ids).only("title", "sections", "extra_sections")
    steps, comments, concerns, decisions = (defaultdict(list) for _ in range(4))
    for step in PlanStep.objects.filter(plan_id__in=plan_ids).prefetch_related("actions"):
        steps[step.plan_id].append(step)
    for plan_id, body in Comment.objects.filter(plan_id__in=plan_ids).values_list(
            "plan_id", "body").order_by("created_at", "id"):
        comments[plan_id].append(body)
    for plan_id, title, body in Concern.objects.filter(plan_id__in=plan_ids).values_list(
            "plan_id", "title", "body").order_by("created_at", "id"):
        concerns[plan_id].append((title, body))
    for plan_id, comment in Review.objects.filter(plan_id__in=plan_ids).exclude(
            comment="").values_list("plan_id", "comment").order_by("created_at", "id"):
        decisions[plan_id].append(comment)
    return {plan.pk: _texts(plan, steps[plan.pk], comments[plan.pk], concerns[plan.pk],
                            decisions[plan.pk]) for plan in plans}


def weighted_vector():
    return (SearchVector("title", weight="A", config=CONFIG)
            + SearchVector("content", weight="B", config=CONFIG)
            + SearchVector("discussion", weight="C", config=CONFIG))


BATCH = 500


def rebuild_many(plan_ids) -> int:
    """Rebuild these plans' documents (deleting those of plans that are gone), BATCH plans at a
    time: a fixed number of queries per batch."""
    plan_ids = list(plan_ids)
    return sum(_rebuild_batch(plan_ids[i:i + BATCH]) for i in range(0, len(plan_ids), BATCH))


@transaction.atomic
def _rebuild_batch(plan_ids: list[int]) -> int:
    texts = documents(plan_ids)
    if SearchDocument.objects.filter(plan_id__in=set(plan_ids) - set(texts)).delete()[0]:
        _DOCUMENTS.changed()
    _write(texts)
    return len(texts)


def _write(texts: dict[int, dict[str, str]]) -> None:
    _DOCUMENTS.changed()
    # An upsert: two commits rebuilding the same plan at once both succeed.
    SearchDocument.objects.bulk_create(
        [SearchDocument(plan_id=plan_id, **values) for plan_id, values in texts.items()],
        update_conflicts=True, unique_fields=["plan"],
        update_fields=["title", "content", "discussion", "updated_at"])
    if is_postgres():
        SearchDocument.objects.filter(plan_id__in=list(texts)).update(vector=weighted_vector())


def rebuild(plan_id: int) -> None:
    """Rebuild one plan's document (delete it if the plan is gone)."""
    rebuild_many([plan_id])


#: pg_advisory_xact_lock(key, plan id): refreshes of one plan run one after the other.
REFRESH_LOCK_KEY = 0x73726368  # "srch"; the two-key form never meets the audit's one-key lock


@transaction.atomic
def refresh(plan_id: int) -> bool:
    """Bring one plan's document up to date after a change (insights/tasks.py): rewritten only
    when its text differs from the stored one, deleted if the plan is gone. True if it wrote.

    The texts are read under a per-plan lock, so of two refreshes racing after two commits the
    later one reads both commits: a document never ends older than the data."""
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)",
                           [REFRESH_LOCK_KEY, plan_id % 2**31])
    texts = documents([plan_id])
    if plan_id not in texts:
        if not SearchDocument.objects.filter(plan_id=plan_id).delete()[0]:
            return False
        _DOCUMENTS.changed()
        return True
    stored = SearchDocument.objects.filter(plan_id=plan_id).values(
        "title", "content", "discussion",
        no_vector=ExpressionWrapper(Q(vector__isnull=True), output_field=BooleanField()),
    ).first()
    if stored is not None:
        unparsed = stored.pop("no_vector") and is_postgres()
        if stored == texts[plan_id] and not unparsed:
            return False  # e.g. a step saved as it was
    _write(texts)
    return True


def reindex() -> int:
    """Rebuild every plan's document; the number rebuilt."""
    if SearchDocument.objects.exclude(plan_id__in=Plan.objects.values("pk")).delete()[0]:
        _DOCUMENTS.changed()
    return rebuild_many(Plan.objects.order_by("pk").values_list("pk", flat=True))


# --- searching ---------------------------------------------------------------------------------
def search_plans(plans: QuerySet[Plan], text: str) -> QuerySet[Plan]:
    """`plans` narrowed to those matching `text`, annotated with `rank` (higher is better)."""
    text = text.strip()
    if not text:
        return plans.annotate(rank=Value(0.0, output_field=FloatField()))
    if is_postgres():
        query = SearchQuery(text, search_type="websearch", config=CONFIG)
        return plans.filter(search_document__vector=query).annotate(
            rank=SearchRank(F("search_document__vector"), query))
    found = Q()
    ranks = []
    for column, weight in (("title", 1.0), ("content", 0.4), ("discussion", 0.2)):
        lookup = Q(**{f"search_document__{column}__icontains": text})
        found |= lookup
        ranks.append(When(lookup, then=Value(weight)))
    return plans.filter(found).annotate(
        rank=Case(*ranks, default=Value(0.0), output_field=FloatField()))


@dataclass
class Highlight:
    kind: str  # "title", "content" or "discussion"
    html: SafeString


def highlights(plan_ids: list[int], text: str) -> dict[int, list[Highlight]]:
    """Highlighted excerpts of the matches in each plan's content and discussion (one query)."""
    text = text.strip()
    if not text or not plan_ids:
        return {}
    docs = SearchDocument.objects.filter(plan_id__in=plan_ids)
    result: dict[int, list[Highlight]] = {}
    if is_postgres():
        query = SearchQuery(text, search_type="websearch", config=CONFIG)
        rows = docs.annotate(
            h_content=SearchHeadline("content", query, config=CONFIG, **HEADLINE_OPTIONS),
            h_discussion=SearchHeadline("discussion", query, config=CONFIG, **HEADLINE_OPTIONS),
        ).values_list("plan_id", "h_content", "h_discussion")
        for plan_id, *marked in rows:
            result[plan_id] = [Highlight(kind, _marked_html(h))
                               for kind, h in zip(("content", "discussion"), marked, strict=True)
                               if h and START in h]
        return result
    for plan_id, *texts in docs.values_list("plan_id", "content", "discussion"):
        result[plan_id] = [Highlight(kind, excerpt)
                           for kind, t in zip(("content", "discussion"), texts, strict=True)
                           if (excerpt := contains_excerpt(t, text))]
    return result


def _marked_html(marked: str) -> SafeString:
    html = escape(marked).replace(START, "<mark>").replace(STOP, "</mark>")
    return mark_safe(html)  # noqa: S308 - escaped above; only <mark> added


def contains_excerpt(text: str, needle: str) -> SafeString | None:
    """The text around the first case-insensitive occurrence of `needle`, every occurrence
    marked (escaped HTML), or None when it does not occur."""
    pattern = re.compile(re.escape(needle), re.IGNORECASE)
    first = pattern.search(text or "")
    if first is None:
        return None
    start, end = max(first.start() - EXCERPT, 0), min(first.end() + EXCERPT, len(text))
    window = text[start:end]
    marked = pattern.sub(lambda m: START + m.group(0) + STOP, window)
    prefix, suffix = ("… " if start else ""), (" …" if end < len(text) else "")
    return _marked_html(prefix + " ".join(marked.split()) + suffix)


def title_html(title: str, text: str) -> SafeString:
    """The title with the searched words marked (escaped HTML)."""
    words = [w for w in re.findall(r"\w+", text) if len(w) > 1]
    if not words:
        return escape(title)
    pattern = re.compile("|".join(rf"\b{re.escape(w)}\w*" for w in words), re.IGNORECASE)
    return _marked_html(pattern.sub(lambda m: START + m.group(0) + STOP, title))

"""Reads that pages depend on. Each does its own joins so a page's query count stays fixed."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.display import display_name
from audit.selectors import data_version_of, plan_timeline, with_data_version
from core import cache as shared_cache
from core.cache import SharedValue
from core.compiled import CompiledQuery

from .models import RISK_RANK, Plan, PlanEditor, PlanRevision, PlanStep

RANK_RISK = {rank: risk for risk, rank in RISK_RANK.items()}


def _risk_rank():
    return Case(
        *(When(risk=risk, then=Value(rank)) for risk, rank in RISK_RANK.items() if rank),
        default=Value(0),
        output_field=IntegerField(),
    )


def _per_plan(aggregate, output_field, default=None):
    """An aggregate over the plan's steps as a correlated subquery: computed for the rows a
    query returns (a page of 25), where a join of every step with every plan grouped by plan
    was computed for all of them before the page was cut, and again to count them."""
    steps = (PlanStep.objects.filter(plan=OuterRef("pk")).order_by().values("plan")
             .annotate(value=aggregate).values("value"))
    value = Subquery(steps, output_field=output_field)
    return value if default is None else Coalesce(value, Value(default), output_field=output_field)


def plan_list(*, user, mine: bool = False, status: str = "", author: str = "", risk: str = "",
              q: str = "", archived: bool = False, figures: bool = True) -> QuerySet[Plan]:
    """Plans for the list pages, each annotated with steps_count, total_hours and risk_rank
    (0 none, 1 low, 2 medium, 3 high). One query however many plans; filters are optional.
    Archived plans are left out, or are all that is listed with ``archived``.

    The step figures are subqueries, so a page costs its 25 rows (ordered by the
    (updated_at, id) index) and a count is a plain count of the filtered plans. Without
    ``figures`` the plans come without them (step_figures gives a page its own)."""
    plans = (
        Plan.objects.select_related("author")
        .defer(*(f.name for f in Plan._meta.concrete_fields if f.get_internal_type() == "TextField"
                 or f.name in ("sections", "extra_sections")))
        .order_by("-updated_at", "-id")
    )
    if figures:
        plans = plans.annotate(
            steps_count=_per_plan(Count("pk"), IntegerField(), default=0),
            total_hours=_per_plan(Sum("estimated_hours"),
                                  DecimalField(max_digits=12, decimal_places=2)),
            risk_rank=_per_plan(Max(_risk_rank()), IntegerField(), default=0),
        )
    elif RISK_RANK.get(risk):
        plans = plans.alias(risk_rank=_per_plan(Max(_risk_rank()), IntegerField(), default=0))
    plans = plans.filter(archived_at__isnull=not archived)
    if mine:
        plans = plans.filter(author=user)
    if status:
        plans = plans.filter(status=status)
    if author:
        plans = plans.filter(author__username=author)
    if RISK_RANK.get(risk):
        plans = plans.filter(risk_rank=RISK_RANK[risk])
    text = q.strip()
    if text:
        plans = plans.filter(Q(title__icontains=text)
                             | Q(sections__problem_statement__icontains=text))
    return plans


def page_with_count(plans: QuerySet, offset: int, limit: int,
                    count_key: str) -> tuple[list[dict], int]:
    """The rows of ``plans`` (a ``values()`` queryset) from ``offset`` (at most ``limit``) and
    how many there are in all, read by one query (the count a subquery of it), or ``([], 0)``
    when there are none from there.

    The count is kept under ``count_key`` (what names the filters) with the data version it
    was read at (audit.selectors.with_data_version, read by the same query); the query counts
    again only when the version it reads is another (the CASE runs the count's subquery only
    then): a page between two writes reads its rows, not every plan to count them."""
    counting = plans.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    plans = with_data_version(plans)
    kept = shared_cache.get(count_key)  # (audit_head, admin_head, count) or None
    count_sql, count_params = counting.query.sql_with_params()
    if kept:
        # The CASE as SQL, of the heads' own SQL: built as When(audit_head=..., ...) the ORM
        # resolved a lookup on each annotation, and copied and compiled them again, every view.
        heads, compiler = plans.query.annotations, plans.query.get_compiler(using=plans.db)
        (audit, audit_params), (admin, admin_params) = (
            compiler.compile(heads[name]) for name in ("audit_head", "admin_head"))
        count = RawSQL(  # noqa: S611 - the ORM's own SQL; the kept values are parameters
            f"CASE WHEN {audit} = %s AND {admin} = %s THEN %s ELSE ({count_sql}) END",
            (*audit_params, kept[0], *admin_params, kept[1], kept[2], *count_params),
            output_field=IntegerField())
    else:
        count = RawSQL(f"({count_sql})", count_params, output_field=IntegerField())  # noqa: S611
    rows = list(plans.annotate(total=count)[offset:offset + limit])
    if not rows:
        return rows, 0
    counted = (rows[0]["audit_head"], rows[0]["admin_head"], rows[0]["total"])
    if counted[0] is not None and counted != kept:
        shared_cache.set(count_key, counted, COUNT_SECONDS)
    return rows, rows[0]["total"]


#: How long a list's count is kept unread (a write makes it count again anyway).
COUNT_SECONDS = 60 * 60


def _step_figures_key(plan: Plan) -> str:
    return f"plans:step-figures:{plan.pk}:{plan.updated_at.isoformat()}"


def step_figures(plans: list[Plan]) -> None:
    """Give each plan the figures plan_list annotates: steps_count, total_hours, risk_rank.
    Kept under the plan's ``updated_at``: every write of its steps saves the plan in the same
    transaction (plans/services.py, as for its page entry, rendering.plan_page_document); the
    plans not kept are read by one query."""
    found = shared_cache.get_many([_step_figures_key(plan) for plan in plans])
    missing = [plan for plan in plans if _step_figures_key(plan) not in found]
    if missing:
        read = {row["plan_id"]: (row["steps_count"], row["total_hours"], row["risk_rank"])
                for row in PlanStep.objects.filter(plan__in=missing).order_by().values("plan_id")
                .annotate(steps_count=Count("pk"), total_hours=Sum("estimated_hours"),
                          risk_rank=Max(_risk_rank()))}
        new = {_step_figures_key(plan): read.get(plan.pk, (0, None, 0)) for plan in missing}
        shared_cache.set_many(new, FIGURES_SECONDS)
        found.update(new)
    for plan in plans:
        plan.steps_count, plan.total_hours, plan.risk_rank = found[_step_figures_key(plan)]


#: How long a plan's step figures are kept unread (any change of its steps makes a new key).
FIGURES_SECONDS = 60 * 60 * 24


def _load_plan_authors() -> list:
    return list(
        get_user_model().objects.filter(Exists(Plan.objects.filter(author=OuterRef("pk"))))
        .order_by("username").only("username", "first_name", "last_name")
    )


#: The plan list's author filter, shared (core.cache.SharedValue): read afresh after any
#: committed change of who wrote a plan or of a user (signals connected in PlansConfig.ready
#: call ``plan_authors_changed``).
_AUTHORS = SharedValue("plan-authors", _load_plan_authors)


def plan_authors() -> list:
    """Users who wrote at least one plan, for the author filter (username and names only)."""
    return _AUTHORS.get()


def plan_authors_keys() -> list[str]:
    """What plan_authors reads from the cache (the list page reads them ahead)."""
    return _AUTHORS.cache_keys()


def plan_authors_changed(sender=None, update_fields=None, **kwargs) -> None:
    """A receiver of Plan and User saves and deletes. A save that names its fields and none
    of these (a transition, a login) changes no author or name: no new token for each one."""
    if update_fields is not None and not set(update_fields) & {
            "author", "author_id", "username", "first_name", "last_name"}:
        return
    _AUTHORS.changed()


def plan_with_content(pk: int) -> Plan:
    """A plan with everything its document shows: author, steps with actions and files, criteria.

    Five queries whatever the number of steps (plan, steps, actions, files, criteria)."""
    return get_object_or_404(
        Plan.objects.select_related("author").prefetch_related(
            Prefetch("steps", queryset=PlanStep.objects.prefetch_related("actions", "files")),
            "success_criteria",
        ),
        pk=pk,
    )


def _plan_for_page_query(pk: int) -> QuerySet[Plan]:
    # Not its source (an imported plan's whole Markdown, for the export): only whether there
    # is one (the page shows the import report then).
    return with_data_version(Plan.objects.select_related("author").defer("source").annotate(
        imported=ExpressionWrapper(Q(source__isnull=False), output_field=BooleanField()),
    )).filter(pk=pk).order_by()[:2]  # as get() reads it: unordered, and enough to tell


#: Compiled once (core.compiled): building and compiling this query (the join, the deferral,
#: the annotations) was most of what reading the plan row cost the page.
_PLAN_FOR_PAGE = CompiledQuery(_plan_for_page_query)


def plan_for_page(pk: int) -> Plan:
    """A plan and its author for its page: one query. Its steps, document, actions, files and
    criteria come from the cache entry of its content (plans/rendering.py plan_page_document),
    read from the database only when that misses.

    The same query reads ``plan.data_version`` (audit.selectors.data_version): the panels cache
    what they read beyond the plan row (its reviews, concerns, requests) under it."""
    try:
        plan = _PLAN_FOR_PAGE.get(pk=pk)
    except Plan.DoesNotExist:
        raise Http404("No Plan matches the given query.") from None
    plan.data_version = data_version_of(plan)
    return plan


def current_revision(plan: Plan) -> PlanRevision | None:
    """The plan's newest revision without its text, read once per plan object: the plan page's
    review panel shows it and its draft controls ask whether there is one (``has_revisions``,
    which permissions.can_delete reads)."""
    if not hasattr(plan, "_current_revision"):
        plan._current_revision = (PlanRevision.objects.filter(plan=plan).defer("content")
                                  .order_by("-number").first())
        plan.has_revisions = plan._current_revision is not None
    return plan._current_revision


def editor_ids(plan: Plan) -> set[int]:
    """Who changed the plan's content (they may not review it): the plan page has them from
    its cache entry (plans/rendering.py plan_page_document), anyone else asks (one query)."""
    if not hasattr(plan, "_editor_ids"):
        plan._editor_ids = set(PlanEditor.objects.filter(plan=plan)
                               .values_list("user_id", flat=True))
    return plan._editor_ids


#: How many of a plan's latest transitions its page shows (the workflow's timeline).
TRANSITIONS_LIMIT = 50
#: The audit entry's columns load_transitions reads (in the plan page entry's key: an entry
#: kept in another shape is not read, plans/rendering.py page_entry_key).
TRANSITION_FIELDS = ("created_at", "actor_id", "actor_repr", "action", "payload",
                     "revision_hash")


def load_transitions(plan: Plan) -> dict:
    """The plan's latest state changes, oldest first, as the audit trail has them (every
    service that moves a plan audits "from" and "to"): ``{"moves": [(at, actor_repr, action,
    source, target, revision number)], "actor_ids": [the actor's id or None, per move],
    "truncated": bool}``, names as they were (with_display_names gives today's). Two queries
    (its audit timeline narrowed to entries that record a state change, and its revision
    numbers)."""
    entries = list(
        plan_timeline(plan.pk).filter(payload__has_key="to").order_by("-id")
        .values(*TRANSITION_FIELDS)[:TRANSITIONS_LIMIT + 1]
    )
    truncated = len(entries) > TRANSITIONS_LIMIT
    entries = list(reversed(entries[:TRANSITIONS_LIMIT]))
    numbers = dict(PlanRevision.objects.filter(plan=plan).values_list("content_hash", "number")
                   .order_by("number"))
    moves = []
    for entry in entries:
        payload = entry["payload"] or {}
        revision = payload.get("revision")
        if not isinstance(revision, int):
            revision = numbers.get(entry["revision_hash"])
        moves.append((entry["created_at"], entry["actor_repr"], entry["action"],
                      payload.get("from"), payload.get("to"), revision))
    return {"moves": moves, "actor_ids": [entry["actor_id"] for entry in entries],
            "truncated": truncated}


#: Only to free old versions' entries: a committed write anywhere is a new version.
TIMELINE_NAMES_SECONDS = 10 * 60


def timeline_names_key(plan: Plan) -> str | None:
    """Where the display names of the plan's timeline are kept: under the data version read with
    the plan (plan_for_page; any audited write, a profile's or an admin's edit of a user
    included, is a new one), so a rename shows on the next view; None without one. Known before
    the page's entry is read: the page reads it ahead with it."""
    version = getattr(plan, "data_version", None)
    return None if version is None else f"plans:timeline-names:v1:{plan.pk}:{version}"


def timeline_names_cache_keys(plan: Plan) -> list[str]:
    """What with_display_names reads of the shared cache (a panel's ``cache_keys``)."""
    key = timeline_names_key(plan)
    return [key] if key else []


def _load_names(ids: list[int]) -> dict[int, str | None]:
    """{id: display name} of these users, None for one who no longer exists: one query."""
    found = {user.pk: display_name(user) for user in get_user_model().objects.filter(
        pk__in=ids).only("username", "first_name", "last_name")}
    return {pk: found.get(pk) for pk in ids}


def with_display_names(loaded: dict, plan: Plan) -> dict:
    """load_transitions' moves with each actor's display name today, as every page names
    people: kept transitions (the plan page's entry) show a rename at once. The audit entry's
    own ``actor_repr`` (the username then) for a user who no longer exists; "" (system) for
    none. Only the moves' actors are read: one query, none while they are kept."""
    ids = sorted({pk for pk in loaded["actor_ids"] if pk is not None})
    key = timeline_names_key(plan)
    if not ids:
        names = {}
    elif key is None:
        names = _load_names(ids)
    else:
        names = shared_cache.cached(key, lambda: _load_names(ids), TIMELINE_NAMES_SECONDS,
                                    fresh=lambda kept: kept.keys() >= set(ids))
    moves = [(at, names.get(user_id) or actor_repr, *rest)
             for (at, actor_repr, *rest), user_id in zip(loaded["moves"], loaded["actor_ids"],
                                                         strict=True)]
    return {"moves": moves, "truncated": loaded["truncated"]}


def transitions(plan: Plan) -> dict:
    """load_transitions, with today's display names (with_display_names): the plan page has
    them from its cache entry (plans/rendering.py plan_page_document), anyone else reads them."""
    if not hasattr(plan, "_transitions"):
        plan._transitions = with_display_names(load_transitions(plan), plan)
    return plan._transitions


def plan_revisions(plan: Plan) -> QuerySet[PlanRevision]:
    return plan.revisions.select_related("created_by").order_by("-number")


def plan_revision(plan: Plan, number: int) -> PlanRevision:
    return get_object_or_404(
        PlanRevision.objects.select_related("created_by"), plan=plan, number=number
    )


def same_text_as_previous(revision: PlanRevision) -> bool:
    """Whether ``revision`` froze exactly the text of the revision before it: the author
    resubmitted as is (allowed; reviewers read nothing new, so the author should say why)."""
    return PlanRevision.objects.filter(plan_id=revision.plan_id, number=revision.number - 1,
                                       content_hash=revision.content_hash).exists()


def plans_with_text(*, user, text_hash: str) -> list[Plan]:
    """The user's plans holding this Markdown (``text_hash`` is plans.services.
    text_revision_hash(text): line endings and a BOM aside): imported from it, or with a
    revision of it."""
    return list(
        Plan.objects.filter(author=user)
        .filter(Q(source_sha256=text_hash) | Q(revisions__content_hash=text_hash))
        .distinct().order_by("-updated_at", "-id")
    )

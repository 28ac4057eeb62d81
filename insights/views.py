"""The dashboard (home), search and insights pages. Each does a fixed number of queries."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, Window
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import capfirst, floatformat
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import conditional_escape as esc
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from accounts.display import display_name
from accounts.roles import REVIEWERS, is_admin, is_reviewer
from audit.selectors import data_version
from core.pagination import page_asked
from core.urls import pk_url
from notifications.context_processors import layout_cache_keys
from plans import permissions as plan_permissions
from plans.selectors import RANK_RISK, plan_authors, plan_list
from reviews.models import Review

from . import caching, charts, insights, search
from .dashboard import dashboard as load_dashboard
from .forms import SORTS, InsightsForm, SearchForm

PAGE_SIZE = 25


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    version = data_version()
    chart_key = caching.key("state-chart", version, get_language())
    # One cache round trip for the page: the board, the layout's roles and unread badge, and
    # the admins' chart (for others a key never read: nothing fetched but its bytes).
    board = load_dashboard(request.user, version=version, read_with=[
        *layout_cache_keys(request.user),
        *([chart_key] if chart_key else [])])
    _write_out(board)
    chart_html = ""
    if board.admin:  # the same for every admin: drawn once per data version
        chart_html = caching.get_or_compute(
            chart_key,
            lambda: render_to_string("insights/includes/chart.html",
                                     {"chart": _state_chart(board.admin)}))
    return render(request, "insights/dashboard.html", {"board": board, "chart_html": chart_html})


def _dates(value) -> tuple[str, str]:
    """What |date:"c" and |date:"Y-m-d H:i" give."""
    if value is None:
        return "", ""
    local = template_localtime(value)
    return local.isoformat(), local.strftime("%Y-%m-%d %H:%M")


def _write_out(board) -> None:
    """The board's links and dates, written out per request as the template's url, date and
    get_absolute_url gave them: tens of reverse() and filters a page added up."""
    plan_url, diff_url = pk_url("plans:detail"), pk_url("plans:diff")
    parts = [part for part in (board.author, board.reviewer) if part]
    for review in (r for part in parts for r in part.decisions):
        review.plan.url = plan_url(review.plan_id)
        review.decided_iso = _dates(review.decided_at)[0]
    if board.reviewer:
        for item in board.reviewer.awaiting:
            item.plan.url = plan_url(item.plan.pk)
            item.since_iso = _dates(item.waiting.since)[0]
            item.due_iso, item.due_text = _dates(item.waiting.due())
        for item in board.reviewer.resubmitted:
            item.plan.url, item.diff_url = plan_url(item.plan.pk), diff_url(item.plan.pk)
    for item in board.admin.overdue if board.admin else ():
        item.due_iso, item.due_text = _dates(item.waiting.due())


def _state_chart(admin):
    return charts.bar_chart(
        slug="plans-by-state", title="Plans by state",
        description="How many plans are in each state of the workflow now.", unit="",
        categories=[label for _, label, _ in admin.by_state],
        series=[("plans", [float(n) for _, _, n in admin.by_state])], counts=True,
    )


# --- search ---------------------------------------------------------------------------------------
def _start(day):
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


@dataclass
class _Results:
    """A result page: its number, the number of matches, its plans (ranked, highlighted),
    their rows' HTML and the filters form's (kept with them: one cache read, not two)."""

    number: int
    count: int
    rows: list
    rows_html: SafeString
    form_html: str


#: What the rows show of a plan and its author (no password hash kept in the cache).
_ROW_FIELDS = ("title", "status", "updated_at", "author__username", "author__first_name",
               "author__last_name")


def _results(user, values: dict, text: str, sort: str, number, form_html) -> _Results:
    """Ranking, counting and highlighting, the page's work. The matches are ranked and counted
    with the plan list's filters but only ids and ranks read (its per-plan figures, for every
    match, were most of the time); then the page's 25 rows are read by primary key."""
    plans = plan_list(user=user, status=values.get("state", ""),
                      author=values.get("author", ""), risk=values.get("risk", ""))
    if values.get("reviewer"):
        plans = plans.filter(pk__in=Review.objects.filter(
            reviewer__username=values["reviewer"]).values("plan_id"))
    if values.get("date_from"):
        plans = plans.filter(updated_at__gte=_start(values["date_from"]))
    if values.get("date_to"):
        plans = plans.filter(updated_at__lt=_start(values["date_to"] + timedelta(days=1)))
    plans = search.search_plans(plans, text).order_by(*SORTS[sort]).values_list("pk", "rank")
    paginator = Paginator(plans, PAGE_SIZE)
    page = _counted_page(paginator, number) if text else paginator.get_page(number)
    ranks = dict(page.object_list)
    plans = plan_list(user=user).only(*_ROW_FIELDS).in_bulk(list(ranks))
    found = search.highlights(list(plans), text)
    rows = [plans[pk] for pk in ranks if pk in plans]
    for plan in rows:
        plan.rank = ranks[plan.pk]
        plan.highest_risk_value = RANK_RISK.get(plan.risk_rank or 0, "")
        plan.title_html = search.title_html(str(plan), text)
        plan.matches = found.get(plan.pk, [])
    return _Results(page.number, paginator.count, rows, result_rows_html(rows, text),
                    form_html())


@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    valid = form.is_valid()
    values = form.cleaned_data if valid else {}
    text = values.get("q", "")
    sort = values.get("sort") or ("relevance" if text else "-updated")
    if sort == "relevance" and not text:
        sort = "-updated"
    version = data_version()
    query = request.GET.copy()
    query.pop("page", None)
    # The same page for everyone (who may see a row is asked below), kept per query string
    # until a write (data_version) or a rewritten document (documents_version).
    found = caching.get_or_compute(
        caching.key("search", version, search.documents_version(), get_language(),
                    hashlib.sha256(request.GET.urlencode().encode()).hexdigest()[:32]),
        lambda: _results(request.user, values, text, sort, request.GET.get("page"),
                         lambda: _search_form_html(form, query.urlencode(), version)))
    # Every signed-in user may read every plan today; the predicate is asked all the same, so
    # results follow plans.permissions.can_view if it ever narrows.
    rows = [plan for plan in found.rows if plan_permissions.can_view(plan, request.user)]
    paginator = Paginator([], PAGE_SIZE)
    paginator.count = found.count
    page = Page(rows, found.number, paginator)
    unsorted = query.copy()
    unsorted.pop("sort", None)
    return render(request, "insights/search.html", {
        "form": form, "page": page, "rows": rows, "text": text, "sort": sort,
        "rows_html": (found.rows_html if len(rows) == len(found.rows)
                      else result_rows_html(rows, text)),
        "query": query.urlencode(), "unsorted": unsorted.urlencode(),
        "form_html": found.form_html,
        "columns": [("title", "Title"), ("status", "State"), ("author", "Author"),
                    ("risk", "Risk"), ("updated", "Updated")],
    }, status=200 if valid else 400)  # fmt: skip


def result_rows_html(rows, text: str) -> SafeString:
    """The results table's rows. Built here rather than in the template: 25 rows of a dozen
    values each were a quarter of the page. Every value is escaped as autoescape would, each
    shown as its template filter showed it; the markup is that of the former template rows."""
    plan_url = pk_url("plans:detail")
    html = []
    for plan in rows:
        matches = "".join(
            '<div class="search-match"><span class="muted">'
            f'{"In the plan:" if m.kind == "content" else "In the discussion:"}</span> '
            f"{esc(m.html)}</div>" for m in plan.matches)
        risk = plan.highest_risk_value
        risk_html = (f'<span class="risk-{esc(risk)}">{esc(capfirst(risk))}</span>' if risk
                     else '<span class="muted">—</span>')
        updated = template_localtime(plan.updated_at)
        rank = f"\n      <td>{esc(floatformat(plan.rank, 3))}</td>" if text else ""
        html.append(
            f'    <tr data-plan="{esc(plan.pk)}">\n'
            f'      <td><a href="{esc(plan_url(plan.pk))}">{esc(plan.title_html)}</a>\n'
            f"        {matches}\n      </td>\n"
            f'      <td><span class="status status-{esc(plan.status)}">'
            f"{esc(plan.get_status_display())}</span></td>\n"
            f"      <td>{esc(display_name(plan.author))}</td>\n"
            f"      <td>{risk_html}</td>\n"
            f'      <td><time datetime="{esc(date_format(updated, "c"))}">'
            f'{esc(date_format(updated, "Y-m-d H:i"))}</time></td>{rank}\n'
            "    </tr>\n")
    if not html:
        html.append('    <tr><td colspan="6" class="muted">No plans match.</td></tr>\n')
    return mark_safe("".join(html))  # noqa: S308 - every value above is escaped


def _counted_page(paginator: Paginator, number) -> Page:
    """``paginator.get_page(number)`` for a text search, in one query: every match is ranked
    before the page is cut anyway, so the page's rows also bring the number of matches
    (COUNT(*) OVER ()) instead of a count of the same matches first. (Without a text, the page
    is 25 rows read in index order and the window would read every plan: counted apart.)"""
    wanted = page_asked(number)
    if wanted is not None:
        bottom = (wanted - 1) * paginator.per_page
        rows = list(paginator.object_list.annotate(matches=Window(Count("pk")))
                    [bottom:bottom + paginator.per_page])
        if rows:
            paginator.count = rows[0][-1]
            return Page([row[:-1] for row in rows], wanted, paginator)
    return paginator.get_page(number)  # past the end (or below 1): counted, the last page


def _search_form_html(form: SearchForm, query: str, version: str | None) -> str:
    """The filters form, drawn once per data version and query string (its values and errors
    come from the query; its author and reviewer choices from the data: who wrote a plan,
    plans are created and deleted by services; who reviews, group changes are audited)."""

    def draw():
        return render_to_string("insights/includes/search_form.html", {
            "form": form, "authors": list(plan_authors()), "reviewers": _reviewers(version),
            "fulltext": search.is_postgres()})

    return caching.get_or_compute(
        caching.key("search-form", version, get_language(), search.is_postgres(),
                    hashlib.sha256(query.encode()).hexdigest()[:32]), draw)


# --- insights -------------------------------------------------------------------------------------
def _insights_for(request: HttpRequest):
    """Admins see everyone's figures, reviewers their own; anyone else is refused.
    (form, figures: cached with their charts and tables, see _figures)."""
    form = InsightsForm(request.GET)
    if is_admin(request.user):
        name = form.cleaned_data.get("reviewer", "") if form.is_valid() else ""
        reviewer = get_user_model().objects.filter(username=name).first() if name else None
        if name and reviewer is None:
            form.add_error("reviewer", "No such user.")
    elif is_reviewer(request.user):
        reviewer = request.user
    else:
        raise PermissionDenied("Insights are for reviewers (their own figures) and admins.")
    date_from, date_to = form.period()
    request.data_version = data_version()  # read once: _reviewers reuses it
    return form, _figures(date_from, date_to, reviewer, request.data_version)


@dataclass
class _Figures:
    key: str  # the cache key they are stored under
    data: insights.Insights
    charts: list[charts.Chart]
    tables: dict


def _figures(date_from, date_to, reviewer, version: str) -> _Figures:
    """The figures of a period (and reviewer), with their charts and tables, computed once per
    data version (insights/caching.py): the page and its CSV downloads read the same."""
    whose = reviewer.pk if reviewer is not None else ""
    key = caching.key("insights", version, date_from, date_to, whose)

    def compute():
        data = insights.load(date_from=date_from, date_to=date_to, reviewer=reviewer)
        return _Figures(key, data, _charts(data), insights.tables(data))

    return caching.get_or_compute(key, compute)


def _reviewers(version: str):
    """The reviewer filter's choices (group changes are audited, so versioned too)."""
    return caching.get_or_compute(
        caching.key("reviewers", version),
        lambda: list(get_user_model().objects.filter(groups__name=REVIEWERS).distinct()
                     .order_by("username").only("username", "first_name", "last_name")))


def _charts(data: insights.Insights) -> list[charts.Chart]:
    week_labels = [w.strftime("%b %d") for w in data.weeks]
    whose = "your" if data.reviewer else "all"
    return [
        charts.bar_chart(
            slug="time-to-first-review",
            title="Time to first review" if not data.reviewer else "Time to my review",
            description=f"Hours from a submission to {'your' if data.reviewer else 'its first'} "
                        "decision, median and 90th percentile, by week of submission.",
            unit=" h", categories=week_labels,
            series=[("median", [r.median for r in data.first_review]),
                    ("p90", [r.p90 for r in data.first_review])]),
        charts.bar_chart(
            slug="time-to-decision", title="Time to decision",
            description="Hours from a submission to the plan's outcome (approved, sent back "
                        "or rejected), median and 90th percentile, by week of submission.",
            unit=" h", categories=week_labels,
            series=[("median", [r.median for r in data.decision]),
                    ("p90", [r.p90 for r in data.decision])]),
        charts.bar_chart(
            slug="decisions", title="Decisions per week",
            description=f"Outcomes of {whose} decisions by week.", unit="",
            categories=week_labels,
            series=[(insights.DECISION_LABELS[d], [float(c[d]) for _, c in data.outcomes])
                    for d in insights.DECISIONS], counts=True),
        charts.bar_chart(
            slug="revisions", title="Revisions per approved plan",
            description="How many revisions approved plans took (plans approved in the "
                        "period).", unit=" plans",
            categories=[str(n) for n, _ in data.revisions.histogram],
            series=[("approved plans", [float(p) for _, p in data.revisions.histogram])],
            counts=True),
        charts.bar_chart(
            slug="reviewers", title="Load per reviewer",
            description="Decisions in the period and plans waiting now, per reviewer.",
            unit="", categories=[r.reviewer for r in data.reviewers],
            series=[("decisions", [float(r.decided) for r in data.reviewers]),
                    ("waiting now", [float(r.queue) for r in data.reviewers])], counts=True),
    ]


@require_GET
def insights_page(request: HttpRequest) -> HttpResponse:
    form, figures = _insights_for(request)
    query = request.GET.urlencode()
    charts_ = [(chart, figures.tables[chart.slug]) for chart in figures.charts]
    return render(request, "insights/insights.html", {
        "form": form, "data": figures.data,
        "reviewers": _reviewers(request.data_version) if is_admin(request.user) else [],
        "charts": charts_, "query": query,
        # Drawing the SVGs is most of the page's work: their HTML is cached beside the figures
        # (the same version, period and reviewer), per query string (the CSV links carry it).
        "charts_html": caching.get_or_compute(
            caching.key("charts", request.data_version, get_language(),
                        hashlib.sha256(f"{figures.key}?{query}".encode()).hexdigest()[:32]),
            lambda: render_to_string("insights/includes/chart_grid.html",
                                     {"charts": charts_, "query": query})),
    }, status=200 if form.is_valid() else 400)  # fmt: skip


@require_GET
def insights_csv(request: HttpRequest, figure: str) -> HttpResponse:
    if figure not in insights.FIGURES:
        raise Http404("No such figure.")
    _form, figures = _insights_for(request)
    data = figures.data
    header, rows = figures.tables[figure]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{figure}-{data.date_from}-{data.date_to}.csv"')
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return response


def _cell(value):
    """A spreadsheet never runs a reviewer's name as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else value


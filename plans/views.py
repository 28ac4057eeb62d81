"""Plan pages: lists, the editor (create/edit), detail, import/export, revisions and diffs.

Views parse input, ask permissions, call a service and render. The editor's add/remove/reorder
of steps is a round trip of the typed (unsaved) rows: htmx swaps just the steps section, and
without JavaScript the same buttons submit the whole form and the page comes back rearranged.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.html import conditional_escape as esc
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.timezone import get_current_timezone_name, localtime
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from markdownx import views as markdownx_views

from accounts.display import display_name
from accounts.roles import is_admin
from core import cache as shared_cache
from core.errors import ValidationError, message_of
from core.http import DOMAIN_ERRORS, error_response, http_status, user_message
from core.pagination import page_asked
from core.urls import pk_url
from notifications.context_processors import layout_cache_keys

from . import panels, permissions, selectors, services
from .exports import export_disposition
from .forms import (
    STEP_PREFIX,
    ImportForm,
    MarkdownxImageForm,
    PlanFilterForm,
    PlanForm,
    StepFormSet,
    apply_step_op,
    needed_to_submit,
    step_initial,
    steps_from_post,
    steps_needed,
    totals_from_rows,
    unbound_step_formset,
)
from .markdown import (
    TEMPLATE,
    ImportReport,
    MarkdownImportError,
    decode_plan,
    export_plan,
)
from .models import Plan
from .rendering import (
    TOKEN_MARK,
    TOKEN_SLOT,
    page_entry_key,
    plan_page_document,
    revision_diff_html,
    revision_html,
    templates_digest,
)
from .selectors import RANK_RISK
from .templatetags.draft_tags import draft_actions
from .templatetags.plan_tags import hours

PAGE_SIZE = 25




# --- lists -------------------------------------------------------------------------------------


@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    filters = PlanFilterForm(request.GET)
    values = filters.cleaned_data if filters.is_valid() else {}
    plans = selectors.plan_list(
        user=request.user,
        mine=bool(values.get("mine")),
        status=values.get("status", ""),
        author=values.get("author", ""),
        risk=values.get("risk", ""),
        q=values.get("q", ""),
        archived=bool(values.get("archived")),
        figures=False,
    ).values(*_ROW_FIELDS)  # what a row shows, as values: a row kept laid out needs no model
    # What names the filtered plans: the key their count is kept under.
    named = [request.user.pk if values.get("mine") else None, values.get("status", ""),
             values.get("author", ""), values.get("risk", ""), values.get("q", ""),
             bool(values.get("archived"))]
    count_key = f"plans:list-count:{hashlib.sha256(json.dumps(named).encode()).hexdigest()}"
    page = _plan_page(plans, request.GET.get("page"), count_key)
    authors = _row_authors(page.object_list, plans.db)
    row_keys = [_row_key(row, authors[row["author_id"]]) for row in page.object_list]
    shared_cache.read_ahead([*row_keys, *selectors.plan_authors_keys(),
                             *layout_cache_keys(request.user)])
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "plans/plan_list.html", {
        "page": page,
        "rows": _rows_html(page.object_list, authors, row_keys, plans.db),
        "filters": filters,
        "mine": bool(values.get("mine")),
        "archived": bool(values.get("archived")),
        "authors": selectors.plan_authors(),
        "query": query.urlencode(),
    })  # fmt: skip


def _in_field_order(model, names: set[str]) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in names)


#: The columns a list row shows (and is kept under), read as values: loading 25 plans and
#: their authors as models was a tenth of the page, and a row kept laid out needs no plan.
#: (In the models' field order, as Model.from_db takes them.)
_PLAN_COLUMNS = _in_field_order(Plan, {"id", "title", "status", "updated_at", "author_id"})
_AUTHOR_COLUMNS = _in_field_order(get_user_model(), {"id", "username", "first_name", "last_name"})
_ROW_FIELDS = (*_PLAN_COLUMNS, *(f"author__{name}" for name in _AUTHOR_COLUMNS if name != "id"))


def _row_authors(rows: list[dict], db: str) -> dict:
    """{author id: the author (these columns only), as the ORM loads it}, one per author."""
    authors = {}
    for row in rows:
        if row["author_id"] not in authors:
            values = [row["author_id" if name == "id" else f"author__{name}"]
                      for name in _AUTHOR_COLUMNS]
            authors[row["author_id"]] = get_user_model().from_db(db, _AUTHOR_COLUMNS, values)
    return authors


def _row_key(row: dict, author) -> str:
    """What a list row shows: the plan's version (every write of it or of its steps saves it,
    as step_figures relies on), its author's name, and the language, time zone and script
    prefix it is shown in."""
    shown = "\n".join((display_name(author), get_language(), get_current_timezone_name(),
                       get_script_prefix()))
    return (f"plans:list-row:{row['id']}:{row['updated_at'].isoformat()}:"
            f"{hashlib.sha256(shown.encode()).hexdigest()}")


def _rows_html(rows: list[dict], authors: dict, keys: list[str], db: str) -> SafeString:
    """The list's rows (``keys``: their _row_key), each kept once laid out; the rows not kept
    are made plans (as the ORM loads them), get their step figures (one query for them all)
    and are laid out in Python, not by a template loop: the filters and lookups of 25 rows
    were most of the page's own time."""
    found = shared_cache.get_many(keys)
    missing = [(row, key) for row, key in zip(rows, keys, strict=True) if key not in found]
    if missing:
        plans = []
        for row, key in missing:
            plan = Plan.from_db(db, _PLAN_COLUMNS, [row[name] for name in _PLAN_COLUMNS])
            plan.author = authors[row["author_id"]]
            plans.append((plan, key))
        selectors.step_figures([plan for plan, _ in plans])
        detail_url = pk_url("plans:detail")  # one reverse() for the page, not one per row
        new = {key: _row_html(plan, detail_url(plan.pk)) for plan, key in plans}
        shared_cache.set_many(new, ROW_SECONDS)
        found.update(new)
    return mark_safe("".join(found[key] for key in keys))  # noqa: S308 - escaped by _row_html


#: How long a list row is kept unread (any change of what it shows makes a new key).
ROW_SECONDS = 60 * 60 * 24


def _row_html(plan: Plan, url: str) -> str:
    """A row as the template showed it; every value escaped as autoescape would."""
    risk = RANK_RISK.get(plan.risk_rank or 0, "")
    risk_html = (f'<span class="risk-{esc(risk)}">{esc(capfirst(risk))}</span>' if risk
                 else '<span class="muted">—</span>')
    # What |date:"c" and |date:"Y-m-d H:i" gave.
    updated = localtime(plan.updated_at)
    return (f'<tr>\n      <td><a href="{esc(url)}">{esc(str(plan))}</a></td>\n'
            f'      <td><span class="status status-{esc(plan.status)}">'
            f"{esc(plan.get_status_display())}</span></td>\n"
            f"      <td>{esc(display_name(plan.author))}</td>\n"
            f"      <td>{esc(plan.steps_count)}</td>\n"
            f"      <td>{esc(hours(plan.total_hours))}</td>\n"
            f'      <td>{risk_html}</td>\n      <td><time datetime="{esc(updated.isoformat())}">'
            f'{esc(updated.strftime("%Y-%m-%d %H:%M"))}</time></td>\n'
            "    </tr>\n")


def _plan_page(plans, number, count_key: str) -> Page:
    """Paginator(plans).get_page(number), with the count read by the page's own query; only a
    page past the end (or below 1), which shows the last page, counts first."""
    paginator = Paginator(plans, PAGE_SIZE)
    wanted = page_asked(number)
    if wanted is not None:
        rows, total = selectors.page_with_count(plans, (wanted - 1) * PAGE_SIZE, PAGE_SIZE,
                                                count_key)
        if rows or wanted == 1:
            paginator.count = total  # (a cached_property: what the Paginator would count)
            return Page(rows, wanted, paginator)
    return paginator.get_page(number)


# --- editor ------------------------------------------------------------------------------------


def _editor_context(form, formset, plan: Plan | None, rows: list[dict]) -> dict:
    return {
        "form": form,
        "formset": formset,
        "plan": plan,
        "totals": totals_from_rows(rows),
        "loaded_at": plan.updated_at.isoformat() if plan is not None else "",
        "steps_needed": steps_needed(needed_to_submit()),
    }


def _cannot_edit(request: HttpRequest, plan: Plan, reason: str) -> HttpResponse:
    return render(request, "plans/cannot_edit.html", {"plan": plan, "reason": reason}, status=403)


def _editor(request: HttpRequest, plan: Plan | None) -> HttpResponse:
    template = "plans/plan_form.html"
    if request.method == "GET":
        form = PlanForm(instance=plan)
        rows = step_initial(plan) if plan is not None else [{"risk": ""}]
        formset = unbound_step_formset(rows)
        return render(request, template, _editor_context(form, formset, plan, rows))

    op = request.POST.get("op", "")
    form = PlanForm(request.POST, instance=plan if plan is not None else Plan())
    if op:  # no-JS add/remove/reorder: re-render with the rows rearranged, nothing saved
        rows = apply_step_op(steps_from_post(request.POST), op)
        formset = unbound_step_formset(rows)
        return render(request, template, _editor_context(form, formset, plan, rows))

    formset = StepFormSet(request.POST, prefix=STEP_PREFIX)
    rows = steps_from_post(request.POST)
    if form.is_valid() and formset.is_valid():
        steps = formset.steps()
        criteria = form.cleaned_data["success_criteria"]
        try:
            if plan is None:
                plan = services.plan_create(
                    actor=request.user, steps=steps, success_criteria=criteria,
                    **form.scalar_data(),
                )  # fmt: skip
                messages.success(request, "Plan created.")
            else:
                plan = services.plan_update(
                    actor=request.user, plan=plan, fields=form.scalar_data(), steps=steps,
                    success_criteria=criteria,
                    expected_updated_at=_parse_loaded_at(request.POST.get("loaded_at")),
                )  # fmt: skip
                messages.success(request, "Plan saved.")
        except DOMAIN_ERRORS as exc:
            # The editor shows a refusal on the form it came from, keeping what was typed.
            status = http_status(exc)
            if status == 403:
                return _cannot_edit(request, plan, user_message(exc))
            form.add_error(None, message_of(exc) if status == 409 else exc)
            return render(request, template, _editor_context(form, formset, plan, rows),
                          status=status if status == 409 else 200)
        else:
            return redirect(plan)
    return render(request, template, _editor_context(form, formset, plan, rows))


def _parse_loaded_at(value: str | None):
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_with_content(pk)
    if not permissions.can_edit(plan, request.user):
        return _cannot_edit(request, plan, services.edit_refusal_reason(plan, request.user))
    return _editor(request, plan)


@require_POST
def editor_steps(request: HttpRequest) -> HttpResponse:
    """htmx: the steps section again, with one step added, removed or moved (nothing saved)."""
    rows = apply_step_op(steps_from_post(request.POST), request.POST.get("op", ""))
    return render(request, "plans/includes/editor_steps.html", {
        "formset": unbound_step_formset(rows), "totals": totals_from_rows(rows), "oob": True,
        "steps_needed": steps_needed(needed_to_submit()),
    })  # fmt: skip


@require_POST
def editor_totals(request: HttpRequest) -> HttpResponse:
    """htmx: total hours and highest risk of the steps as currently typed."""
    totals = totals_from_rows(steps_from_post(request.POST))
    return render(request, "plans/includes/editor_totals.html", {"totals": totals})


# --- reading -----------------------------------------------------------------------------------


@require_GET
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_for_page(pk)
    entry_key = page_entry_key(plan)
    column_key = _document_column_key(plan, entry_key)
    shared_cache.read_ahead([entry_key, column_key, *layout_cache_keys(request.user),
                             *panels.cache_keys(plan)])
    # The sections, laid out once per content; it also gives the plan its steps (from the same
    # cache entry): so first.
    document = plan_page_document(plan)
    return render(request, "plans/plan_detail.html", {
        "plan": plan,
        "toolbar": _toolbar(request, plan),
        "document_column": _document_column(plan, document, column_key),
        # What the apps above plans show on the page (plans/panels.py), rendered here.
        "panels": panels.render_panels(request, plan),
    })  # fmt: skip


#: Where the toolbar's forms show the CSRF token (plans.rendering.TOKEN_MARK): a new one is made
#: for every response, so the toolbar is kept laid out without it and the page puts its own
#: between the parts.
TOOLBAR_TEMPLATES = ("plans/includes/plan_toolbar.html", "plans/includes/draft_actions.html")
#: How long a toolbar is kept unread (any change of what it shows makes a new key).
TOOLBAR_SECONDS = 60 * 60
#: This process's toolbars (some 1 kB each): its key needs the viewer's roles and the page's
#: entry, so it is known only once the page's one round trip to the cache is done; kept here, a
#: page viewed again asks for nothing more (core.cache.RecentValues: its key names everything).
recent_toolbars = shared_cache.RecentValues(size=1024)


def _toolbar(request: HttpRequest, plan: Plan) -> list[SafeString]:
    """The toolbar (status, Edit or why not, export, revisions, archive and delete), laid out
    once per what it shows (every value its templates read is in the key), as the parts
    between its CSRF tokens: its five {% url %} tags and the draft controls' inclusion tag
    were laid out on every view."""
    user = request.user
    can_edit = permissions.can_edit(plan, user)
    context = {
        # The draft controls' own (plans/templatetags/draft_tags.py): can_delete, can_archive.
        **draft_actions({"request": request, "csrf_token": TOKEN_MARK}, plan),
        "can_edit": can_edit,
        "edit_refusal": "" if can_edit else services.edit_refusal_reason(plan, user),
        "is_author": plan.author_id == user.pk,
        "user_is_admin": is_admin(user),
    }
    shown = [plan.pk, str(plan), plan.status, plan.archived_at, get_language(),
             get_script_prefix(), *(context[name] for name in (
                 "can_delete", "can_archive", "can_edit", "edit_refusal", "is_author",
                 "user_is_admin"))]
    digest = hashlib.sha256(json.dumps(shown, default=str).encode()).hexdigest()
    key = f"plans:page-toolbar:{templates_digest(TOOLBAR_TEMPLATES)}:{plan.pk}:{digest}"
    html = recent_toolbars.cached(key, lambda: render_to_string(TOOLBAR_TEMPLATES[0], context),
                                  TOOLBAR_SECONDS)
    return [mark_safe(part) for part in TOKEN_SLOT.split(html)]  # noqa: S308 - escaped


#: The plan page's main column: the import report, the title, date, author and totals, and the
#: document. The same for every viewer, kept laid out under everything it shows.
COLUMN_TEMPLATES = ("plans/includes/plan_document_column.html",
                    "plans/includes/import_report.html", "plans/includes/plan_totals.html")
#: How long a main column is kept unread (any change of what it shows makes a new key).
COLUMN_SECONDS = 60 * 60 * 24


def _document_column_key(plan: Plan, entry_key: str) -> str:
    """What the column shows: the page entry (the document, and the steps the totals add up,
    under the plan's updated_at and texts: plans/rendering.py page_entry_key), the plan's own
    fields it shows, its author's name, and the language it is shown in."""
    report = _import_report(plan)
    shown = [entry_key, plan.title, str(plan.created_on), display_name(plan.author),
             None if report is None else plan.import_report, get_language()]
    digest = hashlib.sha256(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()
    return f"plans:page-column:{templates_digest(COLUMN_TEMPLATES)}:{plan.pk}:{digest}"


def _document_column(plan: Plan, document: SafeString, key: str) -> SafeString:
    """The main column (``key``: its _document_column_key), laid out once per what it shows
    (after plan_page_document, which gives the plan its steps)."""
    html = shared_cache.cached(key, lambda: render_to_string(COLUMN_TEMPLATES[0], {
        "plan": plan, "import_report": _import_report(plan), "document": document,
        "steps": list(plan.steps.all()),
    }), COLUMN_SECONDS)
    return mark_safe(html)  # noqa: S308 - the column's templates escape


@require_POST
def plan_start_from(request: HttpRequest, pk: int) -> HttpResponse:
    """A new draft with this plan's content (offered on a rejected plan), opened in the page."""
    plan = get_object_or_404(Plan, pk=pk)
    try:
        copy = services.plan_start_from(actor=request.user, plan=plan)
    except DOMAIN_ERRORS as exc:
        return error_response(request, exc, back=plan.get_absolute_url())
    messages.success(request, f"A new draft with the content of “{plan}” (#{plan.pk}). Change "
                              "what the review asked for, then submit it.")
    return redirect(copy)


def _import_report(plan: Plan) -> ImportReport | None:
    """What the import noticed and how closely the plan follows the template (imported plans)."""
    # The plan page's plan knows whether it has a source without its text (plan_for_page).
    imported = getattr(plan, "imported", None)
    if not (plan.source is not None if imported is None else imported):
        return None
    return ImportReport.from_dict(plan.import_report or {})


@require_GET
def plan_template(request: HttpRequest) -> HttpResponse:
    """The plan template (plans/plan-template.md), for authors and agents to start from."""
    response = HttpResponse(TEMPLATE, content_type="text/markdown; charset=utf-8")
    how = "attachment" if request.GET.get("download") else "inline"  # ?download=1: a file
    response["Content-Disposition"] = f'{how}; filename="plan-template.md"'
    return response


@require_GET
def plan_export(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_with_content(pk)
    response = HttpResponse(export_plan(plan), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = export_disposition(plan)
    return response


#: What the import page offers when the same text was imported before (the "on_duplicate" button).
IMPORT_ANYWAY, UPDATE_EXISTING = "new", "update"


@require_http_methods(["GET", "POST"])
def plan_import(request: HttpRequest) -> HttpResponse:
    """Import a Markdown plan. The same text imported again is not a silent duplicate: the page
    names the plan(s) already holding it and asks whether to import it anyway as a new plan or
    to update the existing draft with it (the text is kept in the form for that second post)."""
    form = ImportForm(request.POST or None, request.FILES or None)
    duplicates: list[Plan] = []
    if request.method == "POST" and form.is_valid():
        field, content = form.source()
        choice = request.POST.get("on_duplicate", "")
        try:
            source = decode_plan(content)
            duplicates = selectors.plans_with_text(
                user=request.user, text_hash=services.text_revision_hash(source))
            target = _import_target(request, duplicates, choice)
            if duplicates and choice not in (IMPORT_ANYWAY, UPDATE_EXISTING):
                # Asked once; the text is kept for the answer (a file's bytes as they are).
                form = ImportForm(initial={"kept": ImportForm.keep(content)} if field == "file"
                                  else {"text": source})
                return render(request, "plans/plan_import.html",
                              _import_context(request, form, duplicates))
            plan = services.plan_import_markdown(actor=request.user, text=source, plan=target)
        except MarkdownImportError as exc:
            where = f"Line {exc.line}: " if exc.line else ""
            form.add_error(field, f"{where}{exc.message}")
        except DOMAIN_ERRORS as exc:
            form.add_error(None, user_message(exc))
        else:
            report = _import_report(plan)
            count = len(report.warnings)
            notes = f" {count} warning{'s' if count != 1 else ''}: see them below." if count else ""
            done = "Plan updated from the Markdown" if target else "Plan imported"
            messages.success(request, f"{done} ({report.conformance()}).{notes} "
                                      "Check it, then submit it for review.")
            return redirect(plan)
    status = 400 if form.errors else 200
    return render(request, "plans/plan_import.html", _import_context(request, form, duplicates),
                  status=status)


def _import_target(request: HttpRequest, duplicates: list[Plan], choice: str) -> Plan | None:
    """The existing plan to update ("update" names one of the duplicates), else None."""
    if choice != UPDATE_EXISTING:
        return None
    wanted = request.POST.get("existing") or request.GET.get("existing", "")  # the button's
    plan = next((p for p in duplicates if str(p.pk) == wanted), None)
    if plan is None:
        raise ValidationError("Choose which of your plans to update.")
    return plan


def _import_context(request: HttpRequest, form: ImportForm, duplicates: list[Plan]) -> dict:
    return {
        "form": form,
        "duplicates": [{"plan": p, "can_update": permissions.can_edit(p, request.user)}
                       for p in duplicates],
    }


# --- revisions ---------------------------------------------------------------------------------


@require_GET
def plan_revisions(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan.objects.select_related("author"), pk=pk)
    revisions = list(selectors.plan_revisions(plan))
    return render(request, "plans/revision_list.html", {"plan": plan, "revisions": revisions})


@require_GET
def plan_revision(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    plan = get_object_or_404(Plan.objects.select_related("author"), pk=pk)
    revision = selectors.plan_revision(plan, number)
    return render(request, "plans/revision_detail.html", {
        "plan": plan, "revision": revision, "html": revision_html(revision),
    })  # fmt: skip


@require_GET
def plan_diff(request: HttpRequest, pk: int) -> HttpResponse:
    """Section diff between two revisions: ?from=N&to=M (default: the last two)."""
    plan = get_object_or_404(Plan.objects.select_related("author"), pk=pk)
    # Without their texts: the diff of two is cached by their hashes (revision_diff_html).
    revisions = list(selectors.plan_revisions(plan).defer("content"))
    by_number = {r.number: r for r in revisions}
    if len(revisions) < 2:
        messages.info(request, "A diff needs two revisions; this plan has fewer.")
        return redirect("plans:revisions", plan.pk)
    try:
        old = by_number[int(request.GET.get("from", revisions[1].number))]
        new = by_number[int(request.GET.get("to", revisions[0].number))]
    except (KeyError, ValueError):
        return render(request, "plans/revision_list.html", {
            "plan": plan, "revisions": revisions,
            "error": "Pick two revisions of this plan to compare.",
        }, status=400)  # fmt: skip
    diff = revision_diff_html(old, new)
    return render(request, "plans/revision_diff.html", {
        "plan": plan, "old": old, "new": new, "diff_html": diff["html"], "revisions": revisions,
        "changed": diff["changed"],
    })  # fmt: skip


class _PostOnlyJson:
    """For the editor's AJAX endpoints: any method but POST is a 405 that says so, in JSON."""

    http_method_names = ["post"]

    def http_method_not_allowed(self, request, *args, **kwargs):
        return JsonResponse({"error": "Use POST."}, status=405, headers={"Allow": "POST"})


class MarkdownxUploadView(_PostOnlyJson, markdownx_views.ImageUploadView):
    """markdownx's image upload (storing what MarkdownxImageForm re-encodes), answering JSON.

    markdownx's own view saves and answers only requests sent with X-Requested-With and has no
    page to render otherwise: a GET, or a refused upload without that header, was a server error.
    The editor's script reads {"image_code": "![](url)"}; a refusal is a 400 {"error": ...}.
    """

    form_class = MarkdownxImageForm

    def form_invalid(self, form):
        errors = [message for field_errors in form.errors.values() for message in field_errors]
        return JsonResponse({"error": " ".join(errors)}, status=400)

    def form_valid(self, form):
        return JsonResponse({"image_code": f"![]({form.save()})"})


class MarkdownifyView(_PostOnlyJson, markdownx_views.MarkdownifyView):
    """markdownx's editor preview (plans.rendering.render_markdown, through its settings);
    a request without "content" raised KeyError there, a server error."""

    def post(self, request, *args, **kwargs):
        if "content" not in request.POST:
            return JsonResponse({"error": 'Send the Markdown to render as "content".'}, status=400)
        return super().post(request, *args, **kwargs)

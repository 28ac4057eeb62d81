"""Audit pages for the Admins group: the trail and its exports (403 for anyone else).

A plan's own timeline and approval certificate are pages of the reviews app (reviews/views.py),
which knows plans."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.roles import is_admin
from core import cache as shared_cache

from . import selectors
from .exports import csv_stream, jsonl_stream
from .forms import AuditFilterForm

PAGE_SIZE = 50
EXPORTS = {
    "csv": (csv_stream, "text/csv; charset=utf-8"),
    "jsonl": (jsonl_stream, "application/jsonl; charset=utf-8"),
}


def admin_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_admin(request.user):
            raise PermissionDenied("Only admins can see the audit trail.")
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@admin_required
def entry_list(request):
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(request, "audit/entry_list.html", {"form": form, "page": None}, status=400)
    filters = form.cleaned_data if form.is_bound else {}
    entries = selectors.entries_filtered(**filters)  # the rows show plan_id, never the plan
    rows_key = selectors.page_key(filters, request.GET.get("page"), PAGE_SIZE)
    shared_cache.read_ahead([selectors.count_key(filters), rows_key])  # one round trip
    # Counting 100,000 entries took longer than the rest of the page: counted incrementally.
    counted = selectors.count_filtered(**filters)
    if counted.top is not None:  # the entries counted, so that the page's rows can be cached
        entries = entries.filter(id__lte=counted.top[0])
    paginator = Paginator(entries, PAGE_SIZE)
    paginator.count = counted.count
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/entry_list.html", {
        "form": form, "page": page, "query": query.urlencode(), "rows_key": rows_key,
        "top": counted.top,
    })


@require_GET
@admin_required
def export(request, fmt: str):
    if fmt not in EXPORTS:
        raise Http404("Export formats: csv, jsonl.")
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        errors = "; ".join(e for errs in form.errors.values() for e in errs)
        return HttpResponse(f"Invalid filter: {errors}", status=400, content_type="text/plain")
    stream, content_type = EXPORTS[fmt]
    entries = selectors.entries_filtered(**form.cleaned_data)
    response = StreamingHttpResponse(stream(entries), content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{fmt}"'
    return response

"""Audit pages for the Admins group, and the approval certificate for every signed-in user.

The trail (list, per-plan timeline, exports) is for admins only: 403 for anyone else. The approval
certificate of an approved plan is visible to every signed-in user, like the plan itself
(plans.permissions.can_view): approvals are not secret, and authors need to show them.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.roles import is_admin
from plans.models import Plan
from plans.permissions import can_view

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


@admin_required
def entry_list(request):
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(request, "audit/entry_list.html", {"form": form, "page": None}, status=400)
    filters = form.cleaned_data if form.is_bound else {}
    entries = selectors.entries_filtered(**filters).select_related("plan")
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/entry_list.html", {
        "form": form, "page": page, "query": query.urlencode(),
    })


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


@admin_required
def plan_timeline(request, plan_id: int):
    plan = Plan.objects.filter(pk=plan_id).first()  # the plan may have been deleted since
    entries = list(selectors.plan_timeline(plan_id))
    if plan is None and not entries:
        raise Http404("No such plan and no audit entries for it.")
    return render(request, "audit/plan_timeline.html", {
        "plan": plan, "plan_id": plan_id, "entries": entries,
    })


def _certificate_or_404(request, plan_id: int):
    plan = get_object_or_404(Plan.objects.select_related("author"), pk=plan_id)
    if not can_view(plan, request.user):
        raise PermissionDenied("You cannot see this plan.")
    certificate = selectors.approval_certificate(plan)
    if certificate is None:
        raise Http404("This plan is not approved, so it has no approval certificate.")
    return certificate


def certificate(request, plan_id: int):
    return render(request, "audit/certificate.html", {
        "certificate": _certificate_or_404(request, plan_id),
    })


def certificate_markdown(request, plan_id: int):
    cert = _certificate_or_404(request, plan_id)
    text = render_to_string("audit/certificate.md", {"certificate": cert}, request=request)
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="plan-{plan_id}-approval.md"'
    return response

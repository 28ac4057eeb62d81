"""Thin views over implementation/services.py; domain errors are answered by
core.http.service_errors (a flash message and a redirect back, the 403 page)."""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.http import service_errors
from plans import permissions
from plans.models import Plan

from . import selectors, services
from .models import Outcome


def _record_url(request, plan_id, **_):
    return reverse("implementation:record", args=[plan_id])


def _plan_url(request, plan_id, **_):
    return reverse("plans:detail", args=[plan_id])


@require_GET
def record(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The post-implementation review page: progress per step, every drift report, the success
    criteria with their evidence, and (for a reviewer who may verify) the verification form."""
    plan = get_object_or_404(Plan.objects.select_related("author"), pk=plan_id)
    if not permissions.can_view(plan, request.user):
        raise PermissionDenied("You cannot see this plan.")
    record = selectors.implementation_record(plan)
    if record is None:
        raise Http404("This plan has never been approved: there is no implementation yet.")
    return render(request, "implementation/record.html", {
        "plan": plan, "record": record,
        "can_verify": permissions.can_verify(plan, request.user),
        "can_implement": permissions.can_implement(plan, request.user),
    })  # fmt: skip


@require_POST
@service_errors(_plan_url)
def start(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=plan_id)
    services.implementation_start(actor=request.user, plan=plan)
    messages.success(request, "Implementation started.")
    return redirect(plan)


@require_POST
@service_errors(_plan_url)
def finish(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=plan_id)
    services.implementation_finish(actor=request.user, plan=plan)
    messages.success(request, "Marked implemented: a reviewer can now verify it.")
    return redirect(plan)


@require_POST
@service_errors(_record_url)
def verify(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The verification form: evidence per criterion (``evidence-N``), then VERIFIED or
    SENT_BACK with a comment."""
    plan = get_object_or_404(Plan, pk=plan_id)
    evidence = {}
    for key, value in request.POST.items():
        if key.startswith("evidence-") and re.fullmatch(r"[0-9]{1,9}", key[9:]):
            evidence[int(key[9:])] = value
    outcome = request.POST.get("outcome", "")
    services.verification_decide(actor=request.user, plan=plan, outcome=outcome,
                                 comment=request.POST.get("comment", ""), evidence=evidence)
    messages.success(request, "Verified." if outcome == Outcome.VERIFIED
                     else "Sent back to implementing.")
    return redirect(plan)

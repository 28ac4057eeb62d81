"""Putting drafts away: delete a never-submitted draft, archive or unarchive a plan.

POST only; each calls its service (plans/services.py), which checks permission and audits."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.http import service_errors

from . import services
from .models import Plan


def _plan_url(request, pk: int, **_) -> str:
    return reverse("plans:detail", args=[pk])


@require_POST
@service_errors(_plan_url)
def plan_delete(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=pk)
    title = str(plan)
    services.plan_delete(actor=request.user, plan=plan)
    messages.success(request, f"Draft “{title}” deleted.")
    return redirect(f"{reverse('plans:list')}?mine=1")


@require_POST
@service_errors(_plan_url)
def plan_archive(request: HttpRequest, pk: int) -> HttpResponse:
    plan = services.plan_archive(actor=request.user, plan=get_object_or_404(Plan, pk=pk))
    messages.success(request, f"“{plan}” archived: it no longer shows in the plan lists. "
                              "Find it with the “Archived” filter.")
    return redirect(plan)


@require_POST
@service_errors(_plan_url)
def plan_unarchive(request: HttpRequest, pk: int) -> HttpResponse:
    plan = services.plan_unarchive(actor=request.user, plan=get_object_or_404(Plan, pk=pk))
    messages.success(request, f"“{plan}” is back in the plan lists.")
    return redirect(plan)

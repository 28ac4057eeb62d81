"""Reviewer suggestions for the "Request reviewers" form: who may review this plan, matching
what is typed. Only the people who may request reviewers (the plan's author, an admin) get the
list, and it holds only eligible reviewers: active members of the Reviewers group who neither
wrote nor edited the plan (reviews.policy.may_review's rule, as a query).

With htmx the input fills a <datalist> as you type (each option completes the last name in the
comma-separated list); without JavaScript the same URL is a page listing them."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from accounts.roles import REVIEWERS
from plans.models import Plan, PlanEditor

from . import permissions

LIMIT = 20


def eligible_reviewers(plan: Plan, query: str = "", limit: int = LIMIT) -> QuerySet:
    """Active reviewers, not the author nor an editor, whose username or name contains
    ``query`` (every word of it), by username; at most ``limit``."""
    users = (
        get_user_model().objects.filter(is_active=True, groups__name=REVIEWERS)
        .exclude(pk=plan.author_id)
        .exclude(pk__in=PlanEditor.objects.filter(plan=plan).values("user_id"))
    )
    for word in query.split():
        users = users.filter(Q(username__icontains=word) | Q(first_name__icontains=word)
                             | Q(last_name__icontains=word))
    return users.distinct().order_by("username").only(
        "username", "first_name", "last_name")[:limit]


@require_GET
def reviewer_suggestions(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=plan_id)
    if not permissions.can_request_reviewers(plan, request.user):
        raise PermissionDenied("Only the plan's author or an admin can request reviewers.")
    typed = request.GET.get("usernames", request.GET.get("q", ""))[:200]
    done, _, last = typed.rpartition(",")
    chosen = [name.strip() for name in done.split(",") if name.strip()]
    users = [u for u in eligible_reviewers(plan, last.strip()) if u.username not in chosen]
    prefix = ", ".join(chosen) + (", " if chosen else "")
    context = {"plan": plan, "users": users, "prefix": prefix, "query": typed}
    if getattr(request, "htmx", False):
        return render(request, "reviews/includes/reviewer_options.html", context)
    return render(request, "reviews/reviewer_suggestions.html", context)

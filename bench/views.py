"""The baseline every page is compared with: fetch one plan by primary key, render its title.

It runs through the same middleware as every page (session, user, CSRF, CSP, audit context),
so it costs what any signed-in request costs: 3 queries (session, user, plan).
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template import engines

from plans.models import Plan

_TITLE = engines["django"].from_string("<!doctype html><title>{{ plan.title }}</title>")


def bare(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=pk)
    return HttpResponse(_TITLE.render({"plan": plan}))

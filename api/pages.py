"""The browser's API token settings page: create (the token is shown once), list, revoke."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import ValidationError
from core.http import service_errors

from . import services
from .forms import TokenForm
from .models import ApiToken


def _tokens_url(request, **_):
    return reverse("api:tokens")


def _page(request, form, raw_token: str = "", status: int = 200) -> HttpResponse:
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "api/tokens.html", {
        "form": form, "tokens": tokens, "raw_token": raw_token, "now": timezone.now(),
    }, status=status)  # fmt: skip


@require_http_methods(["GET", "POST"])
@service_errors(_tokens_url)
def tokens(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request, TokenForm())
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    days = form.cleaned_data["expires_in_days"]
    try:
        _, raw = services.token_create(
            actor=request.user, user=request.user, name=form.cleaned_data["name"],
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _page(request, form, status=400)
    # Rendered, not redirected: this page is the only time the token is ever shown.
    response = _page(request, TokenForm(), raw_token=raw)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@service_errors(_tokens_url)
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    # Someone else's token is a 404: its existence is not the visitor's business.
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.token_revoke(actor=request.user, token=token)
    messages.success(request, f"Token “{token.name}” revoked; it no longer works.")
    return redirect("api:tokens")

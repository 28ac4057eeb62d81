from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import cache as shared_cache
from core.http import service_errors

from . import events, selectors, services
from .context_processors import layout_cache_keys
from .models import Notification


def _next_url(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                   require_https=request.is_secure()):
        return target
    return default


@require_GET
def inbox(request):
    # The rows, the navigation's roles and unread badge in one round trip to the cache.
    shared_cache.read_ahead([*selectors.inbox_cache_keys(request.user),
                             *layout_cache_keys(request.user)])
    items = selectors.inbox_for_user(request.user)
    return render(request, "notifications/inbox.html", {"items": items})


@require_POST
def mark_read(request, pk: int):
    # Someone else's notification is a 404: its existence is not the visitor's business.
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    services.notification_mark_read(actor=request.user, notification=notification)
    return redirect(_next_url(request, "notifications:inbox"))


def _own_url(request, target: str) -> str | None:
    """``target`` when it is a path on this site (never another host, nor ``//host``)."""
    if target.startswith("/") and not target.startswith("//") and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def _is_navigation(request) -> bool:
    """Whether the browser asked for this as a page the user opens (a click on a link of this
    site, or a typed or bookmarked address), not as an image, script, frame or fetch some page
    made it load, nor as a link on another site (anyone can put one there): the Fetch Metadata
    headers that browsers send say so; without them (an old browser, a test client) it is taken
    as a click."""
    dest = request.headers.get("Sec-Fetch-Dest")
    mode = request.headers.get("Sec-Fetch-Mode")
    site = request.headers.get("Sec-Fetch-Site")
    return (dest in (None, "document") and mode in (None, "navigate")
            and site in (None, "same-origin", "none"))


@require_GET
def open_notification(request, pk: int):
    """The inbox's link: opening a notification marks it read, then goes where it points
    (only ever a page of this site; the inbox otherwise). Only a click marks it read: an
    ``<img src=".../open/">`` in someone's comment, or a link on another site, makes the
    reader's browser GET it too (that still goes there: only the read mark is withheld)."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    if _is_navigation(request):
        services.notification_mark_read(actor=request.user, notification=notification)
    return redirect(_own_url(request, notification.url) or reverse("notifications:inbox"))


@require_POST
def mark_all_read(request):
    count = services.notifications_mark_all_read(actor=request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    return redirect("notifications:inbox")


def _preferences_url(request, **_):
    return reverse("notifications:preferences")


@require_http_methods(["GET", "POST"])
@service_errors(_preferences_url)
def preferences(request):
    if request.method == "POST":
        choices = {
            event: (f"{event}:email" in request.POST, f"{event}:inbox" in request.POST)
            for event in (e.name for e in events.notifiable())
        }
        services.notification_preferences_update(actor=request.user, choices=choices)
        messages.success(request, "Notification settings saved.")
        return redirect("notifications:preferences")
    rows = selectors.preferences_for_user(request.user)
    return render(request, "notifications/preferences.html", {"rows": rows})

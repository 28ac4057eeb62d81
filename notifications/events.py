"""The event registry: every event the apps announce, each defined once.

An ``Event`` is a name (``plan.submitted``), which is also its audit action, a label for the
audit trail, and, when people hear about it, a ``Notify`` saying how it reads and who is told
(its audience). Apps define their events in their own ``events.py`` and register them in
``AppConfig.ready()``; registering an event registers its audit action too, so a service writes
``log(events.PLAN_SUBMITTED.name, ...)`` and ``notify_plan_event(event=events.PLAN_SUBMITTED,
...)`` and never spells a name out.

Audiences are names, because who "may review this plan" is known only to a higher app: it
fills the audience in with ``register_audience`` (reviews/apps.py). This app resolves the ones
it can answer itself: the plan's author and the admins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from audit import actions

# --- audiences ------------------------------------------------------------------------------------
AUTHOR = "author"
ADMINS = "admins"
REVIEWER_POOL = "reviewer_pool"  # who a submitted plan waits on
EARLIER_REVIEWERS = "earlier_reviewers"  # reviewed an earlier revision
STARTED_REVIEWERS = "started_reviewers"  # opened a review of the current revision
AWAITED_REVIEWERS = "awaited_reviewers"  # the pool minus those who decided on this revision

#: audience name -> resolver(plan, revision) returning users
_audiences: dict[str, Callable] = {}


def register_audience(name: str, resolver: Callable) -> None:
    _audiences[name] = resolver


def audience(name: str) -> Callable:
    try:
        return _audiences[name]
    except KeyError:
        raise LookupError(f"No app registered the audience {name!r}") from None


# --- events ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Notify:
    label: str  # what users subscribe to, on the settings page
    headline: str  # formatted with actor, plan and hours; becomes the subject
    audience: tuple[str, ...]


@dataclass(frozen=True)
class Event:
    name: str
    label: str  # in the audit trail
    notify: Notify | None = None

    def __str__(self) -> str:
        return self.name


_events: dict[str, Event] = {}


def register(*events: Event) -> None:
    for event in events:
        actions.register(event.name, event.label)
        _events[event.name] = event


def get(name: str) -> Event:
    try:
        return _events[name]
    except KeyError:
        raise LookupError(f"Unknown event {name!r}") from None


def notifiable() -> list[Event]:
    """Events people can hear about, in the order apps registered them (the settings page)."""
    return [event for event in _events.values() if event.notify is not None]


# --- this app's own events ------------------------------------------------------------------------
NOTIFICATION_RETRIED = Event("notification.retried", "Notification retried")
WEBHOOK_CHANGED = Event("webhook.changed", "Webhook endpoint changed")

OWN_EVENTS = (NOTIFICATION_RETRIED, WEBHOOK_CHANGED)

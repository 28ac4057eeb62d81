"""Reads: the audiences this app resolves itself, a user's inbox and preferences."""

from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts.roles import ADMINS
from core.cache import SharedValues
from core.compiled import CompiledQuery

from . import events
from .models import Notification, NotificationPreference

User = get_user_model()


def plan_author(plan, revision=None) -> list:
    return [plan.author]


def admins(plan=None, revision=None) -> list:
    return list(
        User.objects.filter(Q(groups__name=ADMINS) | Q(is_superuser=True), is_active=True)
        .distinct().order_by("pk")
    )


#: Read by every notified event: compiled once per number of recipients (core.compiled).
_PREFERENCES = CompiledQuery(lambda user_ids, event: NotificationPreference.objects.filter(
    user_id__in=user_ids, event=event).values_list("user_id", "email", "inbox"))


def channel_preferences(users, event: str) -> dict[int, tuple[bool, bool]]:
    """{user_id: (email, inbox)} for `event`; users without a row get the defaults (on, on)."""
    rows = _PREFERENCES.all(user_ids=[user.pk for user in users], event=event) if users else ()
    chosen = {user_id: (email, inbox) for user_id, email, inbox in rows}
    return {user.pk: chosen.get(user.pk, (True, True)) for user in users}


def preferences_for_user(user) -> list[dict]:
    """Every notifiable event with the user's channels, in registry order (settings page)."""
    chosen = {row.event: row for row in NotificationPreference.objects.filter(user=user)}
    return [
        {
            "event": event.name,
            "label": event.notify.label,
            "email": chosen[event.name].email if event.name in chosen else True,
            "inbox": chosen[event.name].inbox if event.name in chosen else True,
        }
        for event in events.notifiable()
    ]


INBOX_SIZE = 100


def _load_inbox(user_id: int) -> list[tuple]:
    # No plan: the inbox shows the notification's own title and link. Plain tuples: 100 model
    # instances were a third of the page, and they are kept in the cache.
    return list(Notification.objects.filter(recipient_id=user_id)
                .values_list("pk", "title", "body", "url", "created_at", "read_at")[:INBOX_SIZE])


def _count_unread(user_id: int) -> int:
    return Notification.objects.filter(recipient_id=user_id, read_at__isnull=True).count()


#: Each user's unread count (the navigation badge on every page) and inbox are shared: read
#: afresh once a change of that user's notifications commits. Creating, saving and deleting one
#: sends signals (receivers connected in NotificationsConfig.ready); bulk_create and
#: queryset.update() do not, so the services that use them call unread_changed themselves.
_UNREAD = SharedValues("unread-notifications", _count_unread)
_INBOX = SharedValues("inbox", _load_inbox)


def inbox_for_user(user) -> list[tuple]:
    """The user's newest notifications, as (pk, title, body, url, created_at, read_at)."""
    return _INBOX.get(user.pk)


def inbox_cache_keys(user) -> list[str]:
    """What inbox_for_user(user) reads from the cache, for a page's read_ahead."""
    return _INBOX.cache_keys(user.pk) if user.is_authenticated else []


def unread_count(user) -> int:
    return _UNREAD.get(user.pk)


def unread_cache_keys(user) -> list[str]:
    """What unread_count(user) reads from the cache: a page reads them ahead with its own."""
    return _UNREAD.cache_keys(user.pk) if user.is_authenticated else []


def unread_changed(user_ids) -> None:
    """These users' notifications were created, read or deleted: their counts and inboxes are
    read afresh once the transaction commits."""
    user_ids = set(user_ids)
    _UNREAD.changed(*user_ids)
    _INBOX.changed(*user_ids)


def notification_changed(sender, instance, **kwargs) -> None:
    """post_save / post_delete of a Notification."""
    unread_changed([instance.recipient_id])

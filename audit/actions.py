"""The registered audit actions. log() refuses any name not registered, so a typo in a service
fails its tests instead of writing an entry nobody will ever filter for.

The apps register their events (and so their actions) in their ``AppConfig.ready()`` through
notifications.events.register; the audit app registers the few it writes itself (below).
"""

from collections.abc import Callable

#: name -> label, in registration order
ACTIONS: dict[str, str] = {}

#: name -> formatter(payload) -> the entry's details as a person reads them (audit/formatting.py
#: shows a payload key by key for an action with none). Apps that know what their payloads mean
#: register formatters in their ``AppConfig.ready()``, beside their events.
FORMATTERS: dict[str, Callable[[dict], str]] = {}

AUTH_LOGIN_FAILED = "auth.login_failed"
GROUP_MEMBER_ADDED = "group.member_added"
GROUP_MEMBER_REMOVED = "group.member_removed"
ACCOUNT_PROFILE_CHANGED = "account.profile_changed"
ACCOUNT_PASSWORD_CHANGED = "account.password_changed"
ACCOUNT_ACTIVATED = "account.activated"  # an admin ticked Active (Admin → Users)
ACCOUNT_DEACTIVATED = "account.deactivated"  # an admin unticked it: the user can no longer log in
OWN_ACTIONS = {
    ACCOUNT_PROFILE_CHANGED: "Profile changed",
    ACCOUNT_PASSWORD_CHANGED: "Password changed",
    ACCOUNT_ACTIVATED: "User activated",
    ACCOUNT_DEACTIVATED: "User deactivated",
    AUTH_LOGIN_FAILED: "Login failed",
    GROUP_MEMBER_ADDED: "User added to group",
    GROUP_MEMBER_REMOVED: "User removed from group",
}
#: Actions whose entries change nothing a page shows, so audit.selectors.data_version skips
#: them: anyone can write a failed login, and each one would otherwise reset every cached page.
#: Migration 0005 indexes the other entries: change both together.
UNVERSIONED = (AUTH_LOGIN_FAILED, ACCOUNT_PASSWORD_CHANGED)


class UnknownAuditAction(ValueError):
    """log() was called with an action name that is not registered."""


def register(name: str, label: str) -> None:
    if "." not in name:
        raise ValueError(f"Audit action names are namespaced (noun.verb): {name!r}")
    if ACTIONS.get(name, label) != label:
        raise ValueError(f"The audit action {name!r} is registered twice with different labels")
    ACTIONS[name] = label


#: name -> (one, many): consecutive entries of this action on one object by one actor show as
#: one row of the audit page ("15 checklist answers"); the entries themselves stay one each.
GROUPED: dict[str, tuple[str, str]] = {}


def register_formatter(name: str, formatter: Callable[[dict], str], *,
                       grouped_as: tuple[str, str] | None = None) -> None:
    FORMATTERS[name] = formatter
    if grouped_as is not None:
        GROUPED[name] = grouped_as


def check(name: str) -> None:
    if name not in ACTIONS:
        raise UnknownAuditAction(f"Unknown audit action {name!r}; register its event.")

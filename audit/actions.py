"""The registered audit actions. log() refuses any name not registered, so a typo in a service
fails its tests instead of writing an entry nobody will ever filter for.

The apps register their events (and so their actions) in their ``AppConfig.ready()`` through
notifications.events.register; the audit app registers the few it writes itself (below).
"""

#: name -> label, in registration order
ACTIONS: dict[str, str] = {}

AUTH_LOGIN_FAILED = "auth.login_failed"
GROUP_MEMBER_ADDED = "group.member_added"
GROUP_MEMBER_REMOVED = "group.member_removed"
OWN_ACTIONS = {
    AUTH_LOGIN_FAILED: "Login failed",
    GROUP_MEMBER_ADDED: "User added to group",
    GROUP_MEMBER_REMOVED: "User removed from group",
}


class UnknownAuditAction(ValueError):
    """log() was called with an action name that is not registered."""


def register(name: str, label: str) -> None:
    if "." not in name:
        raise ValueError(f"Audit action names are namespaced (noun.verb): {name!r}")
    if ACTIONS.get(name, label) != label:
        raise ValueError(f"The audit action {name!r} is registered twice with different labels")
    ACTIONS[name] = label


def check(name: str) -> None:
    if name not in ACTIONS:
        raise UnknownAuditAction(f"Unknown audit action {name!r}; register its event.")

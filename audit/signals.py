"""Audit entries for events that no Plangate service performs: failed logins (Django's auth) and
group membership changes (made in the admin, by `seed_demo`, or anywhere `user.groups` changes).
Connected in AuditConfig.ready()."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from .actions import (
    ACCOUNT_ACTIVATED,
    ACCOUNT_DEACTIVATED,
    ACCOUNT_PASSWORD_CHANGED,
    ACCOUNT_PROFILE_CHANGED,
    AUTH_LOGIN_FAILED,
    GROUP_MEMBER_ADDED,
    GROUP_MEMBER_REMOVED,
)
from .context import current_request, request_info
from .log import log


def _request_user():
    info = current_request.get()
    user = info.user if info else None
    return user if user is not None and user.is_authenticated else None


def login_failed(sender, credentials, request=None, **kwargs):
    """Record the username tried, never the password (nor any other credential)."""
    username = credentials.get(get_user_model().USERNAME_FIELD, "")
    token = None
    if request is not None and current_request.get() is None:
        token = current_request.set(request_info(request))
    try:
        log(AUTH_LOGIN_FAILED, payload={"username": str(username)[:150]})
    finally:
        if token is not None:
            current_request.reset(token)


def groups_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """User.groups changed from either side: user.groups.add(...) or group.user_set.add(...)."""
    if action == "pre_clear":
        related = instance.user_set if reverse else instance.groups
        instance._audit_cleared_ids = set(related.values_list("pk", flat=True))
        return
    if action == "post_clear":
        pk_set = instance.__dict__.pop("_audit_cleared_ids", set())
        audit_action = GROUP_MEMBER_REMOVED
    elif action in ("post_add", "post_remove"):
        audit_action = GROUP_MEMBER_ADDED if action == "post_add" else GROUP_MEMBER_REMOVED
    else:
        return
    if not pk_set:
        return
    if reverse:  # instance is a Group, pk_set holds user ids
        pairs = [(user, instance) for user in get_user_model().objects.filter(pk__in=pk_set)]
    else:
        pairs = [(instance, group) for group in Group.objects.filter(pk__in=pk_set)]
    actor = _request_user()
    for user, group in sorted(pairs, key=lambda pair: (pair[0].pk, pair[1].pk)):
        log(audit_action, actor=actor, obj=user,
            payload={"user": user.get_username(), "group": group.name})


def account_changed(sender, actor, user, change, fields, **kwargs):
    """accounts.services changed someone's own account, or an admin (de)activated one (sent
    inside its transaction): which fields changed, never their values (the trail is kept
    forever; a password never)."""
    action = {"password": ACCOUNT_PASSWORD_CHANGED, "activated": ACCOUNT_ACTIVATED,
              "deactivated": ACCOUNT_DEACTIVATED}.get(change, ACCOUNT_PROFILE_CHANGED)
    log(action, actor=actor, obj=user, payload={"fields": list(fields)})

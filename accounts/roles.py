"""The three roles are Django groups, created by a data migration.

A user's group names are read on every page (the navigation) and by every permission check, so
they are shared (core.cache.SharedValues, one value per user): read afresh once a change of the
user's groups commits, from either side of the relation, or a rename or deletion of one of
them (receivers below, connected in AccountsConfig.ready)."""

from django.contrib.auth.models import Group

from core.cache import SharedValues

AUTHORS = "Authors"
REVIEWERS = "Reviewers"
ADMINS = "Admins"
ALL_ROLES = (AUTHORS, REVIEWERS, ADMINS)


def _load_group_names(user_id: int) -> frozenset[str]:
    return frozenset(Group.objects.filter(user__id=user_id).values_list("name", flat=True))


_GROUP_NAMES = SharedValues("user-groups", _load_group_names)


def group_names(user) -> frozenset[str]:
    """The user's group names: one cache round trip per request and user (memoised on the
    request's user), the group query only after a change."""
    if not user.is_authenticated:
        return frozenset()
    if not hasattr(user, "_plangate_roles"):
        user._plangate_roles = _GROUP_NAMES.get(user.pk)
    return user._plangate_roles


def cache_keys(user) -> list[str]:
    """What group_names(user) reads from the cache: a page reads them ahead with its own."""
    return _GROUP_NAMES.cache_keys(user.pk) if user.is_authenticated else []


def has_role(user, role: str) -> bool:
    """True if the user is in the group."""
    return role in group_names(user)


def is_admin(user) -> bool:
    return user.is_authenticated and (user.is_superuser or has_role(user, ADMINS))


def is_reviewer(user) -> bool:
    return has_role(user, REVIEWERS)


# --- receivers: whose group names changed -------------------------------------------------------
def memberships_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """m2m_changed of User.groups, from either side (user.groups.add, group.user_set.add)."""
    if not action.startswith("post_") and action != "pre_clear":
        return
    if not reverse:  # instance is a user
        _GROUP_NAMES.changed(instance.pk)
    elif action == "pre_clear":  # group.user_set.clear(): its members, before they go
        _GROUP_NAMES.changed(*instance.user_set.values_list("pk", flat=True))
    elif pk_set:
        _GROUP_NAMES.changed(*pk_set)


def group_changed(sender, instance, created=False, **kwargs):
    """A group renamed (post_save) or about to be deleted (pre_delete): each member's names."""
    if not created:
        _GROUP_NAMES.changed(*instance.user_set.values_list("pk", flat=True))

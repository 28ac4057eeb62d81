"""The three roles are Django groups, created by a data migration."""

AUTHORS = "Authors"
REVIEWERS = "Reviewers"
ADMINS = "Admins"
ALL_ROLES = (AUTHORS, REVIEWERS, ADMINS)


def has_role(user, role: str) -> bool:
    """True if the user is in the group; uses one cached query per request and user."""
    if not user.is_authenticated:
        return False
    if not hasattr(user, "_plangate_roles"):
        user._plangate_roles = set(user.groups.values_list("name", flat=True))
    return role in user._plangate_roles


def is_admin(user) -> bool:
    return user.is_authenticated and (user.is_superuser or has_role(user, ADMINS))


def is_reviewer(user) -> bool:
    return has_role(user, REVIEWERS)

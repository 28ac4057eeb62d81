from .selectors import unread_count


def unread_notifications(request):
    """The unread inbox count for the navigation badge (one COUNT query, lazily)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": lambda: unread_count(user)}

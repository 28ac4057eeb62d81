from accounts import roles

from .selectors import unread_cache_keys, unread_count


def unread_notifications(request):
    """The unread inbox count for the navigation badge (one COUNT query, lazily)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": lambda: unread_count(user)}


def layout_cache_keys(user) -> list[str]:
    """What the layout reads from the cache (the navigation's roles, the unread badge): a page
    reads them ahead with its own keys, in one round trip (core.cache.read_ahead)."""
    return [*roles.cache_keys(user), *unread_cache_keys(user)]

from .roles import is_admin, is_reviewer


def roles(request):
    """The user's roles for the navigation; callables, so a page that shows no role-dependent
    link (the admin's own pages, a JSON error) runs no group query. The query itself runs at
    most once per request (accounts.roles memoises it on the request's user)."""
    user = request.user
    return {
        "user_is_admin": lambda: is_admin(user),
        "user_is_reviewer": lambda: is_reviewer(user),
    }

from .roles import is_admin, is_reviewer


def roles(request):
    user = request.user
    return {
        "user_is_admin": is_admin(user),
        "user_is_reviewer": is_reviewer(user),
    }

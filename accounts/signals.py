from django.contrib.auth import get_user_model

from . import throttle


def count_login_failure(sender, credentials, request=None, **kwargs):
    username = credentials.get(get_user_model().USERNAME_FIELD, "")
    if request is not None and username:
        throttle.record_failure(str(username), request)

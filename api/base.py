"""What every API view shares: no login redirect (the API answers 401 itself), the body limit
checked before anything is read."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from rest_framework.views import APIView

from .errors import PayloadTooLarge


class ApiView(APIView):
    @classmethod
    def as_view(cls, **initkwargs):
        # The site's LoginRequiredMiddleware would redirect to the login page; the API's own
        # authentication answers 401 instead.
        return login_not_required(super().as_view(**initkwargs))

    def initial(self, request, *args, **kwargs):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.PLANGATE_API_MAX_BODY_BYTES:
            raise PayloadTooLarge()
        super().initial(request, *args, **kwargs)

"""``Authorization: Bearer <token>`` with a personal API token (api.models.ApiToken)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from . import services
from .models import ApiToken, hash_token

BAD_TOKEN = "Invalid API token: it is unknown, revoked or expired."


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None  # not ours: the session may authenticate instead
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as 'Authorization: Bearer <token>'.")
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(BAD_TOKEN) from None
        token = (ApiToken.objects.select_related("user")
                 .filter(token_hash=hash_token(raw)).first())
        if token is None or not token.is_active or not token.user.is_active:
            raise exceptions.AuthenticationFailed(BAD_TOKEN)
        services.token_touch(token)
        return token.user, token

    def authenticate_header(self, request):
        """Makes an unauthenticated request a 401 (with this challenge), not a 403."""
        return f'{self.keyword} realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A personal API token (settings page /api/tokens/)."}

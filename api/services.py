"""Writes of personal API tokens: created (the raw token returned once) and revoked, audited."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.roles import is_admin
from audit.log import log
from core.errors import Conflict, NotAllowed, ValidationError

from . import events
from .models import TOKEN_PREFIX, ApiToken, hash_token

#: last_used_at is written at most this often per token: a client polling every 2 s must not
#: turn each poll into a database write.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def _may_manage(actor, user) -> bool:
    return actor is not None and actor.is_authenticated and (actor.pk == user.pk
                                                             or is_admin(actor))


@transaction.atomic
def token_create(*, actor, user, name: str, expires_at: datetime | None = None
                 ) -> tuple[ApiToken, str]:
    """A new token for ``user`` (the actor themself, or an admin acting for them). Returns the
    row and the raw token: this is the only time the raw token exists outside its holder."""
    if not _may_manage(actor, user):
        raise NotAllowed("You can create API tokens only for yourself.")
    if not user.is_active:
        raise ValidationError("This account is inactive; it cannot have API tokens.")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Name the token (e.g. the machine or agent using it)."]})
    if len(name) > 100:
        raise ValidationError({"name": ["Keep the name to 100 characters."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["The expiry must be in the future."]})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 bits of randomness
    token = ApiToken.objects.create(
        user=user, name=name, token_hash=hash_token(raw), hint=raw[:10], expires_at=expires_at
    )
    log(events.TOKEN_CREATED, actor=actor, obj=token,
        payload={"user": user.get_username(), "name": name, "hint": token.hint,
                 "expires_at": expires_at.isoformat() if expires_at else None})
    return token, raw


@transaction.atomic
def token_revoke(*, actor, token: ApiToken) -> ApiToken:
    """Revoke a token at once: the next request made with it is refused (401)."""
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if not _may_manage(actor, token.user):
        raise NotAllowed("You can revoke only your own API tokens.")
    if token.revoked_at is not None:
        raise Conflict("This token is already revoked.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    log(events.TOKEN_REVOKED, actor=actor, obj=token,
        payload={"user": token.user.get_username(), "name": token.name, "hint": token.hint})
    return token


def token_touch(token: ApiToken, *, now: datetime | None = None) -> None:
    """Record that the token was used (bookkeeping, not audited), at most once a minute."""
    now = now or timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now

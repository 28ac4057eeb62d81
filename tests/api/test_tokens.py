"""Personal API tokens: hashed at rest, shown once, expiry, revocation, last use, audit, the
settings page and the token_create command."""

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from api import services
from api.models import ApiToken
from audit.models import AuditEntry
from core.errors import Conflict, NotAllowed, ValidationError
from tests.factories import AuthorFactory

pytestmark = pytest.mark.django_db


def _client(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_only_a_hash_is_stored(author):
    _, raw = services.token_create(actor=author, user=author, name="laptop")
    assert raw.startswith("pgt_") and len(raw) > 40
    stored = ApiToken.objects.get()
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {str(value) for value in ApiToken.objects.values().get().values()}
    assert stored.hint == raw[:10]
    entry = AuditEntry.objects.get(action="token.created")
    assert raw not in str(entry.payload) and entry.payload["name"] == "laptop"


def test_a_token_authenticates_and_records_its_last_use(author):
    token, raw = services.token_create(actor=author, user=author, name="ci")
    assert token.last_used_at is None
    assert _client(raw).get("/api/v1/plans").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_expired_token_is_refused(author):
    token, raw = services.token_create(actor=author, user=author, name="short",
                                       expires_at=timezone.now() + timedelta(hours=1))
    assert _client(raw).get("/api/v1/plans").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _client(raw).get("/api/v1/plans").status_code == 401
    with pytest.raises(ValidationError):
        services.token_create(actor=author, user=author, name="past",
                              expires_at=timezone.now() - timedelta(days=1))


def test_revoked_token_is_refused_and_revocation_is_audited(author):
    token, raw = services.token_create(actor=author, user=author, name="ci")
    services.token_revoke(actor=author, token=token)
    response = _client(raw).get("/api/v1/plans")
    assert response.status_code == 401
    assert AuditEntry.objects.filter(action="token.revoked", object_id=str(token.pk)).exists()
    with pytest.raises(Conflict):
        services.token_revoke(actor=author, token=token)


def test_only_the_owner_or_an_admin_manages_a_token(author, admin_user):
    other = AuthorFactory(username="bob")
    with pytest.raises(NotAllowed):
        services.token_create(actor=other, user=author, name="x")
    token, _ = services.token_create(actor=admin_user, user=author, name="for alice")
    with pytest.raises(NotAllowed):
        services.token_revoke(actor=other, token=token)
    services.token_revoke(actor=admin_user, token=token)


def test_settings_page_shows_a_new_token_once(author_client, author):
    response = author_client.get("/plans/")
    assert 'href="/api/tokens/"' in response.content.decode()
    response = author_client.post("/api/tokens/", {"name": "my agent"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=author)
    raw = response.context["raw_token"]
    assert hashlib.sha256(raw.encode()).hexdigest() == token.token_hash
    assert raw in response.content.decode() and "shown only this once" in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    again = author_client.get("/api/tokens/").content.decode()
    assert raw not in again and "my agent" in again and token.hint in again and "never" in again


def test_settings_page_creates_with_expiry_and_revokes(author_client, author):
    author_client.post("/api/tokens/", {"name": "week", "expires_in_days": "7"})
    token = ApiToken.objects.get(user=author)
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    response = author_client.post(f"/api/tokens/{token.pk}/revoke/", follow=True)
    assert "revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_settings_page_refuses_a_blank_name_and_hides_others_tokens(author_client, author):
    response = author_client.post("/api/tokens/", {"name": ""})
    assert response.status_code == 400 and not ApiToken.objects.exists()
    other = AuthorFactory(username="bob")
    token, _ = services.token_create(actor=other, user=other, name="bob's secret")
    assert "bob&#x27;s secret" not in author_client.get("/api/tokens/").content.decode()
    assert author_client.post(f"/api/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_token_create_command_prints_only_the_token(author):
    out = io.StringIO()
    call_command("token_create", "alice", "--name", "ci", stdout=out)
    raw = out.getvalue().strip()
    assert out.getvalue() == raw + "\n" and raw.startswith("pgt_")
    token = ApiToken.objects.get(user=author)
    assert token.name == "ci" and token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert _client(raw).get("/api/v1/plans").status_code == 200
    with pytest.raises(CommandError, match="No user"):
        call_command("token_create", "nobody", stdout=io.StringIO())

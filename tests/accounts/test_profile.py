"""Every signed-in user has a profile page: name and email through a service, a password
change in the app's layout, both audited (never the password itself)."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts import services
from audit.models import AuditEntry
from core.errors import NotAllowed
from tests.factories import AuthorFactory

pytestmark = pytest.mark.django_db


def test_the_nav_links_to_the_profile(author_client):
    page = author_client.get(reverse("plans:list")).content.decode()
    assert f'href="{reverse("profile")}"' in page


def test_an_author_edits_name_and_email_and_it_is_audited(author_client, author):
    response = author_client.post(reverse("profile"), {
        "first_name": "Alice", "last_name": "Liddell", "email": "alice@wonder.example"})
    assert response.status_code == 302
    author.refresh_from_db()
    assert (author.first_name, author.last_name, author.email) == (
        "Alice", "Liddell", "alice@wonder.example")
    entry = AuditEntry.objects.get(action="account.profile_changed")
    assert entry.actor_id == author.pk and entry.object_id == str(author.pk)
    assert set(entry.payload["fields"]) == {"first_name", "last_name", "email"}
    page = author_client.get(reverse("profile")).content.decode()
    assert "Profile saved." in page and "Alice Liddell" in page


def test_a_bad_email_is_a_form_error_and_nothing_changes(author_client, author):
    before = author.email
    response = author_client.post(reverse("profile"), {"email": "not an email"})
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    author.refresh_from_db()
    assert author.email == before
    assert not AuditEntry.objects.filter(action="account.profile_changed").exists()


def test_an_email_longer_than_the_column_is_a_form_error(author_client, author):
    """Django's EmailField takes 320 characters, User.email 254 (PostgreSQL would fail)."""
    response = author_client.post(reverse("profile"), {"email": "a" * 250 + "@example.com"})
    assert response.status_code == 400
    assert "at most 254 characters" in response.content.decode()
    author.refresh_from_db()
    assert len(author.email) <= 254


def test_no_one_changes_someone_elses_account(author):
    other = AuthorFactory(username="mallory")
    with pytest.raises(NotAllowed):
        services.profile_update(actor=other, user=author, first_name="X", last_name="",
                                email="")


def test_password_change_in_the_app_layout_keeps_the_session(author_client, author):
    page = author_client.get(reverse("password_change")).content.decode()
    assert "css/plangate.css" in page and "Change your password" in page
    response = author_client.post(reverse("password_change"), {
        "old_password": "pw", "new_password1": "a-long-new-passphrase-42",
        "new_password2": "a-long-new-passphrase-42"})
    assert response.status_code == 302 and response["Location"] == reverse("profile")
    author.refresh_from_db()
    assert author.check_password("a-long-new-passphrase-42")
    assert author_client.get(reverse("profile")).status_code == 200  # still signed in
    entry = AuditEntry.objects.get(action="account.password_changed")
    assert entry.payload == {"fields": ["password"]}
    assert "passphrase" not in str(entry.payload) + entry.object_repr


def test_a_wrong_old_password_changes_nothing(author_client, author):
    response = author_client.post(reverse("password_change"), {
        "old_password": "wrong", "new_password1": "a-long-new-passphrase-42",
        "new_password2": "a-long-new-passphrase-42"})
    assert response.status_code == 200
    assert "incorrectly" in response.content.decode()
    author.refresh_from_db()
    assert author.check_password("pw")
    assert not AuditEntry.objects.filter(action="account.password_changed").exists()


def test_anonymous_is_sent_to_log_in():
    response = Client().get(reverse("profile"))
    assert response.status_code == 302 and reverse("login") in response["Location"]

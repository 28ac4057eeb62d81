"""Password guessing is slowed down: too many failures lock that client out for that username,
or the client altogether; nobody can lock another person out from elsewhere."""

import pytest

from audit.models import AuditEntry
from tests.factories import AuthorFactory

pytestmark = pytest.mark.django_db


def attempt(client, username, password, ip="198.51.100.7"):
    client.logout()
    return client.post("/accounts/login/", {"username": username, "password": password},
                       REMOTE_ADDR=ip)


def test_a_username_is_locked_after_five_failures_from_one_client_even_with_the_right_password(
    client,
):
    AuthorFactory(username="carol", password="right-password")
    for _ in range(5):
        assert attempt(client, "carol", "wrong").status_code == 200
    response = attempt(client, "carol", "right-password")
    assert response.status_code == 429
    assert "Too many failed login attempts. Try again in 15 minutes." in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The refused attempts never reached the password check, so they add nothing to the trail.
    assert AuditEntry.objects.filter(action="auth.login_failed").count() == 5


def test_other_users_and_addresses_are_not_affected(client):
    AuthorFactory(username="carol", password="right-password")
    AuthorFactory(username="dave", password="dave-password")
    for _ in range(5):
        attempt(client, "carol", "wrong")
    assert attempt(client, "dave", "dave-password").status_code == 302


def test_an_address_is_locked_after_twenty_failures_across_usernames(client):
    AuthorFactory(username="erin", password="erin-password")
    for n in range(20):
        attempt(client, f"nobody{n}", "guess", ip="203.0.113.66")
    assert attempt(client, "erin", "erin-password", ip="203.0.113.66").status_code == 429
    assert attempt(client, "erin", "erin-password", ip="203.0.113.67").status_code == 302


def test_nobody_can_lock_someone_out_from_elsewhere(client):
    """Five wrong passwords for carol from an attacker's address lock that address out for
    carol; carol herself, from her own address, still signs in (finding 10)."""
    AuthorFactory(username="carol", password="right-password")
    for _ in range(5):
        attempt(client, "carol", "wrong", ip="203.0.113.9")
    assert attempt(client, "carol", "right-password", ip="203.0.113.9").status_code == 429
    assert attempt(client, "carol", "right-password", ip="198.51.100.7").status_code == 302


class _BrokenCache:
    """A cache whose server is down: every call raises, as django's RedisCache does."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        return fail


def test_a_cache_outage_lets_people_sign_in_and_says_so(client, monkeypatch, caplog):
    from accounts import throttle

    AuthorFactory(username="carol", password="right-password")
    monkeypatch.setattr(throttle, "cache", _BrokenCache())
    assert attempt(client, "carol", "wrong").status_code == 200
    assert attempt(client, "carol", "right-password").status_code == 302
    assert "Login throttle unavailable" in caplog.text


def test_the_lockout_ends_with_its_window(client, settings):
    import time

    settings.PLANGATE_LOGIN_LOCKOUT_SECONDS = 1
    AuthorFactory(username="carol", password="right-password")
    for _ in range(5):
        attempt(client, "carol", "wrong")
    assert attempt(client, "carol", "right-password").status_code == 429
    time.sleep(1.2)
    assert attempt(client, "carol", "right-password").status_code == 302


def test_failures_below_the_limit_do_not_lock(client):
    AuthorFactory(username="carol", password="right-password")
    for _ in range(4):
        attempt(client, "carol", "wrong")
    assert attempt(client, "carol", "right-password").status_code == 302

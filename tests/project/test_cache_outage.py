"""The cache is an optimisation: with Redis down every page still renders, and signing in still
works (hardening finding 6). The cache here is the app's Redis backend pointed at a port
where nothing listens, so every cache call fails the way it does when Redis is stopped."""

import pytest

from reviews import services
from tests.api.conftest import token_client
from tests.reviewkit import submitted_plan

pytestmark = pytest.mark.django_db

NOTHING_LISTENS = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {"default": {
        "BACKEND": "core.cache_backend.RedisCache", "LOCATION": NOTHING_LISTENS,
        "OPTIONS": {"socket_connect_timeout": 0.2},
    }}


def test_plan_review_and_revision_pages_render_without_the_cache(
    client, author, reviewer, redis_down, caplog
):
    plan = submitted_plan(author, title="Cache outage")
    review = services.review_start(actor=reviewer, plan=plan)
    client.force_login(reviewer)
    for url in (plan.get_absolute_url(), f"/reviews/{review.pk}/",
                f"/plans/{plan.pk}/revisions/1/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Cache outage" in response.content.decode()
    assert "Cache unavailable" in caplog.text


def test_signing_in_works_without_the_cache(client, author, redis_down):
    response = client.post("/accounts/login/", {"username": "alice", "password": "x"})
    assert response.status_code == 200  # a wrong password: the form again, not a 500
    author.set_password("right")
    author.save()
    response = client.post("/accounts/login/", {"username": "alice", "password": "right"})
    assert response.status_code == 302


def test_the_api_answers_without_the_cache(author, redis_down, caplog):
    """The API's per-token rate limit keeps its counters in the cache; with Redis down it lets
    requests through (and logs it) instead of answering every API call with a 500. Found by
    bench/faults.py: 114 of 351 requests were 500s while Redis was down."""
    plan = submitted_plan(author, title="API without cache")
    client = token_client(author)
    assert client.get(f"/api/v1/plans/{plan.pk}").status_code == 200
    assert client.get("/api/v1/plans?mine=true").status_code == 200
    assert "API rate limit unavailable" in caplog.text


def test_the_navigation_is_right_without_the_cache(client, author, redis_down,
                                                   django_capture_on_commit_callbacks):
    """Roles and the unread badge are shared through the cache; with it down they are read from
    the database on each page (and a change shows at once all the same)."""
    from django.contrib.auth.models import Group

    from accounts.roles import ADMINS
    from notifications.models import Notification

    client.force_login(author)
    for _ in range(2):
        page = client.get("/notifications/").content.decode()
        assert 'href="/audit/"' not in page and "unread" not in page
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.get(name=ADMINS).user_set.add(author)
        Notification.objects.create(recipient=author, event="plan.submitted", title="Look")
    page = client.get("/notifications/").content.decode()
    assert 'href="/audit/"' in page and 'aria-label="1 unread"' in page
    assert client.get("/audit/").status_code == 200

"""The audit list's "N entries" is counted incrementally (audit.selectors.count_filtered: the
count up to a known entry, plus the entries after it) and stays exact: a new entry counts on
the next view, every filter has its own count, a trail the cache did not count (a restored
database) and a burst of entries are counted in full. The page's queries do not grow with
the trail."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit import selectors
from audit.log import log
from audit.models import AuditEntry
from plans.services import plan_create
from tests.factories import AuthorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def shown_count(response) -> int:
    return int(re.search(r"(\d+) entr(?:y|ies), newest first", response.content.decode())[1])


def test_a_new_entry_counts_on_the_next_view(admin_client, author):
    plan = plan_create(actor=author, title="Alpha")
    url = reverse("audit:list")
    before = shown_count(admin_client.get(url))
    assert before == AuditEntry.objects.count()
    log("comment.posted", actor=author, obj=plan, plan=plan, payload={"body": "hi"})
    response = admin_client.get(url)
    assert shown_count(response) == before + 1
    assert f"#{AuditEntry.objects.latest('id').pk}</span>" in response.content.decode()


def test_each_filter_counts_its_own_entries(admin_client, author):
    bob = AuthorFactory(username="bob")
    plan_create(actor=author, title="Alpha")
    plan_create(actor=bob, title="Beta")
    url = reverse("audit:list")
    everything, bobs = shown_count(admin_client.get(url)), shown_count(
        admin_client.get(url, {"actor": "bob"}))
    assert bobs == AuditEntry.objects.filter(actor_repr="bob").count() < everything
    plan_create(actor=author, title="Gamma")  # not bob's
    assert shown_count(admin_client.get(url, {"actor": "bob"})) == bobs
    assert shown_count(admin_client.get(url)) == AuditEntry.objects.count() > everything


def test_a_trail_the_cache_did_not_count_is_recounted(author):
    plan_create(actor=author, title="Alpha")
    top = AuditEntry.objects.latest("id")
    # As after restoring a backup: the cache remembers an entry N that is not this one.
    cache.set(selectors.count_key({}), (top.pk, "f" * 64, 999))
    assert selectors.count_filtered().count == AuditEntry.objects.count()
    cache.set(selectors.count_key({}), (top.pk + 50, top.entry_hash, 999))  # N is gone
    assert selectors.count_filtered().count == AuditEntry.objects.count()


def test_a_burst_of_entries_is_counted_in_full(author):
    plan = plan_create(actor=author, title="Alpha")
    assert selectors.count_filtered().count == AuditEntry.objects.count()
    for n in range(selectors._NEWER_AT_MOST + 5):
        log("comment.posted", actor=author, obj=plan, plan=plan, payload={"n": n})
    assert selectors.count_filtered().count == AuditEntry.objects.count()
    log("comment.posted", actor=author, obj=plan, plan=plan, payload={"n": "one more"})
    assert selectors.count_filtered().count == AuditEntry.objects.count()


def test_the_list_runs_the_same_queries_however_long_the_trail(admin_client, author):
    plan = plan_create(actor=author, title="Alpha")
    url = reverse("audit:list")
    admin_client.get(url)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url).status_code == 200
        return len(captured)

    short = queries()
    for n in range(80):
        log("comment.posted", actor=author, obj=plan, plan=plan, payload={"n": n})
    admin_client.get(url)  # counts the 80 new entries
    assert queries() == short


def test_without_the_cache_the_list_counts_in_full(admin_client, author, settings, caplog):
    settings.CACHES = {"default": {
        "BACKEND": "core.cache_backend.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens: every cache call fails
        "OPTIONS": {"socket_connect_timeout": 0.2},
    }}
    plan_create(actor=author, title="Alpha")
    response = admin_client.get(reverse("audit:list"))
    assert response.status_code == 200
    assert shown_count(response) == AuditEntry.objects.count()
    assert "Cache unavailable" in caplog.text


def listed(response) -> list[int]:
    page = response.content.decode()
    return [int(n) for n in re.findall(r'<span class="muted">#(\d+)</span>', page)]


def test_a_page_shown_again_reads_no_entries_and_a_new_entry_shows_at_once(admin_client, author):
    plan = plan_create(actor=author, title="Alpha")
    for n in range(60):
        log("comment.posted", actor=author, obj=plan, plan=plan, payload={"n": n})
    url = reverse("audit:list")
    newest = list(AuditEntry.objects.order_by("-id").values_list("id", flat=True))
    assert listed(admin_client.get(url)) == newest[:50]
    assert listed(admin_client.get(url, {"page": 2})) == newest[50:100]
    with CaptureQueriesContext(connection) as captured:
        assert listed(admin_client.get(url, {"page": 2})) == newest[50:100]
    assert not any("payload" in q["sql"] for q in captured)  # the rows came from the cache
    entry = log("comment.posted", actor=author, obj=plan, plan=plan, payload={"n": "new"})
    assert listed(admin_client.get(url)) == [entry.pk, *newest[:49]]
    assert listed(admin_client.get(url, {"page": 2})) == newest[49:99]


def test_each_filter_shows_its_own_values_and_errors(admin_client, author):
    plan_create(actor=author, title="Alpha")
    url = reverse("audit:list")
    assert 'value="bob"' in admin_client.get(url, {"actor": "bob"}).content.decode()
    page = admin_client.get(url, {"actor": "carol"}).content.decode()
    assert 'value="carol"' in page and 'value="bob"' not in page
    assert admin_client.get(url, {"plan": "0"}).status_code == 400
    page = admin_client.get(url, {"plan": "0"}).content.decode()
    assert 'class="field-error"' in page and 'value="0"' in page
    assert 'class="field-error"' not in admin_client.get(url).content.decode()

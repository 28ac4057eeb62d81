"""A plan page viewed again (nothing changed) reads the shared cache in one round trip: its own
entries, the layout's and its panels' (plans/panels.py cache_keys) read ahead together."""

from unittest import mock

import pytest
from django.core.cache import cache

from tests.reviewkit import submitted_plan

pytestmark = pytest.mark.django_db


def _round_trips(client, url) -> list[list[str]]:
    """The keys of each read of the cache while the page is served: [keys of one get_many] or
    [key] for a get. (A local memory cache's get_many asks its own get for each key: those
    are the get_many's, not reads of their own.)"""
    reads, inside = [], []

    def get_many(keys, *args, **kwargs):
        reads.append(list(keys))
        inside.append(True)
        try:
            return real_get_many(keys, *args, **kwargs)
        finally:
            inside.pop()

    def get(key, *args, **kwargs):
        if not inside:
            reads.append([key])
        return real_get(key, *args, **kwargs)

    real_get_many, real_get = cache.get_many, cache.get
    with mock.patch.object(cache, "get_many", get_many), mock.patch.object(cache, "get", get):
        assert client.get(url).status_code == 200
    return reads


@pytest.mark.parametrize("viewer", ["author", "reviewer"])
def test_a_plan_page_viewed_again_reads_the_cache_once(client, author, reviewer, viewer,
                                                       committing):
    plan = committing(lambda: submitted_plan(author, title="Round trips"))
    client.force_login({"author": author, "reviewer": reviewer}[viewer])
    url = plan.get_absolute_url()
    client.get(url)
    client.get(url)  # every shared value drawn and kept
    assert len(_round_trips(client, url)) == 1

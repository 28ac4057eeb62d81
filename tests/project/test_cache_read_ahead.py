"""core.cache.read_ahead: a page fetches what its parts will read in one round trip, and is
never answered from it with a value older than its own writes, nor in the next request."""

from unittest import mock

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started

from core import cache as shared_cache


def test_reads_ahead_once_then_answers_each_key_once():
    cache.set_many({"ra:a": 1, "ra:b": 2})
    shared_cache.read_ahead(["ra:a", "ra:b", "ra:missing"])
    with mock.patch.object(cache, "get_many", wraps=cache.get_many) as asked:
        assert shared_cache.get_many(["ra:a", "ra:missing"]) == {"ra:a": 1}
        assert shared_cache.get("ra:b") == 2
        assert not asked.called  # all read ahead
        cache.set("ra:a", 10)
        assert shared_cache.get("ra:a") == 10  # answered once: asked again
        assert asked.call_count == 1


def test_a_write_drops_what_was_read_ahead():
    cache.set("ra:c", "old")
    shared_cache.read_ahead(["ra:c"])
    shared_cache.set("ra:c", "new", None)
    assert shared_cache.get("ra:c") == "new"


@pytest.mark.django_db  # the request signals' receivers close old connections
def test_what_was_read_ahead_is_not_served_to_the_next_request():
    cache.set("ra:d", "old")
    shared_cache.read_ahead(["ra:d"])
    request_finished.send(sender=None)
    request_started.send(sender=None)
    cache.set("ra:d", "new")  # by another process
    assert shared_cache.get("ra:d") == "new"

"""core.cache.SharedValues: one shared value per key, each with its own token, so a change of
one key's rows is read afresh at once without reloading any other key's."""

from unittest import mock

import pytest
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from core.cache import SharedValues

pytestmark = pytest.mark.django_db(transaction=True)  # real commits: the on-commit tokens run


@pytest.fixture
def shared():
    rows = {1: "one", 2: "two"}
    loads = []

    def load(key):
        loads.append(key)
        return rows[key]

    values = SharedValues("test-per-key", load)
    values.rows, values.loads = rows, loads
    return values


def test_each_key_is_loaded_once_then_shared(shared):
    assert [shared.get(1), shared.get(2), shared.get(1), shared.get(2)] == ["one", "two"] * 2
    assert shared.loads == [1, 2]


def test_a_committed_change_reloads_that_key_only(shared):
    shared.get(1), shared.get(2)
    with transaction.atomic():
        shared.rows[1] = "uno"
        shared.changed(1)
        assert shared.get(1) == "uno"  # the changing transaction reads its own change
        assert cache.get(shared._keys(1)[0])[1] == "one"  # nothing shared yet
    assert shared.get(1) == "uno" and shared.get(2) == "two"
    assert shared.loads == [1, 2, 1, 1]


def test_a_value_loaded_before_a_change_and_stored_after_it_is_never_served(shared):
    shared.get(1)
    old_token = cache.get(shared._keys(1)[1])
    with transaction.atomic():
        shared.rows[1] = "uno"
        shared.changed(1)
    # Another process read the old rows just before that commit and stores them only now.
    cache.set(shared._keys(1)[0], (old_token, "one"))
    assert shared.get(1) == "uno"


def test_a_change_rolled_back_changes_nothing(shared):
    shared.get(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        shared.changed(1)
        raise RuntimeError
    assert shared.get(1) == "one" and shared.loads == [1]


def test_falsy_values_are_shared_too(shared):
    shared.rows[3] = 0
    assert shared.get(3) == 0 and shared.get(3) == 0
    assert shared.loads == [3]


def test_another_database_on_the_same_cache_never_reads_these_values(shared):
    assert shared.get(1) == "one"
    settings_dict = connections[DEFAULT_DB_ALIAS].settings_dict
    with mock.patch.dict(settings_dict, {"NAME": f"{settings_dict['NAME']}-other-site"}):
        shared.rows[1] = "the other site's"
        assert shared.get(1) == "the other site's"  # its own, not this database's
    assert shared.get(1) == "one"

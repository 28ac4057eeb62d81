"""The user and group changelists answer an id no row can have (too big for the id column, or a
forged action selection) with Django's "bad lookup" page or an empty list, never a 500: SQLite's
driver cannot even send an int past 64 bits (OverflowError)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"


@pytest.fixture
def superuser_client(client):
    client.raise_request_exception = False  # a 500 is the answer under test, not an exception
    client.force_login(get_user_model().objects.create_superuser("root"))
    return client


def _changelist(model) -> str:
    return reverse(f"admin:auth_{model._meta.model_name}_changelist")


@pytest.mark.parametrize("model", [get_user_model(), Group], ids=["users", "groups"])
@pytest.mark.parametrize("lookup", ["id__in", "id", "id__exact"])
def test_a_huge_id_lists_no_row(superuser_client, model, lookup):
    model.objects.create(**{"name" if model is Group else "username": "zeta"})
    for value in (HUGE, f"1,{HUGE}") if lookup == "id__in" else (HUGE,):
        response = superuser_client.get(f"{_changelist(model)}?{lookup}={value}")
        # SQLite: a bad lookup (Django's "?e=1" redirect); PostgreSQL: a list without the row.
        bad_lookup = (response.status_code == 302
                      and response["Location"] == f"{_changelist(model)}?e=1")
        empty = response.status_code == 200 and "zeta" not in response.content.decode()
        assert bad_lookup or empty, (value, response.status_code)


@pytest.mark.parametrize("selected", [HUGE, "abc"])
def test_a_forged_group_selection_changes_nothing(superuser_client, selected):
    team = Group.objects.create(name="Team")
    response = superuser_client.post(_changelist(Group), {
        "action": "delete_selected", "_selected_action": [selected, team.pk], "post": "yes",
    }, follow=True)
    assert response.status_code == 200
    assert "Items must be selected in order to perform actions" in response.content.decode()
    assert Group.objects.filter(pk=team.pk).exists()

"""Unticking (or ticking) Active on Admin → Users is in the audit trail, as group changes are:
one entry naming the user and the admin who did it, committed with the change itself."""

import pytest
from django.contrib.auth.models import Group

from accounts.roles import REVIEWERS
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def change_url(user) -> str:
    return f"/admin/auth/user/{user.pk}/change/"


def save_form(client, user, **changes):
    """POST the user's change form as the admin page shows it, with ``changes`` made."""
    form = client.get(change_url(user)).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        if name in ("last_login", "date_joined"):  # split into date and time inputs
            if value:
                data[f"{name}_0"], data[f"{name}_1"] = value.strftime("%Y-%m-%d %H:%M:%S").split()
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)  # an unticked box is not posted
        else:
            data[name] = "on" if value is True else value
    response = client.post(change_url(user), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()


def entries(action):
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def test_deactivating_a_user_is_audited_naming_the_user_and_the_admin(admin_client, admin_user,
                                                                      author):
    save_form(admin_client, author, is_active=False)
    assert author.is_active is False
    [entry] = entries("account.deactivated")
    assert (entry.actor, entry.actor_repr) == (admin_user, "ada")
    assert (entry.object_type, entry.object_id, entry.object_repr) == (
        "auth.user", str(author.pk), "alice")
    assert entries("account.activated") == []


def test_activating_a_user_again_is_audited(admin_client, admin_user, author):
    author.is_active = False
    author.save()
    save_form(admin_client, author, is_active=True)
    assert author.is_active is True
    [entry] = entries("account.activated")
    assert (entry.actor, entry.object_id) == (admin_user, str(author.pk))
    assert entries("account.deactivated") == []


def test_saving_without_changing_active_writes_no_such_entry(admin_client, author):
    reviewers = Group.objects.get(name=REVIEWERS)
    added_before = len(entries("group.member_added"))
    save_form(admin_client, author, first_name="Alice",
              groups=[g.pk for g in author.groups.all()] + [reviewers.pk])
    assert author.first_name == "Alice" and author.is_active is True
    assert entries("account.deactivated") == [] and entries("account.activated") == []
    # The change that was made is audited as before.
    assert len(entries("group.member_added")) == added_before + 1


def test_the_entry_rolls_back_with_a_save_that_fails(admin_client, author, monkeypatch):
    """The entry is written in the save's transaction: when the request fails after it, neither
    the deactivation nor its entry stays."""
    from accounts import services

    record = services.account_active_changed

    def record_then_fail(**kwargs):
        record(**kwargs)
        raise RuntimeError("the save failed after the entry was written")

    monkeypatch.setattr(services, "account_active_changed", record_then_fail)
    with pytest.raises(RuntimeError):
        save_form(admin_client, author, is_active=False)
    author.refresh_from_db()
    assert author.is_active is True
    assert entries("account.deactivated") == []

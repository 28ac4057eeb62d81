"""The notification admin writes nothing behind the services' backs: outbox rows cannot be
deleted (retry, audited, is the one action), and preferences are read-only (each user sets
their own on the profile page)."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from notifications.models import Channel, NotificationPreference, OutboxMessage, OutboxStatus
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["admins_group", "superuser"])
def staff(request, db):
    return AdminFactory(username="ada", is_superuser=request.param == "superuser")


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def outbox_row(recipient) -> OutboxMessage:
    return OutboxMessage.objects.create(event="plan.submitted", channel=Channel.EMAIL,
                                        recipient=recipient, subject="Hello",
                                        status=OutboxStatus.FAILED)


def test_outbox_rows_cannot_be_deleted_in_admin(staff_client, staff, author):
    row = outbox_row(author)
    model_admin = admin.site._registry[OutboxMessage]
    request = RequestFactory().get("/")
    request.user = staff
    assert not model_admin.has_delete_permission(request, row)
    assert "delete_selected" not in model_admin.get_actions(request)
    assert "retry_selected" in model_admin.get_actions(request)

    page = staff_client.get(url(OutboxMessage, "changelist"))
    assert page.status_code == 200 and 'value="delete_selected"' not in page.content.decode()
    assert staff_client.get(url(OutboxMessage, "delete", row.pk)).status_code == 403
    assert staff_client.post(url(OutboxMessage, "delete", row.pk),
                             {"post": "yes"}).status_code == 403
    response = staff_client.post(url(OutboxMessage, "changelist"), {
        "action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})
    assert response.status_code == 302
    assert OutboxMessage.objects.filter(pk=row.pk).exists()


def test_outbox_retry_still_works(staff_client, author):
    row = outbox_row(author)
    response = staff_client.post(url(OutboxMessage, "changelist"), {
        "action": "retry_selected", "index": "0", "_selected_action": [row.pk]}, follow=True)
    assert "Queued 1 notification(s)" in response.content.decode()


def test_preferences_are_read_only_in_admin(staff_client, author):
    pref = NotificationPreference.objects.create(user=author, event="plan.submitted",
                                                 email=True, inbox=True)
    assert staff_client.get(url(NotificationPreference, "changelist")).status_code == 200
    assert staff_client.get(url(NotificationPreference, "change", pref.pk)).status_code == 200
    assert staff_client.get(url(NotificationPreference, "add")).status_code == 403
    staff_client.post(url(NotificationPreference, "change", pref.pk), {
        "user": author.pk, "event": "plan.submitted", "email": "", "inbox": ""})
    created = staff_client.post(url(NotificationPreference, "add"), {
        "user": author.pk, "event": "no.such.event", "email": "", "inbox": ""})
    assert created.status_code == 403
    assert staff_client.post(url(NotificationPreference, "delete", pref.pk),
                             {"post": "yes"}).status_code == 403
    staff_client.post(url(NotificationPreference, "changelist"), {
        "action": "delete_selected", "_selected_action": [pref.pk], "post": "yes"})
    pref.refresh_from_db()
    assert (pref.email, pref.inbox) == (True, True)
    assert list(NotificationPreference.objects.values_list("event", flat=True)) == [
        "plan.submitted"]

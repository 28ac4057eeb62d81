"""A notification's "open" link marks it read only when the user opens it as a page: a comment's
``<img src="/notifications/25/open/">`` makes the reader's browser GET the same URL (as an image),
and that must not mark someone else's notification read behind their back."""

import pytest
from django.urls import reverse

from notifications.models import Notification

pytestmark = pytest.mark.django_db


def _item(user):
    return Notification.objects.create(recipient=user, event="plan.submitted", title="Look",
                                       url="/plans/1/")


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Dest": "image", "Sec-Fetch-Mode": "no-cors"},  # <img src>
    {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Mode": "navigate"},  # <iframe src>
    {"Sec-Fetch-Dest": "empty", "Sec-Fetch-Mode": "cors"},  # fetch()
])  # fmt: skip
def test_loading_the_link_as_a_subresource_leaves_it_unread(client, reviewer, headers):
    item = _item(reviewer)
    client.force_login(reviewer)
    client.get(reverse("notifications:open", args=[item.pk]), headers=headers)
    item.refresh_from_db()
    assert item.read_at is None
    inbox = client.get(reverse("notifications:inbox")).content.decode()
    assert 'aria-label="1 unread"' in inbox


def test_clicking_the_link_marks_it_read_and_goes_there(client, reviewer):
    item = _item(reviewer)
    client.force_login(reviewer)
    response = client.get(reverse("notifications:open", args=[item.pk]), headers={
        "Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-User": "?1"})
    assert response.status_code == 302 and response["Location"] == "/plans/1/"
    item.refresh_from_db()
    assert item.read_at is not None

"""A notification's "open" link marks it read only when the user opens it from this site (or
types or bookmarks it): a link on another site makes the reader's browser navigate to the same
URL, and that must not mark their notification read behind their back. It still goes there."""

import pytest
from django.urls import reverse

from notifications.models import Notification

pytestmark = pytest.mark.django_db

NAVIGATION = {"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-User": "?1"}


def _open(client, user, **headers):
    item = Notification.objects.create(recipient=user, event="plan.submitted", title="Look",
                                       url="/plans/1/")
    client.force_login(user)
    response = client.get(reverse("notifications:open", args=[item.pk]), headers=headers)
    assert response.status_code == 302 and response["Location"] == "/plans/1/"
    item.refresh_from_db()
    return item


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_a_link_on_another_site_goes_there_but_leaves_it_unread(client, reviewer, site):
    item = _open(client, reviewer, **NAVIGATION, **{"Sec-Fetch-Site": site})
    assert item.read_at is None
    inbox = client.get(reverse("notifications:inbox")).content.decode()
    assert 'aria-label="1 unread"' in inbox


@pytest.mark.parametrize("site", ["same-origin", "none"])  # the inbox's link; typed/bookmarked
def test_opening_it_from_this_site_marks_it_read(client, reviewer, site):
    assert _open(client, reviewer, **NAVIGATION, **{"Sec-Fetch-Site": site}).read_at is not None


def test_a_browser_without_fetch_metadata_still_marks_it_read(client, reviewer):
    assert _open(client, reviewer).read_at is not None

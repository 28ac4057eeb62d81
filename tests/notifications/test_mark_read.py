"""Opening a notification from the inbox marks it read and goes where it points, on this site
only."""

import pytest
from django.urls import reverse

from notifications.models import Notification

pytestmark = pytest.mark.django_db


def _item(user, url="/plans/1/"):
    return Notification.objects.create(recipient=user, event="plan.submitted", title="Look",
                                       url=url)


def test_the_inbox_link_opens_through_a_view_that_marks_it_read(client, reviewer):
    item = _item(reviewer)
    client.force_login(reviewer)
    page = client.get(reverse("notifications:inbox")).content.decode()
    open_url = reverse("notifications:open", args=[item.pk])
    assert f'href="{open_url}"' in page
    response = client.get(open_url)
    assert response.status_code == 302 and response["Location"] == "/plans/1/"
    item.refresh_from_db()
    assert item.read_at is not None
    inbox = client.get(reverse("notifications:inbox")).content.decode()
    assert 'aria-label="1 unread"' not in inbox


@pytest.mark.parametrize("url", ["https://evil.example/x", "//evil.example/x", "javascript:x",
                                 ""])
def test_opening_never_redirects_off_site(client, reviewer, url):
    item = _item(reviewer, url=url)
    client.force_login(reviewer)
    response = client.get(reverse("notifications:open", args=[item.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("notifications:inbox")


def test_someone_elses_notification_is_a_404_and_stays_unread(client, reviewer, author):
    theirs = _item(author)
    client.force_login(reviewer)
    assert client.get(reverse("notifications:open", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None

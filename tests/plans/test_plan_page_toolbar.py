"""The plan page's toolbar (status, Edit or why not, export, revisions, archive, delete) is laid
out once and kept under everything it shows (plans/views.py _toolbar): a view after no change
lays nothing out, each viewer gets what they may do, and a change shows at once. Its forms carry
the page's own CSRF token."""

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from accounts.roles import ADMINS
from core.cache import RecentValues
from plans import services, views
from plans.models import Plan
from tests.factories import ReviewerFactory, UserFactory, ready_plan

pytestmark = pytest.mark.django_db
committed = pytest.mark.django_db(transaction=True)  # real commits: the on-commit tokens run

TOOLBAR = "plans/includes/plan_toolbar.html"


@pytest.fixture(autouse=True)
def _own_recent_toolbars(monkeypatch):
    """Each test starts with none kept in this process (a plan's id is taken again after a
    rollback: an earlier test's toolbar, just as right, would be served)."""
    monkeypatch.setattr(views, "recent_toolbars", RecentValues(size=1024))


def view(client, plan) -> tuple[str, bool]:
    """(the page's toolbar, whether it was laid out for this view)."""
    response = client.get(reverse("plans:detail", args=[plan.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    toolbar = html.split('<div class="toolbar plan-toolbar">')[1].split("\n</div>")[0]
    return toolbar, TOOLBAR in [t.name for t in response.templates]


def kept(client, plan) -> str:
    view(client, plan)
    toolbar, laid_out = view(client, plan)
    assert not laid_out
    return toolbar


def test_a_view_after_no_change_lays_the_toolbar_out_from_the_cache(author_client, author):
    plan = ready_plan(author=author)
    first, laid_out = view(author_client, plan)
    assert laid_out and ">Edit</a>" in first and "Delete draft" in first
    second, laid_out = view(author_client, plan)
    assert not laid_out and ">Edit</a>" in second and "Delete draft" in second


def test_each_viewer_sees_what_they_may_do(client, author_client, author):
    plan = ready_plan(author=author)
    assert ">Edit</a>" in kept(author_client, plan)
    client.force_login(ReviewerFactory())
    toolbar, laid_out = view(client, plan)
    assert laid_out and ">Edit</a>" not in toolbar and "Delete draft" not in toolbar
    assert "Archive" not in toolbar and "Export Markdown" in toolbar


def test_a_submission_shows_at_once(author_client, author):
    plan = ready_plan(author=author)
    assert ">Edit</a>" in kept(author_client, plan)
    services.plan_submit(actor=author, plan=plan)
    toolbar, laid_out = view(author_client, plan)
    assert laid_out and "Pending review" in toolbar and ">Edit</a>" not in toolbar
    assert "data-edit-refusal" in toolbar and "Delete draft" not in toolbar


def test_archiving_shows_at_once(author_client, author):
    plan = ready_plan(author=author)
    assert "Archived" not in kept(author_client, plan)
    services.plan_archive(actor=author, plan=Plan.objects.get(pk=plan.pk))
    toolbar, laid_out = view(author_client, plan)
    assert laid_out and 'status-archived">Archived' in toolbar and "Unarchive" in toolbar
    services.plan_unarchive(actor=author, plan=Plan.objects.get(pk=plan.pk))
    toolbar, _ = view(author_client, plan)
    assert "status-archived" not in toolbar and "Unarchive" not in toolbar


@committed
def test_a_new_admin_sees_the_admins_controls_at_once(client, author):
    plan = ready_plan(author=author)
    user = UserFactory()
    client.force_login(user)
    assert "Archive" not in kept(client, plan)
    Group.objects.get_or_create(name=ADMINS)[0].user_set.add(user)
    toolbar, laid_out = view(client, plan)
    assert laid_out and ">Edit</a>" in toolbar and "Archive" in toolbar


def test_its_forms_carry_the_pages_csrf_token(author):
    plan = ready_plan(author=author)
    client = Client(enforce_csrf_checks=True)
    client.force_login(author)
    kept(client, plan)
    html = client.get(reverse("plans:detail", args=[plan.pk])).content.decode()
    page_token = re.search(r'"X-CSRFToken": "([A-Za-z0-9]{64})"', html)[1]
    toolbar = html.split('<div class="toolbar plan-toolbar">')[1].split("\n</div>")[0]
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]*)"', toolbar)
    assert tokens and set(tokens) == {page_token}
    # A token this client's cookie takes: the delete form posts (CSRF checked).
    response = client.post(reverse("plans:delete", args=[plan.pk]),
                           {"csrfmiddlewaretoken": tokens[0]})
    assert response.status_code == 302 and not Plan.objects.filter(pk=plan.pk).exists()

"""Wording: statuses read as words in a sentence, help text has no Markdown asterisks, a
person is named once (full name, else username), the admin's plurals are English."""

import pytest
from django.urls import reverse

from accounts.display import display_name
from notifications.models import ReminderSent
from plans.forms import PlanForm
from plans.models import PlanStatus, status_phrase
from plans.services import edit_refusal_reason, plan_create
from tests.factories import AuthorFactory


@pytest.mark.parametrize("status", list(PlanStatus))
def test_every_status_reads_in_a_sentence(status):
    sentence = f"The plan {status_phrase(status)}."
    assert "is needs" not in sentence and "is pending review" not in sentence
    assert "_" not in sentence and status.value not in sentence


def test_status_phrases_read_right():
    assert status_phrase(PlanStatus.NEEDS_REVISION) == "needs revision"
    assert status_phrase(PlanStatus.APPROVED) == "is approved"
    assert status_phrase(PlanStatus.PENDING_REVIEW) == "is waiting for review"


@pytest.mark.django_db
def test_edit_refusal_of_a_plan_under_review_reads_right(author):
    from tests.reviewkit import submitted_plan

    plan = submitted_plan(author)
    assert edit_refusal_reason(plan, author).startswith("This plan is waiting for review;")


@pytest.mark.django_db
def test_help_texts_have_no_markdown_asterisks():
    form = PlanForm()
    for name, field in form.fields.items():
        assert "*" not in str(field.help_text), name
    assert "“Created:”" in str(form.fields["created_on"].help_text)


@pytest.mark.django_db
def test_admin_plural_is_reminders_sent(admin_client):
    assert ReminderSent._meta.verbose_name_plural == "reminders sent"
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "Reminders sent" in page and "Reminder sents" not in page


@pytest.mark.django_db
def test_one_display_name_per_person(client):
    named = AuthorFactory(username="ann", first_name="Ann", last_name="Lee")
    bare = AuthorFactory(username="bo", first_name="", last_name="")
    assert display_name(named) == "Ann Lee" and display_name(bare) == "bo"
    plan_create(actor=named, title="Named plan")
    client.force_login(bare)
    page = client.get(reverse("plans:list")).content.decode()
    assert "Ann Lee" in page
    profile_link = ('<a class="username" href="/accounts/profile/" '
                    'title="Your profile and password">')
    assert f"{profile_link}bo</a>" in page

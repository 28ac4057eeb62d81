"""A comment or concern on a section is on one of its revision's own sections: the service
refuses any other title (naming the ones the revision has) wherever the request comes from, the
browser's forms offer exactly the revision's sections, and a title is stored as the revision
spells it."""

import re

import pytest

from core.errors import ValidationError
from plans.markdown import export_plan
from plans.services import plan_import_markdown, plan_submit
from reviews import services
from reviews.models import Comment, Concern
from tests.factories import ready_plan
from tests.reviewkit import resubmit, submitted_plan

pytestmark = pytest.mark.django_db

UNKNOWN = "Revision 1 has no section “Nonexistent”; its sections: Problem Statement; "


def loose_plan(author):
    """A submitted plan that follows the template loosely: a section of its own (Threat Model),
    none for Success Criteria."""
    plan = ready_plan(author=author)
    text = export_plan(plan).replace(
        "## Implementation Steps\n",
        "## Threat Model\n\nA stolen session cookie.\n\n## Implementation Steps\n", 1)
    text = re.sub(r"## Success Criteria\n(?:- .*\n)*\n?", "", text)
    plan = plan_import_markdown(actor=author, text=text, plan=plan)
    plan_submit(actor=author, plan=plan)
    plan.refresh_from_db()
    return plan


def menu(html: str, select_id: str) -> list[str]:
    """The options of the <select id=select_id> the page offers."""
    select = re.search(rf'<select id="{select_id}" name="section">(.*?)</select>', html).group(1)
    return re.findall(r"<option [^>]*>([^<]*)</option>", select)


# --- the service: one home for the rule -----------------------------------------------------------
def test_the_service_refuses_a_comment_on_a_section_the_revision_lacks(author, reviewer):
    plan = submitted_plan(author)
    with pytest.raises(ValidationError) as refused:
        services.comment_post(actor=reviewer, plan=plan, body="Hm.", section="Nonexistent")
    assert refused.value.message_dict == {"section": [refused.value.messages[0]]}
    message = refused.value.messages[0]
    assert message.startswith(UNKNOWN) and "Rollback Plan" in message
    assert message.endswith(" (or leave section out: the whole plan).")
    # With a step as well the section is still checked: it would be stored as given.
    with pytest.raises(ValidationError, match="has no section “Nonexistent”"):
        services.comment_post(actor=reviewer, plan=plan, body="Hm.", section="Nonexistent",
                              step_number=1)
    assert not Comment.objects.exists()


def test_the_service_refuses_a_concern_on_a_section_the_plan_lacks(author, reviewer):
    plan = submitted_plan(author)
    with pytest.raises(ValidationError) as refused:
        services.concern_raise(actor=reviewer, plan=plan, title="Risky", section="Nonexistent")
    assert refused.value.message_dict["section"][0].startswith(UNKNOWN)
    assert not Concern.objects.exists()


def test_a_section_in_another_case_is_stored_as_the_revision_spells_it(author, reviewer):
    plan = submitted_plan(author)
    comment = services.comment_post(actor=reviewer, plan=plan, body="Hm.",
                                    section="  rollback PLAN ")
    assert comment.section == "Rollback Plan"
    assert comment.anchor_text.startswith("## Rollback Plan\n")
    concern = services.concern_raise(actor=reviewer, plan=plan, title="Untested",
                                     section="testing strategy")
    assert concern.section == "Testing Strategy"


def test_a_reply_keeps_its_threads_anchor_whatever_section_it_names(client, author, reviewer):
    plan = submitted_plan(author)
    root = services.comment_post(actor=reviewer, plan=plan, body="Hm.", section="Rollback Plan")
    client.force_login(author)
    response = client.post(f"/reviews/plan/{plan.pk}/comments/",
                           {"body": "Done.", "parent": root.pk, "section": "Nonexistent"})
    assert response.status_code == 302
    reply = Comment.objects.get(parent=root)
    assert reply.section == "" and reply.line_from is None


# --- the browser's forms --------------------------------------------------------------------------
def test_a_comment_on_an_unknown_section_is_refused_on_the_page(client, author, reviewer):
    plan = submitted_plan(author)
    client.force_login(reviewer)
    response = client.post(f"/reviews/plan/{plan.pk}/comments/",
                           {"body": "Hm.", "section": "Nonexistent", "revision": 1}, follow=True)
    assert response.status_code == 200
    assert UNKNOWN in response.content.decode()
    assert 'id="cv-form"' in response.content.decode()  # back on the page, to choose again
    assert not Comment.objects.exists()


def test_a_concern_on_an_unknown_section_is_refused_on_the_review_page(client, author, reviewer):
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    client.force_login(reviewer)
    response = client.post(f"/reviews/plan/{plan.pk}/concerns/",
                           {"title": "Risky", "section": "Nonexistent",
                            "next": f"/reviews/{review.pk}/"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/reviews/{review.pk}/"
    assert UNKNOWN in response.content.decode()
    assert not Concern.objects.exists()


def test_the_forms_offer_a_loose_plans_own_sections_and_accept_them(client, author, reviewer):
    plan = loose_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    client.force_login(reviewer)
    offered = ["Whole plan", "Problem Statement", "Current State Analysis", "Proposed Solution",
               "Threat Model", "Implementation Steps", "Testing Strategy", "Risk Assessment",
               "Rollback Plan"]  # in the document's order; no Success Criteria, no furniture
    review_page = client.get(f"/reviews/{review.pk}/").content.decode()
    assert menu(review_page, "c-section") == offered
    conversation_page = client.get(f"/reviews/plan/{plan.pk}/comments/").content.decode()
    assert menu(conversation_page, "cv-section") == offered

    client.post(f"/reviews/plan/{plan.pk}/comments/",
                {"body": "Which cookie?", "section": "threat model", "revision": 1})
    comment = Comment.objects.get()
    assert comment.section == "Threat Model"
    assert comment.anchor_text == "## Threat Model\n\nA stolen session cookie."
    client.post(f"/reviews/plan/{plan.pk}/concerns/",
                {"title": "No cookie rotation", "section": "Threat Model",
                 "next": f"/reviews/{review.pk}/"})
    assert Concern.objects.get().section == "Threat Model"
    # The schema's section this plan does not have is refused, though the template has it.
    response = client.post(f"/reviews/plan/{plan.pk}/concerns/",
                           {"title": "Unmeasured", "section": "Success Criteria",
                            "next": f"/reviews/{review.pk}/"}, follow=True)
    assert "Revision 1 has no section “Success Criteria”" in response.content.decode()
    assert Concern.objects.count() == 1


def test_an_earlier_reviews_page_offers_the_plans_sections_as_they_stand(client, author,
                                                                          reviewer):
    """A concern is on the plan as it stands, so the form on a review of an earlier revision
    offers the current revision's sections."""
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    plan = resubmit(plan, author, "## Implementation Steps\n",
                    "## Threat Model\n\nA stolen session cookie.\n\n## Implementation Steps\n")
    client.force_login(reviewer)
    offered = menu(client.get(f"/reviews/{review.pk}/").content.decode(), "c-section")
    assert offered.index("Proposed Solution") < offered.index("Threat Model") \
        < offered.index("Implementation Steps")
    services.concern_raise(actor=reviewer, plan=plan, title="Cookies", section="threat model")
    assert Concern.objects.get().section == "Threat Model"


def test_a_draft_never_submitted_takes_its_own_sections_as_they_stand(author, reviewer):
    """No revision to anchor lines on yet: the comment or concern is on the plan as a whole,
    under one of the draft's sections (in its spelling); any other title is refused."""
    plan = ready_plan(author=author)
    comment = services.comment_post(actor=reviewer, plan=plan, body="Early thought",
                                    section="problem statement")
    assert (comment.section, comment.revision, comment.line_from) == (
        "Problem Statement", None, None)
    concern = services.concern_raise(actor=reviewer, plan=plan, title="Too vague",
                                     section="ROLLBACK PLAN")
    assert concern.section == "Rollback Plan"
    for post in (lambda: services.comment_post(actor=reviewer, plan=plan, body="x",
                                               section="Nonexistent"),
                 lambda: services.concern_raise(actor=reviewer, plan=plan, title="x",
                                                section="Nonexistent")):
        with pytest.raises(ValidationError) as refused:
            post()
        assert refused.value.messages[0].startswith(
            "This draft has no section “Nonexistent”; its sections: Problem Statement; ")
    assert Comment.objects.count() == Concern.objects.count() == 1

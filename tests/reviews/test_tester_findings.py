"""A tester's findings: a review policy that cannot mean what it says is refused where it is
edited; refusals name the problem they are about (a note or a title too long, a damaged
revision number, a section key that is none, a tampered editor form, a plan that does not
exist); a web decision always carries the revision it was made on."""

from html import unescape

import pytest
from django.urls import reverse

from api.views import NO_SUCH_PLAN
from audit.models import AuditEntry
from plans.models import Plan
from reviews import services
from reviews.models import MAX_APPROVALS, Concern, ReviewPolicy
from tests.api.conftest import token_client
from tests.factories import ready_plan
from tests.plans.test_plan_editor import editor_data
from tests.reviewkit import items_of, resubmit, submitted_plan

pytestmark = pytest.mark.django_db


# --- the review policy ----------------------------------------------------------------------------
@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def change_policy(client, **values):
    policy = ReviewPolicy.objects.get()
    url = reverse("admin:reviews_reviewpolicy_change", args=[policy.pk])
    data = {"name": policy.name, "min_approvals": policy.min_approvals,
            "high_risk_min_approvals": policy.high_risk_min_approvals, **values}
    return client.post(url, data)


@pytest.mark.parametrize("values, field, says", [
    ({"min_approvals": 0}, "min_approvals", "greater than or equal to 1"),
    ({"min_approvals": 99999999999999, "high_risk_min_approvals": 99999999999999},
     "min_approvals", f"less than or equal to {MAX_APPROVALS}"),
    ({"min_approvals": 3, "high_risk_min_approvals": 1}, "high_risk_min_approvals",
     "A high-risk plan needs at least as many approvals as any plan: 3 or more (it is 1)."),
])
def test_a_policy_that_cannot_mean_what_it_says_is_refused_on_the_admin_form(
        admin_client, values, field, says):
    before = (ReviewPolicy.objects.values_list("min_approvals", "high_risk_min_approvals").get(),
              AuditEntry.objects.count())
    response = change_policy(admin_client, **values)
    assert response.status_code == 200  # the form again, not saved
    form = response.context["adminform"].form
    assert says in " ".join(form.errors[field])
    assert (ReviewPolicy.objects.values_list("min_approvals", "high_risk_min_approvals").get(),
            AuditEntry.objects.count()) == before


def test_a_sensible_policy_still_saves(admin_client):
    response = change_policy(admin_client, min_approvals=2, high_risk_min_approvals=2)
    assert response.status_code == 302
    assert ReviewPolicy.objects.values_list(
        "min_approvals", "high_risk_min_approvals").get() == (2, 2)


def test_the_policy_service_refuses_it_too(admin_user):
    policy = ReviewPolicy.objects.get()
    policy.min_approvals, policy.high_risk_min_approvals = 3, 1
    with pytest.raises(services.ValidationError, match="at least as many approvals"):
        services.policy_save(actor=admin_user, policy=policy, required_groups=[],
                             high_risk_required_groups=[], changed_fields=[], created=False)


@pytest.mark.parametrize("low, high, says", [
    (3, 1, "Submitting will require:</strong> 3 approvals, from reviewers"),  # saved before
    (2, 2, "Submitting will require:</strong> 2 approvals, from reviewers"),
    (1, 2, "Submitting will require:</strong> 2 approvals, because a step is High risk"),
])
def test_high_risk_is_the_reason_only_when_it_raised_the_requirement(
        author_client, author, low, high, says):
    ReviewPolicy.objects.update(min_approvals=low, high_risk_min_approvals=high)
    plan = ready_plan(author=author)
    plan.steps.update(risk="high")
    assert says in author_client.get(plan.get_absolute_url()).content.decode()


# --- the review page's forms ----------------------------------------------------------------------
@pytest.fixture
def started(client, author, reviewer):
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    client.force_login(reviewer)
    return review


def answer(client, review, **data):
    item = items_of(review)[0]
    return client.post(reverse("reviews:answer", args=[review.pk]),
                       {"item": item.pk, "answer": "yes", "revision": 1, **data},
                       HTTP_HX_REQUEST="true")


@pytest.mark.parametrize("data, says", [
    ({"note": "x" * 5001}, "A note can be at most 5,000 characters (this one has 5001)."),
    ({"revision": "x"}, "The page sent no revision number the plan has: reload the review"),
    ({"answer": "maybe"}, "Answer yes, no or N/A for a checklist item."),
])
def test_a_refused_answer_says_what_is_wrong(client, started, data, says):
    response = answer(client, started, **data)
    assert response.status_code == 400
    said = response.content.decode()
    assert says in said
    if "answer" not in data:  # the answer itself was fine: not blamed
        assert "Answer yes, no or N/A" not in said
    assert not started.answers.exists()


def test_a_concern_title_too_long_says_so(client, started):
    response = client.post(reverse("reviews:concern_raise", args=[started.plan_id]),
                           {"title": "t" * 201}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert response.content.decode().startswith(
        "A concern's title can be at most 200 characters (this one has 201)")
    assert not Concern.objects.exists()


def test_an_untitled_concern_is_still_asked_for_its_name(client, started):
    response = client.post(reverse("reviews:concern_raise", args=[started.plan_id]),
                           {"title": ""}, HTTP_HX_REQUEST="true")
    assert (response.status_code, response.content.decode()) == (400, "Name the concern.")


def test_a_web_decision_without_its_revision_is_refused(client, started):
    url = reverse("reviews:decide", args=[started.pk])
    response = client.post(url, {"decision": "NEEDS_REVISION", "comment": "Fix it.",
                                 "revision": ""})
    assert response.status_code == 400
    assert "The page sent no revision number the plan has: reload the review" in unescape(
        response.content.decode())
    started.refresh_from_db()
    assert started.decision == ""


# --- plans: the editor and the API ----------------------------------------------------------------
def test_a_tampered_editor_form_says_reload_not_file_a_bug(author_client, author):
    plan = ready_plan(author=author)
    data = editor_data([{"title": "A step"}], **{"steps-TOTAL_FORMS": "abc"})
    page = unescape(author_client.post(reverse("plans:edit", args=[plan.pk]),
                                       data).content.decode())
    assert "The form was incomplete: reload the page and try again." in page
    assert "bug report" not in page and "tampered" not in page


def test_an_unknown_section_key_is_refused_naming_the_valid_ones(author):
    response = token_client(author).post(
        "/api/v1/plans", {"title": "x", "sections": {"nope": "y"}}, format="json")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("Not editable here: nope. Editable: ")
    assert "problem_statement" in detail and "rollback_partial" in detail
    assert not Plan.objects.exists()


@pytest.mark.parametrize("route, body", [
    ("progress", {"step": 1}), ("start", {}), ("submit", {}), ("drift", {"files": []}),
])
def test_every_plan_endpoint_says_no_such_plan_alike(author, route, body):
    response = token_client(author).post(f"/api/v1/plans/99999/{route}", body, format="json")
    assert response.status_code == 404
    assert response.json()["detail"] == NO_SUCH_PLAN


def test_the_api_decision_without_a_revision_still_meets_a_changed_plan(author, reviewer):
    """What the API does with no revision: an agent may omit it; the review's own revision
    still guards against deciding a plan that changed (the service's check)."""
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    resubmit(plan, author, plan.problem_statement, "Changed after the review started.")
    response = token_client(reviewer).post(f"/api/v1/reviews/{review.pk}/decision",
                                           {"decision": "REJECTED", "comment": "No."},
                                           format="json")
    assert response.status_code == 409

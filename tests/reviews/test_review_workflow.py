"""The whole review story, through the services and through the views (issue #4, "Done when")."""

import re

import pytest
from django.contrib.auth.models import Group

from audit.models import AuditEntry
from notifications.models import OutboxMessage
from plans.models import PlanStatus
from plans.services import plan_submit
from reviews import services
from reviews.models import ChecklistItem, ChecklistTemplate, Review, ReviewPolicy
from tests.factories import ReviewerFactory, ready_plan
from tests.reviewkit import actions, answer_all, approve, items_of, revise, submitted_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_approvals():
    ReviewPolicy.objects.update(min_approvals=2)


def test_default_checklist_is_the_templates_review_checklist():
    template = ChecklistTemplate.objects.get(is_default=True)
    groups = {g.title: g.items.count() for g in template.groups.all()}
    assert groups == {"Technical Review": 5, "Project Alignment": 4, "Resource Planning": 3,
                      "Documentation": 3}
    assert ReviewPolicy.objects.get().min_approvals == 1


def test_whole_story_through_services(author, reviewer, reviewer2, two_approvals):
    plan = ready_plan(author=author)
    first = plan_submit(actor=author, plan=plan)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW

    # Two reviewers tick their checklists.
    rob = services.review_start(actor=reviewer, plan=plan)
    rita = services.review_start(actor=reviewer2, plan=plan)
    answer_all(rob, reviewer)
    answer_all(rita, reviewer2)
    services.review_decide(actor=reviewer, review=rob, decision="APPROVED")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW  # needs 2

    # One asks for revision; a comment is required.
    with pytest.raises(services.ValidationError, match="comment is required"):
        services.review_decide(actor=reviewer2, review=rita, decision="NEEDS_REVISION")
    services.review_decide(actor=reviewer2, review=rita, decision="NEEDS_REVISION",
                           comment="Say how sessions expire.")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.NEEDS_REVISION

    # The author revises and resubmits: rob's approval of r1 is stale now.
    plan = revise(plan, author, "Logins are slow; sessions expire after 30 minutes.")
    second = plan_submit(actor=author, plan=plan)
    assert second.number == 2 and second.content_hash != first.content_hash
    from reviews.policy import evaluate_plan

    status = evaluate_plan(plan)
    assert [r.reviewer for r in status.stale_approvals] == [reviewer]
    assert status.approvals == []

    # Both approve the new revision (their earlier answers carry over as a starting point, and
    # count once each is confirmed on this revision).
    rob2 = services.review_start(actor=reviewer, plan=plan)
    assert rob2.revision == second and rob2.answers.count() == 15
    with pytest.raises(services.ValidationError, match="carried over from revision 1"):
        services.review_decide(actor=reviewer, review=rob2, decision="APPROVED")
    answer_all(rob2, reviewer)
    services.review_decide(actor=reviewer, review=rob2, decision="APPROVED")
    rita2 = services.review_start(actor=reviewer2, plan=plan)
    answer_all(rita2, reviewer2)
    services.review_decide(actor=reviewer2, review=rita2, decision="APPROVED")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED

    log = actions(plan)
    for action in ["plan.submitted", "review.started", "review.answered", "review.decided",
                   "plan.needs_revision", "plan.resubmitted", "plan.approved"]:
        assert action in log
    approved = AuditEntry.objects.get(plan=plan, action="plan.approved")
    assert approved.revision_hash == second.content_hash
    assert approved.payload["from"] == "PENDING_REVIEW" and approved.payload["to"] == "APPROVED"
    assert sorted(approved.payload["approvals"]) == ["rita", "rob"]
    decided = AuditEntry.objects.filter(plan=plan, action="review.decided",
                                        payload__decision="NEEDS_REVISION").get()
    assert decided.payload["comment"] == "Say how sessions expire."


def test_whole_story_through_views(client, author, reviewer, reviewer2, two_approvals):
    plan = ready_plan(author=author)
    client.force_login(author)
    response = client.post(f"/reviews/plan/{plan.pk}/submit/", follow=True)
    assert "Submitted for review as revision 1" in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW

    reviews = {}
    for user in (reviewer, reviewer2):
        client.force_login(user)
        response = client.post(f"/reviews/plan/{plan.pk}/start/")
        assert response.status_code == 302
        review = Review.objects.get(plan=plan, reviewer=user)
        assert response.url == f"/reviews/{review.pk}/"
        for item in items_of(review):  # ticked one by one, as htmx sends them
            r = client.post(f"/reviews/{review.pk}/answer/",
                            {"item": item.pk, "answer": "yes", "revision": 1},
                            HTTP_HX_REQUEST="true")
            assert r.status_code == 200 and 'value="yes" checked' in r.content.decode()
        page = client.get(f"/reviews/{review.pk}/").content.decode()  # answers survive a reload
        assert "15 / 15 answered" in page
        assert page.count('value="yes" checked') == 15
        reviews[user.username] = review

    client.force_login(reviewer)
    client.post(f"/reviews/{reviews['rob'].pk}/decide/", {"decision": "APPROVED", "revision": 1})
    client.force_login(reviewer2)
    response = client.post(f"/reviews/{reviews['rita'].pk}/decide/",
                           {"decision": "NEEDS_REVISION", "revision": 1}, follow=True)
    assert "a comment is required" in response.content.decode()
    response = client.post(f"/reviews/{reviews['rita'].pk}/decide/",
                           {"decision": "NEEDS_REVISION", "comment": "Explain expiry.",
                            "revision": 1}, follow=True)
    assert "The plan needs revision." in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.NEEDS_REVISION

    plan = revise(plan, author, "Logins are slow; sessions expire after 30 minutes.")
    client.force_login(author)
    response = client.post(f"/reviews/plan/{plan.pk}/submit/", follow=True)
    assert "revision 2" in response.content.decode()

    # Rob sees that his approval is stale and what changed since revision 1.
    client.force_login(reviewer)
    page = client.get(f"/reviews/{reviews['rob'].pk}/").content.decode()
    assert "the plan has since been resubmitted as revision 2" in page
    response = client.post(f"/reviews/plan/{plan.pk}/start/", follow=True)
    page = response.content.decode()
    assert "Your approval of revision 1 is stale" in page
    assert "What changed since revision 1" in page
    assert "sessions expire after 30 minutes" in page and "diff-add" in page

    for user in (reviewer, reviewer2):
        client.force_login(user)
        client.post(f"/reviews/plan/{plan.pk}/start/")
        review = Review.objects.get(plan=plan, reviewer=user, revision__number=2)
        page = client.get(f"/reviews/{review.pk}/").content.decode()
        assert "From revision 1" in page  # carried over, to confirm
        for item in items_of(review):  # confirmed one by one (the same answer, saved again)
            client.post(f"/reviews/{review.pk}/answer/",
                        {"item": item.pk, "answer": "yes", "revision": 2},
                        HTTP_HX_REQUEST="true")
        response = client.post(f"/reviews/{review.pk}/decide/",
                               {"decision": "APPROVED", "revision": 2}, follow=True)
        assert response.status_code == 200
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    assert {"plan.submitted", "plan.resubmitted", "plan.needs_revision", "plan.approved",
            "review.decided"} <= set(actions(plan))


def test_panel_on_plan_page_shows_turn_and_whats_missing(client, author, reviewer, reviewer2,
                                                       two_approvals):
    security = Group.objects.create(name="Security")
    security.user_set.add(ReviewerFactory(username="sam"))  # a group worth asking
    ReviewPolicy.objects.get().required_groups.add(security)
    plan = submitted_plan(author)
    approve(plan, reviewer)
    client.force_login(author)
    page = client.get(f"/plans/{plan.pk}/").content.decode()
    assert "Needs 1 more approval" in page
    assert "Needs an approval from Security" in page
    assert "Withdraw from review" in page
    client.post(f"/reviews/plan/{plan.pk}/request/", {"usernames": "rita", "group": security.pk})
    page = client.get(f"/plans/{plan.pk}/").content.decode()
    assert "Reviewers: rita, the Security group" in page


def test_panel_lists_whats_missing_before_submission(client, author):
    plan = ready_plan(author=author, problem_statement="")
    client.force_login(author)
    page = client.get(f"/plans/{plan.pk}/").content.decode()
    assert "Before submitting, fill in: Problem statement." in page
    response = client.post(f"/reviews/plan/{plan.pk}/submit/", follow=True)
    assert "Fill in before submitting: Problem statement." in response.content.decode()


def test_approval_needs_every_item_answered_and_no_no(author, reviewer):
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    items = items_of(review)
    with pytest.raises(services.ValidationError, match="unanswered"):
        services.review_decide(actor=reviewer, review=review, decision="APPROVED")
    answer_all(review, reviewer)
    services.review_answer(actor=reviewer, review=review, item=items[3], answer="no",
                           note="Risks understated")
    with pytest.raises(services.ValidationError, match="answered No: Risk assessment"):
        services.review_decide(actor=reviewer, review=review, decision="APPROVED")
    services.review_answer(actor=reviewer, review=review, item=items[3], answer="na")
    services.review_decide(actor=reviewer, review=review, decision="APPROVED")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED


def test_answers_keep_the_item_text_when_the_template_changes(author, reviewer):
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    item = items_of(review)[0]
    services.review_answer(actor=reviewer, review=review, item=item, answer="yes")
    ChecklistItem.objects.filter(pk=item.pk).update(text="Something else entirely")
    ChecklistItem.objects.get(pk=item.pk).delete()
    answer = review.answers.get()
    assert answer.item_text == "Solution addresses the problem completely"
    assert answer.group_title == "Technical Review"


def test_decision_is_final_for_its_revision(author, reviewer, two_approvals):
    plan = submitted_plan(author)
    review = approve(plan, reviewer)
    with pytest.raises(services.Conflict, match="final"):
        services.review_decide(actor=reviewer, review=review, decision="REJECTED", comment="x")
    with pytest.raises(services.Conflict, match="final"):
        services.review_answer(actor=reviewer, review=review, item=items_of(review)[0],
                               answer="no")


def test_rejection_is_final_for_the_plan(author, reviewer):
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    services.review_decide(actor=reviewer, review=review, decision="REJECTED",
                           comment="Wrong problem.")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.REJECTED
    with pytest.raises(services.NotAllowed):
        plan_submit(actor=author, plan=plan)


def test_open_concern_blocks_approval_until_resolved(author, reviewer, reviewer2, admin_user):
    plan = submitted_plan(author)
    concern = services.concern_raise(actor=reviewer2, plan=plan, title="No load test",
                                     section="Testing Strategy", step=plan.steps.get().pk)
    approve(plan, reviewer)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW
    with pytest.raises(services.NotAllowed, match="raised this concern"):
        services.concern_resolve(actor=reviewer, concern=concern)
    services.concern_resolve(actor=reviewer2, concern=concern)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    assert actions(plan)[-2:] == ["concern.resolved", "plan.approved"]


def test_admin_resolves_any_concern(author, reviewer, admin_user):
    plan = submitted_plan(author)
    concern = services.concern_raise(actor=reviewer, plan=plan, title="Unclear owner")
    services.concern_resolve(actor=admin_user, concern=concern)
    concern.refresh_from_db()
    assert concern.resolved_by == admin_user


def test_threaded_comments_anchored_to_a_step(client, author, reviewer):
    """(tests/reviews/test_conversation.py has the rest of the conversation.)"""
    plan = submitted_plan(author)
    step = plan.steps.get()
    client.force_login(reviewer)
    client.post(f"/reviews/plan/{plan.pk}/comments/",
                {"body": "Why Redis?", "section": "Proposed Solution", "step": 1})
    parent = plan.comments.get()
    client.force_login(author)
    client.post(f"/reviews/plan/{plan.pk}/comments/", {"body": "It is already there.",
                                                       "parent": parent.pk})
    page = client.get(f"/reviews/plan/{plan.pk}/comments/").content.decode()
    assert page.index("Why Redis?") < page.index("It is already there.")
    assert parent.step == step and parent.section == "Proposed Solution"
    assert re.search(r'<span class="cv-where">Step 1 · lines \d+–\d+</span>', page)
    assert plan.comments.get(parent=parent).author == author
    assert actions(plan).count("comment.posted") == 2


def test_unchanged_resubmission_keeps_approvals(author, reviewer, reviewer2, two_approvals):
    from plans.services import plan_withdraw

    plan = submitted_plan(author)
    approve(plan, reviewer)
    plan_withdraw(actor=author, plan=plan)
    plan.refresh_from_db()
    second = plan_submit(actor=author, plan=plan)
    entry = AuditEntry.objects.filter(plan=plan, action="plan.resubmitted").get()
    assert entry.payload["content_unchanged"] is True
    assert second.number == 2
    approve(plan, reviewer2)  # rob's approval of identical r1 still counts
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED


def test_review_requests_notify_requested_reviewers(author, reviewer, reviewer2, monkeypatch):
    sent = []
    monkeypatch.setattr(services, "notify_plan_event", lambda **kw: sent.append(kw))
    plan = submitted_plan(author)
    group = Group.objects.create(name="Security")
    reviewer2.groups.add(group)
    outsider = ReviewerFactory(username="ollie")
    services.review_request(actor=author, plan=plan, users=[reviewer, outsider], groups=[group])
    [event] = sent
    assert event["event"].name == "review.requested"
    assert {u.username for u in event["recipients"]} == {"rob", "ollie", "rita"}
    with pytest.raises(services.ValidationError, match="alice"):
        services.review_request(actor=author, plan=plan, users=[author])
    assert re.search("review.requested", " ".join(actions(plan)))


def test_asking_again_whoever_was_asked_notifies_no_one_again(client, author, reviewer,
                                                              reviewer2, monkeypatch):
    sent = []
    monkeypatch.setattr(services, "notify_plan_event", lambda **kw: sent.append(kw))
    plan = submitted_plan(author)
    group = Group.objects.create(name="Security")
    group.user_set.add(reviewer, reviewer2)
    services.review_request(actor=author, plan=plan, users=[reviewer])
    client.force_login(author)
    response = client.post(f"/reviews/plan/{plan.pk}/request/", {"usernames": reviewer.username},
                           follow=True)
    assert "Already requested: no one new was asked or notified." in response.content.decode()
    assert services.review_request(actor=author, plan=plan, groups=[group]) != []
    # The group's request reaches only the member not asked by name before.
    assert [{u.pk for u in kw["recipients"]} for kw in sent] == [{reviewer.pk}, {reviewer2.pk}]
    assert services.review_request(actor=author, plan=plan, users=[reviewer],
                                   groups=[group]) == []
    assert len(sent) == 2
    assert plan.review_requests.count() == 2
    assert actions(plan).count("review.requested") == 2


def test_asking_a_group_again_notifies_only_who_joined_it_since(client, author, reviewer,
                                                                reviewer2):
    plan = submitted_plan(author)
    group = Group.objects.create(name="Security")
    group.user_set.add(reviewer)
    services.review_request(actor=author, plan=plan, groups=[group])
    newcomer = ReviewerFactory(username="nora")
    group.user_set.add(newcomer, reviewer2)
    services.review_start(actor=reviewer2, plan=plan)  # reviewing already: nothing to ask
    client.force_login(author)
    response = client.post(f"/reviews/plan/{plan.pk}/request/", {"group": group.pk},
                           follow=True)
    assert "Review requested." in response.content.decode()
    asked = OutboxMessage.objects.filter(plan=plan, event="review.requested")
    assert sorted({m.recipient.username for m in asked}) == ["nora", reviewer.username]
    assert asked.filter(recipient=newcomer).count() == asked.filter(recipient=reviewer).count()
    entry = AuditEntry.objects.filter(plan=plan, action="review.requested").latest("pk")
    assert entry.payload["groups_asked_again"] == ["Security"]
    assert (entry.payload["notified"], entry.payload["notified_ids"]) == (["nora"], [newcomer.pk])
    assert plan.review_requests.count() == 1  # the group's one request
    # Everyone in it heard of it now: asking again asks no one (a renamed member included).
    newcomer.username = "nora.k"
    newcomer.save()
    rows = asked.count()
    response = client.post(f"/reviews/plan/{plan.pk}/request/", {"group": group.pk},
                           follow=True)
    assert "Already requested: no one new was asked or notified." in response.content.decode()
    assert asked.count() == rows


def test_request_form_offers_only_groups_with_a_reviewer(client, author, reviewer):
    plan = submitted_plan(author)
    empty = Group.objects.create(name="Marketing")
    empty.user_set.add(author)  # members, but no reviewer
    security = Group.objects.create(name="Security")
    security.user_set.add(reviewer)
    client.force_login(author)
    page = client.get(f"/plans/{plan.pk}/").content.decode()
    options = re.findall(r'<option value="\d+">([^<]+)</option>', page)
    assert "Security" in options and "Reviewers" in options
    assert "Marketing" not in options and "Authors" not in options
    response = client.post(f"/reviews/plan/{plan.pk}/request/", {"group": empty.pk},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Pick a group with at least one reviewer in it." in response.content.decode()
    assert not plan.review_requests.exists()


def test_a_decision_that_leaves_the_plan_pending_is_audited_alone(author, reviewer,
                                                                   two_approvals):
    """The first of two approvals: its own entry, chained onto the trail's head, and no
    outcome entry (the plan still waits for the second)."""
    plan = ready_plan(author=author)
    plan_submit(actor=author, plan=plan)
    review = services.review_start(actor=reviewer, plan=plan)
    answer_all(review, reviewer)
    head = AuditEntry.objects.order_by("-id").first()
    services.review_decide(actor=reviewer, review=review, decision="APPROVED")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW
    new = list(AuditEntry.objects.filter(pk__gt=head.pk))
    assert [(e.action, e.prev_hash) for e in new] == [("review.decided", head.entry_hash)]


@pytest.mark.django_db(transaction=True)  # real commits: the page's rows are kept per write
def test_the_plan_page_says_how_many_threads_are_open(client, author, reviewer):
    plan = submitted_plan(author)
    client.force_login(author)

    def conversation_button() -> str:
        page = client.get(plan.get_absolute_url()).content.decode()
        link = f'href="/reviews/plan/{plan.pk}/comments/">'
        return page[page.index(link) + len(link):].split("</a>", 1)[0]

    assert conversation_button() == "Conversation"
    first = services.comment_post(actor=reviewer, plan=plan, body="Which cache?")
    services.comment_post(actor=author, plan=plan, body="Redis.", parent=first)  # a reply
    assert conversation_button() == "Conversation · 1 open thread"
    services.comment_post(actor=reviewer, plan=plan, body="And the TTL?")
    assert conversation_button() == "Conversation · 2 open threads"
    services.thread_resolve(actor=author, comment=first)
    assert conversation_button() == "Conversation · 1 open thread"

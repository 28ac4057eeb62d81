"""Every service that changes state writes its audit entry: one test per action.

Each scenario reaches the state through the services (as a user would), performs one action and
returns what its audit entry must say; the test checks the newest entry of that action.
"""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from accounts.roles import REVIEWERS
from audit.actions import ACTIONS
from audit.models import AuditEntry
from plans.markdown import export_plan
from plans.models import PlanStatus
from plans.services import (
    plan_create,
    plan_import_markdown,
    plan_start_from,
    plan_submit,
    plan_update,
    plan_withdraw,
    submission_rule_update,
)
from reviews import events as review_events
from reviews import services as review_services
from reviews.models import ChecklistItem, ReviewPolicy
from reviews.policy import describe_policy
from tests.audit_support import approve_through_services
from tests.factories import UserFactory, ready_plan


def submitted(author):
    plan = ready_plan(author=author, title="Under review")
    revision = plan_submit(actor=author, plan=plan)
    plan.refresh_from_db()
    return plan, revision


def started(author, reviewer):
    plan, revision = submitted(author)
    return plan, revision, review_services.review_start(actor=reviewer, plan=plan)


def answered_all_but_decide(author, reviewer):
    plan, revision, review = started(author, reviewer)
    for item in ChecklistItem.objects.filter(group__template=review.checklist):
        review_services.review_answer(actor=reviewer, review=review, item=item, answer="yes")
    return plan, revision, review


# --- plans/services.py ---------------------------------------------------------------------------
def s_plan_created(author, reviewer, admin):
    plan = plan_create(actor=author, title="New idea")
    return dict(action="plan.created", actor=author, plan=plan, obj=plan,
                payload={"title": "New idea"})


def s_plan_imported(author, reviewer, admin):
    text = export_plan(ready_plan(author=author, title="Imported plan"))
    plan = plan_import_markdown(actor=author, text=text)
    return dict(action="plan.imported", actor=author, plan=plan, obj=plan,
                payload={"source": "markdown"})


def s_plan_edited_by_import(author, reviewer, admin):
    plan = ready_plan(author=author, title="Old")
    text = export_plan(ready_plan(author=author, title="Replaced by import"))
    plan_import_markdown(actor=author, text=text, plan=plan)
    return dict(action="plan.edited", actor=author, plan=plan, obj=plan,
                payload={"source": "markdown"})


def s_plan_submission_rule_changed(author, reviewer, admin):
    rule = submission_rule_update(actor=admin, required=["problem_statement"])
    return dict(action="plan.submission_rule_changed", actor=admin, plan=None, obj=rule,
                payload={"to": ["problem_statement"]})


def s_plan_edited(author, reviewer, admin):
    plan = ready_plan(author=author, title="Old")
    plan_update(actor=author, plan=plan, fields={"title": "New title"})
    return dict(action="plan.edited", actor=author, plan=plan, obj=plan,
                payload={"fields": ["title"]})


def s_plan_submitted(author, reviewer, admin):
    plan, revision = submitted(author)
    return dict(action="plan.submitted", actor=author, plan=plan, obj=plan,
                revision_hash=revision.content_hash,
                payload={"from": PlanStatus.DRAFT, "to": PlanStatus.PENDING_REVIEW,
                         "revision": 1})


def s_plan_withdrawn(author, reviewer, admin):
    plan, revision = submitted(author)
    plan_withdraw(actor=author, plan=plan)
    return dict(action="plan.withdrawn", actor=author, plan=plan, obj=plan,
                revision_hash=revision.content_hash,
                payload={"from": PlanStatus.PENDING_REVIEW, "to": PlanStatus.DRAFT})


def s_plan_resubmitted(author, reviewer, admin):
    plan, _ = submitted(author)
    plan = plan_withdraw(actor=author, plan=plan)
    revision = plan_submit(actor=author, plan=plan)
    return dict(action="plan.resubmitted", actor=author, plan=plan, obj=plan,
                revision_hash=revision.content_hash, payload={"revision": 2})


# --- reviews/services.py -------------------------------------------------------------------------
def s_review_started(author, reviewer, admin):
    plan, revision, review = started(author, reviewer)
    return dict(action="review.started", actor=reviewer, plan=plan, obj=review,
                revision_hash=revision.content_hash, payload={"revision": 1})


def s_review_answered(author, reviewer, admin):
    plan, revision, review = started(author, reviewer)
    item = ChecklistItem.objects.filter(group__template=review.checklist).first()
    review_services.review_answer(actor=reviewer, review=review, item=item, answer="no",
                                  note="Missing load test")
    return dict(action="review.answered", actor=reviewer, plan=plan, obj=review,
                revision_hash=revision.content_hash,
                payload={"item": item.text, "answer": "no", "note": "Missing load test"})


def s_review_decided(author, reviewer, admin):
    plan, revision, review = started(author, reviewer)
    review_services.review_decide(actor=reviewer, review=review, decision="NEEDS_REVISION",
                                  comment="Add a rollback test")
    return dict(action="review.decided", actor=reviewer, plan=plan, obj=review,
                revision_hash=revision.content_hash,
                payload={"decision": "NEEDS_REVISION", "comment": "Add a rollback test"})


def s_plan_approved(author, reviewer, admin):
    plan, revision, review = answered_all_but_decide(author, reviewer)
    review_services.review_decide(actor=reviewer, review=review, decision="APPROVED")
    return dict(action="plan.approved", actor=reviewer, plan=plan, obj=plan,
                revision_hash=revision.content_hash,
                payload={"from": PlanStatus.PENDING_REVIEW, "to": PlanStatus.APPROVED,
                         "approvals": ["rob"]})


def s_plan_needs_revision(author, reviewer, admin):
    plan, revision, review = started(author, reviewer)
    review_services.review_decide(actor=reviewer, review=review, decision="NEEDS_REVISION",
                                  comment="Split step 1")
    return dict(action="plan.needs_revision", actor=reviewer, plan=plan, obj=plan,
                revision_hash=revision.content_hash, payload={"to": PlanStatus.NEEDS_REVISION})


def s_plan_rejected(author, reviewer, admin):
    plan, revision, review = started(author, reviewer)
    review_services.review_decide(actor=reviewer, review=review, decision="REJECTED",
                                  comment="Out of scope")
    return dict(action="plan.rejected", actor=reviewer, plan=plan, obj=plan,
                revision_hash=revision.content_hash, payload={"to": PlanStatus.REJECTED})


def s_concern_raised(author, reviewer, admin):
    plan, revision = submitted(author)
    concern = review_services.concern_raise(actor=reviewer, plan=plan, title="No rollback")
    return dict(action="concern.raised", actor=reviewer, plan=plan, obj=concern,
                revision_hash=revision.content_hash, payload={"title": "No rollback"})


def s_concern_resolved(author, reviewer, admin):
    plan, revision = submitted(author)
    concern = review_services.concern_raise(actor=reviewer, plan=plan, title="No rollback")
    review_services.concern_resolve(actor=reviewer, concern=concern)
    return dict(action="concern.resolved", actor=reviewer, plan=plan, obj=concern,
                revision_hash=revision.content_hash, payload={"title": "No rollback"})


def s_comment_posted(author, reviewer, admin):
    plan, revision = submitted(author)
    comment = review_services.comment_post(actor=reviewer, plan=plan, body="Why Redis?")
    return dict(action="comment.posted", actor=reviewer, plan=plan, obj=comment,
                revision_hash=revision.content_hash, payload={"parent": None})


def s_comment_mentioned(author, reviewer, admin):
    plan, revision = submitted(author)
    comment = review_services.comment_post(actor=reviewer, plan=plan, body="@alice: why?")
    return dict(action="comment.mentioned", actor=reviewer, plan=plan, obj=comment,
                revision_hash=revision.content_hash, payload={"users": ["alice"]})


def s_comment_edited(author, reviewer, admin):
    plan, revision = submitted(author)
    comment = review_services.comment_post(actor=reviewer, plan=plan, body="Why Rdis?")
    review_services.comment_edit(actor=reviewer, comment=comment, body="Why Redis?")
    return dict(action="comment.edited", actor=reviewer, plan=plan, obj=comment,
                revision_hash=revision.content_hash,
                payload={"before": "Why Rdis?", "after": "Why Redis?"})


def s_comment_resolved(author, reviewer, admin):
    plan, revision = submitted(author)
    comment = review_services.comment_post(actor=reviewer, plan=plan, body="Why Redis?")
    review_services.thread_resolve(actor=author, comment=comment)
    return dict(action="comment.resolved", actor=author, plan=plan, obj=comment,
                revision_hash=revision.content_hash, payload={"comment": comment.pk})


def s_comment_reopened(author, reviewer, admin):
    plan, revision = submitted(author)
    comment = review_services.comment_post(actor=reviewer, plan=plan, body="Why Redis?")
    review_services.thread_resolve(actor=author, comment=comment)
    review_services.thread_reopen(actor=reviewer, comment=comment)
    return dict(action="comment.reopened", actor=reviewer, plan=plan, obj=comment,
                revision_hash=revision.content_hash, payload={"comment": comment.pk})


def s_review_requested(author, reviewer, admin):
    plan, _ = submitted(author)
    review_services.review_request(actor=author, plan=plan, users=[reviewer])
    return dict(action="review.requested", actor=author, plan=plan, obj=plan,
                payload={"users": ["rob"], "groups": []})


def s_review_rerequested(author, reviewer, admin):
    plan, revision, _ = started(author, reviewer)
    review_services.review_rerequest(actor=author, plan=plan, reviewer=reviewer)
    return dict(action="review.rerequested", actor=author, plan=plan, obj=plan,
                revision_hash=revision.content_hash,
                payload={"user": "rob", "revision": 1, "new_request": True})


def s_plan_started_from(author, reviewer, admin):
    plan, _, review = started(author, reviewer)
    review_services.review_decide(actor=reviewer, review=review, decision="REJECTED",
                                  comment="Out of scope")
    copy = plan_start_from(actor=author, plan=plan)
    return dict(action="plan.started_from", actor=author, plan=copy, obj=copy,
                payload={"from_plan": plan.pk, "from_status": PlanStatus.REJECTED,
                         "from_revision": 1})


def s_policy_changed_service(author, reviewer, admin):
    policy = ReviewPolicy.objects.order_by("-id").first()
    policy.min_approvals = 2
    review_services.policy_save(actor=admin, policy=policy, required_groups=[],
                                high_risk_required_groups=[], changed_fields=["min_approvals"],
                                created=False)
    return dict(action="policy.changed", actor=admin, plan=None, obj=policy,
                payload={"change": "changed", "fields": ["min_approvals"],
                         "policy": describe_policy(policy)})


def s_checklist_changed_service(author, reviewer, admin):
    item = ChecklistItem.objects.filter(group__template__is_default=True).first()
    template = item.group.template
    review_services.checklist_delete(actor=admin, obj=item)
    return dict(action="checklist.changed", actor=admin, plan=None, obj=template,
                payload={"change": "deleted", "object": f"checklistitem {item.text}",
                         "fields": [], "inlines_changed": False})


# --- notifications/services.py -------------------------------------------------------------------
def s_notification_retried(author, reviewer, admin):
    from notifications.models import OutboxMessage, OutboxStatus
    from notifications.services import notification_retry, notify_plan_event

    plan, _ = submitted(author)
    ids = notify_plan_event(event=review_events.COMMENT_POSTED, plan=plan, actor=author,
                            recipients=[reviewer])
    OutboxMessage.objects.filter(pk__in=ids).update(status=OutboxStatus.FAILED,
                                                    last_error="SMTP down")
    assert notification_retry(actor=admin, outbox_ids=ids) == len(ids)
    return dict(action="notification.retried", actor=admin, plan=None, obj=None,
                payload={"outbox_ids": sorted(ids)})


def s_webhook_changed_service(author, reviewer, admin):
    from notifications.models import WebhookEndpoint
    from notifications.services import webhook_save

    endpoint = webhook_save(actor=admin, endpoint=WebhookEndpoint(
        name="CI", url="https://ci.example.com/hook", secret="s3cr3t", events=["plan.approved"],
    ), changed_fields=["name", "url", "secret", "events"], created=True)
    return dict(action="webhook.changed", actor=admin, plan=None, obj=endpoint,
                payload={"change": "added", "url": "https://ci.example.com/hook",
                         "events": ["plan.approved"], "secret_changed": True})


def _waiting_plan(author, hours: int):
    from datetime import timedelta

    from django.utils import timezone

    plan, revision = submitted(author)
    review_services.review_reminders_send(now=timezone.now() + timedelta(hours=hours))
    return plan, revision


def s_plan_reminder(author, reviewer, admin):
    plan, revision = _waiting_plan(author, 25)
    return dict(action="plan.reminder", actor=None, plan=plan, obj=plan,
                revision_hash=revision.content_hash, payload={"revision": revision.number})


def s_plan_escalated(author, reviewer, admin):
    plan, revision = _waiting_plan(author, 49)
    return dict(action="plan.escalated", actor=None, plan=plan, obj=plan,
                revision_hash=revision.content_hash, payload={"revision": revision.number})


# --- api/services.py -----------------------------------------------------------------------------
def s_token_created(author, reviewer, admin):
    from api.services import token_create

    token, _ = token_create(actor=author, user=author, name="laptop")
    return dict(action="token.created", actor=author, plan=None, obj=token,
                payload={"user": "alice", "name": "laptop", "hint": token.hint})


def s_token_revoked(author, reviewer, admin):
    from api.services import token_create, token_revoke

    token, _ = token_create(actor=author, user=author, name="laptop")
    token_revoke(actor=admin, token=token)
    return dict(action="token.revoked", actor=admin, plan=None, obj=token,
                payload={"user": "alice", "name": "laptop"})


# --- putting drafts away (plans/services.py), one's own account (accounts/services.py) ----------
def s_plan_deleted(author, reviewer, admin):
    from plans.services import plan_delete

    plan = plan_create(actor=author, title="Throwaway")
    pk = plan.pk
    plan_delete(actor=author, plan=plan)
    plan.pk = pk  # the entry keeps the deleted plan's id
    return dict(action="plan.deleted", actor=author, plan=plan, obj=plan,
                payload={"title": "Throwaway", "status": PlanStatus.DRAFT})


def s_plan_archived(author, reviewer, admin):
    from plans.services import plan_archive

    plan = plan_create(actor=author, title="Old idea")
    plan_archive(actor=author, plan=plan)
    return dict(action="plan.archived", actor=author, plan=plan, obj=plan,
                payload={"status": PlanStatus.DRAFT})


def s_plan_unarchived(author, reviewer, admin):
    from plans.services import plan_archive, plan_unarchive

    plan = plan_create(actor=author, title="Old idea")
    plan_archive(actor=author, plan=plan)
    plan_unarchive(actor=admin, plan=plan)
    return dict(action="plan.unarchived", actor=admin, plan=plan, obj=plan,
                payload={"status": PlanStatus.DRAFT})


def s_account_profile_changed(author, reviewer, admin):
    from accounts.services import profile_update

    profile_update(actor=author, user=author, first_name="Alice", last_name="L",
                   email=author.email)
    return dict(action="account.profile_changed", actor=author, plan=None, obj=author,
                payload={"fields": ["first_name", "last_name"]})


def s_account_password_changed(author, reviewer, admin):
    from accounts.services import password_change

    password_change(actor=author, user=author, old_password="pw",
                    new_password="a-long-new-passphrase-42")
    return dict(action="account.password_changed", actor=author, plan=None, obj=author,
                payload={"fields": ["password"]})


def s_account_deactivated(author, reviewer, admin):
    from accounts.services import account_active_changed

    author.is_active = False
    author.save(update_fields=["is_active"])
    account_active_changed(actor=admin, user=author)
    return dict(action="account.deactivated", actor=admin, plan=None, obj=author,
                payload={"fields": ["is_active"]})


def s_account_activated(author, reviewer, admin):
    from accounts.services import account_active_changed

    account_active_changed(actor=admin, user=author)  # (author.is_active: True)
    return dict(action="account.activated", actor=admin, plan=None, obj=author,
                payload={"fields": ["is_active"]})


# --- after approval (implementation/services.py) --------------------------------------------------
def _approved(author, reviewer):
    from tests.implementation.kit import approved_plan

    plan = approved_plan(author, reviewer)
    return plan, plan.revisions.get(number=1)


def _implemented(author, reviewer):
    from implementation import services as impl

    plan, revision = _approved(author, reviewer)
    impl.implementation_start(actor=author, plan=plan)
    impl.implementation_finish(actor=author, plan=plan)
    return plan, revision


def s_plan_implementation_started(author, reviewer, admin):
    from implementation import services as impl

    plan, revision = _approved(author, reviewer)
    impl.implementation_start(actor=author, plan=plan)
    return dict(action="plan.implementation_started", actor=author, plan=plan, obj=plan,
                revision_hash=revision.content_hash,
                payload={"from": PlanStatus.APPROVED, "to": PlanStatus.IMPLEMENTING})


def s_plan_implementation_finished(author, reviewer, admin):
    plan, revision = _implemented(author, reviewer)
    return dict(action="plan.implementation_finished", actor=author, plan=plan, obj=plan,
                revision_hash=revision.content_hash,
                payload={"from": PlanStatus.IMPLEMENTING, "to": PlanStatus.IMPLEMENTED})


def s_plan_verified(author, reviewer, admin):
    from implementation import services as impl

    plan, revision = _implemented(author, reviewer)
    impl.verification_decide(actor=reviewer, plan=plan, outcome="VERIFIED",
                             evidence={1: "PR 7", 2: "CI"})
    return dict(action="plan.verified", actor=reviewer, plan=plan, obj=plan,
                revision_hash=revision.content_hash,
                payload={"from": PlanStatus.IMPLEMENTED, "to": PlanStatus.VERIFIED})


def s_plan_sent_back_to_implementing(author, reviewer, admin):
    from implementation import services as impl

    plan, revision = _implemented(author, reviewer)
    impl.verification_decide(actor=reviewer, plan=plan, outcome="SENT_BACK", comment="Not yet.")
    return dict(action="plan.sent_back_to_implementing", actor=reviewer, plan=plan, obj=plan,
                revision_hash=revision.content_hash,
                payload={"to": PlanStatus.IMPLEMENTING, "comment": "Not yet."})


def s_plan_criterion_checked(author, reviewer, admin):
    from implementation import services as impl

    plan, revision = _implemented(author, reviewer)
    check = impl.criterion_check(actor=reviewer, plan=plan, number=2, evidence="CI run 9")
    return dict(action="plan.criterion_checked", actor=reviewer, plan=plan, obj=check,
                revision_hash=revision.content_hash,
                payload={"criterion": 2, "evidence": "CI run 9"})


def s_plan_progress_reported(author, reviewer, admin):
    from implementation import services as impl

    plan, revision = _approved(author, reviewer)
    report = impl.progress_report(actor=author, plan=plan, step=2, commit="abc1234")
    return dict(action="plan.progress_reported", actor=author, plan=plan, obj=report,
                revision_hash=revision.content_hash,
                payload={"step": 2, "action": None, "commit": "abc1234"})


def s_plan_drift_reported(author, reviewer, admin):
    from implementation import services as impl

    plan, revision = _approved(author, reviewer)
    report = impl.drift_report_upload(actor=reviewer, plan=plan, changed=["app/z.py"])
    return dict(action="plan.drift_reported", actor=reviewer, plan=plan, obj=report,
                revision_hash=revision.content_hash,
                payload={"unplanned": ["app/z.py"], "clear": False})


def s_plan_amendment_submitted(author, reviewer, admin):
    from implementation import services as impl
    from tests.implementation.kit import AMENDED

    plan, _ = _approved(author, reviewer)
    revision = impl.amendment_submit(actor=author, plan=plan, text=AMENDED)
    return dict(action="plan.amendment_submitted", actor=author, plan=plan, obj=plan,
                revision_hash=revision.content_hash,
                payload={"from": PlanStatus.APPROVED, "to": PlanStatus.PENDING_REVIEW,
                         "revision": 2, "amends_revision": 1})


# --- signals (no service performs these) ---------------------------------------------------------
def s_group_member_added(author, reviewer, admin):
    author.groups.add(Group.objects.get(name=REVIEWERS))
    return dict(action="group.member_added", actor=None, plan=None, obj=author,
                payload={"user": "alice", "group": REVIEWERS})


def s_group_member_removed(author, reviewer, admin):
    Group.objects.get(name=REVIEWERS).user_set.remove(reviewer)
    return dict(action="group.member_removed", actor=None, plan=None, obj=reviewer,
                payload={"user": "rob", "group": REVIEWERS})


SCENARIOS = [
    s_plan_created, s_plan_imported, s_plan_edited_by_import, s_plan_edited, s_plan_submitted,
    s_plan_submission_rule_changed,
    s_plan_withdrawn, s_plan_resubmitted, s_review_started, s_review_answered, s_review_decided,
    s_plan_approved, s_plan_needs_revision, s_plan_rejected, s_concern_raised,
    s_concern_resolved, s_comment_posted, s_comment_mentioned, s_comment_edited,
    s_comment_resolved, s_comment_reopened, s_review_requested, s_review_rerequested,
    s_plan_started_from, s_policy_changed_service,
    s_checklist_changed_service, s_notification_retried, s_webhook_changed_service,
    s_plan_reminder, s_plan_escalated, s_token_created, s_token_revoked, s_group_member_added,
    s_group_member_removed, s_plan_deleted, s_plan_archived, s_plan_unarchived,
    s_account_profile_changed, s_account_password_changed, s_account_deactivated,
    s_account_activated,
    s_plan_implementation_started, s_plan_implementation_finished, s_plan_verified,
    s_plan_sent_back_to_implementing, s_plan_criterion_checked, s_plan_progress_reported,
    s_plan_drift_reported, s_plan_amendment_submitted,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__[2:])
def test_state_change_writes_its_audit_entry(scenario, author, reviewer, admin_user):
    expected = scenario(author, reviewer, admin_user)
    entry = AuditEntry.objects.filter(action=expected["action"]).order_by("-id").first()
    assert entry is not None, f"no {expected['action']} entry"
    actor = expected["actor"]
    assert entry.actor_id == (actor.pk if actor else None)
    assert entry.actor_repr == (actor.get_username() if actor else "")
    plan = expected["plan"]
    assert entry.plan_id == (plan.pk if plan else None)
    obj = expected["obj"]
    assert (entry.object_type, entry.object_id) == (
        (obj._meta.label_lower, str(obj.pk)) if obj is not None else ("", ""))
    assert entry.revision_hash == expected.get("revision_hash", "")
    for key, value in expected["payload"].items():
        assert entry.payload.get(key) == value, key


def test_every_registered_state_change_has_a_scenario():
    covered = {s.__name__[2:].replace("_", ".", 1) for s in SCENARIOS}
    covered = {name.removesuffix("_by_import").removesuffix("_service") for name in covered}
    untested_elsewhere = {
        "auth.login_failed",  # test_login_failure_* below
    }
    assert set(ACTIONS) - covered - untested_elsewhere == set()


def test_a_whole_approval_reads_as_a_story(author, reviewer):
    plan, _ = approve_through_services(author=author, reviewer=reviewer)
    actions = [a for a in AuditEntry.objects.filter(plan_id=plan.pk).order_by("id")
               .values_list("action", flat=True) if a != "review.answered"]
    assert actions == ["plan.submitted", "review.started", "review.decided", "plan.approved"]


def test_login_failure_records_username_address_and_agent_never_the_password(client, author):
    client.post("/accounts/login/", {"username": "alice", "password": "S3cret-guess!"},
                REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="curl/8.5")
    entry = AuditEntry.objects.get(action="auth.login_failed")
    assert entry.payload == {"username": "alice"}
    assert entry.ip_address == "203.0.113.9"
    assert entry.user_agent == "curl/8.5"
    assert entry.actor is None
    stored = str(AuditEntry.objects.filter(pk=entry.pk).values().get())
    assert "S3cret-guess!" not in stored


def test_successful_login_writes_no_failure(client, author):
    client.post("/accounts/login/", {"username": "alice", "password": "pw"})
    assert not AuditEntry.objects.filter(action="auth.login_failed").exists()


def test_group_membership_changes_from_both_sides_and_clear(db):
    reviewers = Group.objects.get(name=REVIEWERS)
    user = UserFactory(username="dora")
    user.groups.add(reviewers)
    reviewers.user_set.remove(user)
    reviewers.user_set.add(user)
    user.groups.clear()
    entries = AuditEntry.objects.filter(object_id=str(user.pk), object_type="auth.user")
    assert list(entries.order_by("id").values_list("action", "payload__group")) == [
        ("group.member_added", REVIEWERS),
        ("group.member_removed", REVIEWERS),
        ("group.member_added", REVIEWERS),
        ("group.member_removed", REVIEWERS),
    ]


def test_adding_an_existing_member_again_writes_nothing(db):
    reviewers = Group.objects.get(name=REVIEWERS)
    user = UserFactory(username="erin", roles=[REVIEWERS])
    before = AuditEntry.objects.count()
    user.groups.add(reviewers)
    assert AuditEntry.objects.count() == before


def test_no_event_name_is_spelled_out_outside_its_definition():
    """Services, audit and notifications name events through the registry, never as a string:
    a string literal equal to a registered action anywhere in the apps' code (migrations, the
    modules that define events, and tests aside) fails here."""
    root = Path(__file__).resolve().parents[2]
    names = set(ACTIONS)
    literal = re.compile(r"""["']([a-z_]+\.[a-z_]+)["']""")
    found = []
    for app in ("accounts", "audit", "core", "notifications", "plans", "reviews", "config"):
        for path in (root / app).rglob("*.py"):
            if "migrations" in path.parts or path.name == "events.py" or path.name == "actions.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                found += [f"{path.relative_to(root)}:{number}: {name}"
                          for name in literal.findall(line) if name in names]
    assert len(names) > 20, "the registry looks empty"
    assert found == []

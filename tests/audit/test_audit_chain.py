"""The audit trail is a hash chain that the application can only append to."""

import contextlib

import pytest
from django.db import transaction
from django.db.models import ProtectedError

from audit.actions import ACTIONS, UnknownAuditAction
from audit.log import GENESIS_HASH, append, chain_hash, log, new_entry
from audit.management.commands.audit_verify import first_broken_link
from audit.models import AppendOnlyError, AuditEntry
from plans.services import plan_create
from tests.factories import AuthorFactory


@pytest.fixture
def three_entries(author):
    plan = plan_create(actor=author, title="First")
    log("plan.edited", actor=author, obj=plan, plan=plan, payload={"fields": ["title"]})
    log("comment.posted", actor=author, obj=plan, plan=plan, payload={"body": "ünïcode ✓"})
    return list(AuditEntry.objects.filter(plan_id=plan.pk).order_by("id"))


def test_the_first_entry_starts_from_the_genesis_hash(db):
    entry = log("auth.login_failed", payload={"username": "x"})
    assert entry.prev_hash == GENESIS_HASH


def test_each_entry_hashes_the_previous_one_and_its_own_content(three_entries):
    first, second, third = three_entries
    assert first.prev_hash == AuditEntry.objects.filter(pk__lt=first.pk).last().entry_hash
    assert second.prev_hash == first.entry_hash
    assert third.prev_hash == second.entry_hash
    for entry in three_entries:  # reloaded from the database: the hash still matches
        assert chain_hash(entry.prev_hash, entry) == entry.entry_hash
    assert len({e.entry_hash for e in three_entries}) == 3


def test_entry_records_actor_object_plan_and_payload(author):
    plan = plan_create(actor=author, title="Plan A")
    entry = AuditEntry.objects.get(action="plan.created")
    assert entry.actor == author and entry.actor_repr == "alice"
    assert (entry.object_type, entry.object_id, entry.object_repr) == (
        "plans.plan", str(plan.pk), "Plan A")
    assert entry.plan_id == plan.pk
    assert entry.created_at.utcoffset().total_seconds() == 0


def test_unknown_action_is_refused_and_nothing_is_written(author):
    before = AuditEntry.objects.count()
    with pytest.raises(UnknownAuditAction, match=r"plan\.teleported"):
        log("plan.teleported", actor=author)
    assert AuditEntry.objects.count() == before


def test_registry_holds_the_actions_the_services_use():
    for name in ("plan.created", "plan.approved", "review.decided", "group.member_added",
                 "auth.login_failed", "policy.changed", "checklist.changed"):
        assert name in ACTIONS


def test_entries_cannot_be_changed_or_deleted_through_the_orm(three_entries):
    entry = three_entries[1]
    entry.payload = {"forged": True}
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="plan.approved")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    entry.refresh_from_db()
    assert entry.payload == {"fields": ["title"]}
    assert AuditEntry.objects.filter(pk__in=[e.pk for e in three_entries]).count() == 3


def test_a_user_named_in_the_trail_cannot_be_deleted(author):
    plan_create(actor=author, title="Kept")
    with pytest.raises(ProtectedError):
        author.delete()


def test_deleting_a_plan_keeps_its_entries_unchanged(author):
    plan = plan_create(actor=author, title="Doomed")
    plan_id = plan.pk
    plan.delete()
    entry = AuditEntry.objects.get(action="plan.created")
    assert entry.plan_id == plan_id
    assert chain_hash(entry.prev_hash, entry) == entry.entry_hash


def test_request_address_and_agent_are_recorded_and_hash_stable(client, db):
    """An IPv6 address is stored normalised; the hash is taken of what the database returns."""
    AuthorFactory(username="carol")
    client.post("/accounts/login/", {"username": "carol", "password": "wrong"},
                REMOTE_ADDR="2001:0db8:0000:0000:0000:0000:0000:0001",
                HTTP_USER_AGENT="Mozilla/5.0 (Test)")
    entry = AuditEntry.objects.get(action="auth.login_failed")
    assert entry.ip_address == "2001:db8::1"
    assert entry.user_agent == "Mozilla/5.0 (Test)"
    assert chain_hash(entry.prev_hash, entry) == entry.entry_hash


def test_payload_is_stored_as_json_with_non_json_values_as_text(author):
    from decimal import Decimal

    entry = log("plan.edited", actor=author, payload={"hours": Decimal("2.5"), "n": 3})
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.payload == {"hours": "2.5", "n": 3}


def test_an_entry_rolled_back_with_its_savepoint_is_not_chained_onto(author):
    plan = plan_create(actor=author, title="Plan A")
    with transaction.atomic():
        kept = log("plan.edited", actor=author, obj=plan, plan=plan)
        with contextlib.suppress(RuntimeError), transaction.atomic():
            log("plan.edited", actor=author, obj=plan, plan=plan)
            raise RuntimeError("undone")
        after = log("plan.edited", actor=author, obj=plan, plan=plan)
    assert after.prev_hash == kept.entry_hash
    assert first_broken_link() == (AuditEntry.objects.count(), None)


def test_an_entry_rolled_back_with_a_manual_savepoint_is_not_chained_onto(author):
    """Each entry reads the chain's head afresh: one undone by transaction.savepoint_rollback
    (which atomic's bookkeeping never sees) is no link either."""
    plan = plan_create(actor=author, title="Plan A")
    with transaction.atomic():
        kept = log("plan.edited", actor=author, obj=plan, plan=plan)
        savepoint = transaction.savepoint()
        log("plan.edited", actor=author, obj=plan, plan=plan)
        transaction.savepoint_rollback(savepoint)
        after = log("plan.edited", actor=author, obj=plan, plan=plan)
    assert after.prev_hash == kept.entry_hash
    assert first_broken_link() == (AuditEntry.objects.count(), None)


def test_entries_appended_together_are_chained_in_order(author):
    """append() writes several entries at once (a decision and the outcome it settles, say):
    each chained onto the one before it, in the order given."""
    plan = plan_create(actor=author, title="Plan A")
    head = AuditEntry.objects.order_by("-id").first()
    with transaction.atomic():
        first, second = append(new_entry("review.decided", actor=author, obj=plan, plan=plan),
                               new_entry("plan.needs_revision", actor=author, obj=plan, plan=plan))
        assert append() == []  # nothing to append: nothing written
    stored = list(AuditEntry.objects.filter(pk__gt=head.pk).order_by("id"))
    assert [e.action for e in stored] == ["review.decided", "plan.needs_revision"]
    assert [e.pk for e in stored] == [first.pk, second.pk]
    assert (stored[0].prev_hash, stored[1].prev_hash) == (head.entry_hash, stored[0].entry_hash)
    assert first_broken_link() == (AuditEntry.objects.count(), None)


def test_an_entry_written_once_is_never_appended_again(db):
    """Kept from a transaction that rolled back, an entry still has its id: appending it again
    would put an old id after newer ones and fork the chain, so it is refused."""
    kept = new_entry("auth.login_failed", payload={"n": 1})
    with contextlib.suppress(RuntimeError), transaction.atomic():
        append(kept)
        raise RuntimeError("undone")
    log("auth.login_failed", payload={"n": 2})
    with pytest.raises(AppendOnlyError):
        append(kept)
    assert first_broken_link() == (AuditEntry.objects.count(), None)

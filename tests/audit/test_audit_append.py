"""append() writes its entries with a statement of its own (audit/log.py _insert), not through
bulk_create: what it stores must read back as the values it hashed, and the entries it returns
must be the saved rows (their ids set, known to be in the database)."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit.context import RequestInfo, current_request
from audit.log import append, canonical_content, new_entry
from audit.management.commands.audit_verify import first_broken_link
from audit.models import AppendOnlyError, AuditEntry
from plans.models import Plan
from plans.services import plan_create

#: Awkward text for every kind of column: quotes, a backslash, a percent sign (the SQL's
#: placeholders are %s), non-ASCII, an emoji outside the BMP, a newline.
AWKWARD = "Ça « marche » — l'équipe's \"plan\" \\ 100% ✓ 🚀\nnext line"


def awkward_entries(n: int, actor, plan) -> list[AuditEntry]:
    # The request's address in its long IPv6 form: stored (and hashed) in its short one.
    token = current_request.set(RequestInfo(
        ip_address="2001:0DB8:0000:0000:0000:0000:0000:0001", user_agent=f"Agent {AWKWARD}"))
    try:
        return [new_entry("comment.posted", actor=actor, obj=plan, plan=plan,
                          revision_hash=f"{i:064x}",
                          payload={"n": i, "body": AWKWARD, AWKWARD: [None, True, 1.5, {"k": ""}]})
                for i in range(n)]
    finally:
        current_request.reset(token)


@pytest.mark.parametrize("n", [1, 3, 4, 75])  # 4: past a statement of 3 (PostgreSQL); 75: of
def test_appended_entries_read_back_as_hashed_with_their_ids(author, n):  # 71 (SQLite)
    plan = plan_create(actor=author, title=AWKWARD.replace("\n", " "))
    head = AuditEntry.objects.order_by("-id").first()
    with transaction.atomic():
        appended = append(*awkward_entries(n, author, plan))
    assert [e.payload["n"] for e in appended] == list(range(n))  # in the order given
    ids = [e.pk for e in appended]
    assert all(isinstance(pk, int) for pk in ids) and ids == sorted(ids) and ids[0] > head.pk
    assert all(not e._state.adding and e._state.db == "default" for e in appended)
    stored = list(AuditEntry.objects.filter(pk__gt=head.pk).order_by("id"))
    assert [e.pk for e in stored] == ids
    for new, reloaded in zip(appended, stored, strict=True):
        # Every hashed value (created_at to the microsecond, in UTC; the payload's JSON; the
        # address, normalised) is what the database hands back.
        assert canonical_content(reloaded) == canonical_content(new)
        assert (reloaded.prev_hash, reloaded.entry_hash) == (new.prev_hash, new.entry_hash)
    assert stored[0].ip_address == "2001:db8::1"
    assert stored[0].payload[AWKWARD] == [None, True, 1.5, {"k": ""}]
    assert stored[0].created_at == appended[0].created_at
    assert stored[0].prev_hash == head.entry_hash
    assert first_broken_link() == (AuditEntry.objects.count(), None)


def test_an_appended_entry_is_a_saved_row(author):
    """Like an entry bulk_create saved: it cannot be saved or appended again, and its
    relations load from the database it was written to."""
    plan = plan_create(actor=author, title="Plan A")
    entry, = append(new_entry("plan.edited", actor=author, obj=plan, plan=plan))
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        append(entry)
    assert AuditEntry.objects.get(pk=entry.pk).actor == author
    assert first_broken_link() == (AuditEntry.objects.count(), None)


def test_a_few_entries_are_one_insert(author):
    """The entries of one change (a decision and its outcome) cost one statement after the
    lock; the query budgets of the writes count on it."""
    plan = plan_create(actor=author, title="Plan A")
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        append(*awkward_entries(3, author, plan))
    inserts = [q["sql"] for q in captured.captured_queries
               if q["sql"].startswith(f'INSERT INTO "{AuditEntry._meta.db_table}"')]
    assert len(inserts) == 1


def test_an_unsaved_plan_is_refused_and_nothing_is_written(author):
    """As bulk_create refused it: stored, the entry would name no plan."""
    before = AuditEntry.objects.count()
    # (The caller's transaction is undone with it, as any failed append undoes it.)
    with pytest.raises(ValueError, match="unsaved related object 'plan'"), transaction.atomic():
        append(new_entry("plan.edited", actor=author, plan=Plan(title="Never saved")))
    assert AuditEntry.objects.count() == before

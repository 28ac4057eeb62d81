"""Concurrent writers never fork the chain: appends are serialised (PostgreSQL advisory lock)."""

import threading

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from audit.log import ADVISORY_LOCK_KEY, log
from audit.models import AuditEntry
from plans.services import plan_create
from tests.factories import UserFactory

WRITERS = 20
PER_WRITER = 5


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_writers_leave_an_unbroken_chain(require_postgres, capsys):
    users = [UserFactory(username=f"writer{i}") for i in range(WRITERS)]
    before = AuditEntry.objects.count()
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(user):
        try:
            start.wait(timeout=30)
            for n in range(PER_WRITER):
                if n % 2:
                    plan_create(actor=user, title=f"{user.username} plan {n}")
                else:
                    with transaction.atomic():  # a longer transaction around the append
                        log("comment.posted", actor=user, payload={"n": n})
                        AuditEntry.objects.filter(actor=user).count()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=writer, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert AuditEntry.objects.count() == before + WRITERS * PER_WRITER
    prev_hashes = list(AuditEntry.objects.values_list("prev_hash", flat=True))
    assert len(prev_hashes) == len(set(prev_hashes)), "two entries claim the same predecessor"
    call_command("audit_verify")
    assert capsys.readouterr().out.splitlines()[0] == (
        f"{before + WRITERS * PER_WRITER} entries verified")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_an_append_holds_the_chain_until_its_transaction_ends(require_postgres):
    """The lock and the head come back in one round trip (audit.log, migration 0006), and the
    lock is the transaction's: another session cannot take the chain until it commits."""
    other = connection.copy()  # a second session on the same database

    def chain_is_free() -> bool:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
            return cursor.fetchone()[0]

    try:
        head = log("auth.login_failed", payload={"n": 1})
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            entry = log("comment.posted", payload={"n": 2})
            assert not chain_is_free()
        assert chain_is_free()
    finally:
        other.close()
    assert entry.prev_hash == head.entry_hash
    statements = [q["sql"] for q in queries.captured_queries
                  if not q["sql"].startswith(("BEGIN", "COMMIT"))]
    assert len(statements) == 2 and statements[1].startswith('INSERT INTO "audit_auditentry"')


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_an_append_under_a_stricter_isolation_level_is_refused(require_postgres):
    """Its snapshot would be older than the lock (a fork): nothing is written."""
    before = AuditEntry.objects.count()
    with pytest.raises(DatabaseError, match="READ COMMITTED only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        log("auth.login_failed", payload={"n": 1})
    assert AuditEntry.objects.count() == before

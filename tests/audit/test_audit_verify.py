"""`manage.py audit_verify` proves the trail intact, or names the first entry that was tampered
with; on PostgreSQL the database itself refuses UPDATE and DELETE."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from audit.log import chain_hash, log
from audit.models import AuditEntry


@pytest.fixture
def entries(db):
    return [log("auth.login_failed", payload={"username": f"user{i}"}) for i in range(5)]


def verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def behind_the_apps_back(sql: str, params: list) -> None:
    """Raw SQL; on PostgreSQL with the append-only trigger disabled for the statement."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The test's transaction holds deferred FK checks, which ALTER TABLE refuses.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_entry_append_only")


def test_an_intact_chain_verifies(entries):
    assert verify().splitlines()[0] == "5 entries verified"


def test_an_empty_trail_verifies(db):
    assert verify().splitlines()[0] == "0 entries verified"


def test_editing_an_entry_fails_verification_naming_it(entries):
    target = entries[2]
    behind_the_apps_back(
        "UPDATE audit_auditentry SET payload = %s WHERE id = %s",
        ['{"username": "someone-else"}', target.pk],
    )
    with pytest.raises(CommandError) as failure:
        verify()
    assert failure.value.returncode == 1
    assert f"entry #{target.pk} " in str(failure.value)
    assert "content does not match" in str(failure.value)
    assert "2 entries before it verified" in str(failure.value)


def test_editing_the_actor_name_fails_verification(entries):
    target = entries[0]
    behind_the_apps_back(
        "UPDATE audit_auditentry SET actor_repr = %s WHERE id = %s", ["mallory", target.pk]
    )
    with pytest.raises(CommandError, match=f"entry #{target.pk} "):
        verify()


def test_a_forged_entry_with_a_recomputed_hash_breaks_the_next_link(entries):
    """A forger who also recomputes the edited entry's own hash is caught at the next entry."""
    target, following = entries[1], entries[2]
    behind_the_apps_back(
        "UPDATE audit_auditentry SET payload = %s WHERE id = %s",
        ['{"username": "forged"}', target.pk],
    )
    forged = AuditEntry.objects.get(pk=target.pk)
    behind_the_apps_back(
        "UPDATE audit_auditentry SET entry_hash = %s WHERE id = %s",
        [chain_hash(forged.prev_hash, forged), target.pk],
    )
    with pytest.raises(CommandError) as failure:
        verify()
    assert f"entry #{following.pk} " in str(failure.value)
    assert "previous-hash does not match" in str(failure.value)


def test_deleting_an_entry_fails_verification_at_the_next_one(entries):
    behind_the_apps_back("DELETE FROM audit_auditentry WHERE id = %s", [entries[3].pk])
    with pytest.raises(CommandError) as failure:
        verify()
    assert f"entry #{entries[4].pk} " in str(failure.value)
    assert "previous-hash does not match" in str(failure.value)


@pytest.mark.services
def test_postgres_trigger_rejects_update(require_postgres, entries):
    with (pytest.raises(DatabaseError, match="append-only"), transaction.atomic(),
          connection.cursor() as cursor):
        cursor.execute(
            "UPDATE audit_auditentry SET action = 'plan.approved' WHERE id = %s", [entries[0].pk]
        )
    assert AuditEntry.objects.get(pk=entries[0].pk).action == "auth.login_failed"
    assert verify().splitlines()[0] == "5 entries verified"


@pytest.mark.services
def test_postgres_trigger_rejects_delete(require_postgres, entries):
    with (pytest.raises(DatabaseError, match="append-only"), transaction.atomic(),
          connection.cursor() as cursor):
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entries[0].pk])
    assert AuditEntry.objects.count() == 5

"""Signed checkpoints of the chain's head catch what the chain alone cannot: the newest entries
removed, or the chain rewritten with the project's own hash function (hardening finding 9)."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from audit import checkpoint
from audit.actions import AUTH_LOGIN_FAILED
from audit.log import chain_hash, log
from audit.models import AuditEntry
from tests.audit.test_audit_verify import behind_the_apps_back

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries():
    return [log(AUTH_LOGIN_FAILED, payload={"username": f"user{i}"}) for i in range(6)]


def verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def test_a_checkpoint_is_written_and_verify_matches_it(entries, settings):
    call_command("audit_checkpoint", stdout=StringIO())
    lines = settings.PLANGATE_AUDIT_CHECKPOINT_FILE.read_text().splitlines()
    written = json.loads(lines[-1])
    assert (written["count"], written["head_id"]) == (6, entries[-1].pk)
    assert "matches the checkpoint" in verify()


def test_without_a_checkpoint_verify_says_truncation_cannot_be_detected(entries):
    assert "no checkpoint yet" in verify()


def test_removing_the_newest_entries_is_detected(entries):
    checkpoint.write()
    behind_the_apps_back("DELETE FROM audit_auditentry WHERE id >= %s", [entries[-2].pk])
    from audit.management.commands.audit_verify import first_broken_link

    assert first_broken_link() == (4, None)  # the chain alone still holds
    with pytest.raises(CommandError, match=f"entry #{entries[-1].pk}.*is gone"):
        verify()


def test_rewriting_the_chain_with_the_projects_own_hash_is_detected(entries):
    checkpoint.write()
    rows = list(AuditEntry.objects.order_by("id"))
    rows[2].payload = {"username": "someone else"}
    previous = rows[1].entry_hash
    for row in rows[2:]:
        row.prev_hash = previous
        row.entry_hash = previous = chain_hash(previous, row)
        behind_the_apps_back(
            "UPDATE audit_auditentry SET payload = %s, prev_hash = %s, entry_hash = %s "
            "WHERE id = %s", [json.dumps(row.payload), row.prev_hash, row.entry_hash, row.pk])
    with pytest.raises(CommandError, match="no longer has the hash"):
        verify()


def test_a_checkpoint_signed_with_another_key_is_refused(entries, settings):
    checkpoint.write()
    settings.PLANGATE_AUDIT_CHECKPOINT_KEY = "an attacker's key"
    with pytest.raises(CommandError, match="not signed with this key"):
        verify()


def test_a_forged_checkpoint_line_is_refused(entries, settings):
    checkpoint.write()
    path = settings.PLANGATE_AUDIT_CHECKPOINT_FILE
    line = json.loads(path.read_text().splitlines()[-1])
    line["count"] = 3
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(CommandError, match="not signed with this key"):
        verify()


@pytest.mark.django_db(transaction=True)
def test_postgresql_refuses_truncate_and_replica_mode_does_not_bypass(require_postgres):
    log(AUTH_LOGIN_FAILED, payload={"username": "x"})
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditentry")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM audit_auditentry")
    assert AuditEntry.objects.count() == 1

"""audit.selectors.data_version, the version the cached pages are kept under, moves with every
write that can change a page, and stays put for the entries that change nothing shown (failed
logins, password changes): anyone can write a failed login, and each would reset every cache."""

import importlib

import pytest
from django.db import connection
from django.utils import timezone

from accounts.services import password_change
from audit.actions import UNVERSIONED
from audit.models import AuditEntry
from audit.selectors import data_version, latest_entry_hash
from plans.services import plan_create, plan_update

pytestmark = pytest.mark.django_db


def test_a_failed_login_leaves_the_version_unchanged(client, author):
    plan_create(actor=author, title="Anything")
    before = data_version()
    client.post("/accounts/login/", {"username": author.username, "password": "wrong guess"})
    assert AuditEntry.objects.order_by("-id").first().action == "auth.login_failed"
    assert data_version() == before


def test_a_password_change_leaves_the_version_unchanged(author):
    plan_create(actor=author, title="Anything")
    before = data_version()
    password_change(actor=author, user=author, old_password="pw",
                    new_password="a-long-new-passphrase-42")
    assert data_version() == before


def test_a_content_write_after_failed_logins_changes_the_version(client, author):
    plan = plan_create(actor=author, title="First title")
    client.post("/accounts/login/", {"username": author.username, "password": "wrong guess"})
    before = data_version()
    plan_update(actor=author, plan=plan, fields={"title": "Second title"})
    assert data_version() != before


def test_the_index_covers_the_same_actions():
    migration = importlib.import_module("audit.migrations.0005_versioned_entries_index")
    assert set(migration.UNVERSIONED) == set(UNVERSIONED)


def test_the_version_is_read_from_the_index_not_by_walking_back(author):
    """The newest versioned entry is one row of the partial index, however many failed logins
    came after it (on SQLite too, which uses a partial index only when the query's condition is
    written as the index's is)."""
    plan_create(actor=author, title="Anything")
    AuditEntry.objects.bulk_create(  # a burst of failed logins, as an attacker would write
        AuditEntry(action="auth.login_failed", created_at=timezone.now(), prev_hash="0" * 64,
                   entry_hash=f"{n:064x}") for n in range(2000))
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditentry" if connection.vendor == "postgresql"
                       else "ANALYZE")
        sql, params = latest_entry_hash().query.sql_with_params()
        cursor.execute(explain + sql, params)
        plan = "\n".join(str(row) for row in cursor.fetchall())
    assert "audit_entry_versioned" in plan

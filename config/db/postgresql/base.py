"""PostgreSQL for the test settings only: the audit trail refuses TRUNCATE (audit migration
0004), but test databases are emptied with it between transactional tests, so a flush disables
the audit triggers for its own statement and turns them back on after it."""

from django.db.backends.postgresql import base, operations

AUDIT_TABLE = "audit_auditentry"
TRIGGERS = ("audit_entry_append_only", "audit_entry_no_truncate")


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = super().sql_flush(style, tables, reset_sequences=reset_sequences,
                                       allow_cascade=allow_cascade)
        if AUDIT_TABLE not in tables or not statements:
            return statements
        return [
            f"ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER USER", *statements,
            *(f"ALTER TABLE {AUDIT_TABLE} ENABLE ALWAYS TRIGGER {name}" for name in TRIGGERS),
        ]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

"""An index of the entries audit.selectors.data_version reads: all but audit.actions.UNVERSIONED
(failed logins, password changes). Without it the newest such entry is found by walking back
over every newer failed login, one row each: a burst of them would slow every page."""

from django.db import migrations

UNVERSIONED = ("auth.login_failed", "account.password_changed")  # as in audit/actions.py

CREATE = ("CREATE INDEX audit_entry_versioned ON audit_auditentry (id) WHERE action NOT IN ("
          + ", ".join(f"'{name}'" for name in UNVERSIONED) + ")")


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_no_truncate_no_replica_bypass")]
    operations = [migrations.RunSQL(CREATE, "DROP INDEX audit_entry_versioned")]

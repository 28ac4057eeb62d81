"""The embedded default (SQLite, no DATABASE_URL) takes writes from several processes and
threads at once (runserver's threads, a management command beside the server): a writer waits
for the one before it instead of failing with "database is locked"."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 3
PLANS = 15

WRITE = """
from django.contrib.auth import get_user_model
from plans.models import Plan
from plans.services import plan_create, plan_update
author = get_user_model().objects.create_user("{name}")
for n in range({plans}):
    plan = plan_create(actor=author, title=f"{{author}} {{n}}")
    plan_update(actor=author, plan=plan, fields={{"title": f"{{author}} {{n}} (edited)"}})
print(Plan.objects.filter(author=author, title__endswith="(edited)").count())
"""


def _manage(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_concurrent_writers_on_the_default_database_all_succeed(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "HOME": str(tmp_path),
            "PLANGATE_AUDIT_CHECKPOINT_FILE": str(tmp_path / "checkpoints.jsonl")}
    migrate = _manage(env, "migrate", "--verbosity", "0")
    assert migrate.wait(timeout=300) == 0, migrate.stderr.read()[-2000:]
    writers = [_manage(env, "shell", "-c", WRITE.format(name=f"writer{n}", plans=PLANS))
               for n in range(WRITERS)]
    results = [writer.communicate(timeout=300) for writer in writers]
    for writer, (out, err) in zip(writers, results, strict=True):
        assert writer.returncode == 0, err[-2000:]
        assert out.split()[-1] == str(PLANS), err[-2000:]
    verify = _manage(env, "audit_verify")
    out, err = verify.communicate(timeout=300)
    assert verify.returncode == 0, out + err

"""Load and fault test: the whole stack under 20 clients, with the worker and then Redis killed.

Run: `make faults` (or `.venv/bin/python -m bench.faults [--quick]`). Loopback only; it starts
everything it uses and stops only the processes it started, by PID (the worker and Redis by
their own process group), in ``finally``:

- a fresh PostgreSQL database (FAULTS_DATABASE, default plangate_faults; dropped at the end);
- a private Redis on a free port (no persistence: killed, it comes back empty), the broker and
  the cache;
- gunicorn (config.wsgi, 3 sync workers as in the Dockerfile, DEBUG off, production's
  shape) and a Celery worker and Celery beat, as `make worker` and `make beat` run them;
- an SMTP sink in this process (aiosmtpd) that records every message's Message-ID.

Phases (seconds; --quick or FAULTS_QUICK=1 for 10/8/8 while developing):
1. steady: 60 s of 20 clients (bench/_faults_load.py);
2. worker: 30 s; after 5 s the worker's process group gets SIGKILL, 5 s later a new worker;
3. redis: 30 s; after 5 s Redis gets SIGKILL, 5 s later a new, empty Redis on the same port.

After each phase the load stops and the outbox may drain for RECOVERY_LIMIT seconds; then:
no 5xx at all (the design allows none: with Redis down pages render without the cache, the
throttles fail open and notifications wait in the outbox); every accepted decision is in the
database and in the audit trail, and `manage.py audit_verify` passes (against the checkpoint
written after the previous phase); every email outbox row was received by the sink (unique
Message-IDs == email rows; a second copy is allowed only for a row sent more than once, the
at-least-once case of a worker killed mid-send) and every inbox row made exactly one inbox item;
no outbox row left pending, sending or failed. Results: a table on stdout and bench/faults.json;
the exit status is 1 if any check fails.

The delivery timings are scaled down (FAULT_SETTINGS) so that a phase recovers in seconds: with
the production defaults the same mechanisms take minutes (visibility timeout 300 s, sweep every
60 s, "sending" stale after 300 s).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "faults.json"
CLIENTS = 20
PHASES = {"steady": 60, "worker": 30, "redis": 30}
QUICK_PHASES = {"steady": 10, "worker": 8, "redis": 8}
KILL_AFTER = 5.0  # seconds into a fault phase
RESTART_AFTER = 5.0  # seconds after the kill
RECOVERY_LIMIT = 60.0  # seconds after the load stops for the outbox to drain
ALLOWED_5XX = 0  # see the module docstring: the design allows none
PASSWORD = "faults-Correct-Horse-7"  # throwaway users of a throwaway database
AUTHORS, REVIEWERS = 4, 5
EMAIL_DOMAIN = "plangate.test"

#: Delivery timings for the test, through the settings' environment variables
#: (config/settings/base.py). Recovery bound: a lost task is sent again once it is
#: VISIBILITY + SWEEP_INTERVAL old, at the next sweep; a killed worker's fetched tasks come
#: back after VISIBILITY; a row left "sending" is sent again after STALE_SENDING + a sweep.
FAULT_SETTINGS = {
    "PLANGATE_BROKER_VISIBILITY_TIMEOUT": "20",
    "PLANGATE_OUTBOX_SWEEP_INTERVAL": "5",
    "PLANGATE_OUTBOX_SWEEP_AFTER_SECONDS": "8",
    "PLANGATE_STALE_SENDING_SECONDS": "15",
    "PLANGATE_NOTIFY_BACKOFF_BASE": "1",
    "PLANGATE_NOTIFY_BACKOFF_MAX": "10",
    "PLANGATE_API_RATE": "100000/min",  # the rate limit is not what this measures
}


# --- evaluation (pure: tests/project/test_bench_faults.py) ----------------------------------------
def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def outbox_message_id(outbox_id: int, domain: str = EMAIL_DOMAIN) -> str:
    """The Message-ID notifications.services.message_id gives an outbox row."""
    return f"<plangate-outbox-{outbox_id}@{domain}>"


def email_delivery(rows: dict[int, int], seen: list[str], domain: str = EMAIL_DOMAIN) -> dict:
    """Compare the email outbox rows ({id: attempts}) with the Message-IDs the sink received.

    Missing: a row whose Message-ID never arrived. Unexpected: a Message-ID of no row (of this
    phase). Duplicates: copies beyond the first; those of a row attempted once are a bug (only
    a row sent again after its worker died may arrive twice)."""
    expected = {outbox_message_id(pk, domain): pk for pk in rows}
    counts: dict[str, int] = {}
    for message_id in seen:
        counts[message_id] = counts.get(message_id, 0) + 1
    arrived = {m for m in counts if m in expected}
    duplicates = {m: n - 1 for m, n in counts.items() if n > 1 and m in expected}
    return {
        "expected": len(expected), "unique": len(arrived),
        "missing": sorted(expected[m] for m in set(expected) - arrived),
        "unexpected": sorted(m for m in counts if m not in expected),
        "duplicates": sum(duplicates.values()),
        "unexplained_duplicates": sorted(expected[m] for m in duplicates
                                         if rows[expected[m]] < 2),
    }


def request_figures(responses: list[tuple[float, str, int, float]], seconds: float) -> dict:
    """Count, rate, latency and statuses of (time, what, status, ms) responses."""
    ms = [r[3] for r in responses if r[2]]
    statuses: dict[str, int] = {}
    refused: dict[str, int] = {}  # what answered 4xx, 5xx or nothing, and how often
    for _, what, status, _ in responses:
        key = "transport" if status == 0 else f"{status // 100}xx"
        statuses[key] = statuses.get(key, 0) + 1
        if status == 0 or status >= 400:
            refused[f"{what} {status}"] = refused.get(f"{what} {status}", 0) + 1
    return {
        "requests": len(responses),
        "requests_per_s": round(len(responses) / seconds, 1) if seconds else 0.0,
        "p50_ms": round(statistics.median(ms), 1) if ms else None,
        "p95_ms": round(percentile(ms, 0.95), 1) if ms else None,
        "max_ms": round(max(ms), 1) if ms else None,
        "statuses": statuses,
        "refused": dict(sorted(refused.items())),
        "5xx": statuses.get("5xx", 0),
        "transport_errors": statuses.get("transport", 0),
    }


def failures(phase: dict, *, allowed_5xx: int = ALLOWED_5XX,
             recovery_limit: float = RECOVERY_LIMIT) -> list[str]:
    """Every check a phase's figures fail, in words (empty: the phase passed)."""
    found = []
    requests, emails, outbox = phase["requests"], phase["emails"], phase["outbox"]
    if requests["requests"] == 0:
        found.append("no requests were made")
    if requests["5xx"] > allowed_5xx:
        found.append(f"{requests['5xx']} responses were 5xx (allowed: {allowed_5xx})")
    if requests["transport_errors"]:
        found.append(f"{requests['transport_errors']} requests got no answer or the client failed")
    if phase["decisions"]["missing"]:
        found.append(f"accepted decisions not in the database or the audit trail: "
                     f"{phase['decisions']['missing'][:10]}")
    if not phase["audit_verify"]["ok"]:
        found.append(f"audit_verify failed: {phase['audit_verify']['output'][-300:]}")
    if emails["missing"]:
        found.append(f"{len(emails['missing'])} emails never arrived "
                     f"(outbox {emails['missing'][:10]})")
    if emails["unexpected"]:
        found.append(f"{len(emails['unexpected'])} emails match no outbox row")
    if emails["unexplained_duplicates"]:
        found.append(f"emails sent twice though attempted once: {emails['unexplained_duplicates']}")
    if outbox["inbox_missing"] or outbox["inbox_extra"]:
        found.append(f"inbox rows without exactly one inbox item: missing "
                     f"{outbox['inbox_missing'][:10]}, extra {outbox['inbox_extra'][:10]}")
    stuck = {k: outbox[k] for k in ("pending", "sending", "failed") if outbox[k]}
    if stuck:
        found.append(f"outbox rows stuck after the recovery time: {stuck}")
    drained = phase["recovery"].get("drained_after_load_s")
    if drained is None or drained > recovery_limit:
        found.append(f"the outbox did not drain within {recovery_limit:.0f} s of the load stopping")
    return found


# --- in a subprocess: seed the database -----------------------------------------------------------
def _seed() -> dict:
    import django

    django.setup()
    # Imported once Django is set up (this runs in a fresh subprocess), not to dodge a cycle.
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from accounts.roles import ADMINS
    from accounts.roles import AUTHORS as AUTHORS_GROUP
    from accounts.roles import REVIEWERS as REVIEWERS_GROUP
    from api.services import token_create
    from plans.services import plan_import_markdown, plan_submit

    call_command("migrate", verbosity=0, interactive=False)
    users = get_user_model().objects
    people = []

    def person(username: str, group: str, role: str, **extra):
        user = users.create_user(username, f"{username}@{EMAIL_DOMAIN}", PASSWORD, **extra)
        user.groups.add(Group.objects.get(name=group))
        token = token_create(actor=user, user=user, name="faults bench")[1]
        people.append({"username": username, "role": role, "token": token, "plans": []})
        return user, people[-1]

    texts = _texts()
    authors = [person(f"author{n}", AUTHORS_GROUP, "author") for n in range(AUTHORS)]
    for n in range(REVIEWERS):
        person(f"reviewer{n}", REVIEWERS_GROUP, "reviewer")
    _, admin_row = person("admin", ADMINS, "admin", is_staff=True)
    for n, (user, row) in enumerate(authors):
        for text in (texts[n % len(texts)], texts[(n + 1) % len(texts)]):
            plan = plan_import_markdown(actor=user, text=text)
            plan_submit(actor=user, plan=plan)
            row["plans"].append(plan.pk)
            admin_row["plans"].append(plan.pk)
    return {"people": people}


def _texts() -> list[str]:
    """Plans complete enough to submit: two demo plans (low and high risk steps) and the
    tests' example (a high-risk step: two approvals)."""
    files = [BASE_DIR / "plans" / "demo" / "01-session-cache.md",
             BASE_DIR / "plans" / "demo" / "02-webhook-signatures.md",
             BASE_DIR / "tests" / "data" / "rate-limit-login.md"]
    return [f.read_text() for f in files]


# --- in-process checks against the database (after django.setup()) -------------------------------
def _outbox_state(first_id: int, last_id: int) -> dict:
    """Rows of this phase (first_id < id <= last_id): statuses, email attempts, inbox items."""
    # Imported once Django is set up (main() sets it up), not to dodge a cycle.
    from django.db.models import Count

    from notifications.models import OutboxMessage

    rows = OutboxMessage.objects.filter(pk__gt=first_id, pk__lte=last_id)
    statuses = dict(rows.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    inbox = list(rows.filter(channel="inbox").annotate(items=Count("inbox_item"))
                 .values_list("pk", "items"))
    return {
        "rows": sum(statuses.values()),
        "sent": statuses.get("sent", 0), "pending": statuses.get("pending", 0),
        "sending": statuses.get("sending", 0), "failed": statuses.get("failed", 0),
        "email_attempts": dict(rows.filter(channel="email", status="sent")
                               .values_list("pk", "attempts")),
        "email_rows": rows.filter(channel="email").count(),
        "inbox_missing": [pk for pk, items in inbox if items == 0],
        "inbox_extra": [pk for pk, items in inbox if items > 1],
    }


def _last_delivery(first_id: int, last_id: int, created_before: float) -> float | None:
    """When (Unix time) the last of this phase's rows created before ``created_before`` was
    delivered: the rows a fault stranded are all out by then."""
    from django.db.models import Max

    from notifications.models import OutboxMessage  # after django.setup(), see above

    last = OutboxMessage.objects.filter(
        pk__gt=first_id, pk__lte=last_id,
        created_at__lte=datetime.fromtimestamp(created_before, tz=UTC),
    ).aggregate(last=Max("sent_at"))["last"]
    return last.timestamp() if last else None


def _last_outbox_id() -> int:
    from notifications.models import OutboxMessage  # after django.setup(), see above

    return OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _decisions_missing(decisions: list[dict]) -> list[dict]:
    """Accepted decisions whose review row or audit entry does not say so."""
    from audit.models import AuditEntry  # after django.setup(), see above
    from reviews.models import Review

    reviews = {r.pk: r for r in Review.objects.filter(pk__in=[d["review"] for d in decisions])
               .select_related("revision")}
    logged = {(int(e.object_id), e.payload.get("decision"), e.payload.get("revision"))
              for e in AuditEntry.objects.filter(
                  action="review.decided", object_id__in=[str(d["review"]) for d in decisions])}
    missing = []
    for d in decisions:
        review = reviews.get(d["review"])
        in_db = (review is not None and review.decision == d["decision"]
                 and review.revision.number == d["revision"] and review.plan_id == d["plan"])
        if not in_db or (d["review"], d["decision"], d["revision"]) not in logged:
            missing.append(d)
    return missing


# --- processes ------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """The processes this script starts, each in its own process group, stopped in stop()."""

    def __init__(self, tmp: Path, env: dict) -> None:
        self.tmp, self.env = tmp, env
        self.processes: dict[str, subprocess.Popen] = {}
        self.bin = Path(sys.executable).parent
        self.lock = threading.RLock()  # start/kill against the supervisor
        self.restarts: list[dict] = []  # by the supervisor: (service, time)
        self._supervising = threading.Event()

    def supervise(self, starters: dict) -> None:
        """Restart a service that exits on its own, as docker-compose.yml's ``restart:
        unless-stopped`` does in production (Celery's worker can exit with "Unrecoverable
        error" when the broker vanishes mid-reconnect). A service this script killed is left
        to the fault plan, which restarts it itself."""
        def loop() -> None:
            while not self._supervising.wait(0.5):
                with self.lock:
                    for name, start in starters.items():
                        process = self.processes.get(name)
                        if process is not None and process.poll() is not None:
                            self.restarts.append({"service": name, "at": time.time(),
                                                  "exit_code": process.returncode})
                            start()
        threading.Thread(target=loop, daemon=True, name="supervisor").start()

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("ab")
        with self.lock:
            process = subprocess.Popen(  # noqa: S603 - our own programs, fixed arguments
                argv, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
            self.processes[name] = process
        return process

    def kill(self, name: str) -> None:
        """SIGKILL the process and everything in its group (a worker's pool children too)."""
        with self.lock:
            process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self, name: str) -> None:
        with self.lock:
            process = self.processes.pop(name, None)
        if process is None:
            return
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            except ProcessLookupError:
                pass

    def stop_all(self) -> None:
        self._supervising.set()
        for name in reversed(list(self.processes)):
            self.stop(name)

    def log_tail(self, name: str, chars: int = 8000) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    # the services
    def redis(self, port: int) -> None:
        self.start("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(port),
                             "--save", "", "--appendonly", "no"])
        _wait(lambda: _redis_ping(port), 20, "redis did not start")

    def worker(self) -> None:
        self.start("worker", [str(self.bin / "celery"), "-A", "config.celery_app", "worker",
                              "--loglevel=INFO", "--concurrency=2", "--pool=prefork",
                              "--without-gossip", "--without-mingle", "-n",
                              f"faults-{time.monotonic_ns()}@%h"])

    def beat(self) -> None:
        self.start("beat", [str(self.bin / "celery"), "-A", "config.celery_app", "beat",
                            "--loglevel=INFO", "-s", str(self.tmp / "celerybeat-schedule")])

    def gunicorn(self, port: int) -> None:
        self.start("gunicorn", [str(self.bin / "gunicorn"), "config.wsgi:application",
                                "--workers", "3", "--worker-class", "sync",
                                "--bind", f"127.0.0.1:{port}", "--timeout", "30",
                                "--log-level", "warning"])
        _wait(lambda: _healthy(port), 60,
              "gunicorn did not start: " + self.log_tail("gunicorn"))


def _wait(ready, seconds: float, message: str) -> float:
    began = time.monotonic()
    while not ready():
        if time.monotonic() - began > seconds:
            raise RuntimeError(message)
        time.sleep(0.2)
    return time.monotonic() - began


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _healthy(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            return b" 200 " in sock.recv(64)
    except OSError:
        return False


def _manage(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True,
        text=True, timeout=timeout,
    )


def _database(admin_url: str, name: str, *, create: bool) -> None:
    import psycopg  # a dependency of the project; imported here because only this needs it

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


# --- the test -------------------------------------------------------------------------------------
def _phase(name: str, seconds: float, *, load, recorder, sink, stack, env, fault, state) -> dict:
    """Run the load for ``seconds`` (with ``fault`` at KILL_AFTER), drain, check."""
    from django.core.management import call_command  # after django.setup(), see above

    first_id = state["last_outbox_id"]
    responses_before, decisions_before = len(recorder.responses), len(recorder.decisions)
    errors_before = len(recorder.errors)
    seen_before = state["seen"]  # the sink's count when the previous phase had drained
    recovery: dict = {}
    began, began_at = time.monotonic(), time.time()
    load.start()
    killed_at = restarted_at = None
    if fault:
        time.sleep(KILL_AFTER)
        killed_at = time.time()
        fault("kill")
        time.sleep(RESTART_AFTER)
        fault("restart")
        restarted_at = time.time()
        recovery["kill_to_restart_s"] = round(restarted_at - killed_at, 1)
    time.sleep(max(0.0, seconds - (time.monotonic() - began)))
    load.stop()
    load_seconds = time.monotonic() - began
    stopped_at = time.monotonic()

    # Drain: until nothing is pending or sending and every sent email reached the sink.
    deadline = stopped_at + RECOVERY_LIMIT
    while True:
        last_id = _last_outbox_id()
        outbox = _outbox_state(first_id, last_id)
        emails = email_delivery(outbox["email_attempts"], sink.seen()[seen_before:])
        settled = (outbox["pending"] == 0 and outbox["sending"] == 0 and not emails["missing"]
                   and outbox["email_rows"] == len(outbox["email_attempts"]) + outbox["failed"])
        if settled or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if settled:
        recovery["drained_after_load_s"] = round(time.monotonic() - stopped_at, 1)
    if settled and restarted_at is not None:
        # Everything recorded up to the restart (what the fault could strand) delivered: when?
        delivered = _last_delivery(first_id, last_id, restarted_at)
        if delivered is not None:
            recovery["kill_to_stranded_delivered_s"] = round(delivered - killed_at, 1)
            recovery["restart_to_stranded_delivered_s"] = round(delivered - restarted_at, 1)
    state["last_outbox_id"], state["seen"] = last_id, len(sink.seen())
    decisions = recorder.decisions[decisions_before:]
    verify = _manage(env, "audit_verify")
    call_command("audit_checkpoint", stdout=io.StringIO())  # the next audit_verify checks it
    result = {
        "phase": name, "seconds": round(load_seconds, 1), "fault": fault is not None,
        "requests": request_figures(recorder.responses[responses_before:], load_seconds),
        "decisions": {"accepted": len(decisions),
                      "approved": sum(d["decision"] == "APPROVED" for d in decisions),
                      "missing": _decisions_missing(decisions)},
        "audit_verify": {"ok": verify.returncode == 0,
                         "output": (verify.stdout + verify.stderr).strip()},
        "emails": emails,
        "outbox": {k: v for k, v in outbox.items() if k != "email_attempts"},
        "recovery": recovery,
        "alive_after": {service: process.poll() is None
                        for service, process in stack.processes.items()},
        # Services that exited on their own and were restarted, as `restart: unless-stopped`
        # does in production (not a failure: what the design allows).
        "supervisor_restarts": [r for r in stack.restarts if r["at"] >= began_at],
        "errors_sample": recorder.errors[errors_before:errors_before + 10],
    }
    result["failures"] = failures(result)
    result["passed"] = not result["failures"]
    return result


def run_faults(quick: bool = False) -> dict:
    # Imported here: the clients need httpx and aiosmtpd, which only this command needs.
    from . import _faults_load as loadkit

    phases = QUICK_PHASES if quick else PHASES
    tmp = Path(tempfile.mkdtemp(prefix="plangate-faults-"))
    pg_admin = os.environ.get("FAULTS_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    db_name = os.environ.get("FAULTS_DATABASE", "plangate_faults")
    redis_port, smtp_port, web_port = _free_port(), _free_port(), _free_port()
    env = {
        **os.environ, **FAULT_SETTINGS,
        "DJANGO_SETTINGS_MODULE": "config.settings.local", "DJANGO_DEBUG": "false",
        "DATABASE_URL": f"{pg_admin.rsplit('/', 1)[0]}/{db_name}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "DJANGO_DEFAULT_FROM_EMAIL": f"Plangate <plangate@{EMAIL_DOMAIN}>",
        "PLANGATE_SITE_URL": f"http://127.0.0.1:{web_port}",
        "PLANGATE_AUDIT_CHECKPOINT_FILE": str(tmp / "audit-checkpoints.jsonl"),
        "PLANGATE_AUDIT_CHECKPOINT_KEY": "faults-bench-checkpoint-key",
        "DJANGO_LOG_LEVEL": "WARNING", "PYTHONPATH": str(BASE_DIR),
    }
    stack = Stack(tmp, env)
    sink = loadkit.SmtpSink(smtp_port)
    clients: list = []
    results: dict = {"phases": []}
    timings: dict = {}
    keep = False  # the logs of a failed run are kept in tmp for a look
    began = mark = time.monotonic()
    try:
        _database(pg_admin, db_name, create=True)
        sink.start()
        stack.redis(redis_port)
        seeded = subprocess.run(
            [sys.executable, "-m", "bench.faults", "seed"], cwd=BASE_DIR, env=env,
            capture_output=True, text=True, timeout=300,
        )
        if seeded.returncode:
            raise RuntimeError("seeding failed: " + seeded.stderr[-3000:])
        people = json.loads(seeded.stdout.strip().splitlines()[-1])["people"]
        timings["migrate_and_seed_s"] = round(time.monotonic() - mark, 1)
        mark = time.monotonic()
        static = _manage(env, "collectstatic", "--noinput", timeout=300)
        if static.returncode:
            raise RuntimeError("collectstatic failed: " + static.stderr[-3000:])
        timings["collectstatic_s"] = round(time.monotonic() - mark, 1)
        mark = time.monotonic()
        stack.worker()
        stack.beat()
        stack.supervise({"worker": stack.worker, "beat": stack.beat})
        stack.gunicorn(web_port)
        timings["gunicorn_start_s"] = round(time.monotonic() - mark, 1)
        mark = time.monotonic()

        os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL",
                                              "REDIS_URL", "DJANGO_DEBUG", "DJANGO_LOG_LEVEL",
                                              "PLANGATE_AUDIT_CHECKPOINT_FILE",
                                              "PLANGATE_AUDIT_CHECKPOINT_KEY", *FAULT_SETTINGS)})
        import django

        django.setup()
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # the sink's per-command log
        base_url = f"http://127.0.0.1:{web_port}"
        with ThreadPoolExecutor(4) as pool:  # each login hashes a password: in parallel
            logged_in = pool.map(lambda p: loadkit.login(base_url, p["username"], PASSWORD),
                                 people)
            cookies = dict(zip([p["username"] for p in people], logged_in, strict=True))
        timings["login_s"] = round(time.monotonic() - mark, 1)
        recorder = loadkit.Recorder()
        texts = _texts()
        for n in range(CLIENTS):
            user = people[n % len(people)]
            clients.append(loadkit.Client(base_url=base_url, user=user,
                                          cookies=cookies[user["username"]], recorder=recorder,
                                          texts=texts, seed=n))
        load = loadkit.Load(clients)
        state = {"last_outbox_id": 0, "seen": 0}  # the seed's notifications: first phase

        def worker_fault(step: str) -> None:
            stack.kill("worker") if step == "kill" else stack.worker()

        def redis_fault(step: str) -> None:
            stack.kill("redis") if step == "kill" else stack.redis(redis_port)

        for name, fault in (("steady", None), ("worker", worker_fault), ("redis", redis_fault)):
            phase = _phase(name, phases[name], load=load, recorder=recorder, sink=sink,
                           stack=stack, env=env, fault=fault, state=state)
            results["phases"].append(phase)
            timings[f"{name}_phase_s"] = round(time.monotonic() - mark, 1)
            mark = time.monotonic()
            print(f"phase {name}: {'passed' if phase['passed'] else 'FAILED'}", flush=True)
        results["passed"] = all(p["passed"] for p in results["phases"])
        timings["total_s"] = round(time.monotonic() - began, 1)
        results["timings"] = timings
        if not results["passed"]:
            results["logs"] = {name: stack.log_tail(name) for name in ("gunicorn", "worker",
                                                                        "beat")}
            keep = True
        results["setup"] = {
            "clients": CLIENTS, "phases_s": phases, "kill_after_s": KILL_AFTER,
            "restart_after_s": RESTART_AFTER, "recovery_limit_s": RECOVERY_LIMIT,
            "allowed_5xx": ALLOWED_5XX, "gunicorn": "3 sync workers (as the Dockerfile), DEBUG off",
            "celery": "1 worker (prefork, concurrency 2) + beat", "settings": FAULT_SETTINGS,
        }
        return results
    finally:
        for client in clients:
            client.close()
        stack.stop_all()
        sink.stop()
        try:
            from django.db import connections  # set up above, if we got that far

            connections.close_all()
        except Exception:  # noqa: S110 - best effort before dropping the database
            pass
        try:
            _database(pg_admin, db_name, create=False)
        except Exception as exc:
            print(f"could not drop {db_name}: {exc}", file=sys.stderr)
        if keep:
            print(f"logs of the failed run: {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def table(results: dict) -> str:
    rows = [("phase", "requests", "req/s", "p50 ms", "p95 ms", "5xx", "decisions",
             "emails exp/uniq/dup", "recovery (s)", "result")]
    for p in results["phases"]:
        r, e, rec = p["requests"], p["emails"], p["recovery"]
        recovery = rec.get("drained_after_load_s")
        if "kill_to_restart_s" in rec:
            recovery = (f"kill→restart {rec['kill_to_restart_s']}, →stranded delivered "
                        f"{rec.get('kill_to_stranded_delivered_s', '-')}; load→drained "
                        f"{rec.get('drained_after_load_s', '-')}")
        rows.append((p["phase"], str(r["requests"]), str(r["requests_per_s"]), str(r["p50_ms"]),
                     str(r["p95_ms"]), str(r["5xx"]), str(p["decisions"]["accepted"]),
                     f"{e['expected']}/{e['unique']}/{e['duplicates']}", str(recovery),
                     "pass" if p["passed"] else "FAIL"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    for p in results["phases"]:
        lines += [f"{p['phase']}: {failure}" for failure in p["failures"]]
        lines += [f"{p['phase']}: {r['service']} exited by itself (code {r['exit_code']}); "
                  "restarted as `restart: unless-stopped` would"
                  for r in p.get("supervisor_restarts", [])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["seed"]:
        print(json.dumps(_seed()))
        return 0
    quick = "--quick" in args or os.environ.get("FAULTS_QUICK") == "1"
    results = run_faults(quick=quick)
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(table(results))
    print("timings (s): " + ", ".join(f"{k} {v}" for k, v in results["timings"].items()))
    print(f"{'PASSED' if results['passed'] else 'FAILED'}; details in {RESULTS}")
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""Waiting that scales: a plan page's time with 100 clients waiting on decisions vs. none.

Clients wait for a decision by short polls: GET /api/v1/plans/<id> with If-None-Match every
2 s, answered 304 from one small query (api/presenters.py plan_etag). This measures what that
costs the people using the site, on the production server shape: gunicorn with 2 sync workers on
127.0.0.1 (a free port, DEBUG off) over a throwaway SQLite database created and seeded here.

1. median/p95 of PAGE_LOADS loads of a plan page (/plans/<id>/, signed in) with no one waiting;
2. the same while WAITERS clients (threads of a second process, each with its own API token,
   bounded to WAIT_SECONDS and to their poll count) poll one of the plans under review;
3. the ratio of the two (aim: <= 1.5).
Only the processes started here are stopped, by their PID.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PAGE_LOADS = int(os.environ.get("WAITING_BENCH_PAGE_LOADS", "200"))
WAITERS = int(os.environ.get("WAITING_BENCH_WAITERS", "100"))
POLL_SECONDS = 2.0
WAIT_SECONDS = 120  # the waiters' process gives up after this, whatever happens
PLANS = 10


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _summary(ms):
    return {"n": len(ms), "median_ms": round(statistics.median(ms), 2),
            "p95_ms": round(_percentile(ms, 0.95), 2), "max_ms": round(max(ms), 2)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(database: Path) -> dict:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DJANGO_DEBUG": "false", "DATABASE_URL": f"sqlite:///{database}", "REDIS_URL": "",
            "DJANGO_LOG_LEVEL": "WARNING", "PYTHONPATH": str(BASE_DIR)}


def _get(port: int, path: str, headers: dict) -> tuple[int, float, str | None]:
    """(status, milliseconds, ETag) of one GET on a new connection (sync workers close it)."""
    began = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, (time.perf_counter() - began) * 1000, response.getheader("ETag")
    finally:
        conn.close()


def _page_times(port: int, path: str, cookie: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        status, ms, _ = _get(port, path, {"Cookie": cookie})
        if status != 200:
            raise RuntimeError(f"plan page answered {status}")
        times.append(ms)
    return times


# --- in a subprocess: seed the throwaway database ------------------------------------------------
def _seed() -> dict:
    import django

    django.setup()
    # Imported once Django is set up (this runs in a fresh subprocess), not to dodge a cycle.
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from accounts.roles import AUTHORS, REVIEWERS
    from api.services import token_create
    from plans.services import plan_import_markdown, plan_submit

    call_command("migrate", verbosity=0, interactive=False)
    users = get_user_model().objects
    author = users.create_user("bench-author", "author@example.com", "pw")
    author.groups.add(Group.objects.get(name=AUTHORS))
    users.create_user("bench-reviewer", "reviewer@example.com", "pw").groups.add(
        Group.objects.get(name=REVIEWERS))
    text = (Path(__file__).parents[1] / "tests" / "data" / "rate-limit-login.md").read_text()
    plans = []
    for _ in range(PLANS):
        plan = plan_import_markdown(actor=author, text=text)
        plan_submit(actor=author, plan=plan)
        plans.append(plan.pk)
    tokens = [token_create(actor=author, user=author, name=f"waiter {n}")[1]
              for n in range(WAITERS)]
    session = SessionStore()
    session.update({SESSION_KEY: str(author.pk), HASH_SESSION_KEY: author.get_session_auth_hash(),
                    BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend"})
    session.create()
    return {"plans": plans, "tokens": tokens, "cookie": f"sessionid={session.session_key}"}


# --- in a subprocess: the waiting clients ---------------------------------------------------------
def _wait(port: int, plans: list[int], tokens: list[str], seconds: float, ready: Path,
          stop: Path) -> dict:
    """Each thread polls until the stop file appears, or ``seconds`` pass, or it made as many
    polls as fit in ``seconds``."""
    stop_at = time.monotonic() + seconds
    counts = {"200": 0, "304": 0, "other": 0}
    times: list[float] = []
    lock = threading.Lock()

    def waiter(n: int) -> None:
        path = f"/api/v1/plans/{plans[n % len(plans)]}"
        headers = {"Authorization": f"Bearer {tokens[n]}"}
        time.sleep(random.uniform(0, POLL_SECONDS))  # spread the first polls
        polls = 0
        while (time.monotonic() < stop_at and polls < seconds / POLL_SECONDS + 1
               and not stop.exists()):
            began = time.monotonic()
            try:
                status, ms, etag = _get(port, path, headers)
            except OSError:
                status, ms, etag = 0, 0.0, None
            polls += 1
            if status == 200 and etag:
                headers["If-None-Match"] = etag  # as a client does: the next poll is a 304
            with lock:
                counts[str(status) if status in (200, 304) else "other"] += 1
                times.append(ms)
            time.sleep(max(0.0, POLL_SECONDS - (time.monotonic() - began)))

    threads = [threading.Thread(target=waiter, args=(n,), daemon=True) for n in range(len(tokens))]
    for thread in threads:
        thread.start()
    ready.write_text("started")
    for thread in threads:
        thread.join(timeout=max(0.0, stop_at - time.monotonic()) + 35)
    return {"polls": counts, "poll_time": _summary(times) if times else {}}


# --- the benchmark ------------------------------------------------------------------------------
def run() -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="plangate-waiting-bench-"))
    database = tmp / "bench.sqlite3"
    env = _env(database)
    python = sys.executable
    started: list[subprocess.Popen] = []
    try:
        seeded = subprocess.run(  # noqa: S603 - our own interpreter and module
            [python, "-m", "bench.waiting", "seed"], cwd=BASE_DIR, env=env, check=True,
            capture_output=True, text=True, timeout=300,
        )
        seed = json.loads(seeded.stdout.strip().splitlines()[-1])
        port = _free_port()
        gunicorn = str(Path(python).parent / "gunicorn")
        server = subprocess.Popen(  # noqa: S603
            [gunicorn, "config.wsgi:application", "--workers", "2", "--worker-class", "sync",
             "--bind", f"127.0.0.1:{port}", "--timeout", "30", "--log-level", "warning",
             "--error-logfile", str(tmp / "gunicorn.log")],
            cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        started.append(server)
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(port, "/healthz", {})[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start: " + (tmp / "gunicorn.log").read_text())
            time.sleep(0.2)

        page = f"/plans/{seed['plans'][0]}/"
        _page_times(port, page, seed["cookie"], 20)  # warm both workers up
        baseline = _page_times(port, page, seed["cookie"], PAGE_LOADS)

        ready = tmp / "waiters-ready"
        args = json.dumps({"port": port, "plans": seed["plans"], "tokens": seed["tokens"],
                           "seconds": WAIT_SECONDS, "ready": str(ready),
                           "stop": str(tmp / "waiters-stop")})
        (tmp / "waiters.json").write_text(args)
        waiters = subprocess.Popen(  # noqa: S603
            [python, "-m", "bench.waiting", "wait", str(tmp / "waiters.json")], cwd=BASE_DIR,
            env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        started.append(waiters)
        while not ready.exists():
            if waiters.poll() is not None:
                raise RuntimeError("the waiting clients did not start")
            time.sleep(0.1)
        time.sleep(POLL_SECONDS * 2)  # every waiter has polled at least once
        loaded = _page_times(port, page, seed["cookie"], PAGE_LOADS)
        (tmp / "waiters-stop").write_text("stop")
        report, _ = waiters.communicate(timeout=60)
        polls = json.loads(report.strip().splitlines()[-1]) if report.strip() else {}
        base, busy = _summary(baseline), _summary(loaded)
        return {
            "what": "plan page (/plans/<id>/) on gunicorn, 2 sync workers, SQLite, DEBUG off",
            "waiting_clients": WAITERS, "poll_every_s": POLL_SECONDS,
            "no_waiters": base, "with_waiters": busy, "waiters": polls,
            "median_ratio_with_vs_without": round(busy["median_ms"] / base["median_ms"], 2),
            "p95_ratio_with_vs_without": round(busy["p95_ms"] / base["p95_ms"], 2),
        }
    finally:
        for process in reversed(started):  # only what we started, by PID
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["seed"]:
        print(json.dumps(_seed()))
    elif sys.argv[1:2] == ["wait"]:
        options = json.loads(Path(sys.argv[2]).read_text())
        print(json.dumps(_wait(options["port"], options["plans"], options["tokens"],
                               options["seconds"], Path(options["ready"]),
                               Path(options["stop"]))))

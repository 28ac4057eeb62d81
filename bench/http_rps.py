"""Requests per second over HTTP: the plan detail page against the bare view.

gunicorn with 2 sync workers (DEBUG off, bench/settings.py) serves the bench database on a free
port of 127.0.0.1; a second process (``python -m bench.loadgen``) keeps a bounded number of
requests in flight (CONCURRENCY threads, each waiting for its answer before sending the next)
and alternates between the two URLs in phases of PHASE_SECONDS, several rounds, so both see the
same machine. Every response that is not a 200 counts as an error. Only the processes started
here are stopped, by their PID.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.urls import reverse
from django.utils.crypto import get_random_string

from .loadgen import get as _get
from .stats import spread

BASE_DIR = Path(__file__).resolve().parent.parent
CONCURRENCY = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _session_cookie(user) -> str:
    """The cookies of a signed-in browser: its session, and the CSRF cookie the first page it
    saw set (without it every page with a form would make a new CSRF secret and set it again,
    which no browser makes a server do)."""
    session = SessionStore()
    session.update({SESSION_KEY: str(user.pk), HASH_SESSION_KEY: user.get_session_auth_hash(),
                    BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend"})
    session.create()
    csrf = get_random_string(CSRF_SECRET_LENGTH, allowed_chars=CSRF_ALLOWED_CHARS)
    return (f"{settings.SESSION_COOKIE_NAME}={session.session_key}; "
            f"{settings.CSRF_COOKIE_NAME}={csrf}")


def _env(database_url: str, queue: str) -> dict:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "DJANGO_DEBUG": "false",
            "DATABASE_URL": database_url, "REDIS_URL": settings.REDIS_URL or "",
            "CELERY_TASK_DEFAULT_QUEUE": queue, "PYTHONPATH": str(BASE_DIR),
            "CONN_MAX_AGE": "60"}  # as docker-compose runs it


# --- in the bench process ----------------------------------------------------------------------
def run(fx, *, database_url: str, queue: str, rounds: int, seconds: float) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="plangate-http-bench-"))
    port = _free_port()
    env = _env(database_url, queue)
    bin_dir = Path(sys.executable).parent
    log = tmp / "gunicorn.log"
    server = subprocess.Popen(  # noqa: S603 - our own virtualenv's gunicorn
        [str(bin_dir / "gunicorn"), "config.wsgi:application", "--workers", "2",
         "--worker-class", "sync", "--bind", f"127.0.0.1:{port}", "--timeout", "60",
         "--log-level", "warning", "--error-logfile", str(log)],
        cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        cookie = _session_cookie(fx.users["author"])
        paths = {"detail": reverse("plans:detail", args=[fx.plan_small]),
                 "baseline": reverse("bench_bare", args=[fx.plan_small])}
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(port, "/healthz", "") == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start: " + log.read_text()[-2000:])
            time.sleep(0.2)
        for path in paths.values():  # warm both workers (imports, caches)
            for _ in range(4):
                status = _get(port, path, cookie)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status} over HTTP: "
                                       + log.read_text()[-2000:])
        options = {"port": port, "paths": paths, "cookie": cookie, "rounds": rounds,
                   "seconds": seconds, "concurrency": CONCURRENCY}
        loader = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bench.loadgen", json.dumps(options)], cwd=BASE_DIR,
            env=env, capture_output=True, text=True, timeout=rounds * seconds * 2 + 120,
            check=True,
        )
        phases = json.loads(loader.stdout.strip().splitlines()[-1])
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    detail = statistics.median(p["rps"] for p in phases["detail"])
    baseline = statistics.median(p["rps"] for p in phases["baseline"])
    return {
        "what": "gunicorn, 2 sync workers, DEBUG off; plan detail (1 step) vs the bare view; "
                f"{CONCURRENCY} requests in flight from a second process",
        "detail_rps": round(detail, 1), "baseline_rps": round(baseline, 1),
        "ratio": round(detail / baseline, 3),
        "errors": sum(p["errors"] for ps in phases.values() for p in ps),
        "ratio_spread": spread([d["rps"] / b["rps"] for d, b in
                                zip(phases["detail"], phases["baseline"], strict=True)]),
        "rounds": rounds, "phase_seconds": seconds,
    }



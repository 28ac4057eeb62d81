"""Test and benchmark helpers: a webhook receiver on 127.0.0.1 and a real Celery worker process.

Used by tests/notifications/, tests/e2e/test_real_services.py and bench/notify_latency.py.
"""

import contextlib
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from config.celery_app import app
from core.cache_backend import RedisCache
from notifications.tasks import ping


def shared_cache() -> RedisCache:
    """The Redis cache that the app's other processes (a worker) use. Tests run on a local
    memory cache of their own, so a value a worker wrote is read through this one."""
    return RedisCache(settings.REDIS_URL, {})

BASE_DIR = Path(settings.BASE_DIR)


class WebhookReceiver:
    """An HTTP server in a thread that checks each call the way a receiver should, and
    records it: the X-Plangate-Signature must be the HMAC-SHA256 of "<timestamp>.<body>" with
    the X-Plangate-Timestamp sent, and that timestamp within five minutes of now.

    `statuses` is the sequence of status codes to answer with; the last one repeats.
    """

    def __init__(self, secret: str, statuses=(200,), location: str = ""):
        self.secret = secret
        self.statuses = list(statuses)
        self.location = location  # sent with a 3xx
        self.calls: list[dict] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                timestamp = self.headers.get("X-Plangate-Timestamp", "")
                expected = "sha256=" + hmac.new(
                    receiver.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
                ).hexdigest()
                signature = self.headers.get("X-Plangate-Signature", "")
                fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 300
                valid = fresh and hmac.compare_digest(expected, signature)
                with receiver._lock:
                    index = len(receiver.calls)
                    status = receiver.statuses[min(index, len(receiver.statuses) - 1)]
                    if not valid:
                        status = 401
                    receiver.calls.append({
                        "payload": json.loads(body), "valid": valid, "status": status,
                        "delivery": self.headers.get("X-Plangate-Delivery"),
                    })
                self.send_response(status)
                if receiver.location and 300 <= status < 400:
                    self.send_header("Location", receiver.location)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"no")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def ok_calls(self) -> list[dict]:
        return [c for c in self.calls if c["status"] < 300]


def database_url_for_current_connection() -> str:
    """A DATABASE_URL pointing at the database this process is connected to (the test DB)."""
    s = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("A worker process can only share a PostgreSQL database")
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


def read_email_files(directory: Path) -> list[str]:
    """Messages written by Django's file-based email backend (one or more per file)."""
    messages = []
    for path in sorted(Path(directory).glob("*.log")):
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                messages.append(chunk)
    return messages


class CeleryWorker:
    """A `celery worker` subprocess on its own queue, sharing this process's database and Redis.

    Enter it to start (waits until it answers a ping) and exit to stop it. While entered, this
    process's Celery app publishes to the worker's queue and no longer runs tasks eagerly.
    """

    def __init__(self, *, redis_url: str, email_dir: Path, database_url: str | None = None,
                 env: dict | None = None, pool: str = "solo", log_path: Path | None = None):
        self.queue = f"plangate-test-{uuid.uuid4().hex[:12]}"
        self.redis_url = redis_url
        self.email_dir = Path(email_dir)
        self.database_url = database_url or database_url_for_current_connection()
        self.extra_env = env or {}
        self.pool = pool
        self.log_path = log_path or self.email_dir.parent / f"{self.queue}.log"
        self.process: subprocess.Popen | None = None
        self._saved: dict = {}

    def __enter__(self):
        self.email_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "0",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "EMAIL_URL": f"filemail:///{self.email_dir.resolve()}",  # four slashes: absolute
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "PLANGATE_NOTIFY_BACKOFF_BASE": "0.2",
            "PLANGATE_NOTIFY_MAX_RETRIES": "3",
            "PLANGATE_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",  # WebhookReceiver listens there
            **self.extra_env,
        }
        celery = str(Path(sys.executable).parent / "celery")
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(  # noqa: S603 (fixed argv, our own venv)
            [celery, "-A", "config.celery_app", "worker", f"--pool={self.pool}",
             "--concurrency=1", "-Q", self.queue, "--without-gossip", "--without-mingle",
             "--without-heartbeat", "--loglevel=INFO", "-n", f"{self.queue}@%h"],
            cwd=BASE_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        conf = app.conf
        self._saved = {"task_always_eager": conf.task_always_eager,
                       "task_default_queue": conf.task_default_queue,
                       "broker_url": conf.broker_url}
        conf.task_always_eager = False
        conf.task_default_queue = self.queue
        set_broker(self.redis_url)
        try:
            self.pid = self.wait_ready()
        except Exception:
            self.__exit__(None, None, None)
            raise
        return self

    def wait_ready(self, timeout: float = 60) -> int:
        """Send ping tasks until the worker runs one; return the worker's pid."""
        deadline = time.monotonic() + timeout
        token = uuid.uuid4().hex
        ping.delay(token)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Celery worker exited early; see {self.log_path}:\n"
                                   + Path(self.log_path).read_text()[-3000:])
            pid = shared_cache().get(f"plangate:ping:{token}")
            if pid:
                return pid
            time.sleep(0.1)
        raise TimeoutError(f"Celery worker did not answer a ping; see {self.log_path}")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        for key, value in self._saved.items():
            if key != "broker_url":
                setattr(app.conf, key, value)
        if self._saved:
            set_broker(self._saved["broker_url"])
        self._saved = {}

    def log_text(self) -> str:
        return Path(self.log_path).read_text()


def set_broker(url: str) -> None:
    """Point this process's Celery app at another broker (drops pooled connections)."""
    app.conf.broker_url = url
    app._pool = None  # kombu's producer pools are keyed by connection URL, so old ones stay valid
    with contextlib.suppress(AttributeError):
        app.amqp._producer_pool = None


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.05, message: str = ""):
    """Poll until predicate() is truthy; return its value or fail with `message`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message or f"timed out after {timeout}s waiting for {predicate}")

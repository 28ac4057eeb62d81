"""One writer of the concurrent write figure (bench/writes.py), in a process of its own:

    python -m bench.writer DATABASE_URL --plan ID --author ID --reviewers ID [ID ...]
                           --rounds N --seconds S [--also-alone]

It connects to that database only (PostgreSQL on 127.0.0.1), publishes on commit the way the
bench process does (to the queue in CELERY_TASK_DEFAULT_QUEUE, never running a task itself),
runs one untimed cycle (its connection, imports, caches), prints
``{"ready": <pid>}`` and waits for the start time (seconds since the epoch) on stdin, so every
writer starts at the same moment. It then runs the bench's cycles on its plan for N rounds of
two windows of S seconds (the same windows on the clock for every writer): in the first of each
round every writer writes, in the second only the one started ``--also-alone`` (the others
sleep), so the one writer's rate and all of theirs are measured alternately, on the same
machine. A writer starts a cycle only when the window has time left for one as long as its
last, so no cycle runs into the next window; each window reports its cycles and the time they
took (a writer's rate in it is the one over the other, its idle end left out). It prints its
figures as one JSON line, among them the time it spent in the statement that takes the audit
chain's advisory lock and reads its head (audit/log.py): waiting for the other writers'
transactions that hold the lock to commit.
A cycle that raises is counted as an error and the writer goes on; after MAX_ERRORS it stops,
since a cycle broken half-way leaves the plan where the next one cannot start.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from urllib.parse import urlsplit

import django

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAX_ERRORS = 5


def local_database(url: str) -> bool:
    """Whether ``url`` is a PostgreSQL database on this machine: the only databases the
    concurrent writers may write to."""
    parts = urlsplit(url)
    return parts.scheme in {"postgres", "postgresql", "pgsql"} and parts.hostname in LOCAL_HOSTS


def _arguments(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.writer",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--plan", type=int, required=True)
    parser.add_argument("--author", type=int, required=True)
    parser.add_argument("--reviewers", type=int, nargs="+", required=True)
    parser.add_argument("--rounds", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--also-alone", action="store_true",
                        help="write in the windows where one writer writes alone, too")
    args = parser.parse_args(argv)
    if not local_database(args.database_url):
        parser.error("only a PostgreSQL database on 127.0.0.1")
    return args


class ChainLockWait:
    """An execute wrapper that adds up the time spent in the chain lock's statement."""

    def __init__(self, statement: str) -> None:
        self.statement = statement
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        if sql != self.statement:
            return execute(sql, params, many, context)
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - began


def _timed(cycle, author, reviewers, plan_id: int, *, start_at: float, rounds: int,
           seconds: float, also_alone: bool, lock_wait: ChainLockWait) -> dict:
    windows = [0] * (2 * rounds)  # cycles in (all writers, the lone writer) per round
    busy = [0.0] * (2 * rounds)  # the seconds those cycles took

    def due(window: int) -> bool:
        return window % 2 == 0 or also_alone

    errors: list[str] = []
    end = start_at + len(windows) * seconds
    time.sleep(max(0.0, start_at - time.time()))
    cpu = time.process_time()
    done, last = 0, 0.0
    while (now := time.time()) < end and len(errors) < MAX_ERRORS:
        window = int(max(0.0, now - start_at) // seconds)
        window_end = start_at + (window + 1) * seconds
        if not due(window) or window_end - now < last:
            time.sleep(max(0.0, window_end - now))
            continue
        try:
            cycle(author, reviewers[done % len(reviewers)], plan_id)
        except Exception as exc:  # the figure's "errors": reported, never hidden
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
            continue
        done += 1
        finished = time.time()
        last = finished - now
        if finished < window_end:
            windows[window] += 1
            busy[window] += last
    return {"pid": os.getpid(), "cycles_per_window": windows,
            "busy_s_per_window": [round(s, 4) for s in busy], "errors": len(errors),
            "error_messages": errors, "chain_lock_wait_s": round(lock_wait.seconds, 4),
            "cycle_cpu_ms": round((time.process_time() - cpu) / max(done, 1) * 1000, 2)}


def main(argv=None) -> int:
    args = _arguments(sys.argv[1:] if argv is None else argv)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DATABASE_URL"] = args.database_url
    django.setup()
    # Imported once Django is set up on that database (this runs in a fresh process), not to
    # dodge a cycle.
    from django.contrib.auth import get_user_model
    from django.db import connection

    from audit.log import LOCK_AND_READ_HEAD
    from config.celery_app import app

    from .writes import cycle

    # As in the bench process (bench/db.py): tasks are published, never run here (without
    # Redis the settings would run them eagerly, in this process).
    app.conf.task_always_eager = False
    users = get_user_model().objects.in_bulk([args.author, *args.reviewers])
    author, reviewers = users[args.author], [users[pk] for pk in args.reviewers]
    cycle(author, reviewers[0], args.plan)
    print(json.dumps({"ready": os.getpid()}), flush=True)
    start_at = float(sys.stdin.readline())
    lock_wait = ChainLockWait(LOCK_AND_READ_HEAD)
    with connection.execute_wrapper(lock_wait):
        figures = _timed(cycle, author, reviewers, args.plan, start_at=start_at,
                         rounds=args.rounds, seconds=args.seconds, also_alone=args.also_alone,
                         lock_wait=lock_wait)
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

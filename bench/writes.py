"""Write throughput: submit → start review → decide (needs revision) cycles through the services,
on a plan with 10 requested reviewers, notifications recorded (outbox rows written and their
delivery published to the bench's queue after commit), against one plain ORM save.

A cycle makes two transitions (submitted, sent back for revision). Rounds of CYCLES cycles
alternate with rounds of as many plain saves (one committed UPDATE of another plan's title, with
no signal receivers: ``Plan.save()`` would also run the app's own on-commit work, e.g. the
search index's), so both see the same machine. The query counts of each write are taken with 1 and
with 10 recipients: they must be the same. A write's own count is its transaction's statements;
what runs once it committed (the broker publish, other apps' on-commit work) is counted apart.

``floor`` says what the database alone makes a cycle cost (its three commits and the round trips
of its statements) and ``cycle_cpu_ms`` this process's own work per cycle: what stands between
``transitions_per_s`` and ``floor.transitions_per_s`` is the application's code, not the server.

``concurrent()``: how that scales with writers at once, as production runs several web processes. W
writer processes (``python -m bench.writer``, default: the CPU cores, at least 2, at most
MAX_WRITERS) run the same cycles, each on a plan of its own with 10 requested reviewers, against
the bench's database (on 127.0.0.1 only), started together once each has warmed up, in rounds of
two windows of the same seconds on the clock: all W writers, then the first alone
(bench/writer.py). The all-writers windows' aggregate transitions/s give the spread, their median
the figure; ``scaling`` is it over the single process's figure of the same run (bench process,
rounds of cycles alternating with plain saves), ``scaling_to_one_writer`` over the lone writer's
windows, which alternate with the others on the same machine (the steadier ratio when other work
shares the cores). Different plans never wait for each other's rows, but every audit entry takes
the chain's advisory lock until its transaction commits (audit/log.py): that part of each write
runs one at a time, whatever W. The audit chain must still verify afterwards: a fork would be a
real bug, so it fails the section (a harness error), as does a writer that does not report. On
SQLite the figure is skipped, with the reason in results.json: its one write lock for the whole
file serialises every writer (each write transaction waits for it: config/settings/base.py), so
there is nothing to scale.
"""

from __future__ import annotations

import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.management.commands.audit_verify import first_broken_link
from core import compiled
from notifications.models import OutboxMessage
from plans.models import Plan
from plans.services import plan_submit
from reviews.models import Decision
from reviews.services import review_decide, review_start

from .http_rps import BASE_DIR
from .http_rps import _env as process_env  # the environment of every process the bench starts
from .stats import spread
from .writer import local_database

CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")
#: Concurrent writers: by default one per CPU core (at least 2), never more than MAX_WRITERS
#: (each holds a database connection); READY_SECONDS for each to start and warm up, and
#: TIMEOUT_MARGIN past the last window before the stragglers are killed.
MAX_WRITERS = 16
WRITERS = min(MAX_WRITERS, max(2, os.cpu_count() or 1))
READY_SECONDS = 120
TIMEOUT_MARGIN = 60


def _split(captured) -> tuple[int, int]:
    """(statements of the write's own transaction, statements run after it committed: the
    on-commit work, e.g. the broker publish and what other apps do on commit)."""
    own = after = 0
    committed = False
    for query in captured.captured_queries:
        sql = query["sql"]
        if sql.startswith(CONTROL):
            continue
        if sql.startswith("COMMIT"):
            committed = True
        elif committed:
            after += 1
        else:
            own += 1
    return own, after


def cycle(author, reviewer, plan_id: int, counts: dict | None = None) -> None:
    # Queries are captured only when counted: capturing logs every statement (its SQL
    # formatted), work the timed cycles must not pay.
    capture = (lambda: CaptureQueriesContext(connection)) if counts is not None else nullcontext
    plan = Plan.objects.get(pk=plan_id)
    with capture() as submit:
        plan_submit(actor=author, plan=plan)
    with capture() as start:
        review = review_start(actor=reviewer, plan=plan)
    with capture() as decide:
        review_decide(actor=reviewer, review=review, decision=Decision.NEEDS_REVISION,
                      comment="Say how the fallback is tested.")
    if counts is not None:
        for name, captured in (("submit", submit), ("start", start), ("decide", decide)):
            counts[name], counts[f"{name}_after_commit"] = _split(captured)


def query_counts(fx) -> dict:
    """{"submit": {"1": n, "10": n}, "start": ..., "decide": ...} (after a warm-up cycle)."""
    author, reviewer = fx.users["author"], fx.reviewers[0]
    by_recipients = {}
    for label, plan_id in (("1", fx.plan_writes_one), ("10", fx.plan_writes)):
        cycle(author, reviewer, plan_id)
        counts: dict = {}
        cycle(author, reviewer, plan_id, counts)
        by_recipients[label] = counts
    writes = ("submit", "start", "decide", "submit_after_commit", "start_after_commit",
              "decide_after_commit")
    return {write: {label: by_recipients[label][write] for label in by_recipients}
            for write in writes}


def _median_ms(work, times: int = 200) -> float:
    samples = []
    for _ in range(times):
        began = time.perf_counter()
        work()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000


def _read_commit() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # a transaction that writes nothing: no WAL to flush


def _round_trip() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def floor(queries: dict, save_ms: float) -> dict:
    """What a cycle costs at the least on this database: its three writes each commit (a WAL
    flush, as long as one committed UPDATE: ``save_ms``), and each of its other statements is a
    round trip (``SELECT 1`` through the driver, no ORM). What the cycle takes beyond this is
    the application's own work (the ORM, templates, hashing, the broker publish)."""
    statements = sum(queries[w]["10"] for w in ("submit", "start", "decide"))
    round_trip = _median_ms(_round_trip)
    read_commit = _median_ms(_read_commit)
    cycle_ms = 3 * save_ms + (statements - 3) * round_trip
    return {
        "what": "3 committed writes (each as long as one committed UPDATE) plus the cycle's "
                "other statements at one round trip each",
        "commits_per_cycle": 3,
        "statements_per_cycle": statements,
        "round_trip_ms": round(round_trip, 3),
        "read_only_commit_ms": round(read_commit, 3),
        "write_commit_ms": round(save_ms, 3),
        "cycle_ms": round(cycle_ms, 2),
        "transitions_per_s": round(2000 / cycle_ms, 1),
    }


def run(fx, *, rounds: int, cycles: int) -> dict:
    author = fx.users["author"]
    reviewers = fx.reviewers[:10]
    queries = query_counts(fx)
    other = Plan.objects.get(pk=fx.plan_small)
    outbox_before = OutboxMessage.objects.count()
    cycle_s, save_s, cpu_s = [], [], []
    done = 0
    for _ in range(rounds):
        began, cpu = time.perf_counter(), time.process_time()
        for n in range(cycles):
            cycle(author, reviewers[(done + n) % len(reviewers)], fx.plan_writes)
        cycle_s.append((time.perf_counter() - began) / cycles)
        cpu_s.append((time.process_time() - cpu) / cycles)
        done += cycles
        began = time.perf_counter()
        for n in range(cycles):
            Plan.objects.filter(pk=other.pk).update(title=f"One step ({n})",
                                                    updated_at=timezone.now())
        save_s.append((time.perf_counter() - began) / cycles)
    outbox_rows = (OutboxMessage.objects.count() - outbox_before) / done
    per_cycle, per_save = statistics.median(cycle_s), statistics.median(save_s)
    per_transition = per_cycle / 2
    return {
        "what": "submit → review start → decide (needs revision), 10 requested reviewers, "
                "notifications recorded; against one committed UPDATE of a plan",
        "cycles_per_s": round(1 / per_cycle, 1),
        "transitions_per_s": round(1 / per_transition, 1),
        "save_ms": round(per_save * 1000, 3),
        "cycle_ms": round(per_cycle * 1000, 2),
        "transition_ratio_to_save": round(per_transition / per_save, 1),
        "cycle_ratio_to_save": round(per_cycle / per_save, 1),
        "outbox_rows_per_cycle": round(outbox_rows, 1),
        "queries": queries,
        "queries_per_cycle": sum(queries[w]["10"] for w in queries),
        "spread_transitions_per_s": spread([2 / s for s in cycle_s]),
        "cycles": done,
        # This process's CPU per cycle (Python, the ORM, the driver): the rest is waiting for
        # the database and the broker.
        "cycle_cpu_ms": round(statistics.median(cpu_s) * 1000, 2),
        "floor": floor(queries, per_save * 1000),
        "compiled_queries": compiled_ab(fx, rounds=rounds, cycles=cycles),
    }


def compiled_ab(fx, *, rounds: int, cycles: int) -> dict:
    """What the compiled queries (core.compiled) save the write cycle: rounds of CYCLES cycles
    with them, then as many with every query built by the ORM, alternating; CPU per cycle."""
    author, reviewers = fx.users["author"], fx.reviewers[:10]
    cpu: dict[bool, list[float]] = {True: [], False: []}
    try:
        for n in range(2 * rounds):
            compiled.enabled = on = n % 2 == 0
            began = time.process_time()
            for k in range(cycles):
                cycle(author, reviewers[k % len(reviewers)], fx.plan_writes)
            cpu[on].append((time.process_time() - began) / cycles * 1000)
    finally:
        compiled.enabled = True
    with_, without = statistics.median(cpu[True]), statistics.median(cpu[False])
    return {"what": "CPU per cycle with the compiled queries, and with every query built by "
                    "the ORM (core.compiled.enabled off), in alternating rounds",
            "cycle_cpu_ms": round(with_, 2), "orm_built_cycle_cpu_ms": round(without, 2),
            "ratio": round(with_ / without, 2)}


# --- concurrent writers ------------------------------------------------------------------------
def _start_writer(database_url: str, plan_id: int, author, reviewers, env: dict, log: Path, *,
                  rounds: int, seconds: float, also_alone: bool) -> subprocess.Popen:
    argv = [sys.executable, "-m", "bench.writer", database_url, "--plan", str(plan_id),
            "--author", str(author.pk), "--reviewers", *(str(r.pk) for r in reviewers),
            "--rounds", str(rounds), "--seconds", str(seconds),
            *(["--also-alone"] if also_alone else [])]
    with log.open("w") as stderr:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and module
            argv, cwd=BASE_DIR, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=stderr, text=True)


def _line(writer: subprocess.Popen, log: Path, deadline: float) -> dict:
    """The writer's next JSON line, or RuntimeError (with its log) when it has none in time."""
    ready, _, _ = select.select([writer.stdout], [], [], max(0.0, deadline - time.monotonic()))
    line = writer.stdout.readline() if ready else ""
    if not line:
        raise RuntimeError(f"writer {writer.pid} did not report (exit code {writer.poll()}): "
                           + log.read_text()[-2000:])
    return json.loads(line)


def _stop(writers: list[subprocess.Popen]) -> None:
    """Kill, by PID, each writer this bench started that is still running."""
    for writer in writers:
        if writer.poll() is None:
            writer.kill()
            writer.wait()


def verify_chain(*, writers: int) -> int:
    """How many audit entries verify (audit_verify's walk of the chain); RuntimeError, which
    fails the section, when the chain does not: writers that forked it (two entries after the
    same head) would be a real bug, not a figure."""
    checked, broken = first_broken_link()
    if broken:
        raise RuntimeError(f"the audit chain does not verify after {writers} concurrent "
                           f"writers: {broken} ({checked} entries before it verified)")
    return checked


def concurrent_skip_reason(database_url: str) -> str | None:
    if connection.vendor != "postgresql":
        return ("needs PostgreSQL: on SQLite concurrent writers take turns with the one write "
                "lock of the whole file, so there is nothing to scale")
    if not local_database(database_url):
        return "concurrent writers write only to a database on 127.0.0.1"
    return None


def concurrent(fx, *, database_url: str, queue: str, rounds: int, seconds: float,
               single_transitions_per_s: float) -> dict:
    if reason := concurrent_skip_reason(database_url):
        return {"skipped": reason}
    author, reviewers = fx.users["author"], fx.reviewers[:10]
    plans = fx.plans_concurrent
    if not 2 <= len(plans) <= MAX_WRITERS:
        raise ValueError(f"{len(plans)} concurrent writers: between 2 and {MAX_WRITERS}")
    env = process_env(database_url, queue)
    writers: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="plangate-writers-") as tmp:
        logs = [Path(tmp) / f"writer-{n}.log" for n in range(len(plans))]
        try:
            for n, (plan_id, log) in enumerate(zip(plans, logs, strict=True)):
                writers.append(_start_writer(database_url, plan_id, author, reviewers, env, log,
                                             rounds=rounds, seconds=seconds, also_alone=n == 0))
            deadline = time.monotonic() + READY_SECONDS
            for writer, log in zip(writers, logs, strict=True):
                _line(writer, log, deadline)
            start_at = time.time() + 0.2  # every writer has it before it comes
            for writer in writers:
                writer.stdin.write(f"{start_at}\n")
                writer.stdin.close()
            deadline = time.monotonic() + 0.2 + 2 * rounds * seconds + TIMEOUT_MARGIN
            figures = [_line(writer, log, deadline) for writer, log in zip(writers, logs,
                                                                              strict=True)]
            for writer in writers:
                writer.wait(timeout=max(0.0, deadline - time.monotonic()))
        finally:
            _stop(writers)
    checked = verify_chain(writers=len(writers))
    windows = [(f["cycles_per_window"], f["busy_s_per_window"]) for f in figures]

    def rate(cycles: list[int], busy: list[float]) -> float:
        """Transitions/s of a writer over the windows of ``cycles`` and ``busy``."""
        return 2 * sum(cycles) / sum(busy) if sum(busy) else 0.0

    together = [sum(rate([c[2 * k]], [b[2 * k]]) for c, b in windows) for k in range(rounds)]
    alone = [rate([windows[0][0][2 * k + 1]], [windows[0][1][2 * k + 1]]) for k in range(rounds)]
    aggregate, one_writer = statistics.median(together), statistics.median(alone)
    return {
        "what": f"{len(writers)} processes at once, each submit → review start → decide cycles "
                "on a plan of its own with 10 requested reviewers, notifications recorded; "
                f"{rounds} windows of {seconds} s, each followed by one of the first alone",
        "writers": len(writers),
        "cpu_cores": os.cpu_count(),
        "transitions_per_s": round(aggregate, 1),
        "scaling": round(aggregate / single_transitions_per_s, 2),
        "one_writer_transitions_per_s": round(one_writer, 1),
        "scaling_to_one_writer": round(aggregate / one_writer, 2) if one_writer else None,
        "errors": sum(f["errors"] for f in figures),
        "error_messages": [m for f in figures for m in f["error_messages"]][:5],
        "spread_transitions_per_s": spread(together),
        "per_writer_transitions_per_s": [round(rate(c[0::2], b[0::2]), 1) for c, b in windows],
        # Each writer's own CPU per cycle, to set against the single process's cycle_cpu_ms:
        # W writers and the database server share cpu_cores.
        "cycle_cpu_ms": [f["cycle_cpu_ms"] for f in figures],
        # The share of the writers' time, in the windows they write together, spent waiting for
        # the audit chain's lock (held by another writer's transaction until it commits): the
        # part of the writes that runs one at a time, whatever W. (The lone writer's waits,
        # counted too, are single round trips.)
        "chain_lock_wait_share": round(sum(f["chain_lock_wait_s"] for f in figures)
                                       / (len(figures) * rounds * seconds), 3),
        "audit_entries_verified": checked,
    }

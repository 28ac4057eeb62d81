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
"""

from __future__ import annotations

import statistics
import time
from contextlib import nullcontext

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import OutboxMessage
from plans.models import Plan
from plans.services import plan_submit
from reviews.models import Decision
from reviews.services import review_decide, review_start

from .stats import spread

CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")


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


def _cycle(author, reviewer, plan_id: int, counts: dict | None = None) -> None:
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
        _cycle(author, reviewer, plan_id)
        counts: dict = {}
        _cycle(author, reviewer, plan_id, counts)
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
            _cycle(author, reviewers[(done + n) % len(reviewers)], fx.plan_writes)
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
    }

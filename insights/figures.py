"""The review-flow figures as small pure functions over plain samples (no database here).

Percentiles use the nearest-rank method (the value at rank ceil(p/100 * n) of the sorted
samples), so every figure is a value that occurred and can be checked by hand; the median is the
usual one (the mean of the middle two of an even count). An empty week has no median or p90
(None) and counts 0.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta


def percentile(values, p: float) -> float | None:
    """The nearest-rank p-th percentile of `values` (None when empty)."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(math.ceil(p / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def median(values) -> float | None:
    values = list(values)
    return statistics.median(values) if values else None


def hours_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def week_of(day: date | datetime) -> date:
    """The Monday starting the (ISO) week of `day`."""
    if isinstance(day, datetime):
        day = day.date()
    return day - timedelta(days=day.weekday())


def weeks(start: date, end: date) -> list[date]:
    """Every week from the one holding `start` to the one holding `end`, empty ones too."""
    first, last = week_of(start), week_of(end)
    return [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]


@dataclass(frozen=True)
class Durations:
    label: str  # a week (its Monday) or a reviewer
    count: int
    median: float | None
    p90: float | None


def summarise(label, hours: list[float]) -> Durations:
    return Durations(label, len(hours), median(hours), percentile(hours, 90))


def durations_by_week(samples, all_weeks: list[date]) -> list[Durations]:
    """samples: (week, hours) pairs -> one row per week of `all_weeks`, in order."""
    grouped = defaultdict(list)
    for week, hours in samples:
        grouped[week].append(hours)
    return [summarise(week, grouped.get(week, [])) for week in all_weeks]


def counts_by_week(samples, all_weeks: list[date], kinds) -> list[tuple[date, dict[str, int]]]:
    """samples: (week, kind) pairs -> (week, {kind: count}) for every week and every kind."""
    counts = Counter(samples)
    return [(week, {kind: counts[(week, kind)] for kind in kinds}) for week in all_weeks]


@dataclass(frozen=True)
class RevisionCounts:
    plans: int
    median: float | None
    mean: float | None
    histogram: list[tuple[int, int]]  # (revisions, plans), from 1 to the most


def revisions_per_approved(counts: list[int]) -> RevisionCounts:
    """counts: for each approved plan, the number of revisions it took."""
    if not counts:
        return RevisionCounts(0, None, None, [])
    seen = Counter(counts)
    return RevisionCounts(
        plans=len(counts), median=median(counts), mean=round(sum(counts) / len(counts), 2),
        histogram=[(n, seen[n]) for n in range(1, max(counts) + 1)],
    )


@dataclass(frozen=True)
class ReviewerLoad:
    reviewer: str
    decided: int  # decisions in the period
    queue: int  # plans waiting on them now
    median: float | None  # hours from submission to their decision
    p90: float | None


def reviewer_loads(samples, queues: dict[str, int]) -> list[ReviewerLoad]:
    """samples: (reviewer, hours) per decision; queues: reviewer -> plans waiting on them.
    Busiest first (decisions plus queue), then by name."""
    grouped = defaultdict(list)
    for reviewer, hours in samples:
        grouped[reviewer].append(hours)
    names = set(grouped) | {name for name, n in queues.items() if n}
    rows = [ReviewerLoad(name, len(grouped.get(name, [])), queues.get(name, 0),
                         median(grouped.get(name, [])), percentile(grouped.get(name, []), 90))
            for name in names]
    return sorted(rows, key=lambda r: (-(r.decided + r.queue), r.reviewer))

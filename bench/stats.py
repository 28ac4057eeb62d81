"""Figures from repeated samples: median, p95, spread of the repetitions."""

from __future__ import annotations

import statistics


def percentile(values, fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(ms: list[float]) -> dict:
    return {"n": len(ms), "median_ms": round(statistics.median(ms), 3),
            "p95_ms": round(percentile(ms, 0.95), 3), "max_ms": round(max(ms), 3)}


def spread(values: list[float]) -> list[float]:
    """[lowest, highest] of per-repetition figures (e.g. each round's ratio)."""
    return [round(min(values), 3), round(max(values), 3)]

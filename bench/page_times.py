"""Every page of bench/pages.py PAGES: its query count, and its time against the bare view.

In this process, through Django's test client (the full middleware stack, DEBUG off, the
cached template loader), signed in as the page's user. Each sample of a page is preceded by a
sample of the bare view (bench/views.py) for the same user, so both see the same machine load;
a page's ratio is the median of its samples over the median of the bare samples taken beside
them. Pages are visited in a new random order every round; the spread is the lowest and highest
ratio of the rounds.
"""

from __future__ import annotations

import random
import statistics
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from .pages import PAGES
from .stats import percentile, spread


class PageError(Exception):
    pass


def resolve(fx) -> tuple[dict, dict]:
    """({name: (url, user)}, {name: why it is skipped})."""
    urls, skipped = {}, {}
    for name, page in PAGES.items():
        try:
            url = reverse(page.url_name, args=page.args(fx))
        except NoReverseMatch:
            skipped[name] = f"URL name {page.url_name!r} does not resolve"
            continue
        urls[name] = (url + (f"?{page.query}" if page.query else ""), page.user)
    return urls, skipped


def clients(fx) -> dict:
    signed_in = {}
    for role, user in fx.users.items():
        client = Client()
        client.force_login(user)
        signed_in[role] = client
    return signed_in


def _get(client: Client, url: str) -> float:
    began = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - began) * 1000
    if response.status_code != 200:
        raise PageError(f"{url} answered {response.status_code}")
    return elapsed


def query_counts(fx, urls: dict, signed_in: dict) -> tuple[dict, dict]:
    """({name: queries}, {name: error}); each page is loaded once first (warm caches)."""
    counts, errors = {}, {}
    for name, (url, role) in urls.items():
        client = signed_in[role]
        try:
            _get(client, url)
            with CaptureQueriesContext(connection) as queries:
                _get(client, url)
        except Exception as exc:  # a broken page is reported, the bench goes on
            errors[name] = f"{type(exc).__name__}: {exc}"[:300]
            continue
        counts[name] = len(queries)
    bare = reverse("bench_bare", args=[fx.plan_small])
    with CaptureQueriesContext(connection) as queries:
        _get(signed_in["author"], bare)
    counts["bare"] = len(queries)
    return counts, errors


def timings(fx, urls: dict, signed_in: dict, *, rounds: int, samples: int) -> dict:
    bare = reverse("bench_bare", args=[fx.plan_small])
    times = {name: [] for name in urls}
    beside = {name: [] for name in urls}  # bare samples taken next to this page's
    ratios = {name: [] for name in urls}
    for client in signed_in.values():
        _get(client, bare)
    for _ in range(rounds):
        order = list(urls)
        random.shuffle(order)
        for name in order:
            url, role = urls[name]
            client = signed_in[role]
            page_ms, bare_ms = [], []
            for _ in range(samples):
                bare_ms.append(_get(client, bare))
                page_ms.append(_get(client, url))
            times[name] += page_ms
            beside[name] += bare_ms
            ratios[name].append(statistics.median(page_ms) / statistics.median(bare_ms))
    all_bare = [ms for values in beside.values() for ms in values]
    pages = {
        name: {
            "median_ms": round(statistics.median(times[name]), 2),
            "p95_ms": round(percentile(times[name], 0.95), 2),
            "ratio": round(statistics.median(times[name]) / statistics.median(beside[name]), 2),
            "spread": spread(ratios[name]),
            "n": len(times[name]),
        }
        for name in urls
    }
    baseline = {"median_ms": round(statistics.median(all_bare), 2),
                "p95_ms": round(percentile(all_bare, 0.95), 2), "n": len(all_bare)}
    return {"baseline": baseline, "pages": pages}

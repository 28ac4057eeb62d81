"""The readable table, and each target of issue 14 checked against the figures (reported, never
enforced: a missed target does not fail the run)."""

from __future__ import annotations

PAGE_RATIO_MAX, PAGE_RATIO_AIM = 3.0, 1.5


def _check(value, ok) -> dict:
    if value is None:
        return {"value": None, "met": None}
    return {"value": value, "met": bool(ok(value))}


def targets(r: dict) -> dict:
    pages = r.get("pages") or {}
    worst = max(pages.items(), key=lambda item: item[1]["ratio"], default=(None, None))
    queries = r.get("queries") or {}
    writes = r.get("writes") or {}
    decide = (writes.get("queries") or {}).get("decide") or {}  # its own transaction
    notify = r.get("notify_latency_ms") or {}
    http = r.get("http") or {}
    markdown = r.get("markdown") or {}
    return {
        "every page <= 3x the bare view": {
            **_check(worst[1]["ratio"] if worst[1] else None, lambda v: v <= PAGE_RATIO_MAX),
            "worst": worst[0]},
        "page queries equal at small and full size": _check(
            sorted(n for n, q in queries.items() if q["small"] != q["large"]) if queries
            else None, lambda v: not v),
        "plan detail over HTTP >= 50% of the bare view's rps": _check(
            http.get("ratio"), lambda v: v >= 0.5),
        ">= 100 transitions/s with notifications recorded": _check(
            r.get("transitions_per_s"), lambda v: v >= 100),
        "one decision <= 25 queries whatever the recipients": _check(
            max(decide.values()) if decide else None,
            lambda v: v <= 25 and len(set(decide.values())) == 1),
        "notification p95 <= 1 s": _check(notify.get("p95"), lambda v: v <= 1000),
        "import+export <= 1.5x the Markdown library": _check(
            markdown.get("ratio"), lambda v: v <= 1.5),
        "audit export < 100 MB": _check(r.get("export_peak_mb"), lambda v: v < 100),
    }


def _row(cells, widths) -> str:
    return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                     for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


def table(r: dict) -> str:
    lines = [f"\nPlangate bench: {r['mode']}, {r['size']:,} plans, {r['database']}"]
    if r.get("dataset"):
        lines.append(f"dataset: {r['dataset']['large']}")
    base = r.get("baseline")
    if base:
        lines.append(f"bare view: median {base['median_ms']} ms, p95 {base['p95_ms']} ms, "
                     f"{base.get('queries')} queries")
    if r.get("pages"):
        widths = (24, 8, 8, 10, 10, 7, 15)
        lines += ["", _row(("page", "q small", "q full", "median ms", "p95 ms", "ratio",
                            "spread"), widths)]
        for name, page in sorted(r["pages"].items()):
            q = r["queries"].get(name, {})
            lines.append(_row((name, q.get("small"), q.get("large"), page["median_ms"],
                               page["p95_ms"], page["ratio"],
                               "-".join(map(str, page["spread"]))), widths))
    if r.get("http"):
        h = r["http"]
        lines.append(f"\nHTTP: detail {h['detail_rps']} rps, bare {h['baseline_rps']} rps, "
                     f"ratio {h['ratio']}, errors {h['errors']}")
    if r.get("writes"):
        w = r["writes"]
        lines.append(f"writes: {w['transitions_per_s']} transitions/s ({w['cycles_per_s']} "
                     f"cycles/s), {w['transition_ratio_to_save']}x a plain save, "
                     f"{w['queries_per_cycle']} queries and {w['outbox_rows_per_cycle']} outbox "
                     f"rows per cycle; queries {w['queries']}")
        if c := w.get("compiled_queries"):
            lines.append(f"  compiled queries: {c['cycle_cpu_ms']} ms CPU a cycle, "
                         f"{c['orm_built_cycle_cpu_ms']} ms built by the ORM ({c['ratio']}x)")
    concurrent = (r.get("writes") or {}).get("concurrent")
    if concurrent:
        c = concurrent
        lines.append("writes at once: " + (c["skipped"] if "skipped" in c else
                     f"{c['writers']} writers, {c['transitions_per_s']} transitions/s "
                     f"({c['scaling']}x one process, {c['scaling_to_one_writer']}x one writer "
                     f"alone between them), spread "
                     f"{'-'.join(map(str, c['spread_transitions_per_s']))}, "
                     f"{c['chain_lock_wait_share']:.0%} of their time waiting for the audit "
                     f"chain's lock, errors {c['errors']}"))
    if r.get("notify_latency"):
        n = r["notify_latency"]
        lines.append("notify latency: " + (n["skipped"] if "skipped" in n else
                     f"last recipient {n['last_recipient']}, first {n['first_recipient']} ms"))
    if r.get("markdown"):
        m = r["markdown"]
        lines.append(f"markdown: ratio {m['ratio']} ({m['import_export_text_layer_ms']} ms vs "
                     f"{m['markdown_it_parse_render_ms']} ms)")
    if r.get("export"):
        e = r["export"]
        lines.append(f"audit export: peak {e['peak_mb']} MB for {e['entries']:,} entries "
                     f"({e['peak_mb_at_10pct']} MB at 10%), {e['database']}")
    if r.get("waiting"):
        w = r["waiting"]
        lines.append(f"waiting: page with {w.get('waiting_clients')} waiters / without: median "
                     f"x{w.get('median_ratio_with_vs_without')}")
    lines.append("\ntargets:")
    for name, check in r.get("targets", {}).items():
        mark = {True: "met", False: "MISSED", None: "not measured"}[check["met"]]
        extra = f" ({check['worst']})" if check.get("worst") else ""
        lines.append(f"  {mark:12} {name}: {check['value']}{extra}")
    for note in r.get("notes", []):
        lines.append(f"note: {note}")
    return "\n".join(lines)

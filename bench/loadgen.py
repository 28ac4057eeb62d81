"""The load of the HTTP benchmark, in a process of its own (no Django here): for each round, a
phase of requests to each URL with a bounded number in flight; prints the figures as JSON."""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time


def get(port: int, path: str, cookie: str) -> int:
    """The status of one GET on a new connection (gunicorn's sync workers close it)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _phase(port: int, path: str, cookie: str, seconds: float, concurrency: int) -> dict:
    stop_at = time.monotonic() + seconds
    counts = {"ok": 0, "errors": 0}
    lock = threading.Lock()

    def client() -> None:
        while time.monotonic() < stop_at:
            try:
                ok = get(port, path, cookie) == 200
            except OSError:
                ok = False
            with lock:
                counts["ok" if ok else "errors"] += 1

    began = time.monotonic()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    elapsed = time.monotonic() - began
    return {"rps": counts["ok"] / elapsed, "errors": counts["errors"], "requests": counts["ok"]}


def load(options: dict) -> dict:
    phases: dict[str, list] = {"detail": [], "baseline": []}
    for _ in range(options["rounds"]):
        for name in ("baseline", "detail"):
            phases[name].append(_phase(options["port"], options["paths"][name], options["cookie"],
                                       options["seconds"], options["concurrency"]))
    return phases


if __name__ == "__main__":
    print(json.dumps(load(json.loads(sys.argv[1]))))

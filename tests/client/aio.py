"""Run an async MCP conversation from a synchronous test."""

from concurrent.futures import ThreadPoolExecutor

import anyio


def run_async(function, *args):
    """`anyio.run(function, *args)` in a thread of its own: Playwright's sync API (the browser
    tests) keeps an event loop running in the test thread for the whole session, and anyio.run
    refuses to start inside a running loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, function, *args).result()

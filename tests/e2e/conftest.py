import threading

import pytest
from django.db import connection


@pytest.fixture
def server(live_server, monkeypatch):
    """The live server. On SQLite (the default test database, in memory) it answers one request
    at a time: its request threads share one in-memory database, and SQLite answers "database
    table is locked" at once instead of waiting, which would make these stories about SQLite
    rather than the gate. On PostgreSQL (CI) requests run concurrently as in production."""
    if connection.vendor == "sqlite":
        httpd = live_server.thread.httpd
        application, lock = httpd.get_app(), threading.Lock()

        def one_at_a_time(environ, start_response):
            with lock:
                return application(environ, start_response)

        monkeypatch.setattr(httpd, "application", one_at_a_time)
    return live_server

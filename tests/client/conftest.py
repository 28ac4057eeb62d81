"""Fixtures for the client's unit tests: a fake Plangate, the environment pointing at it, and
`plangate(...)` to run the command in-process with its output captured."""

import io
from dataclasses import dataclass

import pytest
from plangate import cli

from tests.client.fake_plangate import BASE, TOKEN, FakePlangate

PLAN = """\
# Implementation Plan - Rate-limit failed logins

## Implementation Steps

### Step 1: Count failures
### Step 2: Block abusive clients
"""


@dataclass
class Result:
    code: int
    out: str
    err: str


class FakeClock:
    """Time that moves only when the command sleeps: waits are exact and instant."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake():
    return FakePlangate()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture(autouse=True)
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("PLANGATE_URL", BASE)
    monkeypatch.setenv("PLANGATE_TOKEN", TOKEN)
    for name in ("PLANGATE_POLL_INTERVAL", "PLANGATE_PLAN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def plan_file(tmp_path):
    path = tmp_path / "docs" / "plan.md"
    path.parent.mkdir()
    path.write_text(PLAN)
    return path


@pytest.fixture
def plangate(fake, clock):
    def run(*argv, stdin: str = "", transport=None) -> Result:
        out, err = io.StringIO(), io.StringIO()
        code = cli.run([str(a) for a in argv], transport=transport or fake.transport,
                       sleep=clock.sleep, clock=clock, stdin=io.StringIO(stdin), stdout=out,
                       stderr=err)
        return Result(code, out.getvalue(), err.getvalue())

    return run

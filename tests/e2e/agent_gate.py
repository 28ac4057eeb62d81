"""Helpers for the agent-gate stories: the agent's plan, the real `plangate` command, and a
reviewer who works through the REST API with a personal token, as a person's own script would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from api.services import token_create

#: The console script `make install` puts beside this interpreter.
PLANGATE = str(Path(sys.executable).with_name("plangate"))

#: Every wait in these stories is bounded by this (seconds); polls are 0.1 s apart.
BOUND = 60

AGENT_PLAN = """\
# Implementation Plan - Rate-limit failed logins

*Created: 2026-12-01*
*Status: PENDING_REVIEW*

## Problem Statement
Credential-stuffing bots hit the login page thousands of times a day and nothing slows them down.

## Current State Analysis
### Existing System
- Login is Django's stock LoginView

### Research Findings
- Most failed attempts come from a few hundred addresses

## Proposed Solution
### High-Level Approach
- Count failures per address and per username in the cache

### Technical Design
- A throttle module in front of the login view

## Implementation Steps

### Step 1: Count failures
**Objective**: Count failed logins per key within a window
**Actions**:
- [ ] Write the counter

**Files to Modify/Create**:
- `accounts/throttle.py` - the counter

**Dependencies**: None
**Estimated Time**: 2 hours
**Risk Level**: Low

### Step 2: Block abusive clients
**Objective**: Refuse logins from keys over their limit
**Actions**:
- [ ] Check the counter before authenticating

**Files to Modify/Create**:
- `accounts/views.py` - check the throttle

**Dependencies**: Step 1
**Estimated Time**: 2 hours
**Risk Level**: Medium

## Testing Strategy
### Unit Testing
- The counter expires keys after the window

## Risk Assessment
### Medium Risk Items
- Locking out a real user behind a shared address

## Success Criteria
- [ ] Bots are refused after five failures

## Rollback Plan
### If Implementation Fails
- Remove the throttle from the login view
"""


def agent_env(live_server, user, *, name: str = "agent") -> dict[str, str]:
    """The environment an agent's machine would have: the server, a token, fast polls."""
    _, raw = token_create(actor=user, user=user, name=name)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PLANGATE_")}
    env.update(PLANGATE_URL=live_server.url, PLANGATE_TOKEN=raw, PLANGATE_POLL_INTERVAL="0.1")
    return env


def plangate(*args: str, env: dict, cwd: Path, stdin: str | None = None,
             ) -> subprocess.CompletedProcess:
    """Run the real command to completion (bounded)."""
    return subprocess.run([PLANGATE, *args], env=env, cwd=cwd, input=stdin, text=True,
                          capture_output=True, timeout=BOUND)


def plangate_in_background(*args: str, env: dict, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([PLANGATE, *args], env=env, cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    """Wait (bounded) for a background command; kill it if it overruns, then fail."""
    try:
        out, err = process.communicate(timeout=BOUND)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"plangate did not finish in {BOUND}s:\n{out}\n{err}") from None
    return process.returncode, out, err


class ApiReviewer:
    """A reviewer acting through /api/v1/ with their own token."""

    def __init__(self, live_server, user):
        _, raw = token_create(actor=user, user=user, name="reviewer script")
        self.http = httpx.Client(base_url=f"{live_server.url}/api/v1/", timeout=BOUND,
                                 headers={"Authorization": f"Bearer {raw}"})

    def _post(self, path: str, body: dict | None = None) -> dict:
        response = self.http.post(path, json=body or {})
        assert response.status_code in (200, 201), (path, response.status_code, response.text)
        return response.json()

    def plan(self, plan_id: int) -> dict:
        response = self.http.get(f"plans/{plan_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def wait_for_review(self, revision: int, agent: subprocess.Popen | None = None) -> dict:
        """The plan waiting for review at `revision`, found through the API (bounded wait; fails
        at once if the waiting agent has already exited). The API, not the ORM: the test's
        thread must not touch SQLite while the live server writes."""
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline:
            if agent is not None and agent.poll() is not None:
                code, out, err = finish(agent)
                raise AssertionError(f"plangate exited {code} before the review:\n{out}{err}")
            listing = self.http.get("plans", params={"status": "PENDING_REVIEW"})
            assert listing.status_code == 200, listing.text
            for summary in listing.json()["results"]:
                plan = self.plan(summary["id"])
                if plan["status"] == "PENDING_REVIEW" and plan["revision"]["number"] == revision:
                    return plan
            time.sleep(0.1)
        raise AssertionError(f"no plan came under review at revision {revision} in {BOUND}s")

    def step(self, plan_id: int, number: int) -> dict:
        return next(s for s in self.plan(plan_id)["steps"] if s["number"] == number)

    def comment(self, plan_id: int, body: str, *, step: int) -> dict:
        return self._post(f"plans/{plan_id}/comments",
                          {"body": body, "section": "", "step": self.step(plan_id, step)["id"],
                           "parent": None})

    def decide(self, plan_id: int, decision: str, comment: str = "") -> dict:
        review = self._post(f"plans/{plan_id}/reviews")
        if decision == "APPROVED":
            for item in review["checklist"]:
                self._post(f"reviews/{review['id']}/answers",
                           {"item": item["item"], "answer": "yes", "note": ""})
        return self._post(f"reviews/{review['id']}/decision",
                          {"decision": decision, "comment": comment,
                           "revision": review["revision"]})

    def close(self) -> None:
        self.http.close()

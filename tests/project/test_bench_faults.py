"""The load and fault test's verdicts (bench/faults.py), without starting anything: a lost,
duplicated or stray email, a 5xx, a lost decision, a stuck outbox or a slow drain each fail a
phase, so a broken evaluator cannot let a broken run pass."""

import os
import sys
import time

from bench.faults import Stack, email_delivery, failures, outbox_message_id, request_figures


def _phase(**changes) -> dict:
    """The figures of a phase that passed; `changes` replace parts of it."""
    phase = {
        "requests": request_figures([(0.0, "page: plan list", 200, 12.0),
                                     (0.1, "form: decide", 302, 30.0)], 1.0),
        "decisions": {"accepted": 1, "missing": []},
        "audit_verify": {"ok": True, "output": "2 entries verified"},
        "emails": email_delivery({7: 1, 8: 1}, [outbox_message_id(7), outbox_message_id(8)]),
        "outbox": {"pending": 0, "sending": 0, "failed": 0, "inbox_missing": [],
                   "inbox_extra": []},
        "recovery": {"drained_after_load_s": 2.0},
    }
    for key, value in changes.items():
        phase[key] = {**phase[key], **value} if isinstance(value, dict) else value
    return phase


def test_a_clean_phase_passes():
    assert failures(_phase()) == []


def test_every_email_once_is_counted_by_unique_message_id():
    seen = [outbox_message_id(1), outbox_message_id(2), outbox_message_id(2)]
    result = email_delivery({1: 1, 2: 2}, seen)
    assert (result["expected"], result["unique"], result["duplicates"]) == (2, 2, 1)
    assert result["missing"] == [] and result["unexpected"] == []
    # Row 2 was attempted twice (its worker died mid-send): the second copy is the design.
    assert result["unexplained_duplicates"] == []
    assert failures(_phase(emails=result)) == []


def test_a_missing_email_fails():
    result = email_delivery({1: 1, 2: 1}, [outbox_message_id(1)])
    assert result["missing"] == [2]
    assert any("never arrived" in f for f in failures(_phase(emails=result)))


def test_an_email_sent_twice_though_attempted_once_fails():
    result = email_delivery({1: 1}, [outbox_message_id(1)] * 2)
    assert result["unexplained_duplicates"] == [1]
    assert any("sent twice" in f for f in failures(_phase(emails=result)))


def test_an_email_of_no_outbox_row_fails():
    result = email_delivery({1: 1}, [outbox_message_id(1), outbox_message_id(99)])
    assert result["unexpected"] == [outbox_message_id(99)]
    assert any("match no outbox row" in f for f in failures(_phase(emails=result)))


def test_a_5xx_and_an_unanswered_request_fail():
    figures = request_figures([(0.0, "page: review", 200, 10.0), (0.1, "form: decide", 500, 9.0),
                               (0.2, "api: submit", 0, 30000.0)], 2.0)
    assert (figures["requests"], figures["5xx"], figures["transport_errors"]) == (3, 1, 1)
    assert figures["requests_per_s"] == 1.5
    found = failures(_phase(requests=figures))
    assert any("5xx" in f for f in found)
    assert any("no answer" in f for f in found)
    assert failures(_phase(requests=figures), allowed_5xx=1) != []  # the unanswered one still


def test_latency_percentiles():
    figures = request_figures([(0.0, "x", 200, float(ms)) for ms in range(1, 101)], 10.0)
    assert (figures["p50_ms"], figures["p95_ms"], figures["max_ms"]) == (50.5, 95.0, 100.0)


def test_a_lost_decision_or_a_broken_audit_chain_fails():
    lost = {"review": 3, "plan": 1, "revision": 1, "decision": "APPROVED"}
    assert any("accepted decisions" in f
               for f in failures(_phase(decisions={"missing": [lost]})))
    assert any("audit_verify" in f
               for f in failures(_phase(audit_verify={"ok": False, "output": "broken"})))


def test_a_stuck_outbox_or_a_slow_drain_fails():
    assert any("stuck" in f for f in failures(_phase(outbox={"sending": 1})))
    assert any("stuck" in f for f in failures(_phase(outbox={"failed": 2})))
    assert any("inbox" in f for f in failures(_phase(outbox={"inbox_missing": [5]})))
    assert any("drain" in f for f in failures(_phase(recovery={"drained_after_load_s": None})))
    assert any("drain" in f for f in failures(_phase(recovery={"drained_after_load_s": 90.0}),
                                              recovery_limit=60.0))


def test_no_requests_at_all_fails():
    assert any("no requests" in f for f in failures(_phase(requests=request_figures([], 1.0))))


def test_the_supervisor_restarts_a_service_that_exits_but_not_one_the_script_killed(tmp_path):
    """As `restart: unless-stopped` in docker-compose.yml: a worker that dies by itself (Celery's
    "Unrecoverable error" on a broker restart) comes back; a planned kill is left to the plan."""
    stack = Stack(tmp_path, dict(os.environ))
    sleeper = [sys.executable, "-c", "import time; time.sleep(30)"]
    stack.start("worker", [sys.executable, "-c", "raise SystemExit(3)"])
    stack.start("beat", sleeper)
    stack.supervise({"worker": lambda: stack.start("worker", sleeper),
                     "beat": lambda: stack.start("beat", sleeper)})
    try:
        deadline = time.monotonic() + 10
        while not stack.restarts and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [(r["service"], r["exit_code"]) for r in stack.restarts] == [("worker", 3)]
        stack.kill("beat")  # the fault plan's kill: not restarted behind its back
        time.sleep(1.2)
        assert "beat" not in stack.processes and len(stack.restarts) == 1
    finally:
        stack.stop_all()

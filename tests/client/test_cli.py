"""The `plangate` command against a fake server: usage errors, each exit code, the ETag wait."""

import contextlib
import json
import os
import sys

import httpx
import pytest
from plangate import cli

from tests.client.conftest import PLAN
from tests.client.fake_plangate import BASE


@pytest.mark.parametrize("argv, message", [
    ((), "required: COMMAND"),
    (("frobnicate",), "invalid choice"),
    (("submit",), "required: FILE"),
    (("submit", "docs/plan.md", "--timeout", "5"), "--timeout only makes sense with --wait"),
    (("submit", "docs/plan.md", "--wait", "--timeout", "soon"), "not a number"),
    (("submit", "docs/plan.md", "--plan", "seven"), "not a plan id"),
    (("progress", "18", "0"), "argument STEP: not a step number: '0'"),
    (("progress", "18", "1", "--action", "0"), "argument --action: not an action number"),
    (("submit", "docs/plan.md", "--plan", "3", "--new"), "exclude each other"),
    (("submit", "missing.md"), "missing.md: no such file"),
    (("verify", "missing.md"), "missing.md: no such file"),
    (("status", "nothing-here"), "neither a plan id nor a plan file"),
])
def test_bad_usage_exits_2_with_the_reason(plangate, plan_file, argv, message):
    result = plangate(*argv)
    assert result.code == 2
    assert message in result.err
    assert result.out == ""


@pytest.mark.parametrize("unset, message", [
    ("PLANGATE_URL", "set PLANGATE_URL"), ("PLANGATE_TOKEN", "set PLANGATE_TOKEN"),
])
def test_missing_configuration_exits_2(plangate, plan_file, fake, monkeypatch, unset, message):
    monkeypatch.delenv(unset)
    result = plangate("submit", plan_file)
    assert result.code == 2
    assert message in result.err
    assert fake.requests == []


def test_flags_override_the_environment(plangate, plan_file, fake, monkeypatch):
    monkeypatch.setenv("PLANGATE_TOKEN", "stale")
    assert plangate("submit", plan_file, "--token", "good-token").code == 0
    monkeypatch.setenv("PLANGATE_URL", "http://elsewhere.test")
    assert plangate("status", "1", "--url", f"{BASE}/api/v1/", "--token", "good-token").code == 0
    assert {r.url.host for r in fake.requests} == {"plangate.test"}


def test_submit_creates_the_plan_submits_it_and_prints_its_url(plangate, plan_file, fake):
    result = plangate("submit", plan_file)
    assert result.code == 0
    assert result.out == f"Plan 1 submitted for review: {BASE}/plans/1/\n"
    assert fake.plans[1]["status"] == "PENDING_REVIEW"
    assert fake.texts[1] == PLAN
    assert [(r.method, r.url.path) for r in fake.requests] == [
        ("POST", "/api/v1/plans"), ("POST", "/api/v1/plans/1/submit")]


def test_wait_polls_with_the_etag_until_a_decision(plangate, plan_file, fake, clock):
    def approve_on_the_fifth_poll(server, plan_id):
        if server.polls == 5:
            server.decide(plan_id, "APPROVED", "## Decisions\n- rob: APPROVED\n")

    fake.on_poll = approve_on_the_fifth_poll
    result = plangate("submit", plan_file, "--wait", "--poll-interval", "3")
    assert result.code == 0
    assert "Decision: APPROVED (revision 1)" in result.out
    assert "- rob: APPROVED" in result.out
    polls = [r for r in fake.requests if r.method == "GET" and r.url.path == "/api/v1/plans/1"]
    assert len(polls) == 5
    assert "If-None-Match" not in polls[0].headers
    assert [p.headers["If-None-Match"] for p in polls[1:]] == ['"v2"'] * 4  # answered 304
    assert clock.sleeps == [3.0] * 4


@pytest.mark.parametrize("decision, code", [("NEEDS_REVISION", 3), ("REJECTED", 4)])
def test_wait_exit_code_and_feedback_of_a_decision(plangate, plan_file, fake, decision, code):
    fake.on_poll = lambda server, plan_id: server.polls == 2 and server.decide(
        plan_id, decision, "### Step 2: Block abusive clients\n- rob: say which status code\n")
    result = plangate("submit", plan_file, "--wait")
    assert result.code == code
    assert result.out.startswith(f"Plan 1 submitted for review: {BASE}/plans/1/\n"
                                 f"Decision: {decision} (revision 1)\n")
    assert "### Step 2: Block abusive clients\n- rob: say which status code" in result.out


def test_wait_times_out_with_exit_5(plangate, plan_file, fake, clock):
    result = plangate("submit", plan_file, "--wait", "--timeout", "10", "--poll-interval", "4")
    assert result.code == 5
    assert "timed out after 10 s" in result.err
    assert clock.sleeps == [4.0, 4.0, 2.0]  # never sleeps past the deadline
    assert fake.plans[1]["status"] == "PENDING_REVIEW"


def test_poll_interval_from_the_environment(plangate, plan_file, fake, clock, monkeypatch):
    monkeypatch.setenv("PLANGATE_POLL_INTERVAL", "0.5")
    assert plangate("submit", plan_file, "--wait", "--timeout", "1").code == 5
    assert clock.sleeps == [0.5, 0.5]
    monkeypatch.setenv("PLANGATE_POLL_INTERVAL", "often")
    assert plangate("submit", plan_file, "--wait").code == 2


def test_a_withdrawn_plan_ends_the_wait_with_an_error(plangate, plan_file, fake):
    def withdraw(server, plan_id):
        server.plans[plan_id]["status"] = "DRAFT"
        server.versions[plan_id] += 1

    fake.on_poll = withdraw
    result = plangate("submit", plan_file, "--wait")
    assert result.code == 1
    assert "was withdrawn" in result.err


def test_resubmitting_after_needs_revision_revises_the_same_plan(plangate, plan_file, fake):
    assert plangate("submit", plan_file).code == 0
    fake.decide(1, "NEEDS_REVISION")
    plan_file.write_text(PLAN + "\n## Rollback Plan\n- revert\n")
    result = plangate("submit", plan_file)
    assert result.code == 0
    assert result.out == f"Plan 1 revised and resubmitted: {BASE}/plans/1/\n"
    assert len(fake.plans) == 1
    assert fake.plans[1]["revision"]["number"] == 2
    assert fake.texts[1].endswith("- revert\n")


def test_resubmitting_the_text_sent_back_says_the_reviewers_read_nothing_new(plangate,
                                                                            plan_file, fake):
    assert plangate("submit", plan_file).code == 0
    fake.decide(1, "NEEDS_REVISION")
    result = plangate("submit", plan_file)
    assert result.code == 0 and "revised and resubmitted" in result.out
    assert "the reviewers read nothing new" in result.err
    fake.decide(1, "NEEDS_REVISION")  # a changed text says nothing of the kind
    plan_file.write_text(PLAN + "\n## Rollback Plan\n- revert\n")
    assert "nothing new" not in plangate("submit", plan_file).err


def test_same_text_under_review_keeps_waiting_instead_of_failing(plangate, plan_file, fake):
    assert plangate("submit", plan_file, "--wait", "--timeout", "0").code == 5
    start = fake.polls  # the next submit reads the plan once, then waits
    fake.on_poll = lambda server, plan_id: server.polls == start + 2 and server.decide(
        plan_id, "APPROVED")
    result = plangate("submit", plan_file, "--wait", "--timeout", "60")
    assert result.code == 0
    assert "unchanged, PENDING_REVIEW" in result.out
    assert fake.plans[1]["revision"]["number"] == 1


def test_other_text_under_review_is_refused(plangate, plan_file, fake):
    assert plangate("submit", plan_file).code == 0
    plan_file.write_text(PLAN + "\nmore\n")
    result = plangate("submit", plan_file)
    assert result.code == 1
    assert "plan 1 is under review with different text" in result.err
    assert fake.texts[1] == PLAN


def test_a_rejected_plan_with_new_text_needs_new(plangate, plan_file, fake):
    """(An approved plan's new text is an amendment: tests/client/test_implementation_commands.)"""
    assert plangate("submit", plan_file).code == 0
    fake.decide(1, "REJECTED")
    plan_file.write_text(PLAN + "\nmore\n")
    assert "start a new plan (--new" in plangate("submit", plan_file).err
    result = plangate("submit", plan_file, "--new")
    assert result.code == 0
    assert "Plan 2 submitted" in result.out


def test_explicit_plan_id_is_revised(plangate, plan_file, fake):
    fake.add("# an older draft\n")
    result = plangate("submit", plan_file, "--plan", "1")
    assert result.code == 0
    assert fake.texts[1] == PLAN
    assert len(fake.plans) == 1


def test_a_remembered_plan_that_is_gone_starts_a_new_one(plangate, plan_file, fake):
    memory = plan_file.parent / ".plangate" / "plans.json"
    memory.parent.mkdir()
    memory.write_text(json.dumps({BASE: {"plan.md": 42}}))
    result = plangate("submit", plan_file)
    assert result.code == 0
    assert "plan 42 no longer exists" in result.err
    assert json.loads(memory.read_text()) == {BASE: {"plan.md": 1}}
    assert plangate("submit", plan_file, "--plan", "42").code == 1  # named explicitly: an error


def test_a_refused_token_is_one_line_exit_1(plangate, plan_file, fake, monkeypatch):
    monkeypatch.setenv("PLANGATE_TOKEN", "wrong")
    result = plangate("submit", plan_file)
    assert result.code == 1
    assert result.err == "plangate: HTTP 401: Invalid token. (check PLANGATE_TOKEN)\n"


def test_an_unreachable_server_is_one_line_exit_1(plangate, plan_file):
    def refuse(request):
        raise httpx.ConnectError("Connection refused", request=request)

    result = plangate("submit", plan_file, transport=httpx.MockTransport(refuse))
    assert result.code == 1
    assert result.err == (f"plangate: cannot reach Plangate at {BASE} (Connection refused)\n")


def test_markdown_errors_are_printed_with_their_lines(plangate, plan_file, fake):
    plan_file.write_text("# BROKEN\n")
    result = plangate("submit", plan_file)
    assert result.code == 1
    assert result.err.splitlines() == [
        "plangate: HTTP 400: The Markdown is not a plan.",
        f"{plan_file}:3: unknown section 'Foo'",
        f"{plan_file}:9: step without a title",
    ]
    assert fake.plans == {}


def test_a_rate_limit_is_waited_out(plangate, plan_file, fake, clock):
    fake.rate_limit_next = 2
    assert plangate("submit", plan_file).code == 0
    assert clock.sleeps == [7.0, 7.0]  # Retry-After
    assert fake.plans[1]["status"] == "PENDING_REVIEW"


def test_a_server_error_page_is_reported_not_raised(plangate, plan_file):
    transport = httpx.MockTransport(lambda request: httpx.Response(502, text="<html>bad</html>"))
    result = plangate("submit", plan_file, transport=transport)
    assert result.code == 1
    assert result.err == "plangate: HTTP 502: Bad Gateway\n"


def test_status_by_id_or_by_file(plangate, plan_file, fake):
    assert plangate("submit", plan_file).code == 0
    by_id = plangate("status", "1")
    assert by_id.code == 0
    assert "Status: PENDING_REVIEW" in by_id.out
    assert f"Revision: 1 (sha256 {fake.plans[1]['revision']['sha256']})" in by_id.out
    assert plangate("status", plan_file).out == by_id.out
    as_json = json.loads(plangate("status", "1", "--json").out)
    assert as_json["status"] == "PENDING_REVIEW"
    assert plangate("status", "9").code == 1


def test_export_prints_the_markdown_and_nothing_else(plangate, fake):
    fake.add(PLAN)
    result = plangate("export", "1")
    assert result.code == 0
    assert result.out == PLAN
    assert result.err == ""


def test_feedback_prints_the_reviewers_markdown(plangate, fake):
    plan_id = fake.add(PLAN, status="PENDING_REVIEW")
    fake.decide(plan_id, "NEEDS_REVISION", "## Open concerns\n- Lockout abuse")
    result = plangate("feedback", "1")
    assert result.code == 0
    assert result.out == "## Open concerns\n- Lockout abuse\n"


@pytest.mark.parametrize("status, code, state", [
    ("APPROVED", 0, None),
    ("PENDING_REVIEW", 6, "pending"),
    ("NEEDS_REVISION", 3, "needs_revision"),
    ("REJECTED", 4, "rejected"),
])
def test_verify_exit_codes(plangate, plan_file, fake, status, code, state):
    fake.add(PLAN, status=status)
    result = plangate("verify", plan_file)
    assert result.code == code
    if state:
        assert f"is not approved ({state})" in result.err
    else:
        assert "approved by rob" in result.out


def test_verify_changed_and_unknown(plangate, plan_file, fake):
    assert plangate("verify", plan_file).code == 8  # unknown
    assert plangate("submit", plan_file).code == 0
    fake.decide(1, "APPROVED")
    assert plangate("verify", plan_file).code == 0
    plan_file.write_text(PLAN.replace("failed", "faile"))
    result = plangate("verify", plan_file)
    assert result.code == 7  # changed since approval: the remembered plan told the server
    assert "(changed)" in result.err
    sent = json.loads(fake.requests[-1].content)
    assert sent["plan"] == 1


def test_help_exits_0(plangate):
    result = plangate("--help")
    assert result.code == 0


def test_a_wait_rides_out_a_server_restart(plangate, plan_file, fake):
    """A few failed polls in a row (unreachable, 503) are retried; the decision still arrives."""
    failures = iter([httpx.ConnectError("refused"), 503, 503, None, None])

    def restarting(request):
        if request.method == "GET" and request.url.path == "/api/v1/plans/1":
            failure = next(failures, None)
            if isinstance(failure, Exception):
                raise failure
            if failure:
                return httpx.Response(failure, text="restarting")
            if fake.plans[1]["status"] != "APPROVED":
                fake.decide(1, "APPROVED")
        return fake.handle(request)

    result = plangate("submit", plan_file, "--wait", transport=httpx.MockTransport(restarting))
    assert result.code == 0, result.err
    assert "Decision: APPROVED" in result.out


def test_a_wait_gives_up_when_the_server_stays_down(plangate, plan_file, fake):
    polls = []

    def down(request):
        if request.method == "GET":
            polls.append(request)
            return httpx.Response(503, text="down")
        return fake.handle(request)

    result = plangate("submit", plan_file, "--wait", transport=httpx.MockTransport(down))
    assert result.code == 1
    assert result.err.splitlines()[-1] == "plangate: HTTP 503: Service Unavailable"
    assert len(polls) == 6  # five failures ridden out, the sixth ends the wait


@pytest.mark.parametrize("state, code", [("draft", 9), ("a-state-from-the-future", 8)])
def test_verify_draft_and_unexpected_states(plangate, plan_file, state, code):
    answer = {"approved": False, "state": state, "reason": "not submitted yet", "sha256": "ab"}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answer))
    result = plangate("verify", plan_file, transport=transport)
    assert result.code == code
    assert f"is not approved ({state}): not submitted yet" in result.err


def test_a_reader_that_goes_away_ends_the_command_quietly_and_not_with_0(
        plangate, plan_file, fake, monkeypatch, capsys):
    """`plangate status 1 | head -1`: no traceback when the pipe closes, and an exit code that
    no gate reads as approved."""
    assert plangate("submit", plan_file).code == 0
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the command writes
    closed = os.fdopen(write, "w")
    real_run = cli.run
    monkeypatch.setattr(cli, "run", lambda argv: real_run(argv, transport=fake.transport,
                                                          stdout=closed))
    monkeypatch.setattr(sys, "stdout", closed)
    try:
        assert cli.main(["status", "1"]) == cli.EXIT_BROKEN_PIPE == 141
    finally:
        monkeypatch.undo()
        with contextlib.suppress(OSError):
            closed.close()
    assert capsys.readouterr().err == ""

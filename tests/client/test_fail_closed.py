"""The gate fails closed: client errors block the hook (exit 2) and fail `verify` with one line,
and a wait that ends in the approval of some other text does not report this text approved."""

import httpx
import pytest
from plangate import hook as hook_module

from tests.client.conftest import PLAN
from tests.client.test_hook import event
from tests.client.test_mcp_tools import call  # noqa: F401 - the fixture

OTHER = PLAN + "\n### Step 3: Something nobody asked for\n"


def broken_gzip(request):
    return httpx.Response(200, headers={"Content-Type": "application/json",
                                        "Content-Encoding": "gzip"}, content=b"\x00garbage")


def crash(request):
    raise ValueError("something unforeseen")


@pytest.fixture
def hook(plangate, plan_file):
    def run(transport=None):
        return plangate("hook", "--plan-file", "docs/plan.md", transport=transport,
                        stdin=event("Edit", plan_file.parent.parent, file_path="src/a.py"))

    return run


def test_an_undecodable_answer_blocks_the_hook(hook):
    result = hook(httpx.MockTransport(broken_gzip))
    assert result.code == 2
    assert "no usable answer from Plangate" in result.err
    assert "DecodingError" in result.err
    assert "Traceback" not in result.err


def test_an_invalid_server_url_blocks_the_hook(hook, monkeypatch):
    monkeypatch.setenv("PLANGATE_URL", "http://[::1")
    result = hook()
    assert result.code == 2
    assert "PLANGATE_URL is not a valid URL" in result.err


def test_any_unexpected_error_blocks_the_hook(hook):
    result = hook(httpx.MockTransport(crash))
    assert result.code == 2
    assert "unexpected error (ValueError: something unforeseen); blocking" in result.err


def test_an_error_outside_decide_blocks_the_hook(hook, monkeypatch):
    def decide(*args, **kwargs):
        raise KeyError("tool_name")

    monkeypatch.setattr(hook_module, "decide", decide)
    result = hook()
    assert result.code == 2
    assert "unexpected error (KeyError" in result.err


def test_verify_reports_an_undecodable_answer_in_one_line(plangate, plan_file):
    result = plangate("verify", plan_file, transport=httpx.MockTransport(broken_gzip))
    assert result.code == 1
    assert result.err.startswith("plangate: no usable answer from Plangate at ")
    assert result.err.count("\n") == 1


def test_verify_with_an_invalid_server_url_is_bad_usage(plangate, plan_file, monkeypatch):
    monkeypatch.setenv("PLANGATE_URL", "http://[::1")
    result = plangate("verify", plan_file)
    assert result.code == 2
    assert "PLANGATE_URL is not a valid URL" in result.err


def swap_and_approve(server, plan_id):
    """Between two polls someone withdrew the plan, changed it, resubmitted it, and reviewers
    approved that other text."""
    if server.polls == 2:
        server.texts[plan_id] = OTHER
        server._submit(plan_id)
        server.decide(plan_id, "APPROVED")


def test_wait_does_not_report_other_text_approved(plangate, plan_file, fake):
    fake.on_poll = swap_and_approve
    result = plangate("submit", plan_file, "--wait")
    assert result.code == 7  # changed: the approved text is not this text
    assert "Decision: APPROVED" in result.out
    assert "was approved with other text" in result.err
    assert "this text is not approved" in result.err


def test_wait_after_a_rerun_with_the_approved_text_is_still_approved(plangate, plan_file, fake):
    fake.add(PLAN, status="APPROVED")
    assert plangate("submit", plan_file, "--plan", "1", "--wait").code == 0


def test_mcp_wait_does_not_report_other_text_approved(call, fake):  # noqa: F811
    assert not call("submit_plan", path="docs/plan.md").is_error
    fake.on_poll = swap_and_approve
    waited = call("wait_for_decision", plan_id=1, timeout_seconds=60).structured_content
    assert waited["decided"] is True
    assert waited["status"] == "APPROVED"
    assert waited["approved"] is False
    assert "not the text submitted" in waited["message"]
    assert "do not implement it" in waited["message"]


def test_mcp_wait_reports_the_submitted_text_approved(call, fake):  # noqa: F811
    assert not call("submit_plan", path="docs/plan.md").is_error
    fake.on_poll = lambda server, plan_id: server.decide(plan_id, "APPROVED")
    waited = call("wait_for_decision", plan_id=1, timeout_seconds=60).structured_content
    assert waited["approved"] is True
    assert waited["message"] == "The reviewers decided APPROVED."


def test_mcp_wait_without_a_submit_checks_the_text_under_review(call, fake):  # noqa: F811
    fake.add(PLAN, status="PENDING_REVIEW")  # submitted before this MCP server started
    fake.on_poll = swap_and_approve
    waited = call("wait_for_decision", plan_id=1, timeout_seconds=60).structured_content
    assert waited["approved"] is False
    assert "not the text submitted" in waited["message"]

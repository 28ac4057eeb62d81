"""The MCP tools in-process (the SDK's Client over memory) against the fake server. The real
stdio subprocess is driven in tests/e2e/test_agent_gate.py."""

import pytest
from mcp import Client
from plangate.api import PlangateAPI, Settings
from plangate.mcp_server import build_server

from tests.client.aio import run_async
from tests.client.conftest import PLAN
from tests.client.fake_plangate import BASE, TOKEN

TOOLS = {"submit_plan", "plan_status", "wait_for_decision", "get_feedback", "verify_plan",
         "report_progress", "check_drift", "finish_implementation"}


@pytest.fixture
def call(fake, clock, plan_file):
    server = build_server(
        settings=lambda: Settings(BASE, TOKEN),
        api_factory=lambda settings: PlangateAPI(settings, transport=fake.transport),
        poll_interval=5, sleep=clock.sleep, clock=clock, cwd=plan_file.parent.parent)

    def run(tool=None, **arguments):
        async def go():
            async with Client(server) as client:
                if tool is None:
                    return (await client.list_tools()).tools
                return await client.call_tool(tool, arguments)

        return run_async(go)

    return run


def test_the_tools_are_listed_with_descriptions_and_typed_parameters(call):
    tools = {tool.name: tool for tool in call()}
    assert set(tools) == TOOLS
    assert all(len(tool.description) > 40 for tool in tools.values())
    wait = tools["wait_for_decision"].input_schema
    assert wait["required"] == ["plan_id"]
    assert wait["properties"]["plan_id"]["type"] == "integer"
    assert wait["properties"]["timeout_seconds"]["maximum"] == 3600
    assert set(tools["submit_plan"].input_schema["properties"]) == {
        "path", "markdown", "plan_id", "new"}


def test_submit_then_wait_then_feedback(call, fake, plan_file):
    submitted = call("submit_plan", path="docs/plan.md")
    assert not submitted.is_error
    assert submitted.structured_content["plan_id"] == 1
    assert submitted.structured_content["status"] == "PENDING_REVIEW"
    assert submitted.structured_content["url"] == f"{BASE}/plans/1/"
    assert (plan_file.parent / ".plangate" / "plans.json").exists()

    fake.on_poll = lambda server, plan_id: server.polls == 3 and server.decide(
        plan_id, "NEEDS_REVISION", "### Step 2: Block\n- rob: which status code?")
    waited = call("wait_for_decision", plan_id=1, timeout_seconds=60).structured_content
    assert waited["decided"] is True
    assert waited["status"] == "NEEDS_REVISION"
    assert "- rob: which status code?" in waited["feedback"]
    feedback = call("get_feedback", plan_id=1)
    assert feedback.content[0].text == "### Step 2: Block\n- rob: which status code?"


def test_wait_is_bounded_by_its_timeout(call, fake, clock):
    fake.add(PLAN, status="PENDING_REVIEW")
    waited = call("wait_for_decision", plan_id=1, timeout_seconds=12).structured_content
    assert waited["decided"] is False
    assert waited["status"] == "PENDING_REVIEW"
    assert "call wait_for_decision again" in waited["message"]
    assert sum(clock.sleeps) == 12
    too_long = call("wait_for_decision", plan_id=1, timeout_seconds=86400)
    assert too_long.is_error  # over the 3600 s cap: refused by the input schema


def test_verify_and_status(call, fake):
    unknown = call("verify_plan", markdown=PLAN).structured_content
    assert unknown["approved"] is False
    assert unknown["state"] == "unknown"
    fake.add(PLAN, status="APPROVED")
    approved = call("verify_plan", path="docs/plan.md").structured_content
    assert approved["approved"] is True
    assert approved["approved_by"] == ["rob"]
    status = call("plan_status", plan_id=1).structured_content
    assert status["status"] == "APPROVED"
    assert status["approved_sha256"] == status["sha256"]


def test_verify_and_status_name_an_amendment_under_review(call, fake, monkeypatch):
    fake.add(PLAN, status="APPROVED")
    amendment = {"revision": 2, "sha256": "b" * 64, "state": "pending"}
    fake.plans[1]["amendment"] = amendment
    answer = fake._verify
    monkeypatch.setattr(fake, "_verify", lambda text, plan_id: {
        **answer(text, plan_id), "amendment": amendment})
    assert call("plan_status", plan_id=1).structured_content["amendment"] == amendment
    verified = call("verify_plan", path="docs/plan.md").structured_content
    assert verified["approved"] is True and verified["amendment"] == amendment
    del fake.plans[1]["amendment"]  # a server before amendments were reported
    assert call("plan_status", plan_id=1).structured_content["amendment"] is None


@pytest.mark.parametrize("arguments, message", [
    ({}, "give either path"),
    ({"path": "docs/plan.md", "markdown": PLAN}, "give either path"),
    ({"path": "nope.md"}, "nope.md: no such file"),
    ({"markdown": " \n\n"}, "the markdown is empty"),
])
def test_bad_arguments_are_tool_errors_the_model_can_read(call, arguments, message):
    result = call("submit_plan", **arguments)
    assert result.is_error
    assert message in result.content[0].text


def test_server_errors_are_tool_errors(call, fake):
    result = call("plan_status", plan_id=99)
    assert result.is_error
    assert "HTTP 404: Not found." in result.content[0].text

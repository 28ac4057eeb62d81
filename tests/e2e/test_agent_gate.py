"""The agent gate end to end: the real `plangate` command (CLI, hook, MCP server over stdio) as
a subprocess against a live Plangate, while reviewers act through the REST API.

The story of the issue's "Done when": an agent submits and waits; a reviewer asks for revision
with a comment on step 2; the agent sees exit 3 and that comment under step 2; it revises and
submits again; a reviewer approves; the wait ends with 0; `verify` passes on that exact file and
fails once one character changes.
"""

import json
import re

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from plans.models import Plan, PlanStatus
from tests.client.aio import run_async
from tests.e2e.agent_gate import (
    AGENT_PLAN,
    BOUND,
    PLANGATE,
    ApiReviewer,
    agent_env,
    finish,
    plangate,
    plangate_in_background,
)

pytestmark = pytest.mark.django_db(transaction=True)

COMMENT = "Say which status code a blocked client gets, and for how long."


@pytest.fixture
def project(tmp_path):
    """The agent's checkout, with its plan in docs/plan.md."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "plan.md").write_text(AGENT_PLAN)
    return tmp_path


@pytest.fixture
def server(server, settings):
    """The live server (tests/e2e/conftest.py). These agents poll every 0.1 s (20 times a real
    client's rate): at the production limit of 120 a minute a slow run would wait out a 429
    instead of seeing the decision."""
    settings.PLANGATE_API_RATE = "100000/min"
    return server


@pytest.fixture
def env(server, author):
    return agent_env(server, author)


@pytest.fixture
def background():
    """Start `plangate` in the background; whatever still runs at the end is killed."""
    started = []

    def start(*args, env, cwd):
        process = plangate_in_background(*args, env=env, cwd=cwd)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.fixture
def rob(server, reviewer):
    client = ApiReviewer(server, reviewer)
    yield client
    client.close()


def _block(output: str, heading: str) -> str:
    """The lines from the first line containing `heading` to the next Markdown heading."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if heading in line)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")), len(lines))
    return "\n".join(lines[start:end])


def test_submit_wait_revise_approve_verify(project, env, rob, background):
    plan_file = project / "docs" / "plan.md"

    agent = background("submit", "docs/plan.md", "--wait", "--timeout", str(BOUND),
                       env=env, cwd=project)
    plan_id = rob.wait_for_review(revision=1, agent=agent)["id"]
    rob.comment(plan_id, COMMENT, step=2)
    rob.decide(plan_id, "NEEDS_REVISION", "See my comment on step 2.")
    code, out, err = finish(agent)

    assert code == 3, err
    assert out.startswith(f"Plan {plan_id} submitted for review: http")
    assert "Decision: NEEDS_REVISION (revision 1)" in out
    assert COMMENT in _block(out, "Step 2: Block abusive clients")
    assert "See my comment on step 2." in out
    assert json.loads((project / "docs" / ".plangate" / "plans.json").read_text()) == {
        env["PLANGATE_URL"]: {"plan.md": plan_id}}

    plan_file.write_text(AGENT_PLAN.replace(
        "- [ ] Check the counter before authenticating",
        "- [ ] Check the counter before authenticating\n"
        "- [ ] Answer 429 with Retry-After for the rest of the 15-minute window"))
    agent = background("submit", "docs/plan.md", "--wait", "--timeout", str(BOUND),
                       env=env, cwd=project)
    assert rob.wait_for_review(revision=2, agent=agent)["id"] == plan_id
    rob.decide(plan_id, "APPROVED", "Good.")
    code, out, err = finish(agent)

    assert code == 0, err
    assert out.startswith(f"Plan {plan_id} revised and resubmitted: http")
    assert "Decision: APPROVED (revision 2)" in out
    assert Plan.objects.count() == 1  # the same plan, revised: not a second one

    verified = plangate("verify", "docs/plan.md", env=env, cwd=project)
    assert verified.returncode == 0, verified.stderr
    assert f"plan {plan_id} revision 2, approved by rob" in verified.stdout

    plan_file.write_text(plan_file.read_text().replace("429", "428", 1))  # one character
    changed = plangate("verify", "docs/plan.md", env=env, cwd=project)
    assert changed.returncode == 7, changed.stderr  # changed since approval
    assert "is not approved (changed)" in changed.stderr

    exported = plangate("export", str(plan_id), env=env, cwd=project)
    assert exported.returncode == 0
    assert "Answer 429 with Retry-After" in exported.stdout


def test_the_hook_blocks_edits_until_the_plan_is_approved(project, env, rob):
    env = {**env, "PLANGATE_PLAN_FILE": "docs/plan.md"}
    edit = json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Edit", "cwd": str(project),
                       "tool_input": {"file_path": str(project / "accounts" / "views.py"),
                                      "old_string": "a", "new_string": "b"}})
    read = json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Read", "cwd": str(project),
                       "tool_input": {"file_path": str(project / "accounts" / "views.py")}})

    assert plangate("submit", "docs/plan.md", env=env, cwd=project).returncode == 0
    plan_id = rob.wait_for_review(revision=1)["id"]

    blocked = plangate("hook", env=env, cwd=project, stdin=edit)
    assert blocked.returncode == 2
    assert "editing is blocked until docs/plan.md is approved (state: pending" in blocked.stderr
    assert plangate("hook", env=env, cwd=project, stdin=read).returncode == 0

    rob.decide(plan_id, "APPROVED", "Go.")
    allowed = plangate("hook", env=env, cwd=project, stdin=edit)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stderr == ""

    unreachable = {**env, "PLANGATE_URL": "http://127.0.0.1:9"}
    closed = plangate("hook", env=unreachable, cwd=project, stdin=edit)
    assert closed.returncode == 2
    assert "cannot reach Plangate" in closed.stderr


def _mcp(env: dict, project, calls):
    """Start `plangate mcp` over stdio with the SDK's client and run `calls(session)`."""
    params = StdioServerParameters(command=PLANGATE, args=["mcp"], env=env, cwd=project)

    async def go():
        with anyio.fail_after(BOUND):
            async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
                await s.initialize()
                return await calls(s)

    return run_async(go)


def test_an_agent_drives_the_gate_through_the_mcp_server(project, env, author, rob):
    async def list_submit_verify(session):
        tools = (await session.list_tools()).tools
        submitted = await session.call_tool("submit_plan", {"path": "docs/plan.md"})
        verified = await session.call_tool("verify_plan", {"path": "docs/plan.md"})
        waited = await session.call_tool("wait_for_decision",
                                         {"plan_id": submitted.structured_content["plan_id"],
                                          "timeout_seconds": 0.5})
        return tools, submitted, verified, waited

    tools, submitted, verified, waited = _mcp(env, project, list_submit_verify)

    assert {t.name for t in tools} == {"submit_plan", "plan_status", "wait_for_decision",
                                       "get_feedback", "verify_plan", "report_progress",
                                       "check_drift", "finish_implementation"}
    assert not submitted.is_error, submitted.content
    plan = Plan.objects.get(author=author)  # the command has exited: the database is idle
    plan_id = plan.pk
    assert plan.status == PlanStatus.PENDING_REVIEW
    assert submitted.structured_content["plan_id"] == plan_id
    assert re.search(rf"/plans/{plan_id}/$", submitted.structured_content["url"])
    assert verified.structured_content["approved"] is False
    assert verified.structured_content["state"] == "pending"
    assert waited.structured_content["decided"] is False

    rob.decide(plan_id, "APPROVED", "Go.")

    async def wait_and_verify(session):
        waited = await session.call_tool("wait_for_decision",
                                         {"plan_id": plan_id, "timeout_seconds": BOUND})
        verified = await session.call_tool("verify_plan", {"path": "docs/plan.md"})
        return waited, verified

    waited, verified = _mcp(env, project, wait_and_verify)
    assert waited.structured_content["decided"] is True
    assert waited.structured_content["status"] == "APPROVED"
    assert verified.structured_content["approved"] is True
    assert verified.structured_content["approved_by"] == ["rob"]

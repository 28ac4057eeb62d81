"""`plangate hook`: Claude Code PreToolUse events in, 2 (block) or 0 (allow) out."""

import json

import httpx
import pytest

from tests.client.conftest import PLAN


def event(tool: str, cwd=None, **tool_input) -> str:
    body = {"session_id": "s1", "hook_event_name": "PreToolUse", "tool_name": tool,
            "tool_input": tool_input}
    if cwd is not None:
        body["cwd"] = str(cwd)
    return json.dumps(body)


@pytest.fixture
def hook(plangate, plan_file, monkeypatch):
    monkeypatch.setenv("PLANGATE_PLAN_FILE", "docs/plan.md")  # relative to the event's cwd

    def run(tool: str, *flags, transport=None, **tool_input):
        return plangate("hook", *flags, stdin=event(tool, plan_file.parent.parent, **tool_input),
                        transport=transport)

    return run


@pytest.mark.parametrize("tool", ["Edit", "Write", "MultiEdit", "NotebookEdit"])
def test_editing_tools_are_blocked_while_the_plan_is_pending(hook, fake, tool):
    fake.add(PLAN, status="PENDING_REVIEW")
    result = hook(tool, file_path="/repo/app.py")
    assert result.code == 2
    assert "editing is blocked until docs/plan.md is approved (state: pending" in result.err
    assert "plangate submit docs/plan.md --wait" in result.err


def test_editing_passes_once_approved(hook, fake):
    fake.add(PLAN, status="APPROVED")
    result = hook("Edit", file_path="/repo/app.py", old_string="a", new_string="b")
    assert result.code == 0
    assert result.err == ""


def test_a_plan_approved_then_changed_blocks_again(hook, fake, plan_file):
    fake.add(PLAN, status="APPROVED")
    plan_file.write_text(PLAN + "x")
    result = hook("Write", file_path="/repo/app.py")
    assert result.code == 2
    assert "state: unknown" in result.err  # never submitted from here: the server can't tell


@pytest.mark.parametrize("tool", ["Read", "Grep", "Glob", "Bash", "WebFetch", "mcp__x__y"])
def test_read_only_tools_pass_without_asking_the_server(hook, fake, tool):
    result = hook(tool, command="ls")
    assert result.code == 0
    assert fake.requests == []


def test_bash_can_be_gated_too(hook, fake):
    fake.add(PLAN, status="PENDING_REVIEW")
    assert hook("Bash", "--gate", "Bash", command="sed -i s/a/b/ app.py").code == 2
    fake.decide(1, "APPROVED")
    assert hook("Bash", "--gate", "Bash", command="sed -i s/a/b/ app.py").code == 0


def test_writing_the_plan_itself_is_always_allowed(hook, fake, plan_file):
    fake.add(PLAN, status="PENDING_REVIEW")
    assert hook("Edit", file_path=str(plan_file)).code == 0
    assert hook("Write", file_path="docs/plan.md").code == 0
    assert hook("Write", file_path="docs/other.md").code == 2


def test_a_missing_plan_file_blocks_with_the_reason(hook, fake, plan_file):
    plan_file.unlink()
    result = hook("Write", file_path="src/app.py")
    assert result.code == 2
    assert "no such file" in result.err


@pytest.mark.parametrize("stdin", ["", "not json", "[]", '{"tool_input": {}}',
                                   '{"tool_name": 7}'])
def test_malformed_events_are_blocked(plangate, fake, stdin):
    result = plangate("hook", "--plan-file", "docs/plan.md", stdin=stdin)
    assert result.code == 2
    assert "could not read the PreToolUse event" in result.err
    assert fake.requests == []


def test_an_unreachable_server_fails_closed(hook):
    def refuse(request):
        raise httpx.ConnectError("Connection refused", request=request)

    result = hook("Edit", file_path="app.py", transport=httpx.MockTransport(refuse))
    assert result.code == 2
    assert "cannot check whether docs/plan.md is approved (cannot reach Plangate" in result.err
    assert "Edits stay blocked" in result.err


def test_no_configured_plan_file_fails_closed(plangate):
    result = plangate("hook", stdin=event("Edit", file_path="app.py"))
    assert result.code == 2
    assert "set PLANGATE_PLAN_FILE or pass --plan-file" in result.err


def test_missing_server_configuration_fails_closed(hook, monkeypatch):
    monkeypatch.delenv("PLANGATE_TOKEN")
    result = hook("Edit", file_path="app.py")
    assert result.code == 2  # not 2-as-usage: the same block answer Claude Code understands
    assert "set PLANGATE_TOKEN" in result.err

"""`plangate hook`: a Claude Code PreToolUse hook that keeps an agent from editing files until
its plan is approved.

Claude Code runs the hook before each matching tool call with the event as JSON on stdin:
`{"tool_name": "Edit", "tool_input": {"file_path": ...}, "cwd": ..., ...}`. Exit code 2 blocks
the call and shows stderr to the model; exit code 0 lets it run. Any other exit code would let
the call run too, so every failure on an editing tool answers 2 (fail closed).

What counts as editing: Edit, Write, MultiEdit and NotebookEdit. Bash is not gated by default:
research needs it (grep, git log, running tests), and guessing from a command line whether it
writes files would be a leaky pretence of a boundary; add it with `--gate Bash` if you want
(then submit plans through the MCP server, since `plangate submit` runs in Bash too). The hard
boundary is `plangate verify` in CI. Edits of the plan file itself always pass: the agent has to
be able to write and revise its plan.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from plangate.api import ApiError, PlangateAPI, Settings, UsageError
from plangate.gate import read_plan_file, verify
from plangate.memory import PlanMemory

EDIT_TOOLS = frozenset({"Edit", "Write", "MultiEdit", "NotebookEdit"})
ALLOW = 0
BLOCK = 2


def _target(tool_input: dict) -> str | None:
    """The file an editing tool call writes, if it names one."""
    for key in ("file_path", "notebook_path", "path"):
        value = tool_input.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _resolve(path: str, cwd: str) -> Path:
    return Path(os.path.normpath(os.path.join(cwd, os.path.expanduser(path))))


def _clause(text: object) -> str:
    """A message set inside a sentence: without its own full stop, so none is doubled."""
    return str(text).strip().rstrip(".")


def _until(exc: ApiError) -> str:
    """What has to change before the check can answer, by the server's refusal."""
    if exc.status in (401, 403):
        return "the token is fixed"
    if exc.status == 404:
        return "PLANGATE_URL is the Plangate site's root"
    if exc.status == 413:
        return "the plan is within the server's size limit"
    if exc.status == 429:
        return "the server's rate limit lets the check through (try again shortly)"
    return "the server answers"  # not reached, or a server error (5xx)


def decide(event_text: str, *, plan_file: str | None, settings: Callable[[], Settings],
           api_factory: Callable[[Settings], PlangateAPI],
           gated: frozenset[str] = EDIT_TOOLS) -> tuple[int, str]:
    """(exit code, reason) for one PreToolUse event. The server is asked only for gated tools."""
    try:
        event = json.loads(event_text)
    except ValueError:
        event = None
    if not isinstance(event, dict) or not isinstance(event.get("tool_name"), str):
        return BLOCK, ("Plangate hook: could not read the PreToolUse event on stdin (expected "
                       'JSON with "tool_name"); blocking to be safe.')
    tool = event["tool_name"]
    if tool not in gated:
        return ALLOW, ""
    if not plan_file:
        return BLOCK, ("Plangate hook: no plan file is configured (set PLANGATE_PLAN_FILE or pass "
                       "--plan-file), so file edits stay blocked.")
    cwd = event.get("cwd") if isinstance(event.get("cwd"), str) else os.getcwd()
    plan_path = _resolve(plan_file, cwd)
    tool_input = event.get("tool_input") if isinstance(event.get("tool_input"), dict) else {}
    target = _target(tool_input)
    if target is not None and _resolve(target, cwd) == plan_path:
        return ALLOW, ""  # writing or revising the plan itself
    try:
        text = read_plan_file(plan_path)
        config = settings()
        with api_factory(config) as api:
            plan_id = PlanMemory(plan_path, config.url).recall()
            code, answer = verify(api, text, plan_id=plan_id)
    except UsageError as exc:
        return BLOCK, (f"Plangate: editing is blocked until the plan {plan_file} is approved, and "
                       f"it cannot be checked: {_clause(exc)}.")
    except ApiError as exc:
        return BLOCK, (f"Plangate: editing is blocked: cannot check whether {plan_file} is "
                       f"approved ({_clause(exc)}). Edits stay blocked until {_until(exc)}.")
    if code == 0:
        return ALLOW, ""
    state = answer.get("state", "unknown")
    reason = answer.get("reason") or state
    return BLOCK, (f"Plangate: editing is blocked until {plan_file} is approved "
                   f"(state: {state}: {_clause(reason)}). Submit it with `plangate submit "
                   f"{plan_file} --wait` (or the submit_plan / wait_for_decision tools), act on "
                   f"the reviewers' feedback, and edit once it is approved.")

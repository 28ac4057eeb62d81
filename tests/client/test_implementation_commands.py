"""`plangate start`, `progress`, `drift`, `finish` and amendments through `submit`, against the
fake server; `drift` reads a real temporary git repository."""

import json
import os
import subprocess

import pytest
from mcp import Client
from plangate import cli
from plangate.api import PlangateAPI, Settings
from plangate.mcp_server import build_server

from tests.client.aio import run_async
from tests.client.fake_plangate import BASE, TOKEN, sha

GIT_ENV = {"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.com",
           "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@example.com",
           "GIT_CONFIG_NOSYSTEM": "1"}


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch, tmp_path):
    for name, value in {**GIT_ENV, "HOME": str(tmp_path)}.items():
        monkeypatch.setenv(name, value)


def git(*args, cwd=None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True,
                          env=os.environ).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    """The current folder as a repository: `branch` off `main` changed app/a.py and app/c.py."""
    git("init", "-q", "-b", "main")
    for name in ("a", "b"):
        (tmp_path / "app").mkdir(exist_ok=True)
        (tmp_path / "app" / f"{name}.py").write_text(f"{name} = 1\n")
    git("add", "-A")
    git("commit", "-q", "-m", "start")
    git("checkout", "-q", "-b", "branch")
    (tmp_path / "app" / "a.py").write_text("a = 2\n")
    (tmp_path / "app" / "c.py").write_text("c = 1\n")
    git("add", "-A")
    git("commit", "-q", "-m", "work")
    return tmp_path


def approved(fake, planned=("app/a.py", "app/b.py")) -> int:
    plan_id = fake.add("# Implementation Plan - X\n", "APPROVED")
    fake.planned[plan_id] = list(planned)
    return plan_id


def sent(fake, action: str) -> dict:
    request = next(r for r in reversed(fake.requests) if r.url.path.endswith(f"/{action}"))
    return json.loads(request.content)


def test_drift_exits_6_naming_unplanned_and_untouched_files(plangate, fake, repo):
    plan_id = approved(fake)
    result = plangate("drift", plan_id)
    assert result.code == 6, result.err
    assert "main...HEAD, 2 changed files, 1 unplanned" in result.out
    lines = result.out.splitlines()
    assert lines[lines.index("unplanned (no step of the approved plan lists them):") + 1] == (
        "  app/c.py")
    assert lines[lines.index("planned but untouched:") + 1] == "  app/b.py"
    body = sent(fake, "drift")
    assert body["files"] == ["app/a.py", "app/c.py"]
    assert (body["base"], body["head"]) == ("main", "HEAD")
    assert body["head_commit"] == git("rev-parse", "HEAD")


def test_drift_exits_0_when_every_change_is_planned(plangate, fake, repo):
    plan_id = approved(fake, planned=["app/a.py", "app/c.py"])
    result = plangate("drift", plan_id, "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["clear"] is True


def test_drift_base_and_head_are_refs_and_master_is_the_fallback(plangate, fake, repo):
    git("branch", "-m", "main", "master")
    plan_id = approved(fake, planned=["app/a.py", "app/c.py"])
    assert plangate("drift", plan_id).code == 0
    assert sent(fake, "drift")["base"] == "master"
    assert plangate("drift", plan_id, "--base", "branch").code == 0
    assert sent(fake, "drift")["files"] == []  # nothing changed since the branch itself


def test_drift_outside_a_repository_or_with_a_bad_ref_is_a_usage_error(plangate, fake, repo):
    plan_id = approved(fake)
    bad = plangate("drift", plan_id, "--base", "no-such-branch")
    assert bad.code == 2 and "no such commit or branch: no-such-branch" in bad.err
    subprocess.run(["rm", "-rf", str(repo / ".git")], check=True)
    outside = plangate("drift", plan_id, "--base", "main")
    assert outside.code == 2 and "not a git repository" in outside.err.lower()
    assert not fake.drift_reports  # nothing was uploaded


def test_drift_leaves_out_the_plan_file_it_was_named_by(plangate, fake, repo):
    (repo / "docs").mkdir()
    (repo / "docs" / "plan.md").write_text("# Implementation Plan - X\n")
    git("add", "-A")
    git("commit", "-q", "-m", "amend the plan")
    plan_id = approved(fake, planned=["app/a.py", "app/c.py"])
    (repo / "docs" / ".plangate").mkdir()
    (repo / "docs" / ".plangate" / "plans.json").write_text(
        json.dumps({"http://plangate.test": {"plan.md": plan_id}}))
    assert plangate("drift", plan_id).code == 6  # by id: the plan file is a change like any
    assert plangate("drift", "docs/plan.md").code == 0
    assert sent(fake, "drift")["files"] == ["app/a.py", "app/c.py"]


def test_drift_finds_a_plan_file_never_submitted_here_by_its_text(plangate, fake, repo):
    (repo / "docs").mkdir()
    text = "# Implementation Plan - X\n"
    (repo / "docs" / "plan.md").write_text(text)
    plan_id = approved(fake, planned=["app/a.py", "app/c.py"])
    fake.texts[plan_id] = text
    fake.hashes[plan_id] = [sha(text)]
    fake.plans[plan_id]["revision"]["sha256"] = sha(text)
    assert plangate("drift", "docs/plan.md").code == 0
    (repo / "docs" / "plan.md").write_text("# another\n")
    unknown = plangate("drift", "docs/plan.md")
    assert unknown.code == 2 and "not the text of any plan" in unknown.err


def test_progress_sends_step_action_note_and_the_commit_of_a_ref(plangate, fake, repo):
    plan_id = approved(fake)
    result = plangate("progress", plan_id, "2", "--action", "1", "--note", "moved",
                      "--commit", "HEAD")
    head = git("rev-parse", "HEAD")
    assert result.code == 0, result.err
    assert result.out.strip() == f"Plan {plan_id} step 2 (Step 2): action 1 at {head[:12]}"
    assert sent(fake, "progress") == {"step": 2, "action": 1, "note": "moved", "commit": head}
    assert fake.plans[plan_id]["status"] == "IMPLEMENTING"


def test_progress_without_an_action_marks_the_whole_step(plangate, fake):
    plan_id = approved(fake)
    assert plangate("progress", plan_id, "1", "--commit", "abc1234").code == 0
    assert sent(fake, "progress") == {"step": 1, "note": "", "commit": "abc1234"}
    assert plangate("progress", plan_id, "0").code == 2  # steps count from 1


def test_start_and_finish(plangate, fake):
    plan_id = approved(fake)
    assert plangate("start", plan_id).out.startswith(f"Plan {plan_id} IMPLEMENTING")
    finished = plangate("finish", plan_id)
    assert finished.code == 0 and f"Plan {plan_id} IMPLEMENTED" in finished.out
    again = plangate("finish", plan_id)
    assert again.code == 1 and "HTTP 409" in again.err


def test_submitting_new_text_for_an_approved_plan_is_an_amendment(plangate, fake, plan_file):
    plan_id = approved(fake)
    fake.texts[plan_id] = plan_file.read_text()
    fake.plans[plan_id]["status"] = "IMPLEMENTING"
    plan_file.write_text(plan_file.read_text() + "\n### Step 3: Shared helpers\n")
    result = plangate("submit", plan_file, "--plan", plan_id)
    assert result.code == 0, result.err
    assert result.out.startswith(f"Plan {plan_id} amendment submitted for review")
    assert fake.plans[plan_id]["status"] == "PENDING_REVIEW"
    assert fake.plans[plan_id]["revision"]["sha256"] == sha(plan_file.read_text())


def test_waiting_on_an_implementing_plan_with_its_approved_text_ends_at_once(plangate, fake,
                                                                             plan_file):
    plan_id = fake.add(plan_file.read_text(), "APPROVED")
    fake.plans[plan_id]["status"] = "IMPLEMENTING"
    result = plangate("submit", plan_file, "--plan", plan_id, "--wait")
    assert result.code == 0, result.err
    assert "Decision: IMPLEMENTING" in result.out


def test_help_documents_drifts_exit_code():
    text = " ".join(cli.build_parser().format_help().split())
    assert "6 not cleared (verify: pending review; drift: unplanned changes)" in text
    assert "exit 6 if the branch changed files the approved plan does not list" in text


# --- the MCP tools ----------------------------------------------------------------------------
@pytest.fixture
def call(fake, clock, tmp_path):
    server = build_server(
        settings=lambda: Settings(BASE, TOKEN),
        api_factory=lambda settings: PlangateAPI(settings, transport=fake.transport),
        poll_interval=5, sleep=clock.sleep, clock=clock, cwd=tmp_path)

    def run(tool, **arguments):
        async def go():
            async with Client(server) as client:
                return await client.call_tool(tool, arguments)

        return run_async(go)

    return run


def test_check_drift_tool_reports_unplanned_files(call, fake, repo):
    plan_id = approved(fake)
    result = call("check_drift", plan_id=plan_id)
    assert not result.is_error, result.content
    data = result.structured_content
    assert data["clear"] is False and data["unplanned"] == ["app/c.py"]
    assert data["untouched"] == ["app/b.py"] and data["base"] == "main"
    assert "app/c.py" in data["message"]
    fake.planned[plan_id].append("app/c.py")
    assert call("check_drift", plan_id=plan_id).structured_content["clear"] is True


def test_report_progress_tool_resolves_the_commit(call, fake, repo):
    plan_id = approved(fake)
    result = call("report_progress", plan_id=plan_id, step=1, action=2, note="done",
                  commit="HEAD")
    assert not result.is_error, result.content
    assert result.structured_content["commit"] == git("rev-parse", "HEAD")
    assert sent(fake, "progress")["action"] == 2


def test_drift_tool_errors_are_readable(call, fake, tmp_path):
    plan_id = approved(fake)
    result = call("check_drift", plan_id=plan_id)  # tmp_path is no repository
    assert result.is_error and "not a git repository" in result.content[0].text.lower()


def test_finish_implementation_tool(call, fake):
    plan_id = approved(fake)
    refused = call("finish_implementation", plan_id=plan_id)
    assert refused.is_error and "HTTP 409" in refused.content[0].text
    fake.plans[plan_id]["status"] = "IMPLEMENTING"
    done = call("finish_implementation", plan_id=plan_id)
    assert done.structured_content["status"] == "IMPLEMENTED"


def test_drift_never_counts_the_clients_plangate_folders(plangate, fake, repo):
    (repo / "docs" / ".plangate").mkdir(parents=True)
    (repo / "docs" / ".plangate" / "plans.json").write_text("{}")
    (repo / ".plangate").mkdir()
    (repo / ".plangate" / "plans.json").write_text("{}")
    (repo / "app" / "plangate.py").write_text("x = 1\n")  # a look-alike name still counts
    git("add", "-A")
    git("commit", "-q", "-m", "commit the client's memory")
    plan_id = approved(fake, planned=["app/a.py", "app/c.py"])
    result = plangate("drift", plan_id)
    assert result.code == 6, result.err
    assert sent(fake, "drift")["files"] == ["app/a.py", "app/c.py", "app/plangate.py"]
    (repo / "app" / "plangate.py").unlink()
    git("commit", "-q", "-am", "drop it")
    assert plangate("drift", plan_id).code == 0
    assert sent(fake, "drift")["files"] == ["app/a.py", "app/c.py"]

"""After the "go", end to end: the real `plangate` command in a real temporary git repository,
against a live Plangate, while a reviewer works through the REST API.

The story of issue 15's "Done when": an approved plan lists app/a.py and app/b.py; a branch
changes app/a.py and app/c.py; `plangate drift` exits 6 naming app/c.py unplanned and app/b.py
untouched; an amendment adding app/c.py is approved; `plangate drift` exits 0; a reviewer
verifies; the certificate shows the whole record.
"""

import os
import subprocess

import pytest
from django.test import Client

from plans.models import Plan, PlanStatus
from tests.e2e.agent_gate import BOUND, ApiReviewer, agent_env, plangate
from tests.implementation.kit import AMENDED, PLAN

pytestmark = pytest.mark.django_db(transaction=True)

GIT_ENV = {"GIT_AUTHOR_NAME": "Agent", "GIT_AUTHOR_EMAIL": "agent@example.com",
           "GIT_COMMITTER_NAME": "Agent", "GIT_COMMITTER_EMAIL": "agent@example.com",
           "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo, *args) -> str:
    env = {**os.environ, **GIT_ENV, "HOME": str(repo)}
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=BOUND, check=True)
    return done.stdout.strip()


def write(repo, path: str, text: str) -> None:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


@pytest.fixture
def repo(tmp_path):
    """The agent's checkout: main with app/a.py, app/b.py and the plan in docs/plan.md."""
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write(repo, "app/a.py", "def parse(text):\n    return text.split()\n")
    write(repo, "app/b.py", "def write(words):\n    return ' '.join(words)\n")
    write(repo, "docs/plan.md", PLAN)
    write(repo, ".gitignore", ".plangate/\n")  # where `plangate submit` remembers plan ids
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Start")
    return repo


@pytest.fixture
def env(server, author, repo):
    return {**agent_env(server, author), **GIT_ENV, "HOME": str(repo)}


@pytest.fixture
def rob(server, reviewer):
    client = ApiReviewer(server, reviewer)
    yield client
    client.close()


def run(*args, env, repo, code=0):
    done = plangate(*args, env=env, cwd=repo)
    assert done.returncode == code, (args, done.returncode, done.stdout, done.stderr)
    return done.stdout


def block(output: str, heading: str) -> list[str]:
    """The indented lines under `heading` in `plangate drift`'s output."""
    lines = output.splitlines()
    start = lines.index(heading)
    found = []
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        found.append(line.strip())
    return found


def test_drift_amendment_verification_and_the_certificate(repo, env, rob, server, reviewer):
    submitted = run("submit", "docs/plan.md", env=env, repo=repo)
    plan_id = rob.wait_for_review(revision=1)["id"]
    assert submitted.startswith(f"Plan {plan_id} submitted for review")
    rob.decide(plan_id, "APPROVED", "Go.")

    # The branch: app/a.py as planned, and app/c.py that no step lists.
    git(repo, "checkout", "-q", "-b", "split-app")
    write(repo, "app/a.py", "from app.c import words\n\ndef parse(text):\n    return words(text)\n")
    write(repo, "app/c.py", "def words(text):\n    return text.split()\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Move the parser")
    first_commit = git(repo, "rev-parse", "HEAD")

    out = run("progress", str(plan_id), "1", "--action", "1", "--note", "parser moved",
              "--commit", "HEAD", env=env, repo=repo)
    assert f"Plan {plan_id} step 1 (Move the parser): action 1 at {first_commit[:12]}" in out
    assert rob.plan(plan_id)["status"] == "IMPLEMENTING"  # the first report started it

    drifted = run("drift", str(plan_id), env=env, repo=repo, code=6)
    assert "main...HEAD, 2 changed files, 1 unplanned" in drifted
    assert block(drifted, "unplanned (no step of the approved plan lists them):") == ["app/c.py"]
    assert block(drifted, "planned but untouched:") == ["app/b.py", "tests/**"]
    assert block(drifted, "planned:") == ["app/a.py  (step 1)"]

    # The amendment: a step for app/c.py, submitted from the same file, reviewed, approved.
    write(repo, "docs/plan.md", AMENDED)
    amended = run("submit", "docs/plan.md", env=env, repo=repo)
    assert amended.startswith(f"Plan {plan_id} amendment submitted for review")
    assert rob.wait_for_review(revision=2)["id"] == plan_id
    rob.decide(plan_id, "APPROVED", "The shared module is fine.")
    run("verify", "docs/plan.md", env=env, repo=repo)  # the amended text is the approved one

    cleared = run("drift", str(plan_id), env=env, repo=repo)
    assert "no unplanned change" in cleared and "unplanned (" not in cleared
    assert block(cleared, "planned:") == ["app/a.py  (step 1)", "app/c.py  (step 3)"]

    # Finish the work, then the post-implementation review.
    write(repo, "app/b.py", "def write(words):\n    return ' '.join(words) + '\\n'\n")
    git(repo, "commit", "-q", "-am", "Move the writer")
    second_commit = git(repo, "rev-parse", "HEAD")
    for step in ("1", "2", "3"):
        run("progress", str(plan_id), step, "--commit", second_commit, env=env, repo=repo)
    # The amended plan file is committed too: named by its file, drift leaves it out.
    assert run("drift", str(plan_id), env=env, repo=repo, code=6).count("docs/plan.md") == 1
    last = run("drift", "docs/plan.md", env=env, repo=repo)
    assert "no unplanned change" in last, last
    assert block(last, "planned but untouched:") == ["tests/**"]
    finished = run("finish", str(plan_id), env=env, repo=repo)
    assert finished.startswith(f"Plan {plan_id} IMPLEMENTED")

    record = rob.http.get(f"plans/{plan_id}/implementation").json()
    assert [s["done"] for s in record["steps"]] == [True, True, True]
    assert record["drift_reports"][-1]["clear"] is True
    verified = rob.http.post(f"plans/{plan_id}/verification", json={
        "outcome": "VERIFIED", "comment": "Checked on the branch.",
        "criteria": [{"criterion": 1, "evidence": "https://ci.example/split-app/imports"},
                     {"criterion": 2, "evidence": "CI run 42 green"}]})
    assert verified.status_code == 201, verified.text
    assert rob.plan(plan_id)["status"] == "VERIFIED"

    # The certificate: every approved revision in order, and the implementation record.
    assert Plan.objects.get(pk=plan_id).status == PlanStatus.VERIFIED
    browser = Client()
    browser.force_login(reviewer)
    text = browser.get(f"/reviews/plan/{plan_id}/certificate.md").content.decode()
    revisions = text.split("## Approved revisions", 1)[1]
    assert revisions.index("r1 sha256:") < revisions.index("r2 (amendment) sha256:")
    assert f"**Commits reported**: {first_commit}, {second_commit}" in text
    drift_lines = [line for line in text.splitlines() if " UTC against r" in line]
    assert len(drift_lines) == 4
    assert "against r1: unplanned app/c.py; untouched app/b.py, tests/**" in drift_lines[0]
    assert "against r2: no unplanned change" in drift_lines[1]
    assert "**Verified**: by " in text and "(rob) at " in text
    assert "CI run 42 green (rob)" in text
    page = browser.get(f"/reviews/plan/{plan_id}/certificate/").content.decode()
    assert "Implementation record" in page and "app/c.py" in page
    plan_page = browser.get(f"/plans/{plan_id}/").content.decode()
    assert 'id="implementation-panel"' in plan_page and "No unplanned change" in plan_page

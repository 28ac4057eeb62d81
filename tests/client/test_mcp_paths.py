"""The MCP tools read plan files only inside the project folder the server was started for: the
model must not make them read, and upload to the server, any other file the user can read."""

import pytest

from tests.client import test_mcp_tools
from tests.client.conftest import PLAN

call = test_mcp_tools.call  # the fixture: the tools in-process against the fake server

SECRET = "# Implementation Plan - not a plan at all\n\nroot:x:0:0:root:/root:/bin/bash\n"


@pytest.fixture
def outside(tmp_path_factory):
    """A readable Markdown file outside the project folder (tmp_path)."""
    path = tmp_path_factory.mktemp("elsewhere") / "secret.md"
    path.write_text(SECRET)
    return path


def uploaded(fake):
    """The requests that carried the outside file's text to the server."""
    return [r for r in fake.requests if "root:x:0:0" in r.content.decode("utf-8", "replace")]


@pytest.mark.parametrize("tool", ["submit_plan", "verify_plan"])
def test_an_absolute_path_outside_the_project_is_refused(call, fake, outside, tool):
    result = call(tool, path=str(outside))
    assert result.is_error
    assert "is outside the project folder" in result.content[0].text
    assert uploaded(fake) == []
    assert fake.plans == {}


@pytest.mark.parametrize("tool", ["submit_plan", "verify_plan"])
def test_a_dotdot_escape_is_refused(call, fake, outside, tmp_path, tool):
    escape = "docs/../" + "../" * len(tmp_path.parts) + str(outside).lstrip("/")
    result = call(tool, path=escape)
    assert result.is_error
    assert f"{escape} is outside the project folder" in result.content[0].text
    assert uploaded(fake) == []
    assert fake.plans == {}


@pytest.mark.parametrize("tool", ["submit_plan", "verify_plan"])
def test_a_symlink_inside_the_project_to_a_file_outside_is_refused(call, fake, outside,
                                                                  plan_file, tool):
    link = plan_file.parent / "linked.md"
    link.symlink_to(outside)
    result = call(tool, path="docs/linked.md")
    assert result.is_error
    assert "docs/linked.md is outside the project folder" in result.content[0].text
    assert uploaded(fake) == []
    assert fake.plans == {}


def test_relative_paths_inside_the_project_still_work(call, fake, plan_file):
    link = plan_file.parent.parent / "current.md"
    link.symlink_to(plan_file)  # a symlink that stays inside the project is fine
    submitted = call("submit_plan", path="docs/../docs/plan.md")
    assert not submitted.is_error
    assert fake.texts[1] == PLAN
    verified = call("verify_plan", path="current.md")
    assert not verified.is_error
    assert verified.structured_content["sha256"] == submitted.structured_content["sha256"]

"""An empty or blank plan file is bad usage (exit 2) for every command that reads one, refused
before any request, with the same message as `plangate submit`."""

import pytest

from tests.client.test_implementation_commands import GIT_ENV, git


@pytest.fixture
def blank_file(tmp_path):
    path = tmp_path / "empty.md"
    path.write_text(" \n\n\t\n")
    return path


@pytest.mark.parametrize("command", ["submit", "verify"])
def test_blank_plan_file_exits_2_without_asking_the_server(plangate, fake, blank_file, command):
    result = plangate(command, blank_file)
    assert result.code == 2
    assert f"{blank_file} is empty" in result.err
    assert result.out == ""
    assert fake.requests == []


def test_verify_of_a_truly_empty_file_is_the_same_usage_error(plangate, fake, tmp_path):
    (tmp_path / "empty.md").write_text("")
    result = plangate("verify", "empty.md")
    assert (result.code, fake.requests) == (2, [])
    assert "empty.md is empty" in result.err


def test_drift_named_by_a_blank_plan_file_exits_2_without_verifying(plangate, fake, tmp_path,
                                                                   monkeypatch):
    for name, value in {**GIT_ENV, "HOME": str(tmp_path)}.items():
        monkeypatch.setenv(name, value)
    git("init", "-q", "-b", "main")
    (tmp_path / "a.py").write_text("a = 1\n")
    git("add", "-A")
    git("commit", "-q", "-m", "start")
    (tmp_path / "empty.md").write_text("\n")
    result = plangate("drift", "empty.md", "--base", "main")
    assert result.code == 2
    assert "empty.md is empty" in result.err
    assert not [r for r in fake.requests if r.url.path.endswith("/verify")]

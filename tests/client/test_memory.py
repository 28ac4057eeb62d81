"""The local memory of which plan a file was submitted as (`.plangate/plans.json` beside it)."""

import json
import os

from plangate.memory import PlanMemory

from tests.client.conftest import PLAN
from tests.client.fake_plangate import BASE


def test_submit_remembers_the_plan_beside_the_file(plangate, plan_file, tmp_path):
    assert plangate("submit", plan_file).code == 0
    memory = plan_file.parent / ".plangate" / "plans.json"
    assert json.loads(memory.read_text()) == {BASE: {"plan.md": 1}}
    assert not (tmp_path / ".plangate").exists()  # not in the current directory


def test_the_memory_does_not_depend_on_the_current_directory(plangate, plan_file, fake,
                                                              monkeypatch):
    assert plangate("submit", plan_file).code == 0
    fake.decide(1, "NEEDS_REVISION")
    plan_file.write_text(PLAN + "\nrevised\n")
    monkeypatch.chdir(plan_file.parent)
    assert plangate("submit", "plan.md").out.startswith("Plan 1 revised")
    assert len(fake.plans) == 1


def test_each_file_and_each_server_has_its_own_entry(tmp_path):
    one, two = tmp_path / "one.md", tmp_path / "two.md"
    PlanMemory(one, BASE).remember(3)
    PlanMemory(two, BASE).remember(4)
    PlanMemory(one, "https://other.test").remember(9)
    assert PlanMemory(one, BASE).recall() == 3
    assert PlanMemory(two, BASE).recall() == 4
    assert PlanMemory(one, "https://other.test").recall() == 9
    assert PlanMemory(two, "https://other.test").recall() is None
    PlanMemory(one, BASE).forget()
    assert PlanMemory(one, BASE).recall() is None
    assert PlanMemory(two, BASE).recall() == 4
    assert [p for p in os.listdir(tmp_path / ".plangate")] == ["plans.json"]  # no temp files


def test_a_submit_that_fails_validation_still_remembers_the_draft(plangate, plan_file, fake):
    fake.refuse_next_submit = "Fill in before submitting: Rollback Plan."
    result = plangate("submit", plan_file)
    assert result.code == 1
    assert result.err == "plangate: HTTP 400: Fill in before submitting: Rollback Plan.\n"
    assert fake.plans[1]["status"] == "DRAFT"
    again = plangate("submit", plan_file)
    assert again.code == 0
    assert len(fake.plans) == 1  # the draft was revised and submitted, not duplicated
    assert fake.plans[1]["status"] == "PENDING_REVIEW"


def test_a_corrupt_memory_file_is_reported(plangate, plan_file, fake):
    memory = plan_file.parent / ".plangate" / "plans.json"
    memory.parent.mkdir()
    memory.write_text("{not json")
    result = plangate("submit", plan_file)
    assert result.code == 2
    assert "plans.json" in result.err and "fix or delete it" in result.err
    assert fake.plans == {}
    assert memory.read_text() == "{not json"  # left as it was

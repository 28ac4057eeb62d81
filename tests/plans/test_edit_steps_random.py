"""Random step edits (remove, move, add, retitle, re-estimate, in ones to threes) of every plan
in the import corpus, as the editor sends them: each is accepted, and the plan's Markdown then
reads back as the plan's steps. (Seeded: the same edits every run.)"""

import random
from pathlib import Path

import pytest

from plans import services
from plans.markdown import export_plan, parse_plan
from plans.models import Plan
from tests.plans.test_edit_writer_shapes import new_step, rows

pytestmark = pytest.mark.django_db

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.md"))
SEEDS = range(5)


def one_edit(steps: list[dict], rnd: random.Random) -> tuple[str, list[dict]]:
    steps = list(steps)
    kind = rnd.choice(["remove", "move", "add", "retitle", "estimate", "swap"])
    at = rnd.randrange(len(steps)) if steps else 0
    if kind == "remove" and len(steps) > 1:
        steps.pop(at)
    elif kind == "move" and len(steps) > 1:
        steps.insert(rnd.randrange(len(steps)), steps.pop(at))
    elif kind == "add":
        steps.insert(rnd.randrange(len(steps) + 1), new_step(f"Added step {at}"))
    elif kind == "retitle" and steps:
        steps[at] = {**steps[at], "title": f"Renamed step {at}"}
    elif kind == "estimate" and steps:
        steps[at] = {**steps[at], "estimate": "7 hours"}
    elif kind == "swap" and len(steps) > 1:  # the first and last trade places, one changed
        steps[0], steps[-1] = {**steps[-1], "risk": "high"}, steps[0]
    return kind, steps


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("path", CORPUS, ids=[path.name for path in CORPUS])
def test_random_step_edits_save_and_read_back(author, path, seed):
    rnd = random.Random(f"{path.name}:{seed}")
    plan = services.plan_import_markdown(actor=author, text=path.read_bytes())
    steps, kinds = rows(plan), []
    for _ in range(rnd.randint(1, 3)):
        kind, steps = one_edit(steps, rnd)
        kinds.append(kind)
    services.plan_update(actor=author, plan=plan, steps=steps)  # refused: ValidationError
    plan = Plan.objects.get(pk=plan.pk)
    back = parse_plan(export_plan(plan))
    assert [(s.title, s.estimate, s.risk.lower(), [a.text for a in s.actions])
            for s in back.steps] == [
        (s.title, s.estimate, s.risk, [a.text for a in s.actions.all()])
        for s in plan.steps.all()], kinds

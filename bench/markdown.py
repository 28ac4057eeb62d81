"""Import + export of a 200-step plan, against the Markdown library alone on the same text.

The baseline is markdown-it-py (what renders plans) parsing and rendering the text to HTML, in
the same run. Plangate's side is the text layer of an import and an export: parse the plan
(structure, warnings, where each field came from) and export it format-preserving (re-read the
source, compare with the stored document, patch what changed; here nothing did). The database
writes of an import are reported apart, for scale. Aim: text layer / baseline <= 1.5.
"""

import time
from decimal import Decimal

from markdown_it import MarkdownIt

from plans.document import CheckItem, FileChange, PlanDocument, Step
from plans.markdown import parse_plan, parse_plan_with_warnings, patch_source, render_plan

STEPS = 200
ROUNDS = 5


def _plan_text() -> str:
    steps = [
        Step(title=f"Step title {n}", objective=f"What step {n} does, with `code` and *emphasis*",
             actions=[CheckItem(f"Task {n}.{i}", i == 0) for i in range(3)],
             files=[FileChange(f"app/module_{n}.py", "What changes")],
             dependencies=f"Step {n - 1}" if n > 1 else "None", estimate="2-3 hours",
             risk=("Low", "Medium", "High")[n % 3])
        for n in range(1, STEPS + 1)
    ]
    return render_plan(PlanDocument(title="Benchmark", problem_statement="Slow.", steps=steps))


def _best(function, *args, rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def _import_export(text: str) -> str:
    document, _ = parse_plan_with_warnings(text)
    exported = patch_source(text, document)
    assert exported == text
    return exported


def run(rounds: int = ROUNDS) -> dict:
    text = _plan_text()
    renderer = MarkdownIt("commonmark").enable("table").enable("strikethrough")
    baseline = _best(lambda t: renderer.render(t), text, rounds=rounds)
    ours = _best(_import_export, text, rounds=rounds)
    return {
        "plan": f"{STEPS} steps, {len(text.encode()):,} bytes",
        "markdown_it_parse_render_ms": round(baseline * 1000, 1),
        "import_export_text_layer_ms": round(ours * 1000, 1),
        "ratio": float(Decimal(ours / baseline).quantize(Decimal("0.01"))),
        "aim": "<= 1.5",
        "parse_only_ms": round(_best(parse_plan, text, rounds=rounds) * 1000, 1),
    }

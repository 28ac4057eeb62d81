"""For any document, exporting is stable: render(parse(render(doc))) == render(doc)."""

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from plans.document import Approval, CheckItem, ExtraSection, FileChange, PlanDocument, Step
from plans.markdown import SECTION_KEYS, parse_estimate_hours, parse_plan, render_plan

KNOWN_HEADINGS = {
    "problem statement", "current state analysis", "proposed solution", "implementation steps",
    "testing strategy", "risk assessment", "success criteria", "rollback plan",
    "review checklist", "approval",
}  # fmt: skip

AFTER_ORDER = ["", *SECTION_KEYS]  # extra sections are listed in document order

_first = st.characters(categories=["L", "N"])
_rest = st.one_of(_first, st.sampled_from(" .,:;()[]/'\"!?=+*`#-–é漢"))
words = st.builds(lambda a, b: (a + b).strip(), _first, st.text(_rest, max_size=30))
plain = words.filter(lambda w: "`" not in w)
line = st.one_of(
    words,
    words.map(lambda w: f"- {w}"),
    words.map(lambda w: f"- [x] {w}"),
    words.map(lambda w: f"### Note {w}"),  # an unknown subsection: stays in the field's text
    words.map(lambda w: f"```\n## {w}\n### Step 1: {w}\n```"),
)
prose = st.lists(st.one_of(line, st.just("")), min_size=1, max_size=5).map(
    lambda lines: "\n".join(lines).strip("\n")
)
maybe = st.one_of(st.just(""), words)
check_items = st.lists(
    st.builds(
        CheckItem,
        st.one_of(words, st.builds(lambda a, b: f"{a}\n  {b}", words, words)),
        st.booleans(),
    ),
    max_size=3,
)
files = st.lists(
    st.one_of(
        st.builds(FileChange, plain, st.one_of(st.just(""), words)),
        st.builds(FileChange, st.just(""), words),
    ),
    max_size=3,
)
steps = st.lists(
    st.builds(
        Step,
        title=words,
        objective=st.one_of(maybe, st.builds(lambda a, b: f"{a}\n{b}", words, words)),
        actions=check_items,
        files=files,
        dependencies=maybe,
        estimate=st.sampled_from(["", "4 hours", "2-3 hours", "30 minutes", "1 day", "0.5h"]),
        risk=st.sampled_from(["", "Low", "Medium", "High"]),
    ),
    max_size=4,
)
extras = st.lists(
    st.builds(
        ExtraSection,
        heading=words.filter(lambda w: w.strip().casefold() not in KNOWN_HEADINGS),
        body=st.one_of(st.just(""), prose),
        after=st.sampled_from(AFTER_ORDER),
    ),
    max_size=3,
).map(lambda sections: sorted(sections, key=lambda e: AFTER_ORDER.index(e.after)))
optional_prose = st.one_of(st.just(""), prose)
documents = st.builds(
    PlanDocument,
    title=maybe,
    created=maybe,
    status=maybe,
    problem_statement=optional_prose,
    existing_system=optional_prose,
    research_findings=optional_prose,
    high_level_approach=optional_prose,
    technical_design=optional_prose,
    steps=steps,
    unit_testing=optional_prose,
    integration_testing=optional_prose,
    manual_testing=optional_prose,
    high_risk_items=optional_prose,
    medium_risk_items=optional_prose,
    risk_dependencies=optional_prose,
    success_criteria=check_items,
    rollback_if_fails=optional_prose,
    rollback_partial=optional_prose,
    review_checklist=optional_prose,
    approval=st.builds(Approval, maybe, maybe, maybe, optional_prose),
    extra_sections=extras,
)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_render_is_stable_through_parse(doc):
    text = render_plan(doc)
    again = parse_plan(text)
    assert render_plan(again) == text
    assert parse_plan(render_plan(again)) == again


@settings(max_examples=300, deadline=None)
@given(documents)
def test_parse_gives_back_the_document(doc):
    """Nothing written is lost. Only the status differs: "" exports as the template's."""
    expected = replace(doc, status=doc.status or "PENDING_REVIEW")
    assert parse_plan(render_plan(doc)) == expected


@given(
    st.decimals(min_value=0, max_value=1000, places=2),
    st.sampled_from([("hours", 1), ("h", 1), ("minutes", Decimal(1) / 60), ("days", 8)]),
)
def test_estimates_parse_to_hours(number, unit):
    name, factor = unit
    expected = (number * factor).quantize(Decimal("0.01"))
    assert parse_estimate_hours(f"{number} {name}") == expected
    assert parse_estimate_hours(f"1-{number} {name}") == expected

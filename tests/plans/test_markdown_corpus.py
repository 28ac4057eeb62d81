"""Plans as people and agents write them (tests/plans/corpus/): each imports, exports back byte
for byte, hashes as its own text, and yields the steps and sections its shape holds."""

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plans import services
from plans.markdown import (
    MarkdownImportError,
    export_plan,
    normalise_text,
    parse_plan,
    parse_plan_with_warnings,
)
from plans.models import Plan

CORPUS = Path(__file__).parent / "corpus"

# file: (steps, template sections found, extra sections kept)
EXPECTED = {
    "01-template-exact.md": (2, 8, 0),
    "02-numbered-headings.md": (3, 8, 0),
    "03-suffix-title-alert.md": (2, 5, 0),
    "04-phases-plain-bullets.md": (3, 4, 0),
    "05-no-title-numbered-steps.md": (4, 4, 0),
    "06-colons-and-suffixes.md": (2, 4, 0),
    "07-synonyms.md": (2, 7, 1),
    "08-rich-steps.md": (2, 4, 0),
    "09-risk-table.md": (2, 5, 0),
    "10-criteria-subheadings.md": (1, 5, 0),
    "11-free-estimates.md": (4, 4, 0),
    "12-filled-approval.md": (2, 4, 0),
    "13-unclosed-fence.md": (1, 2, 0),
    "14-crlf.md": (2, 4, 0),
    "15-h1-sections.md": (2, 4, 0),
    "16-phases-with-substeps.md": (3, 4, 0),
    "17-unicode.md": (2, 4, 0),
    "18-agent-plan-mode.md": (2, 4, 1),
    "19-bulleted-fields.md": (2, 4, 0),
    "20-minimal.md": (0, 0, 0),
    "21-extra-sections.md": (1, 4, 3),
    "22-duplicate-sections.md": (1, 4, 1),
}


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def test_the_corpus_is_complete():
    assert sorted(p.name for p in CORPUS.glob("*.md")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 20


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_plan_yields_its_steps_and_sections(name):
    doc, report = parse_plan_with_warnings(corpus(name))
    steps, found, extra = EXPECTED[name]
    assert (len(doc.steps), report.sections_found, report.extra_sections) == (steps, found, extra)
    # Of the 8 the author writes (Plangate keeps the Review Checklist and Approval itself).
    assert report.sections_total == 8
    assert len(report.sections_missing) == 8 - found


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_plan_imports_and_exports_back_byte_identical(name, author):
    raw = corpus(name)
    plan = services.plan_import_markdown(actor=author, text=raw)
    fetched = Plan.objects.get(pk=plan.pk)
    assert export_plan(fetched).encode() == raw  # its line endings too (14-crlf.md)
    assert fetched.steps.count() == EXPECTED[name][0]
    # The content hash is the text's own (line endings as LF), so `plangate verify` accepts
    # the file as written, and as a checkout that converts line endings writes it.
    content, content_hash = services.revision_snapshot(fetched)
    assert content == normalise_text(raw)
    assert content_hash == services.text_revision_hash(raw)
    assert content_hash == hashlib.sha256(raw.replace(b"\r\n", b"\n")).hexdigest()


# --- what each shape holds -------------------------------------------------------------------


def test_title_forms():
    titles = {name: parse_plan(corpus(name)).title for name in EXPECTED}
    assert titles["02-numbered-headings.md"] == "Webhook retries with backoff"
    assert titles["03-suffix-title-alert.md"] == "Search Indexing Plan"
    assert titles["04-phases-plain-bullets.md"] == "Move sessions to Redis"
    assert titles["05-no-title-numbered-steps.md"] == ""
    assert titles["17-unicode.md"] == "Implementierungsplan: Übersetzungen für die Oberfläche 🌍"


def test_preamble_and_alert_are_kept_before_the_first_section():
    doc = parse_plan(corpus("03-suffix-title-alert.md"))
    preamble = doc.extra_sections[0]
    assert preamble.heading == "" and preamble.body.startswith("> [!IMPORTANT]\n> This plan")
    assert "full-text search" in preamble.body


def test_numbered_headings_colons_suffixes_and_synonyms_name_their_sections():
    numbered = parse_plan(corpus("02-numbered-headings.md"))
    assert numbered.problem_statement.startswith("Webhook deliveries that fail")
    assert numbered.unit_testing == "- Backoff values for attempts 1 to 6"
    colons = parse_plan(corpus("06-colons-and-suffixes.md"))
    assert colons.unit_testing == "- Token valid at 59 minutes, refused at 61"
    assert colons.manual_testing == "- Request a reset, wait, click"
    synonyms = parse_plan(corpus("07-synonyms.md"))
    assert synonyms.problem_statement.startswith("Teams want their own checklist")
    assert synonyms.sections["proposed_solution"].startswith("Add a `team`")
    assert synonyms.high_risk_items.startswith("- A review started")
    assert [c.text for c in synonyms.success_criteria] == [
        "Two teams use their own template within a month"]
    assert [f.path for f in synonyms.steps[0].files] == ["reviews/models.py",
                                                        "reviews/migrations/0012_team.py"]


def test_step_heading_forms():
    assert [s.title for s in parse_plan(corpus("03-suffix-title-alert.md")).steps] == [
        "Add the search column", "Query it"]
    assert [s.title for s in parse_plan(corpus("04-phases-plain-bullets.md")).steps] == [
        "Dual write", "Switch reads", "Clean up"]
    assert [s.title for s in parse_plan(corpus("05-no-title-numbered-steps.md")).steps][:2] == [
        'Add "waiting since" to the queue', "Sort by it"]
    phases = parse_plan(corpus("16-phases-with-substeps.md")).steps
    assert [s.title for s in phases] == ["Model", "Page", "Delivery honours it"]
    assert "#### Step 1.2: Defaults" in phases[0].notes


def test_plain_bullets_are_actions():
    steps = parse_plan(corpus("04-phases-plain-bullets.md")).steps
    assert [a.text for a in steps[1].actions] == [
        "Switch `SESSION_ENGINE` to `cache`", "Keep the table for a week",
        "Announce the logout of idle users"]
    agent = parse_plan(corpus("18-agent-plan-mode.md")).steps
    assert [a.text for a in agent[1].actions] == ["A form with a file field",
                                                  "Show how many items were added"]


def test_prose_code_tables_and_unknown_fields_stay_with_their_step():
    step = parse_plan(corpus("08-rich-steps.md")).steps[0]
    assert "**Owner**: Rita" in step.notes
    assert "```mermaid\nflowchart LR" in step.notes
    assert "| Field | Source |" in step.notes
    assert "embed its fonts" in step.notes
    assert [a.text for a in step.actions] == ["Pick WeasyPrint (no browser needed)",
                                              "Template for print"]
    assert [f.path for f in step.files] == ["reviews/certificate.py",
                                            "reviews/templates/reviews/certificate_print.html"]
    assert (step.estimate, step.risk) == ("6 hours", "Medium")


def test_bulleted_fields_and_nested_items():
    step = parse_plan(corpus("19-bulleted-fields.md")).steps[0]
    assert step.objective.startswith("Find `@username`")
    assert (step.estimate, step.risk) == ("3 hours", "Low")
    assert step.actions[0].text == (
        "Regex over the rendered text nodes\n  - skip code spans and fences")


def test_a_risk_table_and_criteria_subheadings_are_kept():
    risks = parse_plan(corpus("09-risk-table.md"))
    assert risks.sections["risk_assessment"].startswith("| Risk | Likelihood |")
    criteria = parse_plan(corpus("10-criteria-subheadings.md"))
    assert [c.text for c in criteria.success_criteria] == [
        "Every submitted plan has an assigned reviewer", "The author is never assigned",
        "Assignment adds under 20 ms to submission"]
    assert criteria.sections["success_criteria"] == (
        "### Functional\n\n### Performance\n\nMeasured over the first month.")


@pytest.mark.django_db
def test_free_form_estimates_are_parsed_where_possible_and_unknown_in_totals(author):
    plan = services.plan_import_markdown(actor=author, text=corpus("11-free-estimates.md"))
    steps = list(plan.steps.all())
    assert [(s.estimate, s.estimated_hours) for s in steps] == [
        ("~2 hours", Decimal("2.00")), ("2h 30m", Decimal("2.50")), ("1 week", Decimal("40.00")),
        ("TBD", None)]
    assert [s.risk for s in steps] == ["low", "medium", "medium", ""]
    assert plan.total_estimated_hours == Decimal("44.50")
    messages = [w["message"] for w in plan.import_report["warnings"]]
    assert "step 4 ('A toggle'): estimated time 'TBD' is not a duration; kept as written, " \
           "counted as unknown in totals" in messages


@pytest.mark.django_db
def test_a_filled_in_approval_and_status_are_the_authors_text_not_a_decision(author):
    plan = services.plan_import_markdown(actor=author, text=corpus("12-filled-approval.md"))
    assert plan.status == "DRAFT"
    assert not plan.revisions.exists()
    lines = {w["line"]: w["message"] for w in plan.import_report["warnings"]}
    assert "not a decision" in lines[4] and "Status: APPROVED" in lines[4]
    assert "the Approval section is filled in" in lines[29]
    assert "**Status**: APPROVED" in export_plan(plan)


def test_an_unclosed_fence_is_reported_at_its_opening_line():
    _, report = parse_plan_with_warnings(corpus("13-unclosed-fence.md"))
    assert (15, "a code block opened here (```) is never closed; everything after it reads as "
                "code") in [(w.line, w.message) for w in report.warnings]


def test_every_finding_at_once_with_its_line():
    _, report = parse_plan_with_warnings(corpus("18-agent-plan-mode.md"))
    assert [(w.line, w.message) for w in report.warnings][:4] == [
        (3, "missing section '## Problem Statement' (expected before '## Context')"),
        (17, "step 1 ('Service') has no estimated time"),
        (17, "step 1 ('Service') has no objective"),
        (17, "step 1 ('Service') has no risk level"),
    ]


# --- generated documents ---------------------------------------------------------------------

_word = st.text(st.sampled_from("abcdefghij klmnopqrstuvwxyzÄéß漢字🙂-_.,:;()/'\"!?`*#[]|"),
                min_size=1, max_size=24).map(str.strip).filter(bool)
_heading_text = st.one_of(
    _word,
    st.sampled_from(["Implementation Steps", "Problem Statement", "Testing Strategy:",
                     "2. Success Criteria", "Risks & Mitigations", "Rollback Plan (short)",
                     "Unit Tests", "Approval", "Overview", "Steps"]),
    st.builds(lambda n, w: f"Step {n}: {w}", st.integers(1, 9), _word),
    st.builds(lambda n, w: f"Phase {n} - {w}", st.integers(1, 9), _word),
    st.builds(lambda n, w: f"{n}. {w}", st.integers(1, 9), _word),
)
_heading = st.builds(lambda level, text: f"{'#' * level} {text}", st.integers(1, 6),
                     _heading_text)
_field = st.builds(lambda label, value: f"{label} {value}", st.sampled_from(
    ["**Objective**:", "**Estimated Time**:", "**Risk Level**:", "- **Estimate:**", "**Actions**:",
     "**Files to Modify/Create**:", "**Owner**:", "*Created:", "*Status:", "Status:",
     "**Reviewer**:"]), st.one_of(_word, st.sampled_from(["2h 30m", "TBD", "Low-Medium",
                                                           "2026-11-20", "APPROVED", ""])))
_item = st.builds(lambda marker, text: f"{marker}{text}", st.sampled_from(
    ["- ", "* ", "1. ", "- [ ] ", "- [x] ", "  - ", "    "]), _word)
_fence = st.builds(lambda fence, lines: "\n".join([fence, *lines, fence]),
                   st.sampled_from(["```", "~~~", "```mermaid"]),
                   st.lists(st.one_of(_word, _heading), max_size=3))
_table = st.lists(_word, min_size=1, max_size=3).map(
    lambda cells: f"| {' | '.join(cells)} |\n|{'---|' * len(cells)}")
_line = st.one_of(_heading, _field, _item, _fence, _table, _word, st.just(""), st.just("```"))
documents = st.builds(
    lambda lines, crlf, end: ("\r\n" if crlf else "\n").join(lines) + end,
    st.lists(_line, max_size=30), st.booleans(), st.sampled_from(["", "\n", "\n\n"]),
).filter(str.strip)  # a text of blank lines is no plan: refused (the test below)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=documents)
def test_generated_markdown_imports_and_exports_back_byte_identical(author, text):
    plan = services.plan_import_markdown(actor=author, text=text)
    assert export_plan(Plan.objects.get(pk=plan.pk)) == text


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["", "\n\n", " \t\r\n  \r\n", "\ufeff\n"])
def test_a_text_of_blank_lines_is_refused_and_nothing_is_written(author, text):
    with pytest.raises(MarkdownImportError, match="the plan is empty"):
        services.plan_import_markdown(actor=author, text=text.encode())
    assert not Plan.objects.exists()

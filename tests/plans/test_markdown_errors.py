"""Nothing is refused for its shape: what used to stop an import is now a warning with its line,
and the text is kept. Only text that is not text (not UTF-8, a NUL byte) or over 1 MB is refused."""

import pytest

from plans.document import PlanDocument, Step
from plans.markdown import (
    TEMPLATE,
    MarkdownImportError,
    parse_plan,
    parse_plan_with_warnings,
    patch_source,
)
from plans.models import PlanStep
from plans.services import apply_document
from tests.factories import PlanFactory


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line containing needle."""
    return next(n for n, line in enumerate(text.split("\n"), start=1) if needle in line)


def replaced(old: str, new: str, text: str = TEMPLATE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def warnings(text: str) -> list[tuple[int, str]]:
    _, report = parse_plan_with_warnings(text)
    return [(w.line, w.message) for w in report.warnings]


def import_error(text: str | bytes) -> MarkdownImportError:
    with pytest.raises(MarkdownImportError) as info:
        parse_plan(text)
    return info.value


def test_a_risk_that_is_not_a_level_is_kept_and_flagged_at_its_line():
    text = replaced("**Risk Level**: Low/Medium/High", "**Risk Level**: Catastrophic")
    doc = parse_plan(text)
    assert doc.steps[0].risk == ""  # unknown: counted as no risk
    line = line_of(text, "Catastrophic")
    assert (line, "step 1 ('[Description]'): risk 'Catastrophic' is not Low, Medium or High; "
                  "kept as written, counted as unknown") in warnings(text)
    assert patch_source(text, doc) == text


@pytest.mark.parametrize(("written", "level"), [("Low-Medium", "Medium"), ("medium/high", "High"),
                                                ("LOW", "Low"), ("Critical", "High")])
def test_risks_as_people_write_them_read_as_the_highest_level_named(written, level):
    text = replaced("**Risk Level**: Low/Medium/High", f"**Risk Level**: {written}")
    assert parse_plan(text).steps[0].risk == level
    assert not any("risk" in message for _, message in warnings(text))


def test_an_estimate_that_is_not_a_time_is_kept_and_flagged():
    text = replaced("**Estimated Time**: X hours", "**Estimated Time**: soon")
    assert parse_plan(text).steps[0].estimate == "soon"
    assert (line_of(text, "soon"), "step 1 ('[Description]'): estimated time 'soon' is not a "
            "duration; kept as written, counted as unknown in totals") in warnings(text)


def test_an_empty_step_title_is_named_after_its_number():
    text = replaced("### Step 2: [Description]", "### Step 2:")
    assert [s.title for s in parse_plan(text).steps][1] == "Step 2"


REQUIRED = [
    ("Problem Statement", "Current State Analysis"),
    ("Current State Analysis", "Proposed Solution"),
    ("Proposed Solution", "Implementation Steps"),
    ("Implementation Steps", "Testing Strategy"),
    ("Testing Strategy", "Risk Assessment"),
    ("Risk Assessment", "Success Criteria"),
    ("Success Criteria", "Rollback Plan"),
    ("Rollback Plan", "Review Checklist"),
]


@pytest.mark.parametrize(("section", "following"), REQUIRED)
def test_a_missing_section_is_a_warning_at_the_line_where_it_was_expected(section, following):
    start = TEMPLATE.index(f"## {section}\n")
    text = TEMPLATE[:start] + TEMPLATE[TEMPLATE.index(f"## {following}\n"):]
    assert (line_of(text, f"## {following}"),
            f"missing section '## {section}' (expected before '## {following}')") \
        in warnings(text)
    assert patch_source(text, parse_plan(text)) == text


def test_every_finding_is_reported_at_once_in_line_order():
    text = replaced("## Risk Assessment\n", "")
    text = replaced("**Estimated Time**: X hours", "**Estimated Time**: whenever", text)
    text = replaced("- Safe stopping points\n", "- Safe stopping points\n```python\n", text)
    found = warnings(text)
    assert len(found) >= 3
    assert found == sorted(found)
    messages = " | ".join(message for _, message in found)
    assert "never closed" in messages and "'whenever'" in messages
    assert "missing section '## Risk Assessment'" in messages


def test_an_unclosed_code_fence_is_reported_at_its_opening_line():
    text = replaced("Brief description of the problem or feature request.",
                    "Example:\n\n~~~sh\nmake run")
    assert (line_of(text, "~~~sh"), "a code block opened here (~~~) is never closed; everything "
            "after it reads as code") in warnings(text)
    assert patch_source(text, parse_plan(text)) == text


def test_a_heading_inside_a_code_block_is_text():
    text = replaced("## Success Criteria", "```\n## Success Criteria", TEMPLATE)
    text = replaced("## Rollback Plan", "```\n\n## Rollback Plan", text)
    assert any("missing section '## Success Criteria'" in m for _, m in warnings(text))
    assert "## Success Criteria" in parse_plan(text).rollback_partial or \
        "## Success Criteria" in parse_plan(text).sections["risk_dependencies"]


def test_text_before_the_title_is_kept_as_the_preamble():
    doc = parse_plan("Hello\n" + TEMPLATE)
    assert doc.title == ""  # the template's placeholder title
    assert [(e.heading, e.body) for e in doc.extra_sections] == [("", "Hello")]


def test_no_title_is_a_warning_and_the_text_is_kept():
    text = "Hello\n" + TEMPLATE.split("\n", 1)[1]
    doc = parse_plan(text)
    assert doc.title == ""
    assert (1, "no '# <title>' heading at the top; the plan has no title") in warnings(text)
    assert doc.extra_sections[0].heading == "" and "Hello" in doc.extra_sections[0].body
    assert parse_plan("") == PlanDocument()


@pytest.mark.parametrize(
    ("old", "new", "kept_in"),
    [
        ("**Objective**: What", "Intro text\n**Objective**: What", "notes"),
        ("**Dependencies**: Any", "**Owner**: Alice\n**Dependencies**: Any", "notes"),
        ("**Dependencies**: Any prerequisites",
         "**Dependencies**: Any prerequisites\n**Dependencies**: More", "notes"),
        ("### Step 1: [Description]", "### Notes\n\n### Step 1: [Description]", "intro"),
        ("- [ ] Functional requirement 1", "Must hold:\n- [ ] Functional requirement 1",
         "criteria"),
        ("### Existing System", "Intro\n### Existing System", "group"),
        ("**Date**: [Date]", "**Date**: [Date]\nLooks good", None),
    ],
)  # fmt: skip
def test_text_the_template_has_no_place_for_is_kept_where_it_stood(old, new, kept_in):
    text = replaced(old, new)
    doc = parse_plan(text)
    extra = new.replace(old, "").strip()
    if kept_in == "notes":
        assert extra in doc.steps[0].notes
    elif kept_in == "intro":
        assert doc.sections["implementation_steps"] == extra
    elif kept_in == "criteria":
        assert doc.sections["success_criteria"] == "Must hold:"
    elif kept_in == "group":
        assert doc.sections["current_state_analysis"] == "Intro"
    assert patch_source(text, doc) == text  # and the export keeps it where it was


def test_a_second_section_of_the_same_name_is_kept_as_an_extra_section():
    text = replaced("## Rollback Plan", "## problem statement\nAgain\n\n## Rollback Plan")
    doc = parse_plan(text)
    assert [(e.heading, e.body) for e in doc.extra_sections] == [("problem statement", "Again")]
    assert any("a second 'Problem Statement' section" in m for _, m in warnings(text))


def test_a_status_line_or_filled_approval_is_flagged_and_never_a_decision():
    text = replaced("*Status: PENDING_REVIEW*", "*Status: APPROVED*")
    text = replaced("**Reviewer**: [Name]", "**Reviewer**: Rob", text)
    found = warnings(text)
    assert (line_of(text, "*Status: APPROVED*"), "the plan says 'Status: APPROVED'; kept as the "
            "author's text, not a decision: only reviewers decide in Plangate") in found
    assert (line_of(text, "## Approval"), "the Approval section is filled in; kept as the "
            "author's text, not a decision: only reviewers approve in Plangate") in found


def test_invalid_utf8_names_the_problem_and_line():
    data = TEMPLATE.replace("[Feature Name]", "Caf\xe9").encode("latin-1")
    error = import_error(data)
    assert error.line == 1
    assert "not valid UTF-8" in error.message


def test_over_one_megabyte_is_refused():
    big = TEMPLATE.replace("Brief description", "x" * 1_000_000)
    assert "1 MB" in str(import_error(big))
    assert "1 MB" in str(import_error(big.encode("utf-8")))


def test_the_limit_is_one_million_bytes_of_utf8():
    padding = 1_000_000 - len(TEMPLATE.encode("utf-8"))
    at_limit = TEMPLATE.replace("Brief", "x" * padding + "Brief")
    assert len(at_limit.encode("utf-8")) == 1_000_000
    assert parse_plan(at_limit).problem_statement.startswith("x" * padding)
    assert "1 MB" in str(import_error(at_limit.replace("Brief", "Brieff")))
    # Counted in bytes, not characters: 'é' is two bytes.
    wide = TEMPLATE.replace("Brief", "é" * (padding // 2 + 1) + "Brief")
    assert len(wide) < 1_000_000 < len(wide.encode("utf-8"))
    assert "1 MB" in str(import_error(wide))


def test_nul_character_is_refused():
    assert import_error(TEMPLATE.replace("[DATE]", "\x00")).line == 3


# --- apply_document: values the models cannot hold -------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("created", ["20 November 2026", "20261120", "2026-13-01"])
def test_a_created_date_not_written_iso_is_not_stored(created):
    plan = PlanFactory()
    apply_document(plan=plan, document=PlanDocument(title="x", created=created))
    plan.refresh_from_db()
    assert plan.created_on is None


def test_a_created_date_not_written_iso_is_kept_in_the_text():
    text = replaced("*Created: [DATE]*", "*Created: 20 November 2026*")
    assert parse_plan(text).created == "20 November 2026"
    assert patch_source(text, parse_plan(text)) == text


@pytest.mark.django_db
def test_values_too_long_for_the_models_are_refused_before_writing():
    plan = PlanFactory()
    apply_document(plan=plan, document=PlanDocument(steps=[Step("Kept", estimate="1 hour")]))
    with pytest.raises(MarkdownImportError, match="step 2: title: Ensure this value"):
        apply_document(plan=plan, document=PlanDocument(steps=[Step("ok"), Step("x" * 301)]))
    assert list(PlanStep.objects.filter(plan=plan).values_list("title", flat=True)) == ["Kept"]


@pytest.mark.django_db
def test_a_document_built_in_code_with_an_unknown_risk_is_refused():
    with pytest.raises(MarkdownImportError, match="step 1: expected a risk level") as info:
        apply_document(plan=PlanFactory(), document=PlanDocument(steps=[Step("s",
                                                                             risk="Critical")]))
    assert info.value.line is None


def test_values_too_long_for_the_models_stay_in_the_text_from_markdown():
    long_title = "x" * 301
    text = replaced("### Step 1: [Description]", f"### Step 1: {long_title}")
    text = replaced("**Estimated Time**: X hours", f"**Estimated Time**: {'9' * 120} hours", text)
    doc = parse_plan(text)
    assert doc.steps[0].title == "Step 1" and doc.steps[0].estimate == ""
    found = " | ".join(m for _, m in warnings(text))
    assert "longer than 300 characters" in found and "longer than 100 characters" in found
    assert patch_source(text, doc) == text

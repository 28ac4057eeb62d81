"""Bad Markdown is refused with the line and what was expected there; nothing is dropped."""

import pytest

from plans.document import PlanDocument, Step
from plans.markdown import TEMPLATE, MarkdownImportError, parse_plan
from plans.models import PlanStep
from plans.services import apply_document
from tests.factories import PlanFactory


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line containing needle."""
    return next(n for n, line in enumerate(text.split("\n"), start=1) if needle in line)


def replaced(old: str, new: str, text: str = TEMPLATE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def import_error(text: str | bytes) -> MarkdownImportError:
    with pytest.raises(MarkdownImportError) as info:
        parse_plan(text)
    return info.value


def test_error_names_the_line_and_what_was_expected():
    text = replaced("**Risk Level**: Low/Medium/High", "**Risk Level**: Critical")
    error = import_error(text)
    line = line_of(text, "Critical")
    assert error.line == line
    assert error.message == "expected a risk level of Low, Medium or High, got 'Critical'"
    assert str(error) == f"line {line}: {error.message}"


def test_non_numeric_estimate():
    text = replaced("**Estimated Time**: X hours", "**Estimated Time**: soon")
    error = import_error(text)
    assert error.line == line_of(text, "soon")
    assert "expected an estimated time such as '4 hours'" in error.message
    assert "'soon'" in error.message


def test_empty_step_title():
    text = replaced("### Step 2: [Description]", "### Step 2:")
    error = import_error(text)
    assert error.line == line_of(text, "### Step 2:")
    assert error.message == "expected a title after 'Step 2:'"


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
def test_missing_section_is_named_with_the_line_where_it_was_expected(section, following):
    start = TEMPLATE.index(f"## {section}\n")
    text = TEMPLATE[:start] + TEMPLATE[TEMPLATE.index(f"## {following}\n") :]
    error = import_error(text)
    assert error.line == line_of(text, f"## {following}")
    assert error.message == f"missing section '## {section}'; expected it before '## {following}'"


def test_missing_last_section_points_at_the_end():
    text = TEMPLATE[: TEMPLATE.index("## Rollback Plan")]
    error = import_error(text)
    assert error.message == "missing section '## Rollback Plan'; expected it at the end"
    assert error.line == len(text.split("\n"))


def test_heading_inside_a_code_block_does_not_count_as_the_section():
    text = replaced("## Success Criteria", "```\n## Success Criteria", TEMPLATE)
    text = replaced("## Rollback Plan", "```\n\n## Rollback Plan", text)
    error = import_error(text)
    assert "missing section '## Success Criteria'" in error.message


def test_first_line_must_be_the_plan_heading():
    error = import_error("Hello\n" + TEMPLATE)
    assert error.line == 1
    assert error.message.startswith("expected '# Implementation Plan - <title>'")
    assert import_error("").line == 1


def test_empty_plan_title():
    error = import_error(replaced("Plan - [Feature Name]", "Plan -"))
    assert error.line == 1


def test_unexpected_header_line():
    text = replaced("*Status: PENDING_REVIEW*", "*Status: PENDING_REVIEW*\nBy Alice")
    error = import_error(text)
    assert error.line == line_of(text, "By Alice")
    assert "'*Created: <date>*'" in error.message


@pytest.mark.parametrize(
    ("old", "new", "bad", "expected"),
    [
        ("**Objective**: What", "Intro text\n**Objective**: What", "Intro text",
         "unexpected text in step 1"),
        ("- [ ] Specific task 1", "- Specific task 1", "- Specific task 1",
         "expected an action like '- [ ] text'"),
        ("**Dependencies**: Any", "**Owner**: Alice\n**Dependencies**: Any", "**Owner**",
         "unknown field '**Owner**' in step 1"),
        ("**Dependencies**: Any prerequisites",
         "**Dependencies**: Any prerequisites\n**Dependencies**: More", "**Dependencies**: More",
         "'**Dependencies**' appears twice in step 1"),
        ("### Step 1: [Description]", "### Notes\n\n### Step 1: [Description]", "### Notes",
         "expected '### Step 1: <title>', got '### Notes'"),
        ("- [ ] Functional requirement 1", "Must hold:\n- [ ] Functional requirement 1",
         "Must hold:", "expected a success criterion like '- [ ] text'"),
        ("### Existing System", "Intro\n### Existing System", "Intro",
         "expected '### Existing System' to open '## Current State Analysis'"),
        ("## Rollback Plan", "## problem statement\nAgain\n\n## Rollback Plan",
         "## problem statement", "the section '## problem statement' appears twice"),
        ("**Date**: [Date]", "**Date**: [Date]\nLooks good", "Looks good",
         "expected '**Reviewer**:'"),
    ],
)  # fmt: skip
def test_text_that_would_be_lost_is_refused(old, new, bad, expected):
    text = replaced(old, new)
    error = import_error(text)
    assert error.line == line_of(text, bad.split("\n")[-1])
    assert expected in error.message


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
def test_created_must_be_an_iso_date(created):
    plan = PlanFactory()
    with pytest.raises(MarkdownImportError, match="expected the Created date as YYYY-MM-DD"):
        apply_document(plan=plan, document=PlanDocument(title="x", created=created))


@pytest.mark.django_db
def test_values_too_long_for_the_models_are_refused_before_writing():
    plan = PlanFactory()
    apply_document(plan=plan, document=PlanDocument(steps=[Step("Kept", estimate="1 hour")]))
    with pytest.raises(MarkdownImportError, match="step 2: title: Ensure this value"):
        apply_document(plan=plan, document=PlanDocument(steps=[Step("ok"), Step("x" * 301)]))
    assert list(PlanStep.objects.filter(plan=plan).values_list("title", flat=True)) == ["Kept"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (Step("s", risk="Critical"), "step 1: expected a risk level of Low, Medium or High"),
        (Step("s", estimate="soon"), "step 1: expected an estimated time"),
    ],
)
def test_documents_built_in_code_are_checked_too(step, expected):
    with pytest.raises(MarkdownImportError, match=expected) as info:
        apply_document(plan=PlanFactory(), document=PlanDocument(steps=[step]))
    assert info.value.line is None

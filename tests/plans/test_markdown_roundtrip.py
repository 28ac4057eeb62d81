"""Plans survive Markdown -> document -> Markdown, and document -> models -> document."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction

from plans.document import Approval, CheckItem, ExtraSection, FileChange, PlanDocument, Step
from plans.markdown import (
    DEMO_DIR,
    TEMPLATE,
    TEMPLATE_PATH,
    canonical_text,
    content_hash_text,
    document_from_plan,
    export_plan,
    parse_estimate_hours,
    parse_plan,
    render_plan,
)
from plans.models import PlanStep, SuccessCriterion
from plans.services import apply_document
from tests.factories import PlanFactory

# Plans in the template's exact layout (the demo plans in plans/demo/ show other shapes).
EXAMPLES = [DEMO_DIR / "01-session-cache.md",
            Path(__file__).parents[1] / "data" / "rate-limit-login.md"]
SAMPLES = [pytest.param(TEMPLATE, id="bare-template")] + [
    pytest.param(path.read_text(encoding="utf-8"), id=path.name) for path in EXAMPLES
]


def normalised(text: str) -> str:
    """Trailing whitespace stripped per line, runs of blank lines collapsed, ends stripped."""
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def filled_text(**changes: str) -> str:
    """The bare template with some placeholder lines replaced (old line -> new text)."""
    text = TEMPLATE
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


# --- Markdown <-> document -------------------------------------------------------------------


def test_the_template_lives_in_the_repository():
    assert TEMPLATE_PATH.is_file() and TEMPLATE_PATH.parent.name == "plans"
    assert TEMPLATE.startswith("# Implementation Plan - [Feature Name]\n")
    assert TEMPLATE_PATH.read_text(encoding="utf-8") == TEMPLATE


@pytest.mark.parametrize("text", SAMPLES)
def test_render_of_parse_reproduces_the_file(text):
    rendered = render_plan(parse_plan(text))
    assert normalised(rendered) == normalised(text)
    # Byte-exact too, except that the export always ends with one newline.
    assert rendered == text.rstrip("\n") + "\n"


@pytest.mark.parametrize("text", SAMPLES)
def test_parse_of_render_gives_the_same_document(text):
    doc = parse_plan(text)
    assert parse_plan(render_plan(doc)) == doc


def test_bare_template_is_an_empty_plan():
    doc = parse_plan(TEMPLATE)
    assert doc.title == ""
    assert doc.created == ""
    assert doc.steps == []
    assert doc.success_criteria == []
    assert doc.review_checklist == ""
    assert doc.approval == Approval()
    # Everything is empty; the status line is kept as written.
    assert doc == PlanDocument(status="PENDING_REVIEW")


def test_empty_document_renders_as_the_template():
    assert render_plan(PlanDocument()) == TEMPLATE


@pytest.mark.parametrize("text", SAMPLES)
@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_line_endings_import_like_lf(text, newline):
    assert parse_plan(text.replace("\n", newline)) == parse_plan(text)


def test_bytes_with_a_bom_import_like_text():
    text = filled_text(**{"[Feature Name]": "Café menu — ünïcode"})
    doc = parse_plan(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert doc.title == "Café menu — ünïcode"
    assert render_plan(doc) == text


def test_filled_header_and_sections():
    text = filled_text(
        **{
            "[Feature Name]": "Rate-limit logins",
            "[DATE]": "2026-11-20",
            "PENDING_REVIEW": "DRAFT",
            "Brief description of the problem or feature request.": "Bots.\n\nMany bots.",
            "- Moderate risks and mitigations": "- Redis outage",
        }
    )
    doc = parse_plan(text)
    assert (doc.title, doc.created, doc.status) == ("Rate-limit logins", "2026-11-20", "DRAFT")
    assert doc.problem_statement == "Bots.\n\nMany bots."
    assert doc.medium_risk_items == "- Redis outage"
    assert doc.high_risk_items == ""  # still the placeholder
    assert render_plan(doc) == text


def test_fenced_code_headings_are_text():
    body = "See:\n\n```markdown\n## Not a section\n### Step 9: nor a step\n```\n\n~~~\n# x\n~~~"
    text = filled_text(**{"Brief description of the problem or feature request.": body})
    doc = parse_plan(text)
    assert doc.problem_statement == body
    assert doc.extra_sections == []
    assert render_plan(doc) == text


def test_unknown_sections_are_kept_in_place():
    text = filled_text(
        **{
            "## Problem Statement": "## Context\nWhy now.\n\n## Problem Statement",
            "## Current State Analysis": "## Glossary\n- RPS: requests per second\n\n"
            "## Current State Analysis",
            "## Review Checklist": "## Open Questions\n\n## Review Checklist",
            "\n---\n": "\n## Appendix\nLinks.\n\n---\n",
        }
    )
    doc = parse_plan(text)
    assert doc.extra_sections == [
        ExtraSection("Context", "Why now.", ""),
        ExtraSection("Glossary", "- RPS: requests per second", "problem_statement"),
        ExtraSection("Open Questions", "", "rollback_plan"),
        ExtraSection("Appendix", "Links.", "approval"),
    ]
    assert render_plan(doc) == text


def test_unknown_subsection_stays_in_the_field_above_it():
    kept = "- Safe stopping points\n\n#### Detail\n\n### Notes\nKeep.\n"
    text = filled_text(**{"- Safe stopping points\n": kept})
    doc = parse_plan(text)
    assert doc.rollback_partial.endswith("#### Detail\n\n### Notes\nKeep.")
    assert render_plan(doc) == text


ESTIMATES = [
    ("4 hours", Decimal("4")),
    ("1.5 hours", Decimal("1.5")),
    ("1 hour", Decimal("1")),
    ("30 minutes", Decimal("0.5")),
    ("45 min", Decimal("0.75")),
    ("2-3 hours", Decimal("3")),
    ("1 day", Decimal("8")),
    ("2 days", Decimal("16")),
    ("0.5h", Decimal("0.5")),
    ("~2 hours", Decimal("2")),
    ("about 3h", Decimal("3")),
    ("2h 30m", Decimal("2.5")),
    ("1 week", Decimal("40")),
    ("1-2 weeks", Decimal("80")),
    ("", None),
    ("X hours", None),
]


@pytest.mark.parametrize(("written", "hours"), ESTIMATES)
def test_parse_estimate_hours(written, hours):
    assert parse_estimate_hours(written) == hours


@pytest.mark.parametrize("written", ["soon", "3", "hours", "TBD", "-1 hours", "1,5 hours"])
def test_parse_estimate_hours_rejects_nonsense(written):
    with pytest.raises(ValueError, match="expected an estimated time such as"):
        parse_estimate_hours(written)


def test_steps_keep_estimates_as_written_and_normalise_risk():
    text = filled_text(
        **{
            "### Step 1: [Description]": "### Step 1: Counter",
            "**Estimated Time**: X hours": "**Estimated Time**: 2-3 hours",
            "**Risk Level**: Low/Medium/High": "**Risk Level**: high",
        }
    )
    doc = parse_plan(text)
    assert [s.estimate for s in doc.steps] == ["2-3 hours", "", ""]
    assert [parse_estimate_hours(s.estimate) for s in doc.steps] == [Decimal(3), None, None]
    assert [s.risk for s in doc.steps] == ["High", "", ""]
    # Only the risk's spelling changes on the way back.
    assert render_plan(doc) == text.replace("**Risk Level**: high", "**Risk Level**: High")


def test_a_real_step_among_placeholder_steps_keeps_all_three():
    text = filled_text(**{"### Step 2: [Description]": "### Step 2: Real work"})
    doc = parse_plan(text)
    assert [s.title for s in doc.steps] == ["[Description]", "Real work", "[Description]"]
    assert doc.steps[1].files == [FileChange("", "List of files")]
    assert render_plan(doc) == text


def test_steps_round_trip_with_every_kind_of_line():
    doc = PlanDocument(
        title="Everything",
        status="DRAFT",
        steps=[
            Step(
                title="One",
                objective="First line\nsecond line",
                actions=[CheckItem("done", True), CheckItem("todo\n  with more detail")],
                files=[
                    FileChange("a/b.py", "New"),
                    FileChange("c.py", ""),
                    FileChange("", "Some free text"),
                ],
                dependencies="None",
                estimate="30 minutes",
                risk="Medium",
            ),
            Step(title="Two", estimate="1 day"),  # no actions, no files
        ],
        success_criteria=[CheckItem("Fast", True), CheckItem("Correct")],
        review_checklist="*For human reviewer:*\n\n### Technical Review\n- [x] Looked",
        approval=Approval("Rob", "2026-11-21", "APPROVED", "Fine.\nShip it."),
    )
    text = render_plan(doc)
    assert "- [x] done\n- [ ] todo\n  with more detail\n" in text
    assert "- `a/b.py` - New\n- `c.py`\n- Some free text\n" in text
    assert "**Comments**:\nFine.\nShip it.\n" in text
    assert parse_plan(text) == doc


def test_missing_review_checklist_and_approval_get_placeholders():
    start = TEMPLATE.index("## Review Checklist")
    text = TEMPLATE[:start] + TEMPLATE[TEMPLATE.index("---\n**NOTE**") :]
    doc = parse_plan(text)
    assert doc == parse_plan(TEMPLATE)
    assert render_plan(doc) == TEMPLATE


def test_canonical_text_ignores_status_and_approval():
    doc = parse_plan(TEMPLATE)
    reviewed = parse_plan(TEMPLATE)
    reviewed.status = "APPROVED"
    reviewed.approval = Approval("Rob", "2026-11-21", "APPROVED", "ok")
    assert canonical_text(reviewed) == canonical_text(doc)
    reviewed.problem_statement = "Changed"
    assert canonical_text(reviewed) != canonical_text(doc)


# --- document <-> models ---------------------------------------------------------------------


def import_into_new_plan(text: str):
    plan = PlanFactory()
    with transaction.atomic():
        apply_document(plan=plan, document=parse_plan(text))
    return plan


def fetch(plan):
    return (
        type(plan)
        .objects.prefetch_related("steps__actions", "steps__files", "success_criteria")
        .get(pk=plan.pk)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("text", SAMPLES)
def test_import_then_export_reproduces_the_file(text, django_assert_num_queries):
    plan = import_into_new_plan(text)
    # The export's status line is the plan's status (the model's, never the file's: importing
    # does not change status), so compare with the file's status line put in its place.
    original_status = parse_plan(text).status
    fetched = fetch(plan)
    with django_assert_num_queries(0):
        doc = document_from_plan(fetched)
    assert doc.status == plan.status
    doc.status = original_status
    assert render_plan(doc) == text.rstrip("\n") + "\n"
    assert (
        export_plan(fetched).replace(f"*Status: {plan.status}*", f"*Status: {original_status}*")
        == text.rstrip("\n") + "\n"
    )


@pytest.mark.django_db
def test_bare_template_imports_as_no_rows():
    plan = import_into_new_plan(TEMPLATE)
    plan.refresh_from_db()
    assert plan.title == ""
    assert plan.created_on is None
    assert plan.problem_statement == ""
    assert plan.extra_sections == []
    assert not PlanStep.objects.filter(plan=plan).exists()
    assert not SuccessCriterion.objects.filter(plan=plan).exists()


@pytest.mark.django_db
def test_import_writes_rows_and_replaces_old_ones():
    doc = PlanDocument(
        title="Rows",
        created="2026-11-20",
        steps=[
            Step(
                "One",
                actions=[CheckItem("a", True), CheckItem("b")],
                files=[FileChange("x.py", "New"), FileChange("", "Free")],
                estimate="2-3 hours",
                risk="High",
            ),
            Step("Two", estimate="1 day", risk="Low"),
        ],
        success_criteria=[CheckItem("Fast"), CheckItem("Correct", True)],
        extra_sections=[ExtraSection("Notes", "Body", "problem_statement")],
    )
    plan = PlanFactory()
    status = plan.status
    apply_document(plan=plan, document=doc)
    apply_document(plan=plan, document=doc)  # replaces, does not duplicate

    plan.refresh_from_db()
    assert plan.status == status
    assert str(plan.created_on) == "2026-11-20"
    assert plan.extra_sections == [
        {"heading": "Notes", "body": "Body", "after": "problem_statement"}
    ]
    steps = list(plan.steps.all())
    assert [(s.position, s.title, s.estimate, s.estimated_hours, s.risk) for s in steps] == [
        (0, "One", "2-3 hours", Decimal(3), "high"),
        (1, "Two", "1 day", Decimal(8), "low"),
    ]
    assert [(a.text, a.done) for a in steps[0].actions.all()] == [("a", True), ("b", False)]
    assert [(f.path, f.description) for f in steps[0].files.all()] == [
        ("x.py", "New"),
        ("", "Free"),
    ]
    assert [(c.position, c.text, c.done) for c in plan.success_criteria.all()] == [
        (0, "Fast", False),
        (1, "Correct", True),
    ]
    assert plan.total_estimated_hours == Decimal(11)
    assert document_from_plan(fetch(plan), approval=Approval("Rob")) == PlanDocument(
        **{**doc.__dict__, "status": plan.status, "approval": Approval("Rob")}
    )


@pytest.mark.django_db
def test_content_hash_text_ignores_status_and_approval():
    """What a revision's hash is taken of stays the same when only the plan's status moves on
    (the export shows the status; the hashed text has the template's placeholder), and changes
    with the content."""
    from plans.models import Plan, PlanStatus

    plan = import_into_new_plan(TEMPLATE)
    text = content_hash_text(plan)
    assert "*Status: PENDING_REVIEW*" in text and "*Status: DRAFT*" in export_plan(plan)
    Plan.objects.filter(pk=plan.pk).update(status=PlanStatus.APPROVED)
    approved = Plan.objects.get(pk=plan.pk)
    assert "*Status: APPROVED*" in export_plan(approved, Approval("Rob", status="APPROVED"))
    assert content_hash_text(approved) == text
    approved.problem_statement = "Logins are slow."
    assert content_hash_text(approved) != text


def test_the_demo_plans_are_in_the_repository():
    """make run imports them (seed_demo); they come in several shapes, all importable."""
    demos = sorted(DEMO_DIR.glob("*.md"))
    assert len(demos) >= 3
    assert all(parse_plan(path.read_bytes()).steps for path in demos)

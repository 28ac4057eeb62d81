"""Reading plans: the detail document, its HTML cache, lists with filters, import and export."""

from html import unescape
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from plans import services
from plans.markdown import DEMO_DIR, TEMPLATE_PATH
from plans.models import Plan, PlanStep, RiskLevel
from tests.factories import (
    AuthorFactory,
    PlanFactory,
    PlanStepFactory,
    ReviewerFactory,
    StepActionFactory,
    StepFileFactory,
    SuccessCriterionFactory,
)

pytestmark = pytest.mark.django_db

TEMPLATE = TEMPLATE_PATH
EXAMPLES = sorted(DEMO_DIR.glob("*.md"))


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


def test_detail_reads_as_a_document_with_steps_and_totals(client):
    plan = PlanFactory(title="Session cache", problem_statement="Logins are **slow**")
    step = PlanStepFactory(plan=plan, title="Add Redis", estimate="2-3 hours",
                           estimated_hours=3, risk=RiskLevel.HIGH, dependencies="Ops *ok*")
    StepActionFactory(step=step, text="Configure `CACHES`", done=True)
    StepActionFactory(step=step, text="Write tests", done=False)
    StepFileFactory(step=step, path="config/settings.py", description="cache backend")
    SuccessCriterionFactory(plan=plan, text="p95 under 200ms")
    client.force_login(ReviewerFactory())  # any signed-in user reads
    page = client.get(plan.get_absolute_url()).content.decode()
    assert '<article class="document">' in page
    assert "<strong>slow</strong>" in page
    assert "<h3>Step 1: Add Redis</h3>" in page
    assert ('<input type="checkbox" disabled checked aria-label="done"> '
            "Configure <code>CACHES</code>") in page
    assert '<input type="checkbox" disabled aria-label="not done"> Write tests' in page
    assert "<code>config/settings.py</code> - cache backend" in page
    assert "2-3 hours" in page and "Ops <em>ok</em>" in page
    assert "Total estimate: <strong data-total-hours>3 h</strong>" in page
    assert 'data-highest-risk>High' in page
    assert "p95 under 200ms" in page
    assert '<section class="card review-panel" id="review-panel"' in page
    assert reverse("plans:export", args=[plan.pk]) in page
    assert reverse("plans:revisions", args=[plan.pk]) in page
    assert reverse("plans:edit", args=[plan.pk]) not in page  # not the author


def test_detail_html_is_cached_per_content(author_client, author):
    plan = PlanFactory(author=author, problem_statement="First *text*")
    url = plan.get_absolute_url()
    assert "First <em>text</em>" in author_client.get(url).content.decode()
    with mock.patch("plans.rendering.render_markdown", side_effect=AssertionError("rendered")):
        page = author_client.get(url).content.decode()  # second view: from the cache
    assert "First <em>text</em>" in page

    services.plan_update(actor=author, plan=plan, fields={"problem_statement": "New *text*"})
    with mock.patch("plans.rendering.render_markdown", wraps=lambda t: f"<p>{t}</p>") as spy:
        page = author_client.get(url).content.decode()
    assert spy.called  # new content, new cache entry
    assert "New *text*" in page


def test_list_columns_and_pagination(author_client, author):
    plan = PlanFactory(author=author, title="Counted")
    PlanStepFactory(plan=plan, estimated_hours=2, risk=RiskLevel.LOW)
    PlanStepFactory(plan=plan, estimated_hours="1.5", risk=RiskLevel.MEDIUM)
    for i in range(30):
        PlanFactory(title=f"Filler {i}")
    page = author_client.get(reverse("plans:list")).content.decode()
    assert "Page 1 of 2 (31 plans)" in page
    second = author_client.get(reverse("plans:list") + "?page=2").content.decode()
    row = second.split(">Counted</a>", 1)[1].split("</tr>", 1)[0]
    assert "<td>2</td>" in row and "<td>3.5</td>" in row and ">Medium<" in row
    assert "status-DRAFT" in row and f"<td>{author.get_full_name()}</td>" in row


def test_list_filters(author_client, author):
    bob = AuthorFactory(username="bob")
    mine = PlanFactory(author=author, title="Mine risky", problem_statement="about caching")
    PlanStepFactory(plan=mine, risk=RiskLevel.HIGH)
    PlanStepFactory(plan=mine, risk=RiskLevel.LOW)
    theirs = PlanFactory(author=bob, title="Bob low", problem_statement="queues")
    PlanStepFactory(plan=theirs, risk=RiskLevel.LOW)
    PlanFactory(author=bob, title="Bob empty")

    def titles(query):
        page = author_client.get(reverse("plans:list") + query).content.decode()
        return {t for t in ("Mine risky", "Bob low", "Bob empty") if f">{t}</a>" in page}

    assert titles("") == {"Mine risky", "Bob low", "Bob empty"}
    assert titles("?mine=1") == {"Mine risky"}
    assert titles("?author=bob") == {"Bob low", "Bob empty"}
    assert titles("?risk=high") == {"Mine risky"}
    assert titles("?risk=low") == {"Bob low"}  # highest risk, not any risk
    assert titles("?q=CACHING") == {"Mine risky"}  # problem statement, case-insensitive
    assert titles("?q=bob") == {"Bob low", "Bob empty"}
    assert titles("?status=APPROVED") == set()
    assert titles("?status=DRAFT&author=bob&q=queues") == {"Bob low"}


def test_export_downloads_markdown_named_after_the_title(author_client, author):
    plan = PlanFactory(author=author, title="Session Cache: v2!")
    PlanStepFactory(plan=plan, title="Add Redis", estimate="2-3 hours", estimated_hours=3)
    response = author_client.get(reverse("plans:export", args=[plan.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    assert response["Content-Disposition"] == 'attachment; filename="session-cache-v2.md"'
    text = response.content.decode()
    assert text.startswith("# Implementation Plan - Session Cache: v2!")
    assert "### Step 1: Add Redis" in text and "**Estimated Time**: 2-3 hours" in text


@pytest.mark.parametrize("path", [TEMPLATE, *EXAMPLES], ids=lambda p: p.name)
def test_import_by_upload_then_export_gives_the_text_back(author_client, author, path):
    text = path.read_text()
    upload = SimpleUploadedFile(path.name, text.encode(), content_type="text/markdown")
    response = author_client.post(reverse("plans:import"), {"file": upload})
    plan = Plan.objects.get()
    assert response.status_code == 302 and response["Location"] == plan.get_absolute_url()
    assert plan.author == author
    exported = author_client.get(reverse("plans:export", args=[plan.pk])).content.decode()
    assert exported == text  # byte for byte, whatever its shape


def test_import_by_paste(author_client):
    text = TEMPLATE.read_text().replace("[Feature Name]", "Pasted plan")
    response = author_client.post(reverse("plans:import"), {"text": text})
    assert response.status_code == 302
    assert Plan.objects.get().title == "Pasted plan"


def _template_with(old: str, new: str) -> str:
    text = TEMPLATE.read_text()
    assert old in text, old
    return text.replace(old, new, 1)


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), start=1) if line.startswith(needle))


def _bad_utf8() -> tuple[bytes, int]:
    text = _template_with("Brief description of the problem", "Caf\udce9 problem")
    line = _line_of(text, "Caf")
    return text.encode("utf-8", "surrogateescape"), line


# (id, make the text, the line the warning is on, words the warning must contain)
_OFF_TEMPLATE = [
    ("unknown-risk", lambda: _template_with("**Risk Level**: Low/Medium/High",
                                            "**Risk Level**: Huge"),
     "**Risk Level**: Huge", ["'Huge' is not Low, Medium or High", "kept as written"]),
    ("missing-heading", lambda: _template_with("## Risk Assessment\n", ""),
     "## Success Criteria", ["missing section '## Risk Assessment'", "before '## Success"]),
    ("non-numeric-estimate", lambda: _template_with("**Estimated Time**: X hours",
                                                    "**Estimated Time**: soon"),
     "**Estimated Time**: soon", ["'soon' is not a duration", "unknown in totals"]),
    ("unclosed-fence", lambda: _template_with("- Safe stopping points", "```\nstop"),
     "```", ["never closed"]),
]


@pytest.mark.parametrize("make, needle, words", [case[1:] for case in _OFF_TEMPLATE],
                         ids=[case[0] for case in _OFF_TEMPLATE])
def test_a_plan_off_the_template_imports_and_its_page_lists_the_warnings(author_client, make,
                                                                          needle, words):
    text = make()
    response = author_client.post(reverse("plans:import"), {"text": text}, follow=True)
    page = unescape(response.content.decode())
    plan = Plan.objects.get()
    assert response.redirect_chain[-1][0] == plan.get_absolute_url()
    assert "Plan imported (" in page and "warning" in page
    report = page.split("data-import-report", 1)[1].split("</div>", 1)[0]
    item = next(li for li in report.split("<li")[1:] if needle and f"Line {_line_of(text, needle)}:"
                in li)
    for word in words:
        assert word in item
    exported = author_client.get(reverse("plans:export", args=[plan.pk])).content.decode()
    assert exported == text


def test_the_plan_page_says_how_closely_the_plan_follows_the_template(author_client):
    text = TEMPLATE.read_text()
    text = text[: text.index("## Testing Strategy")] + text[text.index("## Risk Assessment"):]
    text = text.replace("## Risk Assessment\n", "## Open Questions\n- none\n\n## Risk Assessment\n")
    author_client.post(reverse("plans:import"), {"text": text})
    page = author_client.get(Plan.objects.get().get_absolute_url()).content.decode()
    assert ("<span data-conformance>7 of 8 template sections (not found: Testing Strategy), "
            "1 extra section kept</span>") in page


def test_the_import_page_links_to_the_template(author_client):
    page = author_client.get(reverse("plans:import")).content.decode()
    assert f'href="{reverse("plans:template")}"' in page
    response = author_client.get(reverse("plans:template"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/markdown")
    assert response.content.decode() == TEMPLATE.read_text()


def test_a_plan_made_in_the_editor_shows_no_import_report(author_client, author):
    plan = PlanFactory(author=author)
    assert "data-import-report" not in author_client.get(plan.get_absolute_url()).content.decode()


@pytest.mark.parametrize("upload, words", [
    (lambda: (b"# Implementation Plan - Big\n" + b"x" * 1_000_000, None),
     ["larger than the 1 MB limit"]),
    (_bad_utf8, ["not valid UTF-8", "save it as UTF-8"]),
], ids=["over-1-MB", "not-utf-8"])  # fmt: skip
def test_import_upload_errors_say_what_is_wrong_and_save_nothing(author_client, upload, words):
    PlanStepFactory()
    counts = Plan.objects.count(), PlanStep.objects.count()
    content, line = upload()
    response = author_client.post(reverse("plans:import"), {
        "file": SimpleUploadedFile("plan.md", content, content_type="text/markdown")})
    page = response.content.decode()
    assert response.status_code == 400
    assert (Plan.objects.count(), PlanStep.objects.count()) == counts
    error = unescape(page.split('id="field-file"', 1)[1].split("</div>", 1)[0])
    if line is not None:
        assert f"Line {line}:" in error
    for word in words:
        assert word in error


def test_import_requires_a_file_or_text(author_client):
    response = author_client.post(reverse("plans:import"), {"text": "  "})
    assert response.status_code == 400
    assert "Choose a Markdown file or paste the plan" in response.content.decode()


def test_list_pages_out_of_range_as_the_paginator_gives_them(author_client):
    for i in range(30):
        PlanFactory(title=f"Filler {i}")
    url = reverse("plans:list")
    # (a number too large for an offset, too: the last page, not a 500)
    for page, shown in [("99", 2), ("0", 2), ("-1", 2), ("two", 1), ("", 1), ("9" * 20, 2)]:
        html = author_client.get(f"{url}?page={page}").content.decode()
        assert f"Page {shown} of 2 (30 plans)" in html, page
        assert html.count("<tr>") == 1 + (25 if shown == 1 else 5)
    assert "No plans match." in author_client.get(f"{url}?q=nothing-like-it").content.decode()

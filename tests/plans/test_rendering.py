"""GitHub-flavoured Markdown, rendered the same everywhere a plan or a comment is read: the plan
page, a revision's page, the review page, the editor's preview, the diff and the discussion.
And sanitised: no script, handler, javascript: URL, form control or page id gets through any of
the new constructs (task lists, tables, footnotes, alerts, code fences)."""

import re
import textwrap
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.urls import reverse

from plans import rendering, services
from plans.models import Plan, RiskLevel
from reviews import services as review_services
from tests.factories import (
    PlanFactory,
    PlanStepFactory,
    StepActionFactory,
    StepFileFactory,
)
from tests.plans.test_xss import active_content
from tests.reviewkit import answer_all

pytestmark = pytest.mark.django_db

GFM = textwrap.dedent("""\
    Logins are slow: ~~sticky sessions~~ are gone[^why].

    - [ ] Measure the p95
    - [x] Read the session code

    | Backend | p95 |
    |---------|----:|
    | `db`    | 900 ms |
    | `redis` | 40 ms |

    ```python
    def cached():
        return True
    ```

    ```mermaid
    graph TD; A-->B
    ```

    > [!WARNING]
    > Flushing Redis logs everyone out.

    [^why]: The load balancer no longer pins them.
    """)


def assert_gfm(html: str) -> None:
    """Every GFM construct of GFM above, as GitHub renders it."""
    assert '<ul class="contains-task-list">' in html
    assert ('<li class="task-list-item"><input class="task-list-item-checkbox" type="checkbox"'
            ' disabled=""> Measure the p95</li>') in html
    assert ('<input class="task-list-item-checkbox" type="checkbox" checked="" disabled="">'
            " Read the session code") in html
    assert "<th>Backend</th>" in html and '<th class="align-right">p95</th>' in html
    assert "<td><code>redis</code></td>" in html
    assert ('<pre><code class="language-python">def cached():\n    return True\n</code></pre>'
            in html)
    assert '<pre><code class="language-mermaid">graph TD; A--&gt;B\n</code></pre>' in html
    assert '<div class="markdown-alert markdown-alert-warning">' in html
    assert '<p class="markdown-alert-title">Warning</p>' in html
    assert "<s>sticky sessions</s>" in html
    assert re.search(r'<sup class="footnote-ref"><a href="#fn-[0-9a-f]{12}-1" '
                     r'id="fnref-[0-9a-f]{12}-1"', html)
    assert '<section class="footnotes">' in html and "The load balancer no longer pins them" in html
    assert "<script" not in html and "~~" not in html and "| Backend |" not in html


def region(page: str, start: str, end: str) -> str:
    begin = page.index(start)
    return page[begin:page.index(end, begin)]


def document_of(page: str) -> str:
    return region(page, '<article class="document"', "</article>")


def step_of(page: str, number: int = 1) -> str:
    return region(page, f'<section class="plan-step" id="step-{number}">', "</section>")


def gfm_plan(author, **fields) -> Plan:
    """A submittable plan whose problem statement is GFM, with one step filled in."""
    plan = PlanFactory(author=author, title="Session cache", **{"problem_statement": GFM, **fields})
    step = PlanStepFactory(plan=plan, position=0, title="Cache sessions",
                           objective="Keep sessions in **Redis**.", dependencies="None",
                           estimate="2-3 hours", estimated_hours=3, risk=RiskLevel.MEDIUM)
    StepActionFactory(step=step, position=0, text="Write the `cache` backend")
    StepActionFactory(step=step, position=1, text="Measure again", done=True)
    StepFileFactory(step=step, position=0, path="app/cache.py", description="the new backend")
    return plan


def review_page(client, author, reviewer, plan) -> str:
    services.plan_submit(actor=author, plan=plan)
    review = review_services.review_start(actor=reviewer, plan=plan)
    client.force_login(reviewer)
    response = client.get(reverse("reviews:review", args=[review.pk]))
    assert response.status_code == 200
    return response.content.decode()


# --- where it renders -----------------------------------------------------------------------------
def test_review_page_renders_gfm_and_lays_the_steps_out_like_the_plan_page(
        client, author, reviewer):
    plan = gfm_plan(author)
    page = review_page(client, author, reviewer, plan)
    document = document_of(page)
    assert_gfm(document)
    step = step_of(document)
    assert "<h3>Step 1: Cache sessions</h3>" in step
    assert ("<p><strong>Objective</strong>:</p><p>Keep sessions in <strong>Redis</strong>.</p>"
            in step)
    assert ('<li><input type="checkbox" disabled aria-label="not done"> Write the '
            "<code>cache</code> backend</li>") in step
    assert '<input type="checkbox" disabled checked aria-label="done"> Measure again' in step
    assert "<li><code>app/cache.py</code> - the new backend</li>" in step
    assert '<strong>Estimated Time</strong>: 2-3 hours <span class="muted">(3 h)</span>' in step
    assert '<strong>Risk Level</strong>: <span class="risk-medium">Medium</span>' in step
    assert "**" not in document  # no run-on "**Objective**: ... **Actions**: - [ ] ..."
    assert "Total estimate: <strong data-total-hours>3 h</strong>" in document
    assert 'data-highest-risk>Medium</strong>' in document

    # The same partial, the same data: the step reads exactly as on the plan page.
    client.force_login(author)
    plan_page = client.get(plan.get_absolute_url()).content.decode()
    assert step_of(plan_page) == step
    assert_gfm(document_of(plan_page))


def test_revision_page_renders_gfm_and_structured_steps(author_client, author):
    plan = gfm_plan(author)
    revision = services.plan_submit(actor=author, plan=plan)
    page = author_client.get(revision.get_absolute_url()).content.decode()
    document = document_of(page)
    assert_gfm(document)
    assert "<h1>Implementation Plan - Session cache</h1>" in document
    assert "<h3>Step 1: Cache sessions</h3>" in step_of(document)


def test_editor_preview_renders_gfm(author_client):
    response = author_client.post(reverse("markdownx_markdownify"), {"content": GFM})
    assert response.status_code == 200
    assert_gfm(response.content.decode())


def test_diff_page_shows_a_changed_section_rendered_beside_its_lines(author_client, author):
    plan = gfm_plan(author, problem_statement="Logins are slow.")
    services.plan_submit(actor=author, plan=plan)
    plan = services.plan_withdraw(actor=author, plan=Plan.objects.get(pk=plan.pk))
    services.plan_update(actor=author, plan=plan, fields={"problem_statement": GFM})
    services.plan_submit(actor=author, plan=Plan.objects.get(pk=plan.pk))
    page = author_client.get(reverse("plans:diff", args=[plan.pk]) + "?from=1&to=2")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<ins class="diff-add">+ | Backend | p95 |</ins>' in html  # the lines, as written
    rendered = region(html, '<div class="diff-rendered"', "</details>")
    assert "As it reads in r2:" in rendered
    assert_gfm(rendered)
    assert "<h2>Problem Statement</h2>" not in rendered  # the summary names the section
    # An unchanged section is not rendered again.
    assert html.count('<div class="diff-rendered"') == sum(
        1 for s in page.context["sections"] if s.status in ("changed", "added"))


def test_comments_concerns_and_decisions_render_gfm(client, author, reviewer):
    plan = gfm_plan(author)
    html = review_page(client, author, reviewer, plan)  # submits and starts the review
    review_services.comment_post(actor=reviewer, plan=plan, body=GFM)
    review_services.comment_post(actor=reviewer, plan=plan, body="First line\nsecond line")
    review_services.concern_raise(actor=reviewer, plan=plan, title="Flush",
                                  body="- [ ] Check **logout**\n\n| a |\n|---|\n| b |")
    client.force_login(author)  # not the comments' author: no edit forms (with the source)
    page = client.get(reverse("reviews:comments", args=[plan.pk])).content.decode()
    assert_gfm(region(page, '<ol class="comments cv-general">', '<section class="card cv-new"'))
    assert "<p>First line<br>\nsecond line</p>" in page  # a newline in a comment is a break

    client.force_login(reviewer)
    review = plan.reviews.get()
    html = client.get(reverse("reviews:review", args=[review.pk])).content.decode()
    concerns = region(html, 'id="concerns-title"', "</section>")
    assert ('<input class="task-list-item-checkbox" type="checkbox" disabled=""> Check '
            "<strong>logout</strong>") in concerns
    assert "<td>b</td>" in concerns

    review_services.review_decide(actor=reviewer, review=review, decision="NEEDS_REVISION",
                                  comment="Please add:\n\n- [ ] a rollback test\n- ~~a flag~~")
    html = client.get(reverse("reviews:review", args=[review.pk])).content.decode()
    decision = region(html, '<h2 id="decision-title">Decision</h2>', "</section>")
    assert '<ul class="contains-task-list">' in decision and "<s>a flag</s>" in decision


def test_an_approval_comment_renders_on_the_certificate(client, author, reviewer):
    plan = gfm_plan(author)
    services.plan_submit(actor=author, plan=plan)
    review = review_services.review_start(actor=reviewer, plan=plan)
    answer_all(review, reviewer)
    review_services.review_decide(actor=reviewer, review=review, decision="APPROVED",
                                  comment="Approved:\n\n- [x] limits agreed\n<script>x</script>")
    client.force_login(author)
    page = client.get(reverse("reviews:certificate", args=[plan.pk])).content.decode()
    assert ('<input class="task-list-item-checkbox" type="checkbox" checked="" disabled="">'
            " limits agreed") in page
    assert page.lower().count("<script") == page.count('<script src="/static/js/')


def test_an_agent_written_plan_is_laid_out_with_its_own_text_kept_in_place():
    """An imported plan's revision holds the text as written; the review page still shows its
    steps structured, with what the template has no field for (a table, a diagram) in them."""
    text = textwrap.dedent("""\
        # Implementation Plan: Rate-limit logins

        > [!IMPORTANT]
        > Ship behind a flag.

        ## Problem Statement
        Brute force on `/login`.

        ## Implementation Steps

        ### Step 1: Add the limiter
        **Objective**: Count failures per IP
        **Actions**:
        - [ ] Add `RateLimiter`
        - [x] Pick limits

        | Window | Limit |
        |--------|------:|
        | 1 min  | 5     |

        ```mermaid
        graph LR; login-->limiter
        ```

        **Estimated Time**: ~2 hours
        **Risk Level**: Low-Medium
        """)
    revision = SimpleNamespace(content=text, content_hash="agent-plan-for-the-rendering-test")
    html = rendering.revision_html(revision)
    assert '<div class="markdown-alert markdown-alert-important">' in html  # the preamble
    step = step_of(html)
    assert "<h3>Step 1: Add the limiter</h3>" in step
    assert '<input type="checkbox" disabled aria-label="not done"> Add <code>RateLimiter</code>' \
        in step
    assert '<input type="checkbox" disabled checked aria-label="done"> Pick limits' in step
    assert "<th>Window</th>" in step and "<td>1 min</td>" in step
    assert '<code class="language-mermaid">graph LR; login--&gt;limiter' in step
    assert '<strong>Estimated Time</strong>: ~2 hours <span class="muted">(2 h)</span>' in step
    assert '<span class="risk-medium">Medium</span>' in step  # "Low-Medium" read as the higher
    assert "**" not in html


def test_text_the_importer_cannot_read_is_rendered_whole():
    revision = SimpleNamespace(content="# Notes\n\n- [ ] one\n\x00", content_hash="nul-text")
    html = rendering.revision_html(revision)
    assert "<h1>Notes</h1>" in html and "task-list-item-checkbox" in html


def test_html_of_the_previous_renderer_is_not_served(client, author, reviewer):
    plan = gfm_plan(author)
    revision = services.plan_submit(actor=author, plan=plan)
    stale = f"plans:revision-html:v{rendering.RENDER_VERSION - 1}:{revision.content_hash}"
    cache.set(stale, "<p>OLD RENDER</p>")
    client.force_login(author)
    page = client.get(revision.get_absolute_url()).content.decode()
    assert "OLD RENDER" not in page and "task-list-item-checkbox" in page


def test_extra_sections_stand_where_the_author_put_them(client, author, reviewer):
    plan = gfm_plan(author)
    plan.extra_sections = [
        {"heading": "Glossary", "body": "| Term | Meaning |\n|---|---|\n| p95 | slow tail |",
         "after": "problem_statement"},
        {"heading": "Open Questions", "body": "- [ ] Who owns Redis?", "after": "rollback_plan"},
    ]
    plan.save()
    for page in (review_page(client, author, reviewer, plan),
                 client.get(plan.get_absolute_url()).content.decode()):
        document = document_of(page)
        order = [document.index(f"<h2>{h}</h2>") for h in (
            "Problem Statement", "Glossary", "Current State Analysis", "Rollback Plan",
            "Open Questions")]
        assert order == sorted(order)
        assert "<td>slow tail</td>" in document and "Who owns Redis?" in document


def test_footnotes_of_two_sections_on_one_page_do_not_share_ids(author_client, author):
    plan = PlanFactory(author=author, problem_statement="A[^1]\n\n[^1]: first",
                       existing_system="B[^1]\n\n[^1]: second")
    page = author_client.get(plan.get_absolute_url()).content.decode()
    ids = re.findall(r'<li id="(fn-[0-9a-f]{12}-1)"', page)
    assert len(ids) == 2 and ids[0] != ids[1]
    for anchor in ids:
        assert f'href="#{anchor}"' in page


# --- sanitising the new constructs ----------------------------------------------------------------
class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inputs: list[dict] = []
        self.ids: list[str] = []
        self.classes: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input":
            self.inputs.append(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        self.classes += (attrs.get("class") or "").split()


def parsed(html: str) -> _Inputs:
    parser = _Inputs()
    parser.feed(html)
    return parser


CONSTRUCT_PAYLOADS = {
    "task list input": "- [ ] <input type=text name=password autofocus onfocus=alert(1) "
                       "form=f formaction=javascript:alert(1) value=x>\n"
                       "- [x] <input type=submit>done",
    "task list item": "- [ ] <img src=x onerror=alert(1)> [go](javascript:alert(1))",
    "table cell": "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | "
                  "[x](javascript:alert(1)) <svg onload=alert(1)> |",
    "table header": "| <script>alert(1)</script> | <a href=javascript:alert(1)>h</a> |\n|---|---|"
                    "\n| 1 | 2 |",
    "footnote label": 'See[^x"onmouseover="alert(1)] and[^<script>alert(1)</script>].\n\n'
                      '[^x"onmouseover="alert(1)]: one\n[^<script>alert(1)</script>]: two',
    "footnote body": "Text[^1].\n\n[^1]: <img src=x onerror=alert(1)> [a](javascript:alert(1))",
    "alert title": "> [!NOTE] <img src=x onerror=alert(1)>\n> body",
    "alert body": "> [!WARNING]\n> <script>alert(1)</script> [x](javascript:alert(1))\n"
                  "> <details open ontoggle=alert(1)>",
    "code fence info": '```python" onmouseover="alert(1)\nx\n```\n\n'
                       "```<script>alert(1)</script>\ny\n```\n\n"
                       "``` javascript:alert(1)\nz\n```",
    "raw ids and classes": '<a id="csrfmiddlewaretoken" class="button primary" href="#x">a</a>'
                           '<div id="review-panel" class="markdown-alert evil">d</div>',
    "raw input": '<input type="text" name="decision" value="APPROVED">',
}


@pytest.mark.parametrize("payload", CONSTRUCT_PAYLOADS.values(), ids=CONSTRUCT_PAYLOADS.keys())
def test_new_constructs_are_sanitised_in_the_preview(author_client, payload):
    response = author_client.post(reverse("markdownx_markdownify"), {"content": payload})
    assert response.status_code == 200
    html = response.content.decode()
    assert active_content(html) == []
    assert "<script" not in html.lower()
    found = parsed(html)
    # Every input is a disabled checkbox that belongs to no form and takes no value.
    for attrs in found.inputs:
        assert attrs.get("type", "checkbox") == "checkbox" and "disabled" in attrs
        assert set(attrs) <= {"type", "disabled", "checked", "class"}
    # Only footnotes' own anchors carry ids; only GFM's classes survive.
    assert all(re.fullmatch(r"fn(ref)?-[0-9a-f]{12}-\d+(:\d+)?", i) for i in found.ids)
    assert not {"button", "primary", "evil"} & set(found.classes)
    assert not [c for c in found.classes if "alert(" in c or '"' in c]


def test_a_raw_input_keeps_no_name_value_or_other_type_and_is_disabled():
    html = rendering.render_markdown(CONSTRUCT_PAYLOADS["raw input"] + '<input type="checkbox">')
    assert html == '<p><input disabled=""><input type="checkbox" disabled=""></p>'


def test_code_fence_info_becomes_a_language_class_or_nothing():
    html = rendering.render_markdown(CONSTRUCT_PAYLOADS["code fence info"])
    assert html.count("<pre><code>") == 3  # none of those info strings is a language name
    assert rendering.render_markdown("```c++\nint x;\n```") == (
        '<pre><code class="language-c++">int x;\n</code></pre>')


def test_new_constructs_are_sanitised_on_the_review_page(client, author, reviewer):
    payloads = "\n\n".join(CONSTRUCT_PAYLOADS.values())
    plan = gfm_plan(author, problem_statement=payloads)
    step = plan.steps.get()
    step.objective = payloads
    step.save()
    page = review_page(client, author, reviewer, plan)
    document = document_of(page)
    assert active_content(document) == []
    assert "<script" not in document.lower()
    for attrs in parsed(document).inputs:
        assert attrs.get("type", "checkbox") == "checkbox" and "disabled" in attrs
        assert "name" not in attrs and "value" not in attrs


def test_comments_are_sanitised(client, author, reviewer):
    plan = gfm_plan(author)
    review_page(client, author, reviewer, plan)
    for payload in CONSTRUCT_PAYLOADS.values():
        review_services.comment_post(actor=reviewer, plan=plan, body=payload)
    page = client.get(reverse("reviews:comments", args=[plan.pk])).content.decode()
    bodies = re.findall(r'<div class="comment-body">(.*?)</div>\s*(?:<details class="cv-edit"|'
                        r"</li>)", page, re.S)
    assert len(bodies) == len(CONSTRUCT_PAYLOADS)
    for body in bodies:  # the page's own reply forms aside, nothing active in a comment
        assert active_content(body) == [] and "<script" not in body.lower()

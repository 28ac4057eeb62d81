"""The Content-Security-Policy: every HTML page is served with a strict policy (no inline script
or style, no 'unsafe-*'), the templates give the browser nothing inline that it would block,
and violation reports are received, logged and bounded."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from plans.services import plan_submit, plan_withdraw
from reviews import services as review_services
from tests.factories import AdminFactory
from tests.reviewkit import items_of, revise, submitted_plan

BASE_DIR = Path(settings.BASE_DIR)
REQUIRED = ["default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self'",
            "object-src 'none'", "base-uri 'self'", "form-action 'self'",
            "frame-ancestors 'none'", "report-uri /csp-report/"]


def directives(response) -> set[str]:
    return {part.strip() for part in response["Content-Security-Policy"].split(";")}


@pytest.fixture
def site(author, reviewer):
    """A plan with two revisions, a review with an answer, and a thread of comments."""
    plan = submitted_plan(author)
    plan_withdraw(actor=author, plan=plan)
    plan = revise(plan, author, "Logins are slow, measured twice")
    plan_submit(actor=author, plan=plan)
    review = review_services.review_start(actor=reviewer, plan=plan)
    review_services.review_answer(actor=reviewer, review=review, item=items_of(review)[0],
                                  answer="yes")
    top = review_services.comment_post(actor=reviewer, plan=plan, body="Why **now**?")
    reply = review_services.comment_post(actor=author, plan=plan, body="Load.", parent=top)
    review_services.comment_post(actor=reviewer, plan=plan, body="Fine.", parent=reply)
    return plan, review


def pages(plan, review) -> list[tuple[str, str]]:
    """(who, url) for the main HTML pages; who is a key of the `users` dict in the test."""
    return [
        ("author", reverse("plans:list")),
        ("author", reverse("plans:detail", args=[plan.pk])),
        ("author", reverse("plans:create")),
        ("author", reverse("plans:import")),
        ("author", reverse("plans:revisions", args=[plan.pk])),
        ("author", reverse("plans:revision", args=[plan.pk, 1])),
        ("author", reverse("plans:diff", args=[plan.pk])),
        ("author", reverse("reviews:comments", args=[plan.pk])),
        ("admin", reverse("reviews:timeline", args=[plan.pk])),
        ("reviewer", reverse("reviews:review", args=[review.pk])),
        ("author", reverse("notifications:inbox")),
        ("author", reverse("notifications:preferences")),
        ("author", reverse("api:tokens")),
        ("admin", reverse("audit:list")),
        ("admin", reverse("admin:index")),
        (None, reverse("login")),
        (None, reverse("api:docs")),
    ]


def test_every_main_page_carries_the_strict_policy(client, site, author, reviewer):
    plan, review = site
    users = {"author": author, "reviewer": reviewer, "admin": AdminFactory(username="ada")}
    checked = 0
    for who, url in pages(plan, review):
        client.logout()
        if who:
            client.force_login(users[who])
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html"), url
        policy = response["Content-Security-Policy"]
        assert "unsafe-" not in policy, url
        assert "nonce-" not in policy, url
        # Swagger UI's stylesheet draws its icons as data: images; only its page allows them.
        images = "img-src 'self' data:" if url == reverse("api:docs") else "img-src 'self'"
        expected = {images if d.startswith("img-src") else d for d in REQUIRED}
        assert expected <= directives(response), (url, policy)
        checked += 1
    assert checked == 17


def test_comment_threads_are_laid_out_by_class_not_inline_style(author_client, site):
    plan, _ = site
    html = author_client.get(reverse("reviews:comments", args=[plan.pk])).content.decode()
    thread = html[html.index('<section class="cv-thread"'):]
    assert len(re.findall(r'<li class="comment" id="comment-\d+">', thread)) == 3  # one thread
    assert "style=" not in html
    css = (BASE_DIR / "static/css/plangate.css").read_text()
    assert ".cv-thread { margin:" in css


def test_the_api_docs_init_script_is_a_file_of_our_origin(client):
    html = client.get(reverse("api:docs")).content.decode()
    assert '<script src="/api/docs/?script="></script>' in html
    assert "<style" not in html
    script = client.get(reverse("api:docs") + "?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


def test_htmx_is_told_not_to_inject_its_indicator_style(author_client):
    html = author_client.get(reverse("plans:list")).content.decode()
    meta = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
    assert meta is not None
    assert json.loads(meta.group(1)) == {"includeIndicatorStyles": False, "allowEval": False}
    assert ".htmx-request .htmx-indicator" in (BASE_DIR / "static/css/plangate.css").read_text()


# --- Templates: nothing inline that the policy would block --------------------------------------

def project_templates() -> list[Path]:
    """Every template of ours; email templates are excluded (mail clients, not our CSP, render
    them, and they need inline styles)."""
    found = [path for folder in [BASE_DIR / "templates", *BASE_DIR.glob("*/templates")]
             for path in folder.rglob("*.html") if "email" not in path.relative_to(folder).parts]
    return sorted(found)


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>",
                           re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE | re.DOTALL)
HANDLER_ATTRIBUTE = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)
JAVASCRIPT_URL = re.compile(r"=\s*[\"']?\s*javascript:", re.IGNORECASE)


def inline_code(text: str) -> list[str]:
    problems = []
    for name, pattern in [("inline <script>", INLINE_SCRIPT), ("<style>", STYLE_ELEMENT),
                          ("style= attribute", STYLE_ATTRIBUTE),
                          ("on*= handler", HANDLER_ATTRIBUTE),
                          ("javascript: URL", JAVASCRIPT_URL)]:
        problems += [name for _ in pattern.finditer(text)]
    return problems


def test_the_scan_finds_each_kind_of_inline_code():
    assert inline_code("<script>alert(1)</script>") == ["inline <script>"]
    assert inline_code('<script src="/static/x.js"></script>') == []
    assert inline_code('<script type="application/json" id="d">{}</script>') == []
    assert inline_code("<style>p{}</style>") == ["<style>"]
    assert inline_code('<li class="x"\n    style="margin: 0">') == ["style= attribute"]
    assert inline_code('<button onclick="go()">') == ["on*= handler"]
    assert inline_code('<a href="javascript:go()">') == ["javascript: URL"]
    assert inline_code('<button hx-on="x" data-once="1" class="online">') == []


def test_no_project_template_has_inline_script_style_or_handlers():
    templates = project_templates()
    assert len(templates) > 20  # the scan really reads the project's templates
    found = {str(path.relative_to(BASE_DIR)): inline_code(path.read_text())
             for path in templates}
    assert {path: problems for path, problems in found.items() if problems} == {}


# --- The report endpoint -----------------------------------------------------------------------

REPORT = {"csp-report": {"document-uri": "http://testserver/plans/",
                         "violated-directive": "style-src-attr", "blocked-uri": "inline",
                         "effective-directive": "style-src-attr"}}


def test_a_violation_report_is_logged_and_answered_204(client, caplog):
    caplog.set_level("WARNING", logger="plangate.csp")
    response = client.post("/csp-report/", json.dumps(REPORT),
                           content_type="application/csp-report")
    assert response.status_code == 204
    assert reverse("csp_report") == "/csp-report/"
    assert "style-src-attr" in caplog.text
    assert "http://testserver/plans/" in caplog.text


def test_the_report_endpoint_needs_no_login_or_csrf_token(db, caplog):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/csp-report/", json.dumps(REPORT), content_type="application/json")
    assert response.status_code == 204


@pytest.mark.parametrize("body, status", [
    ("not json", 400),
    ("[1, 2]", 400),
    ('{"csp-report": "text"}', 400),
    ("{" + '"x": "' + "a" * 20_000 + '"}', 413),
])
def test_a_malformed_or_oversized_report_is_a_4xx(client, caplog, body, status):
    caplog.set_level("WARNING", logger="plangate.csp")
    response = client.post("/csp-report/", body, content_type="application/csp-report")
    assert response.status_code == status
    assert "CSP violation" not in caplog.text


def test_the_report_endpoint_accepts_only_post(client):
    assert client.get("/csp-report/").status_code == 405


def test_rendered_markdown_carries_no_style_attribute():
    """Plan and comment HTML is shown under the policy too: column alignment becomes a class,
    and a style attribute written as raw HTML is dropped (the browser would refuse it)."""
    from plans.rendering import render_comment, render_markdown

    table = "| a | b |\n|:-:|--:|\n| 1 | 2 |\n\n<p style=\"color: red\">x</p>"
    for html in (render_markdown(table), render_comment(table)):
        assert "style=" not in html
        assert '<td class="align-center">1</td>' in html
        assert '<td class="align-right">2</td>' in html
        assert "<p>x</p>" in html

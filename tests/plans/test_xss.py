"""No script, event handler or javascript:/data: URL survives into a rendered plan page."""

from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from plans import services
from plans.models import PlanStep, RiskLevel, StepAction, StepFile, SuccessCriterion
from plans.rendering import PLAN_PROSE_FIELDS
from tests.factories import PlanFactory

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" ONERROR="alert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    "<a href='&#106;avascript:alert(1)'>entity</a>",
    "<a href='&#x6A;&#x61;&#x76;&#x61;script:alert(1)'>hex entity</a>",
    "[entity](&#106;avascript:alert(1))",
    "<javascript:alert(1)>",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<a href="data:text/html,<script>alert(1)</script>">d</a>',
    "<iframe src=javascript:alert(1)></iframe>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    '<div style="width: expression(alert(1))">x</div>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<body onload=alert(1)>',
    '<input autofocus onfocus=alert(1)>',
    "<details open ontoggle=alert(1)>",
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "[x](vbscript:msgbox(1))",
    '<a href="  javascript:alert(1)">spaces</a>',
    '<a href="java\tscript:alert(1)">tab</a>',
    '<a href="java&#x09;script:alert(1)">entity tab</a>',
    '"><script>alert(1)</script>',
    "`code` <img src=x onerror=alert(1)> **bold**",
]

FORBIDDEN_TAGS = {"script", "iframe", "svg", "object", "embed", "style", "form", "math", "body",
                  "base", "meta", "link", "frame", "frameset", "applet"}
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"}
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")


class ActiveContentFinder(HTMLParser):
    """Collects every tag, handler attribute or URL inside the watched region that could run."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            # What a browser makes of a URL: tabs and newlines dropped, ends trimmed.
            value = (value or "").translate({9: None, 10: None, 13: None}).strip().lower()
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=>")
            if name in URL_ATTRS and value.startswith(BAD_SCHEMES):
                self.problems.append(f"<{tag} {name}={value[:30]}>")
            if name == "style" and "expression" in value:
                self.problems.append(f"<{tag} style=expression>")
            if name == "srcdoc":
                self.problems.append(f"<{tag} srcdoc>")


def active_content(html: str) -> list[str]:
    finder = ActiveContentFinder()
    finder.feed(html)
    return finder.problems


def document_region(page: str) -> str:
    start = page.index('<article class="document">')
    return page[start:page.index("</article>", start)]


def plan_full_of(payload: str, author):
    plan = PlanFactory(author=author, title=payload,
                       **{name: f"Intro\n\n{payload}\n\n- item {payload}"
                          for name in PLAN_PROSE_FIELDS})
    plan.extra_sections = [{"heading": payload, "body": payload, "after": "rollback_plan"}]
    plan.save()
    step = PlanStep.objects.create(
        plan=plan, position=0, title=payload, objective=payload, dependencies=payload,
        estimate="1 hour", estimated_hours=1, risk=RiskLevel.LOW,
    )
    StepAction.objects.create(step=step, position=0, text=payload)
    StepFile.objects.create(step=step, position=0, path=payload, description=payload)
    SuccessCriterion.objects.create(plan=plan, position=0, text=payload)
    return plan


def test_payload_checker_catches_what_it_should():
    """The checker itself works: it flags raw payloads (so a pass below means something)."""
    flagged = [p for p in PAYLOADS if active_content(p)]
    assert len(flagged) >= 20


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_payload_survives_on_the_detail_page(author_client, author, payload):
    plan = plan_full_of(payload, author)
    page = author_client.get(plan.get_absolute_url()).content.decode()
    document = document_region(page)
    assert active_content(document) == []
    assert "<script" not in document.lower()
    # The whole page only has the layout's own script tags (htmx, plangate.js).
    assert page.lower().count("<script") == page.count('<script src="/static/js/')


@pytest.mark.parametrize("payload", PAYLOADS[:8])
def test_list_and_editor_escape_payloads(author_client, author, payload):
    plan = plan_full_of(payload, author)
    page = author_client.get(reverse("plans:list")).content.decode()
    table = page[page.index("<table"):page.index("</table>")]
    assert active_content(table) == []
    page = author_client.get(reverse("plans:edit", args=[plan.pk])).content.decode()
    start = page.index(">", page.index('<form method="post" id="plan-editor"')) + 1
    assert active_content(page[start:page.index("</form>", start)]) == []


def test_revision_page_is_sanitised(author_client, author):
    plan = plan_full_of("<img src=x onerror=alert(1)> [x](javascript:alert(1))", author)
    revision = services.plan_submit(actor=author, plan=plan)
    page = author_client.get(revision.get_absolute_url()).content.decode()
    assert active_content(document_region(page)) == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdownx_preview_is_sanitised(author_client, payload):
    response = author_client.post("/markdownx/markdownify/", {"content": payload})
    assert response.status_code == 200
    assert active_content(response.content.decode()) == []


def test_markdownx_preview_requires_login(client):
    response = client.post("/markdownx/markdownify/", {"content": "**hi**"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_markdownx_upload_requires_login_and_refuses_svg(client, author, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
           b"<script>alert(1)</script></svg>")
    upload = SimpleUploadedFile("evil.svg", svg, content_type="image/svg+xml")
    response = client.post("/markdownx/upload/", {"image": upload})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

    client.force_login(author)
    upload = SimpleUploadedFile("evil.svg", svg, content_type="image/svg+xml")
    response = client.post("/markdownx/upload/", {"image": upload},
                           HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 400
    assert "File type is not supported." in str(response.json())
    # An SVG that claims to be a PNG is not an image Pillow can read: refused too.
    disguised = SimpleUploadedFile("evil.png", svg, content_type="image/png")
    response = client.post("/markdownx/upload/", {"image": disguised},
                           HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 400
    assert "Upload a PNG, JPEG or GIF image." in str(response.json())
    assert list(tmp_path.rglob("*")) == []  # nothing stored


def test_markdownx_upload_accepts_a_real_png(client, author, settings, tmp_path):
    import io

    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    client.force_login(author)
    upload = SimpleUploadedFile("dot.png", buffer.getvalue(), content_type="image/png")
    response = client.post("/markdownx/upload/", {"image": upload},
                           HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 200
    assert response.json()["image_code"].startswith("![](")


@pytest.mark.parametrize("src", [
    "https://tracker.example/pixel.png",
    "http://tracker.example/pixel.png",
    "//tracker.example/pixel.png",
    "/\\tracker.example/pixel.png",
    "/&#9;/tracker.example/pixel.png",
])  # fmt: skip
def test_images_from_other_sites_lose_their_source(client, author, src):
    plan = PlanFactory(author=author, problem_statement=(
        f'![pixel]({src}) and <img src="{src}" alt="raw">\n\n![ok](/media/markdownx/a.png)'))
    client.force_login(author)
    page = client.get(plan.get_absolute_url()).content.decode()
    assert "tracker.example" not in page
    assert '<img alt="pixel">' in page and '<img alt="raw">' in page
    assert '<img alt="ok" src="/media/markdownx/a.png">' in page


def test_uploaded_images_are_kept_and_relative_ones_lose_their_source():
    from plans.rendering import render_markdown

    assert render_markdown("![a](/media/markdownx/x.png)") == (
        '<p><img alt="a" src="/media/markdownx/x.png"></p>')
    # (A relative source could be "../../notifications/25/open/": a page, not an upload.)
    assert render_markdown("![a](diagram.png)") == '<p><img alt="a"></p>'
    assert "https://other.example" in render_markdown("[link](https://other.example)")

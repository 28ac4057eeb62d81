"""Images in rendered Markdown show only uploaded images (under MEDIA_URL): any other URL of this
site is a GET every reader's browser would send (``<img src="/notifications/25/open/">`` in a
comment marked the reader's notification read), and other sites' images stay refused."""

import pytest

from plans.rendering import render_comment, render_markdown


@pytest.mark.parametrize("src", [
    "/notifications/1/open/",
    "/notifications/1/open/?x=.png",
    "../../notifications/1/open/",  # relative to the page it is shown on
    "open/",
    "diagram.png",
    "/media/../notifications/1/open/",  # the browser resolves the dots away
    "/media/%2e%2e/notifications/1/open/",
    "/media/markdownx/..%2F..%2Fnotifications/1/open/",
    "/plans/1/delete/",
])  # fmt: skip
@pytest.mark.parametrize("render", [render_markdown, render_comment])
def test_images_pointing_at_pages_of_this_site_lose_their_source(render, src):
    html = render(f'Looks fine. <img src="{src}" alt="raw"> ![md]({src})')
    assert "<img" in html
    assert "src=" not in html, html
    assert "notifications" not in html


@pytest.mark.parametrize("render", [render_markdown, render_comment])
def test_uploaded_images_are_kept(render):
    html = render("![diagram](/media/markdownx/0123456789abcdef0123456789abcdef.png)")
    assert 'src="/media/markdownx/0123456789abcdef0123456789abcdef.png"' in html


@pytest.mark.parametrize("src", ["https://tracker.example/pixel.png",
                                 "//tracker.example/media/pixel.png",
                                 "/\\tracker.example/media/pixel.png"])
def test_images_from_other_sites_are_still_refused(src):
    html = render_comment(f"![pixel]({src})")
    assert "tracker.example" not in html and '<img alt="pixel">' in html


def test_the_tester_s_comment_shows_no_image_that_loads():
    """The report's own comment, as the conversation page would show it."""
    html = render_comment('Looks fine. <img src="/notifications/25/open/">')
    assert html == "<p>Looks fine. <img></p>"

"""Image uploads through the markdownx editor (/markdownx/upload/) and its preview endpoint.

Each test is what a user or an attacker sees: the status and message, what lands in MEDIA_ROOT
(a temporary directory here) and how the stored file is served back in development.
"""

import importlib
import io
import re
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import clear_url_caches
from PIL import Image, ImageFile, ImageSequence, PngImagePlugin

UPLOAD_URL = "/markdownx/upload/"
MARKDOWNIFY_URL = "/markdownx/markdownify/"
AJAX = {"x-requested-with": "XMLHttpRequest"}  # markdownx's editor sends this
SCRIPT = b"<script>alert(document.cookie)</script>"
IMAGE_CODE = re.compile(r"!\[\]\((/media/markdownx/[0-9a-f]{32}\.(png|jpg|gif))\)")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def dev_media(settings, media):
    """config/urls.py as runserver loads it (DEBUG on): Django itself serves MEDIA_URL."""
    import config.urls

    debug = settings.DEBUG
    settings.DEBUG = True
    importlib.reload(config.urls)
    clear_url_caches()
    yield media
    settings.DEBUG = debug
    importlib.reload(config.urls)
    clear_url_caches()


def stored_files(media):
    return sorted(path for path in media.rglob("*") if path.is_file())


def upload(client, data, name="picture.png", content_type="image/png", headers=AJAX):
    image = SimpleUploadedFile(name, data, content_type=content_type)
    return client.post(UPLOAD_URL, {"image": image}, headers=headers)


def encode(image, kind, **params):
    out = io.BytesIO()
    image.save(out, kind, **params)
    return out.getvalue()


def gif(frames=1, size=(6, 4), **params):
    images = [Image.new("RGB", size, (40 * n, 90, 200)) for n in range(frames)]
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], **params)


def png_of_size(width, height):
    """A valid 1-bit PNG of width x height, tiny in bytes (all-zero rows compress to nothing):
    what a decompression bomb looks like, built without ever holding its pixels in memory."""

    def chunk(kind, data):
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    row = bytes(1 + (width + 7) // 8)  # filter byte + packed pixels
    pack = zlib.compressobj(9)
    idat = b"".join(pack.compress(row) for _ in range(height)) + pack.flush()
    return b"".join([
        b"\x89PNG\r\n\x1a\n",
        chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)),
        chunk(b"IDAT", idat),
        chunk(b"IEND", b""),
    ])  # fmt: skip


def accepted_image(response, media):
    """The path and decoded image of the one file an accepted upload stored, at the URL the
    response gives."""
    assert response.status_code == 200, response.content
    match = IMAGE_CODE.fullmatch(response.json()["image_code"])
    assert match, response.json()
    (path,) = stored_files(media)
    assert f"/media/{path.relative_to(media).as_posix()}" == match[1]
    return path, Image.open(path)


def assert_refused(response, media, message):
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert stored_files(media) == []


# 1. Stored XSS: the client's name and trailing bytes never reach the stored file


GIF_WITH_SCRIPT = gif(comment=SCRIPT) + SCRIPT


def png_with_script():
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", SCRIPT.decode())
    return encode(Image.new("RGB", (6, 4), "red"), "PNG", pnginfo=text)


def jpeg_with_script():
    exif = Image.Exif()
    exif[0x010E] = SCRIPT.decode()  # ImageDescription
    image = Image.new("RGB", (6, 4), "red")
    return encode(image, "JPEG", comment=SCRIPT, icc_profile=SCRIPT, exif=exif)


@pytest.mark.parametrize("name", ["x.html", "x.htm", "x.xhtml", "x.svg", "x", "../../x.html"])
def test_a_gif_named_as_a_page_is_stored_as_a_clean_gif(author_client, media, name):
    response = upload(author_client, GIF_WITH_SCRIPT, name=name, content_type="image/gif")

    path, image = accepted_image(response, media)
    assert path.suffix == ".gif"
    assert path.parent == media / "markdownx"
    assert image.format == "GIF"
    assert SCRIPT[:7] not in path.read_bytes()
    assert "comment" not in image.info


@pytest.mark.parametrize(
    ("data", "kind", "extension"),
    [(GIF_WITH_SCRIPT, "GIF", ".gif"), (png_with_script(), "PNG", ".png"),
     (jpeg_with_script(), "JPEG", ".jpg")],
)  # fmt: skip
def test_stored_images_are_re_encoded_without_metadata_or_trailing_bytes(
    author_client, media, data, kind, extension
):
    assert SCRIPT in data  # the upload carries the script in its metadata and after its end

    response = upload(author_client, data + SCRIPT, name="x.html", content_type="image/png")

    path, image = accepted_image(response, media)
    assert (path.suffix, image.format) == (extension, kind)
    assert SCRIPT[:7] not in path.read_bytes()
    assert not {"comment", "Comment", "exif", "icc_profile", "xmp"} & set(image.info)
    assert image.size == (6, 4)


def test_the_decoded_format_decides_the_extension_not_the_declared_type(author_client, media):
    response = upload(author_client, gif(), name="photo.png", content_type="image/png")

    path, image = accepted_image(response, media)
    assert (path.suffix, image.format) == (".gif", "GIF")


def test_an_animated_gif_keeps_its_frames(author_client, media):
    response = upload(author_client, gif(frames=3, duration=120), content_type="image/gif")

    _, image = accepted_image(response, media)
    assert (image.n_frames, image.info["duration"]) == (3, 120)
    assert all("comment" not in frame.info for frame in ImageSequence.Iterator(image))


def test_uploaded_images_are_served_as_images_that_cannot_run_script(author_client, dev_media):
    response = upload(author_client, GIF_WITH_SCRIPT, name="x.html", content_type="image/gif")
    path, _ = accepted_image(response, dev_media)

    served = author_client.get(IMAGE_CODE.fullmatch(response.json()["image_code"])[1])

    assert served.status_code == 200
    assert served["Content-Type"] == "image/gif"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert b"".join(served.streaming_content) == path.read_bytes()


@pytest.mark.parametrize("name", ["old.html", "old.svg", "old.xhtml", "old.htm"])
def test_media_files_that_are_not_images_are_not_served(author_client, dev_media, name):
    """A page stored before the fix stays on disk; it must not be served from our origin."""
    (dev_media / "markdownx").mkdir()
    (dev_media / "markdownx" / name).write_bytes(GIF_WITH_SCRIPT)

    assert author_client.get(f"/media/markdownx/{name}").status_code == 404


# 2. Decompression bombs: refused from the header, before the pixels are decoded


@pytest.fixture
def no_decoding(monkeypatch):
    def load(self):
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


def test_a_small_file_with_huge_dimensions_is_refused_before_decoding(
    author_client, media, no_decoding
):
    bomb = png_of_size(12000, 12000)
    assert len(bomb) < 100_000

    response = upload(author_client, bomb)

    assert_refused(response, media, "The image is too large")
    assert "at most 40,000,000 pixels" in response.json()["error"]


def gif_of_frames(count):
    """A 1x1 GIF of `count` frames, alternating black and white, written by hand in a blink."""
    header = b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x21\xf9\x04\x00\x01\x00\x00\x00" + b"\x2c" + bytes(4) + b"\x01\x00\x01\x00\x00"
    pixels = [b"\x02\x02\x44\x01\x00", b"\x02\x02\x4c\x01\x00"]  # LZW of colour 0, colour 1
    return header + b"".join(frame + pixels[n % 2] for n in range(count)) + b";"


def test_a_gif_of_very_many_tiny_frames_is_refused(author_client, media):
    """Far under the pixel cap, but every frame costs time to re-encode."""
    assert Image.open(io.BytesIO(gif_of_frames(1001))).n_frames == 1001

    response = upload(author_client, gif_of_frames(1001), content_type="image/gif")

    assert_refused(response, media, "A GIF may have at most 1,000 frames.")
    _, image = accepted_image(upload(author_client, gif_of_frames(1000)), media)
    assert image.n_frames == 1000


@pytest.mark.parametrize("size", [(12000, 12000), (20000, 20000)])
def test_pillows_own_bomb_limits_are_refusals_too(author_client, media, settings, size):
    """With our cap raised, Pillow's warning (> 89 Mpx) and error (> 179 Mpx) still refuse."""
    settings.PLANGATE_IMAGE_MAX_PIXELS = 10**12

    response = upload(author_client, png_of_size(*size))

    assert_refused(response, media, "The image is too large")


def test_the_pixel_cap_is_a_setting_and_counts_every_gif_frame(author_client, media, settings):
    settings.PLANGATE_IMAGE_MAX_PIXELS = 100

    assert_refused(upload(author_client, png_of_size(11, 10)), media, "at most 100 pixels")
    assert_refused(upload(author_client, gif(frames=3, size=(6, 6))), media, "at most 100 pixels")
    accepted_image(upload(author_client, png_of_size(10, 10)), media)


# 3. Malformed requests get a clear 4xx, never a 500, and store nothing

VALID_PNG = encode(Image.new("RGB", (6, 4), "red"), "PNG")
NOISE = Image.frombytes("RGB", (32, 32), bytes(range(256)) * 12)  # does not compress away


def cut(kind):
    """An image cut off halfway through its pixel data."""
    data = encode(NOISE, kind)
    return data[: len(data) // 2]


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.mark.parametrize(
    ("data", "content_type", "message"),
    [
        pytest.param(VALID_PNG[:20], "image/png", "Upload a PNG, JPEG or GIF", id="png-header"),
        pytest.param(cut("PNG"), "image/png", "Upload a PNG, JPEG or GIF", id="truncated-png"),
        pytest.param(cut("JPEG"), "image/jpeg", "Upload a PNG, JPEG or GIF", id="truncated-jpeg"),
        pytest.param(cut("GIF"), "image/gif", "Upload a PNG, JPEG or GIF", id="truncated-gif"),
        pytest.param(VALID_PNG, "text/html", "File type is not supported", id="wrong-type"),
        pytest.param(GIF_WITH_SCRIPT, "text/html", "File type is not supported", id="gif-as-html"),
        pytest.param(b"", "image/png", "The submitted file is empty", id="zero-bytes"),
        pytest.param(SVG, "image/png", "Upload a PNG, JPEG or GIF", id="svg-as-png"),
        pytest.param(SVG, "image/svg+xml", "File type is not supported", id="svg"),
        pytest.param(b"<html><script>x</script>", "image/gif", "Upload a PNG, JPEG", id="html"),
        pytest.param(
            VALID_PNG + bytes(5 * 1024 * 1024), "image/png", "keep file size under 5.0", id="5mb"
        ),
    ],
)
def test_malformed_uploads_are_refused(author_client, media, data, content_type, message):
    assert_refused(upload(author_client, data, content_type=content_type), media, message)


@pytest.mark.parametrize("headers", [AJAX, {}], ids=["ajax", "plain"])
def test_an_upload_without_a_file_is_refused(author_client, media, headers):
    response = author_client.post(UPLOAD_URL, {}, headers=headers)

    assert_refused(response, media, "No image was uploaded")


@pytest.mark.parametrize("url", [UPLOAD_URL, MARKDOWNIFY_URL])
def test_the_editor_endpoints_only_answer_post(author_client, url):
    response = author_client.get(url)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json() == {"error": "Use POST."}


def test_markdownify_without_content_is_refused(author_client):
    response = author_client.post(MARKDOWNIFY_URL, {})

    assert response.status_code == 400
    assert response.json() == {"error": 'Send the Markdown to render as "content".'}


def test_markdownify_renders_sanitised_html(author_client):
    response = author_client.post(MARKDOWNIFY_URL, {"content": "**hi** <script>x</script>"})

    assert response.status_code == 200
    assert b"<strong>hi</strong>" in response.content
    assert b"<script" not in response.content


@pytest.mark.parametrize(("method", "url"), [
    ("post", UPLOAD_URL), ("get", UPLOAD_URL), ("post", MARKDOWNIFY_URL), ("get", MARKDOWNIFY_URL),
])  # fmt: skip
def test_anonymous_users_are_sent_to_log_in(client, media, method, url):
    response = getattr(client, method)(url, {"image": SimpleUploadedFile("x.gif", gif())})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert stored_files(media) == []

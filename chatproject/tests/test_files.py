import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from chatproject.files import file_save, file_url, image_url

CONTENT = b"0123456789" * 100


@pytest.fixture
def stored():
    return file_save(ContentFile(CONTENT), folder="tests")


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_signed_link_serves_the_bytes(client, stored):
    response = client.get(file_url(stored, mime_type="image/png"))
    assert response.status_code == 200
    assert body(response) == CONTENT
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"].startswith("private")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert "Content-Disposition" not in response


def test_the_link_is_stable_within_the_hour(stored, monkeypatch):
    """The same link all hour long, so browsers can cache the file: nothing in it may move
    with the clock but its expiry (a signature's timestamp did, every second)."""
    hour = int(time.time()) // 3600 * 3600
    monkeypatch.setattr(time, "time", lambda: hour + 1.0)
    first = file_url(stored)
    monkeypatch.setattr(time, "time", lambda: hour + 3599.0)
    assert file_url(stored) == first


def test_anything_not_media_is_an_attachment(client, stored):
    link = file_url(stored, mime_type="text/html", download_name="page.html")
    response = client.get(link)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="page.html"'
    assert response["Content-Security-Policy"] == "sandbox"


def test_a_tampered_link_is_404(client, stored):
    link = file_url(stored)
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    assert client.get(tampered).status_code == 404
    assert client.get("/files/not-a-token").status_code == 404


def test_an_expired_link_is_403(client, stored, settings):
    settings.FILE_URL_TTL = -7200
    assert client.get(file_url(stored)).status_code == 403


def test_a_file_cut_short_while_it_is_served_ends_the_download(client, stored):
    """The size was read before the body streams: a shorter file must not loop forever."""
    response = client.get(file_url(stored))
    with default_storage.open(stored, "wb") as handle:
        handle.write(CONTENT[:10])
    assert body(response) == CONTENT[:10]


def test_a_link_to_a_deleted_file_is_404(client, stored):
    link = file_url(stored)
    default_storage.delete(stored)
    assert client.get(link).status_code == 404


@pytest.mark.parametrize(
    ("header", "expected", "content_range"),
    [
        ("bytes=0-9", CONTENT[:10], "bytes 0-9/1000"),
        ("bytes=990-", CONTENT[990:], "bytes 990-999/1000"),
        ("bytes=-5", CONTENT[-5:], "bytes 995-999/1000"),
        ("bytes=995-5000", CONTENT[995:], "bytes 995-999/1000"),
    ],
)
def test_a_range_is_206(client, stored, header, expected, content_range):
    response = client.get(file_url(stored, mime_type="video/mp4"), HTTP_RANGE=header)
    assert response.status_code == 206
    assert body(response) == expected
    assert response["Content-Range"] == content_range
    assert response["Content-Length"] == str(len(expected))


def test_a_range_past_the_end_is_416(client, stored):
    response = client.get(file_url(stored), HTTP_RANGE="bytes=5000-")
    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */1000"


def test_an_unparsable_range_serves_the_whole_file(client, stored):
    response = client.get(file_url(stored), HTTP_RANGE="lines=1-2")
    assert response.status_code == 200
    assert body(response) == CONTENT


def test_no_file_has_no_link():
    assert file_url("") is None
    assert image_url("") is None


def test_image_links_are_served_inline_by_extension(client):
    name = file_save(ContentFile(b"GIF89a"), folder="tests", extension=".gif")
    assert client.get(image_url(name))["Content-Type"] == "image/gif"

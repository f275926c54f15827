import pytest
from django.core.files.storage import default_storage

from chatproject.tests.factories import decompression_bomb_png, image_bytes, upload


def put_avatar(client, file):
    return client.put("/api/v1/users/me/avatar", {"avatar": file}, format="multipart")


@pytest.mark.parametrize(
    ("image_format", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("GIF", "image/gif")],
)
def test_it_sets_an_image_served_by_a_signed_link(alice, client_for, image_format, content_type):
    client = client_for(alice)
    content = image_bytes(image_format)
    response = put_avatar(client, upload(content, name="me.bin"))
    assert response.status_code == 200
    link = response.json()["avatar"]
    assert link.startswith("/files/")
    served = client.get(link)
    assert served["Content-Type"] == content_type
    assert b"".join(served.streaming_content) == content
    assert client.get("/api/v1/users/me").json()["avatar"] == link


def test_the_avatar_shows_in_the_public_profile(alice, bob, client_for):
    put_avatar(client_for(bob), upload(image_bytes()))
    assert client_for(alice).get(f"/api/v1/users/{bob.id}").json()["avatar"].startswith("/files/")


def test_a_new_avatar_replaces_the_old_file(alice, client_for, django_capture_on_commit_callbacks):
    client = client_for(alice)
    put_avatar(client, upload(image_bytes()))
    alice.refresh_from_db()
    first = alice.avatar
    with django_capture_on_commit_callbacks(execute=True):
        put_avatar(client, upload(image_bytes("GIF")))
    assert not default_storage.exists(first)


def test_delete_removes_the_avatar(alice, client_for, django_capture_on_commit_callbacks):
    client = client_for(alice)
    put_avatar(client, upload(image_bytes()))
    alice.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete("/api/v1/users/me/avatar")
    assert response.status_code == 200
    assert response.json()["avatar"] is None
    assert not default_storage.exists(alice.avatar)


def test_a_file_that_is_not_an_image_is_400(alice, client_for):
    response = put_avatar(client_for(alice), upload(b"just some text", name="notes.txt"))
    assert response.status_code == 400
    assert "avatar" in response.json()


def test_html_named_png_is_400(alice, client_for):
    html = b"<!doctype html><script>alert(1)</script>"
    response = put_avatar(client_for(alice), upload(html, name="cat.png"))
    assert response.status_code == 400


def test_an_svg_is_400(alice, client_for):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = put_avatar(client_for(alice), upload(svg, name="a.svg", content_type="image/svg"))
    assert response.status_code == 400


def test_a_decompression_bomb_is_400(alice, client_for):
    response = put_avatar(client_for(alice), upload(decompression_bomb_png()))
    assert response.status_code == 400
    alice.refresh_from_db()
    assert alice.avatar == ""


def test_a_truncated_image_is_400(alice, client_for):
    response = put_avatar(client_for(alice), upload(image_bytes()[:40]))
    assert response.status_code == 400


def test_an_avatar_over_the_limit_is_413(alice, client_for, settings):
    content = image_bytes(size=(64, 64))
    settings.MAX_AVATAR_BYTES = len(content) - 1
    assert put_avatar(client_for(alice), upload(content)).status_code == 413


def test_a_body_announcing_more_than_the_limit_is_413_before_parsing(alice, client_for, settings):
    settings.MAX_AVATAR_BYTES = 10
    big = upload(b"x" * (200 * 1024))
    assert put_avatar(client_for(alice), big).status_code == 413


def test_a_missing_file_is_400(alice, client_for):
    response = client_for(alice).put("/api/v1/users/me/avatar", {}, format="multipart")
    assert response.status_code == 400
    assert "avatar" in response.json()


def test_json_instead_of_multipart_is_rejected(alice, client_for):
    response = client_for(alice).put("/api/v1/users/me/avatar", {"avatar": "x"}, format="json")
    assert response.status_code == 415

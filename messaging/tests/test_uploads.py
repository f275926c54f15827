import io
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from messaging.tests.factories import group_chat
from messaging.uploads import upload_inspect, upload_name_clean

MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 40
QUICKTIME_HEAD = b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  " + b"\x00" * 40
WEBM_HEAD = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm" + b"\x00" * 40


def image_bytes(fmt="PNG", size=(3, 2)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format=fmt)
    return buffer.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.mark.parametrize("fmt,mime", [("PNG", "image/png"), ("JPEG", "image/jpeg"),
                                      ("GIF", "image/gif"), ("WEBP", "image/webp")])  # fmt: skip
def test_images_are_known_by_their_bytes(fmt, mime):
    kind = upload_inspect(upload("photo.bin", image_bytes(fmt)))
    assert (kind.type, kind.mime_type, kind.width, kind.height) == ("image", mime, 3, 2)


@pytest.mark.parametrize(
    "head,mime",
    [(MP4_HEAD, "video/mp4"), (QUICKTIME_HEAD, "video/quicktime"), (WEBM_HEAD, "video/webm")],
)
def test_videos_are_known_by_their_signature(head, mime):
    kind = upload_inspect(upload("clip.txt", head))
    assert (kind.type, kind.mime_type) == ("video", mime)


@pytest.mark.parametrize(
    "name,data",
    [
        ("evil.png", b"<html><script>alert(1)</script></html>"),
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>'),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50),
        ("clip.mp4", b"\x00\x00\x00\x18ftypheic" + b"\x00" * 40),
    ],
)
def test_anything_else_is_a_file_never_an_image_type(name, data):
    kind = upload_inspect(upload(name, data))
    assert kind.type == "file" and not kind.mime_type.startswith(("image/", "video/"))


def test_a_decompression_bomb_is_refused():
    bomb = bytearray(image_bytes("PNG", (1, 1)))
    bomb[16:24] = (100_000).to_bytes(4, "big") * 2  # IHDR width and height, then its CRC
    bomb[29:33] = zlib.crc32(bytes(bomb[12:29])).to_bytes(4, "big")
    with pytest.raises(ValidationError):
        upload_inspect(upload("bomb.png", bytes(bomb)))


@pytest.mark.parametrize(
    "name,clean",
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("bad\x00na\u202eme\n.txt", "badname.txt"),
        ("..", "file"),
        ("", "file"),
        ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
    ],
)
def test_file_names_are_cleaned(name, clean):
    assert upload_name_clean(name) == clean


def test_an_image_is_sent_as_an_image_with_a_caption(alice, bob, client_for):
    chat = group_chat(alice, bob)
    data = image_bytes("PNG", (4, 3))
    response = client_for(alice).post(
        f"/api/v1/chats/{chat.pk}/messages",
        {"file": upload("../cat.png", data), "content": "look", "client_id": "up-1"},
        format="multipart",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["type"] == "image" and body["content"] == "look" and body["client_id"] == "up-1"
    attachment = body["attachment"]
    assert attachment["name"] == "cat.png" and attachment["size"] == len(data)
    assert (attachment["mime_type"], attachment["width"], attachment["height"]) == (
        "image/png",
        4,
        3,
    )
    served = client_for(bob).get(attachment["url"])
    assert served.status_code == 200 and b"".join(served.streaming_content) == data
    assert served["Content-Type"] == "image/png"


def test_an_html_file_named_png_is_a_file_served_as_a_download(alice, bob, client_for):
    chat = group_chat(alice, bob)
    data = b"<html><script>alert(1)</script></html>"
    response = client_for(alice).post(
        f"/api/v1/chats/{chat.pk}/messages", {"file": upload("x.png", data)}, format="multipart"
    )
    body = response.json()
    assert response.status_code == 201 and body["type"] == "file"
    served = client_for(bob).get(body["attachment"]["url"])
    assert served["Content-Type"] == "application/octet-stream"
    assert served["Content-Disposition"].startswith("attachment")
    assert b"".join(served.streaming_content) == data


def test_a_file_over_the_limit_is_413_and_nothing_is_stored(alice, bob, client_for, settings):
    settings.MAX_UPLOAD_BYTES = 10
    chat = group_chat(alice, bob)
    response = client_for(alice).post(
        f"/api/v1/chats/{chat.pk}/messages",
        {"file": upload("big.bin", b"x" * 11)},
        format="multipart",
    )
    assert response.status_code == 413
    assert not (settings.MEDIA_ROOT / "attachments").exists() or not any(
        (settings.MEDIA_ROOT / "attachments").iterdir()
    )


def test_an_empty_file_is_400(alice, bob, client_for):
    chat = group_chat(alice, bob)
    response = client_for(alice).post(
        f"/api/v1/chats/{chat.pk}/messages", {"file": upload("e.txt", b"")}, format="multipart"
    )
    assert response.status_code == 400


def test_a_repeated_upload_stores_no_second_file(alice, bob, client_for, settings):
    chat = group_chat(alice, bob)
    api = client_for(alice)
    for expected in (201, 200):
        response = api.post(
            f"/api/v1/chats/{chat.pk}/messages",
            {"file": upload("a.txt", b"abc"), "client_id": "same"},
            format="multipart",
        )
        assert response.status_code == expected
    assert len(list((settings.MEDIA_ROOT / "attachments").iterdir())) == 1


def test_deleting_a_message_deletes_its_file(alice, bob, client_for, settings, events):
    chat = group_chat(alice, bob)
    api = client_for(alice)
    body = api.post(
        f"/api/v1/chats/{chat.pk}/messages", {"file": upload("a.txt", b"abc")}, format="multipart"
    ).json()
    api.delete(f"/api/v1/messages/{body['id']}")
    events.run_on_commit_callbacks()
    assert not any((settings.MEDIA_ROOT / "attachments").iterdir())
    assert api.get(f"/api/v1/messages/{body['id']}").json()["attachment"] is None


def test_a_refused_upload_leaves_no_file_behind(alice, bob, client_for, settings):
    chat = group_chat(alice, bob)
    response = client_for(alice).post(
        f"/api/v1/chats/{chat.pk}/messages",
        {"file": upload("a.txt", b"abc"), "reply_to": 999_999},
        format="multipart",
    )
    assert response.status_code == 400
    assert not any((settings.MEDIA_ROOT / "attachments").iterdir())

"""Hostile uploads (hostile_files.py) as message attachments, user avatars and group avatars.

Each must be taken for what its bytes are, never for its name or declared type; a bomb,
an empty or an oversized file is refused with a 4xx; the stored name is clean; and the
served file comes back byte for byte with headers that keep a browser from running it.
bench/fuzz_uploads.py sends the bombs and oversized files to a live daphne and measures its
peak memory.
"""

import io
import unicodedata
from collections import Counter

import pytest
from django.conf import settings as django_settings
from PIL import Image

from chatproject.files import IMAGE_FORMATS
from chatproject.testing import print_figure
from chatproject.tests.hostile_files import MULTIPART_TYPE, catalogue, multipart_body
from messaging.tests.factories import group_chat

pytestmark = pytest.mark.django_db

HOSTILE = catalogue(django_settings.MAX_UPLOAD_BYTES, django_settings.MAX_AVATAR_BYTES)
MESSAGE_STATUS = {"image": 201, "video": 201, "file": 201, "too_large": 413}
MESSAGE_STATUS |= {"bomb": 400, "empty": 400, "unnamed": 400}
outcomes: Counter = Counter()


def count(outcome: str) -> None:
    outcomes[outcome] += 1


@pytest.fixture(scope="module", autouse=True)
def summary(request):
    yield
    if outcomes:
        counts = ", ".join(f"{answer}: {count}" for answer, count in sorted(outcomes.items()))
        print_figure(request.config, f"fuzz_uploads: {len(HOSTILE)} hostile files ({counts})")


@pytest.fixture
def chat(alice, bob, settings):
    settings.THROTTLE_SEND = "1000000/min"
    return group_chat(alice, bob)


def upload(client, method: str, path: str, field: str, hostile):
    body = multipart_body(field, hostile)
    response = client.generic(method, path, body, content_type=MULTIPART_TYPE)
    assert response.status_code < 500, response.content[:500]
    return response


def served(client, url: str):
    response = client.get(url)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    response.body = b"".join(response.streaming_content)
    return response


def real_image_type(content: bytes) -> str:
    with Image.open(io.BytesIO(content)) as image:
        return IMAGE_FORMATS[image.format][0]


def assert_clean_name(name: str) -> None:
    assert name not in {"", ".", ".."} and len(name) <= 255
    assert "/" not in name and "\\" not in name
    assert not any(unicodedata.category(char).startswith("C") for char in name), repr(name)


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda hostile: hostile.label)
def test_a_hostile_attachment_is_taken_for_what_its_bytes_are(hostile, alice, chat, client_for):
    client = client_for(alice)
    response = upload(client, "POST", f"/api/v1/chats/{chat.pk}/messages", "file", hostile)

    assert response.status_code == MESSAGE_STATUS[hostile.kind], response.content[:300]
    count(f"message {response.status_code}")
    if response.status_code != 201:
        return
    message = response.json()
    attachment = message["attachment"]
    assert message["type"] == hostile.kind
    assert_clean_name(attachment["name"])
    served_file = served(client, attachment["url"])
    assert served_file.body == hostile.content
    if hostile.kind == "image":
        assert attachment["mime_type"] == real_image_type(hostile.content)
    if hostile.kind in {"image", "video"}:
        assert served_file["Content-Type"] == attachment["mime_type"]
        assert "Content-Disposition" not in served_file
    else:
        assert served_file["Content-Type"] == "application/octet-stream"
        assert served_file["Content-Disposition"].startswith("attachment;")


def avatar_status(hostile) -> int:
    if hostile.kind == "too_large" or len(hostile.content) > django_settings.MAX_AVATAR_BYTES:
        return 413
    return 200 if hostile.kind == "image" else 400


@pytest.mark.parametrize("target", ["user", "group"])
@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda hostile: hostile.label)
def test_an_avatar_is_only_ever_a_real_image(hostile, target, alice, chat, client_for):
    client = client_for(alice)
    path = "/api/v1/users/me/avatar" if target == "user" else f"/api/v1/chats/{chat.pk}/avatar"
    response = upload(client, "PUT", path, "avatar", hostile)

    assert response.status_code == avatar_status(hostile), response.content[:300]
    count(f"{target} avatar {response.status_code}")
    if response.status_code != 200:
        return
    served_file = served(client, response.json()["avatar"])
    assert served_file.body == hostile.content
    assert served_file["Content-Type"] == real_image_type(hostile.content)

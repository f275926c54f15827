"""Uploads for tests: real images made with Pillow, and files that only pretend to be."""

import functools
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_bytes(image_format: str = "PNG", size: tuple[int, int] = (8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, format=image_format)
    return buffer.getvalue()


@functools.cache
def decompression_bomb_png() -> bytes:
    """A PNG of a few kilobytes whose header claims more pixels than Pillow's limit."""
    side = int((Image.MAX_IMAGE_PIXELS * 1.2) ** 0.5)
    buffer = io.BytesIO()
    Image.new("1", (side, side)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def upload(content: bytes, name: str = "picture.png", content_type: str = "image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def unstamped(data):
    """`data` with each signed file link (`/files/<payload>:<time>:<signature>`) cut to its
    payload: the same file linked a second later differs in the other two parts only."""
    if isinstance(data, dict):
        return {key: unstamped(value) for key, value in data.items()}
    if isinstance(data, list):
        return [unstamped(value) for value in data]
    if isinstance(data, str) and data.startswith("/files/"):
        return data.rsplit(":", 2)[0]
    return data

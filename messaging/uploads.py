"""What an uploaded attachment is, judged from its bytes (never its name or declared type).

`image`: JPEG, PNG, GIF or WebP that Pillow opens (chatproject.files.image_probe, which
checks dimensions before decoding); `video`: MP4, WebM or QuickTime by signature; anything
else (SVG and HTML included) is a `file`, served as a download.
"""

import mimetypes
import os
import unicodedata
from dataclasses import dataclass

from django.conf import settings

from chatproject.files import file_check_size, image_probe

HEAD_BYTES = 64
MP4_BRANDS = {
    b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash",
    b"mmp4", b"MSNV",
}  # fmt: skip
QUICKTIME_BRAND = b"qt  "
WEBM_MAGIC = b"\x1a\x45\xdf\xa3"
DEFAULT_NAME = "file"
MAX_NAME_LENGTH = 255
MAX_EXTENSION_LENGTH = 16


@dataclass(frozen=True)
class UploadKind:
    type: str  # a Message.Type value: image, video or file
    mime_type: str
    width: int | None = None
    height: int | None = None


def upload_inspect(upload) -> UploadKind:
    """The kind of `upload` from its bytes (FileTooLarge over MAX_UPLOAD_BYTES)."""
    file_check_size(upload, max_bytes=settings.MAX_UPLOAD_BYTES)
    image = image_probe(upload)
    if image is not None:
        return UploadKind("image", image.mime_type, image.width, image.height)
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    return _video_kind(head) or UploadKind("file", _file_mime_type(upload.name))


def _video_kind(head: bytes) -> UploadKind | None:
    if head[4:8] == b"ftyp" and head[8:12] == QUICKTIME_BRAND:
        return UploadKind("video", "video/quicktime")
    if head[4:8] == b"ftyp" and head[8:12] in MP4_BRANDS:
        return UploadKind("video", "video/mp4")
    if head.startswith(WEBM_MAGIC) and b"webm" in head:
        return UploadKind("video", "video/webm")
    return None


def _file_mime_type(name: str | None) -> str:
    """The type the name suggests, but never an image or video type: the bytes said no."""
    guessed, _ = mimetypes.guess_type(name or "")
    if not guessed or guessed.startswith(("image/", "video/")):
        return "application/octet-stream"
    return guessed


def upload_name_clean(name: str | None) -> str:
    """The client's file name without path parts or control/format characters."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = "".join(ch for ch in base if not unicodedata.category(ch).startswith("C")).strip()
    if base in {"", ".", ".."}:
        return DEFAULT_NAME
    if len(base) <= MAX_NAME_LENGTH:
        return base
    stem, extension = os.path.splitext(base)
    extension = extension if len(extension) <= MAX_EXTENSION_LENGTH else ""
    return stem[: MAX_NAME_LENGTH - len(extension)] + extension

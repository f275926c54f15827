"""Signed links to stored files, the view that serves them, and checks of uploaded images.

A link names the stored file, how to serve it, and an expiry rounded up to the hour plus
FILE_URL_TTL, so the same file gets the same link for an hour and browsers can cache it.
"""

import math
import mimetypes
import re
import secrets
import time
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse, HttpResponseForbidden, StreamingHttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from PIL import Image

# Not signing.dumps(): its TimestampSigner puts the second of signing in every link. The
# expiry is in the payload.
SIGNER = signing.Signer(salt="chatproject.files")
INLINE_PREFIXES = ("image/", "video/")
RANGE_PATTERN = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK_BYTES = 64 * 1024
# Pillow format -> (MIME type, extension) of the images the service accepts.
IMAGE_FORMATS = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "GIF": ("image/gif", ".gif"),
    "WEBP": ("image/webp", ".webp"),
}


class FileTooLarge(Exception):
    """An upload over its size limit (answered with 413)."""


@dataclass(frozen=True)
class ImageInfo:
    mime_type: str
    extension: str
    width: int
    height: int


def file_url(name: str, *, mime_type: str = "", download_name: str = "") -> str | None:
    """The signed link for the stored file `name` (None when there is no file)."""
    if not name:
        return None
    expires = math.ceil(time.time() / 3600) * 3600 + settings.FILE_URL_TTL
    payload = {"n": name, "t": mime_type, "d": download_name, "e": expires}
    token = SIGNER.sign_object(payload, compress=True)
    return reverse("file", kwargs={"token": token})


def image_url(name: str) -> str | None:
    """The signed link for a stored image saved with its extension (avatars)."""
    if not name:
        return None  # most users have no avatar: no type to guess
    return file_url(name, mime_type=mimetypes.guess_type(name)[0] or "")


def file_serve(request, token: str):
    try:
        payload = SIGNER.unsign_object(token)
    except signing.BadSignature:
        raise Http404
    if payload["e"] < time.time():
        return HttpResponseForbidden("This link has expired.")
    name = payload["n"]
    if not default_storage.exists(name):
        raise Http404
    return _file_response(request, name, payload["t"], payload["d"])


def _file_response(request, name: str, mime_type: str, download_name: str):
    size = default_storage.size(name)
    byte_range = _requested_range(request.headers.get("Range", ""), size)
    if byte_range == "unsatisfiable":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    else:
        start, end = byte_range or (0, size - 1)
        response = StreamingHttpResponse(_read(name, start, end), status=206 if byte_range else 200)
        response["Content-Length"] = str(end - start + 1)
        if byte_range:
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
    inline = (mime_type or "").startswith(INLINE_PREFIXES)
    response["Content-Type"] = mime_type if inline else "application/octet-stream"
    if not inline:
        download_name = download_name or name.rsplit("/", 1)[-1]
        response["Content-Disposition"] = content_disposition_header(True, download_name)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response


def _requested_range(header: str, size: int):
    """(start, end) for a single satisfiable byte range, None for the whole file."""
    match = RANGE_PATTERN.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
    else:
        start, end = max(size - int(last), 0), size - 1
    if start >= size or start > end:
        return "unsatisfiable"
    return start, end


def _read(name: str, start: int, end: int):
    with default_storage.open(name, "rb") as handle:
        handle.seek(start)
        remaining = end - start + 1
        while remaining > 0:
            chunk = handle.read(min(CHUNK_BYTES, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


def file_save(content, *, folder: str, extension: str = "") -> str:
    """Store an upload under a random name (never the client's) and return that name."""
    return default_storage.save(f"{folder}/{secrets.token_urlsafe(24)}{extension}", content)


def file_delete(name: str) -> None:
    if name:
        default_storage.delete(name)


def file_check_size(upload, *, max_bytes: int) -> None:
    if upload.size > max_bytes:
        raise FileTooLarge(f"The file is larger than {max_bytes} bytes.")


def image_probe(upload) -> ImageInfo | None:
    """What `upload` is if it is a JPEG/PNG/GIF/WebP that Pillow opens, else None.

    Pillow reads the dimensions from the header before decoding anything; an image whose
    pixel count trips Pillow's decompression-bomb limit (its warning included) is refused
    with a ValidationError rather than decoded.
    """
    upload.seek(0)
    try:
        return _image_info(upload)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError("The image has too many pixels.", code="image_too_large")
    except Exception:  # Pillow raises many types for bytes that are not a valid image
        return None
    finally:
        upload.seek(0)


def _image_info(upload) -> ImageInfo:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        # Image.open itself warns (an error here) past MAX_IMAGE_PIXELS, before decoding.
        with Image.open(upload, formats=list(IMAGE_FORMATS)) as image:
            image.verify()
            mime_type, extension = IMAGE_FORMATS[image.format]
            return ImageInfo(mime_type, extension, image.width, image.height)

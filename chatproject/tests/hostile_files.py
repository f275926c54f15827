"""Hostile uploads, each with what it really is, for test_fuzz_uploads.py and
bench/fuzz_uploads.py.

`kind` is what the service must make of the bytes, whatever the name and the declared
Content-Type say: `image` (a JPEG/PNG/GIF/WebP that Pillow opens), `video` (an MP4, WebM or
QuickTime signature), `file` (anything else: served as a download), `bomb` (more pixels
than Pillow's limit: refused before decoding), `empty` (refused), `too_large` (413) or
`unnamed` (a part without a usable file name is no file: refused).
"""

import functools
import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

MB = 1024 * 1024
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
JS = b"*/=1;alert(document.domain);//"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(document.cookie)</script></svg>"
)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>>>\n%%EOF"


@dataclass(frozen=True)
class Hostile:
    label: str
    name: str  # the file name the client sends
    make: Callable[[], bytes]  # made when first needed: some take a moment
    content_type: str  # the type the client claims
    kind: str  # what it is: image, video, file, bomb, empty, too_large

    @functools.cached_property
    def content(self) -> bytes:
        return self.make()


def image(image_format: str, size=(8, 8), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "teal" if mode == "RGB" else 0).save(buffer, format=image_format)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, idat: bytes, *extra_chunks: bytes) -> bytes:
    """An 8-bit greyscale PNG with the given header size and compressed pixel data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunks = [png_chunk(b"IHDR", header), *extra_chunks, png_chunk(b"IDAT", idat)]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks) + png_chunk(b"IEND", b"")


def zeros_compressed(total: int, row: int) -> bytes:
    """`total` zero bytes deflated, fed a row at a time (never all in memory)."""
    compressor = zlib.compressobj(9)
    blank = bytes(row)
    parts = [compressor.compress(blank) for _ in range(total // row)]
    return b"".join(parts) + compressor.flush()


def png_bomb_within_limit() -> bytes:
    """8,000 x 8,000 greyscale zeros (64 MB of pixels, under Pillow's 89 M limit) in ~64 KB:
    a real PNG, which the service must never decode."""
    side = 8000
    return png(side, side, zeros_compressed((side + 1) * side, side + 1))


def png_bomb_header() -> bytes:
    """A PNG whose header claims 100,000 x 100,000 pixels."""
    return png(100_000, 100_000, zlib.compress(bytes(100_001 * 2)))


def gif_bomb() -> bytes:
    """A GIF whose screen and frame claim 65,535 x 65,535 pixels, in 40 bytes."""
    screen = struct.pack("<HHBBB", 0xFFFF, 0xFFFF, 0, 0, 0)
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 0xFFFF, 0xFFFF, 0)
    return b"GIF89a" + screen + frame + b"\x02\x02\x4c\x01\x00" + b"\x3b"


def png_text_bomb() -> bytes:
    """A real 8 x 8 PNG with a zTXt chunk that inflates to 64 MB."""
    text = b"comment\x00\x00" + zeros_compressed(64 * MB, 64 * 1024)
    base = image("PNG")
    return base[:33] + png_chunk(b"zTXt", text) + base[33:]


def zip_of(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def gif_js_polyglot() -> bytes:
    """`GIF89a/*...*/=1;alert(..)`: a script to a browser that sniffs, and not a GIF Pillow
    opens (its screen size bytes are the comment opener)."""
    return b"GIF89a/*\x0a\x00\x00\x00\x00" + b"\x00" * 64 + JS


def catalogue(max_upload: int, max_avatar: int) -> list[Hostile]:
    png_small, jpeg, gif, webp = image("PNG"), image("JPEG"), image("GIF"), image("WEBP")
    text = b"just text\n"
    mp4_head = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    return [
        # Real images (controls), some with lying names or types.
        Hostile("png", "photo.png", lambda: png_small, "image/png", "image"),
        Hostile("jpeg named .exe", "photo.exe", lambda: jpeg, "application/x-msdownload", "image"),
        Hostile("gif", "anim.gif", lambda: gif, "image/gif", "image"),
        Hostile("webp declared html", "pic.webp", lambda: webp, "text/html", "image"),
        # Polyglots: an image with something else after or inside it, or a fake image.
        Hostile("gif+js polyglot", "x.gif", gif_js_polyglot, "image/gif", "file"),
        Hostile("valid gif+js trailer", "y.gif", lambda: gif + JS, "image/gif", "image"),
        Hostile("png+html polyglot", "page.png", lambda: png_small + HTML, "image/png", "image"),
        Hostile(
            "jpeg+zip polyglot",
            "photo.jpg",
            lambda: jpeg + zip_of("a.html", HTML),
            "image/jpeg",
            "image",
        ),
        Hostile("pdf+html polyglot", "doc.pdf", lambda: PDF + HTML, "application/pdf", "file"),
        Hostile("mp4 signature+html", "clip.mp4", lambda: mp4_head + HTML, "video/mp4", "video"),
        # Active content pretending to be media, or named as itself.
        Hostile("svg with script", "logo.svg", lambda: SVG, "image/svg+xml", "file"),
        Hostile("svg named .png", "logo.png", lambda: SVG, "image/png", "file"),
        Hostile("html named .png", "cat.png", lambda: HTML, "image/png", "file"),
        Hostile("html declared jpeg", "cat.jpg", lambda: HTML, "image/jpeg", "file"),
        Hostile("html", "page.html", lambda: HTML, "text/html", "file"),
        Hostile("xhtml", "page.xhtml", lambda: HTML, "application/xhtml+xml", "file"),
        Hostile("pdf with js", "invoice.pdf", lambda: PDF, "application/pdf", "file"),
        Hostile(
            "exe named .jpg",
            "setup.jpg",
            lambda: b"MZ\x90\x00" + bytes(60) + b"PE\x00\x00",
            "image/jpeg",
            "file",
        ),
        Hostile("bmp (not accepted)", "old.bmp", lambda: image("BMP"), "image/bmp", "file"),
        Hostile("tiff (not accepted)", "scan.tiff", lambda: image("TIFF"), "image/tiff", "file"),
        Hostile(
            "ico (not accepted)",
            "favicon.ico",
            lambda: image("ICO", (16, 16)),
            "image/x-icon",
            "file",
        ),
        Hostile(
            "zip bomb",
            "bomb.zip",
            lambda: zip_of("zeros", bytes(20 * MB)),
            "application/zip",
            "file",
        ),
        # Broken images.
        Hostile(
            "truncated png",
            "half.png",
            lambda: png_small[: len(png_small) // 2],
            "image/png",
            "file",
        ),
        Hostile("truncated jpeg", "half.jpg", lambda: jpeg[: len(jpeg) // 2], "image/jpeg", "file"),
        Hostile("png signature only", "sig.png", lambda: png_small[:8], "image/png", "file"),
        # Decompression bombs.
        Hostile("png bomb (header)", "big.png", png_bomb_header, "image/png", "bomb"),
        Hostile("gif bomb", "big.gif", gif_bomb, "image/gif", "bomb"),
        Hostile("png bomb 8000x8000", "zeros.png", png_bomb_within_limit, "image/png", "image"),
        Hostile("png ztxt bomb", "text.png", png_text_bomb, "image/png", "file"),
        # Sizes.
        Hostile("empty", "empty.png", lambda: b"", "image/png", "empty"),
        Hostile(
            "over the upload limit",
            "huge.bin",
            lambda: bytes(max_upload + 1),
            "application/octet-stream",
            "too_large",
        ),
        Hostile(
            "png over the avatar limit",
            "huge.png",
            lambda: png_small + bytes(max_avatar),
            "image/png",
            "image",
        ),
        # Names.
        Hostile("path traversal", "../../../../etc/passwd", lambda: text, "text/plain", "file"),
        Hostile(
            "windows traversal",
            "..\\..\\Windows\\System32\\evil.dll",
            lambda: text,
            "application/octet-stream",
            "file",
        ),
        Hostile(
            "control characters", "bad\x00name\r\n\x1b[31m.txt", lambda: text, "text/plain", "file"
        ),
        Hostile(
            "rtl override", "invoice\u202egnp.exe", lambda: text, "application/octet-stream", "file"
        ),
        Hostile("very long name", "a" * 300 + ".txt", lambda: text, "text/plain", "file"),
        Hostile("long non-latin name", "é" * 300 + ".txt", lambda: text, "text/plain", "file"),
        # Django refuses a part whose headers pass 1 KiB.
        Hostile("name of 5,000", "a" * 5000 + ".txt", lambda: text, "text/plain", "unnamed"),
        Hostile(
            "header injection",
            "x.txt\"; filename*=UTF-8''evil.html",
            lambda: text,
            "text/plain",
            "file",
        ),
        Hostile("dots only", "..", lambda: text, "text/plain", "unnamed"),
    ]


BOUNDARY = "----hostile-upload-boundary-7MA4YWxkTrZu0gW"
MULTIPART_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def multipart_body(field: str, hostile: Hostile) -> bytes:
    """One file part as a browser sends it: the name verbatim in UTF-8, with only `"`, CR and
    LF percent-escaped (the HTML standard's rule), so the server sees every other byte."""
    name = hostile.name.encode("utf-8", "surrogatepass")
    for raw, escaped in ((b'"', b"%22"), (b"\r", b"%0D"), (b"\n", b"%0A")):
        name = name.replace(raw, escaped)
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="'
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    content_type = f'"\r\nContent-Type: {hostile.content_type}\r\n\r\n'.encode()
    return head.encode() + name + content_type + hostile.content + tail

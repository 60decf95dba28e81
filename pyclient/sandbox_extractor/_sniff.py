"""Which extractor reads an input, from a few fixed bytes at fixed offsets: nothing more.

This is the only look the client itself takes at untrusted bytes: at most the first
SNIFF_BYTES, compared with constants at fixed offsets (no parsing, no lengths read from
the file). Everything else, including whether a text is Lua, is decided inside the sandbox.
A signature here says which extractor to ask; the extractor still checks everything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ._request import StreamKind, extractor_name

SNIFF_BYTES = 192


@dataclass(frozen=True)
class Guess:
    what: str  # a short noun, as the extractors' "looks like" table says it
    kind: StreamKind | None  # the kind whose extractor reads it today; None: none does


_IMAGE, _VIDEO, _FONT, _LUA = StreamKind.IMAGE, StreamKind.VIDEO, StreamKind.FONT, StreamKind.LUA

# (offset, bytes, what, kind). First match wins; more specific entries first.
_SIGNATURES: list[tuple[int, bytes, str, StreamKind | None]] = [
    (0, b"\xff\xd8\xff", "JPEG", _IMAGE),
    (0, b"\x89PNG\r\n\x1a\n", "PNG", _IMAGE),
    (0, b"GIF87a", "GIF", _IMAGE),
    (0, b"GIF89a", "GIF", _IMAGE),
    (0, b"\x1a\x45\xdf\xa3", "Matroska/WebM", _VIDEO),
    (0, b"DKIF", "IVF (VP8/VP9/AV1)", _VIDEO),
    (0, b"\x00\x00\x00\x01", "H.264/HEVC Annex B stream", _VIDEO),
    (0, b"\x00\x00\x01", "H.264/HEVC Annex B stream", _VIDEO),
    (0, b"\x00\x01\x00\x00", "TrueType font", _FONT),
    (0, b"true", "TrueType font", _FONT),
    (0, b"OTTO", "OpenType font", _FONT),
    (0, b"ttcf", "font collection", _FONT),
    (0, b"wOFF", "WOFF font", _FONT),
    (0, b"wOF2", "WOFF2 font", _FONT),
    (0, b"\x1bLua", "Lua bytecode", _LUA),  # sx-lua refuses it, unparsed, with its reason
    # Known, but read by no extractor today: refused in the client, named.
    (0, b"II*\x00", "TIFF", None),
    (0, b"MM\x00*", "TIFF", None),
    (0, b"BM", "BMP", None),
    (0, b"FLV", "FLV", None),
    (0, b"OggS", "Ogg", None),
    (0, b"ID3", "audio (MP3)", None),
    (0, b"fLaC", "audio (FLAC)", None),
    (0, b"PK\x03\x04", "ZIP", None),
    (0, b"%PDF", "PDF", None),
    (0, b"%!", "PostScript/EPS", None),
    (0, b"\xc5\xd0\xd3\xc6", "PostScript/EPS", None),
    (0, b"<?xml", "SVG/XML", None),
    (0, b"<svg", "SVG/XML", None),
    (0, b"push ", "MVG", None),
    (0, b"viewbox", "MVG", None),
    (0, b"MZ", "Windows executable or FNT/FON font", None),
    (0, b"\x7fELF", "ELF executable", None),
]

# ISO media: "ftyp" at 4, the major brand at 8. HEIF and AVIF (still images and image
# sequences) are images, read by sx-heif.
_IMAGE_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif",
                 b"avis"}  # fmt: skip


def is_heif(head: bytes) -> bool:
    """The first bytes are a HEIF or AVIF file's (an ftyp box with an image major brand)."""
    return head[4:8] == b"ftyp" and head[8:12] in _IMAGE_BRANDS


def extractor_for(kind: StreamKind, head: bytes) -> str:
    """The binary that reads an input of `kind` starting with `head`: STREAM_IMAGE is one
    kind for the user, two extractors here (sx-heif for HEIF/AVIF, so that sx-image's fork
    server stays small: libheif, libavcodec and dav1d are not in it)."""
    if kind == StreamKind.IMAGE and is_heif(head):
        return "sx-heif"
    return extractor_name(kind)


def guess(head: bytes) -> Guess | None:
    """What the first bytes `head` say, or None when no signature matches."""
    if head[4:8] == b"ftyp":
        if head[8:12] in _IMAGE_BRANDS:
            return Guess("HEIF/AVIF", _IMAGE)
        return Guess("ISO media (MP4/MOV)", _VIDEO)
    if head[0:4] == b"RIFF":
        form = head[8:12]
        if form == b"WEBP":
            return Guess("WebP", _IMAGE)
        return Guess({b"AVI ": "AVI", b"WAVE": "WAV"}.get(form, "RIFF"), None)
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return Guess("MPEG-TS", _VIDEO)
    for offset, magic, what, kind in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return Guess(what, kind)
    return None


def read_head(fd: int) -> bytes:
    """The first SNIFF_BYTES of an input fd (a regular file or a sealed memfd), without
    moving its offset; b"" when it cannot be read that way."""
    try:
        return os.pread(fd, SNIFF_BYTES, 0)
    except OSError:
        return b""

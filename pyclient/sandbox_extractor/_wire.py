"""The answer message format (PROTOCOL.md, version 3) and its hostile-input parser.

Every byte handed to this module was written by a process that may be under an
attacker's control. The parser bounds each length before using it, checks every value
against the request that was sent, and either returns a fully validated answer or raises
ProtocolError. tests/extractors/test_protocol_constants.py pins the constants below to
PROTOCOL.md and to common/sx_wire.h, sx_status.h and sx_limits.h.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass
from typing import Union

from ._errors import ProtocolError
from ._status import Status

# Header.
MAGIC = b"SXAN"
VERSION = 3
# The release: one number for the extractors, this wire and the package (sx_wire.h).
RELEASE = "0.3.0"
HEADER_BYTES = 12

# Message types.
TYPE_ERROR = 1
TYPE_META = 2
TYPE_IMAGE = 3
TYPE_FRAMES = 4  # version 3: the frames of an animation (--frames N)

# Fixed parts of payloads.
ERROR_FIXED_BYTES = 6
IMAGE_FIXED_BYTES = 12
FRAMES_FIXED_BYTES = 20
FRAME_HEAD_BYTES = 4

# Metadata value types.
VTYPE_INT = 1
VTYPE_FLOAT = 2
VTYPE_STRING = 3
VTYPE_BOOL = 4

# Pixel layouts (channels of 8 bits).
LAYOUT_RGB = 3
LAYOUT_RGBA = 4
# Not on the wire: an Expect.channels meaning "3 or 4, the extractor chooses" (--auto-alpha).
LAYOUT_AUTO = 0

# Exit statuses that must agree with the message type.
EXIT_RESULT = 0
EXIT_ERROR = 1

# Answer bounds.
DETAIL_MAX = 256
META_MAX_FIELDS = 64
META_MAX_BYTES = 65536
META_KEY_MAX = 32
META_STRING_MAX = 1024

# Request limits the extractors accept (common/sx_limits.h).
PIXELS_DEFAULT = 64 << 20
PIXELS_MAX = 256 << 20
INPUT_DEFAULT_BYTES = 256 << 20
INPUT_MAX_BYTES = 2 << 30
POOL_DEFAULT_BYTES = 512 << 20
POOL_MIN_BYTES = 16 << 20
POOL_RESERVE_BYTES = 4 << 30
BOX_MAX_SIDE = 8192
CPU_SECONDS_DEFAULT = 10
CPU_SECONDS_MAX = 300
FRAMES_MAX = 1000


_HEADER = struct.Struct("<4sHHI")
_ERROR_FIXED = struct.Struct("<IH")
_IMAGE_FIXED = struct.Struct("<IIB3s")
_FRAMES_FIXED = struct.Struct("<IIB3sII")
_KEY_RE = re.compile(rb"[a-z0-9_]{1,32}")

MetaValue = Union[int, float, str, bool]


@dataclass(frozen=True)
class Expect:
    """What the request allows the extractor to answer.

    result is TYPE_META, TYPE_IMAGE or TYPE_FRAMES (an error message is always allowed).
    For images, channels is LAYOUT_RGB, LAYOUT_RGBA or LAYOUT_AUTO (either, the extractor's
    choice); box_width/box_height bound each side (0: no box, a full-size request) and
    max_pixels bounds width * height. For frames (`frames` N asked, 1..FRAMES_MAX) the same
    bounds hold for each frame, at most N frames come, and max_pixels also bounds the
    pixels of all frames together.
    """

    result: int
    channels: int = LAYOUT_RGBA
    box_width: int = 0
    box_height: int = 0
    max_pixels: int = PIXELS_DEFAULT
    frames: int = 0

    def max_image_pixels(self) -> int:
        if self.box_width and self.box_height:
            return min(self.max_pixels, self.box_width * self.box_height)
        return self.max_pixels

    def max_message_bytes(self) -> int:
        """The largest message this request can legally receive."""
        error = HEADER_BYTES + ERROR_FIXED_BYTES + DETAIL_MAX
        if self.result == TYPE_IMAGE:
            channels = self.channels or LAYOUT_RGBA
            result = HEADER_BYTES + IMAGE_FIXED_BYTES + self.max_image_pixels() * channels
        elif self.result == TYPE_FRAMES:
            result = HEADER_BYTES + self._max_frames_payload()
        else:
            result = HEADER_BYTES + META_MAX_BYTES
        return max(error, result)

    def _max_frames_payload(self) -> int:
        channels = self.channels or LAYOUT_RGBA
        return FRAMES_FIXED_BYTES + self.frames * FRAME_HEAD_BYTES + self.max_pixels * channels


@dataclass(frozen=True)
class ErrorAnswer:
    status: int
    detail: str


@dataclass(frozen=True)
class MetaAnswer:
    fields: dict  # str -> MetaValue, in wire order; validated, contains "format"


@dataclass(frozen=True)
class ImageAnswer:
    width: int
    height: int
    channels: int
    pixels: memoryview  # exactly width * height * channels bytes


@dataclass(frozen=True)
class FramesAnswer:
    width: int  # of each frame
    height: int
    channels: int
    loop_count: int  # as the file says; 0 = forever
    durations: tuple  # ms, one int per frame
    payload: memoryview  # the validated payload the frames' pixels are read from

    def frame(self, i: int) -> memoryview:
        """The pixels of frame i: exactly width * height * channels bytes."""
        size = self.width * self.height * self.channels
        start = FRAMES_FIXED_BYTES + i * (FRAME_HEAD_BYTES + size) + FRAME_HEAD_BYTES
        return self.payload[start : start + size]


Answer = Union[ErrorAnswer, MetaAnswer, ImageAnswer, FramesAnswer]


def _type_name(mtype: int) -> str:
    return {TYPE_ERROR: "error", TYPE_META: "metadata", TYPE_IMAGE: "image",
            TYPE_FRAMES: "frames"}.get(
        mtype, f"unknown type {mtype}"
    )


def message_length(header: bytes, expect: Expect) -> int:
    """Validates a 12-byte header against the request; returns the whole message length.

    Called as soon as 12 bytes have arrived, so that no more than the announced (and
    bounded) message plus one byte is ever read.
    """
    if len(header) != HEADER_BYTES:
        raise ProtocolError(f"header is {len(header)} bytes, expected {HEADER_BYTES}")
    magic, version, mtype, length = _HEADER.unpack(header)
    if magic != MAGIC:
        raise ProtocolError(f"bad magic {magic!r}, expected {MAGIC!r}")
    if version != VERSION:
        raise ProtocolError(
            f"the extractor speaks wire version {version}, this client (sandbox_extractor "
            f"{RELEASE}) speaks version {VERSION}: install the extractors and the Python "
            "package of the same release (`sandbox-extractor doctor` checks it)"
        )
    if mtype == TYPE_ERROR:
        low, high = ERROR_FIXED_BYTES, ERROR_FIXED_BYTES + DETAIL_MAX
    elif mtype == expect.result == TYPE_META:
        low, high = 2, META_MAX_BYTES
    elif mtype == expect.result == TYPE_IMAGE:
        low = IMAGE_FIXED_BYTES + (expect.channels or LAYOUT_RGB)
        high = IMAGE_FIXED_BYTES + expect.max_image_pixels() * (expect.channels or LAYOUT_RGBA)
    elif mtype == expect.result == TYPE_FRAMES:
        low = FRAMES_FIXED_BYTES + FRAME_HEAD_BYTES + (expect.channels or LAYOUT_RGB)
        high = expect._max_frames_payload()
    else:
        raise ProtocolError(
            f"{_type_name(mtype)} message is not a valid answer to a request for "
            f"{_type_name(expect.result)}"
        )
    if not low <= length <= high:
        raise ProtocolError(
            f"{_type_name(mtype)} payload length {length} outside {low}..{high} for this request"
        )
    return HEADER_BYTES + length


def parse_answer(data: bytes | bytearray | memoryview, expect: Expect) -> Answer:
    """Parses exactly one message that must make up all of `data`."""
    view = memoryview(data).cast("B")
    if len(view) == 0:
        raise ProtocolError("no answer message")
    if len(view) < HEADER_BYTES:
        raise ProtocolError(f"answer truncated: {len(view)} bytes, shorter than the header")
    total = message_length(bytes(view[:HEADER_BYTES]), expect)
    if len(view) < total:
        raise ProtocolError(f"answer truncated: {len(view)} of {total} bytes")
    if len(view) > total:
        raise ProtocolError(f"{len(view) - total} trailing bytes after the answer message")
    mtype = _HEADER.unpack_from(view)[2]
    payload = view[HEADER_BYTES:total]
    if mtype == TYPE_ERROR:
        return _parse_error(payload)
    if mtype == TYPE_META:
        return _parse_meta(payload)
    if mtype == TYPE_FRAMES:
        return _parse_frames(payload, expect)
    return _parse_image(payload, expect)


def _decode_utf8(raw: memoryview, what: str) -> str:
    try:
        return str(raw, "utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(f"{what} is not valid UTF-8") from None


def _parse_error(payload: memoryview) -> ErrorAnswer:
    status, detail_len = _ERROR_FIXED.unpack_from(payload)
    if detail_len > DETAIL_MAX:
        raise ProtocolError(f"error detail of {detail_len} bytes exceeds {DETAIL_MAX}")
    if len(payload) != ERROR_FIXED_BYTES + detail_len:
        raise ProtocolError(
            f"error payload is {len(payload)} bytes, detail_len says {ERROR_FIXED_BYTES + detail_len}"
        )
    if status == Status.OK:
        raise ProtocolError("error message with status 0 (OK)")
    if status not in Status._value2member_map_:
        raise ProtocolError(f"error message with unknown status {status}")
    detail = _decode_utf8(payload[ERROR_FIXED_BYTES:], "error detail")
    return ErrorAnswer(status=status, detail=detail)


class _Reader:
    """Bounded reads over a payload; every read checks the bytes are there."""

    def __init__(self, buf: memoryview):
        self.buf = buf
        self.off = 0

    def take(self, n: int, what: str) -> memoryview:
        if n > len(self.buf) - self.off:
            raise ProtocolError(f"metadata truncated in {what}")
        chunk = self.buf[self.off : self.off + n]
        self.off += n
        return chunk


def _parse_meta(payload: memoryview) -> MetaAnswer:
    reader = _Reader(payload)
    (count,) = struct.unpack("<H", reader.take(2, "field count"))
    if count > META_MAX_FIELDS:
        raise ProtocolError(f"metadata has {count} fields, more than {META_MAX_FIELDS}")
    fields: dict[str, MetaValue] = {}
    for _ in range(count):
        key_len = reader.take(1, "key length")[0]
        if not 1 <= key_len <= META_KEY_MAX:
            raise ProtocolError(f"metadata key length {key_len} outside 1..{META_KEY_MAX}")
        raw_key = bytes(reader.take(key_len, "key"))
        if not _KEY_RE.fullmatch(raw_key):
            raise ProtocolError(f"metadata key {raw_key!r} is not [a-z0-9_]")
        key = raw_key.decode("ascii")
        if key in fields:
            raise ProtocolError(f"duplicate metadata key {key!r}")
        vtype = reader.take(1, "value type")[0]
        value: MetaValue
        if vtype == VTYPE_INT:
            (value,) = struct.unpack("<q", reader.take(8, "int value"))
        elif vtype == VTYPE_FLOAT:
            (number,) = struct.unpack("<d", reader.take(8, "float value"))
            if not math.isfinite(number):
                raise ProtocolError(f"metadata float {key!r} is not finite")
            value = number
        elif vtype == VTYPE_STRING:
            (length,) = struct.unpack("<H", reader.take(2, "string length"))
            if length > META_STRING_MAX:
                raise ProtocolError(
                    f"metadata string {key!r} of {length} bytes exceeds {META_STRING_MAX}"
                )
            value = _decode_utf8(reader.take(length, "string value"), f"metadata string {key!r}")
        elif vtype == VTYPE_BOOL:
            byte = reader.take(1, "bool value")[0]
            if byte > 1:
                raise ProtocolError(f"metadata bool {key!r} is {byte}, not 0 or 1")
            value = bool(byte)
        else:
            raise ProtocolError(f"metadata value type {vtype} of {key!r} is unknown")
        fields[key] = value
    if reader.off != len(payload):
        raise ProtocolError(f"{len(payload) - reader.off} bytes after the last metadata field")
    fmt = fields.get("format")
    if not isinstance(fmt, str) or not fmt:
        raise ProtocolError("metadata has no non-empty string field 'format'")
    return MetaAnswer(fields=fields)


def _check_picture(width: int, height: int, channels: int, reserved: bytes, expect: Expect) -> None:
    """The bounds an image and each frame share."""
    if width < 1 or height < 1:
        raise ProtocolError(f"image of {width}x{height} pixels")
    if expect.channels == LAYOUT_AUTO:
        if channels not in (LAYOUT_RGB, LAYOUT_RGBA):
            raise ProtocolError(f"image has {channels} channels, 3 or 4 were requested")
    elif channels != expect.channels:
        raise ProtocolError(f"image has {channels} channels, {expect.channels} were requested")
    if reserved != b"\0\0\0":
        raise ProtocolError("image reserved bytes are not zero")
    if expect.box_width and (width > expect.box_width or height > expect.box_height):
        raise ProtocolError(
            f"image {width}x{height} exceeds the {expect.box_width}x{expect.box_height} box"
        )
    if width * height > expect.max_pixels:
        raise ProtocolError(f"image {width}x{height} exceeds the cap of {expect.max_pixels} pixels")


def _parse_image(payload: memoryview, expect: Expect) -> ImageAnswer:
    width, height, channels, reserved = _IMAGE_FIXED.unpack_from(payload)
    _check_picture(width, height, channels, reserved, expect)
    pixels = payload[IMAGE_FIXED_BYTES:]
    if width * height * channels != len(pixels):
        raise ProtocolError(
            f"image {width}x{height}x{channels} needs {width * height * channels} bytes, "
            f"payload holds {len(pixels)}"
        )
    return ImageAnswer(width=width, height=height, channels=channels, pixels=pixels)


def _parse_frames(payload: memoryview, expect: Expect) -> FramesAnswer:
    width, height, channels, reserved, count, loop_count = _FRAMES_FIXED.unpack_from(payload)
    _check_picture(width, height, channels, reserved, expect)
    if not 1 <= count <= expect.frames:
        raise ProtocolError(f"{count} frames, 1..{expect.frames} were requested")
    if count * width * height > expect.max_pixels:
        raise ProtocolError(
            f"{count} frames of {width}x{height} exceed the cap of {expect.max_pixels} pixels"
        )
    size = width * height * channels
    if len(payload) != FRAMES_FIXED_BYTES + count * (FRAME_HEAD_BYTES + size):
        raise ProtocolError(
            f"{count} frames of {width}x{height}x{channels} need "
            f"{FRAMES_FIXED_BYTES + count * (FRAME_HEAD_BYTES + size)} payload bytes, "
            f"the payload holds {len(payload)}"
        )
    durations = tuple(
        struct.unpack_from("<I", payload, FRAMES_FIXED_BYTES + i * (FRAME_HEAD_BYTES + size))[0]
        for i in range(count)
    )
    return FramesAnswer(
        width=width,
        height=height,
        channels=channels,
        loop_count=loop_count,
        durations=durations,
        payload=payload,
    )

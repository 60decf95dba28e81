"""Builders of answer messages (PROTOCOL.md) for the client's tests."""

import struct

MAGIC = b"SXAN"


def message(mtype: int, payload: bytes, *, version: int = 3, magic: bytes = MAGIC,
            length: int | None = None) -> bytes:
    if length is None:
        length = len(payload)
    return magic + struct.pack("<HHI", version, mtype, length) + payload


def error(status: int, detail: bytes = b"reason") -> bytes:
    return message(1, struct.pack("<IH", status, len(detail)) + detail)


def field(key: bytes, vtype: int, value) -> bytes:
    head = bytes([len(key)]) + key + bytes([vtype])
    if vtype == 1:
        return head + struct.pack("<q", value)
    if vtype == 2:
        return head + struct.pack("<d", value)
    if vtype == 3:
        raw = value.encode() if isinstance(value, str) else value
        return head + struct.pack("<H", len(raw)) + raw
    if vtype == 4:
        return head + bytes([value])
    raise ValueError(vtype)


def meta(fields: list, count: int | None = None) -> bytes:
    body = b"".join(field(*f) for f in fields)
    return message(2, struct.pack("<H", len(fields) if count is None else count) + body)


def image(width: int, height: int, channels: int = 4, pixels: bytes | None = None,
          reserved: bytes = b"\0\0\0") -> bytes:
    if pixels is None:
        pixels = bytes(range(256)) * (width * height * channels // 256 + 1)
        pixels = pixels[: width * height * channels]
    return message(3, struct.pack("<IIB", width, height, channels) + reserved + pixels)


def frames(width: int, height: int, durations: list, channels: int = 4, loop: int = 0,
           count: int | None = None, reserved: bytes = b"\0\0\0", frame_bytes: int | None = None,
           trailing: bytes = b"") -> bytes:
    """A frames message (type 4): `count` overrides the frame count field, `frame_bytes` the
    pixel bytes actually written per frame (a lie when it differs from w * h * channels)."""
    size = width * height * channels if frame_bytes is None else frame_bytes
    body = struct.pack("<IIB", width, height, channels) + reserved
    body += struct.pack("<II", len(durations) if count is None else count, loop)
    for i, d in enumerate(durations):
        body += struct.pack("<I", d) + bytes([(i * 7 + k) & 255 for k in range(size)])
    return message(4, body + trailing)


IMAGE_META = [
    (b"format", 3, "png"),
    (b"width", 1, 640),
    (b"height", 1, 480),
    (b"bit_depth", 1, 8),
    (b"color_type", 3, "rgb"),
    (b"has_alpha", 4, 0),
    (b"progressive", 4, 1),
]

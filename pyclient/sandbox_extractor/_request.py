"""Requests: the kinds of input and their extractors, the default limits, and one validated
request (what goes into the extractor's argv and what its answer may be)."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any

from . import _wire


class StreamKind(str, enum.Enum):
    """What kind of input a call expects; each kind has its own extractor binary."""

    IMAGE = "image"
    VIDEO = "video"
    FONT = "font"
    LUA = "lua"
    AUTO = "auto"

    def __str__(self) -> str:
        return f"STREAM_{self.name}"


STREAM_IMAGE = StreamKind.IMAGE
STREAM_VIDEO = StreamKind.VIDEO
STREAM_FONT = StreamKind.FONT
STREAM_LUA = StreamKind.LUA
STREAM_AUTO = StreamKind.AUTO
"""Any kind: the extractor is chosen from the first bytes of the input (_sniff.py)."""

_BINARIES = {
    StreamKind.IMAGE: "sx-image",
    StreamKind.VIDEO: "sx-video",
    StreamKind.FONT: "sx-font",
    StreamKind.LUA: "sx-lua",
}


def extractor_name(kind: StreamKind) -> str:
    """The extractor binary that reads `kind` ("sx-image"...); not for STREAM_AUTO."""
    return _BINARIES[kind]


DEFAULT_MAX_PIXELS = _wire.PIXELS_DEFAULT
DEFAULT_MAX_INPUT_BYTES = _wire.INPUT_DEFAULT_BYTES
DEFAULT_MEMORY = _wire.POOL_DEFAULT_BYTES
DEFAULT_TIMEOUT = float(_wire.CPU_SECONDS_DEFAULT)


@dataclass(frozen=True)
class Request:
    """One validated request: what goes in argv and what the answer may be."""

    mode: str  # "probe", "thumbnail" or "full"
    box: tuple[int, int] | None
    channels: int
    max_pixels: int
    max_input_bytes: int
    memory: int
    cpu_seconds: int
    timeout: float
    extra: tuple[str, ...] = ()  # family options (sx-font: --face, --text, --font-size)
    color: str = "srgb"  # "srgb" (converted by the file's profile) or "raw"
    frames: int = 0  # --frames N (sx-image): up to N frames of an animation; 0: one image

    def argv(self) -> list[str]:
        args = [f"--{self.mode}"]
        if self.mode == "thumbnail":
            assert self.box is not None
            args.append(f"{self.box[0]}x{self.box[1]}")
        if self.mode != "probe":
            args.append(_CHANNEL_OPTION[self.channels])
            if self.color == "raw":
                args += ["--color", "raw"]
            if self.frames:
                args += ["--frames", str(self.frames)]
        args += [
            "--max-pixels", str(self.max_pixels),
            "--max-input-bytes", str(self.max_input_bytes),
            "--memory", str(self.memory),
            "--cpu-seconds", str(self.cpu_seconds),
        ]  # fmt: skip
        return args + list(self.extra)

    def expect(self) -> _wire.Expect:
        if self.mode == "probe":
            return _wire.Expect(result=_wire.TYPE_META, max_pixels=self.max_pixels)
        box_w, box_h = self.box or (0, 0)
        return _wire.Expect(
            result=_wire.TYPE_FRAMES if self.frames else _wire.TYPE_IMAGE,
            channels=self.channels,
            box_width=box_w,
            box_height=box_h,
            max_pixels=self.max_pixels,
            frames=self.frames,
        )


_CHANNEL_OPTION = {
    _wire.LAYOUT_RGB: "--rgb",
    _wire.LAYOUT_RGBA: "--rgba",
    _wire.LAYOUT_AUTO: "--auto-alpha",
}
_CHANNELS = {"RGB": _wire.LAYOUT_RGB, "RGBA": _wire.LAYOUT_RGBA, None: _wire.LAYOUT_AUTO}


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}..{high}, got {value}")
    return value


def make_request(
    mode: str,
    *,
    size: int | tuple[int, int] | None = None,
    image_mode: str | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES,
    memory: int = DEFAULT_MEMORY,
    timeout: float = DEFAULT_TIMEOUT,
    cpu_seconds: int | None = None,
    color: str = "srgb",
) -> Request:
    """Checks the caller's limits (trusted but possibly wrong) before anything runs."""
    _check_int("max_pixels", max_pixels, 1, _wire.PIXELS_MAX)
    _check_int("max_input_bytes", max_input_bytes, 1, _wire.INPUT_MAX_BYTES)
    _check_int("memory", memory, _wire.POOL_MIN_BYTES, _wire.POOL_RESERVE_BYTES)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds, not {type(timeout).__name__}")
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout}")
    if cpu_seconds is None:
        cpu_seconds = min(max(1, math.ceil(timeout)), _wire.CPU_SECONDS_MAX)
    _check_int("cpu_seconds", cpu_seconds, 1, _wire.CPU_SECONDS_MAX)
    if image_mode not in _CHANNELS:
        raise ValueError(f"mode must be None (fit the source), 'RGBA' or 'RGB', got {image_mode!r}")
    box = None
    if mode == "thumbnail":
        if isinstance(size, int) and not isinstance(size, bool):
            size = (size, size)
        if not (isinstance(size, (tuple, list)) and len(size) == 2):
            raise TypeError(f"size must be an int or a (width, height) pair, not {size!r}")
        box = (
            _check_int("size width", size[0], 1, _wire.BOX_MAX_SIDE),
            _check_int("size height", size[1], 1, _wire.BOX_MAX_SIDE),
        )
    if color not in ("srgb", "raw"):
        raise ValueError(f"color must be 'srgb' or 'raw', got {color!r}")
    channels = _CHANNELS[image_mode]
    return Request(
        mode=mode,
        box=box,
        channels=channels,
        max_pixels=max_pixels,
        max_input_bytes=max_input_bytes,
        memory=memory,
        cpu_seconds=cpu_seconds,
        timeout=float(timeout),
        color=color,
    )


# Bounds of sx-font's options (common/sx_limits.h, PROTOCOL.md).
_FONT_TEXT_MAX_BYTES = 256
_FONT_SIZE_RANGE = (6, 200)


def font_options(
    kind: StreamKind,
    face: int | None = None,
    text: str | None = None,
    font_size: int | None = None,
) -> tuple[str, ...]:
    """argv for sx-font's face, text and size options, checked here as the extractor will."""
    if face is None and text is None and font_size is None:
        return ()
    if kind is not StreamKind.FONT:
        raise ValueError("face, text and font_size apply to STREAM_FONT only")
    out: list[str] = []
    if face is not None:
        out += ["--face", str(_check_int("face", face, 0, 0xFFFF))]
    if text is not None:
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        encoded = text.encode("utf-8", "strict")
        if not 0 < len(encoded) <= _FONT_TEXT_MAX_BYTES:
            raise ValueError(f"text must be 1..{_FONT_TEXT_MAX_BYTES} UTF-8 bytes")
        if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text):
            raise ValueError("text must not hold control characters")
        out += ["--text", text]
    if font_size is not None:
        out += ["--font-size", str(_check_int("font_size", font_size, *_FONT_SIZE_RANGE))]
    return tuple(out)


def stream_kind(kind: StreamKind | str) -> StreamKind:
    """`kind` as a StreamKind; ValueError naming the valid ones otherwise."""
    try:
        return StreamKind(kind)
    except ValueError:
        raise ValueError(
            f"unknown stream kind {kind!r}; use STREAM_AUTO, STREAM_IMAGE, STREAM_VIDEO, "
            "STREAM_FONT or STREAM_LUA"
        ) from None

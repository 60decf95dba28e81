"""The public calls: probe_format, load_image and load_frames, and their asyncio twins
aprobe_format, aload_image and aload_frames. The request from the caller's arguments, one run (_runner.py), and the answer
as the caller wants it (typed metadata, a PIL.Image)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import os
import select
import threading
from typing import IO, TYPE_CHECKING, Any, Callable, TypeVar, Union

from . import _request, _runner, _sniff, _spawn, _wire, _zygote
from ._errors import BadInputError, DecodeError, UnsupportedFormatError
from ._metadata import FontInfo, ImageInfo, LuaInfo, Metadata, VideoInfo
from ._request import (
    DEFAULT_MAX_INPUT_BYTES,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MEMORY,
    DEFAULT_TIMEOUT,
    STREAM_AUTO,
    STREAM_FONT,
    STREAM_IMAGE,
    STREAM_LUA,
    STREAM_VIDEO,
    StreamKind,
    extractor_name,
    font_options,
    make_request,
    stream_kind,
)

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "DEFAULT_MAX_INPUT_BYTES",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MEMORY",
    "DEFAULT_TIMEOUT",
    "STREAM_AUTO",
    "STREAM_FONT",
    "STREAM_IMAGE",
    "STREAM_LUA",
    "STREAM_VIDEO",
    "StreamKind",
    "Input",
    "aload_frames",
    "aload_image",
    "aprobe_format",
    "load_frames",
    "load_image",
    "probe_format",
]

Input = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]
"""What `stream` may be: a path, bytes-like data, or a readable binary file or stream."""

Size = Union[int, tuple[int, int]]

_METADATA_CLASS: dict[StreamKind, type[Metadata]] = {
    StreamKind.IMAGE: ImageInfo,
    StreamKind.VIDEO: VideoInfo,
    StreamKind.FONT: FontInfo,
    StreamKind.LUA: LuaInfo,
}


def metadata_from_answer(kind: StreamKind, answer: _wire.MetaAnswer) -> Metadata:
    cls = _METADATA_CLASS.get(kind, Metadata)
    return cls._from_fields(answer.fields)


def kind_for_head(head: bytes) -> StreamKind:
    """STREAM_AUTO's choice from the input's first bytes: the kind whose signature they
    carry; STREAM_LUA (the one text format, judged inside the sandbox) when none matches.
    UnsupportedFormatError, naming it, for a known format that no extractor reads;
    BadInputError for an empty input (only STREAM_LUA calls an empty input valid)."""
    if not head:
        raise BadInputError("empty input", status=int(_wire.Status.BAD_INPUT))
    guess = _sniff.guess(head)
    if guess is None:
        return StreamKind.LUA
    if guess.kind is None:
        raise UnsupportedFormatError(
            f"no extractor reads this file (looks like {guess.what})",
            status=int(_wire.Status.UNSUPPORTED),
        )
    return guess.kind


def probe_format(
    kind: StreamKind | str,
    stream: Input,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    memory: int = DEFAULT_MEMORY,
    cpu_seconds: int | None = None,
    execution: str | None = None,
    face: int | None = None,
) -> Metadata:
    """Metadata of `stream` (no pixels are decoded): ImageInfo, VideoInfo, FontInfo or
    LuaInfo for STREAM_IMAGE, STREAM_VIDEO, STREAM_FONT or STREAM_LUA. STREAM_AUTO chooses
    from the first bytes; a text that matches no signature is checked as Lua, and with
    STREAM_AUTO one that does not parse is an UnsupportedFormatError quoting Lua's message
    (with STREAM_LUA it is a LuaInfo with valid False).

    `stream` is a path, a binary file object, a readable binary stream or a bytes-like
    object. Raises a DecodeError subclass when the input is refused or the extractor
    misbehaves (DecodeTimeout also when a stream is still being copied at `timeout`),
    ExtractorUnavailable when the kind's extractor is not installed (SandboxNotEnforced
    when this host does not enforce its sandbox), and OSError when a path cannot be opened
    as a file (missing, a directory, a Unix socket).
    `execution`: "oneshot" (a process per call), "server" (through a fork server) or
    "auto" (one-shot for the first call to an extractor, the fork server from the second);
    None takes $SANDBOX_EXTRACTOR_MODE, else "auto". Results are the same either way.
    `face`: STREAM_FONT only, the face of a collection (default 0); a font's metadata
    has `faces` as a list of "family style" names.
    """
    asked = stream_kind(kind)
    extra = font_options(asked, face=face)
    request = make_request(
        "probe",
        max_pixels=max_pixels,
        max_input_bytes=max_input_bytes,
        memory=memory,
        timeout=timeout,
        cpu_seconds=cpu_seconds,
    )
    if extra:
        request = dataclasses.replace(request, extra=extra)
    ran, answer = _runner.run_kind(asked, request, stream, execution=execution,
                                   pick=kind_for_head)  # fmt: skip
    assert isinstance(answer, _wire.MetaAnswer)
    try:
        info = metadata_from_answer(ran, answer)
    except DecodeError as exc:
        exc.extractor = extractor_name(ran)
        raise
    if asked == StreamKind.AUTO and isinstance(info, LuaInfo) and not info.valid:
        raise UnsupportedFormatError(
            "matches no image, video or font signature and is not valid Lua 5.4 source "
            f"({info.message})",
            status=int(_wire.Status.UNSUPPORTED),
            extractor=extractor_name(ran),
        )
    return info


def image_from_answer(answer: _wire.ImageAnswer, rgb: bool = False) -> Image.Image:
    """The PIL.Image of a validated answer; with `rgb`, an RGBA answer becomes an RGB image
    (its alpha dropped)."""
    from PIL import Image

    # Only the validated pixel bytes, exactly width * height * channels of them.
    size = (answer.width, answer.height)
    if answer.channels == _wire.LAYOUT_RGBA and rgb:
        # Pillow stores RGB as 4 bytes a pixel, the fourth unused: an RGBA answer already
        # has that layout, so the image shares it, as frombuffer shares RGBA below
        # (frombuffer itself maps only the modes of its _MAPMODES, RGB not among them).
        image = Image.new("RGB", (1, 1))._new(
            Image.core.map_buffer(answer.pixels, size, "raw", 0, ("RGB", 0, 1))
        )
        image.readonly = 1
        return image
    if answer.channels == _wire.LAYOUT_RGBA:
        # Shares the buffer (no copy); Pillow copies it on the first in-place change.
        return Image.frombuffer("RGBA", size, answer.pixels, "raw", "RGBA", 0, 1)
    # Pillow stores RGB as 4 bytes a pixel, so RGB is always unpacked into a copy, as
    # Image.frombytes does it but without its two extra passes over the whole image: the
    # image is left unfilled (Image.new would write zeros first, ~0.1 s at 12 MP here;
    # core.new is what Pillow's own file loading uses), and its decoder, which takes bytes
    # only, gets a band of rows at a time, each copied while it is in the cache, instead
    # of one copy of the whole answer.
    image = Image.Image()._new(Image.core.new("RGB", size))
    decoder = Image._getdecoder("RGB", "raw", ("RGB", 0, 1))
    decoder.setimage(image.im)
    row = answer.width * 3
    band = row * max(1, _RGB_BAND_BYTES // row)
    pixels = answer.pixels
    for start in range(0, len(pixels), band):
        decoder.decode(bytes(pixels[start : start + band]))
    decoder.cleanup()
    return image


_RGB_BAND_BYTES = 1 << 18


def _pick_pictured(head: bytes) -> StreamKind:
    kind = kind_for_head(head)
    if kind == StreamKind.LUA:
        raise UnsupportedFormatError(
            "no image, video or font signature: nothing to make an image of (a Lua script "
            "is checked with probe_format)",
            status=int(_wire.Status.UNSUPPORTED),
        )
    return kind


def _picture_request(size: Size | None, mode: str | None, color: str,
                     **limits: Any) -> _request.Request:
    """load_image's and load_frames' request: a thumbnail in a `size` box, else full size."""
    return make_request("thumbnail" if size is not None else "full", size=size,
                        image_mode=mode, color=color, **limits)  # fmt: skip


def load_image(
    kind: StreamKind | str,
    stream: Input,
    size: Size | None = None,
    *,
    mode: str | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    memory: int = DEFAULT_MEMORY,
    cpu_seconds: int | None = None,
    execution: str | None = None,
    face: int | None = None,
    text: str | None = None,
    font_size: int | None = None,
    color: str = "srgb",
) -> Image.Image:
    """Decodes `stream` into a PIL.Image, EXIF orientation (video: rotation) applied: the
    picture (STREAM_IMAGE), the first frame (STREAM_VIDEO) or a preview (STREAM_FONT);
    STREAM_AUTO chooses from the first bytes.

    `mode` None (the default) fits the source: "RGB" when every pixel of the answer is
    opaque (any JPEG, a video frame, a PNG without transparency), "RGBA" when any is not
    (a font preview, a PNG with transparency), so `save("thumb.jpg")` works on any opaque
    upload. "RGBA" or "RGB" always give that mode (RGB drops alpha without compositing).
    With `size` (an int N or a (width, height) pair) the image is fitted into that box,
    aspect kept, never enlarged; without it the full image is returned, refused above
    `max_pixels`. `execution` as for probe_format. Raises like probe_format.
    `color="srgb"` (default): pixels converted inside the sandbox to sRGB by the file's
    embedded ICC profile or PNG colour chunks, as viewers show them; `color="raw"`: the
    stored values untouched, for callers who colour-manage themselves.
    STREAM_FONT only: `face` as for probe_format, `text` the preview text (at most 256
    UTF-8 bytes, no control characters), `font_size` its em size in pixels (6..200).
    """
    asked = stream_kind(kind)
    if asked == StreamKind.LUA:
        raise ValueError("STREAM_LUA has no image: use probe_format to check a Lua script")
    extra = font_options(asked, face=face, text=text, font_size=font_size)
    request = _picture_request(size, mode, color, max_pixels=max_pixels,
                               max_input_bytes=max_input_bytes, memory=memory,
                               timeout=timeout, cpu_seconds=cpu_seconds)  # fmt: skip
    if extra:
        request = dataclasses.replace(request, extra=extra)
    as_rgb = False

    def adapt(head: bytes, request: _request.Request) -> _request.Request:
        # A full-size JPEG that will be an RGB image is asked for as RGBA, which shares its
        # memory with the image (image_from_answer): no unpacking of 3 bytes a pixel into
        # Pillow's 4. A JPEG has no alpha, so nothing is lost (an extractor that sent some
        # anyway only had it dropped).
        nonlocal as_rgb
        guess = _sniff.guess(head)
        if size is None and mode in (None, "RGB") and guess is not None and guess.what == "JPEG":
            as_rgb = True
            return dataclasses.replace(request, channels=_wire.LAYOUT_RGBA)
        return request

    _ran, answer = _runner.run_kind(asked, request, stream, execution=execution,
                                    pick=_pick_pictured, adapt=adapt)  # fmt: skip
    assert isinstance(answer, _wire.ImageAnswer)
    return image_from_answer(answer, rgb=as_rgb)


def frames_from_answer(answer: _wire.FramesAnswer) -> list[Image.Image]:
    from PIL import Image

    size = (answer.width, answer.height)
    out = []
    for i, duration in enumerate(answer.durations):
        pixels = answer.frame(i)
        if answer.channels == _wire.LAYOUT_RGBA:
            img = Image.frombuffer("RGBA", size, pixels, "raw", "RGBA", 0, 1)
        else:
            img = Image.frombytes("RGB", size, bytes(pixels), "raw", "RGB", 0, 1)
        img.info["duration"] = duration
        img.info["loop"] = answer.loop_count
        out.append(img)
    return out


def load_frames(
    kind: StreamKind | str,
    stream: Input,
    size: Size | None = None,
    *,
    max_frames: int = 100,
    mode: str | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    memory: int = DEFAULT_MEMORY,
    cpu_seconds: int | None = None,
    execution: str | None = None,
    color: str = "srgb",
) -> list[Image.Image]:
    """The first frames of an animated GIF, WebP or APNG as a list of PIL.Images, in one
    extractor run: each frame composited on the canvas as a viewer shows it (GIF disposal
    and transparency, WebP and APNG blending and disposal), all the same size (fitted into
    `size` like load_image's thumbnail, or full size without it) and mode. Each image has
    `info["duration"]` (ms, as the file says; 0 for a still image) and `info["loop"]` (the
    file's loop count, 0 = forever; 1 when it has none). A still image (any format
    STREAM_IMAGE reads) is one frame.

    At most `max_frames` frames (1..1000) come back, fewer when the file has fewer, or
    when the frames' pixels together would pass `max_pixels`, or past the extractor's cap
    on compositing work (PROTOCOL.md, "Frames payload"). STREAM_IMAGE or STREAM_AUTO only
    (STREAM_AUTO must find an image). Other arguments and exceptions as for load_image.
    """
    asked = stream_kind(kind)
    if asked not in (StreamKind.IMAGE, StreamKind.AUTO):
        raise ValueError("load_frames reads STREAM_IMAGE (or STREAM_AUTO finding an image)")
    if isinstance(max_frames, bool) or not isinstance(max_frames, int):
        raise TypeError(f"max_frames must be an int, not {type(max_frames).__name__}")
    if not 1 <= max_frames <= _wire.FRAMES_MAX:
        raise ValueError(f"max_frames must be in 1..{_wire.FRAMES_MAX}, got {max_frames}")
    request = _picture_request(size, mode, color, max_pixels=max_pixels,
                               max_input_bytes=max_input_bytes, memory=memory,
                               timeout=timeout, cpu_seconds=cpu_seconds)  # fmt: skip
    request = dataclasses.replace(request, frames=max_frames)
    _ran, answer = _runner.run_kind(asked, request, stream, execution=execution,
                                    pick=_pick_image)  # fmt: skip
    assert isinstance(answer, _wire.FramesAnswer)
    return frames_from_answer(answer)


def _pick_image(head: bytes) -> StreamKind:
    kind = kind_for_head(head)
    if kind != StreamKind.IMAGE:
        raise UnsupportedFormatError(
            f"load_frames reads images; this input looks like {kind}",
            status=int(_wire.Status.UNSUPPORTED),
        )
    return kind


# ---- asyncio ------------------------------------------------------------------------------

_T = TypeVar("_T")
_executor_lock = threading.Lock()
_executor: concurrent.futures.ThreadPoolExecutor | None = None
_executor_size = 0


def _get_executor() -> concurrent.futures.ThreadPoolExecutor:
    """Threads for the async calls: as many as the fork servers per extractor, so that up
    to that many calls run at once and the rest wait their turn without a thread each."""
    global _executor, _executor_size
    with _executor_lock:
        size = _zygote._max_servers
        if _executor is None or _executor_size != size:
            if _executor is not None:
                _executor.shutdown(wait=False)  # its running calls finish; no new ones
            _executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=size, thread_name_prefix="sandbox-extractor"
            )
            _executor_size = size
        return _executor


async def _in_thread(fn: Callable[..., _T], *args: Any, **kw: Any) -> _T:
    """Runs fn in a worker thread; cancelling the awaiting task kills the extractor child
    (through the thread's cancellation fd) and returns only once it is reaped."""
    loop = asyncio.get_running_loop()
    cancel_r, cancel_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)

    def work() -> _T:
        if select.select([cancel_r], [], [], 0)[0]:
            raise _runner.Cancelled()  # cancelled while queued: nothing ran
        _spawn.set_cancel_fd(cancel_r)
        try:
            return fn(*args, **kw)
        finally:
            _spawn.set_cancel_fd(None)

    future = loop.run_in_executor(_get_executor(), work)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        os.write(cancel_w, b"c")
        try:
            await future  # the child is killed and reaped, the input closed
        except BaseException:
            pass
        raise
    finally:
        os.close(cancel_r)
        os.close(cancel_w)


async def aprobe_format(kind: StreamKind | str, stream: Input, **options: Any) -> Metadata:
    """probe_format for asyncio: the same arguments, result and exceptions. The event loop
    is never blocked (the call runs in one of a pool of threads as large as the fork-server
    pool, so that many calls run at once); cancelling the awaiting task kills the
    extractor and leaves no process or fd behind."""
    return await _in_thread(probe_format, kind, stream, **options)


async def aload_image(
    kind: StreamKind | str, stream: Input, size: Size | None = None, **options: Any
) -> Image.Image:
    """load_image for asyncio, as aprobe_format is for probe_format."""
    return await _in_thread(load_image, kind, stream, size, **options)


async def aload_frames(
    kind: StreamKind | str, stream: Input, size: Size | None = None, **options: Any
) -> list[Image.Image]:
    """load_frames for asyncio, as aprobe_format is for probe_format."""
    return await _in_thread(load_frames, kind, stream, size, **options)

"""The public calls, probe_format and load_image: the request from the caller's arguments,
one run (_runner.py), and the answer as the caller wants it (metadata, a PIL.Image)."""

from __future__ import annotations

import dataclasses

from . import _wire
from ._errors import DecodeError
from ._metadata import ImageInfo, Metadata
from ._request import (
    DEFAULT_MAX_INPUT_BYTES,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MEMORY,
    DEFAULT_TIMEOUT,
    STREAM_FONT,
    STREAM_IMAGE,
    STREAM_LUA,
    STREAM_VIDEO,
    Request,
    StreamKind,
    extractor_name,
    font_options,
    make_request,
    stream_kind,
)
from ._runner import run_extractor

__all__ = [
    "DEFAULT_MAX_INPUT_BYTES",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MEMORY",
    "DEFAULT_TIMEOUT",
    "STREAM_FONT",
    "STREAM_IMAGE",
    "STREAM_LUA",
    "STREAM_VIDEO",
    "StreamKind",
    "load_image",
    "probe_format",
]

_METADATA_CLASS = {StreamKind.IMAGE: ImageInfo}


def metadata_from_answer(kind: StreamKind, answer: _wire.MetaAnswer) -> Metadata:
    cls = _METADATA_CLASS.get(kind, Metadata)
    fields = answer.fields
    if kind is StreamKind.FONT:
        # sx-font sends these lists one item a line (PROTOCOL.md); users get lists.
        fields = dict(fields)
        for key in ("faces", "named_instances"):
            if isinstance(fields.get(key), str):
                fields[key] = fields[key].split("\n") if fields[key] else []
    return cls._from_fields(fields)


def _extract(kind: StreamKind, request: Request, stream, execution: str | None) -> _wire.Answer:
    """The run every public call makes: the kind's extractor on `stream`."""
    return run_extractor(
        extractor_name(kind), request, stream, what=str(kind), execution=execution
    )


def probe_format(
    kind,
    stream,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    memory: int = DEFAULT_MEMORY,
    cpu_seconds: int | None = None,
    execution: str | None = None,
    face: int | None = None,
) -> Metadata:
    """Metadata of `stream` (no pixels are decoded): an ImageInfo for STREAM_IMAGE.

    `stream` is a path, a binary file object, a readable binary stream or a bytes-like
    object. Raises a DecodeError subclass when the input is refused or the extractor
    misbehaves (DecodeTimeout also when a stream is still being copied at `timeout`),
    ExtractorUnavailable when the kind's extractor is not installed, and OSError when a
    path cannot be opened as a file (missing, a directory, a Unix socket).
    `execution`: "oneshot" (a process per call), "server" (through a fork server) or
    "auto" (one-shot for the first call to an extractor, the fork server from the second);
    None takes $SANDBOX_EXTRACTOR_MODE, else "auto". Results are the same either way.
    `face`: STREAM_FONT only, the face of a collection (default 0); a font's metadata
    has `faces` as a list of "family style" names.
    """
    kind = stream_kind(kind)
    extra = font_options(kind, face=face)
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
    answer = _extract(kind, request, stream, execution)
    assert isinstance(answer, _wire.MetaAnswer)
    try:
        return metadata_from_answer(kind, answer)
    except DecodeError as exc:
        exc.extractor = extractor_name(kind)
        raise


def image_from_answer(answer: _wire.ImageAnswer):
    from PIL import Image

    # Only the validated pixel bytes, exactly width * height * channels of them.
    size = (answer.width, answer.height)
    if answer.channels == _wire.LAYOUT_RGBA:
        # Shares the buffer (no copy); Pillow copies it on the first in-place change.
        return Image.frombuffer("RGBA", size, answer.pixels, "raw", "RGBA", 0, 1)
    # Pillow stores RGB as 4 bytes a pixel, so RGB is always unpacked into a copy.
    return Image.frombytes("RGB", size, bytes(answer.pixels), "raw", "RGB", 0, 1)


def load_image(
    kind,
    stream,
    size=None,
    *,
    mode: str = "RGBA",
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
):
    """Decodes `stream` into a PIL.Image (mode "RGBA" or "RGB"), EXIF orientation applied.

    `color="srgb"` (default): pixels converted inside the sandbox to sRGB by the file's
    embedded ICC profile or PNG colour chunks, as viewers show them; `color="raw"`: the
    stored values untouched, for callers who colour-manage themselves.

    With `size` (an int N or a (width, height) pair) the image is fitted into that box,
    aspect kept, never enlarged; without it the full image is returned, refused above
    `max_pixels`. `execution` as for probe_format. Raises like probe_format.
    STREAM_FONT only: `face` as for probe_format, `text` the preview text (at most 256
    UTF-8 bytes, no control characters), `font_size` its em size in pixels (6..200).
    """
    kind = stream_kind(kind)
    extra = font_options(kind, face=face, text=text, font_size=font_size)
    request = make_request(
        "thumbnail" if size is not None else "full",
        size=size,
        image_mode=mode,
        max_pixels=max_pixels,
        max_input_bytes=max_input_bytes,
        memory=memory,
        timeout=timeout,
        cpu_seconds=cpu_seconds,
        color=color,
    )
    if extra:
        request = dataclasses.replace(request, extra=extra)
    answer = _extract(kind, request, stream, execution)
    assert isinstance(answer, _wire.ImageAnswer)
    return image_from_answer(answer)

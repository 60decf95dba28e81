"""sandbox_extractor: decode untrusted files in seccomp-sandboxed extractor processes.

    import sandbox_extractor as sx
    info = sx.probe_format(sx.STREAM_IMAGE, "photo.jpg")      # ImageInfo, no pixels
    thumb = sx.load_image(sx.STREAM_IMAGE, "photo.jpg", size=256)  # PIL.Image in a 256x256 box

Every failure for one input is a DecodeError subclass; see PROTOCOL.md for the wire.
Repeated calls go through fork servers (execution="auto", the default; also "server" and
"oneshot", or $SANDBOX_EXTRACTOR_MODE): same results, less start-up time per call.
"""

from ._api import (
    DEFAULT_MAX_INPUT_BYTES,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MEMORY,
    DEFAULT_TIMEOUT,
    STREAM_FONT,
    STREAM_IMAGE,
    STREAM_LUA,
    STREAM_VIDEO,
    StreamKind,
    load_image,
    probe_format,
)
from ._errors import (
    BadInputError,
    DecodeError,
    DecodeTimeout,
    ExtractorError,
    ExtractorUnavailable,
    LimitExceededError,
    ProtocolError,
    SandboxUnavailable,
    SandboxViolation,
    UnsupportedFormatError,
)
from ._metadata import ImageInfo, Metadata

__version__ = "0.1.0"

__all__ = [
    "probe_format",
    "load_image",
    "STREAM_IMAGE",
    "STREAM_VIDEO",
    "STREAM_FONT",
    "STREAM_LUA",
    "StreamKind",
    "Metadata",
    "ImageInfo",
    "DecodeError",
    "BadInputError",
    "UnsupportedFormatError",
    "LimitExceededError",
    "DecodeTimeout",
    "SandboxViolation",
    "ProtocolError",
    "ExtractorError",
    "SandboxUnavailable",
    "ExtractorUnavailable",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MAX_INPUT_BYTES",
    "DEFAULT_MEMORY",
    "DEFAULT_TIMEOUT",
]

"""sandbox_extractor: decode untrusted files in seccomp-sandboxed extractor processes.

    import sandbox_extractor as sx
    info = sx.probe_format(sx.STREAM_AUTO, "upload")          # ImageInfo, VideoInfo, FontInfo, LuaInfo
    thumb = sx.load_image(sx.STREAM_AUTO, "upload", size=256)  # PIL.Image, RGB unless it has alpha

Every failure for one input is a DecodeError subclass; see PROTOCOL.md for the wire.
Repeated calls go through fork servers (execution="auto", the default; also "server" and
"oneshot", or $SANDBOX_EXTRACTOR_MODE): same results, less start-up time per call.
"""

import logging as _logging

# The library prints nothing: its records (fork-server starts, restarts and deaths at
# INFO/WARNING, each rejected file at DEBUG) go wherever the application sends them.
_logging.getLogger("sandbox_extractor").addHandler(_logging.NullHandler())

from ._api import (  # noqa: E402
    DEFAULT_MAX_INPUT_BYTES,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MEMORY,
    DEFAULT_TIMEOUT,
    STREAM_AUTO,
    STREAM_FONT,
    STREAM_IMAGE,
    STREAM_LUA,
    STREAM_VIDEO,
    Input,
    StreamKind,
    aload_frames,
    aload_image,
    aprobe_format,
    load_frames,
    load_image,
    probe_format,
)
from ._errors import (  # noqa: E402
    BadInputError,
    DecodeError,
    DecodeTimeout,
    ExtractorError,
    ExtractorUnavailable,
    LimitExceededError,
    ProtocolError,
    SandboxNotEnforced,
    SandboxUnavailable,
    SandboxViolation,
    UnsupportedFormatError,
)
from ._metadata import FontInfo, ImageInfo, LuaInfo, Metadata, VideoInfo
from ._wire import RELEASE as __version__

__all__ = [
    "probe_format",
    "load_image",
    "load_frames",
    "aprobe_format",
    "aload_image",
    "aload_frames",
    "STREAM_AUTO",
    "STREAM_IMAGE",
    "STREAM_VIDEO",
    "STREAM_FONT",
    "STREAM_LUA",
    "StreamKind",
    "Input",
    "Metadata",
    "ImageInfo",
    "VideoInfo",
    "FontInfo",
    "LuaInfo",
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
    "SandboxNotEnforced",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MAX_INPUT_BYTES",
    "DEFAULT_MEMORY",
    "DEFAULT_TIMEOUT",
    "__version__",
]

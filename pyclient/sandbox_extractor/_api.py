"""probe_format and load_image: request building, running, and judging the outcome."""

from __future__ import annotations

import enum
import math
import signal
from dataclasses import dataclass

from . import _spawn, _wire, _zygote
from ._errors import (
    SANDBOX_ADVICE,
    DecodeError,
    DecodeTimeout,
    ProtocolError,
    SandboxUnavailable,
    SandboxViolation,
    error_for_status,
    signal_name,
)
from ._input import open_input
from ._locate import find_extractor
from ._metadata import ImageInfo, Metadata


class StreamKind(str, enum.Enum):
    """What kind of input a call expects; each kind has its own extractor binary."""

    IMAGE = "image"
    VIDEO = "video"
    FONT = "font"
    LUA = "lua"

    def __str__(self) -> str:
        return f"STREAM_{self.name}"


STREAM_IMAGE = StreamKind.IMAGE
STREAM_VIDEO = StreamKind.VIDEO
STREAM_FONT = StreamKind.FONT
STREAM_LUA = StreamKind.LUA

_BINARIES = {
    StreamKind.IMAGE: "sx-image",
    StreamKind.VIDEO: "sx-video",
    StreamKind.FONT: "sx-font",
    StreamKind.LUA: "sx-lua",
}
_METADATA_CLASS = {StreamKind.IMAGE: ImageInfo}

DEFAULT_MAX_PIXELS = _wire.PIXELS_DEFAULT
DEFAULT_MAX_INPUT_BYTES = _wire.INPUT_DEFAULT_BYTES
DEFAULT_MEMORY = _wire.POOL_DEFAULT_BYTES
DEFAULT_TIMEOUT = float(_wire.CPU_SECONDS_DEFAULT)

# A SIGKILL after at least this share of the CPU limit is RLIMIT_CPU's, not seccomp's.
# Not 1.0 and not 0.9: the kernel checks RLIMIT_CPU against tick-sampled CPU time, while
# wait4 reports the precise time; on a loaded machine a 1 s limit killed a spinning child
# that wait4 then said had used 0.895 s.
_CPU_KILL_SHARE = 0.75


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
    color: str = "srgb"  # "srgb" (converted by the file's profile) or "raw"

    def argv(self) -> list[str]:
        args = [f"--{self.mode}"]
        if self.mode == "thumbnail":
            assert self.box is not None
            args.append(f"{self.box[0]}x{self.box[1]}")
        if self.mode != "probe":
            args.append("--rgb" if self.channels == _wire.LAYOUT_RGB else "--rgba")
            if self.color == "raw":
                args += ["--color", "raw"]
        args += [
            "--max-pixels", str(self.max_pixels),
            "--max-input-bytes", str(self.max_input_bytes),
            "--memory", str(self.memory),
            "--cpu-seconds", str(self.cpu_seconds),
        ]  # fmt: skip
        return args

    def expect(self) -> _wire.Expect:
        if self.mode == "probe":
            return _wire.Expect(result=_wire.TYPE_META, max_pixels=self.max_pixels)
        box_w, box_h = self.box or (0, 0)
        return _wire.Expect(
            result=_wire.TYPE_IMAGE,
            channels=self.channels,
            box_width=box_w,
            box_height=box_h,
            max_pixels=self.max_pixels,
        )


def _check_int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}..{high}, got {value}")
    return value


def make_request(
    mode: str,
    *,
    size=None,
    image_mode: str = "RGBA",
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
    if image_mode not in ("RGBA", "RGB"):
        raise ValueError(f"mode must be 'RGBA' or 'RGB', got {image_mode!r}")
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
    channels = _wire.LAYOUT_RGB if image_mode == "RGB" else _wire.LAYOUT_RGBA
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


def _kind(kind) -> StreamKind:
    try:
        return StreamKind(kind)
    except ValueError:
        raise ValueError(
            f"unknown stream kind {kind!r}; use STREAM_IMAGE, STREAM_VIDEO, STREAM_FONT "
            "or STREAM_LUA"
        ) from None


def judge(outcome: _spawn.Outcome, request: Request, extractor: str) -> _wire.Answer:
    """Turns a finished run into a validated answer, or raises the matching DecodeError."""
    context = dict(
        stderr=outcome.stderr,
        exit_status=outcome.exit_status,
        signal=outcome.signal,
        extractor=extractor,
    )

    def fail(cls, detail, **extra):
        raise cls(detail, **context, **extra)

    if outcome.timed_out:
        fail(DecodeTimeout, f"killed after the wall-clock timeout of {request.timeout:g} s")
    if outcome.violation is not None:
        fail(type(outcome.violation), outcome.violation.detail)
    sig = outcome.signal
    if sig is not None:
        name = signal_name(sig)
        if sig == signal.SIGXCPU or (
            sig == signal.SIGKILL
            and outcome.cpu_seconds >= _CPU_KILL_SHARE * request.cpu_seconds
        ):
            fail(
                DecodeTimeout,
                f"killed by {name} after {outcome.cpu_seconds:.2f} s of CPU time "
                f"(limit {request.cpu_seconds} s)",
            )
        # SIGKILL from strict mode; SIGSYS from the equivalent filter used under a
        # container's filter (SECCOMP_RET_KILL_PROCESS: no handler can catch it).
        if sig in (signal.SIGKILL, signal.SIGSYS):
            fail(
                SandboxViolation,
                f"killed by {name} without an answer: the sandbox stopped a forbidden "
                "system call",
            )
        fail(SandboxViolation, f"crashed with {name} without an answer")
    status = outcome.exit_status
    if status not in (_wire.EXIT_RESULT, _wire.EXIT_ERROR):
        fail(ProtocolError, f"exited with status {status} without a valid answer")
    try:
        answer = _wire.parse_answer(outcome.stdout, request.expect())
    except ProtocolError as exc:
        fail(ProtocolError, exc.detail)
    if isinstance(answer, _wire.ErrorAnswer):
        if status != _wire.EXIT_ERROR:
            fail(ProtocolError, f"error message with exit status {status}, expected 1")
        detail = answer.detail or _wire.Status(answer.status).name.lower().replace("_", " ")
        cls = error_for_status(answer.status)
        if cls is SandboxUnavailable:
            detail = f"{detail}; {SANDBOX_ADVICE}"
        fail(cls, detail, status=answer.status)
    if status != _wire.EXIT_RESULT:
        fail(ProtocolError, f"result message with exit status {status}, expected 0")
    return answer


def run_extractor(
    binary: str,
    request: Request,
    stream,
    *,
    what: str | None = None,
    execution: str | None = None,
) -> _wire.Answer:
    """Runs extractor `binary` on `stream`; a validated answer that is not an error, or a
    DecodeError. Used by the public functions and by the tests (sx-selftest).

    `execution` is "oneshot", "server" or "auto" (see _zygote.py); None takes
    $SANDBOX_EXTRACTOR_MODE, else "auto". Both ways end in the same judge()."""
    execution = _zygote.resolve_execution(execution)
    path = find_extractor(binary, what)
    with open_input(stream, request.max_input_bytes) as source:
        expect = request.expect()
        outcome = _zygote.run(
            path,
            request.argv(),
            source.fd,
            timeout=request.timeout,
            message_length=lambda header: _wire.message_length(header, expect),
            execution=execution,
        )
    return judge(outcome, request, path)


def metadata_from_answer(kind: StreamKind, answer: _wire.MetaAnswer) -> Metadata:
    cls = _METADATA_CLASS.get(kind, Metadata)
    return cls._from_fields(answer.fields)


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
) -> Metadata:
    """Metadata of `stream` (no pixels are decoded): an ImageInfo for STREAM_IMAGE.

    `stream` is a path, a binary file object, a readable binary stream or a bytes-like
    object. Raises a DecodeError subclass when the input is refused or the extractor
    misbehaves, ExtractorUnavailable when the kind's extractor is not installed.
    `execution`: "oneshot" (a process per call), "server" (through a fork server) or
    "auto" (one-shot for the first call to an extractor, the fork server from the second);
    None takes $SANDBOX_EXTRACTOR_MODE, else "auto". Results are the same either way.
    """
    kind = _kind(kind)
    request = make_request(
        "probe",
        max_pixels=max_pixels,
        max_input_bytes=max_input_bytes,
        memory=memory,
        timeout=timeout,
        cpu_seconds=cpu_seconds,
    )
    answer = run_extractor(
        _BINARIES[kind], request, stream, what=str(kind), execution=execution
    )
    assert isinstance(answer, _wire.MetaAnswer)
    try:
        return metadata_from_answer(kind, answer)
    except DecodeError as exc:
        exc.extractor = _BINARIES[kind]
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
    color: str = "srgb",
):
    """Decodes `stream` into a PIL.Image (mode "RGBA" or "RGB"), EXIF orientation applied.

    `color="srgb"` (default): pixels converted inside the sandbox to sRGB by the file's
    embedded ICC profile or PNG colour chunks, as viewers show them; `color="raw"`: the
    stored values untouched, for callers who colour-manage themselves.

    With `size` (an int N or a (width, height) pair) the image is fitted into that box,
    aspect kept, never enlarged; without it the full image is returned, refused above
    `max_pixels`. `execution` as for probe_format. Raises like probe_format.
    """
    kind = _kind(kind)
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
    answer = run_extractor(
        _BINARIES[kind], request, stream, what=str(kind), execution=execution
    )
    assert isinstance(answer, _wire.ImageAnswer)
    return image_from_answer(answer)

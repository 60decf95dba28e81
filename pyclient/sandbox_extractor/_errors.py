"""The exceptions the client raises.

DecodeError and its subclasses describe what happened to one input: the extractor
refused it, ran out of a limit, was killed, or answered something malformed. They carry
the extractor's status code and detail (when it sent an error message), its exit status
or signal, and a bounded excerpt of its stderr. ExtractorUnavailable is not a DecodeError:
it says the installation is incomplete, not that the file is bad.
"""

from __future__ import annotations

import signal as _signal
from typing import Any

from ._status import Status

# How much of an exception's stderr excerpt str() shows; .stderr keeps more.
_STR_STDERR_CHARS = 200


def printable(text: str, limit: int = 300) -> str:
    """`text` with control characters escaped and cut to `limit` characters.

    Details and stderr come from a possibly hostile process: never let them move a
    terminal's cursor or forge extra log lines.
    """
    out = []
    for ch in text[:limit]:
        if ch.isprintable():
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    if len(text) > limit:
        out.append("...")
    return "".join(out)


def signal_name(signum: int) -> str:
    try:
        return _signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class DecodeError(Exception):
    """Base of every per-input failure.

    Attributes: status (the extractor's status code, or None when it sent no error
    message), detail (its reason, or the client's), stderr (bytes, bounded), exit_status
    (int or None), signal (int or None), extractor (path of the binary, or None).
    """

    kind = "decode_error"

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        stderr: bytes = b"",
        exit_status: int | None = None,
        signal: int | None = None,
        extractor: str | None = None,
    ):
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.stderr = stderr
        self.exit_status = exit_status
        self.signal = signal
        self.extractor = extractor

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the attributes across pickling (multiprocessing, concurrent.futures).
        return (type(self), (self.detail,), dict(self.__dict__))

    @property
    def status_name(self) -> str | None:
        if self.status is None:
            return None
        try:
            return Status(self.status).name
        except ValueError:
            return str(self.status)

    def __str__(self) -> str:
        text = printable(self.detail)
        if self.status is not None:
            text += f" [status {self.status} {self.status_name}]"
        if self.stderr:
            excerpt = printable(self.stderr.decode("utf-8", "replace").strip(), _STR_STDERR_CHARS)
            if excerpt:
                text += f" (stderr: {excerpt})"
        return text


class BadInputError(DecodeError):
    """The input is corrupt, truncated or empty (status BAD_INPUT)."""

    kind = "bad_input"


class UnsupportedFormatError(DecodeError):
    """The input is not a format or feature this extractor reads (status UNSUPPORTED)."""

    kind = "unsupported"


class LimitExceededError(DecodeError):
    """The input needs more than a configured limit: pixels, input bytes (status LIMIT), or
    the memory pool (status NO_MEMORY); raise the matching keyword argument to allow it."""

    kind = "limit"


class DecodeTimeout(DecodeError):
    """The extractor used up its CPU time or the wall-clock timeout and was killed."""

    kind = "timeout"


class SandboxViolation(DecodeError):
    """The extractor was killed with no valid answer: the seccomp sandbox stopped a
    forbidden system call (SIGKILL), or it crashed (SIGSEGV, SIGABRT...)."""

    kind = "sandbox_violation"


class ProtocolError(DecodeError):
    """The extractor's answer was missing, malformed, outside what was asked for, or
    disagreed with its exit status."""

    kind = "protocol"


class ExtractorError(DecodeError):
    """The extractor failed for a reason that is not a verdict on the input: I/O on its
    input or answer (IO), a bug in the extractor (INTERNAL), or a request it rejected
    (BAD_REQUEST, a client bug)."""

    kind = "extractor"


class SandboxUnavailable(ExtractorError):
    """The extractor could not enter its seccomp sandbox here (status SANDBOX) and refused to
    decode: the process runs under a seccomp profile or kernel that lets it neither enter
    strict mode nor add its own filter. Not a verdict on the input: every file fails the
    same way until the deployment changes (README, "Containers and services")."""

    kind = "sandbox_unavailable"


# Appended to a SANDBOX detail: what to change, since the extractor cannot know the deployment.
SANDBOX_ADVICE = (
    "allow prctl (PR_SET_NO_NEW_PRIVS, PR_GET_SECCOMP, PR_SET_SECCOMP) in the seccomp profile "
    "the extractors run under: Docker's default profile allows it, as does systemd's "
    "@system-service set; a custom profile or SystemCallFilter= must too "
    "(README, 'Containers and services')"
)


class ExtractorUnavailable(RuntimeError):
    """No usable extractor binary for the requested kind: not built, not installed, or it
    cannot be executed. Not a DecodeError: this is about the installation, not the input."""


class SandboxNotEnforced(ExtractorUnavailable):
    """The extractor's posture check survived a forbidden system call after entering the
    sandbox: this host (kernel, container runtime, emulator) does not enforce seccomp strict
    mode, so nothing would be decoded in a sandbox. Every call refuses until the host is
    fixed, or until $SANDBOX_EXTRACTOR_ALLOW_UNENFORCED=1 says to run anyway."""


_BY_STATUS = {
    1: BadInputError,
    2: UnsupportedFormatError,
    3: LimitExceededError,
    4: LimitExceededError,
    5: ExtractorError,
    6: ExtractorError,
    7: ExtractorError,
    8: SandboxUnavailable,
}


def error_for_status(status: int) -> type[DecodeError]:
    """The exception class for an error message's (validated, non-zero) status."""
    return _BY_STATUS.get(status, ProtocolError)

"""Running one extraction: the input taken within the deadline, one-shot or through a fork
server, and the outcome judged (_judge.py). The one place that chooses the execution mode.

Execution modes (the `execution` argument, else $SANDBOX_EXTRACTOR_MODE, else "auto"):
- "oneshot": one process per call (_spawn.run).
- "server": through a zygote (_zygote.py); ExtractorUnavailable when the binary cannot serve.
- "auto": the first call to an extractor in this process is one-shot; from the second on,
  a zygote is used (and if the binary cannot serve, one-shot quietly continues).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Any, Callable

from . import _sniff, _spawn, _wire, _zygote
from ._errors import DecodeError, DecodeTimeout, ExtractorUnavailable, SandboxNotEnforced
from ._input import open_input
from ._judge import judge
from ._locate import find_extractor
from ._request import Request, StreamKind, extractor_name

log = logging.getLogger("sandbox_extractor")

ENV_MODE = "SANDBOX_EXTRACTOR_MODE"
# Set to 1 to run extractors on a host where strict mode is proven NOT to be enforced.
ENV_ALLOW_UNENFORCED = "SANDBOX_EXTRACTOR_ALLOW_UNENFORCED"
EXECUTIONS = ("auto", "oneshot", "server")


def resolve_execution(execution: str | None, default: str = "auto") -> str:
    """`execution`, else $SANDBOX_EXTRACTOR_MODE, else `default`; ValueError if unknown."""
    source = "execution"
    if execution is None:
        execution = os.environ.get(ENV_MODE) or default
        source = f"${ENV_MODE}"
    if execution not in EXECUTIONS:
        raise ValueError(f"{source} must be one of {', '.join(EXECUTIONS)}, got {execution!r}")
    return execution


def run(
    path: str,
    args: list[str],
    stdin_fd: int,
    *,
    timeout: float,
    message_length: Callable[[bytes], int],
    execution: str,
    answer_cap: int = _spawn.LARGEST_ANSWER,
) -> _spawn.Outcome:
    """One extraction in the given execution mode (already resolved); the answer is at
    most `answer_cap` bytes."""

    def oneshot() -> _spawn.Outcome:
        return _spawn.run(path, args, stdin_fd, timeout=timeout, message_length=message_length,
                          answer_cap=answer_cap)  # fmt: skip

    if execution == "oneshot":
        return oneshot()
    family = _zygote.pool(path)
    first = family.note_call()
    if execution == "auto" and (first or family.cannot_serve):
        return oneshot()
    try:
        return _zygote.serve(family, args, stdin_fd, timeout=timeout,
                             message_length=message_length, answer_cap=answer_cap)  # fmt: skip
    except _zygote.CannotStart as exc:
        if execution == "auto":
            return oneshot()
        raise ExtractorUnavailable(
            f"extractor {path!r} cannot run as a fork server: {exc}"
        ) from None


class Cancelled(Exception):
    """The run was cancelled through the thread's cancellation fd (the async API)."""


# ---- the posture check --------------------------------------------------------------------

_posture_lock = threading.Lock()
_posture: dict[tuple[Any, ...], str | None] = {}  # binary identity -> None (enforced) or why not


def _identity(path: str) -> tuple[Any, ...]:
    st = os.stat(path)
    return (path, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def posture(path: str, timeout: float = 30.0) -> tuple[str, _spawn.Outcome]:
    """Runs `path --posture-check` once, one-shot, on an empty input: it crosses the strict
    line and then makes a forbidden call. Returns ("enforced", outcome) when the kernel
    killed it there (SIGKILL in strict mode, SIGSYS under the filter), ("survived", ...) when
    it lived to answer, ("unknown", ...) for anything else (a refusal to enter the sandbox,
    an old binary)."""
    with open(os.devnull, "rb") as null:
        outcome = _spawn.run(
            path, ["--posture-check"], null.fileno(), timeout=timeout,
            message_length=lambda h: _wire.message_length(h, _wire.Expect(_wire.TYPE_META)),
        )  # fmt: skip
    if outcome.signal in (signal.SIGKILL, signal.SIGSYS) and not outcome.timed_out:
        return "enforced", outcome
    if outcome.exit_status == _wire.EXIT_RESULT:
        try:
            answer = _wire.parse_answer(outcome.stdout, _wire.Expect(_wire.TYPE_META))
        except DecodeError:
            return "unknown", outcome
        if isinstance(answer, _wire.MetaAnswer) and answer.fields.get("survived") is True:
            return "survived", outcome
    return "unknown", outcome


def check_posture(path: str) -> None:
    """Once per extractor binary and process: refuses (SandboxNotEnforced) a binary whose
    strict mode this host does not enforce, unless $SANDBOX_EXTRACTOR_ALLOW_UNENFORCED=1."""
    ident = _identity(path)
    with _posture_lock:
        if ident in _posture:
            problem = _posture[ident]
        else:
            verdict, outcome = posture(path)
            problem = None
            if verdict == "survived":
                problem = (
                    f"strict mode is NOT enforced on this host: {path} --posture-check made a "
                    "forbidden system call after entering the sandbox and survived (a kernel, "
                    "container runtime or emulator that accepts prctl(PR_SET_SECCOMP) but "
                    "ignores it). Untrusted files would be decoded without a sandbox; "
                    "refusing. Run `sandbox-extractor doctor`; set "
                    f"{ENV_ALLOW_UNENFORCED}=1 to run anyway"
                )
                log.error("%s", problem)
            elif verdict == "unknown":
                log.debug("posture check of %s inconclusive (exit %s, signal %s)", path,
                          outcome.exit_status, outcome.signal)
            _posture[ident] = problem
    if problem is not None:
        if os.environ.get(ENV_ALLOW_UNENFORCED) == "1":
            log.warning("running %s although strict mode is not enforced (%s=1)", path,
                        ENV_ALLOW_UNENFORCED)
            return
        raise SandboxNotEnforced(problem)


# ---- one run ------------------------------------------------------------------------------


def _run_on(path: str, request: Request, source_fd: int, deadline: float,
            execution: str) -> _wire.Answer:
    expect = request.expect()
    left = deadline - time.monotonic()
    if left <= 0:
        raise DecodeTimeout(
            f"the input took the whole wall-clock timeout of {request.timeout:g} s to read"
        )
    outcome = run(
        path,
        request.argv(),
        source_fd,
        timeout=left,
        message_length=lambda header: _wire.message_length(header, expect),
        execution=execution,
        answer_cap=expect.max_message_bytes(),
    )
    if outcome.cancelled:
        raise Cancelled()
    return judge(outcome, request, path)


def run_extractor(
    binary: str,
    request: Request,
    stream: Any,
    *,
    what: str | None = None,
    execution: str | None = None,
) -> _wire.Answer:
    """Runs extractor `binary` on `stream`; a validated answer that is not an error, or a
    DecodeError. Used by the tests (sx-selftest, fake extractors); no posture check.

    `execution` is "oneshot", "server" or "auto" (see the top of this file); None takes
    $SANDBOX_EXTRACTOR_MODE, else "auto". Both ways end in the same judge()."""
    execution = resolve_execution(execution)
    path = find_extractor(binary, what)
    # One deadline for the whole call: copying a stream, then the extraction.
    deadline = time.monotonic() + request.timeout
    with open_input(stream, request.max_input_bytes, deadline, request.timeout) as source:
        return _run_on(path, request, source.fd, deadline, execution)


def run_kind(
    kind: StreamKind,
    request: Request,
    stream: Any,
    *,
    execution: str | None = None,
    pick: Callable[[bytes], StreamKind] | None = None,
    adapt: Callable[[bytes, Request], Request] | None = None,
) -> tuple[StreamKind, _wire.Answer]:
    """What the public calls run: the kind's extractor (or, for STREAM_AUTO, the one
    `pick` chooses from the input's first bytes), after its posture check. `adapt` may
    change the request once those bytes are known (load_image's pixel layout). A
    DecodeError that says the input is not this extractor's format gains a hint naming
    the kind that reads it."""
    execution = resolve_execution(execution)
    # A missing extractor is reported before a missing input: the installation first.
    path = None if kind == StreamKind.AUTO else find_extractor(extractor_name(kind), str(kind))
    deadline = time.monotonic() + request.timeout
    with open_input(stream, request.max_input_bytes, deadline, request.timeout) as source:
        head = _sniff.read_head(source.fd)
        if path is None:
            assert pick is not None
            kind = pick(head)
        name = _sniff.extractor_for(kind, head)
        if path is None or name != extractor_name(kind):
            path = find_extractor(name, str(kind))
        if adapt is not None:
            request = adapt(head, request)
        check_posture(path)
        try:
            return kind, _run_on(path, request, source.fd, deadline, execution)
        except DecodeError as exc:
            exc.extractor = exc.extractor or path
            log.debug("rejected %s by %s: %s: %s", _label(stream), os.path.basename(path),
                      exc.kind, exc.detail)
            _add_kind_hint(exc, kind, head)
            raise


def _label(stream: Any) -> str:
    """How a log line names the input: its path or file name, else its type."""
    if isinstance(stream, (str, os.PathLike)):
        return repr(os.fspath(stream))
    name = getattr(stream, "name", None)
    if isinstance(name, str):
        return repr(name)
    return f"<{type(stream).__name__}>"


def _add_kind_hint(exc: DecodeError, kind: StreamKind, head: bytes) -> None:
    from ._errors import UnsupportedFormatError

    if not isinstance(exc, UnsupportedFormatError):
        return
    guess = _sniff.guess(head)
    if guess is not None and guess.kind is not None and guess.kind != kind:
        exc.detail = (
            f"{exc.detail}; it looks like {guess.what}, which {guess.kind} reads "
            f"(or STREAM_AUTO chooses for you)"
        )
        exc.args = (exc.detail,)

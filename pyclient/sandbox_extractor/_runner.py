"""Running one extraction: the input taken within the deadline, one-shot or through a fork
server, and the outcome judged (_judge.py). The one place that chooses the execution mode.

Execution modes (the `execution` argument, else $SANDBOX_EXTRACTOR_MODE, else "auto"):
- "oneshot": one process per call (_spawn.run).
- "server": through a zygote (_zygote.py); ExtractorUnavailable when the binary cannot serve.
- "auto": the first call to an extractor in this process is one-shot; from the second on,
  a zygote is used (and if the binary cannot serve, one-shot quietly continues).
"""

from __future__ import annotations

import os
import time
from typing import Callable

from . import _spawn, _wire, _zygote
from ._errors import DecodeTimeout, ExtractorUnavailable
from ._input import open_input
from ._judge import judge
from ._locate import find_extractor
from ._request import Request

ENV_MODE = "SANDBOX_EXTRACTOR_MODE"
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
) -> _spawn.Outcome:
    """One extraction in the given execution mode (already resolved)."""

    def oneshot() -> _spawn.Outcome:
        return _spawn.run(path, args, stdin_fd, timeout=timeout, message_length=message_length)

    if execution == "oneshot":
        return oneshot()
    family = _zygote.pool(path)
    first = family.note_call()
    if execution == "auto" and (first or family.cannot_serve):
        return oneshot()
    try:
        return _zygote.serve(
            family, args, stdin_fd, timeout=timeout, message_length=message_length
        )
    except _zygote.CannotStart as exc:
        if execution == "auto":
            return oneshot()
        raise ExtractorUnavailable(
            f"extractor {path!r} cannot run as a fork server: {exc}"
        ) from None


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

    `execution` is "oneshot", "server" or "auto" (see the top of this file); None takes
    $SANDBOX_EXTRACTOR_MODE, else "auto". Both ways end in the same judge()."""
    execution = resolve_execution(execution)
    path = find_extractor(binary, what)
    # One deadline for the whole call: copying a stream, then the extraction.
    start = time.monotonic()
    deadline = start + request.timeout
    with open_input(stream, request.max_input_bytes, deadline, request.timeout) as source:
        expect = request.expect()
        left = deadline - time.monotonic()
        if left <= 0:
            raise DecodeTimeout(
                f"the input took the whole wall-clock timeout of {request.timeout:g} s to read"
            )
        outcome = run(
            path,
            request.argv(),
            source.fd,
            timeout=left,
            message_length=lambda header: _wire.message_length(header, expect),
            execution=execution,
        )
    return judge(outcome, request, path)

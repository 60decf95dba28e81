"""Judging a finished extraction: the exit status or signal, then the answer, as the
extractor were the attacker. A validated answer that is not an error, or the matching
DecodeError."""

from __future__ import annotations

import signal
from typing import Any, NoReturn

from . import _spawn, _wire
from ._errors import (
    DecodeError,
    SANDBOX_ADVICE,
    DecodeTimeout,
    ProtocolError,
    SandboxUnavailable,
    SandboxViolation,
    error_for_status,
    signal_name,
)
from ._request import Request

# A SIGKILL after at least this share of the CPU limit is RLIMIT_CPU's, not seccomp's.
# Not 1.0 and not 0.9: the kernel checks RLIMIT_CPU against tick-sampled CPU time, while
# wait4 reports the precise time; on a loaded machine a 1 s limit killed a spinning child
# that wait4 then said had used 0.895 s.
_CPU_KILL_SHARE = 0.75


def judge(outcome: _spawn.Outcome, request: Request, extractor: str) -> _wire.Answer:
    """Turns a finished run into a validated answer, or raises the matching DecodeError."""
    context: dict[str, Any] = dict(
        stderr=outcome.stderr,
        exit_status=outcome.exit_status,
        signal=outcome.signal,
        extractor=extractor,
    )

    def fail(cls: type[DecodeError], detail: str, **extra: Any) -> NoReturn:
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

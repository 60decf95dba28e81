"""Running one extraction: bounded reads, wall-clock kill, reaping, the raw outcome.

`run()` spawns one extractor process (one-shot mode). The child gets an empty
environment, cwd "/", its own session (so a kill reaches its whole process group), fd 0 =
the input, fd 1 = an answer file (AnswerFile: a size-sealed memfd, write-only for the
child), fd 2 = another (ErrorFile), and no other fd. Past the deadline the process group is SIGKILLed;
on every path the child is reaped with wait4 (for its CPU time) and every fd opened here
is closed.

`collect()` is the part both modes share: it waits for the end of the child within the
deadline (nothing else wakes it), takes the first STDERR_KEEP bytes of stderr, and the answer
from its file (the header validated before anything else is read, nothing past the
announced length accepted) and turns the raw wait status into an Outcome. What differs between one-shot and the fork server (_zygote.py) is only
how the end of the child is learnt and how it is killed: a `Child`.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import select
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Callable, Protocol

from . import _wire
from ._errors import DecodeError, ExtractorUnavailable, ProtocolError

STDERR_KEEP = 64 * 1024
_READ_CHUNK = 1 << 16
PIPE_SIZE = 1 << 20
# Extractors start with no environment at all.
_EMPTY_ENV: dict[str, str] = {}


@dataclass
class Outcome:
    """What one run produced. stdout holds at most the announced message plus one byte."""

    stdout: bytes | bytearray | memoryview
    stderr: bytes
    exit_status: int | None  # exit code when it exited normally
    signal: int | None  # terminating signal
    cpu_seconds: float  # user + system time of the child
    wall_seconds: float
    timed_out: bool  # we killed it at the wall-clock deadline
    violation: DecodeError | None  # its output broke the protocol while streaming; we killed it
    maxrss_kib: int | None = None  # the child's ru_maxrss, when known
    cancelled: bool = False  # the caller cancelled (cancel_fd became readable); we killed it


# A thread's cancellation fd (the async API's): when it becomes readable, the run in that
# thread kills its child and returns an Outcome with cancelled set.
_cancel = threading.local()


def set_cancel_fd(fd: int | None) -> None:
    """Sets (or, with None, clears) the calling thread's cancellation fd."""
    _cancel.fd = fd


# The largest message any request can legally receive (a full-size RGBA image at the
# highest pixel cap): the answer file's size when the caller names no smaller cap.
LARGEST_ANSWER = _wire.Expect(_wire.TYPE_IMAGE, max_pixels=_wire.PIXELS_MAX).max_message_bytes()
# Answers up to this size are copied out with one pread; larger ones are mapped.
_COPY_BYTES = 1 << 20
_SEALS_FIXED_SIZE = fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK


def _sized_memfd(name: str, size: int) -> int:
    """A memfd of `size` bytes that nobody can grow or shrink (its unwritten pages cost
    nothing): a write past its end fails with EPERM."""
    fd = os.memfd_create(name, os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        os.ftruncate(fd, size)
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, _SEALS_FIXED_SIZE)
    except BaseException:
        os.close(fd)
        raise
    return fd


class AnswerFile:
    """fd 1 of one extraction: an anonymous in-memory file (memfd) instead of a pipe, so
    that the pixels are written once by the extractor and mapped, not copied, here.

    Its size is fixed before the extractor runs at the largest message the request allows
    plus one byte, and sealed (F_SEAL_GROW, F_SEAL_SHRINK): a write past it fails, so an
    extractor cannot make it hold more than that, whatever it does. Unwritten pages cost
    nothing. The extractor gets a write-only descriptor of its own (reopened through
    /proc/self/fd; it cannot read the file back), whose offset we share through our copy
    of that same descriptor: the offset is the number of bytes it wrote. Nothing is read
    before the child has ended; then take() checks the header and the count before
    anything larger than the header is read or mapped (PROTOCOL.md, "fd 1")."""

    def __init__(self, max_message_bytes: int = LARGEST_ANSWER):
        self.size = max_message_bytes + 1  # one byte more shows trailing data
        self.fd = _sized_memfd("sandbox-extractor-answer", self.size)
        self.child_fd = -1
        try:
            try:
                self.child_fd = os.open(f"/proc/self/fd/{self.fd}", os.O_WRONLY | os.O_CLOEXEC)
            except OSError:
                # No /proc: the same descriptor (the child could then read back what it
                # wrote itself, and move the offset with reads, within the file's size).
                self.child_fd = os.dup(self.fd)
        except BaseException:
            self.close()
            raise

    def written(self) -> int:
        """Bytes the extractor wrote (the shared offset)."""
        return os.lseek(self.child_fd, 0, os.SEEK_CUR)

    def take(self, message_length: Callable[[bytes], int]) -> bytes | memoryview:
        """What the extractor wrote, once it has ended: exactly the message its header
        announces, or fewer bytes when it stopped short (the parser says so). Raises
        ProtocolError on a bad header (message_length) or bytes past the message."""
        n = self.written()
        if n > self.size:
            raise ProtocolError("the answer's offset is past the end of the answer file")
        if n <= _COPY_BYTES:
            data = os.pread(self.fd, n, 0)
            if n >= _wire.HEADER_BYTES:
                _check_count(n, message_length(data[: _wire.HEADER_BYTES]))
            return data
        _check_count(n, message_length(os.pread(self.fd, _wire.HEADER_BYTES, 0)))
        try:
            # Nobody may change the bytes from now on (the extractor is gone; this makes
            # it so for any straggler too), so what is parsed is what is used.
            fcntl.fcntl(self.fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE)
        except OSError:
            return os.pread(self.fd, n, 0)  # could not seal: a private copy instead
        return memoryview(mmap.mmap(self.fd, n, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ))

    def close(self) -> None:
        for fd in (self.child_fd, self.fd):
            if fd >= 0:
                os.close(fd)
        self.fd = self.child_fd = -1


class ErrorFile:
    """fd 2 of one extraction: a size-sealed memfd of STDERR_KEEP bytes. What an extractor
    writes past that fails (EPERM) instead of being drained, and nothing needs watching
    while it runs. Only trusted code writes there: setup closes fd 2 before the strict
    line. The child shares our descriptor, so its offset is the count written."""

    def __init__(self) -> None:
        self.fd = self.child_fd = _sized_memfd("sandbox-extractor-stderr", STDERR_KEEP)

    def take(self) -> bytes:
        n = os.lseek(self.fd, 0, os.SEEK_CUR)
        return os.pread(self.fd, min(n, STDERR_KEEP), 0)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
        self.fd = self.child_fd = -1


def _check_count(written: int, total: int) -> None:
    if written > total:
        raise ProtocolError(f"{written - total} trailing bytes after the answer message")


class _Stderr:
    def __init__(self, fd: int):
        self.fd = fd
        self.kept = bytearray()

    def on_readable(self) -> bool:
        chunk = os.read(self.fd, _READ_CHUNK)
        if not chunk:
            return False
        room = STDERR_KEEP - len(self.kept)
        if room > 0:
            self.kept += chunk[:room]
        return True


class Child(Protocol):
    """How collect() learns that an extraction ended, and ends it early."""

    fd: int  # polled for POLLIN; -1: collect() calls poll_exit() instead

    def on_readable(self) -> bool:
        """fd is readable: True once the child has exited (reaped or not)."""

    def poll_exit(self) -> bool:
        """Without an fd: True once the child has exited (a non-blocking check)."""

    def finish(self, kill: bool) -> tuple[int, float, int | None]:
        """Kills the child when `kill` (it may still run), waits for it, and returns its raw
        wait status (-1 when lost), CPU seconds and ru_maxrss in KiB (None if unknown).
        Never blocks without bound."""


def collect(
    answer: AnswerFile,
    stderr: ErrorFile,
    child: Child,
    *,
    start: float,
    timeout: float,
    message_length: Callable[[bytes], int],
) -> Outcome:
    """Waits until the child has exited or the deadline passes (or the thread's run is
    cancelled), finishes the child, then takes its answer and stderr from their files.
    The caller owns (and closes) both files."""
    deadline = start + timeout
    timed_out = cancelled = False
    cancel_fd: int | None = getattr(_cancel, "fd", None)
    violation: DecodeError | None = None
    exited = False
    try:
        poller = select.poll()
        if child.fd >= 0:
            poller.register(child.fd, select.POLLIN)
        if cancel_fd is not None:
            poller.register(cancel_fd, select.POLLIN)
        wait_step = 0.001
        while not exited:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            if child.fd >= 0:
                for fd, _events in poller.poll(int(remaining * 1000) + 1):
                    if fd == cancel_fd:
                        cancelled = True
                        break
                    if child.on_readable():
                        exited = True
            elif child.poll_exit():
                exited = True
            elif cancel_fd is not None and select.select([cancel_fd], [], [], 0)[0]:
                cancelled = True
            else:
                # No exit notification: poll for the exit with a growing sleep, still
                # bounded by the deadline.
                time.sleep(min(wait_step, remaining))
                wait_step = min(wait_step * 2, 0.05)
            if cancelled:
                break
    finally:
        status, cpu, maxrss = child.finish(kill=not exited)
    stdout: bytes | memoryview = b""
    try:
        stdout = answer.take(message_length)
    except ProtocolError as exc:
        violation = exc

    exit_status = sig = None
    if status == -1:
        violation = violation or ProtocolError(
            "the extractor's exit status was lost (reaped elsewhere)"
        )
    elif os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
    elif os.WIFEXITED(status):
        exit_status = os.WEXITSTATUS(status)
    return Outcome(
        stdout=stdout,
        stderr=stderr.take(),
        exit_status=exit_status,
        signal=sig,
        cpu_seconds=cpu,
        wall_seconds=time.monotonic() - start,
        timed_out=timed_out,
        violation=violation,
        maxrss_kib=maxrss,
        cancelled=cancelled,
    )


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class _Process:
    """A one-shot extractor process: exit learnt through a pidfd (or wait4 polling),
    killed with its whole process group."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.reaped = False
        self.status = 0
        self.rusage = None
        try:
            self.fd = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):
            self.fd = -1

    def on_readable(self) -> bool:
        return True  # a pidfd is readable once the process has exited

    def poll_exit(self) -> bool:
        pid, status, rusage = os.wait4(self.proc.pid, os.WNOHANG)
        if pid:
            self.reaped, self.status, self.rusage = True, status, rusage
        return bool(pid)

    def finish(self, kill: bool) -> tuple[int, float, int | None]:
        proc = self.proc
        if not self.reaped:
            # Also when it already exited: harmless (the zombie still holds the group id,
            # so the id cannot have been reused), and it ends any straggler in the group.
            _kill_group(proc.pid)
            try:
                _, self.status, self.rusage = os.wait4(proc.pid, 0)
            except ChildProcessError:
                # Someone else reaped it (SIGCHLD ignored, a waitpid(-1) elsewhere).
                self.status, self.rusage = -1, None
            self.reaped = True
        # Tell Popen the child is gone so that it never waits on a (reused) pid later.
        status = self.status
        proc.returncode = os.waitstatus_to_exitcode(status) if status != -1 else -1
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        ru = self.rusage
        if ru is None:
            return status, 0.0, None
        return status, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def run(
    executable: str,
    args: list[str],
    stdin_fd: int,
    *,
    timeout: float,
    message_length: Callable[[bytes], int],
    answer_cap: int = LARGEST_ANSWER,
) -> Outcome:
    """Runs `executable args...` with `stdin_fd` as fd 0 and collects its answer, at most
    `answer_cap` bytes (the request's largest legal message)."""
    start = time.monotonic()
    answer = AnswerFile(answer_cap)
    stderr = ErrorFile()
    try:
        try:
            proc = subprocess.Popen(
                [executable, *args],
                executable=executable,
                stdin=stdin_fd,
                stdout=answer.child_fd,
                stderr=stderr.child_fd,
                env=_EMPTY_ENV,
                cwd="/",
                close_fds=True,
                start_new_session=True,
            )
        except OSError as exc:
            raise ExtractorUnavailable(f"cannot start extractor {executable!r}: {exc}") from exc
        return collect(answer, stderr, _Process(proc), start=start, timeout=timeout,
                       message_length=message_length)  # fmt: skip
    finally:
        answer.close()
        stderr.close()

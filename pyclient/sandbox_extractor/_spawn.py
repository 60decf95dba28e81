"""Running one extraction: bounded reads, wall-clock kill, reaping, the raw outcome.

`run()` spawns one extractor process (one-shot mode). The child gets an empty
environment, cwd "/", its own session (so a kill reaches its whole process group), fd 0 =
the input, fd 1 = a pipe, fd 2 = a pipe, and no other fd. Past the deadline the process
group is SIGKILLed; on every path the child is reaped with wait4 (for its CPU time) and
every fd opened here is closed.

`collect()` is the part both modes share: it reads the answer pipe only up to the length
the validated header announces, plus one byte to catch trailing data, keeps STDERR_KEEP
bytes of stderr and drains the rest, enforces the deadline, and turns the raw wait status
into an Outcome. What differs between one-shot and the fork server (_zygote.py) is only
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


# Answers up to this size get an ordinary (zero-filled) bytearray; larger ones an anonymous
# private mapping, whose pages the kernel provides only as the pixels arrive.
_EAGER_BUFFER_BYTES = 1 << 20


def _answer_buffer(size: int) -> bytearray | mmap.mmap:
    """A writable buffer of `size` bytes that costs memory only where it is written: a
    12-byte header may announce hundreds of MiB that never come."""
    if size <= _EAGER_BUFFER_BYTES:
        return bytearray(size)
    return mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)


class _Stdout:
    """Reads the answer: the 12-byte header, then exactly what it announces, plus one."""

    def __init__(self, fd: int, message_length: Callable[[bytes], int]):
        self.fd = fd
        self.message_length = message_length
        self.header = bytearray()
        self.buf: bytearray | mmap.mmap | None = None
        self.view: memoryview | None = None
        self.filled = 0

    def on_readable(self) -> bool:
        """Reads what is there; False at EOF. Raises ProtocolError on a bad header or on
        data past the announced length."""
        if self.buf is None:
            chunk = os.read(self.fd, 12 - len(self.header))
            if not chunk:
                return False
            self.header += chunk
            if len(self.header) == 12:
                total = self.message_length(bytes(self.header))
                self.buf = _answer_buffer(total + 1)
                self.view = memoryview(self.buf)
                self.view[:12] = self.header
                self.filled = 12
            return True
        assert self.view is not None
        n = os.readv(self.fd, [self.view[self.filled :]])
        if n == 0:
            return False
        self.filled += n
        if self.filled == len(self.buf):
            raise ProtocolError("trailing bytes after the answer message")
        return True

    def data(self) -> bytes | memoryview:
        if self.buf is None:
            return bytes(self.header)
        assert self.view is not None
        return self.view[: self.filled]


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
    out_fd: int,
    err_fd: int,
    child: Child,
    *,
    start: float,
    timeout: float,
    message_length: Callable[[bytes], int],
) -> Outcome:
    """Reads the answer and stderr pipes until both end and the child has exited, or the
    deadline passes, or the answer breaks the protocol; then finishes the child. The
    caller owns (and closes) the two fds."""
    deadline = start + timeout
    timed_out = cancelled = False
    cancel_fd: int | None = getattr(_cancel, "fd", None)
    violation: DecodeError | None = None
    exited = False
    out = _Stdout(out_fd, message_length)
    err = _Stderr(err_fd)
    try:
        poller = select.poll()
        readers: dict[int, _Stdout | _Stderr] = {out.fd: out, err.fd: err}
        for fd in readers:
            poller.register(fd, select.POLLIN)
        if child.fd >= 0:
            poller.register(child.fd, select.POLLIN)
        if cancel_fd is not None:
            poller.register(cancel_fd, select.POLLIN)
        wait_step = 0.001
        while readers or not exited:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            if readers or (child.fd >= 0 and not exited):
                for fd, _events in poller.poll(int(remaining * 1000) + 1):
                    if fd == cancel_fd:
                        cancelled = True
                        break
                    if fd == child.fd:
                        if child.on_readable():
                            exited = True
                            poller.unregister(fd)
                        continue
                    reader = readers.get(fd)
                    if reader is not None and not reader.on_readable():
                        poller.unregister(fd)
                        del readers[fd]
            elif child.poll_exit():
                exited = True
            elif cancel_fd is not None and select.select([cancel_fd], [], [], 0)[0]:
                cancelled = True
            else:
                # No exit notification and both pipes closed: poll for the exit with a
                # growing sleep, still bounded by the deadline.
                time.sleep(min(wait_step, remaining))
                wait_step = min(wait_step * 2, 0.05)
            if cancelled:
                break
    except ProtocolError as exc:
        violation = exc
    finally:
        status, cpu, maxrss = child.finish(kill=not exited)

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
        stdout=out.data(),
        stderr=bytes(err.kept),
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
) -> Outcome:
    """Runs `executable args...` with `stdin_fd` as fd 0 and collects its answer."""
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            [executable, *args],
            executable=executable,
            stdin=stdin_fd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_EMPTY_ENV,
            cwd="/",
            close_fds=True,
            start_new_session=True,
            bufsize=0,
        )
    except OSError as exc:
        raise ExtractorUnavailable(f"cannot start extractor {executable!r}: {exc}") from exc
    assert proc.stdout is not None and proc.stderr is not None
    try:
        try:
            fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        except (AttributeError, OSError):
            pass
        return collect(
            proc.stdout.fileno(),
            proc.stderr.fileno(),
            _Process(proc),
            start=start,
            timeout=timeout,
            message_length=message_length,
        )
    finally:
        proc.stdout.close()
        proc.stderr.close()

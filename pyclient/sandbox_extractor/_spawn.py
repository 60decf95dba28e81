"""Running one extractor process: spawn, bounded reads, wall-clock kill, reaping.

The child gets an empty environment, cwd "/", its own session (so a kill reaches its
whole process group), fd 0 = the input, fd 1 = a pipe, fd 2 = a pipe, and no other fd.
stdout is read only up to the length its validated header announces, plus one byte to
catch trailing data; stderr keeps STDERR_KEEP bytes and drains the rest. Past the
deadline the process group is SIGKILLed. On every path the child is reaped with wait4
(for its CPU time) and every fd opened here is closed.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Callable

from ._errors import DecodeError, ExtractorUnavailable, ProtocolError

STDERR_KEEP = 64 * 1024
_READ_CHUNK = 1 << 16
_PIPE_SIZE = 1 << 20


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


class _Stdout:
    """Reads the answer: the 12-byte header, then exactly what it announces, plus one."""

    def __init__(self, fd: int, message_length: Callable[[bytes], int]):
        self.fd = fd
        self.message_length = message_length
        self.header = bytearray()
        self.buf: bytearray | None = None
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
                self.buf = bytearray(total + 1)
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


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


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
    deadline = start + timeout
    try:
        proc = subprocess.Popen(
            [executable, *args],
            executable=executable,
            stdin=stdin_fd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={},
            cwd="/",
            close_fds=True,
            start_new_session=True,
            bufsize=0,
        )
    except OSError as exc:
        raise ExtractorUnavailable(f"cannot start extractor {executable!r}: {exc}") from exc

    pidfd = -1
    reaped = False
    timed_out = False
    violation: DecodeError | None = None
    status = 0
    rusage = None
    out = _Stdout(proc.stdout.fileno(), message_length)
    err = _Stderr(proc.stderr.fileno())
    try:
        try:
            pidfd = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):
            pidfd = -1
        try:
            fcntl.fcntl(out.fd, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
        except (AttributeError, OSError):
            pass

        poller = select.poll()
        readers = {out.fd: out, err.fd: err}
        for fd in readers:
            poller.register(fd, select.POLLIN)
        exited = False
        if pidfd >= 0:
            poller.register(pidfd, select.POLLIN)
        wait_step = 0.001
        while readers or not exited:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            if readers or pidfd >= 0:
                for fd, _events in poller.poll(int(remaining * 1000) + 1):
                    if fd == pidfd:
                        exited = True
                        poller.unregister(pidfd)
                        continue
                    reader = readers.get(fd)
                    if reader is not None and not reader.on_readable():
                        poller.unregister(fd)
                        del readers[fd]
            else:
                # No pidfd and both pipes closed: poll for the exit with a growing sleep,
                # still bounded by the deadline.
                pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    reaped = exited = True
                else:
                    time.sleep(min(wait_step, remaining))
                    wait_step = min(wait_step * 2, 0.05)
    except ProtocolError as exc:
        violation = exc
    finally:
        if not reaped:
            # Harmless when it already exited (the zombie still holds the group id, so the
            # id cannot have been reused); needed on a timeout, a protocol violation, or
            # any exception raised here.
            _kill_group(proc.pid)
            try:
                _, status, rusage = os.wait4(proc.pid, 0)
            except ChildProcessError:
                # Someone else reaped it (SIGCHLD ignored, a waitpid(-1) elsewhere).
                status, rusage = -1, None
        # Tell Popen the child is gone so that it never waits on a (reused) pid later.
        proc.returncode = os.waitstatus_to_exitcode(status) if status != -1 else -1
        if pidfd >= 0:
            os.close(pidfd)
        proc.stdout.close()
        proc.stderr.close()

    exit_status = sig = None
    if status == -1:
        violation = violation or ProtocolError(
            "the extractor's exit status was lost (reaped elsewhere)"
        )
    elif os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
    elif os.WIFEXITED(status):
        exit_status = os.WEXITSTATUS(status)
    cpu = rusage.ru_utime + rusage.ru_stime if rusage is not None else 0.0
    return Outcome(
        stdout=out.data(),
        stderr=bytes(err.kept),
        exit_status=exit_status,
        signal=sig,
        cpu_seconds=cpu,
        wall_seconds=time.monotonic() - start,
        timed_out=timed_out,
        violation=violation,
    )



"""Turning what the caller passed as `stream` into the extractor's fd 0.

- A path (str or os.PathLike): opened O_RDONLY here and handed over.
- A file object on a regular file, positioned at 0: its fd is handed over as is (the
  extractor maps the whole file from offset 0, so no copy is made). If it was opened for
  writing, a read-only descriptor of the same file is handed over instead.
- Anything else readable (a file object at another position, a pipe or socket file,
  BytesIO...) and bytes-like objects: copied into a sealed memfd, an anonymous in-memory
  file, never to disk. The copy stops at max_input_bytes + 1 bytes.

The call's deadline covers the copy: a stream with a file descriptor that is not a
regular file (a pipe, a socket) is read with O_NONBLOCK set for the copy, waiting in
poll() for at most the time left, so a peer that sends a few bytes and stalls ends in
DecodeTimeout. A stream without a descriptor (BytesIO, a custom object) is asked for
data between deadline checks only: its own read() cannot be interrupted.
"""

from __future__ import annotations

import errno
import fcntl
import math
import os
import select
import stat
import time
from typing import Any, Iterable, Iterator

from ._errors import DecodeTimeout, LimitExceededError
from ._wire import Status

_CHUNK = 1 << 20


class InputFd:
    """An fd to pass as the extractor's stdin; close() releases it if we opened it."""

    def __init__(self, fd: int, owned: bool):
        self.fd = fd
        self.owned = owned

    def close(self) -> None:
        if self.owned and self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)

    def __enter__(self) -> "InputFd":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _too_big(max_input_bytes: int) -> LimitExceededError:
    return LimitExceededError(
        f"input larger than the cap of {max_input_bytes} bytes (max_input_bytes)",
        status=Status.LIMIT,
    )


def open_path(path: str | os.PathLike[str]) -> InputFd:
    """Opens a path given as `stream` (also used by the CLI, so both say the same)."""
    # O_NONBLOCK so that opening a FIFO without a writer cannot hang; cleared below so the
    # extractor's reads block normally.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            # open(2) says "No such device or address" for a Unix socket. Not a verdict on
            # any content (there is none to read): an OSError, like a missing file or a
            # directory, but one that says what the path is.
            try:
                is_socket = stat.S_ISSOCK(os.stat(path).st_mode)
            except OSError:
                is_socket = False
            if is_socket:
                raise OSError(errno.ENXIO, "Is a Unix socket, not a file to read", path) from None
        raise
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(21, "Is a directory", os.fsdecode(path))
        if stat.S_ISREG(st.st_mode):
            return InputFd(fd, owned=True)  # O_NONBLOCK changes nothing for a regular file
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return InputFd(fd, owned=True)


def _memfd_from_chunks(chunks: Iterable[Any], max_input_bytes: int) -> InputFd:
    flags = os.MFD_CLOEXEC | getattr(os, "MFD_ALLOW_SEALING", 0)
    fd = os.memfd_create("sandbox-extractor-input", flags)
    try:
        total = 0
        for chunk in chunks:
            view = memoryview(chunk).cast("B")
            total += len(view)
            if total > max_input_bytes:
                raise _too_big(max_input_bytes)
            while view:
                n = os.write(fd, view)
                view = view[n:]
        os.lseek(fd, 0, os.SEEK_SET)
        seals = (
            getattr(fcntl, "F_SEAL_SEAL", 0)
            | getattr(fcntl, "F_SEAL_SHRINK", 0)
            | getattr(fcntl, "F_SEAL_GROW", 0)
            | getattr(fcntl, "F_SEAL_WRITE", 0)
        )
        if seals and hasattr(fcntl, "F_ADD_SEALS"):
            try:
                # Sealed: nobody, the extractor included, can change the bytes any more.
                fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals)
            except OSError:
                pass
    except BaseException:
        os.close(fd)
        raise
    return InputFd(fd, owned=True)


def _timed_out(timeout: float) -> DecodeTimeout:
    return DecodeTimeout(
        f"the input stream was still being read at the wall-clock timeout of {timeout:g} s"
    )


def _stream_fd(stream: Any) -> int | None:
    """The descriptor under `stream` when reading it may block (not a regular file)."""
    try:
        fd = stream.fileno()
        return None if stat.S_ISREG(os.fstat(fd).st_mode) else fd
    except (AttributeError, OSError, ValueError):
        return None


def _read_chunks(
    stream: Any, max_input_bytes: int, deadline: float | None, timeout: float
) -> Iterator[bytes]:
    remaining = max_input_bytes + 1
    fd = _stream_fd(stream) if deadline is not None else None
    was_blocking = True
    if fd is not None:
        was_blocking = os.get_blocking(fd)
        os.set_blocking(fd, False)
    try:
        while remaining > 0:
            if deadline is not None and time.monotonic() >= deadline:
                raise _timed_out(timeout)
            try:
                chunk = stream.read(min(_CHUNK, remaining))
            except BlockingIOError:
                chunk = None
            if chunk is None:
                if fd is None or not was_blocking:
                    raise BlockingIOError("the input stream is non-blocking and has no data ready")
                # Nothing yet: wait for the peer, never past the deadline.
                assert deadline is not None  # fd is None without a deadline
                left = deadline - time.monotonic()
                if left > 0:
                    poller = select.poll()  # not select(): fds past 1023 are fine
                    poller.register(fd, select.POLLIN)
                    poller.poll(math.ceil(left * 1000))
                continue
            if isinstance(chunk, str):
                raise TypeError("the input stream is a text stream; open it in binary mode")
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk
    finally:
        if fd is not None and was_blocking:
            try:
                os.set_blocking(fd, True)
            except OSError:
                pass


def _direct_fd(stream: Any) -> InputFd | None:
    """The file object's own fd when it is a regular file positioned at 0, else None."""
    try:
        fd = stream.fileno()
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or stream.tell() != 0:
            return None
    except (AttributeError, OSError, ValueError):
        return None
    if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY:
        return InputFd(fd, owned=False)
    try:
        # Opened for writing: hand over a read-only descriptor of the same file.
        return InputFd(os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC), owned=True)
    except OSError:
        return None


def open_input(
    stream: Any, max_input_bytes: int, deadline: float | None = None, timeout: float = 0.0
) -> InputFd:
    """The extractor's fd 0 for `stream`. A stream is copied until `deadline` (a
    time.monotonic() value; None: no limit), then DecodeTimeout, `timeout` being the
    caller's figure for the message."""
    if isinstance(stream, (str, os.PathLike)):
        return open_path(stream)
    if hasattr(stream, "read"):
        direct = _direct_fd(stream)
        if direct is not None:
            return direct
        return _memfd_from_chunks(
            _read_chunks(stream, max_input_bytes, deadline, timeout), max_input_bytes
        )
    try:
        view = memoryview(stream)
    except TypeError:
        raise TypeError(
            "stream must be a path, a binary file object, a readable binary stream or a "
            f"bytes-like object, not {type(stream).__name__}"
        ) from None
    if not view.c_contiguous:
        view = memoryview(view.tobytes())
    return _memfd_from_chunks([view], max_input_bytes)

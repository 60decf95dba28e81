"""The fork-server pool: warmed-up extractor processes ("zygotes") that fork one child per
request, so repeated calls skip exec, dynamic linking and library warm-up.

Wire: PROTOCOL.md, "Fork-server requests". A zygote is started like a one-shot extractor
(empty environment, cwd "/", its own session, no fd but 0/1/2) plus one end of a
SOCK_SEQPACKET socketpair passed as `--server FD`. Per request the client sends argv and
three fds (input, the child's ends of a fresh answer file and a fresh stderr file,
_spawn.AnswerFile and ErrorFile) and collects the answer exactly as in one-shot mode
(_spawn.collect) while the zygote reports STARTED (the child's pid) and DONE (its raw
wait status, CPU time and ru_maxrss). At the wall-clock deadline the client sends KILL: the zygote, the only one that reaps the child, kills
it while its pid is still its own, so a late kill can never hit a reused pid.

The choice between one-shot and fork server is _runner.py's; this module is the pool.

Per extractor binary up to `max_servers` zygotes (default: the core count) are started
lazily, each serving one request at a time; a thread takes an idle one, starts a new one
below the cap, or waits. A zygote that died is replaced; a request it lost before forking
is retried once on a fresh one. A rebuilt binary (new inode or mtime) gets new zygotes.
Zygotes exit by themselves when this process goes away (their socket reads EOF), and a
forked copy of this process forgets (and closes) the parent's sockets.

Retirement. Every child of a zygote shares its stack canary, pointer guard, library and
heap addresses: a crash is an attacker's oracle (guess a canary byte, see whether the child
dies), and an address leaked in one answer is valid in the next request. So a zygote is
retired (closed; the next request starts a fresh one, with fresh ASLR and canary):
- at once when a child died by a signal that was not the client's own kill (the
  wall-clock timeout or a protocol violation): a crash, a seccomp kill, RLIMIT_CPU;
- after $SANDBOX_EXTRACTOR_ZYGOTE_REQUESTS requests (default 100) or
  $SANDBOX_EXTRACTOR_ZYGOTE_SECONDS seconds of age (default 60), whichever comes first;
  both are read when a zygote starts.
A retired zygote is closed without waiting (it exits when its socket closes and is reaped
on a later call, or at shutdown), and its successor is started in a background thread,
so that the request after a retirement does not wait for exec and warm-up.
"""

from __future__ import annotations

import array
import atexit
import functools
import logging
import os
import select
import signal
import socket
import struct
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Callable

from . import _spawn
from ._errors import ExtractorError, ExtractorUnavailable, printable

log = logging.getLogger("sandbox_extractor")

# ---- the wire (PROTOCOL.md "Fork-server requests"; common/sx_zygote.h) --------------------
VERSION = 1
REQUEST_MAGIC = b"SXZQ"
REPLY_MAGIC = b"SXZR"
REQUEST_HEADER_BYTES = 16
REPLY_BYTES = 40
MAX_ARGS = 64
MAX_STRINGS_BYTES = 4096
RUN_FDS = 3

REQ_RUN = 1
REQ_KILL = 2

REPLY_READY = 1
REPLY_STARTED = 2
REPLY_DONE = 3
REPLY_ERROR = 4

ERR_MALFORMED = 1
ERR_VERSION = 2
ERR_FDS = 3
ERR_BUSY = 4
ERR_FORK = 5

_REQUEST_HEADER = struct.Struct("<4sHHHHI")
_REPLY = struct.Struct("<4sHHIIIIQQ")
assert _REQUEST_HEADER.size == REQUEST_HEADER_BYTES and _REPLY.size == REPLY_BYTES

# How long a zygote may take to load and warm up its libraries.
START_TIMEOUT = 10.0
# How long after a KILL the zygote may take to report the child's end.
KILL_GRACE = 5.0

# Retirement (see the top of this file): the variables and their defaults.
ENV_MAX_REQUESTS = "SANDBOX_EXTRACTOR_ZYGOTE_REQUESTS"
ENV_MAX_SECONDS = "SANDBOX_EXTRACTOR_ZYGOTE_SECONDS"
DEFAULT_MAX_REQUESTS = 100
DEFAULT_MAX_SECONDS = 60.0


def recycling_limits() -> tuple[int, float]:
    """(requests, seconds) after which a zygote is retired, from the environment."""
    requests, seconds = DEFAULT_MAX_REQUESTS, DEFAULT_MAX_SECONDS
    text = os.environ.get(ENV_MAX_REQUESTS)
    if text:
        try:
            requests = int(text)
        except ValueError:
            requests = 0
        if requests < 1:
            raise ValueError(f"${ENV_MAX_REQUESTS} must be a whole number >= 1, got {text!r}")
    text = os.environ.get(ENV_MAX_SECONDS)
    if text:
        try:
            seconds = float(text)
        except ValueError:
            seconds = float("nan")
        if not seconds > 0 or seconds == float("inf"):
            raise ValueError(f"${ENV_MAX_SECONDS} must be a positive number, got {text!r}")
    return requests, seconds


@dataclass(frozen=True)
class Reply:
    type: int
    pid: int
    status: int  # DONE: raw wait status; ERROR: error code
    errno: int
    cpu_usec: int
    maxrss_kib: int


def encode_run(args: list[str]) -> bytes:
    return _encode_run(tuple(args))


@functools.lru_cache(maxsize=256)
def _encode_run(args: tuple[str, ...]) -> bytes:
    """The request datagram of `args`: a service repeats the same few requests, so each
    is built once."""
    strings = b"".join(os.fsencode(a) + b"\0" for a in args)
    if len(args) > MAX_ARGS or len(strings) > MAX_STRINGS_BYTES or strings.count(0) != len(args):
        raise ValueError("request arguments exceed the fork server's bounds")
    return _REQUEST_HEADER.pack(REQUEST_MAGIC, VERSION, REQ_RUN, len(args), 0, len(strings)) + strings


KILL_MESSAGE = _REQUEST_HEADER.pack(REQUEST_MAGIC, VERSION, REQ_KILL, 0, 0, 0)


def decode_reply(data: bytes) -> Reply:
    if len(data) != REPLY_BYTES:
        raise _Broken(f"fork server reply of {len(data)} bytes, expected {REPLY_BYTES}")
    magic, version, rtype, pid, status, err, _reserved, cpu, rss = _REPLY.unpack(data)
    if magic != REPLY_MAGIC or version != VERSION:
        raise _Broken("fork server reply with a bad magic or version")
    return Reply(rtype, pid, status, err, cpu, rss)


# ---- failures internal to this module --------------------------------------------------


class CannotStart(Exception):
    """The binary did not become a ready zygote (it may not support --server)."""


class _Broken(Exception):
    """The zygote said something it should not have: it is not used again."""


class _Gone(Exception):
    """The zygote's socket reached EOF: it died. `started` tells whether the request had
    already reached a child."""

    def __init__(self, started: bool):
        super().__init__("the fork server died")
        self.started = started


class _Refused(Exception):
    """The zygote answered the request with an error reply instead of forking."""

    def __init__(self, reply: Reply):
        super().__init__(f"error {reply.status} (errno {reply.errno})")
        self.reply = reply


# ---- one zygote ------------------------------------------------------------------------


class Zygote:
    """One zygote process and our end of its socket. Used by one thread at a time."""

    def __init__(self, path: str):
        self.path = path
        self.broken = False
        self.max_requests, self.max_seconds = recycling_limits()
        self.started_at = time.monotonic()
        self.served = 0
        self.retire_reason: str | None = None  # set once it must serve no more requests
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                [path, "--server", str(theirs.fileno())],
                executable=path,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=_spawn._EMPTY_ENV,
                cwd="/",
                close_fds=True,
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
                bufsize=0,
            )
        except OSError as exc:
            ours.close()
            raise ExtractorUnavailable(f"cannot start extractor {path!r}: {exc}") from exc
        finally:
            theirs.close()
        self.sock = ours
        _all_zygotes.add(self)
        try:
            self._handshake()
        except BaseException:
            self.broken = True
            self.close()
            raise
        log.info("fork server started: %s (pid %d)", os.path.basename(path), self.proc.pid)

    def _handshake(self) -> None:
        """Waits for READY, draining the zygote's stderr (kept for the error message)."""
        assert self.proc.stderr is not None
        err = _spawn._Stderr(self.proc.stderr.fileno())
        poller = select.poll()
        poller.register(self.sock.fileno(), select.POLLIN)
        poller.register(err.fd, select.POLLIN)
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CannotStart(f"not ready after {START_TIMEOUT:g} s")
                for fd, _events in poller.poll(int(remaining * 1000) + 1):
                    if fd == err.fd:
                        if not err.on_readable():
                            poller.unregister(fd)
                        continue
                    data = self.sock.recv(REPLY_BYTES + 1)
                    if not data:
                        try:
                            status = self.proc.wait(timeout=1)
                        except subprocess.TimeoutExpired:
                            status = None
                        os.set_blocking(err.fd, False)
                        try:
                            while err.on_readable():  # the rest of its last words
                                pass
                        except BlockingIOError:
                            pass
                        said = printable(err.kept.decode("utf-8", "replace").strip(), 200)
                        raise CannotStart(
                            f"exited with status {status} before it was ready"
                            + (f" ({said})" if said else "")
                        )
                    reply = decode_reply(data)
                    if reply.type != REPLY_READY:
                        raise _Broken(f"fork server said type {reply.type} before READY")
                    return
        except _Broken as exc:
            raise CannotStart(str(exc)) from None
        finally:
            # The zygote closes its stderr before READY; anything later has nowhere to go.
            if self.proc.stderr is not None:
                self.proc.stderr.close()

    def alive(self) -> bool:
        return not self.broken and self.proc.poll() is None

    def worn_out(self) -> bool:
        """True once it must be retired: a child crashed, or its requests or age are up."""
        if self.retire_reason is None:
            if self.served >= self.max_requests:
                self.retire_reason = f"served {self.served} requests"
            elif time.monotonic() - self.started_at >= self.max_seconds:
                self.retire_reason = f"older than {self.max_seconds:g} s"
        return self.retire_reason is not None

    def recv_reply(self, started: bool) -> Reply:
        try:
            data = self.sock.recv(REPLY_BYTES + 1)
        except OSError:
            data = b""
        if not data:
            self.broken = True
            raise _Gone(started)
        try:
            return decode_reply(data)
        except _Broken:
            self.broken = True
            raise

    def run(
        self,
        args: list[str],
        stdin_fd: int,
        *,
        timeout: float,
        message_length: Callable[[bytes], int],
        answer_cap: int = _spawn.LARGEST_ANSWER,
    ) -> _spawn.Outcome:
        """One extraction through this zygote. Raises _Gone, _Refused or _Broken when the
        zygote failed (never for anything the child did)."""
        start = time.monotonic()
        message = encode_run(args)
        answer = _spawn.AnswerFile(answer_cap)
        try:
            stderr = _spawn.ErrorFile()
        except BaseException:
            answer.close()
            raise
        try:
            try:
                self.sock.sendmsg(
                    [message],
                    [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                      array.array("i", [stdin_fd, answer.child_fd, stderr.child_fd]))],
                    socket.MSG_NOSIGNAL,
                )  # fmt: skip
            except OSError:
                self.broken = True
                raise _Gone(started=False) from None
            child = _ServerChild(self)
            outcome = _spawn.collect(
                answer,
                stderr,
                child,
                start=start,
                timeout=timeout,
                message_length=message_length,
            )
            self.served += 1
            sig = outcome.signal
            if sig is not None and not (child.sent_kill and sig == signal.SIGKILL):
                # Not our kill: a crash or a sandbox kill, maybe one guess of a canary.
                self.retire_reason = f"a child died by signal {sig}"
            return outcome
        finally:
            answer.close()
            stderr.close()

    def kill(self) -> None:
        """SIGKILLs the zygote's whole process group (its running child dies with it).
        Safe against pid reuse: the zygote is our child and not yet reaped."""
        if self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def close(self) -> None:
        """Ends the zygote and reaps it: closing the socket makes an idle one exit at once."""
        _all_zygotes.discard(self)
        if self.broken:
            self.kill()
        if self.sock is not None:
            self.sock.close()
            self.sock = None  # type: ignore[assignment]
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait()

    def close_later(self) -> None:
        """Retires an idle, healthy zygote without waiting for it: closing the socket makes
        it exit at once, and _reap_retired() collects it on a later call."""
        _all_zygotes.discard(self)
        if self.sock is not None:
            self.sock.close()
            self.sock = None  # type: ignore[assignment]
        with _retired_lock:
            _retired.append(self.proc)

    def forget(self) -> None:
        """In a forked copy of this process: drop our socket without touching the zygote."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None  # type: ignore[assignment]
        self.proc.returncode = 0  # not our child here: never wait for it


class _ServerChild:
    """_spawn.Child for a request in flight: the end comes as a DONE reply on the socket,
    and a kill is a KILL request the zygote carries out."""

    def __init__(self, zygote: Zygote):
        self.zygote = zygote
        self.fd = zygote.sock.fileno()
        self.pid: int | None = None
        self.done: Reply | None = None
        self.refused = False
        self.sent_kill = False

    def on_readable(self) -> bool:
        reply = self.zygote.recv_reply(started=self.pid is not None)
        if reply.type == REPLY_STARTED and self.pid is None:
            self.pid = reply.pid
            return False
        if reply.type == REPLY_DONE and self.pid is not None and reply.pid == self.pid:
            self.done = reply
            return True
        if reply.type == REPLY_ERROR and self.pid is None:
            self.refused = True
            if reply.status != ERR_FORK:  # we sent something it could not read: our bug
                self.zygote.broken = True
            raise _Refused(reply)
        self.zygote.broken = True
        raise _Broken(f"unexpected fork server reply type {reply.type}")

    def poll_exit(self) -> bool:
        return False  # fd is always valid

    def finish(self, kill: bool) -> tuple[int, float, int | None]:
        zygote = self.zygote
        if self.done is None and not self.refused and not zygote.broken:
            try:
                if kill:
                    self.sent_kill = True
                    zygote.sock.send(KILL_MESSAGE, socket.MSG_NOSIGNAL)
                self._wait_done(time.monotonic() + KILL_GRACE)
            except (OSError, _Gone, _Broken):
                zygote.broken = True
            except BaseException:  # interrupted: the child's fate is unknown
                zygote.broken = True
                zygote.kill()
                raise
        if self.done is None:
            if not self.refused:
                # The child's end is unknown: the zygote is not trusted with another request,
                # and killing its group ends the child too.
                zygote.broken = True
                zygote.kill()
            return -1, 0.0, None
        done = self.done
        return done.status, done.cpu_usec / 1e6, done.maxrss_kib

    def _wait_done(self, deadline: float) -> None:
        sock = self.zygote.sock
        while self.done is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            ready, _, _ = select.select([sock], [], [], remaining)
            if ready:
                self.on_readable()


# ---- the pool --------------------------------------------------------------------------


class _Family:
    """The zygotes of one extractor binary (one version of it)."""

    def __init__(self, path: str, ident: tuple):
        self.path = path
        self.ident = ident
        self.cond = threading.Condition()
        self.idle: list[Zygote] = []
        self.count = 0  # started or starting, idle or busy
        self.calls = 0
        self.cannot_serve: str | None = None
        self.retired = False
        self.spares: list[threading.Thread] = []  # threads starting a successor
        self.starting = 0  # successors being started (counted in `count`)

    def note_call(self) -> bool:
        """Counts a call to this binary; True for the first one in this process."""
        with self.cond:
            self.calls += 1
            return self.calls == 1

    def acquire(self) -> Zygote:
        with self.cond:
            while True:
                while self.idle:
                    zygote = self.idle.pop()
                    if zygote.alive() and not zygote.worn_out():
                        return zygote
                    self.count -= 1  # died or aged while idle: replaced below
                    if zygote.alive():
                        zygote.close_later()
                    else:
                        zygote.broken = True
                        zygote.close()
                if self.count < _max_servers and not self.starting:
                    self.count += 1
                    break
                # Full, or a successor is on its way: it is never later than one started
                # here would be.
                self.cond.wait()
        try:
            return Zygote(self.path)
        except BaseException:
            with self.cond:
                self.count -= 1
                self.cond.notify()
            raise

    def release(self, zygote: Zygote) -> None:
        _reap_retired()
        with self.cond:
            worn_out = not zygote.broken and zygote.worn_out()
            keep = not zygote.broken and not self.retired and not worn_out
            if keep:
                self.idle.append(zygote)
            else:
                self.count -= 1
            # Its successor starts now, off the request path (the next call would
            # otherwise wait for exec and warm-up).
            successor = worn_out and not self.retired and self.count < _max_servers
            if successor:
                self.count += 1
                self.starting += 1
            self.cond.notify()
        if keep:
            return
        name = os.path.basename(self.path)
        crashed = (zygote.retire_reason or "").startswith("a child died")
        if worn_out and not crashed:
            log.info("fork server recycled: %s (pid %d, %s)", name, zygote.proc.pid,
                     zygote.retire_reason)
        else:
            log.warning("fork server retired: %s (pid %d): %s", name, zygote.proc.pid,
                        zygote.retire_reason or "it died or misbehaved")
        if successor:
            log.info("fork server restarting: %s", name)
        if worn_out:
            zygote.close_later()
        else:
            zygote.close()
        if successor:
            thread = threading.Thread(target=self._start_spare, daemon=True)
            with self.cond:
                # Started before the list is pruned of finished threads: a thread not yet
                # started is not alive either, and settle() must see every one.
                thread.start()
                self.spares = [t for t in self.spares if t.is_alive()] + [thread]

    def _start_spare(self) -> None:
        """In a thread: starts a zygote for the idle list (its slot is already counted)."""
        try:
            zygote = Zygote(self.path)
        except BaseException:  # noqa: BLE001  (the next acquire starts one and reports why)
            with self.cond:
                self.count -= 1
                self.starting -= 1
                self.cond.notify_all()
            return
        with self.cond:
            self.starting -= 1
            keep = not self.retired
            if keep:
                self.idle.append(zygote)
            else:
                self.count -= 1
            self.cond.notify_all()  # also those who waited for it without needing it
        if not keep:
            zygote.close()

    def retire(self) -> None:
        with self.cond:
            self.retired = True
            idle, self.idle = self.idle, []
            self.count -= len(idle)
            self.cond.notify_all()
        for zygote in idle:
            zygote.close()


_lock = threading.Lock()
_families: dict[str, _Family] = {}
_all_zygotes: set[Zygote] = set()
# Retired zygotes whose exit has not been collected yet (Popen objects).
_retired: list[subprocess.Popen] = []
_retired_lock = threading.Lock()


def _reap_retired(wait: float = 0.0) -> None:
    """Collects retired zygotes that have exited; with `wait`, waits that long for each,
    then kills and reaps what is left (at shutdown)."""
    with _retired_lock:
        procs, _retired[:] = list(_retired), []
    left = []
    for proc in procs:
        if wait:
            try:
                proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                proc.wait()
        elif proc.poll() is None:
            left.append(proc)
    if left:
        with _retired_lock:
            _retired.extend(left)


_max_servers = max(os.cpu_count() or 1, 1)
# Extractions that went through a zygote in this process (for tests and curiosity).
requests_served = 0


def set_max_servers(n: int) -> int:
    """Sets the cap on zygotes per extractor binary (the CLI: its worker count); returns
    the previous cap."""
    global _max_servers
    if n < 1:
        raise ValueError("max_servers must be at least 1")
    previous, _max_servers = _max_servers, n
    return previous


def pool(path: str) -> _Family:
    """The zygotes of extractor `path` (a new pool when the binary was rebuilt)."""
    st = os.stat(path)
    ident = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
    old = None
    with _lock:
        family = _families.get(path)
        if family is None or family.ident != ident:
            old = family
            family = _families[path] = _Family(path, ident)
    if old is not None:
        old.retire()
    return family


def serve(
    family: _Family,
    args: list[str],
    stdin_fd: int,
    *,
    timeout: float,
    message_length: Callable[[bytes], int],
    answer_cap: int = _spawn.LARGEST_ANSWER,
) -> _spawn.Outcome:
    """One extraction through a zygote of `family`. CannotStart (also remembered in
    family.cannot_serve) when the binary cannot serve; ExtractorError when a server breaks
    during the request. A request lost before any fork is tried once more on a fresh one."""
    global requests_served
    for _attempt in range(2):
        try:
            zygote = family.acquire()
        except CannotStart as exc:
            family.cannot_serve = str(exc)
            raise
        try:
            outcome = zygote.run(args, stdin_fd, timeout=timeout, message_length=message_length,
                                 answer_cap=answer_cap)
            requests_served += 1
            return outcome
        except _Gone as exc:
            if exc.started:
                raise ExtractorError(
                    "the fork server died during the extraction", extractor=family.path
                ) from None
            # It died before forking: nothing ran. Once more, on a fresh zygote.
        except _Refused as exc:
            raise ExtractorError(
                f"the fork server could not start the extraction: {exc}", extractor=family.path
            ) from None
        except _Broken as exc:
            raise ExtractorError(
                f"the fork server misbehaved: {exc}", extractor=family.path
            ) from None
        finally:
            family.release(zygote)
    raise ExtractorError("the fork server died twice before forking", extractor=family.path)


def settle() -> None:
    """Waits for the background work of retirement: successors being started, retired
    zygotes not yet reaped. Afterwards every process and fd of the pool is a live zygote
    and its socket (for tests that count them; calls never need it)."""
    with _lock:
        families = list(_families.values())
    for family in families:
        with family.cond:
            spares = list(family.spares)
        for thread in spares:
            thread.join(START_TIMEOUT + 5)
    _reap_retired(wait=2.0)


def shutdown() -> None:
    """Ends every zygote of this process and reaps it (they also end by themselves when
    the process exits). The pool starts new ones on the next call."""
    with _lock:
        families = list(_families.values())
        _families.clear()
    for family in families:
        family.retire()
        # A successor being started sees the family retired and closes itself: wait for it,
        # so that nothing is left running when this returns.
        with family.cond:
            spares = list(family.spares)
        for thread in spares:
            thread.join(START_TIMEOUT + 5)
    _reap_retired(wait=2.0)


def _after_fork_in_child() -> None:
    global _lock, _families, _all_zygotes, _retired, _retired_lock
    for proc in _retired:
        proc.returncode = 0  # not our child here: never wait for it
    _retired = []
    _retired_lock = threading.Lock()
    for zygote in list(_all_zygotes):
        try:
            zygote.forget()
        except OSError:
            pass
    _lock = threading.Lock()
    _families = {}
    _all_zygotes = set()


atexit.register(shutdown)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

"""What the child inherits, and what a long run leaves behind: no zombie, no leaked fd,
in both execution modes. In server mode the pool's own zygotes and sockets are the only
things allowed to outlive a call, and they go too when the pool is shut down."""

import concurrent.futures
import io
import os

import pytest

from sandbox_extractor import DecodeError, STREAM_IMAGE, _request, _runner, load_image, probe_format
from sandbox_extractor import _spawn, _zygote

from sxtest_paths import FIXTURES


def selftest(word: bytes, mode: str = "probe", **kw):
    kw.setdefault("timeout", 10)
    return _runner.run_extractor("sx-selftest", _request.make_request(mode, **kw), word)


def open_fds() -> set[int]:
    """The fds open now. The listing's own directory fd (closed once listdir returns) is
    left out: it takes the lowest free number, which moves as the pool's sockets do."""
    fds = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            os.fstat(int(name))
        except OSError:
            continue
        fds.add(int(name))
    return fds


def child_pids() -> list[int]:
    """Processes whose parent is this one (zombies included)."""
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            found.append(int(entry))
    return found


def assert_no_children() -> None:
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)
    assert child_pids() == []


def pool_fds_and_pids() -> tuple[set[int], set[int]]:
    zygotes = list(_zygote._all_zygotes)
    return {z.sock.fileno() for z in zygotes}, {z.proc.pid for z in zygotes}


def assert_only_the_pool_remains(before: set[int]) -> None:
    """Beyond the fds in `before`, only the zygotes' sockets are open; the only children
    are live zygotes (no zombie, no stray extraction); then shut down, nothing at all.
    Retirement works in the background (a successor starting, a retired zygote not yet
    reaped): settle() waits for it first."""
    _zygote.settle()
    sockets, pids = pool_fds_and_pids()
    assert open_fds() == before | sockets
    for pid in child_pids():
        assert pid in pids, f"child {pid} is not a zygote"
        with open(f"/proc/{pid}/stat") as f:
            assert f.read().rsplit(")", 1)[1].split()[0] != "Z", f"zygote {pid} is a zombie"
    # A zygote's own children (the extractions) are all gone once each call returned.
    for zygote_pid in pids:
        with open(f"/proc/{zygote_pid}/task/{zygote_pid}/children") as f:
            assert f.read().split() == [], f"zygote {zygote_pid} still has a child"
    _zygote.shutdown()
    assert open_fds() == before
    assert_no_children()


def test_child_sees_no_environment_and_no_extra_fd(execution, monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    read_end, write_end = os.pipe()
    os.set_inheritable(read_end, True)
    os.set_inheritable(write_end, True)
    try:
        fields = selftest(b"env").fields
    finally:
        os.close(read_end)
        os.close(write_end)
    assert fields["env_count"] == 0
    assert fields["fds_at_start"] == "0,1,2"


def test_stderr_flood_is_bounded(extractors):
    request = _request.make_request("probe", timeout=10)
    path = str(extractors / "sx-selftest")
    fd = os.memfd_create("word")
    try:
        os.write(fd, b"stderr-flood")
        os.lseek(fd, 0, os.SEEK_SET)
        outcome = _spawn.run(path, request.argv(), fd, timeout=10,
                             message_length=lambda h: 12 + 65536)
    finally:
        os.close(fd)
    assert outcome.exit_status == 0
    assert len(outcome.stderr) == _spawn.STDERR_KEEP  # 1 MiB written, 64 KiB kept


WORDS = [b"ok-meta", b"garbage", b"trailing", b"open", b"truncated", b"wrong-exit", b"segv",
         b"ok-meta", b"no-such-word", b"stderr-flood"]


def test_a_thousand_calls_leave_no_zombie_and_no_fd(execution):
    photo = FIXTURES / "good" / "jpeg_17x9.jpg"
    data = photo.read_bytes()
    assert_no_children()
    before = open_fds()
    outcomes = {"ok": 0, "error": 0}
    for i in range(1000):
        which = i % 20
        try:
            if which == 0:
                probe_format(STREAM_IMAGE, str(photo))
            elif which == 1:
                with open(photo, "rb") as f:
                    load_image(STREAM_IMAGE, f, size=8)
            elif which == 2:
                load_image(STREAM_IMAGE, io.BytesIO(data), size=8)
            elif which == 3:
                probe_format(STREAM_IMAGE, data[:100])
            else:
                selftest(WORDS[i % len(WORDS)])
            outcomes["ok"] += 1
        except DecodeError:
            outcomes["error"] += 1
    assert outcomes["ok"] > 100 and outcomes["error"] > 100
    assert_only_the_pool_remains(before)


def test_parallel_calls_leave_no_zombie_and_no_fd(execution):
    before = open_fds()

    def one(i):
        try:
            return selftest(WORDS[i % len(WORDS)]).fields["format"]
        except DecodeError as exc:
            return exc.kind

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(400)))
    assert results.count("selftest") == 400 * 3 // len(WORDS)
    assert_only_the_pool_remains(before)

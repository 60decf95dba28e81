"""The findings of the adversarial review (issue 12), each kept as a test that drives the real
client against a real extractor (sx-selftest where the child must misbehave).

1 forged CLI records, 2 zygote retirement, 3 the stack past the pool, 4 symlinks out of the
source tree, 5 deep trees, 6 the deadline covers copying a stream, 7 no memory committed
for an announced image, 8 names near NAME_MAX, 10 a Unix socket path. (9, pipe input in
the extractors, is tests/extractors/test_input_pipe.py.)"""

import errno
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

import sandbox_extractor as sx
from sandbox_extractor import DecodeTimeout, SandboxViolation, _input, _judge, _locate, _request, _runner, _wire, _zygote, cli
from sxtest_paths import FIXTURES

# Spelled out (not _zygote's constants), so that these tests run, and fail on their
# assertions, against a client that predates retirement.
MAX_REQUESTS = "SANDBOX_EXTRACTOR_ZYGOTE_REQUESTS"
MAX_SECONDS = "SANDBOX_EXTRACTOR_ZYGOTE_SECONDS"

PHOTO = FIXTURES / "good" / "jpeg_17x9.jpg"
OTHER = FIXTURES / "good" / "png_rgba8.png"


def selftest(word: bytes, mode="probe", **kw):
    kw.setdefault("timeout", 10)
    return _runner.run_extractor("sx-selftest", _request.make_request(mode, **kw), word)


def zygote_pids() -> set[int]:
    return {z.proc.pid for z in _zygote._all_zygotes}


# ---- 1. a compromised extractor cannot forge the CLI's records ---------------------------


@pytest.fixture
def selftest_as_lua(bin_dir, tmp_path, monkeypatch):
    """A bin dir whose sx-lua is sx-selftest: the CLI then runs the misbehaving child."""
    fake = tmp_path / "bin"
    fake.mkdir()
    shutil.copy(bin_dir / "sx-selftest", fake / "sx-lua")
    monkeypatch.setenv("SANDBOX_EXTRACTOR_BIN_DIR", str(fake))
    monkeypatch.setenv(_runner.ENV_MODE, "oneshot")
    yield fake
    _zygote.shutdown()


def test_probe_record_keys_cannot_be_forged(selftest_as_lua, tmp_path, capsys):
    upload = tmp_path / "upload.lua"
    upload.write_bytes(b"forge-meta")
    assert cli.main(["probe", "--kind", "lua", str(upload)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    # The record's own keys are the client's; whatever the extractor said is nested.
    assert set(record) == {"file", "metadata"}
    assert record["file"] == str(upload)
    assert record["metadata"]["file"] == "/forged/another-upload.jpg"
    assert record["metadata"]["error"] == "bad_input"
    assert record["metadata"]["metadata"] == "forged"


# ---- 2. the fork server is not a brute-force oracle ------------------------------------


@pytest.fixture
def server(extractors, monkeypatch):
    monkeypatch.setenv(_runner.ENV_MODE, "server")
    monkeypatch.delenv(MAX_REQUESTS, raising=False)
    monkeypatch.delenv(MAX_SECONDS, raising=False)
    _zygote.shutdown()
    yield
    _zygote.shutdown()


def served_by(monkeypatch) -> list[int]:
    """The pid of the zygote behind each request from now on."""
    pids = []
    real_run = _zygote.Zygote.run

    def run(self, *args, **kw):
        pids.append(self.proc.pid)
        return real_run(self, *args, **kw)

    monkeypatch.setattr(_zygote.Zygote, "run", run)
    return pids


@pytest.mark.parametrize("word, sig", [(b"segv", signal.SIGSEGV), (b"open", signal.SIGKILL)])
def test_a_zygote_whose_child_died_by_a_signal_is_retired(server, monkeypatch, word, sig):
    pids = served_by(monkeypatch)
    selftest(b"ok-meta")
    with pytest.raises(SandboxViolation) as info:
        selftest(word)
    assert info.value.signal == sig
    assert pids[0] not in zygote_pids()  # retired as soon as the request ended
    assert selftest(b"ok-meta").fields["format"] == "selftest"
    # The crashed child's zygote (its canary and layout) served it; never again after.
    assert pids[0] == pids[1] != pids[2]


def test_the_clients_own_kill_does_not_retire_the_zygote(server, monkeypatch):
    pids = served_by(monkeypatch)
    selftest(b"ok-meta")
    with pytest.raises(DecodeTimeout, match="wall-clock"):
        selftest(b"spin", timeout=0.3, cpu_seconds=5)
    selftest(b"ok-meta")
    assert pids[0] == pids[1] == pids[2] and zygote_pids() == {pids[0]}


def test_a_zygote_is_retired_after_its_request_budget(server, monkeypatch):
    monkeypatch.setenv(MAX_REQUESTS, "3")
    pids = served_by(monkeypatch)
    for _ in range(7):
        selftest(b"ok-meta")
    # Three requests per zygote, each a different process.
    assert pids[0] == pids[1] == pids[2] != pids[3] == pids[4] == pids[5] != pids[6]
    assert len(set(pids)) == 3


def test_a_zygote_is_retired_after_its_age(server, monkeypatch):
    monkeypatch.setenv(MAX_SECONDS, "0.3")
    pids = served_by(monkeypatch)
    selftest(b"ok-meta")
    selftest(b"ok-meta")
    time.sleep(0.4)
    selftest(b"ok-meta")
    assert pids[0] == pids[1] != pids[2]
    assert pids[0] not in zygote_pids()


def test_children_of_one_zygote_get_fresh_stack_canaries(server, monkeypatch):
    pids = served_by(monkeypatch)
    canaries = [selftest(b"canary").fields["canary"] for _ in range(4)]
    assert len(set(pids)) == 1  # one zygote forked all four
    assert len(set(canaries)) == 4, canaries
    assert all(c.endswith("00") and c != "0" * 16 for c in canaries)


def test_the_defaults_are_bounded_and_bad_settings_are_refused(server, monkeypatch):
    requests, seconds = _zygote.recycling_limits()
    assert 1 <= requests <= 1000 and 0 < seconds <= 600
    monkeypatch.setenv(MAX_REQUESTS, "0")
    with pytest.raises(ValueError, match=MAX_REQUESTS):
        selftest(b"ok-meta")


# ---- 3. the stack cannot grow past the pool ------------------------------------------


@pytest.fixture
def unlimited_stack():
    """The service's RLIMIT_STACK is unlimited (inherited by the extractors it starts)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    try:
        resource.setrlimit(resource.RLIMIT_STACK, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    except (ValueError, OSError):  # a finite hard limit, and not root
        pytest.skip("cannot make RLIMIT_STACK unlimited here to model the service")
    yield
    resource.setrlimit(resource.RLIMIT_STACK, (soft, hard))


@pytest.mark.parametrize("mode", ["oneshot", "server"])
def test_the_stack_is_bounded_whatever_the_parent_allowed(extractors, unlimited_stack, mode):
    _zygote.shutdown()  # a zygote started now inherits the unlimited stack
    request = _request.make_request("probe", memory=16 << 20, timeout=10)

    def run(word: bytes):
        with _input.open_input(word, request.max_input_bytes) as source:
            return _runner.run(
                _locate.find_extractor("sx-selftest"), request.argv(), source.fd,
                timeout=request.timeout, execution=mode,
                message_length=lambda h: _wire.message_length(h, request.expect()),
            )  # fmt: skip

    baseline = run(b"ok-meta")
    assert baseline.exit_status == 0 and baseline.maxrss_kib
    outcome = run(b"stack-grow")
    # Killed long before 600 MiB: its peak RSS is that of a well-behaved child (ru_maxrss
    # also counts what a one-shot child held before exec: a copy of this process).
    assert outcome.signal == signal.SIGSEGV, outcome
    grown = outcome.maxrss_kib - baseline.maxrss_kib
    assert grown < 32 * 1024, f"peak RSS {grown >> 10} MiB above a well-behaved child's"
    with pytest.raises(SandboxViolation, match="SIGSEGV"):
        _judge.judge(outcome, request, "sx-selftest")


# ---- 4. symlinks out of the source tree ---------------------------------------------


@pytest.fixture
def tree_with_links(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    shutil.copy(PHOTO, src / "inside.jpg")
    os.symlink(src / "inside.jpg", src / "sub" / "link-inside.jpg")  # stays in the tree
    outside = tmp_path / "elsewhere" / "secret.png"
    outside.parent.mkdir()
    shutil.copy(OTHER, outside)
    os.symlink(outside, src / "sub" / "link-out.png")
    return src


def test_a_symlink_out_of_the_tree_is_skipped_and_reported(
    extractors, tree_with_links, tmp_path, capsys
):
    out = tmp_path / "out"
    assert cli.main(["thumbnail", str(tree_with_links), "-o", str(out), "-j", "2"]) == 1
    captured = capsys.readouterr()
    assert (out / "inside.png").is_file() and (out / "sub" / "link-inside.png").is_file()
    assert not (out / "sub" / "link-out.png").exists()
    (line,) = [x for x in captured.err.splitlines() if x.startswith("FAILED")]
    assert "link-out.png" in line and "outside_source" in line and "--follow-symlinks" in line
    assert "2 done, 1 failed (outside_source: 1)" in captured.out


def test_follow_symlinks_restores_the_old_behaviour(extractors, tree_with_links, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["thumbnail", str(tree_with_links), "-o", str(out), "--follow-symlinks"]
    assert cli.main(args) == 0
    assert (out / "sub" / "link-out.png").is_file()
    assert "3 done, 0 failed" in capsys.readouterr().out


# ---- 5. one deep tree does not stop the batch ---------------------------------------


def test_a_deep_tree_is_walked_and_an_unlistable_branch_reported(extractors, tmp_path, capsys):
    src = tmp_path / "src"
    out = tmp_path / "out"
    src.mkdir()
    shutil.copy(PHOTO, src / "top.jpg")
    try:
        # 1,100 nested directories (past Python's recursion limit), an image at the bottom.
        nest(src, "d", 1100, PHOTO.read_bytes())
        # A branch whose path outgrows PATH_MAX: it cannot be listed by name.
        nest(src, "long-name-dir", 1000)
        assert cli.main(["thumbnail", str(src), "-o", str(out), "-j", "2"]) == 1
        captured = capsys.readouterr()
        assert (out / "top.png").is_file()
        assert (out / "/".join(["d"] * 1100) / "bottom.png").is_file()
        failed = [x for x in captured.err.splitlines() if x.startswith("FAILED")]
        assert len(failed) == 1 and "long-name-dir" in failed[0] and "too long" in failed[0]
        assert "2 done, 1 failed (os_error: 1)" in captured.out
    finally:
        # shutil.rmtree (and pytest's clean-up) recurse: GNU rm does not.
        subprocess.run(["rm", "-rf", str(src), str(out)], check=True)


def nest(base, name: str, depth: int, bottom: bytes | None = None) -> None:
    """`depth` directories `name` inside each other under `base` (by descriptor, so
    neither recursion nor PATH_MAX limits it), and bottom.jpg in the last if given."""
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            nfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        if bottom is not None:
            out = os.open("bottom.jpg", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
            os.write(out, bottom)
            os.close(out)
    finally:
        os.close(fd)


# ---- 6. the deadline covers copying a stream ----------------------------------------


def stalling_peer(make_pair, release: threading.Event):
    """A reader whose peer sends 8 bytes, then stalls (for 5 s at most, or until
    `release`) before it closes."""
    ours, theirs = make_pair()

    def peer():
        theirs.send(b"\x89PNG\r\n\x1a\n")
        release.wait(5)
        theirs.close()

    thread = threading.Thread(target=peer)
    thread.start()
    return ours, thread


class _PipeEnd:
    def __init__(self, fd, write):
        self.fd, self.write = fd, write

    def send(self, data):
        os.write(self.fd, data)

    def close(self):
        os.close(self.fd)


def socket_pair():
    a, b = socket.socketpair()
    return a.makefile("rb"), b


def pipe_pair():
    r, w = os.pipe()
    return open(r, "rb"), _PipeEnd(w, True)


@pytest.mark.parametrize("make_pair", [socket_pair, pipe_pair])
def test_timeout_covers_copying_a_stalled_stream(extractors, make_pair):
    release = threading.Event()
    reader, peer = stalling_peer(make_pair, release)
    start = time.monotonic()
    try:
        with pytest.raises(DecodeTimeout, match="input stream"):
            sx.probe_format(sx.STREAM_IMAGE, reader, timeout=1)
        assert time.monotonic() - start < 2.5
        assert os.get_blocking(reader.fileno())  # the caller's fd is as it was
    finally:
        release.set()
        peer.join()
        reader.close()


def test_a_stream_that_arrives_in_time_still_works(extractors):
    r, w = os.pipe()
    data = PHOTO.read_bytes()

    def writer():
        for i in range(0, len(data), 100):
            os.write(w, data[i:i + 100])
            time.sleep(0.002)
        os.close(w)

    thread = threading.Thread(target=writer)
    thread.start()
    with open(r, "rb") as reader:
        assert sx.probe_format(sx.STREAM_IMAGE, reader, timeout=5).width == 17
    thread.join()


# ---- 7. an announced image commits no memory before its pixels arrive ----------------


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_an_announced_image_is_not_allocated_up_front(execution):
    failure = []

    def call():
        try:
            selftest(b"header-stall", "full", timeout=1.5, cpu_seconds=5)
        except DecodeTimeout as exc:
            failure.append(exc)

    base = rss_kib()
    peak = base
    thread = threading.Thread(target=call)
    thread.start()
    while thread.is_alive():
        peak = max(peak, rss_kib())
        time.sleep(0.01)
    thread.join()
    assert failure and "wall-clock" in failure[0].detail
    # The header announced 256 MiB of pixels; none came, and none was committed.
    assert peak - base < 32 * 1024, f"client RSS grew by {(peak - base) >> 10} MiB"


# ---- 8. names near NAME_MAX -------------------------------------------------------


def test_a_name_near_name_max_is_thumbnailed(extractors, tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    name = "n" * 251 + ".jpg"  # 255 bytes; its thumbnail name too
    shutil.copy(PHOTO, src / name)
    out = tmp_path / "out"
    assert cli.main(["thumbnail", str(src), "-o", str(out)]) == 0, capsys.readouterr().err
    produced = os.listdir(out)
    assert produced == ["n" * 251 + ".png"]  # and no temporary file left behind
    assert (os.stat(out / produced[0]).st_mode & 0o777) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ---- 10. a Unix socket path --------------------------------------------------------


@pytest.fixture
def unix_socket_path(tmp_path):
    path = tmp_path / "upload.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    yield path
    listener.close()


def test_a_socket_path_is_an_oserror_that_says_so(extractors, unix_socket_path):
    with pytest.raises(OSError) as info:
        sx.probe_format(sx.STREAM_IMAGE, str(unix_socket_path))
    assert not isinstance(info.value, sx.DecodeError)
    assert info.value.errno == errno.ENXIO and "socket" in info.value.strerror
    assert info.value.filename == str(unix_socket_path)


def test_the_cli_reports_a_socket_path_like_the_api(extractors, unix_socket_path, tmp_path, capsys):
    assert cli.main(["probe", str(unix_socket_path)]) == 1
    record = json.loads(capsys.readouterr().out)
    assert record["error"] == "os_error" and "socket" in record["detail"]
    assert cli.main(["thumbnail", str(unix_socket_path), "-o", str(tmp_path / "out")]) == 1
    (line,) = [x for x in capsys.readouterr().err.splitlines() if x.startswith("FAILED")]
    assert "os_error" in line and "socket" in line

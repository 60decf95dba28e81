"""The fork-server pool in the client: execution modes, restart of dead zygotes, kills that
never leave a child behind, threads, rebuilt binaries and forked clients."""

import concurrent.futures
import os
import shutil
import signal
import threading
import time

import pytest

import sandbox_extractor as sx
from sandbox_extractor import _request, _runner
from sandbox_extractor import (
    DecodeTimeout,
    ExtractorError,
    ExtractorUnavailable,
    _zygote,
)

from sxtest_paths import FIXTURES

PHOTO = str(FIXTURES / "good" / "jpeg_17x9.jpg")


def selftest(word: bytes, execution=None, mode="probe", **kw):
    kw.setdefault("timeout", 10)
    return _runner.run_extractor("sx-selftest", _request.make_request(mode, **kw), word,
                              execution=execution)


def zygote_pids() -> set[int]:
    return {z.proc.pid for z in _zygote._all_zygotes}


def children_of(pid: int) -> list[str]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return f.read().split()


def is_child(pid: int) -> bool:
    """True while `pid` is a child of this process, zombie or not."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1]) == os.getpid()
    except FileNotFoundError:
        return False


def test_auto_is_oneshot_first_then_a_zygote(extractors, monkeypatch):
    monkeypatch.setenv(_runner.ENV_MODE, "auto")
    served = _zygote.requests_served
    assert sx.probe_format(sx.STREAM_IMAGE, PHOTO).width == 17
    assert _zygote.requests_served == served and not zygote_pids()
    assert sx.probe_format(sx.STREAM_IMAGE, PHOTO).width == 17
    assert _zygote.requests_served == served + 1 and len(zygote_pids()) == 1


def test_execution_is_checked(extractors, monkeypatch):
    with pytest.raises(ValueError, match="execution"):
        sx.probe_format(sx.STREAM_IMAGE, PHOTO, execution="fast")
    monkeypatch.setenv(_runner.ENV_MODE, "fast")
    with pytest.raises(ValueError, match="SANDBOX_EXTRACTOR_MODE"):
        sx.probe_format(sx.STREAM_IMAGE, PHOTO)
    served = _zygote.requests_served
    sx.probe_format(sx.STREAM_IMAGE, PHOTO, execution="server")  # the argument wins
    assert _zygote.requests_served == served + 1


def test_timed_out_child_never_lingers_and_the_zygote_goes_on(extractors):
    selftest(b"ok-meta", "server")
    (pid,) = zygote_pids()
    start = time.monotonic()
    with pytest.raises(DecodeTimeout, match="wall-clock"):
        selftest(b"spin", "server", timeout=0.3, cpu_seconds=5)
    assert time.monotonic() - start < 2
    assert children_of(pid) == []  # killed and reaped by the zygote before we returned
    assert selftest(b"ok-meta", "server").fields["format"] == "selftest"
    assert zygote_pids() == {pid}


def test_a_dead_zygote_is_replaced(extractors):
    selftest(b"ok-meta", "server")
    (old,) = zygote_pids()
    os.kill(old, signal.SIGKILL)
    time.sleep(0.05)
    assert selftest(b"ok-meta", "server").fields["format"] == "selftest"
    (new,) = zygote_pids()
    assert new != old and not is_child(old)  # reaped, not a zombie


def test_a_zygote_dying_mid_request_is_an_extractor_error(extractors):
    selftest(b"ok-meta", "server")
    (pid,) = zygote_pids()

    def kill_when_busy():
        for _ in range(500):
            if children_of(pid):
                os.kill(pid, signal.SIGKILL)
                return
            time.sleep(0.005)

    killer = threading.Thread(target=kill_when_busy)
    killer.start()
    with pytest.raises(ExtractorError, match="died during"):
        selftest(b"spin", "server", timeout=10, cpu_seconds=5)
    killer.join()
    assert not is_child(pid)
    assert selftest(b"ok-meta", "server").fields["format"] == "selftest"


def test_a_binary_without_server_mode(tmp_path, monkeypatch):
    fake = tmp_path / "sx-fake"
    fake.write_text(
        "#!/usr/bin/python3\nimport os, struct, sys\n"
        "if '--server' in sys.argv:\n    sys.stderr.write('no such option\\n'); sys.exit(1)\n"
        "body = struct.pack('<H', 1) + bytes([6]) + b'format' + bytes([3])"
        " + struct.pack('<H', 4) + b'fake'\n"
        "os.write(1, b'SXAN' + struct.pack('<HHI', 3, 2, len(body)) + body)\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("SANDBOX_EXTRACTOR_BIN_DIR", str(tmp_path))
    request = _request.make_request("probe", timeout=5)

    def probe(execution):
        return _runner.run_extractor("sx-fake", request, b"x", execution=execution)

    try:
        for _ in range(3):  # auto: one-shot, then a failed zygote, then one-shot for good
            assert probe("auto").fields == {"format": "fake"}
        with pytest.raises(ExtractorUnavailable, match="fork server.*no such option"):
            probe("server")
        assert not zygote_pids()
    finally:
        _zygote.shutdown()


def test_threads_share_a_capped_pool(extractors):
    previous = _zygote.set_max_servers(2)
    most = 0

    def one(i):
        nonlocal most
        most = max(most, len(_zygote._all_zygotes))
        if i % 2:
            return sx.load_image(sx.STREAM_IMAGE, PHOTO, size=8, execution="server").size
        return selftest(b"ok-meta", "server").fields["format"]

    try:
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            results = list(pool.map(one, range(120)))
    finally:
        _zygote.set_max_servers(previous)
    assert results == [(8, 4) if i % 2 else "selftest" for i in range(120)]
    assert most <= 4 and len(zygote_pids()) <= 4  # 2 per binary, 2 binaries


def test_a_rebuilt_binary_gets_new_zygotes(extractors, tmp_path, monkeypatch):
    binary = tmp_path / "sx-selftest"
    shutil.copy(extractors / "sx-selftest", binary)
    monkeypatch.setenv("SANDBOX_EXTRACTOR_BIN_DIR", str(tmp_path))
    selftest(b"ok-meta", "server")
    (old,) = zygote_pids()
    binary.unlink()
    shutil.copy(extractors / "sx-selftest", binary)  # a new inode, as a rebuild makes
    selftest(b"ok-meta", "server")
    (new,) = zygote_pids()
    assert new != old and not is_child(old)


def test_a_forked_client_starts_its_own_zygotes(extractors):
    selftest(b"ok-meta", "server")
    (pid,) = zygote_pids()
    child = os.fork()
    if child == 0:
        code = 1
        try:
            ok = selftest(b"ok-meta", "server").fields["format"] == "selftest"
            code = 0 if ok and pid not in zygote_pids() else 1
            _zygote.shutdown()
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert selftest(b"ok-meta", "server").fields["format"] == "selftest"
    assert zygote_pids() == {pid}  # the parent's zygote survived the child's exit

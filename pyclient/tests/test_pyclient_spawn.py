"""Process handling against small fake extractors (Python scripts), for the behaviours
sx-selftest cannot show: floods past the announced length, a process that keeps its
pipe open, grandchildren, slow writers. They need no C build."""

import os
import signal
import textwrap
import time

import pytest

from sandbox_extractor import _request, _runner
from sandbox_extractor import (
    DecodeTimeout,
    ExtractorUnavailable,
    ProtocolError,
    SandboxViolation,
)
from sandbox_extractor import _spawn

HEADER = "import os, struct, sys, time\nout = os.write\n"
META = (
    "def meta():\n"
    "    body = struct.pack('<H', 1) + bytes([6]) + b'format' + bytes([3])"
    " + struct.pack('<H', 4) + b'fake'\n"
    "    return b'SXAN' + struct.pack('<HHI', 3, 2, len(body)) + body\n"
)


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """Writes an executable fake extractor `sx-fake` with the given body."""
    monkeypatch.setenv("SANDBOX_EXTRACTOR_BIN_DIR", str(tmp_path))

    def make(body: str) -> str:
        path = tmp_path / "sx-fake"
        path.write_text("#!/usr/bin/python3\n" + HEADER + META + textwrap.dedent(body))
        path.chmod(0o755)
        return str(path)

    return make


def run(timeout=5.0, mode="probe", **kw):
    request = _request.make_request(mode, timeout=timeout, **kw)
    return _runner.run_extractor("sx-fake", request, b"input")


def test_fake_ok(fake):
    fake("out(1, meta())\n")
    assert run().fields == {"format": "fake"}


def test_flood_after_the_message_is_cut_at_one_byte(fake):
    fake("out(1, meta())\nwhile True:\n    out(1, b'x' * 65536)\n")
    start = time.monotonic()
    with pytest.raises(ProtocolError, match="trailing"):
        run()
    assert time.monotonic() - start < 3


def test_oversized_announcement_is_refused_on_the_header(fake):
    fake(
        "out(1, b'SXAN' + struct.pack('<HHI', 3, 3, 0xFFFFFFF0))\n"
        "while True:\n    out(1, b'\\0' * 65536)\n"
    )
    with pytest.raises(ProtocolError, match="payload length"):
        run(mode="thumbnail", size=8)


def test_slow_writer_byte_by_byte(fake):
    fake("for b in meta():\n    out(1, bytes([b]))\n    time.sleep(0.001)\n")
    assert run().fields["format"] == "fake"


def test_hang_without_output_hits_the_wall_clock(fake):
    fake("time.sleep(60)\n")
    start = time.monotonic()
    with pytest.raises(DecodeTimeout, match="wall-clock"):
        run(timeout=0.5)
    assert time.monotonic() - start < 3


def test_closed_stdout_then_hang_hits_the_wall_clock(fake):
    fake("out(1, meta())\nos.close(1)\nos.close(2)\ntime.sleep(60)\n")
    with pytest.raises(DecodeTimeout):
        run(timeout=0.5)


def test_grandchild_holding_the_answer_file_is_killed_with_the_group(fake, tmp_path):
    # fd 1 is a file, not a pipe: the answer is complete when the extractor exits, whoever
    # else still holds the descriptor; the straggler dies with the process group.
    pidfile = tmp_path / "grandchild.pid"
    fake(
        f"""
        if os.fork() == 0:
            open({str(pidfile)!r}, 'w').write(str(os.getpid()))
            time.sleep(60)
            os._exit(0)
        while not os.path.exists({str(pidfile)!r}):
            time.sleep(0.01)
        out(1, meta())
        """
    )
    assert run(timeout=5.0).fields == {"format": "fake"}
    pid = int(pidfile.read_text())
    # The grandchild was in the killed process group; it is gone (or a zombie of init).
    for _ in range(100):
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            break
        if state in ("Z", "X"):
            break
        time.sleep(0.01)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the grandchild survived the process-group kill")


def test_exit_status_without_answer(fake):
    fake("sys.stderr.write('loader: libfoo.so: not found\\n')\nos._exit(127)\n")
    with pytest.raises(ProtocolError, match="status 127") as info:
        run()
    assert b"libfoo" in info.value.stderr and "libfoo" in str(info.value)


def test_stderr_is_bounded(fake):
    # fd 2 is a file of STDERR_KEEP bytes that cannot grow: writes past it fail.
    fake(
        "refused = 0\n"
        "for _ in range(64):\n"
        "    try:\n        os.write(2, b'e' * 65536)\n"
        "    except PermissionError:\n        refused += 1\n"
        "out(1, meta())\nos._exit(0 if refused == 63 else 3)\n"
    )
    request = _request.make_request("probe", timeout=5)
    path = os.path.join(os.environ["SANDBOX_EXTRACTOR_BIN_DIR"], "sx-fake")
    with open("/dev/null", "rb") as devnull:
        outcome = _spawn.run(path, request.argv(), devnull.fileno(), timeout=5,
                             message_length=lambda h: 12 + 100)
    assert outcome.exit_status == 0 and len(outcome.stderr) == _spawn.STDERR_KEEP


def test_killed_by_other_signal(fake):
    fake("os.kill(os.getpid(), signal.SIGABRT)\n".replace("signal.", "__import__('signal')."))
    with pytest.raises(SandboxViolation, match="SIGABRT"):
        run()


def test_sees_argv_request(fake):
    fake(
        "args = sys.argv[1:]\n"
        "assert args[:3] == ['--thumbnail', '32x16', '--rgb'], args\n"
        "assert args[args.index('--cpu-seconds') + 1] == '3', args\n"
        "assert args[args.index('--memory') + 1] == str(32 << 20), args\n"
        "out(1, meta())\n"
    )
    with pytest.raises(ProtocolError, match="not a valid answer"):  # meta to an image request
        run(mode="thumbnail", size=(32, 16), image_mode="RGB", timeout=2.5, memory=32 << 20)


def test_not_executable(tmp_path, monkeypatch):
    monkeypatch.setenv("SANDBOX_EXTRACTOR_BIN_DIR", str(tmp_path))
    (tmp_path / "sx-fake").write_bytes(b"\x7fELF garbage")
    (tmp_path / "sx-fake").chmod(0o755)
    with pytest.raises(ExtractorUnavailable, match="cannot start"):
        run()

"""The answer file (issue 21, PROTOCOL.md "fd 1: a pipe or a file"): fd 1 is a size-sealed
memfd, small answers are copied out of it and large ones mapped. Forged answers are refused
on both paths and in both execution modes (sx-selftest's big-* words exceed the 1 MiB copy
threshold, its older words stay under it); an extractor cannot grow the file or read it;
the child still makes only read/write/exit after the strict line; a full-size JPEG comes
back as an RGB image sharing the mapping, pixel for pixel the same as before."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import sandbox_extractor as sx
from sandbox_extractor import ProtocolError, _api, _request, _runner, _spawn, _wire
from sxtest_paths import FIXTURES, REPO

BIG = 1024
JPEG = FIXTURES / "good" / "jpeg_1600x1200.jpg"


def selftest(word: bytes, mode: str = "full", **kw):
    kw.setdefault("timeout", 10)
    return _runner.run_extractor("sx-selftest", _request.make_request(mode, **kw), word)


def expected_pixel(x: int, y: int) -> tuple[int, ...]:
    return tuple((x + 2 * y + c) & 255 for c in range(4))


def test_a_large_answer_is_mapped_and_exact(execution):
    answer = selftest(b"big-image")
    assert isinstance(answer, _wire.ImageAnswer)
    assert (answer.width, answer.height, answer.channels) == (BIG, BIG, 4)
    # Over the copy threshold: a view of the mapped answer file, not a bytes copy.
    assert len(answer.pixels) > _spawn._COPY_BYTES
    assert not isinstance(answer.pixels.obj, bytes)
    image = _api.image_from_answer(answer)
    assert image.mode == "RGBA" and image.size == (BIG, BIG)
    for x, y in [(0, 0), (1, 0), (0, 1), (BIG - 1, BIG - 1), (517, 300), (3, BIG - 2)]:
        assert image.getpixel((x, y)) == expected_pixel(x, y)
    row = bytes(c for x in range(BIG) for c in expected_pixel(x, 777))
    assert bytes(answer.pixels[777 * BIG * 4 : 778 * BIG * 4]) == row


@pytest.mark.parametrize(
    "word, match",
    [(b"big-trailing", "5 trailing bytes"), (b"big-short", "truncated")],
)
def test_forged_large_answers_are_refused(execution, word, match):
    with pytest.raises(ProtocolError, match=match):
        selftest(word)


def test_a_large_answer_over_the_requests_cap_is_refused_on_its_header(execution):
    # 1024x1024 is a legal image, but not in a 64-pixel box: refused before any mapping.
    with pytest.raises(ProtocolError, match="payload length"):
        selftest(b"big-image", "thumbnail", size=64)


# ---- fake extractors (one-shot): what a process without the sandbox could try ----------

HEADER = "import errno, os, struct, sys\nout = os.write\n"
META = (
    "def meta():\n"
    "    body = struct.pack('<H', 1) + bytes([6]) + b'format' + bytes([3])"
    " + struct.pack('<H', 4) + b'fake'\n"
    f"    return b'SXAN' + struct.pack('<HHI', {_wire.VERSION}, 2, len(body)) + body\n"
)


@pytest.fixture
def fake(tmp_path, monkeypatch):
    monkeypatch.setenv("SANDBOX_EXTRACTOR_BIN_DIR", str(tmp_path))

    def make(body: str) -> None:
        path = tmp_path / "sx-fake"
        path.write_text("#!/usr/bin/python3\n" + HEADER + META + textwrap.dedent(body))
        path.chmod(0o755)

    return make


def run_fake(mode="probe", **kw):
    return _runner.run_extractor("sx-fake", _request.make_request(mode, timeout=5, **kw),
                                 b"input", execution="oneshot")  # fmt: skip


def test_the_answer_file_cannot_be_read_by_the_extractor(fake):
    # Its fd 1 is write-only: reading back (its own answer, or the offset) is EBADF.
    fake(
        "try:\n    os.read(1, 1)\nexcept OSError as e:\n    code = e.errno\nelse:\n    code = 0\n"
        "out(1, meta())\nos._exit(0 if code == errno.EBADF else 3)\n"
    )
    assert run_fake().fields == {"format": "fake"}


def test_the_answer_file_cannot_grow_past_the_requests_cap(fake):
    # A 64-pixel thumbnail allows 12 + 12 + 64 * 64 * 4 bytes: the file holds one byte
    # more, and every write past it fails (EPERM), whatever the extractor does.
    cap = _request.make_request("thumbnail", size=64).expect().max_message_bytes()
    fake(
        f"""
        written = 0
        while True:
            try:
                written += out(1, b'x' * 65536)
            except PermissionError:
                break
        os._exit(0 if written == {cap + 1} else 3)
        """
    )
    with pytest.raises(ProtocolError, match="bad magic"):
        run_fake("thumbnail", size=64)


def test_a_lying_header_is_refused(fake):
    # Announces 100 bytes of metadata, sends 3.
    fake(f"out(1, b'SXAN' + struct.pack('<HHI', {_wire.VERSION}, 2, 100) + b'\\1\\0\\1')\n")
    with pytest.raises(ProtocolError, match="truncated"):
        run_fake()


def test_a_message_shorter_than_its_header_is_refused(fake):
    fake("out(1, b'SXAN\\2\\0')\n")
    with pytest.raises(ProtocolError, match="shorter than the header"):
        run_fake()


def test_trailing_bytes_after_a_small_answer_are_refused(fake):
    fake("out(1, meta() + b'\\0')\n")
    with pytest.raises(ProtocolError, match="1 trailing bytes"):
        run_fake()


# ---- full-size JPEG: RGB sharing an RGBA answer -----------------------------------------


def test_full_size_jpeg_is_an_rgb_image_equal_to_the_unpacked_one(execution):
    from PIL import Image

    auto = sx.load_image(sx.STREAM_IMAGE, JPEG)
    rgb = sx.load_image(sx.STREAM_IMAGE, JPEG, mode="RGB")
    rgba = sx.load_image(sx.STREAM_IMAGE, JPEG, mode="RGBA")
    assert auto.mode == rgb.mode == "RGB" and rgba.mode == "RGBA"
    # What the extractor answers when asked for RGB (3 bytes a pixel), unpacked as before.
    answer = _runner.run_extractor("sx-image", _request.make_request("full", image_mode="RGB"),
                                   str(JPEG))  # fmt: skip
    assert answer.channels == 3
    unpacked = _api.image_from_answer(answer)
    assert auto.tobytes() == rgb.tobytes() == unpacked.tobytes() == rgba.convert("RGB").tobytes()
    # Shared, so read-only until changed: a change copies it first.
    assert auto.readonly
    auto.putpixel((0, 0), (1, 2, 3))
    assert auto.getpixel((0, 0)) == (1, 2, 3) and rgb.getpixel((0, 0)) != (1, 2, 3)
    with Image.open(JPEG) as direct:
        assert direct.size == auto.size


# ---- strace: still only read, write, exit after the line -------------------------------

_TRACED = """
import os, sys
sys.path.insert(0, {pyclient!r})
os.environ["SANDBOX_EXTRACTOR_BIN_DIR"] = {bin_dir!r}
import sandbox_extractor as sx
from sandbox_extractor import _request, _runner
for _ in range(2):  # auto: the first call one-shot, the second through a fork server
    assert sx.load_image(sx.STREAM_IMAGE, {jpeg!r}).mode == "RGB"
    answer = _runner.run_extractor("sx-selftest", _request.make_request("full"), b"big-image")
    assert answer.width == 1024
"""


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_children_writing_answer_files_only_read_write_and_exit(extractors, tmp_path):
    sys.path.insert(0, str(REPO / "tests" / "extractors"))
    from strict_trace import ALLOWED, after_the_line

    script = tmp_path / "traced.py"
    script.write_text(_TRACED.format(pyclient=str(REPO / "pyclient"), bin_dir=str(extractors),
                                     jpeg=str(JPEG)))  # fmt: skip
    trace = tmp_path / "trace"
    env = dict(os.environ, SANDBOX_EXTRACTOR_MODE="auto")
    subprocess.run(["strace", "-f", "-qq", "-o", str(trace), sys.executable, str(script)],
                   check=True, env=env, timeout=120)  # fmt: skip
    calls = after_the_line(trace.read_text())
    crossed = {pid: names for pid, names in calls.items() if names is not None}
    # sx-image's posture check (a forbidden getppid, killed there), then two one-shot
    # children and two forked ones, each crossing the line once.
    posture = [pid for pid, names in crossed.items() if names == {"getppid"}]
    assert len(posture) == 1, calls
    del crossed[posture[0]]
    assert len(crossed) == 4, calls
    for pid, names in crossed.items():
        assert "write" in names and names <= ALLOWED, (pid, names)


def test_answer_file_size_and_seals():
    import fcntl

    answer = _spawn.AnswerFile(1000)
    try:
        assert os.fstat(answer.fd).st_size == 1001
        seals = fcntl.fcntl(answer.fd, fcntl.F_GET_SEALS)
        assert seals & fcntl.F_SEAL_GROW and seals & fcntl.F_SEAL_SHRINK
        assert fcntl.fcntl(answer.child_fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY
        assert Path(f"/proc/self/fd/{answer.child_fd}").resolve() == Path(
            f"/proc/self/fd/{answer.fd}").resolve()  # fmt: skip
    finally:
        answer.close()

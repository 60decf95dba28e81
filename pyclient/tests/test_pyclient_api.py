"""The public API: input kinds, limits, argument checks, finding extractors, metadata."""

import dataclasses
import io
import os
import pathlib
import socket
import sys
import threading

import pytest

import sandbox_extractor as sx
from sandbox_extractor import _locate
from sxtest_paths import FIXTURES, REPO

PHOTO = FIXTURES / "good" / "jpeg_exif_orientation_6.jpg"  # stored 120x80, displayed 80x120
PNG = FIXTURES / "good" / "png_rgba8.png"


def test_public_names():
    assert set(sx.__all__) == {
        "probe_format", "load_image", "STREAM_IMAGE", "STREAM_VIDEO", "STREAM_FONT",
        "STREAM_LUA", "StreamKind", "Metadata", "ImageInfo", "DecodeError", "BadInputError",
        "UnsupportedFormatError", "LimitExceededError", "DecodeTimeout", "SandboxViolation",
        "ProtocolError", "ExtractorError", "SandboxUnavailable", "ExtractorUnavailable",
        "DEFAULT_MAX_PIXELS",
        "DEFAULT_MAX_INPUT_BYTES", "DEFAULT_MEMORY", "DEFAULT_TIMEOUT",
        "STREAM_AUTO", "aprobe_format", "aload_image", "load_frames", "aload_frames", "Input",
        "VideoInfo", "FontInfo",
        "LuaInfo", "SandboxNotEnforced", "__version__",
    }
    for name in ("BadInputError", "UnsupportedFormatError", "LimitExceededError",
                 "DecodeTimeout", "SandboxViolation", "ProtocolError", "ExtractorError",
                 "SandboxUnavailable"):
        assert issubclass(getattr(sx, name), sx.DecodeError)
    assert not issubclass(sx.ExtractorUnavailable, sx.DecodeError)


def _socket_stream(data: bytes):
    a, b = socket.socketpair()

    def feed():
        with b:
            b.sendall(data)

    thread = threading.Thread(target=feed)
    thread.start()
    return a, a.makefile("rb"), thread


@pytest.mark.parametrize(
    "make",
    [
        lambda: str(PHOTO),
        lambda: PHOTO,
        lambda: pathlib.PurePosixPath(PHOTO),
        lambda: PHOTO.read_bytes(),
        lambda: bytearray(PHOTO.read_bytes()),
        lambda: memoryview(PHOTO.read_bytes()),
        lambda: io.BytesIO(PHOTO.read_bytes()),
        lambda: io.BufferedReader(io.BytesIO(PHOTO.read_bytes())),
    ],
    ids=["str", "path", "purepath", "bytes", "bytearray", "memoryview", "bytesio", "buffered"],
)
def test_input_kinds(extractors, make):
    info = sx.probe_format(sx.STREAM_IMAGE, make())
    assert (info.format, info.width, info.height, info.orientation) == ("jpeg", 120, 80, 6)
    image = sx.load_image(sx.STREAM_IMAGE, make(), size=40)
    assert image.size == (27, 40)


def test_file_objects(extractors, tmp_path):
    with open(PHOTO, "rb") as f:
        assert sx.probe_format(sx.STREAM_IMAGE, f).width == 120
        assert f.tell() == 0  # handed over as is, not read
    with open(PHOTO, "rb", buffering=0) as f:
        assert sx.load_image(sx.STREAM_IMAGE, f).size == (80, 120)
    # Opened for writing too: a read-only descriptor of the same file is handed over.
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(PHOTO.read_bytes())
    with open(copy, "r+b") as f:
        assert sx.probe_format(sx.STREAM_IMAGE, f).height == 80
    # Positioned past 0: the bytes from the current position are what counts.
    padded = tmp_path / "padded.bin"
    padded.write_bytes(b"junk" * 100 + PHOTO.read_bytes())
    with open(padded, "rb") as f:
        f.seek(400)
        assert sx.probe_format(sx.STREAM_IMAGE, f).width == 120


def test_pipe_and_socket_streams(extractors):
    data = PHOTO.read_bytes()
    read_fd, write_fd = os.pipe()

    def feed():
        with open(write_fd, "wb") as w:
            w.write(data)

    thread = threading.Thread(target=feed)
    thread.start()
    with open(read_fd, "rb") as r:
        assert sx.probe_format(sx.STREAM_IMAGE, r).width == 120
    thread.join()

    sock, stream, thread = _socket_stream(data)
    with sock, stream:
        assert sx.load_image(sx.STREAM_IMAGE, stream, size=10).size == (7, 10)
    thread.join()


def test_non_contiguous_memoryview(extractors):
    data = PHOTO.read_bytes()
    doubled = bytes(b for pair in zip(data, data) for b in pair)
    view = memoryview(doubled)[::2]
    assert not view.c_contiguous
    assert sx.probe_format(sx.STREAM_IMAGE, view).width == 120


def test_bad_stream_arguments(extractors, tmp_path):
    with pytest.raises(TypeError, match="stream must be"):
        sx.probe_format(sx.STREAM_IMAGE, 12)
    with pytest.raises(TypeError, match="binary mode"):
        sx.probe_format(sx.STREAM_IMAGE, io.StringIO("text"))
    with pytest.raises(FileNotFoundError):
        sx.probe_format(sx.STREAM_IMAGE, tmp_path / "missing.jpg")
    with pytest.raises(IsADirectoryError):
        sx.probe_format(sx.STREAM_IMAGE, tmp_path)


def test_empty_input_is_bad_input(extractors):
    with pytest.raises(sx.BadInputError):
        sx.probe_format(sx.STREAM_IMAGE, b"")


def test_rgb_mode(extractors):
    rgb = sx.load_image(sx.STREAM_IMAGE, PNG, mode="RGB")
    rgba = sx.load_image(sx.STREAM_IMAGE, PNG)
    assert rgb.mode == "RGB" and rgba.mode == "RGBA" and rgb.size == rgba.size
    assert rgb.tobytes() == rgba.convert("RGB").tobytes()


def test_returned_image_is_usable_and_independent(extractors):
    image = sx.load_image(sx.STREAM_IMAGE, PNG, size=32)
    image.putpixel((0, 0), (1, 2, 3, 4))  # the shared buffer is copied on write
    assert image.getpixel((0, 0)) == (1, 2, 3, 4)
    image.save(io.BytesIO(), "PNG")


def test_limits(extractors):
    big = FIXTURES / "good" / "jpeg_1600x1200.jpg"
    with pytest.raises(sx.LimitExceededError) as info:
        sx.load_image(sx.STREAM_IMAGE, big, max_pixels=1600 * 1200 - 1)
    assert info.value.status == 3
    assert sx.load_image(sx.STREAM_IMAGE, big, max_pixels=1600 * 1200).size == (1600, 1200)
    size = big.stat().st_size
    for stream in (big, big.read_bytes(), io.BytesIO(big.read_bytes())):
        with pytest.raises(sx.LimitExceededError, match="input"):
            sx.probe_format(sx.STREAM_IMAGE, stream, max_input_bytes=size - 1)
        assert sx.probe_format(sx.STREAM_IMAGE, stream if not isinstance(stream, io.BytesIO)
                               else io.BytesIO(big.read_bytes()), max_input_bytes=size).width == 1600


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        (dict(size=0), ValueError),
        (dict(size=(10, 8193)), ValueError),
        (dict(size=(1, 2, 3)), TypeError),
        (dict(size="64"), TypeError),
        (dict(size=True), TypeError),
        (dict(mode="L"), ValueError),
        (dict(max_pixels=0), ValueError),
        (dict(max_pixels=1.5), TypeError),
        (dict(max_input_bytes=0), ValueError),
        (dict(memory=1 << 20), ValueError),
        (dict(timeout=0), ValueError),
        (dict(timeout=float("nan")), ValueError),
        (dict(timeout="1"), TypeError),
        (dict(cpu_seconds=301), ValueError),
    ],
)
def test_argument_checks(extractors, kwargs, exc):
    with pytest.raises(exc):
        sx.load_image(sx.STREAM_IMAGE, PNG, **kwargs)


def test_unknown_kind():
    with pytest.raises(ValueError, match="STREAM_IMAGE"):
        sx.probe_format("pdf", b"x")
    assert sx.StreamKind("image") is sx.STREAM_IMAGE


@pytest.mark.parametrize("kind, binary", [(sx.STREAM_VIDEO, "sx-video"),
                                          (sx.STREAM_FONT, "sx-font"),
                                          (sx.STREAM_LUA, "sx-lua")])
def test_missing_extractors_are_clear(tmp_path, monkeypatch, kind, binary):
    monkeypatch.delenv(_locate.ENV_VAR, raising=False)
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    # The checkout's build/ now has every extractor: search an empty one instead.
    monkeypatch.setattr(_locate, "_CHECKOUT_BIN", str(tmp_path / "build" / "bin"))
    with pytest.raises(sx.ExtractorUnavailable) as info:
        sx.probe_format(kind, b"data")
    message = str(info.value)
    assert binary in message and str(kind) in message and "not available" in message
    for directory in _locate.search_dirs():
        assert os.path.join(directory, binary) in message
    if kind == sx.STREAM_LUA:  # no image to ask for: refused before looking for sx-lua
        with pytest.raises(ValueError, match="probe_format"):
            sx.load_image(kind, b"data", size=64)
    else:
        with pytest.raises(sx.ExtractorUnavailable):
            sx.load_image(kind, b"data", size=64)


def test_search_order(tmp_path, monkeypatch):
    monkeypatch.delenv(_locate.ENV_VAR, raising=False)
    dirs = _locate.search_dirs()
    assert dirs[0] == str(REPO / "build" / "bin")
    assert dirs[1] == os.path.join(sys.prefix, "libexec", "sandbox-extractor")
    assert "/usr/local/libexec/sandbox-extractor" in dirs
    assert "/usr/libexec/sandbox-extractor" in dirs and len(set(dirs)) == len(dirs)
    monkeypatch.setenv(_locate.ENV_VAR, str(tmp_path))
    assert _locate.search_dirs() == [str(tmp_path)]
    with pytest.raises(sx.ExtractorUnavailable, match="only that directory") as info:
        sx.probe_format(sx.STREAM_IMAGE, b"x")
    assert str(tmp_path / "sx-image") in str(info.value)


def test_env_override_is_used(extractors, tmp_path, monkeypatch):
    (tmp_path / "sx-image").symlink_to(extractors / "sx-selftest")
    monkeypatch.setenv(_locate.ENV_VAR, str(tmp_path))
    # The selftest's metadata has no width: proves the override was run, and that an
    # answer without the image fields is refused.
    with pytest.raises(sx.ProtocolError, match="width"):
        sx.probe_format(sx.STREAM_IMAGE, b"ok-meta")


def test_metadata_is_immutable(extractors):
    info = sx.probe_format(sx.STREAM_IMAGE, PNG)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.width = 1
    with pytest.raises(TypeError):
        info.extra["x"] = 1
    assert info == sx.probe_format(sx.STREAM_IMAGE, PNG) and hash(info)
    assert info.as_dict()["format"] == "png" and info.has_alpha is True
    assert isinstance(info, sx.Metadata)


def test_results_and_errors_pickle(extractors):
    import pickle

    info = sx.probe_format(sx.STREAM_IMAGE, PHOTO)
    again = pickle.loads(pickle.dumps(info))
    assert again == info and type(again) is sx.ImageInfo and again.extra == info.extra
    with pytest.raises(TypeError):
        again.extra["x"] = 1
    with pytest.raises(sx.BadInputError) as caught:
        sx.probe_format(sx.STREAM_IMAGE, b"")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert type(copy) is sx.BadInputError
    assert (copy.status, copy.detail, copy.exit_status) == (1, caught.value.detail, 1)
    assert str(copy) == str(caught.value)

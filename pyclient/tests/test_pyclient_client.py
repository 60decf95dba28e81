"""The client a web service reaches for (issue 19): results that fit the image, typed
results for every kind, STREAM_AUTO, the async calls, the posture check, logging."""

import asyncio
import io
import logging
import os
import pickle
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image

import sandbox_extractor as sx
from sandbox_extractor import _api, _metadata, _runner, _sniff, _zygote
from sxtest_paths import FIXTURES, REPO

JPEG = FIXTURES / "good" / "jpeg_exif_orientation_6.jpg"
PNG_ALPHA = FIXTURES / "good" / "png_rgba8.png"
PNG_OPAQUE = FIXTURES / "good" / "png_rgb8.png"
VIDEO = FIXTURES / "video" / "good" / "h264_rotate_90.mp4"
MKV = FIXTURES / "video" / "good" / "hevc_gray.mkv"
FONT = FIXTURES / "fonts" / "good" / "dejavu_sans.ttf"
LUA = FIXTURES / "lua" / "good" / "hello.lua"
LUA_BAD = next(iter(sorted((FIXTURES / "lua" / "invalid").iterdir())))


# ---- results fit the image ---------------------------------------------------------------


def test_an_opaque_upload_comes_back_rgb_and_saves_as_jpeg(execution, tmp_path):
    for path in (JPEG, PNG_OPAQUE, VIDEO):
        im = sx.load_image(sx.STREAM_AUTO, path, size=64)
        assert im.mode == "RGB", path
        im.save(tmp_path / "thumb.jpg")  # the seed's example: no "cannot write mode RGBA"
    with Image.open(tmp_path / "thumb.jpg") as saved:
        assert saved.format == "JPEG"


def test_transparency_comes_back_rgba_unless_mode_says_otherwise(execution):
    im = sx.load_image(sx.STREAM_IMAGE, PNG_ALPHA)
    assert im.mode == "RGBA" and im.getchannel("A").getextrema()[0] < 255
    assert sx.load_image(sx.STREAM_FONT, FONT, size=128).mode == "RGBA"  # dark on transparent
    assert sx.load_image(sx.STREAM_IMAGE, PNG_ALPHA, mode="RGB").mode == "RGB"
    forced = sx.load_image(sx.STREAM_IMAGE, JPEG, mode="RGBA")
    assert forced.mode == "RGBA" and forced.getchannel("A").getextrema() == (255, 255)
    with pytest.raises(ValueError, match="mode"):
        sx.load_image(sx.STREAM_IMAGE, JPEG, mode="L")


# ---- typed results -----------------------------------------------------------------------


def test_every_kind_has_typed_metadata(extractors):
    image = sx.probe_format(sx.STREAM_IMAGE, JPEG)
    assert isinstance(image, sx.ImageInfo) and image.display_size == (80, 120)
    video = sx.probe_format(sx.STREAM_VIDEO, VIDEO)
    assert isinstance(video, sx.VideoInfo)
    assert (video.format, video.codec, video.width, video.height) == ("mp4", "h264", 64, 48)
    assert video.rotation == 90 and video.display_size == (48, 64)
    assert isinstance(video.duration, float) and video.extra == {}
    font = sx.probe_format(sx.STREAM_FONT, FONT)
    assert isinstance(font, sx.FontInfo)
    assert font.family_name == "DejaVu Sans" and font.covers_latin is True
    assert font.faces_list == ["DejaVu Sans Book"] and font.extra == {}
    ok = sx.probe_format(sx.STREAM_LUA, LUA)
    assert isinstance(ok, sx.LuaInfo) and ok.valid and ok.message is None and ok.line is None
    bad = sx.probe_format(sx.STREAM_LUA, LUA_BAD)
    assert not bad.valid and bad.message.startswith("input:") and isinstance(bad.line, int)
    for info in (image, video, font, ok, bad):
        assert pickle.loads(pickle.dumps(info)) == info
        assert info.as_dict()["format"] == info.format


def test_unknown_fields_are_kept_in_extra_and_wire_types_are_checked():
    info = sx.VideoInfo._from_fields(
        {"format": "webm", "width": 2, "height": 2, "codec": "vp9", "dolby_vision": "p8"}
    )
    # (A field no release sends yet: "hdr" was this example until issue 17 made it known.)
    assert info.codec == "vp9" and info.extra == {"dolby_vision": "p8"}
    assert info.as_dict()["dolby_vision"] == "p8"
    with pytest.raises(sx.ProtocolError, match="rotation"):
        sx.VideoInfo._from_fields({"format": "mp4", "width": 2, "height": 2, "rotation": 45})
    with pytest.raises(sx.ProtocolError, match="valid"):
        sx.LuaInfo._from_fields({"format": "lua", "valid": 1})
    with pytest.raises(sx.ProtocolError, match="lacks required field"):
        sx.LuaInfo._from_fields({"format": "lua"})


def test_each_field_has_a_docstring_and_the_package_is_typed():
    import inspect

    for cls in (sx.ImageInfo, sx.VideoInfo, sx.FontInfo, sx.LuaInfo):
        source = inspect.getsource(cls)
        for name in _metadata._schema_of(cls):
            if name == "format":
                continue
            assert f'    {name}:' in source and '"""' in source.split(f"    {name}:", 1)[1]
    assert (REPO / "pyclient" / "sandbox_extractor" / "py.typed").is_file()


def test_mypy_is_clean_on_the_package():
    mypy = shutil.which("mypy")
    if mypy is None:
        pytest.fail("mypy is not installed (Debian's mypy package; scripts/bootstrap.sh)")
    run = subprocess.run([mypy, "sandbox_extractor"], cwd=REPO / "pyclient",
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr


# ---- STREAM_AUTO --------------------------------------------------------------------------


@pytest.mark.parametrize("path, cls", [(JPEG, sx.ImageInfo), (VIDEO, sx.VideoInfo),
                                       (MKV, sx.VideoInfo), (FONT, sx.FontInfo),
                                       (LUA, sx.LuaInfo)])
def test_auto_picks_the_extractor_from_content(extractors, path, cls, tmp_path):
    renamed = tmp_path / "upload.bin"  # the name is never looked at
    shutil.copy(path, renamed)
    assert type(sx.probe_format(sx.STREAM_AUTO, renamed)) is cls
    assert type(sx.probe_format("auto", renamed.read_bytes())) is cls


def test_auto_reads_no_more_than_fixed_bytes_at_fixed_offsets():
    assert _sniff.SNIFF_BYTES <= 192
    assert _api.kind_for_head(b"\x47" + bytes(187) + b"\x47") == sx.STREAM_VIDEO  # MPEG-TS
    assert _api.kind_for_head(b"\0\0\0\x18ftypisom") == sx.STREAM_VIDEO
    assert _api.kind_for_head(b"wOF2") == sx.STREAM_FONT
    assert _api.kind_for_head(b"GIF87a") == sx.STREAM_IMAGE
    assert _api.kind_for_head(b"GIF89a") == sx.STREAM_IMAGE
    assert _api.kind_for_head(b"RIFF\0\0\0\0WEBPVP8 ") == sx.STREAM_IMAGE
    assert _api.kind_for_head(b"print('hi')") == sx.STREAM_LUA  # text: judged in the sandbox


def test_auto_names_what_no_extractor_reads(extractors):
    bmp = b"BM" + bytes(40)
    with pytest.raises(sx.UnsupportedFormatError, match=r"looks like BMP"):
        sx.probe_format(sx.STREAM_AUTO, bmp)
    with pytest.raises(sx.UnsupportedFormatError, match=r"looks like TIFF"):
        sx.load_image(sx.STREAM_AUTO, b"II*\0" + bytes(16), size=32)
    with pytest.raises(sx.BadInputError, match="empty"):
        sx.probe_format(sx.STREAM_AUTO, b"")
    with pytest.raises(sx.UnsupportedFormatError, match=r"not valid Lua 5\.4 source \(input:"):
        sx.probe_format(sx.STREAM_AUTO, LUA_BAD)
    with pytest.raises(sx.UnsupportedFormatError, match="probe_format"):
        sx.load_image(sx.STREAM_AUTO, LUA)


def test_the_wrong_kind_says_which_kind_reads_it(extractors):
    with pytest.raises(sx.UnsupportedFormatError) as info:
        sx.probe_format(sx.STREAM_IMAGE, MKV)
    assert "Matroska/WebM, which STREAM_VIDEO reads" in str(info.value)
    with pytest.raises(sx.UnsupportedFormatError) as info:
        sx.load_image(sx.STREAM_VIDEO, FONT, size=32)
    assert "which STREAM_FONT reads" in info.value.detail


# ---- async --------------------------------------------------------------------------------


def _children() -> set[int]:
    kids: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/children") as f:
            kids.update(int(pid) for pid in f.read().split())
    return kids


def test_async_calls_run_concurrently_without_blocking_the_loop(execution):
    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        tick = asyncio.create_task(ticker())
        files = [JPEG, PNG_ALPHA, VIDEO, FONT] * 2
        infos = await asyncio.gather(*(sx.aprobe_format(sx.STREAM_AUTO, f) for f in files))
        images = await asyncio.gather(*(sx.aload_image(sx.STREAM_AUTO, f, 32) for f in files))
        tick.cancel()
        return ticks, infos, images

    ticks, infos, images = asyncio.run(main())
    assert [type(i).__name__ for i in infos[:4]] == ["ImageInfo", "ImageInfo", "VideoInfo",
                                                     "FontInfo"]
    assert [im.mode for im in images[:4]] == ["RGB", "RGBA", "RGB", "RGBA"]
    assert ticks > 5  # the loop kept running while the extractors worked
    assert _api._get_executor()._max_workers == _zygote._max_servers  # up to the pool size


@pytest.fixture
def spinning_image(bin_dir, tmp_path, monkeypatch):
    """A bin dir whose sx-image is sx-selftest: the input b"spin" spins until killed."""
    fake = tmp_path / "bin"
    fake.mkdir()
    shutil.copy(bin_dir / "sx-selftest", fake / "sx-image")
    monkeypatch.setenv("SANDBOX_EXTRACTOR_BIN_DIR", str(fake))
    yield fake
    _zygote.shutdown()


@pytest.mark.parametrize("mode", ["oneshot", "server"])
def test_cancelling_an_async_call_kills_its_child_and_leaks_nothing(spinning_image, mode):
    _runner.check_posture(str(spinning_image / "sx-image"))  # outside the timed part
    fds_before = len(os.listdir("/proc/self/fd"))
    kids_before = _children()

    async def main():
        task = asyncio.create_task(
            sx.aprobe_format(sx.STREAM_IMAGE, b"spin", timeout=30, execution=mode)
        )
        await asyncio.sleep(0.5)
        assert _children() - kids_before, "the extractor should be running"
        start = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - start

    took = asyncio.run(main())
    assert took < 5
    leftover = _children() - kids_before
    if mode == "server":  # the zygote stays, ready for the next call; its child is gone
        assert len(leftover) <= 1
        for pid in leftover:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                assert f.read().split() == []
        _zygote.shutdown()
    assert _children() == kids_before
    assert len(os.listdir("/proc/self/fd")) == fds_before


# ---- posture -----------------------------------------------------------------------------


@pytest.fixture
def unenforced(bin_dir, tmp_path, monkeypatch):
    """Every extractor run through a wrapper that preloads a prctl() that does nothing and
    returns 0: strict mode faked off, as a broken kernel or emulator would."""
    lib = tmp_path / "fakeprctl.so"
    src = tmp_path / "fakeprctl.c"
    src.write_text("int prctl(int option, ...) { (void)option; return 0; }\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    wrappers = tmp_path / "bin"
    wrappers.mkdir()
    for name in ("sx-image", "sx-video", "sx-font", "sx-lua"):
        wrapper = wrappers / name
        wrapper.write_text(
            f'#!/bin/sh\nexec /usr/bin/env LD_PRELOAD={lib} {bin_dir / name} "$@"\n'
        )
        wrapper.chmod(0o755)
    monkeypatch.setenv("SANDBOX_EXTRACTOR_BIN_DIR", str(wrappers))
    monkeypatch.setenv(_runner.ENV_MODE, "oneshot")
    monkeypatch.delenv(_runner.ENV_ALLOW_UNENFORCED, raising=False)
    yield wrappers
    _zygote.shutdown()


def test_the_posture_check_passes_here(extractors):
    for name in ("sx-image", "sx-video", "sx-font", "sx-lua"):
        verdict, outcome = _runner.posture(str(extractors / name))
        assert verdict == "enforced", (name, outcome)


def test_the_api_refuses_a_host_that_does_not_enforce_strict_mode(unenforced, monkeypatch,
                                                                     caplog):
    verdict, _ = _runner.posture(str(unenforced / "sx-image"))
    assert verdict == "survived"
    with pytest.raises(sx.SandboxNotEnforced, match="strict mode is NOT enforced"):
        sx.probe_format(sx.STREAM_IMAGE, JPEG)
    with pytest.raises(sx.ExtractorUnavailable):  # not a DecodeError: not the file's fault
        sx.load_image(sx.STREAM_AUTO, JPEG)
    monkeypatch.setenv(_runner.ENV_ALLOW_UNENFORCED, "1")  # the explicit opt-out
    with caplog.at_level(logging.WARNING, logger="sandbox_extractor"):
        assert sx.probe_format(sx.STREAM_IMAGE, JPEG).width == 120
    assert any("not enforced" in r.getMessage() for r in caplog.records)


# ---- logging -----------------------------------------------------------------------------


def test_logging_goes_to_the_package_logger_and_nothing_is_printed(extractors, monkeypatch,
                                                                     caplog, capfd):
    monkeypatch.setenv(_runner.ENV_MODE, "server")
    with caplog.at_level(logging.DEBUG, logger="sandbox_extractor"):
        sx.probe_format(sx.STREAM_IMAGE, JPEG)
        with pytest.raises(sx.BadInputError):
            sx.probe_format(sx.STREAM_IMAGE, FIXTURES / "bad" / "empty.jpg")
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert any(lvl == "INFO" and "fork server started: sx-image" in m for lvl, m in messages)
    empty = repr(str(FIXTURES / "bad" / "empty.jpg"))
    assert any(lvl == "DEBUG" and f"rejected {empty} by sx-image: bad_input" in m
               for lvl, m in messages)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


# ---- the README's examples ----------------------------------------------------------------


def _blocks(language: str) -> list[str]:
    text = (REPO / "README.md").read_text()
    parts = text.split(f"```{language}\n")[1:]
    return [part.split("```", 1)[0] for part in parts]


def test_readme_examples_run_as_written(extractors, tmp_path, monkeypatch, capsys):
    import sys

    shutil.copy(JPEG, tmp_path / "upload.jpg")
    shutil.copy(VIDEO, tmp_path / "clip.mp4")
    shutil.copy(FIXTURES / "color" / "jpeg_p3.jpg", tmp_path / "p3.jpg")
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    for path in (JPEG, PNG_ALPHA, VIDEO, MKV, FONT, LUA):
        shutil.copy(path, uploads / path.name)
    monkeypatch.chdir(tmp_path)
    python = _blocks("python")
    assert len(python) == 2
    for block in python:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    assert "jpeg 120 80 (80, 120)" in out and "h264" in out and "UnsupportedFormatError 2" in out
    assert "'thumbnail': [80, 120]" in out  # the async handler's answer (never enlarged)
    with Image.open(tmp_path / "thumb.jpg") as im:
        assert im.format == "JPEG"
    (shell,) = _blocks("sh")
    lines = [line for line in shell.splitlines() if line.strip()]
    assert len(lines) == 5
    env = dict(os.environ, PYTHONPATH=str(REPO / "pyclient"))
    for line in lines:
        command = line.replace("sandbox-extractor", f"{sys.executable} -m sandbox_extractor", 1)
        run = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, (line, run.stdout, run.stderr)
    made = sorted(p.name for p in (tmp_path / "thumbs").iterdir())
    assert made == ["dejavu_sans.jpg", "h264_rotate_90.jpg", "hevc_gray.jpg",
                    "jpeg_exif_orientation_6.jpg", "png_rgba8.jpg"]


def test_doctor_sees_a_fork_server_child_survive_when_strict_mode_is_faked_off(unenforced):
    from sandbox_extractor import _doctor

    ok, detail = _doctor._forked_posture(str(unenforced / "sx-lua"))
    assert not ok and "SURVIVED a forbidden call" in detail

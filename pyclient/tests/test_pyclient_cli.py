"""The command line: probe and batch thumbnail on a folder of good and hostile files."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from sandbox_extractor import _runner, cli
from sxtest_paths import FIXTURES, REPO

GOOD = ["jpeg_exif_orientation_6.jpg", "png_rgba8.png", "jpeg_1600x1200.jpg", "png_gray8.png"]
BAD = {"empty.jpg": "bad_input", "svg_named.png": "unsupported",
       "png_ihdr_100000x100000.png": "limit", "png_trunc_mid_idat.png": "bad_input"}


@pytest.fixture
def mixed(tmp_path):
    """src/ with good files at the top and in a subfolder, hostile ones beside them."""
    src = tmp_path / "src"
    (src / "sub" / "deeper").mkdir(parents=True)
    for i, name in enumerate(GOOD):
        where = src if i % 2 == 0 else src / "sub"
        shutil.copy(FIXTURES / "good" / name, where / name)
    for name in BAD:
        shutil.copy(FIXTURES / "bad" / name, src / "sub" / "deeper" / name)
    os.mkfifo(src / "sub" / "a-fifo")  # skipped by the walk, never opened
    return src


def test_probe_json_lines(extractors, capsys):
    files = [str(FIXTURES / "good" / GOOD[0]), str(FIXTURES / "bad" / "empty.jpg"), "/nonexistent"]
    assert cli.main(["probe", *files]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3
    assert lines[0] == {"file": files[0], "metadata": {
        "format": "jpeg", "width": 120, "height": 80, "bit_depth": 8, "color_type": "ycbcr",
        "has_alpha": False, "progressive": False, "orientation": 6, "arithmetic": False,
        "icc": "absent", "color_source": "none"}}
    assert lines[1]["error"] == "bad_input" and lines[1]["status"] == 1 and lines[1]["detail"]
    assert lines[2]["error"] == "os_error" and lines[2]["status"] is None
    assert cli.main(["probe", files[0]]) == 0


def test_thumbnail_mixed_folder(execution, mixed, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["thumbnail", str(mixed), "-o", str(out), "--size", "64", "-j", "3"]) == 1
    captured = capsys.readouterr()
    made = sorted(str(p.relative_to(out)) for p in out.rglob("*.png"))
    assert made == sorted(
        (name if i % 2 == 0 else f"sub/{name}").rsplit(".", 1)[0] + ".png"
        for i, name in enumerate(GOOD)
    )
    for path in out.rglob("*.png"):
        with Image.open(path) as im:
            im.load()
            assert max(im.size) == 64 and im.format == "PNG"
    with Image.open(out / "jpeg_exif_orientation_6.png") as im:
        assert im.size == (43, 64) and im.mode == "RGB"  # upright; opaque saved as RGB
    with Image.open(out / "sub" / "png_rgba8.png") as im:
        assert im.mode == "RGBA"
    for name, reason in BAD.items():
        line = next(l for l in captured.err.splitlines() if name in l)
        assert line.startswith("FAILED") and f": {reason} status" in line
    summary = captured.out.strip().splitlines()[-1]
    assert summary.startswith(f"thumbnail: {len(GOOD)} done, {len(BAD)} failed")
    assert "bad_input: 2" in summary and "limit: 1" in summary and "unsupported: 1" in summary
    assert "files/s" in summary
    assert not any(p.name.startswith("a-fifo") for p in out.rglob("*"))
    assert "\r" not in captured.err  # no progress bar when stderr is not a terminal


def test_thumbnail_all_good_exits_zero_and_names_are_unique(extractors, tmp_path, capsys):
    src = tmp_path / "photos"
    src.mkdir()
    shutil.copy(FIXTURES / "good" / "png_rgb8.png", src / "a.png")
    shutil.copy(FIXTURES / "good" / "jpeg_gray.jpg", src / "a.jpg")
    # Output into the source folder itself: sources are never overwritten.
    assert cli.main(["thumbnail", str(src), "-o", str(src), "--size", "32x16", "-j", "1"]) == 0
    names = sorted(p.name for p in src.iterdir())
    assert names == ["a.jpg", "a.jpg.png", "a.png", "a.png.png"]
    assert (src / "a.png").read_bytes() == (FIXTURES / "good" / "png_rgb8.png").read_bytes()
    with Image.open(src / "a.jpg.png") as im:
        assert im.size == (24, 16)  # 320x213 fitted into 32x16
    assert "0 failed" in capsys.readouterr().out


def test_thumbnail_skips_its_output_dir_and_files_given_directly(extractors, tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(FIXTURES / "good" / "png_p8.png", src / "x.png")
    out = src / "thumbs"
    assert cli.main(["thumbnail", str(src), "-o", str(out)]) == 0
    assert cli.main(["thumbnail", str(src), "-o", str(out)]) == 0  # thumbs/ not walked again
    assert sorted(p.name for p in out.rglob("*")) == ["x.png"]
    single = FIXTURES / "good" / "jpeg_17x9.jpg"
    assert cli.main(["thumbnail", str(single), "-o", str(tmp_path / "one")]) == 0
    assert (tmp_path / "one" / "jpeg_17x9.png").is_file()
    capsys.readouterr()


def test_missing_extractor_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SANDBOX_EXTRACTOR_BIN_DIR", str(tmp_path))
    assert cli.main(["thumbnail", str(FIXTURES / "good"), "-o", str(tmp_path / "o")]) == 2
    assert "sx-image" in capsys.readouterr().err
    assert cli.main(["probe", "--kind", "video", "x.mp4"]) == 2
    assert "sx-video" in capsys.readouterr().err


def test_execution_option_and_variable(extractors, monkeypatch, capsys):
    good = str(FIXTURES / "good" / GOOD[1])
    from sandbox_extractor import _zygote
    served = _zygote.requests_served
    assert cli.main(["probe", "--execution", "server", good, good]) == 0
    assert _zygote.requests_served == served + 2
    assert cli.main(["probe", "--execution", "oneshot", good]) == 0
    assert _zygote.requests_served == served + 2
    monkeypatch.delenv(_runner.ENV_MODE)
    assert cli.main(["probe", good]) == 0  # a batch: server by default
    assert _zygote.requests_served == served + 3
    assert not _zygote._all_zygotes  # the CLI leaves no zygote behind
    monkeypatch.setenv(_runner.ENV_MODE, "fast")
    with pytest.raises(SystemExit) as info:
        cli.main(["probe", good])
    assert info.value.code == 2 and "SANDBOX_EXTRACTOR_MODE" in capsys.readouterr().err


def test_bad_options(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["thumbnail", "x", "-o", "y", "--size", "0"])
    assert info.value.code == 2
    with pytest.raises(SystemExit):
        cli.main(["thumbnail", "x", "-o", "y", "-j", "0"])
    capsys.readouterr()


def test_module_entry_point(extractors):
    env = dict(os.environ, PYTHONPATH=str(REPO / "pyclient"))
    run = subprocess.run(
        [sys.executable, "-m", "sandbox_extractor", "probe", str(FIXTURES / "good" / GOOD[1])],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["metadata"]["format"] == "png"

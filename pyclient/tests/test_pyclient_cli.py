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


# ---- mixed batches (issue 19) -------------------------------------------------------------

MIXED = {
    "photo.jpg": FIXTURES / "good" / "jpeg_exif_orientation_6.jpg",
    "logo.png": FIXTURES / "good" / "png_rgba8.png",
    "clips/phone.mp4": FIXTURES / "video" / "good" / "h264_rotate_90.mp4",
    "clips/screen.mkv": FIXTURES / "video" / "good" / "hevc_gray.mkv",
    "fonts/sans.ttf": FIXTURES / "fonts" / "good" / "dejavu_sans.ttf",
    "fonts/sans.woff2": FIXTURES / "fonts" / "good" / "dejavu_sans.woff2",
    "scripts/hello.lua": FIXTURES / "lua" / "good" / "hello.lua",
}
MIXED_BAD = {
    "scripts/broken.lua": (next(iter(sorted((FIXTURES / "lua" / "invalid").iterdir()))),
                           "invalid_lua"),
    "evil.png": (FIXTURES / "bad" / "svg_named.png", "unsupported"),
    "empty.jpg": (FIXTURES / "bad" / "empty.jpg", "bad_input"),
}


@pytest.fixture
def uploads(tmp_path):
    src = tmp_path / "uploads"
    for rel, path in {**MIXED, **{k: v[0] for k, v in MIXED_BAD.items()}}.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, src / rel)
    return src


def test_thumbnail_a_mixed_folder_in_one_run_as_jpeg(execution, uploads, tmp_path, capsys):
    out = tmp_path / "out"
    code = cli.main(["thumbnail", str(uploads), "-o", str(out), "--format", "jpeg",
                     "--quality", "80", "--size", "96"])
    captured = capsys.readouterr()
    assert code == 1  # some files were rejected
    made = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    # sans.ttf and sans.woff2 share a stem: the second gets its full name.
    assert made == ["clips/phone.jpg", "clips/screen.jpg", "fonts/sans.jpg",
                    "fonts/sans.woff2.jpg", "logo.jpg", "photo.jpg"]
    assert not any(m.startswith("scripts/") for m in made)  # Lua: checked, not thumbnailed
    for rel in made:
        with Image.open(out / rel) as im:
            assert im.format == "JPEG" and im.mode == "RGB" and max(im.size) <= 96
    with Image.open(out / "clips" / "phone.jpg") as im:
        assert im.size == (48, 64)  # the 64x48 first frame, turned upright, never enlarged
    failed = [line for line in captured.err.splitlines() if line.startswith("FAILED")]
    assert len(failed) == len(MIXED_BAD)  # one line per rejection
    for rel, (_path, reason) in MIXED_BAD.items():
        assert any(rel in line and f": {reason}" in line for line in failed), (rel, failed)
    summary = captured.out.strip().splitlines()[-1]
    assert summary.startswith("thumbnail: 6 done, 1 Lua scripts checked, 3 failed")


def test_thumbnail_json_records_and_webp(extractors, uploads, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["thumbnail", str(uploads), "-o", str(out), "--format", "webp",
                     "--json", "-j", "2"]) == 1
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    summary = records.pop()
    assert summary["summary"]["done"] == 6 and summary["summary"]["failed"] == 3
    assert summary["summary"]["lua_checked"] == 1
    assert summary["summary"]["failed_by_reason"] == {"bad_input": 1, "invalid_lua": 1,
                                                      "unsupported": 1}
    assert len(records) == 10
    outputs = [r["output"] for r in records if "output" in r]
    assert len(outputs) == 6 and all(o.endswith(".webp") for o in outputs)
    with Image.open(outputs[0]) as im:
        assert im.format == "WEBP"
    lua = [r for r in records if "metadata" in r]
    assert lua[0]["metadata"] == {"format": "lua", "valid": True}


def test_setup_errors_exit_2_without_a_traceback(extractors, tmp_path, capsys):
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x")
    assert cli.main(["thumbnail", str(FIXTURES / "good" / GOOD[0]), "-o", str(a_file)]) == 2
    err = capsys.readouterr().err
    assert "exists and is not a directory" in err and "Traceback" not in err
    assert cli.main(["thumbnail", str(FIXTURES / "good" / GOOD[0]), "-o",
                     str(a_file / "sub")]) == 2
    assert "cannot create output directory" in capsys.readouterr().err


def test_version_limits_in_kmg_and_exit_codes_in_help(extractors, tmp_path, capsys):
    from sandbox_extractor import _wire

    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"sandbox-extractor {_wire.RELEASE} (wire 3)"
    good = str(FIXTURES / "good" / GOOD[0])
    assert cli.main(["probe", "--memory", "512M", "--max-input-bytes", "1G",
                     "--max-pixels", "64k", good]) == 0
    capsys.readouterr()
    out = tmp_path / "o"
    assert cli.main(["thumbnail", "--max-pixels", "10k", good, "-o", str(out)]) == 0
    assert cli.main(["thumbnail", "--max-pixels", "9", good, "-o", str(out)]) == 1
    assert "limit status 3" in capsys.readouterr().err  # 120x80 is over 9 pixels
    with pytest.raises(SystemExit) as info:
        cli.main(["probe", "--memory", "lots", good])
    assert info.value.code == 2
    capsys.readouterr()
    for command in ([], ["probe"], ["thumbnail"]):
        with pytest.raises(SystemExit):
            cli.main([*command, "--help"])
        text = capsys.readouterr().out
        assert "0  every file succeeded" in text and "1  some files were rejected" in text
        assert "2  usage or setup error" in text


def test_probe_walks_directories_and_reads_stdin(extractors, uploads):
    env = dict(os.environ, PYTHONPATH=str(REPO / "pyclient"))
    run = subprocess.run(
        [sys.executable, "-m", "sandbox_extractor", "probe", str(uploads / "clips"), "-",
         "--json"],
        input=(FIXTURES / "fonts" / "good" / "dejavu_sans.ttf").read_bytes(),
        capture_output=True, env=env, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    records = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r.get("file") for r in records[:3]] == [
        str(uploads / "clips" / "phone.mp4"), str(uploads / "clips" / "screen.mkv"), "-"]
    assert records[0]["metadata"]["codec"] == "h264"
    assert records[2]["metadata"]["family_name"] == "DejaVu Sans"
    assert records[3]["summary"]["done"] == 3


def test_doctor_passes_here(extractors, capsys):
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and out.count("ok   sx-") == 5 * 7  # sx-image, sx-heif, sx-video, sx-font, sx-lua
    assert "killed by signal" in out and out.rstrip().endswith("every check holds")


def test_doctor_fails_loudly_when_strict_mode_is_faked_off(bin_dir, tmp_path, monkeypatch,
                                                          capsys):
    lib = tmp_path / "fakeprctl.so"
    (tmp_path / "fakeprctl.c").write_text("int prctl(int o, ...) { (void)o; return 0; }\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(tmp_path / "fakeprctl.c")],
                   check=True)
    wrappers = tmp_path / "bin"
    wrappers.mkdir()
    for name in ("sx-image", "sx-video", "sx-font", "sx-lua"):
        (wrappers / name).write_text(
            f'#!/bin/sh\nexec /usr/bin/env LD_PRELOAD={lib} {bin_dir / name} "$@"\n')
        (wrappers / name).chmod(0o755)
    monkeypatch.setenv("SANDBOX_EXTRACTOR_BIN_DIR", str(wrappers))
    monkeypatch.setenv(_runner.ENV_ALLOW_UNENFORCED, "1")  # doctor judges anyway
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert out.count("STRICT MODE IS NOT ENFORCED ON THIS HOST") == 4
    assert "this host is not ready" in out
    # The batch refuses too, as a setup error, unless told otherwise.
    monkeypatch.delenv(_runner.ENV_ALLOW_UNENFORCED)
    assert cli.main(["probe", str(FIXTURES / "good" / GOOD[0])]) == 2
    assert "strict mode is NOT enforced" in capsys.readouterr().err


def test_progress_bar_with_eta_only_on_a_terminal(extractors, uploads, tmp_path):
    import pty

    env = dict(os.environ, PYTHONPATH=str(REPO / "pyclient"))
    primary, secondary = pty.openpty()
    try:
        run = subprocess.run(
            [sys.executable, "-m", "sandbox_extractor", "thumbnail", str(uploads), "-o",
             str(tmp_path / "tty"), "-j", "1"],
            stdout=subprocess.PIPE, stderr=secondary, env=env, timeout=120,
        )
        os.close(secondary)
        secondary = -1
        drawn = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        if secondary >= 0:
            os.close(secondary)
        os.close(primary)
    assert run.returncode == 1
    text = drawn.decode("utf-8", "replace")
    assert "/10 [" in text and "<" in text and "file/s" in text  # tqdm: n/total [elapsed<eta, rate]
    assert text.count("FAILED") == len(MIXED_BAD)

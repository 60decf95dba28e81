"""test_strict_replay.py: the lazy-syscall detector (fuzz/strict_replay.py) can fail, and
reads fuzz prefixes as the harnesses do.

The planted case: a bin directory where `sx-lua` is sx-selftest (which makes a forbidden
syscall after the line when its input says so) and `replay_lua` is the real in-process Lua
core (which answers any text). An input `open` then dies only in the sandbox: exactly the
class the detector exists for."""
import importlib.util
import os
import subprocess
import sys

import pytest

from answer import BIN, ROOT

SCRIPT = ROOT / "fuzz" / "strict_replay.py"
spec = importlib.util.spec_from_file_location("strict_replay", SCRIPT)
sr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sr)


def test_prefix_reads_like_fuzz_request_h():
    assert sr.request_args(bytes([0, 9, 9, 1]), "sx-image") == ["--probe"]
    assert sr.request_args(bytes([4, 0, 254, 1]), "sx-image") == ["--thumbnail", "1x255", "--rgb"]
    assert sr.request_args(bytes([5, 255, 0, 6]), "sx-font") == ["--full", "--face", "3"]
    assert sr.request_args(b"ab", "sx-lua") == ["--probe"]


def detector(bin_dir, *paths):
    env = dict(os.environ, SANDBOX_EXTRACTOR_BIN_DIR=str(bin_dir))
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, paths)], capture_output=True,
                          text=True, env=env, timeout=300)


def test_a_syscall_after_the_line_is_reported(tmp_path):
    for name in ("sx-selftest", "replay_lua"):
        if not (BIN / name).exists():
            pytest.skip(f"{name} is not built")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sx-lua").symlink_to(BIN / "sx-selftest")
    (bin_dir / "replay_lua").symlink_to(BIN / "replay_lua")
    inputs = tmp_path / "lua"
    inputs.mkdir()
    (inputs / "planted.lua").write_bytes(b"open")
    (inputs / "fine.lua").write_bytes(b"ok-meta")
    p = detector(bin_dir, inputs)
    assert p.returncode == 1, p.stdout + p.stderr
    lazy = [ln for ln in p.stdout.splitlines() if ln.startswith("LAZY SYSCALL")]
    assert len(lazy) == 1 and "planted.lua" in lazy[0], p.stdout
    assert "open" in lazy[0].split("after the line:")[1], lazy[0]
    assert "1 input(s) die only in the sandbox" in p.stdout


def test_upload_fixtures_do_not_die_in_the_sandbox():
    p = detector(BIN, ROOT / "fixtures" / "uploads")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "0 input(s) die only in the sandbox" in p.stdout

"""test_lua.py: sx-lua on every Lua fixture and on scripts made here.

- Verdicts agree with `luac5.4 -p` on every script (same ok/error, same line, and the same
  message once luac's file name is replaced by the chunk name "input"); scripts Lua
  rejects are metadata answers (valid false), never error messages.
- Bytecode is refused as unsupported, empty input is a valid empty chunk, the source and memory
  caps give limit answers; 300-level nesting and 5 MiB one-line scripts are clean answers
  within a few CPU seconds.
- No clock after the line (liblua's time() binds to sx-lua's own), and after the strict
  line only read, write and exit.
"""
import json
import re
import shutil
import subprocess

import pytest

from answer import BIN, FIXTURES, run, run_raw
from test_sandbox import syscalls_after_the_line

ALL = json.loads((FIXTURES / "fonts_lua_expectations.json").read_text())
EXPECT = {k: v for k, v in ALL.items() if k.startswith("lua/")}
SCRIPTS = sorted(k for k in EXPECT if k.startswith(("lua/good/", "lua/invalid/")))
ERRORS = sorted(k for k in EXPECT if k.startswith("lua/bad/"))
LUAC = shutil.which("luac5.4")
CPU_BOUND = 3.0
MESSAGE_MAX = 1024  # PROTOCOL.md: strings are cut at 1024 bytes


def luac(path):
    """(ok, line or 0, message with the file name replaced by 'input') from luac5.4 -p."""
    p = subprocess.run(["luac5.4", "-p", path.name], executable=LUAC, cwd=path.parent,
                       capture_output=True)
    if p.returncode == 0:
        return True, 0, ""
    text = p.stderr.decode("utf-8", "replace").rstrip("\n")
    assert text.startswith("luac5.4: "), text
    text = text[len("luac5.4: "):]
    m = re.match(re.escape(path.name) + r":(\d+):", text)
    if m:
        return False, int(m.group(1)), "input" + text[len(path.name):]
    return False, 0, text


def verdict(r):
    assert r.kind == "meta", (r.kind, r.status, r.detail)
    assert r.meta["format"] == "lua"
    if r.meta["valid"]:
        assert "message" not in r.meta and "line" not in r.meta
        return True, 0, ""
    return False, r.meta["line"], r.meta["message"]


@pytest.mark.parametrize("name", SCRIPTS)
def test_verdict_matches_expectations(name):
    e = EXPECT[name]
    ok, line, message = verdict(run("sx-lua", ["--probe"], path=FIXTURES / name))
    assert ok == e["valid"]
    if not ok:
        assert (line, message) == (e["line"], e["message"])
    assert name.startswith("lua/good/") == ok


@pytest.mark.skipif(LUAC is None, reason="luac5.4 missing (apt-get install lua5.4): "
                                         "no cross-check")
@pytest.mark.parametrize("name", SCRIPTS)
def test_verdict_agrees_with_luac(name):
    r = run("sx-lua", [], path=FIXTURES / name)
    assert verdict(r) == luac(FIXTURES / name)
    assert r.cpu_seconds < CPU_BOUND


@pytest.mark.parametrize("name", ERRORS)
def test_error_answers(name):
    r = run("sx-lua", ["--probe"], path=FIXTURES / name)
    assert r.kind == "error" and r.status == EXPECT[name]["probe"], (r.status, r.detail)
    if r.status == "unsupported":
        assert "binary" in r.detail or "bytecode" in r.detail


def test_deep_nesting_is_an_answer_not_a_kill():
    for depth in (300, 100_000):
        r = run("sx-lua", [], data=b"return " + b"(" * depth + b"1" + b")" * depth)
        ok, line, message = verdict(r)
        assert not ok and message == "C stack overflow" and line == 0
        assert r.cpu_seconds < CPU_BOUND


def five_mib(tmp_path, name, body):
    path = tmp_path / name
    path.write_bytes(body[:5 << 20])
    assert b"\n" not in body[:5 << 20]
    return path


@pytest.fixture(scope="module")
def big_scripts(tmp_path_factory):
    d = tmp_path_factory.mktemp("big")
    numbers = b"local t = {" + b",".join(b"%d" % (i * 7919 % 1000003) for i in range(700_000))
    numbers = numbers[:(5 << 20) - 1]
    numbers = numbers[:numbers.rfind(b",")] + b"}"
    return {
        "numbers": five_mib(d, "numbers.lua", numbers),
        "string": five_mib(d, "string.lua", b"x = \"" + b"a" * (5 << 20)),
        "long_token": five_mib(d, "token.lua", b"return 1 " + b"b" * (5 << 20)),
    }


@pytest.mark.parametrize("kind", ["numbers", "string", "long_token"])
def test_five_mib_one_line(big_scripts, kind):
    path = big_scripts[kind]
    r = run("sx-lua", [], path=path, timeout=30)
    ok, line, message = verdict(r)
    assert r.cpu_seconds < CPU_BOUND, r.cpu_seconds
    assert (ok, line) == ((True, 0) if kind == "numbers" else (False, 1))
    assert len(message.encode()) <= MESSAGE_MAX
    if LUAC:
        want_ok, want_line, want_message = luac(path)
        assert (ok, line) == (want_ok, want_line)
        assert want_message.startswith(message)  # ours is cut at 1024 bytes


def test_source_over_the_cap_is_a_limit():
    r = run("sx-lua", [], data=b"--" + b"x" * (8 << 20))
    assert r.status == "limit" and "cap" in r.detail


def test_parser_memory_over_the_cap_is_a_limit(big_scripts):
    r = run("sx-lua", ["--memory", "16M"], path=big_scripts["numbers"])
    assert r.kind == "error" and r.status in ("limit", "no_memory"), r.detail
    assert r.maxrss_kib < 48 * 1024


def test_only_probe_is_a_request():
    for mode in (["--thumbnail", "64"], ["--full"]):
        r = run("sx-lua", mode, data=b"return 1")
        assert r.status == "bad_request"


def test_messages_are_lua_words_and_utf8_safe():
    r = run("sx-lua", [], data=b"local a = 1\nlocal \xff\xfe = 2\n")
    ok, line, message = verdict(r)
    assert (ok, line) == (False, 2) and message == "input:2: <name> expected near '<\\255>'"


def test_help_describes_sx_lua():
    p = subprocess.run([str(BIN / "sx-lua"), "--help"], capture_output=True, env={})
    assert p.returncode == 0 and p.stderr == b""
    for word in (b"Lua 5.4", b"bytecode", b"never run", b"strict"):
        assert word in p.stdout


def test_lua_reads_no_clock():
    """lua_newstate() seeds its hash with time(NULL); sx-lua defines time() itself, and
    the dynamic linker binds liblua's call to it (bind-now makes the binding visible)."""
    p = subprocess.run([str(BIN / "sx-lua")], input=b"return 1", capture_output=True,
                       env={"LD_BIND_NOW": "1", "LD_DEBUG": "bindings"})
    assert p.returncode == 0
    lines = [ln for ln in p.stderr.decode().splitlines() if "symbol `time'" in ln]
    assert lines, "liblua does not call time()? the binding was not seen"
    assert all(ln.split(" to ")[1].split()[0].endswith("/sx-lua") for ln in lines), lines


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
@pytest.mark.parametrize("mode", [["--probe"], ["--thumbnail", "64"]], ids=["probe", "thumbnail"])
def test_only_read_write_exit_after_the_line(mode, tmp_path):
    deep = tmp_path / "deep.lua"
    deep.write_bytes(b"x = " + b"{" * 5000)
    for path in [FIXTURES / n for n in sorted(EXPECT)] + [deep]:
        trace = tmp_path / "trace"
        with open(path, "rb") as f:
            p = subprocess.run(["strace", "-f", "-qq", "-o", str(trace), str(BIN / "sx-lua"),
                                *mode], stdin=f, capture_output=True, env={})
        assert p.returncode in (0, 1), (path.name, p.returncode, p.stderr[-300:])
        calls = syscalls_after_the_line(trace.read_text())
        assert calls <= {"read", "write", "exit"}, (path.name, calls)


def test_fork_server_answers_like_oneshot():
    zygote = pytest.importorskip("test_zygote", reason="no fork server (test_zygote.py)")
    z = zygote.Zygote("sx-lua")
    try:
        for name in ("lua/good/lua54_features.lua", "lua/invalid/missing_end.lua",
                     "lua/invalid/nesting_300_parens.lua", "lua/bad/bytecode.luac"):
            with open(FIXTURES / name, "rb") as f:
                oneshot = run_raw("sx-lua", [], stdin=f)
            served, _ = z.run([], path=FIXTURES / name)
            assert (served.returncode, served.out) == (oneshot.returncode, oneshot.out), name
    finally:
        assert z.close() == 0

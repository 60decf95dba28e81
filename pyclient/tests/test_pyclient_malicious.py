"""The malicious-file suite end to end through the public API.

Every file in fixtures/malicious/ (outcomes in its manifest.json) and every case that
make_malicious.generated_cases() builds at test time goes through probe_format and, for
the kinds with image answers, load_image(size=64), one process per call ("oneshot");
the committed files go through the fork server ("server") too. Each call must end in the
expected DecodeError subclass, or the expected valid result, within its time limit.
Nothing may be left behind: after each call no child process but the fork server's
zygotes (none in one-shot mode) and no file in the temporary directory (tempfile's
directory and TMPDIR point at an empty private one); after the zygotes are shut down at
the end of the test, exactly the open fds of its start and no child at all. Kinds whose
extractor is not built yet are skipped, naming the missing binary.
"""

import inspect
import json
import math
import os
import sys
import tempfile
import time

import pytest

import sandbox_extractor as sx
from sxtest_paths import FIXTURES

try:
    from sandbox_extractor import _zygote
except ImportError:  # a client without the fork server
    _zygote = None

sys.path.insert(0, str(FIXTURES))
import make_malicious as mm  # noqa: E402

MALICIOUS = FIXTURES / "malicious"
MANIFEST = json.loads((MALICIOUS / "manifest.json").read_text())
CASES = {name: (e, None) for name, e in MANIFEST.items()}
CASES.update({c.name: (c.entry(), c.data) for c in mm.generated_cases()})

STREAM = {"image": sx.STREAM_IMAGE, "video": sx.STREAM_VIDEO, "font": sx.STREAM_FONT,
          "lua": sx.STREAM_LUA}
BINARY = {"image": "sx-image", "video": "sx-video", "font": "sx-font", "lua": "sx-lua"}
IMAGE_ANSWERS = {"image", "video", "font"}  # Lua answers metadata only
ERROR_CLASS = {
    "bad_input": sx.BadInputError,
    "unsupported": sx.UnsupportedFormatError,
    "limit": sx.LimitExceededError,
    "timeout": sx.DecodeTimeout,
}
BOX = 64
MEMORY = 256 << 20
TIMEOUT = 10.0            # wall clock; the CPU limit follows it (10 s)
# "timeout" cases: on a loaded machine the CPU time reported for a process RLIMIT_CPU
# SIGKILLed falls short of the limit by up to ~0.2 s, and the client calls a SIGKILL a
# timeout only past a share of the limit (else a SandboxViolation). The CPU limit leaves
# at least 0.5 s below that share; the wall clock twice the CPU limit.
_SHARE = getattr(sx._api, "_CPU_KILL_SHARE", 0.9)
KILL_CPU_SECONDS = max(2, math.ceil(0.5 / (1 - _SHARE)))
KILL_TIMEOUT = 2.0 * KILL_CPU_SECONDS
SLACK = 2.0               # seconds a call may take beyond its timeout (spawn, reap)
HAS_SERVER = _zygote is not None and "execution" in inspect.signature(sx.probe_format).parameters


def open_fds():
    return sorted(os.listdir("/proc/self/fd"))


def child_pids():
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[1] == me:
                        found.append(int(entry))
            except (OSError, IndexError):
                continue
    return found


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """tempfile's directory and TMPDIR, empty, for one test."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    monkeypatch.setenv("TMPDIR", str(d))
    return d


def outcome(result, kind):
    """The manifest's word for what a call returned or raised."""
    if isinstance(result, sx.DecodeError):
        for word, cls in ERROR_CLASS.items():
            if type(result) is cls:
                return word
        return f"{type(result).__name__}: {result}"
    if kind == "lua" and isinstance(result, sx.Metadata):
        valid = result.as_dict().get("valid")
        assert isinstance(valid, bool), result
        return "ok" if valid else "syntax_error"
    return "ok"


def zygote_pids():
    return {z.proc.pid for z in _zygote._all_zygotes} if _zygote is not None else set()


def shutdown_servers():
    if _zygote is not None:
        _zygote.shutdown()


def call(fn, kind, stream, expect, execution, **kw):
    timeout = KILL_TIMEOUT if expect == "timeout" else TIMEOUT
    limits = dict(timeout=timeout, memory=MEMORY)
    if HAS_SERVER:
        limits["execution"] = execution
    if expect == "timeout":
        limits["cpu_seconds"] = KILL_CPU_SECONDS
    start = time.monotonic()
    try:
        result = fn(STREAM[kind], stream, **kw, **limits)
    except sx.DecodeError as exc:
        result = exc
    elapsed = time.monotonic() - start
    assert elapsed < timeout + SLACK, f"took {elapsed:.1f} s (timeout {timeout} s)"
    return result


def check_result(name, entry, mode, result):
    want = entry["expect"] if mode == "load_image" else entry.get("probe", entry["expect"])
    got = outcome(result, entry["kind"])
    allowed = {"ok", "bad_input"} if want == "ok_or_bad_input" else {want}
    assert got in allowed, f"{name} {mode}: expected {want}, got {got}: {result!r}"
    if isinstance(result, sx.DecodeError):
        assert result.detail
    elif mode == "load_image":
        assert result.mode in ("RGB", "RGBA") and 1 <= result.width <= BOX and 1 <= result.height <= BOX
    else:
        assert isinstance(result, sx.Metadata) and result.format
        if "orientation" in entry:
            assert result.orientation == entry["orientation"], result


def params():
    """Every case one-shot, the committed ones through the fork server too; those in
    make_malicious.OPEN_ISSUES (an extractor disagrees with the manifest, reported) as
    strict xfails: a fix shows up as an XPASS."""
    for execution in ("oneshot", "server"):
        for name in sorted(CASES):
            if execution == "server" and CASES[name][1] is not None:
                continue
            marks = []
            why = mm.OPEN_ISSUES.get(name)
            if why:
                marks.append(pytest.mark.xfail(reason=why, strict=True))
            if execution == "server" and not HAS_SERVER:
                marks.append(pytest.mark.skip(reason="this client has no fork server"))
            yield pytest.param(name, execution, marks=marks, id=f"{execution}:{name}")


@pytest.mark.parametrize("name,execution", params())
def test_malicious_file_through_the_client(extractors, private_tmp, name, execution):
    entry, data = CASES[name]
    kind = entry["kind"]
    if not (extractors / BINARY[kind]).exists():
        pytest.skip(f"{extractors / BINARY[kind]} is not built yet: the {kind} cases of the "
                    "malicious suite wait for it")
    # Committed files go in by path (the regular-file fd is handed over), generated ones
    # as bytes (copied into a sealed memfd).
    stream = str(MALICIOUS / name) if data is None else data
    calls = [("probe", sx.probe_format, {})]
    if kind in IMAGE_ANSWERS:
        calls.append(("load_image", sx.load_image, {"size": BOX}))
    shutdown_servers()  # zygotes of earlier tests are not this test's to account for
    fds = open_fds()
    assert child_pids() == []
    served = _zygote.requests_served if _zygote is not None else 0
    for mode, fn, kw in calls:
        result = call(fn, kind, stream, entry["expect"], execution, **kw)
        check_result(name, entry, mode, result)
        if execution == "oneshot":
            assert open_fds() == fds, f"{name} {mode}: fds leaked"
            assert child_pids() == [], f"{name} {mode}: child process left behind"
        else:
            if hasattr(_zygote, "settle"):  # retirement's background work, then count
                _zygote.settle()
            assert set(child_pids()) <= zygote_pids(), f"{name} {mode}: stray child process"
        assert os.listdir(private_tmp) == [], f"{name} {mode}: temporary files left behind"
    if execution == "server":
        assert _zygote.requests_served == served + len(calls), "the fork server was not used"
    shutdown_servers()
    assert child_pids() == [], f"{name}: child process left behind"
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)
    assert open_fds() == fds, f"{name}: fds leaked"

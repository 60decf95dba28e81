"""`sandbox-extractor doctor`: does this host run the extractors as the README promises?

For every extractor: found where, its version (the client's release and wire), it starts and
answers a built-in sample, strict mode is really enforced here (--posture-check must be
killed by the kernel), what the child holds (descriptors, environment) seen from outside
through /proc, and the fork server. Exit 0 only when every check holds.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from importlib import resources
from typing import Any, Callable

from . import _api, _runner, _spawn, _wire, _zygote
from ._errors import DecodeError, ExtractorUnavailable
from ._locate import find_extractor
from ._request import StreamKind, extractor_name, make_request

KINDS = (StreamKind.IMAGE, StreamKind.VIDEO, StreamKind.FONT, StreamKind.LUA)
# Every extractor with the kind it answers for: STREAM_IMAGE has two (sx-heif for HEIC/AVIF).
EXTRACTORS = (
    (StreamKind.IMAGE, "sx-image"),
    (StreamKind.IMAGE, "sx-heif"),
    (StreamKind.VIDEO, "sx-video"),
    (StreamKind.FONT, "sx-font"),
    (StreamKind.LUA, "sx-lua"),
)


def _sample(kind: StreamKind, name: str = "") -> bytes:
    if name == "sx-heif":
        return resources.files(__package__).joinpath("samples", "sample.heic").read_bytes()
    if kind == StreamKind.IMAGE:
        from PIL import Image

        buf = io.BytesIO()
        Image.new("RGB", (64, 48), (200, 40, 40)).save(buf, "PNG")
        return buf.getvalue()
    if kind == StreamKind.LUA:
        return b"local t = {1, 2, 3}\nreturn #t\n"
    name = "sample.mp4" if kind == StreamKind.VIDEO else "sample.otf"
    return resources.files(__package__).joinpath("samples", name).read_bytes()


class _Report:
    def __init__(self, json_output: bool):
        self.json_output = json_output
        self.failed = 0

    def check(self, extractor: str, name: str, ok: bool, detail: str) -> bool:
        if not ok:
            self.failed += 1
        if self.json_output:
            print(json.dumps({"extractor": extractor, "check": name, "ok": ok,
                              "detail": detail}), flush=True)  # fmt: skip
        else:
            print(f"{'ok  ' if ok else 'FAIL'} {extractor:9} {name:10} {detail}", flush=True)
        return ok


def _run(report: _Report, who: str, name: str, fn: Callable[[], tuple[bool, str]]) -> bool:
    try:
        ok, detail = fn()
    except (DecodeError, ExtractorUnavailable, OSError, subprocess.SubprocessError) as exc:
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    return report.check(who, name, ok, detail)


def _version(path: str) -> tuple[bool, str]:
    run = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30,
                         env=_spawn._EMPTY_ENV, stdin=subprocess.DEVNULL)  # fmt: skip
    said = run.stdout.strip()
    want = f"{os.path.basename(path)} {_wire.RELEASE} (wire {_wire.VERSION},"
    if run.returncode == 0 and said.startswith(want):
        return True, said
    return False, (
        f"says {said or run.stderr.strip()[:200]!r}; this client is {_wire.RELEASE} and speaks "
        f"wire {_wire.VERSION}: install the extractors and the package of one release"
    )


def _posture(path: str) -> tuple[bool, str]:
    verdict, outcome = _runner.posture(path)
    if verdict == "enforced":
        sig = outcome.signal
        assert sig is not None
        how = "SIGKILL: strict mode" if sig == signal.SIGKILL else "SIGSYS: the filter"
        return True, f"a forbidden call after the line was killed by signal {sig} ({how})"
    if verdict == "survived":
        return False, (
            "!!! STRICT MODE IS NOT ENFORCED ON THIS HOST !!! the extractor entered the "
            "sandbox and then made a forbidden system call (getppid) that returned: this "
            "kernel, container runtime or emulator accepts prctl(PR_SET_SECCOMP) and ignores "
            "it. Untrusted files would be decoded unconfined; the API refuses to run here "
            f"unless {_runner.ENV_ALLOW_UNENFORCED}=1"
        )
    return False, (
        f"inconclusive: exit {outcome.exit_status}, signal {outcome.signal}, "
        f"stderr {outcome.stderr[:200]!r}"
    )


def _forked_posture(path: str) -> tuple[bool, str]:
    """--posture-check in a child forked by a fork server: the same line, reached the
    other way."""
    family = _zygote.pool(path)
    zygote = family.acquire()
    try:
        with open(os.devnull, "rb") as null:
            outcome = zygote.run(
                ["--posture-check"], null.fileno(), timeout=30,
                message_length=lambda h: _wire.message_length(h, _wire.Expect(_wire.TYPE_META)),
            )  # fmt: skip
    finally:
        family.release(zygote)  # retired: its child died by a signal it did not send
    if outcome.signal in (signal.SIGKILL, signal.SIGSYS):
        return True, f"a forbidden call in a forked child was killed by signal {outcome.signal}"
    return False, (
        f"!!! a forked child SURVIVED a forbidden call after the line (exit "
        f"{outcome.exit_status}, signal {outcome.signal}): the fork server's children are "
        "not sandboxed on this host"
    )


def _sample_answers(kind: StreamKind, execution: str, name: str = "") -> tuple[bool, str]:
    data = _sample(kind, name)
    info = _api.probe_format(kind, data, execution=execution)
    text = f"probe: {info.format}"
    if kind != StreamKind.LUA:
        image = _api.load_image(kind, data, size=64, execution=execution)
        text += f"; thumbnail {image.size[0]}x{image.size[1]} {image.mode}"
    elif not getattr(info, "valid", False):
        return False, f"the sample script was judged invalid: {info.as_dict()}"
    return True, text


def _proc_view(pid: int) -> tuple[list[str], bytes]:
    fds = sorted(os.listdir(f"/proc/{pid}/fd"), key=int)
    with open(f"/proc/{pid}/environ", "rb") as f:
        env = f.read()
    return fds, env


def _outside(path: str) -> tuple[bool, str]:
    """The zygote and one forked child, seen through /proc while they run: the zygote holds
    its socket only; the child, blocked on its (held-open) input pipe during setup, holds
    fds 0, 1 and 2 only; neither has an environment."""
    family = _zygote.pool(path)
    zygote = family.acquire()
    problems: list[str] = []
    try:
        zpid = zygote.proc.pid
        fds, env = _proc_view(zpid)
        if len(fds) != 1:
            problems.append(f"the fork server holds fds {fds}, expected its socket only")
        if env:
            problems.append(f"the fork server has an environment of {len(env)} bytes")
        read_end, write_end = os.pipe()
        result: dict[str, Any] = {}
        request = make_request("probe", timeout=20)

        def serve() -> None:
            try:
                result["outcome"] = zygote.run(
                    request.argv(), read_end, timeout=20,
                    message_length=lambda h: _wire.message_length(h, request.expect()),
                )  # fmt: skip
            except BaseException as exc:  # reported below
                result["error"] = exc

        thread = threading.Thread(target=serve)
        thread.start()
        child = None
        deadline = time.monotonic() + 10
        try:
            while child is None and time.monotonic() < deadline:
                try:
                    with open(f"/proc/{zpid}/task/{zpid}/children") as f:
                        kids = f.read().split()
                except OSError:
                    kids = []
                if kids:
                    child = int(kids[0])
                    _wait_reading_input(child, deadline)
                else:
                    time.sleep(0.005)
            if child is None:
                problems.append("no forked child appeared")
            else:
                cfds, cenv = _proc_view(child)
                if cfds != ["0", "1", "2"]:
                    problems.append(f"a forked child holds fds {cfds}, expected 0, 1, 2")
                if cenv:
                    problems.append(f"a forked child has an environment of {len(cenv)} bytes")
        finally:
            os.close(write_end)
            thread.join()
            os.close(read_end)
        if "error" in result:
            problems.append(f"the request failed: {result['error']}")
    finally:
        family.release(zygote)
    if problems:
        return False, "; ".join(problems)
    return True, "fork server: its socket only, no environment; child: fds 0-2, no environment"


def _wait_reading_input(pid: int, deadline: float) -> None:
    """Waits until the child is blocked in read(2) on its input (a pipe nobody writes to
    yet): its fds are then the ones it keeps, past installing the request's. A fixed sleep
    was too short on a loaded machine, where the child was seen mid-setup."""
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/syscall") as f:
                if f.read().split(" ", 1)[0] == "0":  # __NR_read on x86_64
                    return
        except OSError:
            return  # gone: the fd view below reports what it can
        time.sleep(0.005)


def doctor(json_output: bool = False) -> int:
    """Runs every check, prints one line (or JSON record) each; 0 when all hold, else 1."""
    report = _Report(json_output)
    if not json_output:
        print(f"sandbox-extractor {_wire.RELEASE} (wire {_wire.VERSION}), Python "
              f"{sys.version.split()[0]}")  # fmt: skip
    saved = os.environ.pop(_runner.ENV_ALLOW_UNENFORCED, None)  # doctor judges, never excuses
    try:
        for kind, name in EXTRACTORS:
            assert name == extractor_name(kind) or kind == StreamKind.IMAGE
            try:
                path = find_extractor(name, str(kind))
            except ExtractorUnavailable as exc:
                report.check(name, "found", False, str(exc))
                continue
            report.check(name, "found", True, path)
            _run(report, name, "version", lambda: _version(path))
            enforced = _run(report, name, "sandbox", lambda: _posture(path))
            if not enforced:
                continue  # nothing is decoded on a host that does not enforce the sandbox
            _run(report, name, "sample", lambda: _sample_answers(kind, "oneshot", name))
            _run(report, name, "server", lambda: _sample_answers(kind, "server", name))
            _run(report, name, "forked", lambda: _forked_posture(path))
            _run(report, name, "outside", lambda: _outside(path))
    finally:
        if saved is not None:
            os.environ[_runner.ENV_ALLOW_UNENFORCED] = saved
        _zygote.shutdown()
    if report.failed:
        if not json_output:
            print(f"doctor: {report.failed} check(s) FAILED: this host is not ready", flush=True)
        return 1
    if not json_output:
        print("doctor: every check holds", flush=True)
    return 0

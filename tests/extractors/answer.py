"""answer.py: an independent, strict reader of extractor answers for the extractor tests.

Deliberately separate from the Python client's parser: these tests check the C side
against PROTOCOL.md, so they must not share the client's reading of it.
"""
import os
import re
import signal
import struct
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("SANDBOX_EXTRACTOR_BIN_DIR", ROOT / "build" / "bin"))
FIXTURES = ROOT / "fixtures"


def _seccomp_mode():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Seccomp:"):
                return int(line.split()[1])
    return 0


# The sandbox's kill: strict mode's SIGKILL, or SIGSYS when these tests themselves run under
# a seccomp filter (in a container), where the line adds its equivalent filter instead
# (README, "Containers and services").
UNDER_SECCOMP_FILTER = _seccomp_mode() == 2
SANDBOX_KILL = signal.SIGSYS if UNDER_SECCOMP_FILTER else signal.SIGKILL
STATUS = {1: "bad_input", 2: "unsupported", 3: "limit", 4: "no_memory", 5: "io",
          6: "internal", 7: "bad_request", 8: "sandbox"}


@dataclass
class Run:
    returncode: int          # exit status, or -signal
    out: bytes
    err: bytes
    cpu_seconds: float
    maxrss_kib: int
    kind: str = ""           # "error" | "meta" | "image" | "frames"
    status: str = ""
    detail: str = ""
    meta: dict = field(default_factory=dict)
    width: int = 0
    height: int = 0
    channels: int = 0
    pixels: bytes = b""      # image; frames: the first frame's
    durations: list = field(default_factory=list)   # frames: ms per frame
    frames: list = field(default_factory=list)      # frames: pixels of each frame
    loop_count: int = 0


def parse(run):
    """Fills the answer fields of `run`; raises AssertionError on any protocol violation."""
    data = run.out
    assert len(data) >= 12, f"short answer: {data[:40]!r}"
    magic, version, mtype, plen = struct.unpack_from("<4sHHI", data)
    assert magic == b"SXAN" and version == 3, data[:12]
    assert len(data) == 12 + plen, f"length {len(data)} != 12 + {plen}"
    p = data[12:]
    if mtype == 1:
        status, dlen = struct.unpack_from("<IH", p)
        assert len(p) == 6 + dlen and status in STATUS
        run.kind, run.status, run.detail = "error", STATUS[status], p[6:].decode()
        assert run.returncode == 1, run.returncode
    elif mtype == 2:
        (count,), off = struct.unpack_from("<H", p), 2
        for _ in range(count):
            klen = p[off]
            key = p[off + 1:off + 1 + klen].decode("ascii")
            vtype = p[off + 1 + klen]
            off += 2 + klen
            if vtype == 1:
                value = struct.unpack_from("<q", p, off)[0]; off += 8
            elif vtype == 2:
                value = struct.unpack_from("<d", p, off)[0]; off += 8
            elif vtype == 3:
                n = struct.unpack_from("<H", p, off)[0]
                value = p[off + 2:off + 2 + n].decode(); off += 2 + n
            else:
                assert vtype == 4 and p[off] in (0, 1)
                value = bool(p[off]); off += 1
            assert key not in run.meta
            run.meta[key] = value
        assert off == len(p)
        run.kind = "meta"
        assert run.returncode == 0, run.returncode
    elif mtype == 4:
        w, h, ch = struct.unpack_from("<IIB", p)
        count, loop = struct.unpack_from("<II", p, 12)
        assert p[9:12] == b"\0\0\0" and ch in (3, 4) and w >= 1 and h >= 1 and count >= 1
        size = w * h * ch
        assert len(p) == 20 + count * (4 + size), (len(p), count, size)
        for i in range(count):
            off = 20 + i * (4 + size)
            run.durations.append(struct.unpack_from("<I", p, off)[0])
            run.frames.append(p[off + 4:off + 4 + size])
        run.kind, run.width, run.height, run.channels = "frames", w, h, ch
        run.pixels, run.loop_count = run.frames[0], loop
        assert run.returncode == 0, run.returncode
    else:
        assert mtype == 3
        w, h, ch = struct.unpack_from("<IIB", p)
        assert p[9:12] == b"\0\0\0" and ch in (3, 4) and w >= 1 and h >= 1
        assert len(p) == 12 + w * h * ch
        run.kind, run.width, run.height, run.channels, run.pixels = "image", w, h, ch, p[12:]
        assert run.returncode == 0, run.returncode
    return run


def _drain(stream, sink):
    sink.append(stream.read())


MEASURE = re.compile(rb"sx-measure: maxrss_kib=(\d+) cpu_us=(\d+)\n\Z")


def run_raw(name, args=(), stdin=None, data=None, pass_fds=(), timeout=30):
    """Runs build/bin/NAME with an empty environment under sx-measure, which reports the
    extractor's own peak RSS and CPU time; returns a Run. Bytes are handed over in a memfd,
    so no pipe writer can block."""
    exe = BIN / name
    memfd = None
    if data is not None:
        memfd = os.memfd_create("input")
        os.write(memfd, data)
        os.lseek(memfd, 0, 0)
        stdin = memfd
    try:
        proc = subprocess.Popen([str(BIN / "sx-measure"), str(exe), *args], stdin=stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env={}, pass_fds=pass_fds)
    finally:
        if memfd is not None:
            os.close(memfd)
    out, err = [], []
    readers = [threading.Thread(target=_drain, args=(proc.stdout, out)),
               threading.Thread(target=_drain, args=(proc.stderr, err))]
    for t in readers:
        t.start()
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    for t in readers:
        t.join()
    proc.stdout.close()
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode < 0:  # the timeout killed sx-measure itself
        return Run(proc.returncode, out[0], err[0], usage.ru_utime + usage.ru_stime, 0)
    m = MEASURE.search(err[0])
    assert m, f"no measurement from sx-measure: {err[0][-200:]!r}"
    code = proc.returncode
    code = -(code - 128) if code > 128 else code
    return Run(code, out[0], err[0][:m.start()], int(m.group(2)) / 1e6, int(m.group(1)))


def run(name, args=(), path=None, data=None, **kw):
    """Runs an extractor on a file path or bytes and parses its answer."""
    if path is not None:
        with open(path, "rb") as f:
            return parse(run_raw(name, args, stdin=f, **kw))
    return parse(run_raw(name, args, data=data, **kw))

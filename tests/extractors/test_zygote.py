"""test_zygote.py: the fork server (`--server FD`) against PROTOCOL.md "Fork-server
requests", with this directory's own reader: answers identical to one-shot mode, the
child's fds and environment, every malformed request answered with its error code, kill,
busy, the end of the client, the zygote's death, refusal to start, and strace proof that a
forked child makes only read/write/exit after the strict line."""
import array
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from answer import BIN, FIXTURES, SANDBOX_KILL, Run, parse, run_raw

ROOT = Path(__file__).resolve().parents[2]
REQUEST = struct.Struct("<4sHHHHI")
REPLY = struct.Struct("<4sHHIIIIQQ")
READY, STARTED, DONE, ERROR = 1, 2, 3, 4
MALFORMED, VERSION, FDS, BUSY, FORK = 1, 2, 3, 4, 5


@dataclass
class Reply:
    type: int
    pid: int
    status: int
    errno: int
    cpu_usec: int
    maxrss_kib: int


def run_message(args, version=1, rtype=1, argc=None, reserved=0, strings=None, slen=None):
    if strings is None:
        strings = b"".join(a.encode() + b"\0" for a in args)
    argc = len(args) if argc is None else argc
    slen = len(strings) if slen is None else slen
    return REQUEST.pack(b"SXZQ", version, rtype, argc, reserved, slen) + strings


KILL = REQUEST.pack(b"SXZQ", 1, 2, 0, 0, 0)


class Zygote:
    """A zygote on one end of a socketpair, started as the client would start it."""

    def __init__(self, binary="sx-image", wrap=()):
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen(
            [*wrap, str(BIN / binary), "--server", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),), env={}, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        theirs.close()
        ready = self.reply()
        assert ready.type == READY and ready.pid > 0, ready
        self.pid = ready.pid  # under strace, not proc.pid

    def reply(self, timeout=10.0) -> Reply:
        ready, _, _ = select.select([self.sock], [], [], timeout)
        assert ready, "no reply from the zygote"
        data = self.sock.recv(REPLY.size + 1)
        assert len(data) == REPLY.size, data
        magic, version, rtype, pid, status, err, reserved, cpu, rss = REPLY.unpack(data)
        assert magic == b"SXZR" and version == 1 and reserved == 0, data
        return Reply(rtype, pid, status, err, cpu, rss)

    def send(self, message, fds=()):
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        self.sock.sendmsg([message], anc)

    def start(self, args, path=None, data=None):
        """Sends a run request; returns (STARTED reply, answer read fd, stderr read fd)."""
        if path is not None:
            src = os.open(path, os.O_RDONLY)
        else:
            src = os.memfd_create("input")
            os.write(src, data)
            os.lseek(src, 0, 0)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            self.send(run_message(args), [src, out_w, err_w])
        finally:
            for fd in (src, out_w, err_w):
                os.close(fd)
        return self.reply(), out_r, err_r

    def run(self, args=(), path=None, data=None) -> tuple[Run, Reply]:
        started, out_r, err_r = self.start(list(args), path, data)
        assert started.type == STARTED, started
        with os.fdopen(out_r, "rb") as out, os.fdopen(err_r, "rb") as err:
            # Both at once: a child that floods stderr must not block on it.
            errors = []
            drain = threading.Thread(target=lambda: errors.append(err.read()))
            drain.start()
            answer = out.read()
            drain.join()
            errors = errors[0]
        done = self.reply()
        assert done.type == DONE and done.pid == started.pid, done
        code = (-os.WTERMSIG(done.status) if os.WIFSIGNALED(done.status)
                else os.WEXITSTATUS(done.status))
        return Run(code, answer, errors, done.cpu_usec / 1e6, done.maxrss_kib), done

    def fds(self) -> list[str]:
        return sorted(os.listdir(f"/proc/{self.pid}/fd"))

    def close(self, timeout=5.0) -> int:
        self.sock.close()
        try:
            return self.proc.wait(timeout)
        finally:
            self.proc.stderr.close()


@pytest.fixture
def zygote():
    z = Zygote()
    yield z
    if z.proc.poll() is None:
        assert z.close() == 0
    else:
        z.proc.stderr.close()


@pytest.fixture
def selftest_zygote():
    z = Zygote("sx-selftest")
    yield z
    if z.proc.poll() is None:
        z.close()
    else:
        z.proc.stderr.close()


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def wait_gone(pid: int, seconds=3.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not alive(pid):
            return True
        time.sleep(0.01)
    return False


SAMPLES = sorted(p for p in (FIXTURES / "good").glob("*") if p.suffix in (".jpg", ".png"))[::6]
MODES = [["--probe"], ["--thumbnail", "32", "--rgb"], ["--full"]]


def test_answers_are_byte_for_byte_those_of_oneshot(zygote):
    bad = sorted((FIXTURES / "bad").glob("*"))[:4]
    assert SAMPLES and bad
    for path in SAMPLES + bad:
        for mode in MODES:
            with open(path, "rb") as f:
                oneshot = run_raw("sx-image", mode, stdin=f)
            served, _ = zygote.run(mode, path=path)
            assert (served.returncode, served.out) == (oneshot.returncode, oneshot.out), (
                path.name, mode)
            parse(served)


# The other families: the same check on a few of their fixtures, once they are built.
FAMILIES = {
    "sx-video": (FIXTURES / "video", [["--probe"], ["--thumbnail", "64"]]),
    "sx-font": (FIXTURES / "fonts", [["--probe"], ["--thumbnail", "64"]]),
    "sx-lua": (FIXTURES / "lua", [["--probe"]]),
}


def family_samples(binary):
    root, _ = FAMILIES[binary]
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return files[:: max(1, len(files) // 6)][:6]


@pytest.mark.parametrize("binary", sorted(FAMILIES))
def test_other_families_answer_alike_through_the_fork_server(binary):
    if not (BIN / binary).exists():
        pytest.skip(f"{BIN / binary} is not built")
    files = family_samples(binary)
    assert files, f"no fixtures for {binary}"
    z = Zygote(binary)
    try:
        for path in files:
            for mode in FAMILIES[binary][1]:
                with open(path, "rb") as f:
                    oneshot = run_raw(binary, mode, stdin=f)
                served, _ = z.run(mode, path=path)
                assert (served.returncode, served.out) == (oneshot.returncode, oneshot.out), (
                    path.name, mode)
    finally:
        assert z.close() == 0


def test_the_zygote_holds_only_its_socket_between_requests(zygote):
    zygote.run(["--probe"], path=SAMPLES[0])
    assert len(zygote.fds()) == 1


def test_child_has_fds_012_only_and_no_environment(selftest_zygote):
    r = parse(selftest_zygote.run(data=b"env")[0])
    assert r.meta["env_count"] == 0 and r.meta["fds_at_start"] == "0,1,2"
    r = parse(selftest_zygote.run(data=b"readfds")[0])
    assert r.meta["readable_fds"] == ""


def test_outcomes_and_rusage_come_back(selftest_zygote):
    r, done = selftest_zygote.run(data=b"segv")
    assert r.returncode == -signal.SIGSEGV and r.out == b""
    r, _ = selftest_zygote.run(data=b"open")
    assert r.returncode == -SANDBOX_KILL and r.out == b""
    r, done = selftest_zygote.run(["--cpu-seconds", "1"], data=b"spin")
    # RLIMIT_CPU counts tick-sampled time, wait4 the precise time: they differ by a few %.
    assert r.returncode == -signal.SIGKILL and done.cpu_usec >= 500_000
    r, done = selftest_zygote.run(data=b"ok-meta")
    assert parse(r).kind == "meta" and done.maxrss_kib > 0
    r, _ = selftest_zygote.run(data=b"stderr-flood")
    assert parse(r).kind == "meta" and len(r.err) == 1 << 20


def test_server_inside_a_request_is_a_bad_request(zygote):
    r = parse(zygote.run(["--server", "3"], data=b"x")[0])
    assert r.status == "bad_request"


def test_help_in_a_request_answers_on_the_answer_fd(zygote):
    r, _ = zygote.run(["--help"], data=b"x")
    assert r.returncode == 0 and b"--thumbnail" in r.out


@pytest.mark.parametrize("message, fds, code", [
    (b"", 0, MALFORMED),
    (b"SXZQ", 0, MALFORMED),
    (b"XXZQ" + run_message(["--probe"])[4:], 3, MALFORMED),
    (run_message(["--probe"], version=2), 3, VERSION),
    (run_message(["--probe"], rtype=9), 3, MALFORMED),
    (run_message(["--probe"], reserved=1), 3, MALFORMED),
    (run_message(["--probe"], argc=2), 3, MALFORMED),
    (run_message(["--probe"], argc=0), 3, MALFORMED),
    (run_message(["--probe"], slen=100), 3, MALFORMED),
    (run_message([], strings=b"--probe"), 3, MALFORMED),
    (run_message(["--probe"], strings=b"--probe\0x", argc=1), 3, MALFORMED),
    (run_message(["a"] * 65), 3, MALFORMED),
    (run_message(["a" * 5000]), 3, MALFORMED),
    (run_message(["--probe"]), 0, FDS),
    (run_message(["--probe"]), 2, FDS),
    (run_message(["--probe"]), 4, FDS),
    (run_message(["--probe"]), 12, MALFORMED),  # more than fit: control data truncated
    (KILL, 1, FDS),
    (KILL[:8] + struct.pack("<HHI", 1, 0, 0), 0, MALFORMED),
])
def test_malformed_request_gets_its_error_code(zygote, message, fds, code):
    devnull = [os.open("/dev/null", os.O_RDWR) for _ in range(fds)]
    try:
        zygote.send(message, devnull)
    finally:
        for fd in devnull:
            os.close(fd)
    reply = zygote.reply()
    assert (reply.type, reply.status) == (ERROR, code), reply
    # It goes on serving, and kept none of the fds that came with the bad request.
    assert len(zygote.fds()) == 1
    assert parse(zygote.run(["--probe"], path=SAMPLES[0])[0]).kind == "meta"


def test_kill_ends_the_running_child(selftest_zygote):
    started, out_r, err_r = selftest_zygote.start(["--cpu-seconds", "20"], data=b"spin")
    assert started.type == STARTED and alive(started.pid)
    time.sleep(0.05)
    selftest_zygote.send(KILL)
    done = selftest_zygote.reply(timeout=5)
    os.close(out_r)
    os.close(err_r)
    assert done.type == DONE and done.pid == started.pid
    assert os.WIFSIGNALED(done.status) and os.WTERMSIG(done.status) == signal.SIGKILL
    assert not alive(started.pid)
    assert parse(selftest_zygote.run(data=b"ok-meta")[0]).kind == "meta"


def test_run_while_busy_is_refused_and_the_child_untouched(selftest_zygote):
    started, out_r, err_r = selftest_zygote.start(["--cpu-seconds", "20"], data=b"spin")
    extra, e_out, e_err = selftest_zygote.start([], data=b"ok-meta")
    for fd in (e_out, e_err):
        with os.fdopen(fd, "rb") as f:
            assert f.read() == b""  # nothing ran: the zygote closed its copies
    assert (extra.type, extra.status) == (ERROR, BUSY)
    assert alive(started.pid)
    selftest_zygote.send(KILL)
    assert selftest_zygote.reply().type == DONE
    os.close(out_r)
    os.close(err_r)


def test_a_late_kill_is_dropped(selftest_zygote):
    selftest_zygote.run(data=b"ok-meta")
    selftest_zygote.send(KILL)  # no child: no reply, and the next run is unaffected
    r, _ = selftest_zygote.run(data=b"ok-meta")
    assert parse(r).kind == "meta"


def test_closing_the_socket_ends_zygote_and_child(selftest_zygote):
    started, out_r, err_r = selftest_zygote.start(["--cpu-seconds", "20"], data=b"spin")
    assert selftest_zygote.close() == 0
    assert not alive(started.pid)
    os.close(out_r)
    os.close(err_r)


def test_a_dead_zygote_takes_its_child_along(selftest_zygote):
    started, out_r, err_r = selftest_zygote.start(["--cpu-seconds", "20"], data=b"spin")
    os.kill(selftest_zygote.pid, signal.SIGKILL)
    selftest_zygote.proc.wait(5)
    assert wait_gone(started.pid), "the child outlived its zygote"
    os.close(out_r)
    os.close(err_r)


@pytest.mark.parametrize("kind", ["pipe", "stream", "text", "closed"])
def test_refuses_to_start_without_a_seqpacket_socket(kind):
    keep = []
    if kind == "pipe":
        r, w = os.pipe()
        keep, arg = [r, w], str(r)
    elif kind == "stream":
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        keep = [a.detach(), b.detach()]
        arg = str(keep[1])
    elif kind == "text":
        arg = "3x"
    else:
        arg = "77"
    try:
        p = subprocess.run([str(BIN / "sx-image"), "--server", arg], pass_fds=keep,
                           capture_output=True, env={}, timeout=10)
    finally:
        for fd in keep:
            os.close(fd)
    assert p.returncode == 2 and b"SOCK_SEQPACKET" in p.stderr and p.stdout == b""


# ---- strace: a forked child is as confined as a one-shot process -------------------------

LINE = re.compile(r"^(\d+)\s+(?:(\w+)\(|\+\+\+ (exited|killed))")


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
@pytest.mark.parametrize("binary", ["sx-image", *sorted(FAMILIES)])
def test_forked_child_only_reads_writes_and_exits_after_the_line(tmp_path, binary):
    if not (BIN / binary).exists():
        pytest.skip(f"{BIN / binary} is not built")
    if binary == "sx-image":
        files, modes = SAMPLES[:4] + sorted((FIXTURES / "bad").glob("*"))[:2], MODES
    else:
        files, modes = family_samples(binary)[:4], FAMILIES[binary][1]
    trace = tmp_path / "trace"
    z = Zygote(binary, wrap=["strace", "-f", "-qq", "-o", str(trace)])
    children = []
    try:
        for path in files:
            for mode in modes:
                _, done = z.run(mode, path=path)
                children.append(done.pid)
    finally:
        assert z.close() == 0
    after = {pid: None for pid in children}  # pid -> syscalls seen after its strict line
    for line in trace.read_text().splitlines():
        m = LINE.match(line)
        if not m or int(m.group(1)) not in after:
            continue
        pid = int(m.group(1))
        if "PR_SET_SECCOMP" in line:
            after[pid] = set()
        elif after[pid] is not None and m.group(2):
            after[pid].add(m.group(2))
    for pid, calls in after.items():
        assert calls is not None, f"child {pid}: no prctl(PR_SET_SECCOMP) in the trace"
        assert calls <= {"read", "write", "exit"}, (pid, calls)


# ---- the wire constants: PROTOCOL.md, common/sx_zygote.h and the Python client ------------


def test_wire_constants_agree():
    import sys
    sys.path.insert(0, str(ROOT / "pyclient"))
    from sandbox_extractor import _zygote

    doc = (ROOT / "PROTOCOL.md").read_text()
    section = doc[doc.index("## Fork-server requests"):]
    header = (ROOT / "common" / "sx_zygote.h").read_text()
    c = {k: v.strip('"').rstrip("u") for k, v in
         re.findall(r"^#define (SX_ZYGOTE_\w+) (\S+)", header, re.M)}

    def table(title):
        block = section[section.index(title):].split("\n\n", 2)[1]
        rows = [l.strip().strip("|").split("|") for l in block.splitlines()][2:]
        return [[cell.strip() for cell in row] for row in rows]

    request = table("### Request")
    reply = table("### Reply")
    errors = table("### Fork-server error codes")
    assert sum(int(r[1]) for r in request[:-1]) == _zygote.REQUEST_HEADER_BYTES == int(
        c["SX_ZYGOTE_REQUEST_HEADER_BYTES"]) == int(re.search(r"Request \((\d+) bytes", section)[1])
    assert sum(int(r[1]) for r in reply) == _zygote.REPLY_BYTES == int(
        c["SX_ZYGOTE_REPLY_BYTES"]) == int(re.search(r"Reply \((\d+) bytes", section)[1])
    assert "`SXZQ`" in request[0][3] and _zygote.REQUEST_MAGIC.decode() == c[
        "SX_ZYGOTE_REQUEST_MAGIC"] == "SXZQ"
    assert "`SXZR`" in reply[0][3] and _zygote.REPLY_MAGIC.decode() == c[
        "SX_ZYGOTE_REPLY_MAGIC"] == "SXZR"
    assert _zygote.VERSION == int(c["SX_ZYGOTE_VERSION"]) == int(request[1][3].strip("`"))
    codes = lambda text: {n: int(v) for v, n in re.findall(r"`(\d+)` (\w+)", text)}
    assert codes(request[2][3]) == {"run": _zygote.REQ_RUN, "kill": _zygote.REQ_KILL} == {
        "run": int(c["SX_ZYGOTE_REQ_RUN"]), "kill": int(c["SX_ZYGOTE_REQ_KILL"])}
    kinds = {"ready": "READY", "started": "STARTED", "done": "DONE", "error": "ERROR"}
    assert codes(reply[2][3]) == {k: getattr(_zygote, f"REPLY_{v}") for k, v in kinds.items()} \
        == {k: int(c[f"SX_ZYGOTE_REPLY_{v}"]) for k, v in kinds.items()}
    assert {r[1]: int(r[0]) for r in errors} == {
        n: getattr(_zygote, f"ERR_{n}") for n in (r[1] for r in errors)} == {
        n: int(c[f"SX_ZYGOTE_ERR_{n}"]) for n in (r[1] for r in errors)}
    assert int(re.search(r"at most (\d+);", request[3][3])[1]) == _zygote.MAX_ARGS == int(
        c["SX_ZYGOTE_MAX_ARGS"])
    assert int(re.search(r"at most (\d+);", request[5][3])[1]) == _zygote.MAX_STRINGS_BYTES \
        == int(c["SX_ZYGOTE_MAX_STRINGS_BYTES"])
    assert "exactly 3 fds" in section and _zygote.RUN_FDS == int(c["SX_ZYGOTE_RUN_FDS"]) == 3

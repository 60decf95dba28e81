#!/usr/bin/python3
"""strict_replay.py: the detector for lazy syscalls. The fuzz harnesses run the decode cores
in-process without seccomp, so an input that makes a library reach for the system after the
strict line (a time-zone file, a gconv module, a sysconf) looks fine to them. This replays
inputs through the REAL strict extractors (one fork server per extractor, not traced, so it
is fast) and reports every input whose strict process dies by a signal while the same
request through the in-process core (build/bin/replay_NAME --as-is) ends normally.

    /usr/bin/python3 fuzz/strict_replay.py [PATH...]     (default: fixtures/ and build-fuzz/corpus/)

A path under build-fuzz/corpus/NAME/ is a fuzz input: its first 4 bytes are the request
(fuzz/fuzz_request.h) and NAME picks the extractor. Any other file is a fixture, picked by
folder (video, fonts/font, lua, else image) and asked --probe, --thumbnail 64x48 and --full
(Lua: --probe). Requests use the fuzz harness's caps (--max-pixels 4194304, --memory 256M)
and --cpu-seconds 2; a child SIGKILLed after half its CPU limit or more is counted apart as
a CPU-limit kill (a spin, not a lazy syscall) unless strace shows a forbidden syscall. Each suspect is traced once more one-shot under strace (when installed) to name
the syscall. Exit status 1 when any input is reported, 0 otherwise.
Environment: SANDBOX_EXTRACTOR_BIN_DIR (default build/bin) for the extractors and replay
drivers; strict_replay.py --help for options.
"""
import argparse
import array
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("SANDBOX_EXTRACTOR_BIN_DIR", ROOT / "build" / "bin"))
REQUEST = struct.Struct("<4sHHHHI")   # PROTOCOL.md "Fork-server requests"
REPLY = struct.Struct("<4sHHIIIIQQ")
READY, STARTED, DONE, ERROR = 1, 2, 3, 4
KILL = REQUEST.pack(b"SXZQ", 1, 2, 0, 0, 0)
PREFIX = 4                      # fuzz/fuzz_request.h
FUZZ_ARGS = ["--max-pixels", "4194304", "--memory", "256M"]
CPU_SECONDS = 2
CORPUS = {"image": "sx-image", "jpeg": "sx-image", "png": "sx-image", "video": "sx-video",
          "font": "sx-font", "lua": "sx-lua", "heif": "sx-heif"}
REPLAY = {"sx-image": "replay_image", "sx-video": "replay_video", "sx-font": "replay_font",
          "sx-lua": "replay_lua", "sx-heif": "replay_heif"}
ALLOWED = {"read", "write", "exit", "rt_sigreturn"}


def request_args(prefix, binary):
    """argv of the request a 4-byte prefix stands for, as fuzz_request() reads it."""
    if len(prefix) < PREFIX:
        return ["--probe"]
    mode = prefix[0] % 3
    args = [["--probe"], ["--thumbnail", "%dx%d" % (1 + prefix[1] % 255, 1 + prefix[2] % 255)],
            ["--full"]][mode]
    if mode and prefix[3] & 1:
        args.append("--rgb")
    if binary == "sx-font":
        args += ["--face", str((prefix[3] >> 1) & 3)]
    if binary == "sx-image" and mode and prefix[3] & 16:
        args += ["--frames", str(1 + prefix[2] % 8)]
    return args


def fixture_binary(path):
    parts = set(path.parts)
    if "heif" in parts or "malicious_heif" in parts:
        return "sx-heif"
    if "video" in parts:
        return "sx-video"
    if "fonts" in parts or "font" in parts:
        return "sx-font"
    if "lua" in parts:
        return "sx-lua"
    return "sx-image"


def inputs(paths):
    """(path, binary, prefix, data) for every input under `paths`."""
    for root in paths:
        root = Path(root)
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if path.suffix in (".md", ".json", ".py", ".sh") or path.name.startswith("."):
                continue
            data = path.read_bytes()
            rel = path.resolve().parts
            if "corpus" in rel and rel[rel.index("corpus") + 1] in CORPUS:
                binary = CORPUS[rel[rel.index("corpus") + 1]]
                yield path, binary, data[:PREFIX], data[PREFIX:] if len(data) >= PREFIX else data
                continue
            binary = fixture_binary(path)
            modes = (0,) if binary == "sx-lua" else (0, 1, 2)
            for m in modes:
                yield path, binary, bytes([m, 63, 47, 0]), data


class Zygote:
    def __init__(self, binary):
        self.binary = binary
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen([str(BIN / binary), "--server", str(theirs.fileno())],
                                     pass_fds=(theirs.fileno(),), env={},
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        theirs.close()
        if self.reply(30)[0] != READY:
            raise SystemExit("strict_replay: %s did not start as a fork server" % binary)

    def reply(self, timeout):
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return None
        data = self.sock.recv(REPLY.size + 1)
        if len(data) != REPLY.size:
            raise SystemExit("strict_replay: %s: malformed reply %r" % (self.binary, data))
        _, _, rtype, pid, status, err, _, cpu, _ = REPLY.unpack(data)
        return rtype, pid, status, cpu

    def run(self, args, data, wall=30):
        """(exit status or -signal, answer bytes, CPU seconds) of one child."""
        src = os.memfd_create("input")
        os.write(src, data)
        os.lseek(src, 0, 0)
        out_r, out_w = os.pipe()
        strings = b"".join(a.encode() + b"\0" for a in args)
        msg = REQUEST.pack(b"SXZQ", 1, 1, len(args), 0, len(strings)) + strings
        try:
            self.sock.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                       array.array("i", [src, out_w, out_w]))])
        finally:
            os.close(src)
            os.close(out_w)
        started = self.reply(wall)
        if not started or started[0] != STARTED:
            os.close(out_r)
            raise SystemExit("strict_replay: %s refused a request: %r" % (self.binary, started))
        answer = bytearray()
        end = time.monotonic() + wall
        done = None
        while done is None:
            ready, _, _ = select.select([out_r, self.sock], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                self.sock.send(KILL)
                end = time.monotonic() + wall
                continue
            if out_r in ready:
                chunk = os.read(out_r, 1 << 20)
                if chunk:
                    answer += chunk
                    continue
                ready = [self.sock]
            if self.sock in ready:
                done = self.reply(0)
        # The child has exited: whatever it wrote is in the pipe.
        os.set_blocking(out_r, False)
        try:
            while chunk := os.read(out_r, 1 << 20):
                answer += chunk
        except BlockingIOError:
            pass
        os.close(out_r)
        _, _, status, cpu = done
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        return code, bytes(answer), cpu / 1e6

    def close(self):
        self.sock.close()
        self.proc.wait(10)


def in_process(binary, prefix, data):
    """True when the in-process core (the normal build's replay driver) ends normally."""
    with tempfile.NamedTemporaryFile(prefix="sx-strict-replay-") as f:
        f.write(bytes(prefix).ljust(PREFIX, b"\0") + data if len(prefix) == PREFIX else data)
        f.flush()
        argv = [str(BIN / REPLAY[binary]), "--as-is", f.name]
        p = subprocess.run(argv, capture_output=True, timeout=120)
        return p.returncode == 0, p.returncode


def first_forbidden(binary, args, data):
    """The first syscall after the strict line, from a one-shot run under strace (None
    when there is none, or no strace)."""
    if not Path("/usr/bin/strace").exists():
        return None
    with tempfile.NamedTemporaryFile(prefix="sx-strict-trace-") as trace, \
            tempfile.TemporaryFile() as src:
        src.write(data)
        src.seek(0)
        subprocess.run(["strace", "-f", "-qq", "-o", trace.name, str(BIN / binary), *args],
                       stdin=src, capture_output=True, env={}, timeout=120)
        after = False
        for line in open(trace.name):
            if "PR_SET_SECCOMP" in line:
                after = True
                continue
            if after:
                call = line.split(None, 1)[1] if " " in line else line
                name = call.split("(", 1)[0]
                if name.isidentifier() and name not in ALLOWED:
                    return call.strip()[:160]
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--cpu-seconds", type=int, default=CPU_SECONDS)
    args = ap.parse_args()
    paths = args.paths or [ROOT / "fixtures"] + (
        [ROOT / "build-fuzz" / "corpus"] if (ROOT / "build-fuzz" / "corpus").is_dir() else [])
    start = time.monotonic()
    zygotes, counts, reports, files = {}, {}, [], set()
    try:
        for path, binary, prefix, data in inputs(paths):
            if not (BIN / binary).exists():
                continue
            z = zygotes.get(binary) or zygotes.setdefault(binary, Zygote(binary))
            req = request_args(prefix, binary) + FUZZ_ARGS + ["--cpu-seconds", str(args.cpu_seconds)]
            code, _, cpu = z.run(req, data)
            files.add(path)
            c = counts.setdefault(binary, {"requests": 0, "answered": 0, "killed": 0, "cpu limit": 0})
            c["requests"] += 1
            if code >= 0:
                c["answered"] += 1
                continue
            # RLIMIT_CPU samples ticks, rusage is precise: a kill at the limit may show a
            # little less CPU. Near the limit, only a forbidden syscall seen under strace
            # makes it a report.
            near_limit = code == -signal.SIGKILL and cpu >= 0.5 * args.cpu_seconds
            call = first_forbidden(binary, req, data) if near_limit else None
            if near_limit and call is None:
                c["cpu limit"] += 1
                continue
            c["killed"] += 1
            normal, rc = in_process(binary, prefix, data)
            if normal:
                reports.append((path, binary, req, -code, cpu,
                                call or first_forbidden(binary, req, data)
                                or "(no forbidden syscall seen under strace this time)"))
            else:
                print("note: %s [%s %s]: killed strict (signal %d) and failed in-process too "
                      "(exit %d): a crash for the fuzzers, not a lazy syscall"
                      % (path, binary, " ".join(req[:3]), -code, rc))
    finally:
        for z in zygotes.values():
            z.close()
    total = sum(c["requests"] for c in counts.values())
    print("strict_replay: %d inputs, %d requests in %.1f s" % (len(files), total,
                                                              time.monotonic() - start))
    for binary, c in sorted(counts.items()):
        print("  %-9s %s" % (binary, ", ".join("%d %s" % (v, k) for k, v in c.items())))
    for path, binary, req, sig, cpu, call in reports:
        print("LAZY SYSCALL: %s [%s %s]: strict child killed by signal %d (%.2f s CPU), the "
              "in-process core answered normally; after the line: %s"
              % (path, binary, " ".join(req), sig, cpu, call))
    print("strict_replay: %d input(s) die only in the sandbox" % len(reports))
    return 1 if reports else 0


if __name__ == "__main__":
    sys.exit(main())

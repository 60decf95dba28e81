"""strict_trace.py: the check the fixture suites share: every request through one fork
server under `strace -f`, each child crossing the strict line and making only read, write,
exit and rt_sigreturn after it, each answer equal byte for byte to one-shot mode's. A test
helper (imported by test_*.py), not a test module."""

import subprocess
import tempfile

from answer import BIN, Run
from test_zygote import LINE, Zygote

ALLOWED = {"read", "write", "exit", "rt_sigreturn"}


def after_the_line(trace_text, pids=None):
    """pid -> syscall names after that pid's prctl(PR_SET_SECCOMP) (None: no prctl)."""
    seen = {}
    for line in trace_text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        pid = int(m.group(1))
        if pids is not None and pid not in pids:
            continue
        if "PR_SET_SECCOMP" in line:
            seen[pid] = set()
        elif seen.get(pid) is not None:
            if m.group(2):
                seen[pid].add(m.group(2))
        else:
            seen[pid] = None
    return seen


def traced_oneshot(binary, path, mode):
    """One-shot `binary` with options `mode` on the file at `path`, under `strace -f`: its
    Run, and the syscalls after the line of every traced process (after_the_line)."""
    with tempfile.NamedTemporaryFile("r", prefix="sx-trace-") as trace:
        with open(path, "rb") as f:
            p = subprocess.run(["strace", "-f", "-qq", "-o", trace.name, str(BIN / binary),
                                *mode], stdin=f, capture_output=True, env={}, timeout=120)
        calls = after_the_line(trace.read())
    return Run(p.returncode, p.stdout, p.stderr, 0.0, 0), calls


def check_through_traced_fork_server(binary, requests, tmp_path, oneshot, check_answer=None):
    """`requests`: (label, mode, path) triples, `mode` a tuple of options. Serves them all
    through one fork server of `binary` traced with `strace -f`, then for each: the answer
    passes check_answer(label, mode, run) (when given), its child crossed the line and made
    only ALLOWED calls after it, and `oneshot(label, mode)` (a Run) answered the same."""
    trace = tmp_path / "trace"
    z = Zygote(binary, wrap=["strace", "-f", "-qq", "-o", str(trace)])
    served = {}
    try:
        for label, mode, path in requests:
            r, done = z.run(list(mode), path=path)
            served[(label, mode)] = (r, done.pid)
    finally:
        assert z.close() == 0
    calls = after_the_line(trace.read_text(), {pid for _, pid in served.values()})
    for (label, mode), (r, pid) in served.items():
        if check_answer is not None:
            check_answer(label, mode, r)
        assert calls.get(pid) is not None, f"{label} {mode}: child {pid} never crossed the line"
        assert calls[pid] <= ALLOWED, (label, mode, calls[pid] - ALLOWED)
        one = oneshot(label, mode)
        assert (r.returncode, r.out) == (one.returncode, one.out), (
            f"{label} {mode}: the fork server answered differently from one-shot mode")

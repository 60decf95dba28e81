"""Pipe input (issue 12, finding 9): an endless pipe is over the input cap (LIMIT), never
"out of memory", and a pipe of exactly the cap fits in a pool that holds it once."""

import os
import threading

from answer import parse, run_raw

# Pool and cap chosen so that a buffer doubled past the cap (32 MiB) cannot fit the pool,
# while the cap plus one byte can.
POOL = ["--memory", "32M"]


def test_an_endless_pipe_is_a_limit():
    with open("/dev/zero", "rb") as zero:
        run = parse(run_raw("sx-selftest", [*POOL, "--max-input-bytes", "16M"], stdin=zero))
    assert (run.kind, run.status) == ("error", "limit"), run.detail
    assert "16777216" in run.detail
    # The buffer stopped one byte past the cap: never twice the cap.
    assert run.maxrss_kib < 28 * 1024, run.maxrss_kib


def pipe_of(data: bytes):
    r, w = os.pipe()

    def feed():
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(w, view):]
        except BrokenPipeError:  # the extractor stopped reading: its answer says why
            pass
        finally:
            os.close(w)

    thread = threading.Thread(target=feed)
    thread.start()
    return r, thread


def test_a_pipe_of_exactly_the_cap_fits():
    size = 16 << 20
    data = b"ok-meta\n" + b"\0" * (size - 8)
    r, thread = pipe_of(data)
    try:
        run = parse(run_raw("sx-selftest", [*POOL, "--max-input-bytes", str(size)], stdin=r))
    finally:
        os.close(r)
        thread.join()
    assert run.kind == "meta" and run.meta["format"] == "selftest", run.detail


def test_one_byte_over_the_cap_is_a_limit():
    size = 16 << 20
    r, thread = pipe_of(b"ok-meta\n" + b"\0" * (size - 7))
    try:
        run = parse(run_raw("sx-selftest", [*POOL, "--max-input-bytes", str(size)], stdin=r))
    finally:
        os.close(r)
        thread.join()
    assert (run.kind, run.status) == ("error", "limit"), run.detail

"""test_color_cache.py: the colour transforms a fork server builds once (image_color.c,
color_cache_build: sx-image's builds the 8-bit Display P3 one, sx-heif's every one) answer
bit for bit what a one-shot process answers, which builds them per file. PNGs with a cICP
chunk for every description of the cache list, 8-bit and 16-bit, plus
descriptions that share a cached transform (transfer 6 = 1) and ones that are not cached
(built per file in both modes), made here with zlib (Pillow writes no 16-bit RGB PNG nor
cICP): each one-shot and through one fork server, under `strace -f` (after the strict line
only read, write, exit, rt_sigreturn), the two answers equal byte for byte, and converted
(the full decode differs from `--color raw`). tests/c/test_color_cache.c compares the two
paths in one process on every 8-bit colour, for every description of the list."""
import random
import shutil
import struct
import zlib
from functools import lru_cache

import pytest

from answer import parse
from strict_trace import ALLOWED, check_through_traced_fork_server, traced_oneshot

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")

# (primaries, transfer, bit depth): the cached ones (image_color.c, cached_keys), transfer 6
# sharing transfer 1's curve, and P3 with the BT.709 curve / linear BT.2020, not cached.
DESCRIPTIONS = [(12, 13, 8), (1, 1, 8), (9, 1, 8), (9, 13, 8), (12, 13, 16), (1, 1, 16),
                (1, 6, 8), (12, 1, 8), (9, 8, 16)]
MODES = (("--full",), ("--thumbnail", "24"), ("--full", "--color", "raw"))
W, H = 61, 37


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def cicp_png(primaries, transfer, depth):
    rnd = random.Random(primaries * 1000 + transfer * 10 + depth)
    top = (1 << depth) - 1
    fmt = ">" + ("B" if depth == 8 else "H") * (W * 4)
    rows = b""
    for y in range(H):
        px = []
        for x in range(W):
            px += [x * top // (W - 1), y * top // (H - 1), rnd.randrange(top + 1),
                   rnd.randrange(top + 1)]
        rows += b"\0" + struct.pack(fmt, *px)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, depth, 6, 0, 0, 0))
            + chunk(b"cICP", bytes([primaries, transfer, 0, 1]))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cicp")
    out = {}
    for p, t, depth in DESCRIPTIONS:
        path = d / f"cicp_{p}_{t}_{depth}.png"
        path.write_bytes(cicp_png(p, t, depth))
        out[path.name] = path
    return out


@lru_cache(maxsize=None)
def traced(path, mode):
    r, calls = traced_oneshot("sx-image", path, mode)
    return parse(r), calls


def check_answer(name, mode, r):
    if not r.kind:
        parse(r)
    assert r.returncode == 0 and r.kind == "image", (name, mode, r.status, r.detail)


def test_cached_transforms_answer_as_per_file_ones(files, tmp_path):
    for name, path in files.items():
        for mode in MODES:
            r, calls = traced(path, mode)
            check_answer(name, mode, r)
            strict = [c for c in calls.values() if c is not None]
            assert len(strict) == 1 and strict[0] <= ALLOWED, (name, mode, strict)
        # Converted: otherwise a cached transform would have nothing to show.
        assert traced(path, MODES[0])[0].pixels != traced(path, MODES[2])[0].pixels, name
    check_through_traced_fork_server(
        "sx-image", [(name, mode, path) for name, path in files.items() for mode in MODES],
        tmp_path, lambda name, mode: traced(files[name], mode)[0], check_answer)

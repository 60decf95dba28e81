#!/usr/bin/python3
"""bench/png_rows.py: peak memory and CPU of sx-image on a 24 MP PNG, plain and Adam7
interlaced (issue 21: PNG thumbnails read row by row). Not a test: nothing is asserted.

    /usr/bin/python3 bench/png_rows.py [--bin build/bin] [--before OTHER/bin] [--reps 3]

Makes a 6000x4000 photo-like PNG (fixtures/make_fixtures.py photo(), Pillow, zlib level 3)
and its Adam7 twin (same pixels, encoded here: Pillow cannot write Adam7), then runs
one-shot `sx-image --thumbnail 256` and `--full` on each under sx-measure
(tests/c/sx_measure.c): ru_maxrss of the extractor alone, and its CPU time (the median of
--reps runs). The input is mapped, so its pages (43 MB here) count in the RSS.
`--before` runs a second build (e.g. of the commit before) for a side-by-side table.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "fixtures"))

# Adam7: (x start, y start, x step, y step) of each pass (PNG spec, section 8.2).
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2))


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def adam7_png(im) -> bytes:
    """`im` (RGB) as an interlaced 8-bit RGB PNG, filter 0 on every row."""
    w, h = im.size
    px = im.tobytes()
    raw = bytearray()
    for x0, y0, dx, dy in ADAM7:
        if x0 >= w or y0 >= h:
            continue
        for y in range(y0, h, dy):
            row = px[y * w * 3:(y + 1) * w * 3]
            raw.append(0)
            for x in range(x0, w, dx):
                raw += row[x * 3:x * 3 + 3]
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
            chunk(b"IDAT", zlib.compress(bytes(raw), 3)) + chunk(b"IEND", b""))


def measure(bin_dir: Path, args: list[str], path: Path, reps: int) -> tuple[int, float]:
    rss, cpu = [], []
    for _ in range(reps):
        with open(path, "rb") as f:
            p = subprocess.run([str(bin_dir / "sx-measure"), str(bin_dir / "sx-image"), *args],
                               stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={}, timeout=300)
        line = p.stderr.decode(errors="replace").strip().splitlines()[-1]
        fields = dict(kv.split("=") for kv in line.split(": ", 1)[1].split())
        rss.append(int(fields["maxrss_kib"]))
        cpu.append(int(fields["cpu_us"]) / 1000)
    return max(rss), statistics.median(cpu)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(REPO / "build" / "bin"))
    ap.add_argument("--before", help="another build's bin directory, for comparison")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    import make_fixtures as mf  # Pillow; only its picture helper is used

    builds = [("this build", Path(args.bin))]
    if args.before:
        builds.insert(0, ("before", Path(args.before)))
    with tempfile.TemporaryDirectory(prefix="sx-png-rows-") as tmp:
        im = mf.photo(6000, 4000, seed=77)
        plain, adam7 = Path(tmp) / "24mp.png", Path(tmp) / "24mp_adam7.png"
        im.save(plain, "PNG", compress_level=3)
        adam7.write_bytes(adam7_png(im))
        print("| input | mode | " + " | ".join(f"{n}: peak RSS, CPU" for n, _ in builds) + " |")
        print("|---|---|" + "---|" * len(builds))
        for label, path in (("6000x4000 PNG", plain), ("6000x4000 PNG, Adam7", adam7)):
            for mode in (["--thumbnail", "256"], ["--full"]):
                cells = []
                for _, b in builds:
                    rss, cpu = measure(b, mode, path, args.reps)
                    cells.append(f"{rss / 1024:.0f} MiB, {cpu:.0f} ms")
                print(f"| {label} ({path.stat().st_size / 1e6:.0f} MB) | {' '.join(mode)} | "
                      + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

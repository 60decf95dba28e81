"""test_image_fixtures.py: sx-image on every fixture, against fixtures/expectations.json
and against Pillow as the independent decoder.

Tolerances (stated once, here), as mean absolute error per RGB channel (of 255), images
with alpha composited over mid-grey first:
- PNG full decode: exactly Pillow's decode.
- JPEG full decode: within 1.0 of Pillow's.
- Thumbnails, against Pillow's BOX resize of its own full decode to the same size:
  PNG within 2.5 (Pillow's BOX weighs whole pixels by their centres, ours by exact area);
  JPEG within 5.0 (we decode at libjpeg's reduced DCT scale first, which is a different
  low-pass than full decode + box: 0.3 on the 1600x1200 photo-like fixture, up to ~4.5 on
  the small noisy ones).
"""
import io
import json
import random

import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat

from answer import FIXTURES, run

JPEG_FULL_TOLERANCE = 1.0
# WebP thumbnails come from libwebp's scaled decode (not a box filter) of a lossy image
# (measured 5.04 at 64x48 -> 40x30).
# GIF: the same area averaging as PNG, but over dithered palette noise, where its rounding
# at non-integer ratios and Pillow's BOX part more (measured 5.3 at 64x48 -> 40x30).
THUMB_TOLERANCE = {"png": 2.5, "jpeg": 5.0, "gif": 6.0, "webp": 6.0}
LOSSLESS = ("png", "gif")

EXPECT = json.loads((FIXTURES / "expectations.json").read_text())
GOOD = sorted(k for k, v in EXPECT.items() if v["outcome"] == "ok")
BAD = sorted(k for k, v in EXPECT.items() if v["outcome"] == "error")


def fit(w, h, bw, bh):
    if w <= bw and h <= bh:
        return w, h
    s = min(bw / w, bh / h)
    return max(1, int(w * s + 0.5)), max(1, int(h * s + 0.5))


def as_image(r):
    return Image.frombytes("RGBA" if r.channels == 4 else "RGB", (r.width, r.height), r.pixels)


def pillow_rgba(path):
    """Pillow's own decode, upright, as 8-bit RGBA (16-bit gray keeps its high byte)."""
    im = Image.open(path)
    im.load()
    if im.mode in ("I", "I;16", "I;16B"):
        high = bytes(v >> 8 for v in im.getdata())
        im = Image.frombytes("L", im.size, high)
    im = ImageOps.exif_transpose(im)
    return im.convert("RGBA")


def over_grey(im):
    bg = Image.new("RGBA", im.size, (128, 128, 128, 255))
    return Image.alpha_composite(bg, im.convert("RGBA")).convert("RGB")


def mean_error(a, b):
    assert a.size == b.size, (a.size, b.size)
    diff = ImageChops.difference(over_grey(a), over_grey(b))
    return sum(ImageStat.Stat(diff).mean) / 3


@pytest.mark.parametrize("name", GOOD)
def test_probe_matches_expectations(name):
    e = EXPECT[name]
    r = run("sx-image", ["--probe"], path=FIXTURES / name)
    assert r.kind == "meta", r.detail
    assert r.meta["format"] == e["format"]
    assert (r.meta["width"], r.meta["height"]) == (e["width"], e["height"])
    if e["format"] == "jpeg":
        assert r.meta["orientation"] == e.get("orientation", 1)
    im = Image.open(FIXTURES / name)
    assert (r.meta["width"], r.meta["height"]) == im.size
    if e["format"] == "png":
        assert r.meta["progressive"] == bool(im.info.get("interlace"))
    elif e["format"] == "jpeg":
        assert r.meta["progressive"] == bool(im.info.get("progressive") or im.info.get("progression"))


@pytest.mark.parametrize("name", GOOD)
def test_full_decode_matches_pillow(name):
    path = FIXTURES / name
    r = run("sx-image", ["--full"], path=path)
    assert r.kind == "image", r.detail
    expected = pillow_rgba(path)
    ours = as_image(r)
    if EXPECT[name]["format"] in LOSSLESS:
        assert ours.tobytes() == expected.tobytes()
    else:
        assert mean_error(ours, expected) <= JPEG_FULL_TOLERANCE


@pytest.mark.parametrize("name", GOOD)
@pytest.mark.parametrize("box", [(64, 64), (100, 30)])
def test_thumbnail_close_to_pillow(name, box):
    path = FIXTURES / name
    r = run("sx-image", ["--thumbnail", f"{box[0]}x{box[1]}"], path=path)
    assert r.kind == "image", r.detail
    expected = pillow_rgba(path)
    assert (r.width, r.height) == fit(*expected.size, *box)
    expected = expected.resize((r.width, r.height), Image.BOX)
    assert mean_error(as_image(r), expected) <= THUMB_TOLERANCE[EXPECT[name]["format"]]


def test_rgb_layout_drops_alpha():
    name = next(k for k in GOOD if EXPECT[k]["format"] == "png")
    r = run("sx-image", ["--full", "--rgb"], path=FIXTURES / name)
    assert r.channels == 3
    assert as_image(r).tobytes() == pillow_rgba(FIXTURES / name).convert("RGB").tobytes()


@pytest.mark.parametrize("name", BAD)
@pytest.mark.parametrize("mode", [["--thumbnail", "64"], ["--full"]])
def test_bad_input_is_a_clean_error(name, mode):
    r = run("sx-image", [*mode, "--memory", "16M"], path=FIXTURES / name, timeout=10)
    assert r.kind == "error", f"{name}: got {r.kind}"
    assert r.status == EXPECT[name]["status"], (name, r.status, r.detail)
    assert r.detail
    assert r.cpu_seconds < 2.0
    # Refused before any large allocation: the whole process stays small.
    assert r.maxrss_kib < 48 * 1024, r.maxrss_kib


def truncations():
    out = []
    for name in GOOD[:: max(1, len(GOOD) // 8)]:
        data = (FIXTURES / name).read_bytes()
        for cut in sorted({8, len(data) // 4, len(data) // 2, len(data) * 9 // 10, len(data) - 1}):
            if 0 < cut < len(data):
                out.append((name, cut))
    return out


@pytest.mark.parametrize("name,cut", truncations())
def test_truncated_is_never_an_image(name, cut):
    data = (FIXTURES / name).read_bytes()[:cut]
    for mode in (["--thumbnail", "64"], ["--full"]):
        r = run("sx-image", mode, data=data)
        assert r.kind == "error" and r.status == "bad_input", (name, cut, r.kind, r.detail)


def test_random_bytes_are_unsupported():
    rng = random.Random(7)
    for _ in range(20):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5000)))
        r = run("sx-image", ["--thumbnail", "64"], data=data)
        assert r.kind == "error" and r.status in ("unsupported", "bad_input")


def test_empty_input_is_bad_input():
    with open("/dev/null", "rb") as f:
        from answer import parse, run_raw
        r = parse(run_raw("sx-image", ["--probe"], stdin=f))
    assert r.status == "bad_input" and "empty" in r.detail


def test_pixel_cap_refuses_full_decode():
    name = next(k for k in GOOD if EXPECT[k]["width"] * EXPECT[k]["height"] > 100)
    r = run("sx-image", ["--full", "--max-pixels", "100"], path=FIXTURES / name)
    assert r.status == "limit"


def test_pillow_can_read_what_we_write():
    """Round trip: our full RGBA decode saved by Pillow reopens identical."""
    name = GOOD[0]
    r = run("sx-image", ["--full"], path=FIXTURES / name)
    buf = io.BytesIO()
    as_image(r).save(buf, "PNG")
    assert Image.open(io.BytesIO(buf.getvalue())).tobytes() == r.pixels


@pytest.mark.parametrize("name", sorted(k for k, v in EXPECT.items() if v["outcome"] == "error_or_ok"))
def test_damaged_but_parseable_is_an_answer(name):
    """Files whose fate is not fixed (damaged entropy data) still end in a valid answer."""
    for mode in (["--thumbnail", "64"], ["--full"]):
        r = run("sx-image", mode, path=FIXTURES / name)
        assert r.kind in ("image", "error")
        if r.kind == "error":
            assert r.status == "bad_input", r.detail

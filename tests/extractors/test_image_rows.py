"""test_image_rows.py: the row-by-row paths of sx-image (issue 21): decoded rows go
straight into the area-averaging scaler (PNG read with png_read_row, JPEG at every DCT
scale on Pillow's draft path below full scale), and RGB answers are decoded as RGB.

- PNG thumbnails equal the old full-decode-then-downscale result: our own full decode,
  area-averaged here in Python with the scaler's arithmetic (common/sx_scale.c), within 1
  per channel (float against double rounding). The full decodes of the files made here
  are Pillow's exactly (test_image_fixtures.py checks the fixtures' full decodes, and
  their thumbnails against Pillow's BOX reduction). No Pillow BOX check on the files made
  here: their salt noise at ratios like 257 -> 256 measures Pillow's centre-weighted BOX
  against exact coverage (22 of 255, the same before and after issue 21), not decoding.
  Inputs: every PNG of fixtures/good/ and fixtures/color/ (grey 1-16 bit, palette and tRNS,
  16-bit RGB(A), Adam7, gAMA/cHRM, iCCP, cICP) and odd sizes made here (1xN, Nx1, primes),
  plain and Adam7 (an Adam7 thumbnail is read pass by pass, holding only the even rows,
  while its full decode lets libpng combine the passes: two independent paths), with and
  without a gAMA to convert, 8 and 16 bits.
- JPEG thumbnails at each libjpeg DCT scale 1/8..8/8 (and an EXIF-rotated one) within
  test_image_fixtures.py's JPEG thumbnail tolerance of Pillow's full decode + BOX.
- `--full --rgb` and `--full --auto-alpha` answers are exactly the RGBA answer without its
  alpha (or the RGBA answer when alpha carries something).
- every generated file in every mode, one-shot and through a fork server, under strace.
- memory, deterministically: with the smallest pool (16 MiB) a 2800x2000 PNG cannot be
  decoded whole but its thumbnail can, plain and Adam7 (fails on the code before issue 21).
"""
import io
import random
import shutil
import struct
import sys
import zlib
from functools import lru_cache

import pytest
from PIL import Image, ImageDraw

from answer import FIXTURES, parse, run
from strict_trace import ALLOWED, check_through_traced_fork_server, traced_oneshot
from test_image_fixtures import THUMB_TOLERANCE, as_image, fit, mean_error, pillow_rgba

BOXES = ((64, 64), (100, 30), (256, 256), (1, 1))
PNG_FIXTURES = sorted(FIXTURES.glob("good/*.png")) + sorted(FIXTURES.glob("color/png*.png"))
REFERENCE_MAX_PIXELS = 120_000  # the pure-Python reference scaler's budget


def noise_picture(w, h, seed, mode="RGB"):
    rng = random.Random(seed)
    im = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(im)
    for _ in range(12):
        x0, y0 = rng.randrange(w), rng.randrange(h)
        d.rectangle([x0, y0, x0 + rng.randrange(1, w + 1), y0 + rng.randrange(1, h + 1)],
                    fill=tuple(rng.randrange(256) for _ in range(3)))
    px = im.load()
    for _ in range(w * h // 3):
        x, y = rng.randrange(w), rng.randrange(h)
        px[x, y] = tuple(rng.randrange(256) for _ in range(3))
    return im.convert(mode) if mode != "RGB" else im


def png_bytes(im, **opts):
    buf = io.BytesIO()
    im.save(buf, "PNG", **opts)
    return buf.getvalue()


def generated_pngs():
    """name -> PNG bytes: odd and prime sizes in several colour types, made here."""
    out = {}
    out["rgb8_257x131.png"] = png_bytes(noise_picture(257, 131, 1))
    out["rgba8_1x300.png"] = png_bytes(noise_picture(1, 300, 2, "RGBA"))
    out["gray8_300x1.png"] = png_bytes(noise_picture(300, 1, 3, "L"))
    out["graya8_199x101.png"] = png_bytes(noise_picture(199, 101, 4, "LA"))
    p = noise_picture(131, 257, 5).convert("P", palette=Image.Palette.ADAPTIVE, colors=61)
    out["p8_trns_131x257.png"] = png_bytes(p, transparency=bytes(range(0, 244, 4)))
    g16 = Image.new("I;16", (263, 97))
    g16.putdata([(x * 251 + y * 509) % 65536 for y in range(97) for x in range(263)])
    out["gray16_263x97.png"] = png_bytes(g16)
    out["rgb8_7x1031.png"] = png_bytes(noise_picture(7, 1031, 6))
    return out


# Adam7: (x start, y start, x step, y step) of each pass (PNG spec, section 8.2).
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2))


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def adam7_png(w, h, color_type, depth, samples, gamma=None):
    """An interlaced PNG of `samples` (w * h pixels of whole bytes, row by row), filter 0:
    Pillow reads Adam7 but cannot write it. `gamma`: a gAMA chunk (file gamma x 100000)."""
    bpp = len(samples) // (w * h)
    raw = bytearray()
    for x0, y0, dx, dy in ADAM7:
        if x0 >= w or y0 >= h:
            continue
        for y in range(y0, h, dy):
            raw.append(0)
            for x in range(x0, w, dx):
                raw += samples[(y * w + x) * bpp:(y * w + x + 1) * bpp]
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1))
    if gamma is not None:
        out += png_chunk(b"gAMA", struct.pack(">I", gamma))
    return out + png_chunk(b"IDAT", zlib.compress(bytes(raw))) + png_chunk(b"IEND", b"")


def generated_adam7():
    out = {}
    rgb = noise_picture(257, 131, 7)
    out["adam7_rgb8_257x131.png"] = adam7_png(257, 131, 2, 8, rgb.tobytes())
    out["adam7_rgb8_257x131_gama.png"] = adam7_png(257, 131, 2, 8, rgb.tobytes(), gamma=80000)
    out["adam7_rgba8_1x300.png"] = adam7_png(1, 300, 6, 8, noise_picture(1, 300, 8, "RGBA").tobytes())
    out["adam7_gray8_300x1.png"] = adam7_png(300, 1, 0, 8, noise_picture(300, 1, 9, "L").tobytes())
    out["adam7_rgb8_3x3.png"] = adam7_png(3, 3, 2, 8, noise_picture(3, 3, 10).tobytes())
    g16 = b"".join(struct.pack(">H", (x * 251 + y * 509) % 65536) for y in range(97) for x in range(263))
    out["adam7_gray16_263x97.png"] = adam7_png(263, 97, 0, 16, g16)
    rgb16 = b"".join(struct.pack(">HHH", x * 600, y * 700, (x * y * 37) % 65536)
                     for y in range(53) for x in range(101))
    # 16-bit with a gamma to convert: the colour is applied before the reduction to 8 bits.
    out["adam7_rgb16_101x53_gama.png"] = adam7_png(101, 53, 2, 16, rgb16, gamma=100000)
    return out


GENERATED = generated_pngs()
GENERATED.update(generated_adam7())


@pytest.fixture(scope="module")
def gen_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("rows")
    for name, data in GENERATED.items():
        (d / name).write_bytes(data)
    for name, data in generated_jpegs().items():
        (d / name).write_bytes(data)
    return d


# ---- the scaler's arithmetic, in Python (common/sx_scale.c: build_axis, area average) ----


def axis(s, d):
    scale = s / d
    out = []
    for i in range(d):
        lo, hi = i * scale, (i + 1) * scale
        a, b = int(lo), int(hi)
        if b >= s or b == hi:
            b = b - 1 if b > 0 else 0
        b = min(b, s - 1)
        ws = []
        for j in range(a, b + 1):
            left, right = max(j, lo), min(j + 1, hi)
            ws.append((right - left) / scale)
        out.append((a, ws))
    return out


def area_average(im, dw, dh):
    """RGBA `im` resampled as sx_downscale_rgba does: premultiplied, exact coverage."""
    sw, sh = im.size
    px = im.tobytes()
    ax, ay = axis(sw, dw), axis(sh, dh)
    rows = []
    for y in range(sh):
        row = []
        base = y * sw * 4
        for first, ws in ax:
            r = g = b = a = 0.0
            for j, w in enumerate(ws):
                p = base + (first + j) * 4
                wa = w * px[p + 3]
                r += wa * px[p]
                g += wa * px[p + 1]
                b += wa * px[p + 2]
                a += wa
            row.append((r, g, b, a))
        rows.append(row)
    out = bytearray()
    for first, ws in ay:
        for x in range(dw):
            acc = [0.0] * 4
            for j, w in enumerate(ws):
                t = rows[first + j][x]
                for c in range(4):
                    acc[c] += w * t[c]
            a = acc[3]
            for c in range(3):
                v = acc[c] / a if a > 0 else 0
                out.append(255 if v >= 255 else 0 if v <= 0 else int(v + 0.5))
            out.append(255 if a >= 255 else 0 if a <= 0 else int(a + 0.5))
    return Image.frombytes("RGBA", (dw, dh), bytes(out))


def max_channel_difference(a, b):
    assert a.size == b.size, (a.size, b.size)
    return max((abs(x - y) for x, y in zip(a.tobytes(), b.tobytes())), default=0)


def test_reference_scaler_matches_the_c_one_on_a_known_case():
    """The Python reference against test_scale.c's hand-computed 3 -> 2 case."""
    im = Image.frombytes("RGBA", (3, 1), bytes([0, 0, 0, 255, 90, 90, 90, 255, 180, 180, 180, 255]))
    assert area_average(im, 2, 1).tobytes() == bytes([30, 30, 30, 255, 150, 150, 150, 255])


def png_cases():
    cases = [(p.name, p) for p in PNG_FIXTURES]
    cases += [(name, None) for name in GENERATED]
    return cases


def png_path(name, path, gen_dir):
    return path if path is not None else gen_dir / name


@pytest.mark.parametrize("name,path", png_cases(), ids=[c[0] for c in png_cases()])
@pytest.mark.parametrize("box", BOXES, ids=lambda b: f"{b[0]}x{b[1]}")
def test_png_thumbnail_is_the_full_decode_area_averaged(name, path, box, gen_dir):
    path = png_path(name, path, gen_dir)
    full = run("sx-image", ["--full"], path=path)
    if full.kind != "image":  # a colour fixture meant to fail stays out of this test
        pytest.skip(f"{name}: {full.status}")
    thumb = run("sx-image", ["--thumbnail", f"{box[0]}x{box[1]}"], path=path)
    assert thumb.kind == "image", thumb.detail
    assert (thumb.width, thumb.height) == fit(full.width, full.height, *box)
    if full.width * full.height > REFERENCE_MAX_PIXELS:
        pytest.skip("too large for the Python reference (Pillow's BOX check covers it)")
    ours = as_image(thumb).convert("RGBA")
    expected = as_image(full).convert("RGBA")
    if expected.size != ours.size:
        expected = area_average(expected, thumb.width, thumb.height)
    assert max_channel_difference(ours, expected) <= 1


@pytest.mark.parametrize("name", sorted(n for n in GENERATED if "gama" not in n))
def test_generated_png_full_decode_is_pillows(name, gen_dir):
    path = gen_dir / name
    r = run("sx-image", ["--full"], path=path)
    assert as_image(r).convert("RGBA").tobytes() == pillow_rgba(path).tobytes()


# ---- JPEG: each DCT scale ---------------------------------------------------------------


def generated_jpegs():
    """The photo-like picture of fixtures/make_fixtures.py (what bench/ uses), as JPEGs."""
    sys.path.insert(0, str(FIXTURES))
    import make_fixtures  # Pillow only; its picture helper

    base = make_fixtures.photo(800, 600, seed=21)
    out = {}
    for name, opts in (("q90_420_800x600.jpg", dict(quality=90)),
                       ("q95_444_800x600.jpg", dict(quality=95, subsampling=0)),
                       ("q85_progressive_800x600.jpg", dict(quality=85, progressive=True))):
        buf = io.BytesIO()
        base.save(buf, "JPEG", **opts)
        out[name] = buf.getvalue()
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    base.save(buf, "JPEG", quality=90, exif=exif)
    out["q90_420_800x600_exif6.jpg"] = buf.getvalue()
    return out


JPEGS = sorted(generated_jpegs())
# An 800-wide picture fitted to a t x t box is t wide; libjpeg's n/8 scale is the smallest
# with 800 * n / 8 >= t, so these boxes select n = 1, 2, ..., 8 in turn (8: full scale).
DCT_BOXES = {n: 100 * n - 10 for n in range(1, 9)}


@pytest.mark.parametrize("name", JPEGS)
@pytest.mark.parametrize("n", sorted(DCT_BOXES), ids=lambda n: f"scale{n}of8")
def test_jpeg_thumbnail_at_each_dct_scale_close_to_pillow(name, n, gen_dir):
    path = gen_dir / name
    box = DCT_BOXES[n]
    r = run("sx-image", ["--thumbnail", str(box)], path=path)
    assert r.kind == "image", r.detail
    expected = pillow_rgba(path)
    assert (r.width, r.height) == fit(*expected.size, box, box)
    expected = expected.resize((r.width, r.height), Image.BOX)
    assert mean_error(as_image(r), expected) <= THUMB_TOLERANCE["jpeg"]


# ---- RGB answers decoded as RGB ---------------------------------------------------------


def rgb_cases():
    good = sorted(FIXTURES.glob("good/*.png")) + sorted(FIXTURES.glob("good/*.jpg"))
    color = sorted(FIXTURES.glob("color/*.png")) + sorted(FIXTURES.glob("color/*.jpg"))
    return [(p.parent.name + "/" + p.name, p) for p in good + color]


@pytest.mark.parametrize("name,path", rgb_cases(), ids=[c[0] for c in rgb_cases()])
def test_rgb_answers_are_the_rgba_answer_without_alpha(name, path):
    rgba = run("sx-image", ["--full"], path=path)
    if rgba.kind != "image":
        pytest.skip(f"{name}: {rgba.status}")
    rgb = run("sx-image", ["--full", "--rgb"], path=path)
    assert (rgb.channels, rgb.width, rgb.height) == (3, rgba.width, rgba.height)
    expected = Image.frombytes("RGBA", (rgba.width, rgba.height), rgba.pixels)
    assert rgb.pixels == expected.convert("RGB").tobytes()
    auto = run("sx-image", ["--full", "--auto-alpha"], path=path)
    opaque = expected.getextrema()[3] == (255, 255)
    assert auto.channels == (3 if opaque else 4)
    assert auto.pixels == (rgb.pixels if opaque else rgba.pixels)


# ---- every generated file under strace ----------------------------------------------------

MODES = (("--thumbnail", "64"), ("--thumbnail", "100x30"), ("--full",), ("--full", "--rgb"))
straced = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


@straced
def test_generated_files_through_a_traced_fork_server(tmp_path, gen_dir):
    names = sorted(GENERATED) + JPEGS

    @lru_cache(maxsize=None)
    def oneshot(name, mode):
        r, calls = traced_oneshot("sx-image", gen_dir / name, mode)
        strict = [c for c in calls.values() if c is not None]
        assert len(strict) == 1, f"{name} {mode}: {len(strict)} processes crossed the line"
        assert strict[0] <= ALLOWED, (name, mode, strict[0] - ALLOWED)
        return r

    def check_answer(name, mode, r):
        assert r.returncode == 0, (name, mode)
        parse(r)
        assert r.kind == "image", (name, mode, r.detail)

    # The JPEGs also at 4/8 (IFAST IDCT for 4:2:0 chroma, plain upsampling) and 6/8.
    jpeg_modes = tuple(("--thumbnail", str(DCT_BOXES[n])) for n in (4, 6))
    requests = [(n, m, gen_dir / n) for n in names for m in MODES]
    requests += [(n, m, gen_dir / n) for n in JPEGS for m in jpeg_modes]
    check_through_traced_fork_server("sx-image", requests, tmp_path, oneshot, check_answer)


# ---- memory: a thumbnail no longer needs the decoded image -------------------------------


def fast_adam7_rgb(im):
    """An 8-bit RGB Adam7 PNG of `im`, each pass cut out by Pillow (nearest-neighbour affine
    sampling exactly on the pass's pixels), for sizes the per-pixel encoder is too slow for."""
    w, h = im.size
    raw = bytearray()
    for x0, y0, dx, dy in ADAM7:
        cols, rows = (w - x0 + dx - 1) // dx, (h - y0 + dy - 1) // dy
        if cols <= 0 or rows <= 0:
            continue
        sub = im.transform((cols, rows), Image.AFFINE,
                           (dx, 0, x0 + 0.5 - dx / 2, 0, dy, y0 + 0.5 - dy / 2), Image.NEAREST)
        data = sub.tobytes()
        for r in range(rows):
            raw += b"\0" + data[r * cols * 3:(r + 1) * cols * 3]
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1))
    return out + png_chunk(b"IDAT", zlib.compress(bytes(raw), 1)) + png_chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(23, 17), (3, 2), (1, 9), (9, 1)])
def test_fast_adam7_encoder_makes_the_picture(size):
    im = noise_picture(*size, 13)
    fast = Image.open(io.BytesIO(fast_adam7_rgb(im)))
    assert fast.info.get("interlace") == 1
    assert fast.convert("RGB").tobytes() == im.tobytes()


def test_thumbnails_fit_a_pool_the_image_does_not():
    """With the smallest pool (16 MiB), a 2800x2000 PNG (22 MB as RGBA) cannot be decoded
    whole, but its thumbnail can: plain (row by row) and Adam7 (only the even rows, 11 MB,
    are held). Deterministic: the pool cap, not a measured RSS."""
    im = Image.linear_gradient("L").resize((2800, 2000)).convert("RGB")
    plain = png_bytes(im, compress_level=1)
    adam7 = fast_adam7_rgb(im)
    assert Image.open(io.BytesIO(adam7)).info.get("interlace") == 1
    for data in (plain, adam7):
        full = run("sx-image", ["--full", "--memory", "16M"], data=data)
        assert full.kind == "error" and full.status == "no_memory", (full.kind, full.detail)
        thumb = run("sx-image", ["--thumbnail", "64", "--memory", "16M"], data=data)
        assert thumb.kind == "image", thumb.detail
        assert (thumb.width, thumb.height) == (64, 46)

"""Every file in fixtures/ end to end through the public API, as fixtures/expectations.json
says: probe metadata, a 64x64 thumbnail, the full image against Pillow."""

import json

import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat

import sandbox_extractor as sx
from sxtest_paths import FIXTURES

EXPECTATIONS = json.loads((FIXTURES / "expectations.json").read_text())
STATUS_CLASS = {
    "bad_input": sx.BadInputError,
    "unsupported": sx.UnsupportedFormatError,
    "limit": sx.LimitExceededError,
}
GOOD = sorted(k for k, v in EXPECTATIONS.items() if v["outcome"] == "ok")
BAD = sorted(k for k, v in EXPECTATIONS.items() if v["outcome"] != "ok")
BOX = 64


def test_every_fixture_has_an_expectation():
    on_disk = {
        str(p.relative_to(FIXTURES))
        for sub in ("good", "bad")
        for p in (FIXTURES / sub).rglob("*")
        if p.is_file()
    }
    assert on_disk == set(EXPECTATIONS)
    assert GOOD and BAD


@pytest.mark.parametrize("name", GOOD)
def test_good_fixture(extractors, name):
    want = EXPECTATIONS[name]
    path = FIXTURES / name
    info = sx.probe_format(sx.STREAM_IMAGE, path)
    assert isinstance(info, sx.ImageInfo)
    assert (info.format, info.width, info.height) == (want["format"], want["width"], want["height"])
    assert info.orientation == want.get("orientation", 1)

    reference = Image.open(path)
    if reference.mode == "I":  # Pillow keeps 16-bit grey as I; scale it to 8 bits
        reference = reference.point(lambda v: v * (1 / 256)).convert("L")
    reference = ImageOps.exif_transpose(reference).convert("RGBA")
    # The default mode fits the source: RGBA only when some pixel is not opaque.
    fit = "RGB" if reference.getchannel("A").getextrema() == (255, 255) else "RGBA"
    assert fit == "RGB" or want["format"] in ("png", "gif", "webp")

    thumb = sx.load_image(sx.STREAM_IMAGE, path, size=(BOX, BOX))
    assert thumb.mode == fit
    w, h = thumb.size
    disp_w, disp_h = info.display_size
    assert 1 <= w <= min(BOX, disp_w) and 1 <= h <= min(BOX, disp_h)
    # Aspect kept (to a pixel of rounding), the longer side filling the box.
    if disp_w >= disp_h:
        assert w == min(BOX, disp_w) and abs(h - w * disp_h / disp_w) <= 1
    else:
        assert h == min(BOX, disp_h) and abs(w - h * disp_w / disp_h) <= 1

    full = sx.load_image(sx.STREAM_IMAGE, path)
    assert full.size == info.display_size and full.mode == fit
    reduced = full.resize(thumb.size, Image.Resampling.BOX)
    assert max(ImageStat.Stat(ImageChops.difference(thumb, reduced)).mean) <= 12
    full = full.convert("RGBA")
    diff = ImageChops.difference(full, reference)
    if want["format"] in ("png", "gif"):
        assert diff.getbbox() is None, "lossless PNG/GIF pixels differ from Pillow's"
    else:
        assert max(ImageStat.Stat(diff).mean) <= 2.0, "JPEG differs from Pillow beyond tolerance"


@pytest.mark.parametrize("name", BAD)
def test_bad_fixture(extractors, name):
    want = EXPECTATIONS[name]
    path = FIXTURES / name
    expected = STATUS_CLASS[want["status"]]
    if want["outcome"] == "error_or_ok":
        try:
            thumb = sx.load_image(sx.STREAM_IMAGE, path, size=(BOX, BOX))
        except sx.DecodeError as exc:
            assert isinstance(exc, expected), f"{type(exc).__name__}: {exc}"
        else:
            assert thumb.width <= BOX and thumb.height <= BOX
        return
    with pytest.raises(sx.DecodeError) as info:
        sx.load_image(sx.STREAM_IMAGE, path, size=(BOX, BOX))
    assert isinstance(info.value, expected), f"{type(info.value).__name__}: {info.value}"
    assert info.value.status is not None and info.value.detail
    # Probing decodes no pixels, so it may accept a file whose pixels are broken; but it
    # must never fail in any way other than a clean error answer.
    try:
        sx.probe_format(sx.STREAM_IMAGE, path)
    except sx.DecodeError as exc:
        assert exc.status is not None, f"{type(exc).__name__}: {exc}"


def test_exif_orientation_applied(extractors):
    """The eight orientation fixtures store one picture: red top-left, green top-right,
    blue bottom-left, yellow bottom-right. load_image must return it upright."""
    colours = {"r": (255, 0, 0), "g": (0, 255, 0), "b": (0, 0, 255), "y": (255, 255, 0)}
    base = sx.load_image(sx.STREAM_IMAGE, FIXTURES / "good" / "jpeg_exif_orientation_1.jpg")
    for n in range(1, 9):
        im = sx.load_image(sx.STREAM_IMAGE, FIXTURES / "good" / f"jpeg_exif_orientation_{n}.jpg")
        expected = _transpose(base, n)
        assert im.size == expected.size
        assert max(ImageStat.Stat(ImageChops.difference(im, expected)).mean) <= 2.0, n
        w, h = im.size
        spots = [(5, 5), (w - 6, 5), (5, h - 6), (w - 6, h - 6)]
        for (x, y), which in zip(spots, _corner_names(n)):
            px = im.getpixel((x, y))[:3]
            assert all(abs(a - b) <= 60 for a, b in zip(px, colours[which])), (n, which, px)


def _transpose(im, n):
    """What EXIF orientation n asks a viewer to do to the stored picture."""
    T = Image.Transpose
    op = {2: T.FLIP_LEFT_RIGHT, 3: T.ROTATE_180, 4: T.FLIP_TOP_BOTTOM, 5: T.TRANSPOSE,
          6: T.ROTATE_270, 7: T.TRANSVERSE, 8: T.ROTATE_90}.get(n)
    return im.transpose(op) if op is not None else im


def _corner_names(n):
    """Which stored corner colour ends up top-left, top-right, bottom-left, bottom-right."""
    im = Image.new("P", (2, 2))
    im.putdata([0, 1, 2, 3])
    out = _transpose(im, n)
    return ["rgby"[out.getpixel(p)] for p in [(0, 0), (1, 0), (0, 1), (1, 1)]]

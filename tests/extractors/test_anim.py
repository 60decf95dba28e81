"""test_anim.py: the WebP, GIF and APNG fixtures of fixtures/anim/ (made by
fixtures/make_anim_fixtures.py with cwebp, img2webp, gif2webp, webpmux, ImageMagick,
gifbuild and Pillow) through sx-image in every mode, one-shot and through a fork server,
each under `strace -f`: the probe must say what anim_expectations.json says (size,
animation info, orientation, alpha), the first frame must match Pillow's (exactly for
lossless files, within the stated mean error for lossy ones), and after the strict line a
process may only read, write, exit and rt_sigreturn (libwebp's and giflib's lazy inits are
done by the warm-up samples of fixtures/make_warm_samples.py)."""
import json
import shutil
from functools import lru_cache

import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat

from answer import FIXTURES, parse, run
from strict_trace import ALLOWED, check_through_traced_fork_server, traced_oneshot

ANIM = FIXTURES / "anim"
EXPECT = json.loads((FIXTURES / "anim_expectations.json").read_text())
MODES = (("--probe",), ("--thumbnail", "64"), ("--full",))
PROBE_FIELDS = ("format", "width", "height", "animated", "frame_count", "loop_count",
                "duration", "orientation", "has_alpha", "icc", "progressive", "version")

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


@lru_cache(maxsize=None)
def oneshot(rel, mode):
    return traced_oneshot("sx-image", ANIM / rel, mode)


def check_answer(rel, mode, r):
    e = EXPECT[rel]
    where = f"{rel} {' '.join(mode)}: "
    assert r.returncode == 0, where + f"exit {r.returncode}"
    parse(r)
    assert r.kind != "error", where + f"{r.status}: {r.detail}"
    if mode[0] == "--probe":
        for key in PROBE_FIELDS:
            if key in e:
                assert r.meta.get(key) == e[key], where + f"{key}: {r.meta.get(key)} != {e[key]}"
        if "animated" in e:
            assert r.meta["frame_count_capped"] is False, where
        return
    assert r.kind == "image", where + r.kind
    w, h = e["width"], e["height"]
    if e.get("orientation", 1) >= 5:
        w, h = h, w
    if mode[0] == "--thumbnail":
        assert max(r.width, r.height) == min(64, max(w, h)), where + f"{r.width}x{r.height}"
    else:
        assert (r.width, r.height) == (w, h), where + f"{r.width}x{r.height}"


def as_rgba(r):
    im = Image.frombytes("RGBA" if r.channels == 4 else "RGB", (r.width, r.height), r.pixels)
    return im.convert("RGBA")


def clear_transparent(im):
    """RGB under alpha 0 means nothing: zero it on both sides."""
    black = Image.new("RGBA", im.size, (0, 0, 0, 0))
    return Image.composite(im, black, im.getchannel("A").point(lambda a: 255 if a else 0))


def pillow_first_frame(path):
    im = Image.open(path)
    im.seek(0)
    return ImageOps.exif_transpose(im.convert("RGBA"))


@pytest.mark.parametrize("rel", sorted(EXPECT))
def test_anim_fixture_oneshot_under_strace(rel):
    for mode in MODES:
        r, calls = oneshot(rel, mode)
        check_answer(rel, mode, r)
        strict = [c for c in calls.values() if c is not None]
        assert len(strict) == 1, f"{rel} {mode}: {len(strict)} processes crossed the line"
        assert strict[0] <= ALLOWED, (rel, mode, strict[0] - ALLOWED)


@pytest.mark.parametrize("rel", sorted(EXPECT))
def test_first_frame_matches_pillow(rel):
    e = EXPECT[rel]
    color = ["--color", "raw"] if e["pixels"] == "converted" else []
    r = run("sx-image", ["--full", *color], path=ANIM / rel)
    assert r.kind == "image", r.detail
    ours = clear_transparent(as_rgba(r))
    ref = clear_transparent(pillow_first_frame(ANIM / rel))
    assert ours.size == ref.size
    if e["pixels"] in ("exact", "converted"):
        assert ImageChops.difference(ours, ref).getbbox() is None, f"{rel}: pixels differ"
    else:
        err = sum(ImageStat.Stat(ImageChops.difference(ours, ref)).mean) / 4
        assert err <= e["pixels"], f"{rel}: mean error {err:.2f} > {e['pixels']}"
    if e["pixels"] == "converted":
        srgb = run("sx-image", ["--full"], path=ANIM / rel)
        assert as_rgba(srgb).tobytes() != as_rgba(r).tobytes(), "the ICC profile was not applied"


def test_webp_thumbnail_is_libwebps_scaled_decode():
    """A 64 px thumbnail of a 160x120 WebP comes out 64x48 in one decode; its pixels are
    close to Pillow's full decode box-reduced (the scaler is libwebp's, not ours)."""
    rel = "webp/lossless_cwebp.webp"
    r = run("sx-image", ["--thumbnail", "64"], path=ANIM / rel)
    assert (r.width, r.height) == (64, 48)
    ref = pillow_first_frame(ANIM / rel).resize((64, 48), Image.Resampling.BOX)
    err = sum(ImageStat.Stat(ImageChops.difference(as_rgba(r), ref)).mean) / 4
    assert err <= 6.0, err


def test_anim_fixtures_through_a_traced_fork_server(tmp_path):
    check_through_traced_fork_server(
        "sx-image", [(rel, mode, ANIM / rel) for rel in sorted(EXPECT) for mode in MODES],
        tmp_path, lambda rel, mode: oneshot(rel, mode)[0], check_answer)


def test_the_generator_made_every_file():
    on_disk = {str(p.relative_to(ANIM)) for p in ANIM.rglob("*") if p.is_file()}
    assert on_disk == set(EXPECT)
    kinds = {rel.split("/")[0] for rel in EXPECT}
    assert kinds == {"webp", "gif", "png"}
    assert (ANIM / "gif/gif87a_pillow.gif").read_bytes()[:6] == b"GIF87a"
    assert b"ICCP" in (ANIM / "webp/icc_adobergb_exif6.webp").read_bytes()
    assert b"ANMF" in (ANIM / "webp/anim_gif2webp.webp").read_bytes()
    assert b"acTL" in (ANIM / "png/apng_pillow.png").read_bytes()

"""test_frames.py: `--frames N` (wire version 3, the frames payload) and the client's
load_frames / aload_frames and `thumbnail --frames`.

Every frame of every animated fixture of fixtures/anim/ is checked against Pillow's own
compositing (ImageSequence, converted to RGBA): exactly for lossless files (also the lossy
WebPs, which Pillow decodes with the same libwebp), with the mean error the expectations
state otherwise; durations and loop counts against Pillow's info. The caps (max_frames, the
pixel cap over all frames), the malicious animations with frames requested, and the strict
line (one-shot and through a fork server, under strace) are checked here too. Forged frames
answers are refused by the client: pyclient/tests/test_pyclient_wire.py."""
import asyncio
import json
import shutil
import subprocess
import sys
from functools import lru_cache

import pytest
from PIL import Image, ImageChops, ImageSequence, ImageStat

from answer import FIXTURES, ROOT, parse, run, run_raw
from strict_trace import ALLOWED, check_through_traced_fork_server, traced_oneshot

sys.path.insert(0, str(ROOT / "fixtures"))
import make_malicious as mm  # noqa: E402

import sandbox_extractor as sx  # noqa: E402

ANIM = FIXTURES / "anim"
EXPECT = json.loads((FIXTURES / "anim_expectations.json").read_text())
ANIMATED = sorted(rel for rel, e in EXPECT.items() if e.get("animated"))
MODES = (("--thumbnail", "32", "--frames", "8"), ("--full", "--frames", "1000"))


def clear_transparent(im):
    """RGB under alpha 0 means nothing: zero it on both sides."""
    black = Image.new("RGBA", im.size, (0, 0, 0, 0))
    return Image.composite(im, black, im.getchannel("A").point(lambda a: 255 if a else 0))


def pillow_frames(path):
    im = Image.open(path)
    return [(fr.convert("RGBA"), fr.info.get("duration", 0)) for fr in ImageSequence.Iterator(im)]


def pillow_loop(path):
    return Image.open(path).info.get("loop", 1)


def test_animated_fixtures_exist():
    assert {rel.split("/")[0] for rel in ANIMATED} == {"gif", "webp", "png"}
    assert len(ANIMATED) >= 7


@pytest.mark.parametrize("rel", ANIMATED)
def test_every_frame_matches_pillows_compositing(rel):
    e = EXPECT[rel]
    ours = sx.load_frames(sx.STREAM_IMAGE, ANIM / rel, max_frames=1000, mode="RGBA",
                          execution="oneshot")
    ref = pillow_frames(ANIM / rel)
    assert len(ours) == len(ref) == e["frame_count"]
    assert sum(im.info["duration"] for im in ours) == e["duration"]
    for i, (im, (pil, duration)) in enumerate(zip(ours, ref)):
        where = f"{rel} frame {i}: "
        assert im.size == pil.size == (e["width"], e["height"]), where
        assert im.info["duration"] == int(duration), where + f"{im.info['duration']} != {duration}"
        assert im.info["loop"] == e["loop_count"] == pillow_loop(ANIM / rel), where
        a, b = clear_transparent(im), clear_transparent(pil)
        if e["pixels"] == "exact":
            assert ImageChops.difference(a, b).getbbox() is None, where + "pixels differ"
        else:
            err = sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 4
            assert err <= e["pixels"], where + f"mean error {err:.2f} > {e['pixels']}"


def test_frames_differ_from_each_other():
    """The check above could pass on a repeated first frame only if Pillow's frames were
    alike: they are not, in every animated fixture."""
    for rel in ANIMATED:
        frames = pillow_frames(ANIM / rel)
        assert len({f.tobytes() for f, _ in frames}) > 1, rel


def test_thumbnail_frames_share_the_first_frames_size_and_match_load_image():
    for rel in ANIMATED:
        frames = sx.load_frames(sx.STREAM_AUTO, ANIM / rel, 24, max_frames=3, mode="RGBA")
        first = sx.load_image(sx.STREAM_AUTO, ANIM / rel, 24, mode="RGBA")
        assert {im.size for im in frames} == {first.size}, rel
        assert max(first.size) == 24
        assert frames[0].tobytes() == first.tobytes(), rel


def test_max_frames_and_the_pixel_cap_give_fewer_frames():
    rel = "png/apng_ops_pillow.png"  # 5 frames of 40x30
    all5 = sx.load_frames(sx.STREAM_IMAGE, ANIM / rel, mode="RGBA")
    two = sx.load_frames(sx.STREAM_IMAGE, ANIM / rel, max_frames=2, mode="RGBA")
    assert len(all5) == 5 and len(two) == 2
    assert [im.tobytes() for im in two] == [im.tobytes() for im in all5[:2]]
    assert [im.info["duration"] for im in two] == [10, 20]
    # 3 frames of 1200 pixels fit in 3600, a 4th does not: fewer frames, not an error.
    capped = sx.load_frames(sx.STREAM_IMAGE, ANIM / rel, max_pixels=3700, mode="RGBA")
    assert len(capped) == 3
    with pytest.raises(sx.LimitExceededError):  # not even one full-size frame fits
        sx.load_frames(sx.STREAM_IMAGE, ANIM / rel, max_pixels=1000)
    with pytest.raises(ValueError):
        sx.load_frames(sx.STREAM_IMAGE, ANIM / rel, max_frames=0)
    with pytest.raises(ValueError):
        sx.load_frames(sx.STREAM_IMAGE, ANIM / rel, max_frames=1001)


def test_frames_hold_only_the_memory_they_use():
    """Asking for many full-size frames of a short animation needs memory for the frames
    that come, not for the count asked: 2 frames of 1000x1000 in a 32 MiB pool."""
    import io

    frames = [Image.new("P", (1000, 1000), i) for i in range(2)]
    for i, im in enumerate(frames):
        im.putpalette([i * 90, 40, 200] * 256)
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=[30, 40])
    got = sx.load_frames(sx.STREAM_IMAGE, out.getvalue(), max_frames=1000, memory=32 << 20)
    assert [im.info["duration"] for im in got] == [30, 40]
    assert got[1].getpixel((0, 0))[:3] == (90, 40, 200)


def test_still_images_are_one_frame():
    for rel in ("webp/lossy_cwebp.webp", "gif/gif87a_pillow.gif", "webp/icc_adobergb_exif6.webp"):
        frames = sx.load_frames(sx.STREAM_IMAGE, ANIM / rel, 64, max_frames=10)
        single = sx.load_image(sx.STREAM_IMAGE, ANIM / rel, 64)
        assert len(frames) == 1 and frames[0].tobytes() == single.tobytes(), rel
        assert frames[0].info == {"duration": 0, "loop": 1}
    jpeg = next((FIXTURES / "good").rglob("*.jpg"))
    assert len(sx.load_frames(sx.STREAM_AUTO, jpeg, 32)) == 1


def test_auto_alpha_and_rgb():
    rel = "webp/anim_img2webp_lossless.webp"  # opaque
    assert {im.mode for im in sx.load_frames(sx.STREAM_IMAGE, ANIM / rel)} == {"RGB"}
    rel = "gif/anim_transparent_disposal_pillow.gif"
    assert {im.mode for im in sx.load_frames(sx.STREAM_IMAGE, ANIM / rel)} == {"RGBA"}
    rgb = sx.load_frames(sx.STREAM_IMAGE, ANIM / rel, mode="RGB")
    rgba = sx.load_frames(sx.STREAM_IMAGE, ANIM / rel, mode="RGBA")
    assert [a.tobytes() for a in rgb] == [b.convert("RGB").tobytes() for b in rgba]


def test_aload_frames():
    rel = "gif/anim_disposal_modes_pillow.gif"
    frames = asyncio.run(sx.aload_frames(sx.STREAM_IMAGE, ANIM / rel, 16, max_frames=3))
    assert [im.info["duration"] for im in frames] == [100, 50, 70]


def test_frames_through_the_fork_server_equal_oneshot():
    rel = "webp/anim_gif2webp.webp"
    a = sx.load_frames(sx.STREAM_IMAGE, ANIM / rel, 20, execution="oneshot")
    b = sx.load_frames(sx.STREAM_IMAGE, ANIM / rel, 20, execution="server")
    assert [x.tobytes() for x in a] == [y.tobytes() for y in b] and len(a) == 4


def test_bad_requests():
    path = ANIM / "gif/anim_imagemagick.gif"
    for args in (["--probe", "--frames", "2"], ["--full", "--frames", "0"],
                 ["--full", "--frames", "1001"], ["--full", "--frames"]):
        r = run("sx-image", args, path=path)
        assert r.kind == "error" and r.status == "bad_request", args
    font = next((FIXTURES / "fonts" / "good").rglob("*.ttf"))
    r = run("sx-font", ["--thumbnail", "64", "--frames", "2"], path=font)
    assert (r.kind, r.status) == ("error", "bad_request")
    assert "answers no --frames" in r.detail
    with pytest.raises(ValueError):
        sx.load_frames(sx.STREAM_FONT, font)
    with pytest.raises(sx.UnsupportedFormatError):
        sx.load_frames(sx.STREAM_AUTO, font)


# ---- malicious animations with frames requested -----------------------------------------


@pytest.mark.parametrize("name, frames, want_count", [
    ("gif_million_frames_1x1.gif", 1000, 1000),
    ("image/gif_zero_delay_loop_forever.gif", 1000, 1000),
    ("image/apng_actl_2pow31_frames.png", 1000, 1),
])
def test_malicious_animations_with_frames(name, frames, want_count):
    if name.startswith("image/"):
        data = (FIXTURES / "malicious" / name).read_bytes()
    else:
        data = mm.gif_million_frames()
    r = parse(run_raw("sx-image", ["--full", "--frames", str(frames), "--cpu-seconds", "5"],
                      data=data, timeout=30))
    assert r.kind == "frames", (r.status, r.detail)
    assert len(r.frames) == want_count
    if name.endswith(".gif"):
        assert (r.width, r.height) == (1, 1)
    assert r.cpu_seconds < 3, r.cpu_seconds
    if "zero_delay" in name or "million" in name:
        assert set(r.durations) == {0} and r.loop_count == 0


def test_every_malicious_image_with_frames_gets_a_verdict():
    """With frames requested each committed malicious image is answered (never killed,
    never a hang), and a file whose thumbnail is an error gets the same error."""
    for path in sorted((FIXTURES / "malicious" / "image").iterdir()):
        with open(path, "rb") as f:
            r = parse(run_raw("sx-image", ["--thumbnail", "64", "--frames", "50",
                                           "--cpu-seconds", "5", "--memory", "256M"],
                              stdin=f, timeout=30))
        with open(path, "rb") as f:
            one = parse(run_raw("sx-image", ["--thumbnail", "64", "--cpu-seconds", "5",
                                             "--memory", "256M"], stdin=f, timeout=30))
        assert r.kind in ("frames", "error"), path.name
        if one.kind == "error":
            assert (r.kind, r.status) == ("error", one.status), path.name
        elif r.kind == "frames":
            assert r.pixels == one.pixels, path.name


# ---- the strict line ----------------------------------------------------------------------

strace = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


@lru_cache(maxsize=None)
def oneshot(rel, mode):
    return traced_oneshot("sx-image", ANIM / rel, mode)


def check_answer(rel, mode, r):
    parse(r)
    assert r.kind == "frames", f"{rel} {mode}: {r.kind} {r.status} {r.detail}"
    e = EXPECT[rel]
    want = e.get("frame_count", 1) if e.get("animated") else 1
    assert len(r.frames) == min(want, int(mode[-1])), (rel, mode)


@strace
@pytest.mark.parametrize("rel", sorted(EXPECT))
def test_frames_oneshot_under_strace(rel):
    for mode in MODES:
        r, calls = oneshot(rel, mode)
        check_answer(rel, mode, r)
        strict = [c for c in calls.values() if c is not None]
        assert len(strict) == 1 and strict[0] <= ALLOWED, (rel, mode, strict)


@strace
def test_frames_through_a_traced_fork_server(tmp_path):
    check_through_traced_fork_server(
        "sx-image", [(rel, mode, ANIM / rel) for rel in sorted(EXPECT) for mode in MODES],
        tmp_path, lambda rel, mode: oneshot(rel, mode)[0], check_answer)


# ---- the command line ---------------------------------------------------------------------


def test_cli_thumbnail_frames_writes_an_animated_webp(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for rel in ("gif/anim_transparent_disposal_pillow.gif", "png/apng_ops_pillow.png",
                "webp/anim_img2webp_lossless.webp", "webp/lossy_cwebp.webp"):
        shutil.copy(ANIM / rel, src / rel.replace("/", "_"))
    font = next((FIXTURES / "fonts" / "good").rglob("*.ttf"))
    shutil.copy(font, src / "font.ttf")  # not an image: its usual preview, as a WebP
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "sandbox_extractor", "thumbnail", "--size", "32",
                        "--frames", "4", "-o", str(out), str(src)], capture_output=True, text=True,
                       env={"PYTHONPATH": str(ROOT / "pyclient"),
                            "SANDBOX_EXTRACTOR_BIN_DIR": str(ROOT / "build" / "bin")})
    assert p.returncode == 0, p.stderr
    written = sorted(x.name for x in out.rglob("*") if x.is_file())
    assert all(name.endswith(".webp") for name in written), written
    gif = Image.open(out / "gif_anim_transparent_disposal_pillow.webp")
    assert gif.is_animated and gif.n_frames == 4 and max(gif.size) == 32
    ref = sx.load_frames(sx.STREAM_IMAGE, ANIM / "gif/anim_transparent_disposal_pillow.gif", 32,
                         max_frames=4, mode="RGBA")
    for i, frame in enumerate(ImageSequence.Iterator(gif)):
        frame.load()  # Pillow's WebP reader sets the duration on load
        assert frame.info["duration"] == ref[i].info["duration"]
        got = clear_transparent(frame.convert("RGBA"))
        assert ImageChops.difference(got, clear_transparent(ref[i])).getbbox() is None, i
    assert gif.info["loop"] == 3
    assert Image.open(out / "png_apng_ops_pillow.webp").n_frames == 4
    still = Image.open(out / "webp_lossy_cwebp.webp")
    assert not getattr(still, "is_animated", False)
    assert Image.open(out / "font.webp").format == "WEBP"
    assert len(written) == 5


# ---- WebP XMP in the probe ----------------------------------------------------------------


def test_webp_probe_reports_whether_xmp_is_there():
    import io

    def webp(**kw):
        out = io.BytesIO()
        Image.new("RGB", (8, 8), "red").save(out, "WEBP", **kw)
        return out.getvalue()

    with_xmp = webp(xmp=b"<x:xmpmeta secret='yes'/>")
    assert b"XMP " in with_xmp
    info = sx.probe_format(sx.STREAM_IMAGE, with_xmp)
    assert info.xmp is True and "secret" not in repr(info.as_dict())
    assert sx.probe_format(sx.STREAM_IMAGE, webp()).xmp is False
    assert sx.probe_format(sx.STREAM_IMAGE, ANIM / "webp/lossy_cwebp.webp").xmp is False
    assert sx.probe_format(sx.STREAM_IMAGE, ANIM / "gif/gif87a_pillow.gif").xmp is None

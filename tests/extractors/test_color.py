"""test_color.py: colour as viewers show it (issue 14). The fixtures of fixtures/color/
(make_color_fixtures.py; what each is in fixtures/README.md) through sx-image:

- the probe reports icc present/absent/ignored, the profile's colour space, why a profile
  was ignored, the PNG colour chunks and what the colour was taken from;
- every converted fixture's full decode is within FULL_TOLERANCE of two independent
  references: Pillow + PIL.ImageCms and libvips, both LittleCMS with the relative
  colorimetric intent (ours); thumbnails within the existing THUMB_TOLERANCE of both;
- a gAMA/cHRM file is compared with what the references make of its iCCP twin (same
  pixels, the equivalent profile), since neither reference reads gAMA/cHRM;
- whatever is not converted (untagged, sRGB, hostile profiles) is bit for bit what
  `--color raw` gives, on these fixtures and on every file of fixtures/good/;
- every fixture in every mode, one-shot and through the fork server, under strace: after
  the strict line only read, write, exit and rt_sigreturn.

Mean error is per RGB channel, of 255, as in test_image_fixtures.py.
"""
import io
import json
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageCms, ImageStat

from answer import FIXTURES, parse, run
from test_image_fixtures import THUMB_TOLERANCE
from strict_trace import ALLOWED, check_through_traced_fork_server, traced_oneshot

COLOR = FIXTURES / "color"
EXPECT = json.loads((FIXTURES / "color_expectations.json").read_text())
GOOD_EXPECT = json.loads((FIXTURES / "expectations.json").read_text())
FULL_TOLERANCE = 1.5
CONVERTED = sorted(n for n, e in EXPECT.items() if e["converted"])
UNCONVERTED = sorted(n for n, e in EXPECT.items() if not e["converted"])
MODES = (("--probe",), ("--thumbnail", "64"), ("--full",), ("--full", "--color", "raw"))
SRGB = ImageCms.createProfile("sRGB")
THUMB_BOX = 48

needs_vips = pytest.mark.skipif(shutil.which("vipsthumbnail") is None,
                                reason="libvips-tools is not installed")


def image_of(r):
    assert r.kind == "image", f"{r.kind} {r.status} {r.detail}"
    return Image.frombytes("RGBA" if r.channels == 4 else "RGB", (r.width, r.height), r.pixels)


def mean_error(a, b):
    a, b = a.convert("RGB"), b.convert("RGB")
    assert a.size == b.size, (a.size, b.size)
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def reference_input(name):
    return COLOR / EXPECT[name].get("twin", name)


@lru_cache(maxsize=None)
def pillow_reference(name):
    """Pillow decodes (CMYK Adobe-inverted handled by Pillow), ImageCms converts."""
    im = Image.open(reference_input(name))
    im.load()
    icc = im.info.get("icc_profile")
    assert icc, f"{name}: the reference input carries no profile"
    src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    return ImageCms.profileToProfile(im, src, SRGB, outputMode="RGB",
                                     renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)


def vips_reference(name, size=None):
    """vipsthumbnail --eprofile srgb --intent relative; for CMYK, `vips icc_transform
    --embedded` (vipsthumbnail 8.14 warns "profile incompatible with image" on a CMYK JPEG
    and leaves the profile out) and, for a thumbnail, Pillow's box filter after it."""
    src = reference_input(name)
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "out.png"
        if EXPECT[name].get("space") == "cmyk":
            subprocess.run(["vips", "icc_transform", str(src), str(out), "srgb", "--embedded",
                            "--intent", "relative"], check=True, capture_output=True)
            im = Image.open(out).convert("RGB")
            return im if size is None else im.resize(size, Image.BOX)
        w, h = size or Image.open(src).size
        subprocess.run(["vipsthumbnail", str(src), "-s", f"{w}x{h}", "--eprofile", "srgb",
                        "--intent", "relative", "-o", str(out)], check=True, capture_output=True)
        im = Image.open(out)
        im.load()
        return im.convert("RGB")


def probe(path, *extra):
    r = run("sx-image", ["--probe", *extra], path=path)
    assert r.kind == "meta", f"{r.status} {r.detail}"
    return r.meta


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_probe_reports_the_colour(name):
    e, m = EXPECT[name], probe(COLOR / name)
    assert m["icc"] == e["icc"], m
    if "space" in e:
        assert m.get("icc_space") == e["space"], m
    if "source" in e:
        assert m["color_source"] == e["source"], m
    if "chunks" in e:
        assert m["png_color_chunks"] == e["chunks"], m
    assert m.get("cicp") == e.get("cicp"), m
    if "cicp_reason" in e:
        assert e["cicp_reason"] in m["cicp_ignored"], m
    else:
        assert "cicp_ignored" not in m, m
    if e["icc"] == "ignored":
        assert e["reason"] in m["icc_ignored"], m
        assert m["color_source"] == "none", m
    else:
        assert "icc_ignored" not in m, m
    desc = m.get("icc_description", "")
    assert len(desc) <= 64 and all(0x20 <= ord(c) <= 0x7E for c in desc), desc


@pytest.mark.parametrize("name", CONVERTED)
def test_full_decode_matches_pillow_imagecms(name):
    ours = image_of(run("sx-image", ["--full"], path=COLOR / name))
    assert mean_error(ours, pillow_reference(name)) <= FULL_TOLERANCE


@needs_vips
@pytest.mark.parametrize("name", CONVERTED)
def test_full_decode_matches_vips(name):
    ours = image_of(run("sx-image", ["--full"], path=COLOR / name))
    assert mean_error(ours, vips_reference(name)) <= FULL_TOLERANCE


@pytest.mark.parametrize("name", CONVERTED)
def test_thumbnail_matches_the_references(name):
    r = run("sx-image", ["--thumbnail", str(THUMB_BOX)], path=COLOR / name)
    ours = image_of(r)
    tol = THUMB_TOLERANCE["jpeg" if name.startswith("jpeg") else "png"]
    pil = pillow_reference(name).resize(ours.size, Image.BOX)
    assert mean_error(ours, pil) <= tol
    if shutil.which("vipsthumbnail"):
        assert mean_error(ours, vips_reference(name, ours.size)) <= tol


@pytest.mark.parametrize("name", CONVERTED)
def test_conversion_changes_the_pixels(name):
    """The fixtures are chosen so that a decoder ignoring their colour fails the tests
    above: raw values are far from the references."""
    raw = image_of(run("sx-image", ["--full", "--color", "raw"], path=COLOR / name))
    assert mean_error(raw, pillow_reference(name)) > 3 * FULL_TOLERANCE


@pytest.mark.parametrize("name", UNCONVERTED)
def test_unconverted_is_raw_bit_for_bit(name):
    for mode in (["--full"], ["--thumbnail", "40"]):
        ours = run("sx-image", mode, path=COLOR / name)
        raw = run("sx-image", [*mode, "--color", "raw"], path=COLOR / name)
        assert ours.kind == "image", ours.detail
        assert ours.out == raw.out, f"{name} {mode}"


@pytest.mark.parametrize("name", sorted(n for n, e in GOOD_EXPECT.items()
                                        if e["outcome"] == "ok" and n.startswith("good/")))
def test_untagged_good_files_unchanged(name):
    """Every valid file of fixtures/good/ (none carries a profile; one has gAMA 1/2.2,
    taken as sRGB): the default answer is byte for byte the raw one."""
    m = probe(FIXTURES / name)
    assert m["icc"] == "absent" and m["color_source"] in ("none", "gama-srgb"), m
    for mode in (["--full"], ["--thumbnail", "64"]):
        ours = run("sx-image", mode, path=FIXTURES / name)
        raw = run("sx-image", [*mode, "--color", "raw"], path=FIXTURES / name)
        assert ours.out == raw.out, f"{name} {mode}"


def test_raw_keeps_stored_values():
    """--color raw is the pre-issue-14 answer: Pillow's own, unconverted, decode."""
    ours = image_of(run("sx-image", ["--full", "--color", "raw"], path=COLOR / "jpeg_p3.jpg"))
    plain = Image.open(COLOR / "jpeg_p3.jpg").convert("RGB")
    assert mean_error(ours, plain) <= 1.0


def test_bad_color_option_is_a_bad_request():
    r = run("sx-image", ["--full", "--color", "adobe"], path=COLOR / "jpeg_p3.jpg")
    assert r.kind == "error" and r.status == "bad_request", r


def test_no_profile_byte_leaves_the_extractor():
    """Every answer for every fixture: no 16-byte run of the profile appears in it."""
    for name in sorted(EXPECT):
        data = (COLOR / name).read_bytes()
        icc = Image.open(COLOR / name).info.get("icc_profile") or b""
        for mode in MODES:
            out = run("sx-image", list(mode), path=COLOR / name).out
            for i in range(128, max(128, len(icc) - 16), 97):
                piece = icc[i:i + 16]
                if piece.count(piece[:1]) < 16 and piece not in data[:2]:
                    assert piece not in out, (name, mode, i)


# --- under strace, one-shot and fork server -------------------------------------------

straced = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


@lru_cache(maxsize=None)
def traced_color(name, mode):
    r, calls = traced_oneshot("sx-image", COLOR / name, mode)
    return parse(r), calls


def check_answer(name, mode, r):
    where = f"{name} {' '.join(mode)}: "
    if not r.kind:
        parse(r)
    assert r.returncode == 0, where + f"rc {r.returncode} {r.status} {r.detail}"
    if mode[0] == "--probe":
        assert r.kind == "meta" and r.meta["icc"] == EXPECT[name]["icc"], where + str(r.meta)
    else:
        assert r.kind == "image", where + r.kind


@straced
@pytest.mark.parametrize("name", sorted(EXPECT))
def test_color_oneshot_under_strace(name):
    for mode in MODES:
        r, calls = traced_color(name, mode)
        check_answer(name, mode, r)
        strict = [c for c in calls.values() if c is not None]
        assert len(strict) == 1, f"{name} {mode}: {len(strict)} processes crossed the line"
        assert strict[0] <= ALLOWED, (name, mode, strict[0] - ALLOWED)


@straced
def test_color_through_a_traced_fork_server(tmp_path):
    check_through_traced_fork_server(
        "sx-image", [(name, mode, COLOR / name) for name in sorted(EXPECT) for mode in MODES],
        tmp_path, lambda name, mode: traced_color(name, mode)[0], check_answer)

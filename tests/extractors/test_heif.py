"""test_heif.py: the HEIC and AVIF fixtures of fixtures/heif/ (fixtures/make_heif_fixtures.py:
heif-enc, avifenc, and fixtures/heif_mux.py for grids, irot/imir, colr boxes and thumbnail
items) through sx-heif in every mode, one-shot and through a fork server, each under
`strace -f`: the probe must say what heif_expectations.json says, the pixels must match
heif-convert's and avifdec's (tolerances below), and after the strict line a process may only
read, write, exit and rt_sigreturn: no clone from libde265 or dav1d (heif_codecs.c)."""
import json
import shutil
import subprocess
from functools import lru_cache

import pytest
from PIL import Image, ImageChops, ImageCms, ImageOps, ImageStat

from answer import FIXTURES, parse, run
from strict_trace import ALLOWED, check_through_traced_fork_server, traced_oneshot

HEIF = FIXTURES / "heif"
EXPECT = json.loads((FIXTURES / "heif_expectations.json").read_text())
MODES = (("--probe",), ("--thumbnail", "64"), ("--full",))
# Untagged files: the same YCbCr-to-RGB conversion as libheif's (it runs inside libheif in
# both): at most 1 level apart (alpha.avif vs avifdec: libavif rounds its own way).
EXACTISH_MEAN, EXACTISH_MAX = 0.2, 2
# Colour-managed files: ours through LittleCMS from the colr box, the reference through
# Pillow's LittleCMS from the profile the reference tool embedded.
ICC_MEAN = 1.5

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


@lru_cache(maxsize=None)
def oneshot(rel, mode):
    return traced_oneshot("sx-heif", HEIF / rel, mode)


def check_answer(rel, mode, r):
    e = EXPECT[rel]
    where = f"{rel} {' '.join(mode)}: "
    assert r.returncode == 0, where + f"exit {r.returncode} {r.err[-300:]!r}"
    parse(r)
    assert r.kind != "error", where + f"{r.status}: {r.detail}"
    if mode[0] == "--probe":
        for key, want in e.items():
            if key != "ref":
                assert r.meta.get(key) == want, where + f"{key}: {r.meta.get(key)} != {want}"
        return
    assert r.kind == "image", where + r.kind
    w, h = e.get("width", 96), e.get("height", 64)
    if mode[0] == "--thumbnail":
        assert max(r.width, r.height) == min(64, max(w, h)), where + f"{r.width}x{r.height}"
    else:
        assert (r.width, r.height) == (w, h), where + f"{r.width}x{r.height}"


def as_rgba(r):
    mode = "RGBA" if r.channels == 4 else "RGB"
    return Image.frombytes(mode, (r.width, r.height), r.pixels).convert("RGBA")


def reference(rel, tool, tmp_path):
    out = tmp_path / (rel + "." + tool + ".png")
    subprocess.run([tool, str(HEIF / rel), str(out)], check=True, capture_output=True)
    im = Image.open(out)
    im.load()
    return im


def diff(a, b):
    d = ImageChops.difference(a.convert("RGBA"), b.convert("RGBA"))
    return sum(ImageStat.Stat(d).mean) / 4, max(hi for _, hi in d.getextrema())


@pytest.mark.parametrize("rel", sorted(EXPECT))
def test_heif_fixture_oneshot_under_strace(rel):
    for mode in MODES:
        r, calls = oneshot(rel, mode)
        check_answer(rel, mode, r)
        strict = [c for c in calls.values() if c is not None]
        assert len(strict) == 1, f"{rel} {mode}: {len(strict)} processes crossed the line"
        assert strict[0] <= ALLOWED, (rel, mode, strict[0] - ALLOWED)


def test_heif_fixtures_through_a_traced_fork_server(tmp_path):
    check_through_traced_fork_server(
        "sx-heif", [(rel, mode, HEIF / rel) for rel in sorted(EXPECT) for mode in MODES],
        tmp_path, lambda rel, mode: oneshot(rel, mode)[0], check_answer)


def tools_for(rel):
    """heif-convert (libheif 1.15) refuses AVIF sequences ("unsupported HEIF/AVIF file
    type"); avifdec reads their first frame."""
    if EXPECT[rel].get("animated"):
        return ["avifdec"]
    return ["heif-convert"] + (["avifdec"] if rel.endswith(".avif") else [])


@pytest.mark.parametrize("rel", sorted(EXPECT))
def test_pixels_match_the_reference_decoders(rel, tmp_path):
    """heif-convert (and avifdec for AVIF) write the decoded pixels untouched (a profile,
    if any, embedded in the PNG): untagged files must match them; ICC files must match them
    once Pillow's LittleCMS applied the embedded profile; nclx P3 files must match them
    with --color raw, and differ from them in sRGB (the conversion happened)."""
    e = EXPECT[rel]
    ours = as_rgba(run("sx-heif", ["--full"], path=HEIF / rel))
    raw = as_rgba(run("sx-heif", ["--full", "--color", "raw"], path=HEIF / rel))
    for tool in tools_for(rel):
        ref = reference(rel, tool, tmp_path)
        icc = ref.info.get("icc_profile")
        if e.get("icc") == "present":
            assert icc, f"{tool} embedded no profile for {rel}"
            src = ImageCms.ImageCmsProfile(__import__("io").BytesIO(icc))
            conv = ImageCms.profileToProfile(ref.convert("RGB"), src,
                                             ImageCms.createProfile("sRGB"))
            mean, _ = diff(ours.convert("RGB"), conv)
            assert mean <= ICC_MEAN, f"{rel} vs {tool}+ICC: mean {mean:.2f}"
            assert diff(raw, ref)[0] <= EXACTISH_MEAN, f"{rel} --color raw vs {tool}"
        elif e.get("color_source") == "cicp":
            mean, worst = diff(raw, ref)
            assert mean <= EXACTISH_MEAN and worst <= EXACTISH_MAX, (rel, tool, mean, worst)
            assert diff(ours, ref)[0] > 2, f"{rel}: the P3 nclx was not applied"
        else:
            mean, worst = diff(ours, ref)
            assert mean <= EXACTISH_MEAN and worst <= EXACTISH_MAX, (rel, tool, mean, worst)


def sixteen_bit_rgb(png):
    """The samples of a 16-bit RGB PNG (ffmpeg unpacks it: Pillow reduces to 8 bits)."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(png), "-f", "rawvideo",
                          "-pix_fmt", "rgb48le", "-"], check=True, capture_output=True).stdout
    return [raw[i] | raw[i + 1] << 8 for i in range(0, len(raw), 2)]


def test_ten_bit_is_rounded_not_truncated(tmp_path):
    """heif-convert writes the 10-bit samples as 16-bit PNGs (taken back to 10 bits here):
    ours must be those samples rounded to 8 bits, and not the low bits dropped (what
    libheif's convert_hdr_to_8bit does)."""
    for rel in ("deep10.heic", "deep10.avif"):
        assert EXPECT[rel]["bit_depth"] == 10
        ours = as_rgba(run("sx-heif", ["--full"], path=HEIF / rel)).convert("RGB").tobytes()
        reference(rel, "heif-convert", tmp_path)
        wide = sixteen_bit_rgb(tmp_path / (rel + ".heif-convert.png"))
        assert len(wide) == len(ours)
        assert all(v & 63 == 0 for v in wide)  # heif-convert writes sample << 6
        ten = [v >> 6 for v in wide]
        rounded = [(v * 255 + 511) // 1023 for v in ten]
        truncated = [v >> 2 for v in ten]
        assert max(abs(a - b) for a, b in zip(ours, rounded)) <= 1, rel
        hits_round = sum(a == b for a, b in zip(ours, rounded))
        hits_trunc = sum(a == b for a, b in zip(ours, truncated))
        assert hits_round >= 0.99 * len(ours) and hits_trunc < 0.9 * len(ours), (
            rel, hits_round, hits_trunc, len(ours))


def test_rotation_and_mirror_follow_irot_and_imir(tmp_path):
    """grid_rot_mirror.heic: a 160x100 grid, irot 90 degrees anticlockwise then imir: the
    answer is 100x160 and the red marker of the source's top-left corner is where
    heif-convert puts it (and not where the untransformed grid has it)."""
    r = run("sx-heif", ["--full", "--color", "raw"], path=HEIF / "grid_rot_mirror.heic")
    im = as_rgba(r)
    assert im.size == (100, 160)
    ref = reference("grid_rot_mirror.heic", "heif-convert", tmp_path).convert("RGBA")
    assert diff(im, ref)[0] <= EXACTISH_MEAN
    def red_corners(img):
        return [xy for xy in ((2, 2), (97, 2), (2, 157), (97, 157))
                if img.getpixel(xy)[0] > 200 and img.getpixel(xy)[1] < 60]

    # libheif's imir axis 0 flips top and bottom: rotated alone the marker would be at the
    # bottom left, rotated and mirrored it is back at the top left, as heif-convert has it.
    assert red_corners(im) == red_corners(ref) == [(2, 2)]
    rotated_only = as_rgba(run("sx-heif", ["--full", "--color", "raw"],
                               path=HEIF / "grid.heic")).transpose(Image.Transpose.ROTATE_90)
    assert red_corners(rotated_only) == [(2, 157)]


def test_thumbnail_uses_the_thumbnail_item_only_when_large_enough():
    """thumb_marked.heic's 72x48 thumbnail item is the inverted image: a 48 px box (48x32
    target) is answered from it, an 80 px box (80x53 target) from the primary image."""
    full = as_rgba(run("sx-heif", ["--full"], path=HEIF / "thumb_marked.heic"))
    for box, inverted in ((48, True), (72, True), (80, False)):
        r = run("sx-heif", ["--thumbnail", str(box)], path=HEIF / "thumb_marked.heic")
        small = as_rgba(r)
        plain = full.resize(small.size, Image.Resampling.BOX).convert("RGB")
        near_plain = diff(small, plain)[0]
        near_inverted = diff(small, ImageOps.invert(plain))[0]
        if inverted:
            assert near_inverted * 3 < near_plain, (box, near_inverted, near_plain)
        else:
            assert near_plain * 3 < near_inverted and near_plain < 2, (box, near_plain)


def test_exif_orientation_is_not_applied():
    """HEIF says EXIF orientation must be ignored (irot/imir rule): the probe says 1."""
    for rel in EXPECT:
        assert run("sx-heif", ["--probe"], path=HEIF / rel).meta["orientation"] == 1


def test_sx_image_names_sx_heif():
    for rel in ("single.heic", "single.avif"):
        r = run("sx-image", ["--probe"], path=HEIF / rel)
        assert r.kind == "error" and r.status == "unsupported" and "sx-heif" in r.detail, r.detail


def test_the_generator_made_every_file():
    on_disk = {p.name for p in HEIF.iterdir()}
    assert on_disk == set(EXPECT)
    assert b"grid" in (HEIF / "grid.heic").read_bytes()
    assert b"avis" in (HEIF / "sequence.avif").read_bytes()[:32]

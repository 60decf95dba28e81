"""test_font.py: sx-font on every font fixture.

- Probe metadata against what fontTools read when the fixtures were made
  (fonts_lua_expectations.json) and against fc-scan on the same files (family, style,
  PostScript name, faces of a collection, spacing, outline format, and coverage by
  fontconfig's charset). fontconfig reports no glyph count; fontTools' maxp does.
- Previews: an image fitted into the box with visible ink (alpha > 128 on more than 0.5%
  and less than 60% of the pixels), identical for the same font as TTF, WOFF and WOFF2.
- Hostile fonts: each a clean answer within a few CPU seconds, never a kill, except the
  costly hinting loop, which ends by FreeType's own limit or by RLIMIT_CPU (a SIGKILL the
  client reports as a timeout), always within bounded CPU.
- After the strict line only read, write and exit, for every fixture in every mode.
"""
import json
import random
import re
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest

from answer import BIN, FIXTURES, run, run_raw
from test_sandbox import syscalls_after_the_line

ALL = json.loads((FIXTURES / "fonts_lua_expectations.json").read_text())
EXPECT = {k: v for k, v in ALL.items() if k.startswith("fonts/")}
GOOD = sorted(k for k in EXPECT if k.startswith("fonts/good/"))
BAD = sorted(k for k in EXPECT if k.startswith("fonts/bad/"))
HEAVY = "fonts/bad/hint_loop_heavy.ttf"
PREVIEWS = [["--thumbnail", "256x64"], ["--full"]]

# The script table as font_scripts.c holds it (PROTOCOL.md lists it): key -> probe points.
SCRIPTS_C = Path(__file__).resolve().parents[2] / "extractors/font/font_scripts.c"
COVERAGE = {m.group(1): [int(x, 16) for x in re.findall(r"0x[0-9A-Fa-f]+", m.group(2))]
            for m in re.finditer(r'\{"covers_(\w+)",\s*\{([^}]*)\}', SCRIPTS_C.read_text())}
# The first five were there before the table grew; their keys and probes stay.
assert list(COVERAGE)[:5] == ["latin", "greek", "cyrillic", "cjk", "arabic"]
assert COVERAGE["arabic"] == [0x627, 0x628, 0x644, 0x645] and len(COVERAGE) >= 25
# A clean answer costs milliseconds; this leaves room for a loaded machine.
CPU_BOUND = 2.0


def ink_fraction(r):
    assert r.channels == 4
    alpha = r.pixels[3::4]
    return sum(1 for a in alpha if a > 128) / len(alpha)


def check_meta(meta, want):
    for key in ("format", "family_name", "style_name", "postscript_name", "num_glyphs",
                "units_per_em", "outline", "fixed_pitch", "num_faces"):
        assert meta[key] == want[key], (key, meta[key], want[key])
    for script in COVERAGE:
        assert meta["covers_" + script] == (script in want["covers"]), script
    assert meta["scalable"] is (want["outline"] != "bitmap")


@pytest.mark.parametrize("name", GOOD)
def test_probe_matches_fonttools(name):
    r = run("sx-font", ["--probe"], path=FIXTURES / name)
    assert r.kind == "meta", r.detail
    check_meta(r.meta, EXPECT[name]["meta"])
    assert r.meta["face_index"] == 0
    instances = EXPECT[name].get("instances", [])
    assert r.meta["variable"] is bool(instances)
    assert r.meta["num_named_instances"] == len(instances)
    if instances:
        assert r.meta["named_instances"].split("\n") == instances


def test_collection_faces_and_face_index():
    name = "fonts/good/noto_sans_cjk_collection.ttc"
    faces = EXPECT[name]["faces"]
    for i, want in enumerate(faces):
        r = run("sx-font", ["--probe", "--face", str(i)], path=FIXTURES / name)
        check_meta(r.meta, want)
        assert r.meta["face_index"] == i
        assert r.meta["faces"].split("\n") == [
            "%s %s" % (f["family_name"], f["style_name"]) for f in faces]
        r = run("sx-font", ["--thumbnail", "128", "--face", str(i)], path=FIXTURES / name)
        assert r.kind == "image", r.detail
    r = run("sx-font", ["--probe", "--face", str(len(faces))], path=FIXTURES / name)
    assert r.status == "bad_request" and "face" in r.detail
    r = run("sx-font", ["--probe", "--face", "1"], path=FIXTURES / "fonts/good/dejavu_sans.ttf")
    assert r.status == "bad_request"


def fc_scan(path):
    fmt = "%{family[0]}\\t%{style[0]}\\t%{postscriptname}\\t%{index}\\t%{spacing}\\t" \
          "%{fontformat}\\t%{charset}\\n"
    out = subprocess.run(["fc-scan", "--format", fmt, str(path)], capture_output=True,
                         check=True, text=True).stdout
    faces = []
    for line in out.splitlines():
        family, style, ps, index, spacing, fontformat, charset = line.split("\t")
        chars = set()
        for part in charset.split():
            lo, _, hi = part.partition("-")
            chars.update(range(int(lo, 16), int(hi or lo, 16) + 1))
        faces.append({"family": family, "style": style, "ps": ps, "index": int(index),
                      "spacing": spacing, "fontformat": fontformat, "chars": chars})
    return sorted(faces, key=lambda f: f["index"])


@pytest.mark.skipif(shutil.which("fc-scan") is None,
                    reason="fc-scan missing (apt-get install fontconfig): no cross-check")
@pytest.mark.parametrize("name", GOOD)
def test_probe_agrees_with_fc_scan(name):
    # fontconfig lists a variable face again per named instance (index >= 0x10000) and
    # once more as the variable face itself: one entry per face index is the font's faces.
    faces = {}
    for f in fc_scan(FIXTURES / name):
        if f["index"] < 0x10000:
            faces.setdefault(f["index"], f)
    faces = list(faces.values())
    assert faces, "fc-scan found no face"
    for fc in faces:
        r = run("sx-font", ["--probe", "--face", str(fc["index"])], path=FIXTURES / name)
        m = r.meta
        assert m["num_faces"] == len(faces)
        assert (m["family_name"], m["style_name"], m["postscript_name"]) == \
            (fc["family"], fc["style"], fc["ps"])
        # fontconfig names the container's outline format; a colour-bitmap face without
        # outlines (CBDT) is "bitmap" here.
        if EXPECT[name]["meta"]["outline"] != "bitmap":
            assert m["outline"] == {"TrueType": "truetype", "CFF": "cff"}[fc["fontformat"]]
        if fc["chars"]:  # fontconfig calls a font with an empty charset monospaced
            assert m["fixed_pitch"] == (fc["spacing"] == "100")
        for script, points in COVERAGE.items():
            assert m["covers_" + script] == all(p in fc["chars"] for p in points), script


@pytest.mark.parametrize("name", GOOD)
@pytest.mark.parametrize("mode", PREVIEWS, ids=["thumbnail", "full"])
def test_preview_has_visible_ink(name, mode):
    r = run("sx-font", mode, path=FIXTURES / name)
    assert r.kind == "image", r.detail
    box = (256, 64) if mode[0] == "--thumbnail" else (1024, 512)
    assert r.width <= box[0] and r.height <= box[1]
    # Fitted: one side reaches the box, unless the largest pixel size was reached first.
    assert r.width >= box[0] * 0.8 or r.height >= box[1] * 0.8 or mode[0] == "--full"
    assert 0.005 < ink_fraction(r) < 0.60, ink_fraction(r)
    assert r.cpu_seconds < CPU_BOUND


def test_rgb_preview_is_dark_on_white():
    r = run("sx-font", ["--thumbnail", "300x80", "--rgb"],
            path=FIXTURES / "fonts/good/dejavu_sans.ttf")
    assert r.channels == 3
    px = r.pixels
    corners = [px[0:3], px[(r.width - 1) * 3:r.width * 3], px[-3:]]
    assert all(c == b"\xff\xff\xff" for c in corners)
    dark = sum(1 for i in range(0, len(px), 3) if px[i] < 64)
    assert 0.005 < dark / (r.width * r.height) < 0.6


def test_same_font_as_woff_and_woff2_renders_the_same():
    images = [run("sx-font", ["--thumbnail", "320x90"], path=FIXTURES / "fonts/good" / n)
              for n in ("dejavu_sans.ttf", "dejavu_sans.woff", "dejavu_sans.woff2")]
    assert all(i.kind == "image" for i in images)
    assert images[0].pixels == images[1].pixels == images[2].pixels


@pytest.mark.parametrize("box", ["1x1", "8x8", "3x400", "400x3", "8192x8192"])
def test_any_box_is_honoured(box):
    w, h = map(int, box.split("x"))
    r = run("sx-font", ["--thumbnail", box], path=FIXTURES / "fonts/good/noto_sans_italic.ttf")
    assert r.kind == "image", r.detail
    assert 1 <= r.width <= w and 1 <= r.height <= h
    assert r.cpu_seconds < CPU_BOUND


def test_max_pixels_bounds_the_full_preview():
    r = run("sx-font", ["--full", "--max-pixels", "20000"],
            path=FIXTURES / "fonts/good/dejavu_sans.ttf")
    assert r.kind == "image" and r.width * r.height <= 20000


def test_samples_follow_the_script():
    """Fonts without Latin show their own script; the Latin ones are wider (a pangram)."""
    for name in ("noto_sans_greek_only.ttf", "noto_sans_arabic_only.ttf",
                 "noto_sans_cjk_kr_hanzi_only.otf"):
        r = run("sx-font", ["--full"], path=FIXTURES / "fonts/good" / name)
        assert r.kind == "image" and ink_fraction(r) > 0.01, (name, r.detail)


def sfnt_directory(data, at=0):
    """(tag, checksum, offset, length) of each table record, read here with struct."""
    n = struct.unpack_from(">H", data, at + 4)[0]
    return [struct.unpack_from(">4sIII", data, at + 12 + 16 * i) for i in range(n)]


def checksum(data, tag, off, length):
    table = bytearray(data[off:off + length]) + b"\0" * (-length % 4)
    if tag == b"head":
        table[8:12] = b"\0\0\0\0"
    return sum(struct.unpack(">%dI" % (len(table) // 4), table)) & 0xFFFFFFFF


@pytest.mark.parametrize("name", [n for n in GOOD if n.endswith((".ttf", ".otf"))])
def test_probe_reports_the_structure_it_checked(name):
    data = (FIXTURES / name).read_bytes()
    records = sfnt_directory(data)
    r = run("sx-font", ["--probe"], data=data)
    assert r.kind == "meta", r.detail
    assert "table directory" in r.meta["validated"] and "loca" in r.meta["validated"]
    assert r.meta["num_tables"] == len(records)
    assert r.meta["checksum_mismatches"] == sum(
        1 for tag, want, off, length in records if checksum(data, tag, off, length) != want)
    tags = {tag for tag, _, _, _ in records}
    store = next(t.decode().strip() for t in (b"glyf", b"CFF2", b"CFF ", b"CBDT", b"sbix")
                 if t in tags)
    assert r.meta["glyph_store"] == store


def test_a_wrong_checksum_is_counted_not_refused():
    data = bytearray((FIXTURES / "fonts/good/dejavu_sans.ttf").read_bytes())
    struct.pack_into(">I", data, 12 + 4, struct.unpack_from(">I", data, 16)[0] ^ 1)
    r = run("sx-font", ["--probe"], data=bytes(data))
    assert r.kind == "meta" and r.meta["checksum_mismatches"] == 1


STRUCTURAL = sorted(n for n in BAD if "table" in EXPECT[n])


@pytest.mark.parametrize("name", STRUCTURAL)
def test_structural_defect_is_refused_naming_the_table(name):
    """What OTS refuses, sx-font refuses in every mode, before FreeType renders anything,
    and the detail starts with the table (or directory) at fault."""
    for mode in (["--probe"], ["--thumbnail", "128"], ["--full"]):
        r = run("sx-font", mode, path=FIXTURES / name)
        assert r.kind == "error" and r.status == "bad_input", (name, mode, r.kind, r.detail)
        assert r.detail.startswith(EXPECT[name]["table"] + ":"), (name, r.detail)


def installed_fonts():
    return sorted(p for p in Path("/usr/share/fonts").rglob("*")
                  if p.suffix.lower() in (".ttf", ".otf", ".ttc"))


@pytest.mark.skipif(not installed_fonts(), reason="no font package installed")
def test_no_installed_debian_font_is_refused():
    """Every face of every font the machine's Debian packages installed probes, and
    previews (all of them within a time budget: the order is shuffled with a fixed seed,
    so a run that stops early still covers every package a little)."""
    fonts = installed_fonts()
    random.Random(18).shuffle(fonts)
    deadline = time.monotonic() + 20
    refused, previewed = [], 0
    for path in fonts:
        r = run("sx-font", ["--probe"], path=path)
        if r.kind != "meta":
            refused.append((str(path), r.detail))
            continue
        for face in range(r.meta["num_faces"]):
            if time.monotonic() > deadline:
                break
            p = run("sx-font", ["--thumbnail", "200x60", "--face", str(face)], path=path)
            if p.kind != "image":
                refused.append((str(path), face, p.detail))
            previewed += 1
    assert not refused, refused
    assert previewed >= min(50, len(fonts)), previewed


SAMPLES = {m.group(1): m.group(2) for m in re.finditer(
    r'\{"covers_(\w+)",\s*\{[^}]*\},\s*"([^"]*)"\}', SCRIPTS_C.read_text())}


def ink_aspect(image):
    """Width over height of the box of pixels more than 3/8 inked."""
    bbox = image.point(lambda v: 255 if v > 96 else 0).getbbox()
    return (bbox[2] - bbox[0]) / (bbox[3] - bbox[1])


@pytest.mark.parametrize("name,script", [("noto_sans_devanagari.ttf", "devanagari"),
                                         ("noto_sans_arabic_shaped.ttf", "arabic"),
                                         ("noto_sans_bengali.ttf", "bengali")])
def test_complex_scripts_are_shaped_like_raqm(name, script):
    """The preview of a font holding only the sample (no Latin: no name line) has the
    proportions of the sample as Pillow lays it out with raqm (HarfBuzz, FriBidi), within
    4%, and is nearer to it than to Pillow's basic layout, which neither joins, reorders
    nor forms conjuncts (5-20% wider here)."""
    Image = pytest.importorskip("PIL.Image")
    ImageFont = pytest.importorskip("PIL.ImageFont")
    features = pytest.importorskip("PIL.features")
    if not features.check("raqm"):
        pytest.skip("Pillow without raqm (apt-get install libraqm0)")
    path = FIXTURES / "fonts/good" / name
    r = run("sx-font", ["--full"], path=path)
    assert r.kind == "image", r.detail
    ours = ink_aspect(Image.frombytes("RGBA", (r.width, r.height), bytes(r.pixels))
                      .getchannel("A"))
    want = {}
    for engine in (ImageFont.Layout.RAQM, ImageFont.Layout.BASIC):
        mask = ImageFont.truetype(str(path), 64, layout_engine=engine).getmask(SAMPLES[script])
        want[engine] = ink_aspect(Image.frombytes("L", mask.size, bytes(mask)))
    raqm, basic = want[ImageFont.Layout.RAQM], want[ImageFont.Layout.BASIC]
    assert abs(ours - raqm) / raqm < 0.04, (ours, raqm, basic)
    assert abs(ours - raqm) < abs(ours - basic), (ours, raqm, basic)


def status_matches(r, want):
    if want in ("ok", "image"):
        return r.kind == ("meta" if want == "ok" else "image")
    if want == "answer":
        return r.kind in ("meta", "image", "error")
    if want == "error":
        return r.kind == "error" and r.status in ("bad_input", "unsupported")
    return r.kind == "error" and r.status == want


@pytest.mark.parametrize("name", [n for n in BAD if n != HEAVY])
def test_hostile_font_is_a_clean_answer(name):
    e = EXPECT[name]
    for mode, want in ((["--probe"], e["probe"]), (["--thumbnail", "128"], e["preview"]),
                       (["--full"], e["preview"])):
        r = run("sx-font", [*mode, "--memory", "64M"], path=FIXTURES / name, timeout=20)
        assert status_matches(r, want), (name, mode, r.kind, r.status, r.detail)
        if r.kind == "error":
            assert r.detail
        assert r.cpu_seconds < CPU_BOUND, (name, r.cpu_seconds)
        assert r.maxrss_kib < 64 * 1024


def test_hinting_loop_ends_by_freetype_or_cpu_limit():
    """prep loops over 65,000 twilight points per jump: FreeType's backward-jump limit
    ends it after ~4 CPU seconds here. With one CPU second the kernel kills it first."""
    r = run_raw("sx-font", ["--thumbnail", "128", "--cpu-seconds", "1"],
                data=(FIXTURES / HEAVY).read_bytes(), timeout=20)
    if r.returncode == -9:
        # The kernel checks RLIMIT_CPU on its ticks; rusage may read a little under 1 s.
        assert r.out == b"" and 0.5 <= r.cpu_seconds < 3.0, r.cpu_seconds
    else:
        assert r.returncode == 0 and r.cpu_seconds < 1.5
    r = run("sx-font", ["--probe"], path=FIXTURES / HEAVY)
    assert r.kind == "meta" and r.cpu_seconds < CPU_BOUND


def test_the_simple_hinting_loop_renders_unhinted():
    r = run("sx-font", ["--thumbnail", "256x64"], path=FIXTURES / "fonts/bad/hint_loop_prep.ttf")
    assert r.kind == "image" and 0.005 < ink_fraction(r) < 0.6


def truncations():
    out = []
    for name in ("dejavu_sans.ttf", "dejavu_sans.woff2", "noto_sans_cjk_jp.otf",
                 "noto_sans_cjk_collection.ttc"):
        size = (FIXTURES / "fonts/good" / name).stat().st_size
        for cut in (4, 16, 100, size // 3, size * 2 // 3, size - 1):
            out.append((name, cut))
    return out


@pytest.mark.parametrize("name,cut", truncations())
def test_truncated_font_is_never_a_kill(name, cut):
    data = (FIXTURES / "fonts/good" / name).read_bytes()[:cut]
    for mode in (["--probe"], ["--thumbnail", "64"]):
        r = run("sx-font", mode, data=data)
        assert r.kind in ("meta", "image", "error") and r.cpu_seconds < CPU_BOUND
        if r.kind == "error":
            assert r.status in ("bad_input", "unsupported"), r.detail


def test_random_bytes_behind_each_signature():
    rng = random.Random(5)
    for magic in (b"\0\1\0\0", b"true", b"OTTO", b"ttcf", b"wOFF", b"wOF2"):
        for _ in range(4):
            data = magic + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 3000)))
            r = run("sx-font", ["--thumbnail", "64"], data=data)
            assert r.kind in ("image", "error"), magic
            if r.kind == "error":
                assert r.status in ("bad_input", "unsupported"), (magic, r.detail)


def test_other_formats_are_unsupported_unread():
    for data, what in ((b"%!PS-AdobeFont-1.0: X\n", "Type 1"), (b"STARTFONT 2.1\n", "BDF"),
                       (b"\x01fcp" + b"\0" * 64, "PCF"), (b"just text", "unknown")):
        r = run("sx-font", ["--probe"], data=data)
        assert r.status == "unsupported" and what in r.detail, r.detail


def test_help_describes_sx_font():
    p = subprocess.run([str(BIN / "sx-font"), "--help"], capture_output=True, env={})
    assert p.returncode == 0 and p.stderr == b""
    for word in (b"--face", b"WOFF", b"FreeType", b"strict"):
        assert word in p.stdout


def test_text_option_is_shaped_and_font_size_scales():
    Image = pytest.importorskip("PIL.Image")
    ImageFont = pytest.importorskip("PIL.ImageFont")
    features = pytest.importorskip("PIL.features")
    path = FIXTURES / "fonts/good/noto_sans_devanagari.ttf"
    text = "नमस्ते क्षत्रिय"
    r = run("sx-font", ["--full", "--text", text], path=path)
    assert r.kind == "image", r.detail
    if features.check("raqm"):
        mask = ImageFont.truetype(str(path), 64, layout_engine=ImageFont.Layout.RAQM) \
            .getmask(text)
        want = ink_aspect(Image.frombytes("L", mask.size, bytes(mask)))
        ours = ink_aspect(Image.frombytes("RGBA", (r.width, r.height), bytes(r.pixels))
                          .getchannel("A"))
        assert abs(ours - want) / want < 0.05, (ours, want)
    small = run("sx-font", ["--full", "--text", text, "--font-size", "20"], path=path)
    big = run("sx-font", ["--full", "--text", text, "--font-size", "40"], path=path)
    assert small.kind == big.kind == "image"
    assert 1.7 < big.height / small.height < 2.3 and 1.7 < big.width / small.width < 2.3
    r = run("sx-font", ["--thumbnail", "64", "--text", "xyz"], path=path)
    assert r.status == "unsupported" and "requested text" in r.detail


@pytest.mark.parametrize("args", [["--text", "x" * 257], ["--text", "a\tb"], ["--text", ""],
                                  ["--text", "a\x7fb"], ["--font-size", "5"],
                                  ["--font-size", "201"], ["--font-size", "x"]])
def test_bad_text_or_font_size_is_a_bad_request(args):
    r = run("sx-font", ["--thumbnail", "64", *args], path=FIXTURES / "fonts/good/dejavu_sans.ttf")
    assert r.status == "bad_request" and args[0] in r.detail, r.detail


def test_text_must_be_well_formed_utf8():
    p = subprocess.run([str(BIN / "sx-font"), "--thumbnail", "64", "--text", b"ab\xffcd"],
                       stdin=open(FIXTURES / "fonts/good/dejavu_sans.ttf", "rb"),
                       capture_output=True, env={})
    assert p.returncode == 1 and b"--text" in p.stdout


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
@pytest.mark.parametrize("mode", [["--probe"], ["--thumbnail", "64"], ["--full", "--rgb"],
                                  ["--thumbnail", "64", "--text", "नमस्ते مرحبا 😀 A"]],
                         ids=["probe", "thumbnail", "full", "text"])
def test_only_read_write_exit_after_the_line(mode, tmp_path):
    for name in sorted(EXPECT):
        # The costly hinting loop runs under a one-second CPU limit: killed or answered.
        limit = ["--cpu-seconds", "1"] if name == HEAVY else []
        trace = tmp_path / "trace"
        with open(FIXTURES / name, "rb") as f:
            p = subprocess.run(["strace", "-f", "-qq", "-o", str(trace), str(BIN / "sx-font"),
                                *mode, *limit], stdin=f, capture_output=True, env={})
        allowed = (0, 1, -9) if limit else (0, 1)
        assert p.returncode in allowed, (name, p.returncode, p.stderr[-300:])
        calls = syscalls_after_the_line(trace.read_text())
        assert calls <= {"read", "write", "exit"}, (name, calls)


def test_no_unwanted_freetype_driver_is_reachable():
    """The summary names what sx-font reads; the probe of a Type 1 font never reaches
    FreeType (the signature check refuses it), and an sfnt-wrapped Type 1 neither."""
    r = run("sx-font", ["--probe"], data=b"typ1" + b"\0" * 200)
    assert r.status == "unsupported" and re.search("Type 1", r.detail)


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_every_font_fixture_through_a_traced_fork_server(tmp_path):
    """Every font fixture (the heavy hinting loop apart), probe and both previews, served
    by one zygote under strace: each child only reads, writes and exits after the line
    (HarfBuzz, colour glyphs and the validator included), and answers byte for byte as
    one-shot mode does."""
    from strict_trace import check_through_traced_fork_server

    modes = (("--probe",), ("--thumbnail", "96x32"), ("--full", "--rgb"))

    def oneshot(name, mode):
        with open(FIXTURES / name, "rb") as f:
            return run_raw("sx-font", list(mode), stdin=f)

    names = sorted(n for n in EXPECT if n != HEAVY)
    requests = [(name, mode, FIXTURES / name) for name in names for mode in modes]
    check_through_traced_fork_server("sx-font", requests, tmp_path, oneshot)


def test_fork_server_answers_like_oneshot():
    """A zygote's children use the FreeType engine the zygote made: same answers."""
    zygote = pytest.importorskip("test_zygote", reason="no fork server (test_zygote.py)")
    z = zygote.Zygote("sx-font")
    try:
        for name in ("fonts/good/dejavu_sans.woff2", "fonts/good/noto_sans_cjk_collection.ttc",
                     "fonts/bad/hint_loop_prep.ttf", "fonts/bad/woff_300_tables.woff",
                     "fonts/bad/truncated_12.ttf"):
            for mode in (["--probe"], ["--thumbnail", "96x32", "--rgb"], ["--full"]):
                with open(FIXTURES / name, "rb") as f:
                    oneshot = run_raw("sx-font", mode, stdin=f)
                served, _ = z.run(mode, path=FIXTURES / name)
                assert (served.returncode, served.out) == (oneshot.returncode, oneshot.out), \
                    (name, mode)
    finally:
        assert z.close() == 0

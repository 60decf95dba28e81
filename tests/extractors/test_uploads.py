"""test_uploads.py: files that look like real uploads (fixtures/uploads/, made by
make_upload_fixtures.py: phone MP4/MOV metadata, DVB names in many character sets,
Matroska tags and attachments, camera JPEG segments, PNG text chunks, odd font name tables,
Lua escapes) through their extractor in every mode, one-shot and through the fork server,
each under `strace -f`: the answer must be the expected one, and after the strict line a
process may only read, write, exit and rt_sigreturn. Before issue 10 every video here
was SIGKILLed (/etc/localtime, gconv modules opened after the line).

Cost: one strace'd exec per file and mode, and one strace'd zygote per extractor serving
every file and mode (sx-video's dynamic linking is paid once there)."""
import json
import shutil
from functools import lru_cache

import pytest

from answer import BIN, FIXTURES, parse
from strict_trace import ALLOWED, check_through_traced_fork_server, traced_oneshot

UPLOADS = FIXTURES / "uploads"
EXPECT = json.loads((FIXTURES / "uploads_expectations.json").read_text())
FAMILY = {
    "video": ("sx-video", (("--probe",), ("--thumbnail", "64"))),
    "image": ("sx-image", (("--probe",), ("--thumbnail", "64"), ("--full",))),
    "font": ("sx-font", (("--probe",), ("--thumbnail", "64"))),
    "lua": ("sx-lua", (("--probe",),)),
}
# A few of the generated files, with what the generator must have put in them: the test
# can only fail on a lazy path if the trigger is really in the file.
TRIGGERS = {
    "video/android_h264_aac_rot90.mp4": [b"mvhd", b"com.android.version", b"tmcd", b"tx3g",
                                         b"elst", b"location"],
    "video/itunes_h264_cover_chapters.mp4": [b"covr", b"chpl", b"\xa9day"],
    "video/iphone_hevc_main10_4k_hlg.mov": [b"hvc1", b"com.apple.quicktime.make", b"tmcd"],
    "video/matroska_h264_tags_chapters_font.mkv": [b"\x44\x61", b"UploadSans.ttf"],
    "video/dvb_latin_names.ts": [b"\x01" + "Первый".encode("iso8859-5")],
    "video/dvb_asian_names.ts": [b"\x13" + "中央电视台".encode("gb2312")],
}

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


def family_of(rel):
    return FAMILY[rel.split("/")[0]]


@lru_cache(maxsize=None)
def oneshot(rel, mode):
    """(Run, syscalls after the line of every traced process) for one file and mode."""
    binary, _ = family_of(rel)
    return traced_oneshot(binary, UPLOADS / rel, mode)


def check_answer(rel, mode, r):
    e = EXPECT[rel]
    where = f"{rel} {' '.join(mode)}: "
    assert r.returncode in (0, 1), where + f"killed by signal {-r.returncode}"
    parse(r)
    if e["outcome"] == "error":
        assert r.kind == "error" and r.status == e["status"], where + f"{r.kind} {r.status} {r.detail}"
        return
    assert r.kind != "error", where + f"{r.status}: {r.detail}"
    kind = rel.split("/")[0]
    if mode[0] == "--probe":
        m = r.meta
        if kind == "video":
            got = {k: m.get(k) for k in ("codec", "width", "height", "rotation", "has_audio",
                                         "format", "bit_depth")}
            want = {k: e[k] for k in got}
            assert got == want, where + str(m)
        elif kind == "image":
            assert (m["width"], m["height"]) == (e["width"], e["height"]), where + str(m)
            if "orientation" in e:
                assert m["orientation"] == e["orientation"], where + str(m)
        elif kind == "font":
            if e.get("family"):
                assert m["family_name"] == e["family"], where + str(m)
            else:
                assert m["family_name"], where + "no family name at all"
        else:
            assert m["valid"] is e["valid"], where + str(m)
        return
    assert r.kind == "image", where + r.kind
    if mode[0] == "--thumbnail":
        assert 1 <= r.width <= 64 and 1 <= r.height <= 64, where + f"{r.width}x{r.height}"
    if kind == "video" and e["rotation"] in (90, 270) and mode[0] == "--thumbnail":
        assert r.height > r.width, where + "rotation not applied"
    if "grey" in e:
        ch = r.channels
        values = [v for i, v in enumerate(r.pixels) if i % ch < 3]
        assert max(abs(v - e["grey"]) for v in values) <= 3, (
            where + f"flat grey {e['grey']} came out {min(values)}..{max(values)}")


def test_the_generator_put_the_triggers_in():
    for rel, needles in TRIGGERS.items():
        data = (UPLOADS / rel).read_bytes()
        for needle in needles:
            assert needle in data, (rel, needle)
    on_disk = {str(p.relative_to(UPLOADS)) for p in UPLOADS.rglob("*") if p.is_file()}
    assert on_disk == set(EXPECT)
    assert sum((UPLOADS / r).stat().st_size for r in on_disk) < 2 << 20


@pytest.mark.parametrize("rel", sorted(EXPECT))
def test_upload_oneshot_under_strace(rel):
    binary, modes = family_of(rel)
    if not (BIN / binary).exists():
        pytest.skip(f"{binary} is not built")
    for mode in modes:
        r, calls = oneshot(rel, mode)
        check_answer(rel, mode, r)
        strict = [c for c in calls.values() if c is not None]
        assert len(strict) == 1, f"{rel} {mode}: {len(strict)} processes crossed the line"
        assert strict[0] <= ALLOWED, (rel, mode, strict[0] - ALLOWED)


@pytest.mark.parametrize("family", sorted(FAMILY))
def test_uploads_through_a_traced_fork_server(family, tmp_path):
    binary, modes = FAMILY[family]
    if not (BIN / binary).exists():
        pytest.skip(f"{binary} is not built")
    files = sorted(r for r in EXPECT if r.startswith(family + "/"))
    assert files
    check_through_traced_fork_server(
        binary, [(rel, mode, UPLOADS / rel) for rel in files for mode in modes], tmp_path,
        lambda rel, mode: oneshot(rel, mode)[0], check_answer)

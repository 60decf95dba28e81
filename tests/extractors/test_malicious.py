"""test_malicious.py: the malicious-file suite through the extractors directly.

Every file in fixtures/malicious/ (outcomes in fixtures/malicious/manifest.json) and every
case make_malicious.generated_cases() builds at test time (truncations of the valid
fixtures, a 5 MiB Lua line, 16 MB of ICC chunks) goes to its extractor twice: as a probe
and as a decode (a 64 px thumbnail; for Lua the probe is the syntax check). Each run must
end in a well-formed answer of the expected outcome, within the CPU limit, with its peak
RSS bounded, never by a signal, except for "timeout" cases, which must end in the
SIGKILL of RLIMIT_CPU. Kinds whose extractor is not built yet are skipped, naming the
missing binary.
"""
import json
import signal
import sys

import pytest

from answer import BIN, FIXTURES, parse, run_raw

sys.path.insert(0, str(FIXTURES))
import make_malicious as mm  # noqa: E402

MALICIOUS = FIXTURES / "malicious"
MANIFEST = json.loads((MALICIOUS / "manifest.json").read_text())
COMMITTED = {name: (e, None) for name, e in MANIFEST.items()}
GENERATED = {c.name: (c.entry(), c.data) for c in mm.generated_cases()}
CASES = {**COMMITTED, **GENERATED}

BINARY = {"image": "sx-image", "video": "sx-video", "font": "sx-font", "lua": "sx-lua"}
# The requests each kind is judged on; "decode" is held to the manifest's "expect", the
# probe to its "probe" (default: the same). Lua has no image answers: its probe is the
# syntax check.
REQUESTS = {
    "image": {"probe": ["--probe"], "decode": ["--thumbnail", "64"]},
    "video": {"probe": ["--probe"], "decode": ["--thumbnail", "64"]},
    "font": {"probe": ["--probe"], "decode": ["--thumbnail", "64"]},
    "lua": {"decode": ["--probe"]},
}
BOX = 64
CPU_SECONDS = 5          # per request; far above what any case needs
TIMEOUT_CPU_SECONDS = 1  # for the "timeout" cases, which must be killed by RLIMIT_CPU
MEMORY_MIB = 256         # the pool cap each run gets
RSS_SLACK_MIB = 80       # code and data of the libraries, outside the pool
ALLOWED = {"ok_or_bad_input": {"ok", "bad_input"}}


def outcome_of(r, kind):
    if r.kind == "error":
        return r.status
    if kind == "lua":
        assert r.kind == "meta" and isinstance(r.meta.get("valid"), bool), r.meta
        return "ok" if r.meta["valid"] else "syntax_error"
    return "ok"


def need_binary(kind):
    exe = BIN / BINARY[kind]
    if not exe.exists():
        pytest.skip(f"{exe} is not built yet: the {kind} cases of the malicious suite "
                    "wait for it")
    return exe.name


def run_case(name, entry, data, args):
    cpu = TIMEOUT_CPU_SECONDS if entry["expect"] == "timeout" else CPU_SECONDS
    args = [*args, "--cpu-seconds", str(cpu), "--memory", f"{MEMORY_MIB}M"]
    binary = need_binary(entry["kind"])
    if data is None:
        with open(MALICIOUS / name, "rb") as f:
            return run_raw(binary, args, stdin=f, timeout=cpu + 20), cpu
    return run_raw(binary, args, data=data, timeout=cpu + 20), cpu


def check(name, entry, mode, r, cpu):
    want = entry["expect"] if mode == "decode" else entry.get("probe", entry["expect"])
    where = f"{name} ({mode}): "
    assert r.maxrss_kib <= (MEMORY_MIB + RSS_SLACK_MIB) * 1024, where + f"maxrss {r.maxrss_kib} KiB"
    if "max_rss_mib" in entry:
        assert r.maxrss_kib <= entry["max_rss_mib"] * 1024, where + f"maxrss {r.maxrss_kib} KiB"
    if want == "timeout":
        assert r.returncode == -signal.SIGKILL and r.out == b"", \
            where + f"expected a CPU-limit SIGKILL, got exit {r.returncode} {r.out[:80]!r}"
        # rusage splits CPU time by ticks: allow for its rounding, not for an early kill.
        assert r.cpu_seconds >= 0.5 * cpu, where + f"killed after only {r.cpu_seconds:.2f} s"
        return
    assert r.returncode >= 0, where + f"killed by signal {-r.returncode}, stderr {r.err[-200:]!r}"
    assert r.cpu_seconds < cpu, where + f"{r.cpu_seconds:.2f} s of CPU"
    parse(r)
    got = outcome_of(r, entry["kind"])
    assert got in ALLOWED.get(want, {want}), where + f"expected {want}, got {got}: {r.detail}"
    if r.kind == "error":
        assert r.detail, where + "error answer without a detail"
    elif r.kind == "image":
        assert mode == "decode" and 1 <= r.width <= BOX and 1 <= r.height <= BOX
    elif entry["kind"] != "lua":
        assert r.kind == "meta" and mode == "probe", where + r.kind
        if "orientation" in entry:
            assert r.meta["orientation"] == entry["orientation"], where + str(r.meta)


def params():
    """Every case; the ones in make_malicious.OPEN_ISSUES (an extractor disagrees, reported)
    as strict xfails, so a fix turns into an XPASS that asks for the entry to go."""
    for name in sorted(CASES):
        why = mm.OPEN_ISSUES.get(name)
        marks = [pytest.mark.xfail(reason=why, strict=True)] if why else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", params())
def test_malicious_file(name):
    entry, data = CASES[name]
    for mode, args in REQUESTS[entry["kind"]].items():
        r, cpu = run_case(name, entry, data, args)
        check(name, entry, mode, r, cpu)


def test_open_issues_name_real_cases():
    assert set(mm.OPEN_ISSUES) <= set(CASES)


def test_manifest_matches_the_folder():
    on_disk = {str(p.relative_to(MALICIOUS)) for p in MALICIOUS.rglob("*")
               if p.is_file() and p.name != "manifest.json"}
    assert on_disk == set(MANIFEST)
    assert sum((MALICIOUS / n).stat().st_size for n in on_disk) < 4 << 20
    for name, e in MANIFEST.items():
        assert set(e) <= {"kind", "expect", "attack", "probe", "orientation", "max_rss_mib"}
        assert e["kind"] in BINARY and name.startswith(e["kind"] + "/")
        assert e["expect"] in mm.OUTCOMES and e.get("probe", "ok") in mm.OUTCOMES
        assert e["attack"] and "\n" not in e["attack"]


def test_readme_lists_every_malicious_file():
    readme = (FIXTURES / "README.md").read_text()
    assert mm.README_MARK in readme
    section = readme[readme.index(mm.README_MARK):]
    for name, e in MANIFEST.items():
        assert f"| `malicious/{name}` |" in section, name


def test_every_attack_class_is_covered():
    """The classes of issue 6, by file name: a rename must not drop one silently."""
    names = set(CASES)
    for needle in ("mvg_url_pipe.jpg", "mvg_url_pipe.png", "svg_url_pipe.jpg",
                   "svg_url_pipe.png", "mvg_ephemeral.jpg", "mvg_ephemeral.png",
                   "mvg_msl.jpg", "mvg_msl.png", "mvg_label_passwd.jpg",
                   "mvg_label_passwd.png", "eps_pipe.jpg", "hls_file_passwd.mp4",
                   "ffconcat_passwd.mp4", "png_ihdr_100000x100000.png",
                   "png_ztxt_bomb_256mib.png", "png_iccp_bomb_256mib.png",
                   "jpeg_sof_65500x65500.jpg", "jpeg_5000_scans.jpg",
                   "mp4_sps_30000x30000.mp4", "empty.jpg", "zeros_4096.png", "random_64k.jpg",
                   "polyglot_png_zip.png", "polyglot_jpeg_html.jpg",
                   "exif_ifd_offset_fffffff0.jpg", "exif_orientation_9.jpg", "icc_16mib.jpg",
                   "table_glyf_past_end.ttf", "numglyphs_65535_no_glyphs.ttf",
                   "fpgm_jmpr_loop.ttf", "bytecode.lua", "nesting_parens_300.lua",
                   "lua_5mib_line_valid.lua",
                   # issue 17
                   "vp9_superframe_index_lies.ivf", "av1_obu_size_past_end.ivf",
                   "av1_seq_65536x65536.ivf", "vp9_keyframe_65536x65536.ivf",
                   "webm_cluster_size_lies.webm", "ivf_billion_frames.ivf",
                   "av1_100_operating_point_headers.ivf"):
        assert any(n.endswith("/" + needle) for n in names), needle
    good = mm.good_image_fixtures()
    assert good and all(any(n.startswith(f"truncated/{g}@") for n in names) for g in good)

"""test_malicious_heif.py: hostile HEIC/AVIF files (fixtures/make_malicious_heif.py: tile
grids that overflow or lie, ispe bombs, iloc extents outside the file, self-referencing
and circular grids, a 255-channel pixi, 6000 items, tiles whose SPS claims 4096x4096 or
16384x16384, a 10,000-frame AVIF sequence) through sx-heif, probe and 64 px thumbnail,
each under `strace -f`: the verdict in manifest.json, never a signal, peak RSS under the
pool cap plus the libraries, nothing but read, write, exit and rt_sigreturn after the
line."""
import json
import sys

import pytest

from answer import FIXTURES, parse
from strict_trace import ALLOWED, traced_oneshot

sys.path.insert(0, str(FIXTURES))
import make_malicious_heif as mh  # noqa: E402

MANIFEST = json.loads((FIXTURES / "malicious_heif" / "manifest.json").read_text())
CASES = {name: (blob, expect, probe) for name, blob, expect, probe, _ in mh.cases()}
MEMORY_MIB = 256
RSS_SLACK_MIB = 80


def test_manifest_lists_every_case():
    assert set(MANIFEST) == set(CASES)
    assert {e["expect"] for e in MANIFEST.values()} >= {"limit", "bad_input", "unsupported"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_malicious_heif_case(name, tmp_path):
    blob, expect, probe = CASES[name]
    assert MANIFEST[name]["expect"] == expect and MANIFEST[name]["probe"] == probe
    path = tmp_path / name
    path.write_bytes(blob)
    for mode, want in ((("--probe",), probe), (("--thumbnail", "64"), expect)):
        args = (*mode, "--cpu-seconds", "5", "--memory", f"{MEMORY_MIB}M")
        r, calls = traced_oneshot("sx-heif", path, args)
        where = f"{name} {mode[0]}: "
        assert r.returncode in (0, 1), where + f"exit {r.returncode}"
        parse(r)
        got = r.status if r.kind == "error" else "ok"
        assert got == want, where + f"{got} ({r.detail}) != {want}"
        strict = [c for c in calls.values() if c is not None]
        assert len(strict) == 1 and strict[0] <= ALLOWED, (name, mode, strict)


@pytest.mark.parametrize("name", sorted(CASES))
def test_malicious_heif_memory(name, tmp_path):
    """Peak RSS (measured without strace) stays under the pool cap plus the libraries."""
    from answer import run_raw

    blob = CASES[name][0]
    r = run_raw("sx-heif", ["--thumbnail", "64", "--cpu-seconds", "5", "--memory",
                            f"{MEMORY_MIB}M"], data=blob)
    assert r.returncode in (0, 1)
    assert r.maxrss_kib <= (MEMORY_MIB + RSS_SLACK_MIB) * 1024, (name, r.maxrss_kib)

"""sandbox_extractor.dask and the CLI's --scheduler on a distributed.LocalCluster of 2
worker processes: the same records and files as the local CLI, hostile fixtures with the
same verdicts, a worker killed mid-batch losing nothing, no extractor or fork server left
when the cluster closes, and no Dask import without --scheduler."""

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sxtest_paths import BUILD_BIN, FIXTURES, REPO

distributed = pytest.importorskip("distributed")

from sandbox_extractor import cli  # noqa: E402
from sandbox_extractor import _zygote  # noqa: E402
from sandbox_extractor import dask as sx_dask  # noqa: E402

# Images, video, fonts and Lua (uploads), every hostile fixture; --timeout 6 keeps the one
# font that spins (prep_twilight_flood.ttf) short, and a timeout on both sides.
SOURCES = [str(FIXTURES / d) for d in ("good", "uploads", "malicious")]
LIMITS = ["--timeout", "6"]  # 3 s let a slow file time out under load


# The LocalCluster lives in a helper process of its own: started in this process it left a
# child behind (likely multiprocessing's resource tracker), and other tests count this
# process's children. The helper prints the scheduler's address, then closes the
# cluster when its stdin closes.
_CLUSTER = """
import sys
import distributed
if __name__ == "__main__":
    # Dashboard off; the scheduler's bare HTTP server on a free port, not 8787.
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=":0",
                                  scheduler_kwargs={"dashboard": False}) as c:
        print(c.scheduler_address, flush=True)
        sys.stdin.read()
"""


class _Cluster:
    def __init__(self):
        env = dict(os.environ, PYTHONPATH=str(REPO / "pyclient"))
        self.proc = subprocess.Popen([sys.executable, "-c", _CLUSTER], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)  # fmt: skip
        self.scheduler_address = self.proc.stdout.readline().strip()
        assert self.scheduler_address.startswith("tcp://"), "LocalCluster did not start"

    def close(self):
        if self.proc.returncode is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


@pytest.fixture(scope="module")
def cluster(bin_dir):
    c = _Cluster()
    client = distributed.Client(c.scheduler_address)
    yield c, client
    client.close()
    c.close()


def _run_cli(argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(argv)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def _by_file(records, strip=None):
    """Records keyed by file, the summary apart (its seconds dropped), output dirs cut."""
    summary = dict(records[-1]["summary"])
    summary.pop("seconds")
    keyed = {}
    for r in records[:-1]:
        r = dict(r)
        if strip and "output" in r:
            r["output"] = os.path.relpath(r["output"], strip)
        assert r["file"] not in keyed
        keyed[r["file"]] = r
    return keyed, summary


def _tree(root):
    return {
        str(p.relative_to(root)): p.read_bytes() for p in Path(root).rglob("*") if p.is_file()
    }


def test_thumbnail_on_cluster_is_the_local_cli_file_for_file(cluster, tmp_path):
    c, _client = cluster
    local, remote = tmp_path / "local", tmp_path / "remote"
    code_l, rec_l = _run_cli(["thumbnail", *SOURCES, "-o", str(local), "--json", "-j", "2",
                              *LIMITS])  # fmt: skip
    code_r, rec_r = _run_cli(["thumbnail", *SOURCES, "-o", str(remote), "--json",
                              "--scheduler", c.scheduler_address, "--partition-size", "8",
                              *LIMITS])  # fmt: skip
    files_l, sum_l = _by_file(rec_l, local)
    files_r, sum_r = _by_file(rec_r, remote)
    assert code_l == code_r == cli.EXIT_REJECTED
    assert sum_l == sum_r
    assert sum_l["files"] + sum_l["lua_checked"] == len(files_l) > 150
    assert files_l == files_r  # every record, rejected ones with the same kind and status
    # Hostile fixtures: the same verdicts (at least one sandbox-level kill among them).
    hostile = {f: r for f, r in files_r.items() if "/malicious/" in f}
    assert len(hostile) > 100 and any(r.get("error") == "timeout" for r in hostile.values())
    tree_l = _tree(local)
    assert len(tree_l) == sum_l["done"]
    assert tree_l == _tree(remote)  # byte for byte


def test_probe_on_cluster_is_the_local_cli(cluster):
    c, _client = cluster
    code_l, rec_l = _run_cli(["probe", *SOURCES, "--json", *LIMITS])
    # In a process of its own, as an operator runs it (no Dask client there but the CLI's).
    env = dict(os.environ, PYTHONPATH=str(REPO / "pyclient"))
    run = subprocess.run([sys.executable, "-m", "sandbox_extractor", "probe", *SOURCES, "--json",
                          "--scheduler", c.scheduler_address, *LIMITS],
                         env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    code_r, rec_r = run.returncode, [json.loads(line) for line in run.stdout.splitlines()]
    assert code_l == code_r == cli.EXIT_REJECTED
    assert rec_l[:-1] == rec_r[:-1]  # same records, same order
    assert _by_file(rec_l)[1] == _by_file(rec_r)[1]


def test_api_records_are_typed_and_bytes_match_the_cli(cluster, tmp_path):
    _c, client = cluster
    good = sorted((FIXTURES / "good").glob("png_*.png"))[:4]
    blobs = [(p.name, p.read_bytes()) for p in good]
    records = list(sx_dask.thumbnail(client, blobs, None, partition_size=2))
    assert [r.file for r in records] == [p.name for p in good]
    cli.main(["thumbnail", *map(str, good), "-o", str(tmp_path)])
    for r, p in zip(records, good):
        assert r.error is None and r.data == (tmp_path / (p.stem + ".png")).read_bytes()
    probed = sx_dask.probe_bag([str(p) for p in good] + [("junk", b"\0" * 64)]).compute()
    from sandbox_extractor import probe_format

    assert [r.metadata for r in probed[:4]] == [probe_format("auto", str(p)) for p in good]
    assert probed[4].error == "unsupported" and probed[4].metadata is None


def _pid_of(client, address):
    return client.run(os.getpid, workers=[address])[address]


def test_worker_killed_mid_batch_loses_nothing(cluster):
    _c, client = cluster
    files = sorted(str(p) for p in (FIXTURES / "good").iterdir())
    args = sx_dask._options("thumbnail", {})
    planned = sx_dask.plan(files, None)
    killed = None
    records = []
    for record in sx_dask.map_records(client, "thumbnail", planned, args, partition_size=2):
        records.append(record)
        if killed is None:
            busy = [w for w, keys in client.processing().items() if keys]
            assert busy, "nothing in flight to kill"
            killed = busy[0]
            os.kill(_pid_of(client, killed), signal.SIGKILL)
    assert [r.file for r in records] == files
    assert all(r.error is None and r.data for r in records)
    client.wait_for_workers(2, timeout=30)  # the nanny starts a new one


def _extractor_processes():
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue
        if exe.startswith(str(BUILD_BIN) + "/"):
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            found.append((int(pid), ppid, exe))
    return found


def test_no_extractor_or_fork_server_left_when_the_cluster_closes(cluster):
    c, client = cluster
    list(sx_dask.probe(client, [str(FIXTURES / "good")]))
    _zygote.shutdown()  # this process's own (the in-process CLI and API calls above)
    assert _extractor_processes(), "the workers' fork servers should be running now"
    client.close()
    c.close()
    deadline = time.monotonic() + 10
    while _extractor_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _extractor_processes() == []


def test_without_scheduler_nothing_of_dask_is_imported(bin_dir, tmp_path):
    code = (
        "import sys\n"
        "from sandbox_extractor import cli\n"
        f"rc = cli.main(['thumbnail', {str(FIXTURES / 'good' / 'png_gray8.png')!r}, "
        f"'-o', {str(tmp_path)!r}])\n"
        f"rc |= cli.main(['probe', {str(FIXTURES / 'good')!r}])\n"
        "mods = [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')"
        " or m == 'sandbox_extractor.dask']\n"
        "assert rc == 0 and not mods, (rc, mods)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO / "pyclient"))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)

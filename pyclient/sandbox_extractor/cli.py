"""Command line: `python3 -m sandbox_extractor probe|thumbnail ...`.

probe FILE...       one JSON object per line per file: {"file", "metadata": {...}} with
                    the extractor's fields nested (so none of them can stand in for the
                    record's own keys), or {"file", "error", "status", "detail"}.
thumbnail SRC... -o DIR [--size N|WxH] [-j N] [--follow-symlinks]
                    PNG thumbnails of files and (recursively, without recursion limit)
                    directories, N parallel workers; one line per rejected file or
                    unreadable directory on stderr, a summary at the end. A file found in
                    a directory whose real path is outside that directory (a symlink out
                    of the tree) is skipped and reported, unless --follow-symlinks.
--execution oneshot|server|auto
                    one process per file, or fork servers (one per worker, started on
                    first use); default: $SANDBOX_EXTRACTOR_MODE, else server.
Exit status: 0 when every file succeeded, 1 when any failed, 2 on a usage error or a
missing extractor.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import os
import stat
import sys
import tempfile
import time
from dataclasses import dataclass

from . import _api, _input, _request, _runner, _zygote
from ._errors import DecodeError, ExtractorUnavailable, printable
from ._locate import find_extractor

_KINDS = {k.value: k for k in _request.StreamKind}


class OutsideSourceError(Exception):
    """A file found in a source directory resolves to a path outside it."""

    kind = "outside_source"


def _error_record(exc: BaseException) -> dict:
    if isinstance(exc, OutsideSourceError):
        return {"error": exc.kind, "status": None, "detail": str(exc)}
    if isinstance(exc, DecodeError):
        return {"error": exc.kind, "status": exc.status, "detail": exc.detail}
    if isinstance(exc, OSError):
        return {"error": "os_error", "status": None, "detail": f"{exc.strerror or exc}"}
    return {"error": type(exc).__name__, "status": None, "detail": str(exc)}


def _limits(args) -> dict:
    return dict(
        max_pixels=args.max_pixels,
        max_input_bytes=args.max_input_bytes,
        memory=args.memory,
        timeout=args.timeout,
    )


def _add_limit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kind", choices=sorted(_KINDS), default="image", help="input kind (default image)"
    )
    parser.add_argument("--max-pixels", type=int, default=_request.DEFAULT_MAX_PIXELS)
    parser.add_argument("--max-input-bytes", type=int, default=_request.DEFAULT_MAX_INPUT_BYTES)
    parser.add_argument("--memory", type=int, default=_request.DEFAULT_MEMORY, help="pool cap, bytes")
    parser.add_argument(
        "--timeout", type=float, default=_request.DEFAULT_TIMEOUT, help="seconds per file"
    )
    parser.add_argument(
        "--execution",
        choices=_runner.EXECUTIONS,
        default=None,
        help="oneshot: a process per file; server: fork servers, one per worker; auto: "
        f"one-shot for the first file (default: ${_runner.ENV_MODE}, else server)",
    )


def _parse_size(text: str) -> tuple[int, int]:
    try:
        if "x" in text:
            w, h = text.split("x", 1)
            return int(w), int(h)
        return int(text), int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be N or WxH, got {text!r}") from None


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sandbox-extractor",
        description="Probe and thumbnail untrusted files in sandboxed extractor processes.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    probe = sub.add_parser("probe", help="print metadata of each FILE as one JSON line")
    probe.add_argument("files", nargs="+", metavar="FILE")
    probe.add_argument("--face", type=int, default=None, help="fonts: face of a collection")
    _add_limit_options(probe)
    thumb = sub.add_parser("thumbnail", help="write PNG thumbnails of files and directories")
    thumb.add_argument("sources", nargs="+", metavar="SRC")
    thumb.add_argument("-o", "--output", required=True, metavar="DIR")
    thumb.add_argument("--size", type=_parse_size, default=(256, 256), help="N or WxH (256)")
    thumb.add_argument(
        "--color", choices=("srgb", "raw"), default="srgb",
        help="srgb: convert by the embedded ICC profile / PNG colour chunks (default); "
        "raw: stored values",
    )  # fmt: skip
    thumb.add_argument(
        "-j", "--jobs", type=int, default=os.cpu_count() or 1, help="parallel workers"
    )
    thumb.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="also thumbnail files in SRC directories whose real path is outside SRC "
        "(default: skip and report them; symlinked directories are never descended)",
    )
    _add_limit_options(thumb)
    return parser


def _probe(args) -> int:
    kind = _KINDS[args.kind]
    failed = 0
    for path in args.files:
        try:
            info = _api.probe_format(
                kind, path, execution=args.execution, face=args.face, **_limits(args)
            )
            # Nested: the extractor chooses these keys, the record's own are ours.
            record = {"file": path, "metadata": info.as_dict()}
        except ExtractorUnavailable:
            raise
        except (DecodeError, OSError) as exc:
            failed += 1
            record = {"file": path, **_error_record(exc)}
        print(json.dumps(record), flush=True)
    return 1 if failed else 0


# ---- thumbnail ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    """One item of the walk: a file to thumbnail (`rel` is its path below the output
    directory; `root`, when set, the real path it must stay inside), or a directory that
    could not be listed (`error`)."""

    src: str
    rel: str = ""
    root: str | None = None
    error: OSError | None = None


def _walk(sources: list[str], output: str, follow_symlinks: bool = False):
    """Yields _Jobs in a stable order (a directory's files by name, then its
    subdirectories, depth first).

    A directory's regular files are mirrored below it (symlinks to files are followed,
    symlinked directories are not descended, FIFOs and devices are skipped); the output
    directory itself is never walked. A file given directly maps to its name. The walk
    keeps its own stack, so no depth of nesting can exhaust Python's recursion limit; a
    directory that cannot be listed is a _Job with `error`, and the walk goes on.
    """
    try:
        out_st = os.stat(output)
        out_id = (out_st.st_dev, out_st.st_ino)
    except OSError:
        out_id = None
    for src in sources:
        try:
            st = os.stat(src)
        except OSError:
            yield _Job(src, os.path.basename(src))  # reported as a failure by the worker
            continue
        if not stat.S_ISDIR(st.st_mode):
            yield _Job(src, os.path.basename(os.path.normpath(src)))
            continue
        root = None if follow_symlinks else os.path.realpath(src)
        stack = [src]
        while stack:
            directory = stack.pop()
            try:
                with os.scandir(directory) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                yield _Job(directory, error=exc)
                continue
            subdirs = []
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        dst = entry.stat(follow_symlinks=False)
                        if (dst.st_dev, dst.st_ino) != out_id:
                            subdirs.append(entry.path)
                        continue
                    # Follows a symlink (a dangling one is False); FIFOs, devices: skipped.
                    if not entry.is_file():
                        continue
                except OSError as exc:  # e.g. a path past PATH_MAX: reported, not lost
                    yield _Job(entry.path, error=exc)
                    continue
                yield _Job(entry.path, os.path.relpath(entry.path, src), root)
            stack.extend(reversed(subdirs))


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _open_source(src: str, root: str | None):
    """Opens `src` as the API opens a path (same errors). With `root`, the file actually
    opened (the descriptor's own path, so a symlink swapped in after the walk changes
    nothing) must lie inside it."""
    fd = _input.open_path(src).fd
    try:
        if root is not None:
            try:
                real = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:  # no /proc: the path's resolution (checked, not race-free)
                real = os.path.realpath(src)
            if not _inside(real, root):
                raise OutsideSourceError(
                    f"resolves to {real}, outside the source directory {root} "
                    "(--follow-symlinks to thumbnail it anyway)"
                )
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _makedirs(path: str) -> None:
    """os.makedirs without its recursion: a mirrored tree may be thousands deep."""
    missing = []
    head = path
    while head and not os.path.isdir(head):
        missing.append(head)
        parent = os.path.dirname(head)
        if parent == head:
            break
        head = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory)
        except FileExistsError:
            if not os.path.isdir(directory):
                raise


def _umask() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


class _Namer:
    """Unique .png output names that never land on a source file."""

    def __init__(self, output: str):
        self.output = output
        self.taken: set[str] = set()
        self.sources: set[tuple[int, int]] = set()

    def add_source(self, path: str) -> None:
        try:
            st = os.stat(path)
            self.sources.add((st.st_dev, st.st_ino))
        except OSError:
            pass

    def _is_source(self, path: str) -> bool:
        try:
            st = os.stat(path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) in self.sources

    def name(self, rel: str) -> str:
        stem, _ext = os.path.splitext(rel)
        candidates = [stem + ".png", rel + ".png"]
        n = 1
        while True:
            for cand in candidates:
                path = os.path.normpath(os.path.join(self.output, cand))
                if path not in self.taken and not self._is_source(path):
                    self.taken.add(path)
                    return path
            candidates = [f"{stem}-{n}.png"]
            n += 1


def _thumbnail_one(job: _Job, dst: str, args, kind) -> None:
    with _open_source(job.src, job.root) as source:
        image = _api.load_image(
            kind, source, size=args.size, mode="RGBA", execution=args.execution,
            color=args.color, **_limits(args),
        )  # fmt: skip
    if image.getchannel("A").getextrema() == (255, 255):
        image = image.convert("RGB")
    _makedirs(os.path.dirname(dst))
    # A short, unique name in the same directory (dst itself may be near NAME_MAX), made
    # with O_EXCL so it never replaces anything, then renamed over dst in one step.
    fd, tmp = tempfile.mkstemp(prefix=".sx-", suffix=".tmp", dir=os.path.dirname(dst))
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # what a plain open() would have given
        with os.fdopen(fd, "wb") as f:
            image.save(f, "PNG")
        os.replace(tmp, dst)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class _Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.enabled = stream.isatty()
        self.last = 0.0
        self.shown = False

    def update(self, done: int, failed: int, total: int | None, rate: float, force=False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self.last < 0.1:
            return
        self.last = now
        if total:
            width = 30
            filled = int(width * (done + failed) / total)
            bar = "[" + "#" * filled + "." * (width - filled) + f"] {done + failed}/{total}"
        else:
            bar = f"{done + failed} files"
        self.stream.write(f"\r{bar}  {failed} failed  {rate:.1f} files/s\x1b[K")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.enabled and self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _thumbnail(args) -> int:
    kind = _KINDS[args.kind]
    find_extractor(_request.extractor_name(kind), str(kind))  # fail early, not once per file
    os.makedirs(args.output, exist_ok=True)

    walked = list(_walk(args.sources, args.output, args.follow_symlinks))
    unlisted = [job for job in walked if job.error is not None]
    jobs = [job for job in walked if job.error is None]
    namer = _Namer(args.output)
    for job in jobs:
        namer.add_source(job.src)
    planned = [(job, namer.name(job.rel)) for job in jobs]

    progress = _Progress()
    start = time.monotonic()
    done = 0
    failures: collections.Counter[str] = collections.Counter()
    total = len(planned) + len(unlisted)

    def report(src: str, exc: BaseException) -> None:
        record = _error_record(exc)
        progress.clear()
        status = f" status {record['status']}" if record["status"] is not None else ""
        print(
            f"FAILED {printable(src)}: {record['error']}{status}: {printable(record['detail'])}",
            file=sys.stderr,
            flush=True,
        )

    for job in unlisted:  # a directory that could not be listed: the rest goes on
        failures[_error_record(job.error)["error"]] += 1
        report(job.src, job.error)

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        pending: dict[concurrent.futures.Future, str] = {}
        queue = iter(planned)
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < 2 * args.jobs:
                item = next(queue, None)
                if item is None:
                    exhausted = True
                    break
                job, dst = item
                pending[pool.submit(_thumbnail_one, job, dst, args, kind)] = job.src
            if not pending:
                break
            finished, _ = concurrent.futures.wait(
                pending, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for fut in finished:
                src = pending.pop(fut)
                exc = fut.exception()
                if exc is None:
                    done += 1
                elif isinstance(exc, ExtractorUnavailable):
                    raise exc
                else:
                    # Whatever one file did, the batch goes on.
                    failures[_error_record(exc)["error"]] += 1
                    report(src, exc)
            nfailed = sum(failures.values())
            rate = (done + nfailed) / max(time.monotonic() - start, 1e-9)
            progress.update(done, nfailed, total, rate)

    progress.clear()
    elapsed = max(time.monotonic() - start, 1e-9)
    nfailed = sum(failures.values())
    reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(failures.items()))
    print(
        f"thumbnail: {done} done, {nfailed} failed"
        + (f" ({reasons})" if reasons else "")
        + f", {total} files in {elapsed:.2f} s, {total / elapsed:.1f} files/s"
    )
    return 1 if nfailed else 0


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        _request.make_request(
            "thumbnail", size=getattr(args, "size", 1), **_limits(args)
        )  # the limits are checked once, before any file
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    if args.command == "thumbnail" and args.jobs < 1:
        parser.error("-j must be at least 1")
    try:
        # A batch is what the fork servers are for: server mode unless told otherwise.
        args.execution = _runner.resolve_execution(args.execution, default="server")
    except ValueError as exc:
        parser.error(str(exc))
    # One zygote per worker; put back for an in-process caller, and none left running.
    previous = _zygote.set_max_servers(getattr(args, "jobs", 1))
    try:
        if args.command == "probe":
            return _probe(args)
        return _thumbnail(args)
    except ExtractorUnavailable as exc:
        print(f"sandbox-extractor: {exc}", file=sys.stderr)
        return 2
    finally:
        _zygote.set_max_servers(previous)
        _zygote.shutdown()


if __name__ == "__main__":
    sys.exit(main())

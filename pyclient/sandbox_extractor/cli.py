"""Command line: `python3 -m sandbox_extractor probe|thumbnail ...`.

probe FILE...       one JSON object per line per file: its metadata, or
                    {"file", "error", "status", "detail"}.
thumbnail SRC... -o DIR [--size N|WxH] [-j N]
                    PNG thumbnails of files and (recursively) directories, N parallel
                    workers; one line per rejected file on stderr, a summary at the end.
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
import threading
import time

from . import _api, _zygote
from ._errors import DecodeError, ExtractorUnavailable, printable
from ._locate import find_extractor

_KINDS = {k.value: k for k in _api.StreamKind}


def _error_record(exc: BaseException) -> dict:
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
    parser.add_argument("--max-pixels", type=int, default=_api.DEFAULT_MAX_PIXELS)
    parser.add_argument("--max-input-bytes", type=int, default=_api.DEFAULT_MAX_INPUT_BYTES)
    parser.add_argument("--memory", type=int, default=_api.DEFAULT_MEMORY, help="pool cap, bytes")
    parser.add_argument(
        "--timeout", type=float, default=_api.DEFAULT_TIMEOUT, help="seconds per file"
    )
    parser.add_argument(
        "--execution",
        choices=_zygote.EXECUTIONS,
        default=None,
        help="oneshot: a process per file; server: fork servers, one per worker; auto: "
        f"one-shot for the first file (default: ${_zygote.ENV_MODE}, else server)",
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
    _add_limit_options(thumb)
    return parser


def _probe(args) -> int:
    kind = _KINDS[args.kind]
    failed = 0
    for path in args.files:
        try:
            info = _api.probe_format(kind, path, execution=args.execution, **_limits(args))
            record = {"file": path, **info.as_dict()}
        except ExtractorUnavailable:
            raise
        except (DecodeError, OSError) as exc:
            failed += 1
            record = {"file": path, **_error_record(exc)}
        print(json.dumps(record), flush=True)
    return 1 if failed else 0


# ---- thumbnail ------------------------------------------------------------------------


def _walk(sources: list[str], output: str):
    """Yields (source path, path relative to the output dir) in a stable order.

    A directory's regular files are mirrored below it (symlinks to regular files are
    followed, symlinks to directories are not, FIFOs and devices are skipped); the
    output directory itself is never walked. A file given directly maps to its name.
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
            yield src, os.path.basename(src)  # reported as a failure by the worker
            continue
        if not stat.S_ISDIR(st.st_mode):
            yield src, os.path.basename(os.path.normpath(src))
            continue
        for root, dirs, files in os.walk(src):
            kept = []
            for d in sorted(dirs):
                try:
                    dst = os.stat(os.path.join(root, d))
                except OSError:
                    continue
                if (dst.st_dev, dst.st_ino) != out_id:
                    kept.append(d)
            dirs[:] = kept
            for name in sorted(files):
                path = os.path.join(root, name)
                try:
                    if not stat.S_ISREG(os.stat(path).st_mode):
                        continue
                except OSError:
                    continue
                yield path, os.path.relpath(path, src)


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


def _thumbnail_one(src: str, dst: str, args, kind) -> None:
    image = _api.load_image(
        kind, src, size=args.size, mode="RGBA", execution=args.execution, color=args.color,
        **_limits(args),
    )  # fmt: skip
    if image.getchannel("A").getextrema() == (255, 255):
        image = image.convert("RGB")
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    tmp = f"{dst}.tmp-{os.getpid()}-{threading.get_ident()}"
    try:
        image.save(tmp, "PNG")
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
    find_extractor(_api._BINARIES[kind], str(kind))  # fail early, not once per file
    os.makedirs(args.output, exist_ok=True)

    jobs = list(_walk(args.sources, args.output))
    namer = _Namer(args.output)
    for src, _rel in jobs:
        namer.add_source(src)
    planned = [(src, namer.name(rel)) for src, rel in jobs]

    progress = _Progress()
    start = time.monotonic()
    done = 0
    failures: collections.Counter[str] = collections.Counter()
    total = len(planned)

    def report(src: str, exc: BaseException) -> None:
        record = _error_record(exc)
        progress.clear()
        status = f" status {record['status']}" if record["status"] is not None else ""
        print(
            f"FAILED {printable(src)}: {record['error']}{status}: {printable(record['detail'])}",
            file=sys.stderr,
            flush=True,
        )

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
                src, dst = item
                pending[pool.submit(_thumbnail_one, src, dst, args, kind)] = src
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
        _api.make_request(
            "thumbnail", size=getattr(args, "size", 1), **_limits(args)
        )  # the limits are checked once, before any file
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    if args.command == "thumbnail" and args.jobs < 1:
        parser.error("-j must be at least 1")
    try:
        # A batch is what the fork servers are for: server mode unless told otherwise.
        args.execution = _zygote.resolve_execution(args.execution, default="server")
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

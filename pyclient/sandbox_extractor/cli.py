"""Command line: `sandbox-extractor probe|thumbnail|doctor ...` (also `python3 -m
sandbox_extractor`). The texts of --help below are the reference; README's "Command line"
repeats them with examples."""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import io
import json
import os
import stat
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Iterator

from . import _api, _input, _request, _runner, _wire, _zygote
from ._errors import DecodeError, ExtractorUnavailable, printable
from ._locate import find_extractor
from ._metadata import LuaInfo, Metadata

if TYPE_CHECKING:
    from PIL import Image

_KINDS = {k.value: k for k in _request.StreamKind}

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_SETUP = 2

EXIT_CODES = """exit status:
  0  every file succeeded (Lua scripts: parsed)
  1  some files were rejected (each is reported; the others are done)
  2  usage or setup error: a bad option, a missing extractor, an output directory
     that cannot be written, a host whose sandbox is not enforced (see doctor)"""

FORMATS = {"png": ("PNG", ".png"), "jpeg": ("JPEG", ".jpg"), "webp": ("WEBP", ".webp")}


class UsageError(Exception):
    """A setup problem found after parsing: reported on one line, exit status 2."""


class OutsideSourceError(Exception):
    """A file found in a source directory resolves to a path outside it."""

    kind = "outside_source"


@dataclass(frozen=True)
class Record:
    """What one file of a batch became (it pickles, so Dask workers return it): its
    typed `metadata` (probe, or a Lua script checked by thumbnail), a thumbnail written at
    `output` or encoded in `data`, or an error: `error` kind, `status` and `detail`."""

    file: str
    metadata: Metadata | None = None
    output: str | None = None
    data: bytes | None = None
    error: str | None = None
    status: int | None = None
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The CLI's JSON record of this file."""
        if self.error is not None:
            return {"file": self.file, "error": self.error, "status": self.status,
                    "detail": self.detail}  # fmt: skip
        record: dict[str, Any] = {"file": self.file}
        if self.metadata is not None:
            # Nested: the extractor chooses these keys, the record's own are ours.
            record["metadata"] = self.metadata.as_dict()
        if self.output is not None:
            record["output"] = self.output
        return record


def _error_record(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, (OutsideSourceError, InvalidLuaError)):
        return {"error": exc.kind, "status": None, "detail": str(exc)}
    if isinstance(exc, DecodeError):
        return {"error": exc.kind, "status": exc.status, "detail": exc.detail}
    if isinstance(exc, OSError):
        return {"error": "os_error", "status": None, "detail": f"{exc.strerror or exc}"}
    return {"error": type(exc).__name__, "status": None, "detail": str(exc)}


def _limits(args: argparse.Namespace) -> dict[str, Any]:
    return dict(
        max_pixels=args.max_pixels,
        max_input_bytes=args.max_input_bytes,
        memory=args.memory,
        timeout=args.timeout,
    )


def _amount(text: str) -> int:
    """A number with an optional k, M or G (binary) suffix, as the extractors take it."""
    shifts = {"k": 10, "K": 10, "M": 20, "G": 30}
    shift = shifts.get(text[-1:], 0)
    digits = text[:-1] if shift else text
    if not digits.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number with an optional k, M or G, got {text!r}")
    return int(digits) << shift


def _add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kind", choices=sorted(_KINDS), default="auto",
        help="input kind (default auto: chosen per file from its first bytes)",
    )  # fmt: skip
    parser.add_argument("--max-pixels", type=_amount, default=_request.DEFAULT_MAX_PIXELS,
                        help="largest source width*height (default 64M)")
    parser.add_argument("--max-input-bytes", type=_amount,
                        default=_request.DEFAULT_MAX_INPUT_BYTES,
                        help="largest input (default 256M)")
    parser.add_argument("--memory", type=_amount, default=_request.DEFAULT_MEMORY,
                        help="extractor memory pool cap (default 512M)")
    parser.add_argument(
        "--timeout", type=float, default=_request.DEFAULT_TIMEOUT, help="seconds per file (10)"
    )
    parser.add_argument(
        "--execution",
        choices=_runner.EXECUTIONS,
        default=None,
        help="oneshot: a process per file; server: fork servers, one per worker; auto: "
        f"one-shot for the first file (default: ${_runner.ENV_MODE}, else server)",
    )
    parser.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="also read files in SRC directories whose real path is outside SRC "
        "(default: skip and report them; symlinked directories are never descended)",
    )
    parser.add_argument(
        "--json", action="store_true",
        help="one JSON record per file on stdout, then a summary record",
    )  # fmt: skip
    parser.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", default=None,
        help="run the batch on this Dask distributed scheduler (python3-distributed); "
        "paths must be the same on every worker (shared storage)",
    )  # fmt: skip
    parser.add_argument(
        "--partition-size", type=int, default=16, metavar="N",
        help="with --scheduler: files per Dask task (default 16)",
    )  # fmt: skip


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
        description="Probe and thumbnail untrusted files (images, video, fonts, Lua source) "
        "in seccomp-sandboxed extractor processes.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version",
        version=f"sandbox-extractor {_wire.RELEASE} (wire {_wire.VERSION})",
    )  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)
    raw = argparse.RawDescriptionHelpFormatter
    probe = sub.add_parser(
        "probe", formatter_class=raw, epilog=EXIT_CODES,
        help="print metadata of files and directories (any depth), one JSON line each",
        description="One JSON line per file: {\"file\", \"kind\", \"metadata\": {...}} (the "
        "extractor's fields nested, so none can pose as the record's own keys) or "
        "{\"file\", \"error\", \"status\", \"detail\"}. FILE may be a directory (walked, "
        "any depth) or - for stdin.",
    )  # fmt: skip
    probe.add_argument("files", nargs="+", metavar="FILE")
    probe.add_argument("--face", type=int, default=None,
                       help="fonts: face of a collection (default 0)")
    _add_common_options(probe)
    thumb = sub.add_parser(
        "thumbnail", formatter_class=raw, epilog=EXIT_CODES,
        help="thumbnail images, videos (first frame) and fonts (a preview); check Lua",
        description="Thumbnails every file of SRC (files and directories, any depth; - for "
        "stdin) into DIR, mirroring the tree: images, video first frames, font previews. Lua "
        "scripts are parsed and reported, not thumbnailed. One line per rejected file on "
        "stderr and a summary on stdout (or JSON records with --json). A progress bar with "
        "ETA is shown when stderr is a terminal.",
    )  # fmt: skip
    thumb.add_argument("sources", nargs="+", metavar="SRC")
    thumb.add_argument("-o", "--output", required=True, metavar="DIR")
    thumb.add_argument("--size", type=_parse_size, default=(256, 256), help="N or WxH (256)")
    thumb.add_argument(
        "--color", choices=("srgb", "raw"), default="srgb",
        help="images: srgb converts by the embedded ICC profile / PNG colour chunks "
        "(default); raw keeps the stored values",
    )  # fmt: skip
    thumb.add_argument("--format", choices=sorted(FORMATS), default=None,
                       help="thumbnail file format (default png; webp with --frames)")
    thumb.add_argument(
        "--frames", type=int, default=None, metavar="N",
        help="images: up to N frames (1-1000) of a GIF, WebP or APNG animation, composited, "
        "written as one animated WebP (lossless, the file's frame durations and loop count; "
        "a still image: a one-frame WebP). Needs --format webp (the default with --frames)",
    )  # fmt: skip
    thumb.add_argument("--quality", type=int, default=85,
                       help="jpeg and webp quality 1-100 (default 85)")
    thumb.add_argument(
        "-j", "--jobs", type=int, default=os.cpu_count() or 1, help="parallel workers"
    )
    _add_common_options(thumb)
    doctor = sub.add_parser(
        "doctor", formatter_class=raw,
        help="check this host: extractors, versions, the sandbox really enforced, fork servers",
        description="For every extractor: where it was found, its version, that it starts "
        "and answers a built-in sample, and proof that seccomp strict mode is enforced on "
        "this host (--posture-check must be killed); descriptors and environment checked "
        "from outside; the fork server. Run it once per deployment image.",
        epilog="exit status: 0 everything holds; 1 something does not (each FAIL line says "
        "what)",
    )  # fmt: skip
    doctor.add_argument("--json", action="store_true", help="one JSON record per check")
    return parser


def _emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def _summary(done: int, failures: collections.Counter[str], elapsed: float,
             extra: dict[str, int] | None = None) -> dict[str, Any]:
    nfailed = sum(failures.values())
    return {
        "summary": {
            "done": done, "failed": nfailed, "files": done + nfailed,
            "failed_by_reason": dict(sorted(failures.items())), **(extra or {}),
            "seconds": round(elapsed, 3),
        }
    }  # fmt: skip


def _stdin_source() -> BinaryIO:
    return sys.stdin.buffer


def _probe_record(job: "_Job", args: argparse.Namespace) -> Record:
    """Probes one file of a batch; every failure but a missing extractor is a Record."""
    if job.error is not None:
        return Record(job.src, **_error_record(job.error))
    kind = _KINDS[args.kind]
    try:
        if job.data is not None:
            info = _api.probe_format(kind, job.data, execution=args.execution,
                                     face=args.face, **_limits(args))  # fmt: skip
        elif job.src == "-":
            info = _api.probe_format(kind, _stdin_source(), execution=args.execution,
                                     face=args.face, **_limits(args))  # fmt: skip
        else:
            with _open_source(job.src, job.root) as source:
                info = _api.probe_format(kind, source, execution=args.execution,
                                         face=args.face, **_limits(args))  # fmt: skip
        return Record(job.src, metadata=info)
    except ExtractorUnavailable:
        raise
    except (DecodeError, OSError, OutsideSourceError) as exc:
        return Record(job.src, **_error_record(exc))


def _probe(args: argparse.Namespace) -> int:
    kind = _KINDS[args.kind]
    if kind != _request.StreamKind.AUTO:
        find_extractor(_request.extractor_name(kind), str(kind))  # fail early
    failures: collections.Counter[str] = collections.Counter()
    done = 0
    start = time.monotonic()
    jobs = _walk(args.files, None, args.follow_symlinks)
    if args.scheduler:
        from . import dask as sx_dask

        records = sx_dask.cli_batch(args.scheduler, "probe", [(job, None) for job in jobs], args)
    else:
        records = (_probe_record(job, args) for job in jobs)
    for record in records:
        if record.error is not None:
            failures[record.error] += 1
        else:
            done += 1
        _emit(record.as_dict())
    if args.json:
        _emit(_summary(done, failures, time.monotonic() - start))
    return EXIT_REJECTED if failures else EXIT_OK


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
    data: bytes | None = None  # a blob given as bytes (the Dask API), not a path


def _walk(
    sources: list[str], output: str | None, follow_symlinks: bool = False
) -> Iterator[_Job]:
    """Yields _Jobs in a stable order (a directory's files by name, then its
    subdirectories, depth first).

    A directory's regular files are mirrored below it (symlinks to files are followed,
    symlinked directories are not descended, FIFOs and devices are skipped); the output
    directory itself is never walked. A file given directly maps to its name. The walk
    keeps its own stack, so no depth of nesting can exhaust Python's recursion limit; a
    directory that cannot be listed is a _Job with `error`, and the walk goes on.
    """
    out_id: tuple[int, int] | None = None
    try:
        if output is not None:
            out_st = os.stat(output)
            out_id = (out_st.st_dev, out_st.st_ino)
    except OSError:
        pass
    for src in sources:
        if src == "-":
            yield _Job(src, "stdin")
            continue
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


def _open_source(src: str, root: str | None) -> BinaryIO:
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
    """Unique output names (.png, .jpg, .webp) that never land on a source file."""

    def __init__(self, output: str, ext: str = ".png"):
        self.output = output
        self.ext = ext
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
        candidates = [stem + self.ext, rel + self.ext]
        n = 1
        while True:
            for cand in candidates:
                path = os.path.normpath(os.path.join(self.output, cand))
                if path not in self.taken and not self._is_source(path):
                    self.taken.add(path)
                    return path
            candidates = [f"{stem}-{n}{self.ext}"]
            n += 1


@dataclass(frozen=True)
class _Done:
    """What one file became: a thumbnail at `output`, or a Lua script checked (`lua`)."""

    output: str | None = None
    lua: LuaInfo | None = None
    data: bytes | None = None


class InvalidLuaError(Exception):
    """A Lua script that does not parse (the batch reports it as rejected)."""

    kind = "invalid_lua"


def _open_job(job: _Job) -> BinaryIO:
    if job.data is not None:
        return _sealed_copy(io.BytesIO(job.data))
    if job.src == "-":
        return _sealed_copy(sys.stdin.buffer)
    return _open_source(job.src, job.root)


def _render(job: _Job, args: argparse.Namespace) -> Image.Image | list[Image.Image] | LuaInfo:
    """The thumbnail of one file as a PIL image, or the LuaInfo of a valid Lua script."""
    from ._sniff import read_head

    kind = _KINDS[args.kind]
    with _open_job(job) as source:
        if kind == _request.StreamKind.AUTO:
            kind = _api.kind_for_head(read_head(source.fileno()))
        if kind == _request.StreamKind.LUA:
            info = _api.probe_format(kind, source, execution=args.execution, **_limits(args))
            assert isinstance(info, LuaInfo)
            if not info.valid:
                raise InvalidLuaError(f"not valid Lua 5.4: {info.message}")
            return info
        if getattr(args, "frames", None) and kind == _request.StreamKind.IMAGE:
            return _api.load_frames(
                kind, source, size=args.size, max_frames=args.frames, execution=args.execution,
                color=args.color, **_limits(args),
            )  # fmt: skip
        return _api.load_image(
            kind, source, size=args.size, execution=args.execution, color=args.color,
            **_limits(args),
        )  # fmt: skip


_PNG_LEVEL = 3


def _encode(image: Image.Image | list[Image.Image], args: argparse.Namespace, f: BinaryIO) -> None:
    if isinstance(image, list):
        # --frames: one animated WebP, lossless, with the frames' durations and loop count.
        first, rest = image[0], image[1:]
        first.save(f, "WEBP", save_all=True, append_images=rest, lossless=True,
                   duration=[im.info["duration"] for im in image], loop=first.info["loop"])
        return
    pil_format, _ext = FORMATS[args.format]
    if pil_format == "JPEG" and image.mode == "RGBA":
        # JPEG has no alpha: a font preview or a transparent PNG goes on white.
        from PIL import Image as PILImage

        flat = PILImage.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    if pil_format == "PNG":
        # zlib level 3, not Pillow's 6: a 256 px thumbnail of the bench's photo set took
        # 5.2 ms of CPU instead of 16.6 ms for 11% more bytes. Pillow (9.4) holds the GIL
        # while it encodes, so this was most of the client's own time per file, and the
        # part -j workers could not share (bench/RESULTS.md, "--speed").
        image.save(f, "PNG", compress_level=_PNG_LEVEL)
    else:
        image.save(f, pil_format, quality=args.quality)


def _thumbnail_one(job: _Job, dst: str | None, args: argparse.Namespace) -> _Done:
    """Thumbnails one file into `dst`, or into `_Done.data` when `dst` is None."""
    rendered = _render(job, args)
    if isinstance(rendered, LuaInfo):
        return _Done(lua=rendered)
    if dst is None:
        buf = io.BytesIO()
        _encode(rendered, args, buf)
        return _Done(data=buf.getvalue())
    _makedirs(os.path.dirname(dst))
    # A short, unique name in the same directory (dst itself may be near NAME_MAX), made
    # with O_EXCL so it never replaces anything, then renamed over dst in one step.
    fd, tmp = tempfile.mkstemp(prefix=".sx-", suffix=".tmp", dir=os.path.dirname(dst))
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # what a plain open() would have given
        with os.fdopen(fd, "wb") as f:
            _encode(rendered, args, f)
        os.replace(tmp, dst)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return _Done(output=dst)


def _thumbnail_record(job: _Job, dst: str | None, args: argparse.Namespace) -> Record:
    """_thumbnail_one as a Record: whatever one file did, the batch goes on (only a
    missing extractor, a setup error, is raised)."""
    if job.error is not None:
        return Record(job.src, **_error_record(job.error))
    try:
        result = _thumbnail_one(job, dst, args)
    except ExtractorUnavailable:
        raise
    except Exception as exc:
        return Record(job.src, **_error_record(exc))
    return Record(job.src, metadata=result.lua, output=result.output, data=result.data)


def _sealed_copy(stream: BinaryIO) -> BinaryIO:
    """`stream` (stdin, a blob) read into a sealed memfd (so its first bytes can be looked
    at and then the whole of it handed on)."""
    with _input.open_input(stream, _wire.INPUT_MAX_BYTES) as copy:
        return os.fdopen(os.dup(copy.fd), "rb")


class _Progress:
    """tqdm's bar with ETA on stderr, only when stderr is a terminal and tqdm is installed
    (Debian's python3-tqdm); silent otherwise."""

    def __init__(self, total: int):
        self.bar: Any = None
        if not sys.stderr.isatty():
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        self.bar = tqdm(total=total, unit="file", file=sys.stderr, leave=False)

    def update(self, failed: int) -> None:
        if self.bar is not None:
            self.bar.set_postfix(failed=failed, refresh=False)
            self.bar.update(1)

    def write(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _check_output(output: str) -> None:
    """The output directory exists or can be made, and is writable: else exit 2."""
    if os.path.exists(output) and not os.path.isdir(output):
        raise UsageError(f"output {output!r} exists and is not a directory")
    try:
        os.makedirs(output, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create output directory {output!r}: {exc.strerror}") from None
    if not os.access(output, os.W_OK | os.X_OK):
        raise UsageError(f"output directory {output!r} is not writable")


def _local_thumbnails(
    items: list[tuple[_Job, str | None]], args: argparse.Namespace
) -> Iterator[Record]:
    """Records of `items` as they finish, from args.jobs threads, at most 2 * args.jobs
    files in flight."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        pending: set[concurrent.futures.Future[Record]] = set()
        queue = iter(items)
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < 2 * args.jobs:
                item = next(queue, None)
                if item is None:
                    exhausted = True
                    break
                pending.add(pool.submit(_thumbnail_record, item[0], item[1], args))
            if not pending:
                break
            finished, pending = concurrent.futures.wait(
                pending, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for fut in finished:
                yield fut.result()  # ExtractorUnavailable is raised here


def _thumbnail(args: argparse.Namespace) -> int:
    kind = _KINDS[args.kind]
    if kind != _request.StreamKind.AUTO:
        find_extractor(_request.extractor_name(kind), str(kind))  # fail early, not once per file
    _check_output(args.output)
    walked = list(_walk(args.sources, args.output, args.follow_symlinks))
    unlisted = [job for job in walked if job.error is not None]
    jobs = [job for job in walked if job.error is None]
    namer = _Namer(args.output, FORMATS[args.format][1])
    for job in jobs:
        if job.src != "-":
            namer.add_source(job.src)
    planned = [(job, namer.name(job.rel)) for job in jobs]

    total = len(planned) + len(unlisted)
    progress = _Progress(total)
    start = time.monotonic()
    done = checked = 0
    failures: collections.Counter[str] = collections.Counter()

    def report(record: Record) -> None:
        assert record.error is not None
        failures[record.error] += 1
        if args.json:
            _emit(record.as_dict())
        else:
            status = f" status {record.status}" if record.status is not None else ""
            progress.write(
                f"FAILED {printable(record.file)}: {record.error}{status}: "
                f"{printable(record.detail or '')}"
            )

    # A directory that could not be listed is reported first: the rest goes on.
    items: list[tuple[_Job, str | None]] = [(job, None) for job in unlisted]
    items += planned
    if args.scheduler:
        from . import dask as sx_dask

        records = sx_dask.cli_batch(args.scheduler, "thumbnail", items, args)
    else:
        records = _local_thumbnails(items, args)
    try:
        for record in records:
            if record.error is not None:
                report(record)
            elif record.metadata is not None:
                checked += 1
                if args.json:
                    _emit(record.as_dict())
            else:
                done += 1
                if args.json:
                    _emit(record.as_dict())
            progress.update(sum(failures.values()))
    finally:
        progress.close()
    elapsed = max(time.monotonic() - start, 1e-9)
    nfailed = sum(failures.values())
    if args.json:
        _emit(_summary(done, failures, elapsed, {"lua_checked": checked}))
    else:
        reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(failures.items()))
        print(
            f"thumbnail: {done} done"
            + (f", {checked} Lua scripts checked" if checked else "")
            + f", {nfailed} failed"
            + (f" ({reasons})" if reasons else "")
            + f", {total} files in {elapsed:.2f} s, {total / elapsed:.1f} files/s"
        )
    return EXIT_REJECTED if nfailed else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command == "doctor":
        from ._doctor import doctor

        return doctor(json_output=args.json)
    try:
        _request.make_request(
            "thumbnail", size=getattr(args, "size", 1), **_limits(args)
        )  # the limits are checked once, before any file
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    if args.scheduler is not None:
        if args.partition_size < 1:
            parser.error("--partition-size must be at least 1")
        if "-" in getattr(args, "files", getattr(args, "sources", [])):
            parser.error("- (stdin) cannot be sent to a --scheduler")
    if args.command == "thumbnail":
        if args.jobs < 1:
            parser.error("-j must be at least 1")
        if not 1 <= args.quality <= 100:
            parser.error("--quality must be in 1..100")
        if args.frames is not None:
            if not 1 <= args.frames <= _wire.FRAMES_MAX:
                parser.error(f"--frames must be in 1..{_wire.FRAMES_MAX}")
            if args.format not in (None, "webp"):
                parser.error("--frames writes an animated WebP: use --format webp")
            args.format = "webp"
        elif args.format is None:
            args.format = "png"
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
    except (ExtractorUnavailable, UsageError) as exc:
        print(f"sandbox-extractor: {exc}", file=sys.stderr)
        return EXIT_SETUP
    finally:
        _zygote.set_max_servers(previous)
        _zygote.shutdown()


if __name__ == "__main__":
    sys.exit(main())

"""Probing and thumbnailing batches on Dask (Debian's python3-distributed): a Dask bag,
or a distributed.Client with a bounded number of files in flight.

Imported only when used (the CLI imports it for --scheduler only). Work is cut into
partitions of `partition_size` files; one task runs one partition, file after file, in
one worker process, so that process's fork servers (_zygote) serve the whole partition
and the next ones. Every file ends as a `Record` (typed metadata, a thumbnail path or its
encoded bytes, or the error kind, status and detail): a file that kills its extractor is
a record like any other rejected file, never an exception that fails the task, so Dask
never retries a task because of a file. A worker process that dies loses only its
running partition, which the scheduler runs again elsewhere (distributed's
`allowed_failures`, 3 by default, bounds that); a missing extractor on a worker is the
record error "extractor_unavailable".

Paths are opened by the workers: they must name the same files on every worker (shared
storage), as must the output directory. Names are planned on the client with the CLI's
rules (sandbox_extractor.cli: mirrored tree, .png/.jpg/.webp, never over a source).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import os
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence, Union

from . import cli
from ._errors import ExtractorUnavailable
from .cli import Record

if TYPE_CHECKING:
    import dask.bag

__all__ = ["Record", "probe_bag", "thumbnail_bag", "probe", "thumbnail", "plan"]

Item = Union[str, "tuple[str, bytes]"]
"""A path (file or directory, walked like the CLI walks it) or a (name, bytes) blob."""

DEFAULT_PARTITION_SIZE = 16

_OPTION_NAMES = {
    "probe": ("kind", "max_pixels", "max_input_bytes", "memory", "timeout", "execution",
              "face"),
    "thumbnail": ("kind", "max_pixels", "max_input_bytes", "memory", "timeout", "execution",
                  "size", "color", "format", "quality"),
}  # fmt: skip


def _options(command: str, options: dict[str, Any]) -> argparse.Namespace:
    """The CLI's defaults for `command` (its own parser's), overridden by `options`."""
    unknown = set(options) - set(_OPTION_NAMES[command])
    if unknown:
        raise TypeError(f"unknown option(s) for {command}: {', '.join(sorted(unknown))}")
    argv = ["probe", "x"] if command == "probe" else ["thumbnail", "x", "-o", "x"]
    args = cli._build_parser().parse_args(argv)
    for name, value in options.items():
        setattr(args, name, value)
    if command == "thumbnail" and args.format is None:
        args.format = "png"  # the CLI's default without --frames
    if command == "thumbnail" and isinstance(args.size, int):
        args.size = (args.size, args.size)
    # Fork servers: a partition is a batch.
    args.execution = cli._runner.resolve_execution(args.execution, default="server")
    return args


def plan(items: Iterable[Item], output: str | None = None, *, format: str = "png",
         follow_symlinks: bool = False) -> list[tuple[cli._Job, str | None]]:  # fmt: skip
    """Walks the paths of `items` (the CLI's walk) and names each output file under
    `output` (the CLI's names); with `output` None, nothing is named (bytes come back)."""
    jobs: list[cli._Job] = []
    for item in items:
        if isinstance(item, str):
            jobs.extend(cli._walk([item], output, follow_symlinks))
        else:
            name, data = item
            jobs.append(cli._Job(name, os.path.basename(name) or "blob", data=bytes(data)))
    if output is None:
        return [(job, None) for job in jobs]
    namer = cli._Namer(output, cli.FORMATS[format][1])
    for job in jobs:
        if job.data is None and job.error is None:
            namer.add_source(job.src)
    return [(job, None if job.error is not None else namer.name(job.rel)) for job in jobs]


def _one(command: str, job: cli._Job, dst: str | None, args: argparse.Namespace) -> Record:
    try:
        if command == "probe":
            return cli._probe_record(job, args)
        return cli._thumbnail_record(job, dst, args)
    except ExtractorUnavailable as exc:
        return Record(job.src, error="extractor_unavailable", detail=str(exc))
    except Exception as exc:  # a task never fails because of one file
        return Record(job.src, **cli._error_record(exc))


def run_partition(command: str, planned: Sequence[tuple[cli._Job, str | None]],
                  args: argparse.Namespace) -> list[Record]:  # fmt: skip
    """One Dask task: the files of a partition, one after the other, in this worker
    process (so its fork servers are reused). Relative paths were made absolute by the
    client; records carry the names the client gave."""
    return [_one(command, job, dst, args) for job, dst in planned]


def _absolute(job: cli._Job, dst: str | None) -> tuple[cli._Job, str | None]:
    """What a worker, whose working directory is not the client's, must be sent."""
    if job.data is None and job.src != "-":
        job = dataclasses.replace(job, src=os.path.abspath(job.src))
    return job, (os.path.abspath(dst) if dst is not None else None)


def _relabel(record: Record, job: cli._Job, dst: str | None) -> Record:
    return dataclasses.replace(record, file=job.src,
                               output=dst if record.output is not None else None)  # fmt: skip


def _bag(command: str, planned: list[tuple[cli._Job, str | None]], args: argparse.Namespace,
         partition_size: int) -> "dask.bag.Bag":  # fmt: skip
    import dask.bag as db

    def run(part: Sequence[tuple[cli._Job, str | None]]) -> list[Record]:
        sent = [_absolute(job, dst) for job, dst in part]
        return [_relabel(r, job, dst)
                for r, (job, dst) in zip(run_partition(command, sent, args), part)]  # fmt: skip

    if not planned:
        return db.from_sequence([], npartitions=1)
    return db.from_sequence(planned, partition_size=partition_size).map_partitions(run)


def probe_bag(items: Iterable[Item], *, partition_size: int = DEFAULT_PARTITION_SIZE,
              follow_symlinks: bool = False, **options: Any) -> "dask.bag.Bag":  # fmt: skip
    """A Dask bag of one Record per file of `items` (paths, walked like the CLI, or
    (name, bytes) blobs): `metadata` is the typed ImageInfo/VideoInfo/FontInfo/LuaInfo, or
    `error`/`status`/`detail` say why not. `options` are probe_format's (kind, face,
    max_pixels, max_input_bytes, memory, timeout, execution). Compute it with any
    scheduler; with a distributed.Client active, on its cluster."""
    args = _options("probe", options)
    return _bag("probe", plan(items, None, follow_symlinks=follow_symlinks), args,
                partition_size)  # fmt: skip


def thumbnail_bag(items: Iterable[Item], output: str | None = None, *,
                  partition_size: int = DEFAULT_PARTITION_SIZE, follow_symlinks: bool = False,
                  **options: Any) -> "dask.bag.Bag":  # fmt: skip
    """A Dask bag of one Record per file: the thumbnail written under `output` with the
    CLI's names (`output` set; a shared directory), or its encoded bytes in `data`
    (`output` None); a valid Lua script has its LuaInfo in `metadata`. `options`: size,
    format (png, jpeg, webp), quality, color, kind and the limits."""
    args = _options("thumbnail", options)
    if output is not None:
        cli._check_output(output)
    return _bag("thumbnail", plan(items, output, format=args.format,
                                  follow_symlinks=follow_symlinks), args, partition_size)  # fmt: skip


def map_records(client: Any, command: str, planned: Sequence[tuple[cli._Job, str | None]],
                args: argparse.Namespace, *, partition_size: int = DEFAULT_PARTITION_SIZE,
                in_flight: int | None = None) -> Iterator[Record]:  # fmt: skip
    """Records of `planned` through `client`, in the order of `planned`. At most
    `in_flight` partitions (default: twice the cluster's threads) are submitted at a
    time, so at most in_flight * partition_size files are in flight."""
    if in_flight is None:
        in_flight = 2 * max(sum(client.nthreads().values()), 1)
    parts = [list(planned[i:i + partition_size])
             for i in range(0, len(planned), partition_size)]  # fmt: skip
    pending: collections.deque[tuple[Any, list[tuple[cli._Job, str | None]]]]
    pending = collections.deque()
    queue = iter(parts)
    while True:
        while len(pending) < in_flight:
            part = next(queue, None)
            if part is None:
                break
            sent = [_absolute(job, dst) for job, dst in part]
            pending.append((client.submit(run_partition, command, sent, args, pure=False),
                            part))  # fmt: skip
        if not pending:
            return
        future, part = pending.popleft()
        for record, (job, dst) in zip(future.result(), part):
            yield _relabel(record, job, dst)


def probe(client: Any, items: Iterable[Item], *, partition_size: int = DEFAULT_PARTITION_SIZE,
          in_flight: int | None = None, follow_symlinks: bool = False,
          **options: Any) -> Iterator[Record]:  # fmt: skip
    """probe_bag's records through `client`, in order, with bounded files in flight."""
    args = _options("probe", options)
    return map_records(client, "probe", plan(items, None, follow_symlinks=follow_symlinks),
                       args, partition_size=partition_size, in_flight=in_flight)  # fmt: skip


def thumbnail(client: Any, items: Iterable[Item], output: str | None = None, *,
              partition_size: int = DEFAULT_PARTITION_SIZE, in_flight: int | None = None,
              follow_symlinks: bool = False, **options: Any) -> Iterator[Record]:  # fmt: skip
    """thumbnail_bag's records through `client`, in order, with bounded files in flight."""
    args = _options("thumbnail", options)
    if output is not None:
        cli._check_output(output)
    planned = plan(items, output, format=args.format, follow_symlinks=follow_symlinks)
    return map_records(client, "thumbnail", planned, args, partition_size=partition_size,
                       in_flight=in_flight)  # fmt: skip


def cli_batch(scheduler: str, command: str, planned: Iterable[tuple[cli._Job, str | None]],
              args: argparse.Namespace) -> Iterator[Record]:  # fmt: skip
    """The CLI's --scheduler: records of its planned batch from the cluster at
    `scheduler`. A scheduler that cannot be reached, or a worker without the extractors,
    is a setup error (exit status 2)."""
    from distributed import Client

    try:
        client = Client(scheduler, timeout=10, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise cli.UsageError(f"cannot connect to the Dask scheduler {scheduler}: {exc}") from None
    try:
        for record in map_records(client, command, list(planned), args,
                                  partition_size=args.partition_size):  # fmt: skip
            if record.error == "extractor_unavailable":
                raise ExtractorUnavailable(f"on a Dask worker: {record.detail}")
            yield record
    finally:
        client.close()

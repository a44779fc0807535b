"""Parquet storage: the declared schemas and the only writer of a sweep's dataset.

Layout of a dataset directory (see docs/OUTPUT.md):
  manifest.json        status (running, complete, incomplete) and run counts
  config.yaml          resolved config of the sweep
  plan.parquet         the run table (one row per planned run)
  summary/part-*.parquet     one row per run
  timeseries/part-*.parquet  one row per run and sampled step
Workers write one summary part and one series part per batch, each under a hidden temporary
name and renamed when complete, so readers (pyarrow.dataset, pandas, DuckDB) only ever see whole
files, also while a sweep runs. The disk is the record of what is done: a run is stored when its
summary row is in a part file, and a rerun into the same dataset skips it.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from segmark.kernels import market
from segmark.pipeline.params import PARAMETER_COLUMNS

SUMMARY_DIR = "summary"
SERIES_DIR = "timeseries"
SCAN_THREADS = 4  # parts read at once by scan
PLAN_FILE = "plan.parquet"
CONFIG_FILE = "config.yaml"
MANIFEST_FILE = "manifest.json"
PROVENANCE_KEY = "segmark"
STATUS_OK = "ok"
STATUS_FAILED = "failed"
ROW_GROUP_ROWS = 131_072  # rows per row group of a compacted part (~1,000 runs of series)
ROW_GROUP_BYTES = 16_000_000  # or fewer rows, as many as fit in this much memory (the driver's)

_ARROW_TYPES = {int: pa.int64(), float: pa.float64(), str: pa.string()}

PLAN_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("point", pa.int64(), nullable=False),
        pa.field("replicate", pa.int32(), nullable=False),
        pa.field("seed", pa.int64(), nullable=False),
        *(pa.field(c.column, _ARROW_TYPES[c.type], nullable=False) for c in PARAMETER_COLUMNS),
    ]
)

SUMMARY_SCHEMA = pa.schema(
    [
        *PLAN_SCHEMA,
        pa.field("status", pa.string(), nullable=False),
        pa.field("message", pa.string()),
        pa.field("elapsed_s", pa.float64(), nullable=False),
        *(
            pa.field(name, pa.bool_() if name in market.FLAG_OUTCOMES else pa.float64())
            for name in market.OUTCOMES
        ),
    ]
)

SERIES_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("step", pa.int32(), nullable=False),
        *(pa.field(name, pa.float32()) for name in market.SERIES),
    ]
)


@contextmanager
def staged_file(path: Path) -> Iterator[Path]:
    """A hidden temporary name for ``path``: renamed onto ``path`` when the block completes,
    removed when it fails (a full disk, a file-size limit): nothing half-written stays."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        _remove_if_there(tmp)


def dictionary_columns(schema: pa.Schema) -> list[str]:
    """The columns worth dictionary encoding: the strings (run ids repeated on every series
    row, status, names). Numbers are stored plain: a float column of a sweep rarely repeats a
    value, and a dictionary page built to be thrown away costs write time and file size
    (a 40-run series part of the default model: 44% of the write time, 30% of the bytes)."""
    strings = (pa.types.is_string, pa.types.is_large_string)
    return [f.name for f in schema if any(is_string(f.type) for is_string in strings)]


def write_table_atomic(table: pa.Table, path: Path, compression: str) -> None:
    """Write ``table`` to ``path`` via a hidden temporary file and a rename (atomic on POSIX)."""
    with staged_file(path) as tmp:
        pq.write_table(
            table,
            tmp,
            compression=compression,
            write_page_checksum=True,
            use_dictionary=dictionary_columns(table.schema),
        )


def _remove_if_there(path: Path) -> None:
    """Remove a temporary file if it exists. In a directory that refuses writes, unlinking a
    file that was never created fails with EPERM rather than ENOENT: that must not hide the
    error that stopped the write."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        if path.exists():
            raise


def part_key(run_ids: list[str]) -> str:
    """A part file's name stem: a hash of the runs it holds, so a batch run twice (a retried
    task) writes the same file again instead of a second copy."""
    return hashlib.blake2b("\n".join(run_ids).encode(), digest_size=8).hexdigest()


def write_batch(
    directory: Path,
    summary: pa.Table,
    series: pa.Table,
    compression: str,
    provenance: dict[str, Any] | None = None,
) -> str:
    """Store one batch as a summary part and its series part; returns the part key.

    The series part is renamed into place first and the summary part last: a run counts as
    stored once its summary row is visible, and then its series is there too. ``provenance``
    goes into each file's key-value metadata under ``segmark``.
    """
    directory = Path(directory)
    key = part_key(summary.column("run_id").to_pylist())
    meta = {PROVENANCE_KEY: json.dumps(provenance or {}, sort_keys=True)}
    if series.num_rows:
        path = directory / SERIES_DIR / f"part-{key}.parquet"
        table = _as_schema(series, SERIES_SCHEMA).replace_schema_metadata(meta)
        write_table_atomic(table, path, compression)
    path = directory / SUMMARY_DIR / f"part-{key}.parquet"
    write_table_atomic(
        _as_schema(summary, SUMMARY_SCHEMA).replace_schema_metadata(meta), path, compression
    )
    return key


def _as_schema(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` cast to ``schema``, unless it already has it (a cast copies every column)."""
    return table if table.schema.equals(schema) else table.cast(schema)


def read_provenance(part: Path) -> dict[str, Any]:
    """The provenance record stored in one Parquet part's metadata."""
    meta = pq.read_schema(part).metadata or {}
    return json.loads(meta.get(PROVENANCE_KEY.encode(), b"{}"))


@dataclass(frozen=True)
class StoredRuns:
    """What a dataset holds: the ids of its stored runs and of those that failed (numpy ``S16``
    arrays, compact for millions of runs), parts found unreadable, and rows stored twice."""

    run_ids: np.ndarray
    failed_ids: np.ndarray
    corrupt: list[Path]
    duplicates: int

    def __len__(self) -> int:
        return int(self.run_ids.shape[0])

    @property
    def failed(self) -> set[str]:
        return {run.decode() for run in self.failed_ids.tolist()}


def held_in(ids: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """Which of ``ids`` are in ``sorted_ids`` (sorted, unique: StoredRuns' arrays), by binary
    search: for a million run ids a fifth of the memory ``np.isin`` takes (25 vs 127 MB)."""
    if sorted_ids.shape[0] == 0:
        return np.zeros(ids.shape[0], dtype=bool)
    position = np.searchsorted(sorted_ids, ids)
    position[position == sorted_ids.shape[0]] = 0
    return sorted_ids[position] == ids


def verify_part(path: Path, keep: tuple[str, ...] = ()) -> pa.Table:
    """Read every page of a part, checking the CRC-32 each page carries (parts are written with
    page checksums), a batch at a time so memory stays flat; returns the ``keep`` columns.
    Raises OSError or ArrowException when the file is truncated or any byte is corrupted."""
    kept = []
    with pq.ParquetFile(path, page_checksum_verification=True) as part:
        for batch in part.iter_batches(batch_size=65_536, use_threads=False):
            kept.append(batch.select(list(keep)))
        schema = part.schema_arrow
    return pa.Table.from_batches(kept, schema=pa.schema([schema.field(name) for name in keep]))


def release_arrow_memory() -> None:
    """Hand Arrow's freed buffers back to the system (its allocator keeps them otherwise), so
    the driver's memory after reading or writing a large table returns to where it was."""
    pa.default_memory_pool().release_unused()


def fixed_width_ids(column: pa.ChunkedArray) -> np.ndarray:
    """Run ids (16-character strings) as numpy ``S16``, straight from the Arrow buffers when
    every id has 16 bytes (no Python string per run), else through Python objects."""
    out = []
    for chunk in column.chunks:
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)
        offsets = offsets[chunk.offset : chunk.offset + len(chunk) + 1]
        if chunk.null_count == 0 and (np.diff(offsets) == 16).all():
            data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
            out.append(data.view("S16").copy())
        else:
            out.append(chunk.to_numpy(zero_copy_only=False).astype("S16"))
    return np.concatenate(out) if out else np.empty(0, dtype="S16")


def scan(directory: Path, verify: bool = True) -> StoredRuns:
    """Read the run ids and statuses of every summary part, after verifying it and its series
    part page by page. A pair with a truncated or corrupted file is moved aside as
    ``.<name>.corrupt`` (no longer matching ``*.parquet``, which DuckDB globs even when hidden)
    so its runs are redone, never read as data.

    ``verify=False`` reads only the two columns, for parts known whole: those a sweep scanned
    when it started and those its tasks wrote since (renamed into place once complete)."""
    index = PartIndex(directory)
    index.update(verify)
    return index.stored()


class PartIndex:
    """The run ids and statuses of a dataset's summary parts, each part read once per version
    (its inode, size and change time: a part is replaced by renaming a new file onto it). A
    sweep reads the part each receipt names as it arrives (``add``), so its final ``update``
    (every part on disk) reads only what changed since instead of every part while the workers
    wait. ``update`` sets unreadable parts aside as ``scan`` does; ``add`` leaves them to it."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.corrupt: list[Path] = []
        # name -> (version, verified, run ids, failed run ids)
        self._parts: dict[str, tuple[tuple[int, ...], bool, np.ndarray, np.ndarray]] = {}

    def add(self, key: str) -> None:
        """Read the part a task wrote (``write_batch``'s key), if it is new or changed; a part
        that cannot be read now is left for ``update``."""
        named = self.directory / SUMMARY_DIR / f"part-{key}.parquet"
        for part, version in self._changed([named], verify=False):
            self._keep(part, version, False, _read_ids(part, verify=False))

    def update(self, verify: bool = False) -> None:
        """Read every part on disk that is new or changed (or not yet verified, if ``verify``);
        forget the parts no longer there."""
        parts = sorted((self.directory / SUMMARY_DIR).glob("part-*.parquet"))
        names = {part.name for part in parts}
        for gone in [name for name in self._parts if name not in names]:
            del self._parts[gone]
        todo = self._changed(parts, verify)
        # Arrow reads without the GIL: a few parts at a time are read side by side (memory stays
        # bounded), then handled in order
        with ThreadPoolExecutor(max_workers=SCAN_THREADS) as pool:
            for first in range(0, len(todo), 4 * SCAN_THREADS):
                window = todo[first : first + 4 * SCAN_THREADS]
                tables = pool.map(partial(_read_ids, verify=verify), [part for part, _ in window])
                for (part, version), table in zip(window, tables, strict=True):
                    if table is None:
                        self._set_aside(part)
                    else:
                        self._keep(part, version, verify, table)
        release_arrow_memory()

    def stored(self) -> StoredRuns:
        """What the parts read so far hold."""
        entries = list(self._parts.values())
        every = np.concatenate([ids for *_, ids, _ in entries]) if entries else _NO_IDS
        failed = np.concatenate([ids for *_, ids in entries]) if entries else _NO_IDS
        unique = sorted_unique(every)
        duplicates = int(every.shape[0] - unique.shape[0])
        return StoredRuns(unique, sorted_unique(failed), list(self.corrupt), duplicates)

    def _changed(self, parts: list[Path], verify: bool) -> list[tuple[Path, tuple[int, ...]]]:
        changed = []
        for part in parts:
            try:
                info = part.stat()  # before the read: a part replaced after it is read again
            except FileNotFoundError:
                self._parts.pop(part.name, None)
                continue
            version = (info.st_ino, info.st_size, info.st_ctime_ns, info.st_mtime_ns)
            known = self._parts.get(part.name)
            if known is None or known[0] != version or (verify and not known[1]):
                changed.append((part, version))
        return changed

    def _keep(
        self, part: Path, version: tuple[int, ...], verified: bool, table: pa.Table | None
    ) -> None:
        if table is None:
            return
        run_ids = fixed_width_ids(table.column("run_id"))
        ok = pc.equal(table.column("status"), STATUS_OK)
        failed = run_ids[~ok.to_numpy(zero_copy_only=False)]
        self._parts[part.name] = (version, verified, run_ids, failed)

    def _set_aside(self, part: Path) -> None:
        self._parts.pop(part.name, None)
        series = self.directory / SERIES_DIR / part.name
        for path in (part, series):  # the summary part first: its runs become "not stored"
            if path.exists():
                aside = path.with_name(f".{path.name}.corrupt")  # no reader globs *.corrupt
                os.replace(path, aside)
                self.corrupt.append(aside)


_NO_IDS = np.empty(0, dtype="S16")


def sorted_unique(ids: np.ndarray) -> np.ndarray:
    """``np.unique`` of run ids (S16) by a sort and a neighbour comparison: half its time."""
    ordered = np.sort(ids)
    keep = np.ones(ordered.shape[0], dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


def _read_ids(part: Path, verify: bool) -> pa.Table | None:
    """A summary part's run ids and statuses (after verifying it and its series part page by
    page if ``verify``), or None if either is truncated or corrupted."""
    try:
        if not verify:
            with pq.ParquetFile(part) as summary:
                return summary.read(columns=["run_id", "status"], use_threads=False)
        table = verify_part(part, keep=("run_id", "status"))
        series = part.parent.parent / SERIES_DIR / part.name
        if series.exists():
            verify_part(series)
        return table
    except (OSError, pa.ArrowException):
        return None


def remove_leftovers(directory: Path) -> int:
    """Delete what writers cut short left behind: hidden temporary files and series parts whose
    summary part never landed. Only while no task writes into the dataset. Returns how many
    series parts were orphans."""
    directory = Path(directory)
    for sub in (SUMMARY_DIR, SERIES_DIR):
        for tmp in (directory / sub).glob(".part-*.tmp"):
            tmp.unlink(missing_ok=True)
    summaries = {p.name for p in (directory / SUMMARY_DIR).glob("part-*.parquet")}
    orphans = [
        p for p in (directory / SERIES_DIR).glob("part-*.parquet") if p.name not in summaries
    ]
    for orphan in orphans:
        orphan.unlink()
    return len(orphans)


def compact(
    directory: Path, compression: str, target_mb: float, min_parts: int = 1
) -> tuple[int, int]:
    """Merge small part pairs into pairs of about ``target_mb`` (time-series size) each, if the
    dataset holds at least ``min_parts`` summary parts (Delta Lake's auto compaction likewise
    waits for autoCompact.minNumFiles small files: merging a handful buys readers nothing and
    costs the sweep a rewrite); returns the number of summary parts before and after. Only
    while no task writes into the dataset."""
    directory = Path(directory)
    summaries = sorted((directory / SUMMARY_DIR).glob("part-*.parquet"))
    if len(summaries) < min_parts:
        return len(summaries), len(summaries)
    groups: list[list[Path]] = [[]]
    size = 0.0
    for part in summaries:
        series = directory / SERIES_DIR / part.name
        size += (series.stat().st_size if series.exists() else 0) / 1e6 + part.stat().st_size / 1e6
        groups[-1].append(part)
        if size >= target_mb:
            groups.append([])
            size = 0.0
    for group in groups:
        if len(group) > 1:
            _merge(directory, group, compression)
            release_arrow_memory()
    return len(summaries), len(list((directory / SUMMARY_DIR).glob("part-*.parquet")))


def _merge(directory: Path, parts: list[Path], compression: str) -> None:
    key = part_key([part.stem for part in parts])  # parts are named by their runs already
    meta = pq.read_schema(parts[0]).metadata
    jobs = []
    for sub, schema in ((SERIES_DIR, SERIES_SCHEMA), (SUMMARY_DIR, SUMMARY_SCHEMA)):
        sources = [directory / sub / part.name for part in parts]
        sources = [path for path in sources if path.exists()]
        if sources:
            final = directory / sub / f"part-{key}.parquet"
            tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
            jobs.append((tmp, final, sources, schema.with_metadata(meta)))
    try:
        for tmp, _, sources, schema in jobs:  # one at a time: the driver's memory stays flat
            _write_merged(tmp, sources, schema, compression)
    except BaseException:
        for tmp, _, _, _ in jobs:
            _remove_if_there(tmp)
        raise
    for sub in (SUMMARY_DIR, SERIES_DIR):  # summary parts first: their runs become "not stored"
        for part in parts:
            (directory / sub / part.name).unlink(missing_ok=True)
    for tmp, final, _, _ in jobs:  # series first, summary last, as when a batch is written
        os.replace(tmp, final)


def _write_merged(tmp: Path, sources: list[Path], schema: pa.Schema, compression: str) -> None:
    """The parts ``sources`` as one file ``tmp``, in row groups of up to ROW_GROUP_ROWS rows or
    ROW_GROUP_BYTES (many tiny row groups slow every reader)."""
    meta = schema.metadata
    with pq.ParquetWriter(
        tmp,
        schema,
        compression=compression,
        write_page_checksum=True,
        use_dictionary=dictionary_columns(schema),
    ) as out:
        pending: list[pa.Table] = []
        rows = size = 0
        for i, path in enumerate(sources):
            # one thread: less memory; checksums: a damaged part is never merged
            with pq.ParquetFile(path, page_checksum_verification=True) as part:
                table = part.read(use_threads=False)
            if not table.schema.equals(schema):  # a part of an older layout
                table = table.cast(schema)
            pending.append(table.replace_schema_metadata(meta))
            rows += table.num_rows
            size += table.nbytes
            if rows >= ROW_GROUP_ROWS or size >= ROW_GROUP_BYTES or i == len(sources) - 1:
                out.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
                pending, rows, size = [], 0, 0


def drop_runs(directory: Path, run_ids: set[str], compression: str) -> int:
    """Rewrite every part holding any of ``run_ids`` without them (series first, then summary,
    each replaced atomically); returns the number of summary rows dropped."""
    directory = Path(directory)
    dropped = 0
    wanted = pa.array(sorted(run_ids), type=pa.string())
    for part in sorted((directory / SUMMARY_DIR).glob("part-*.parquet")):
        ids = pq.read_table(part, columns=["run_id"]).column("run_id")
        if pc.any(pc.is_in(ids, value_set=wanted)).as_py():
            dropped += _drop_from_part(directory, part, run_ids, compression)
    return dropped


def drop_duplicates(directory: Path, compression: str) -> int:
    """Keep the first copy (in part order) of every run stored more than once and rewrite the
    parts holding later copies without them; returns the summary rows dropped. A run is a
    deterministic function of its id, so copies agree; copies that differ in any outcome are an
    error. Copies arise when a task that was still running on an external cluster when its
    driver died lands its part after a resume stored the same runs in other batches."""
    directory = Path(directory)
    parts = sorted((directory / SUMMARY_DIR).glob("part-*.parquet"))
    seen: set[str] = set()
    copies: set[str] = set()
    rewrites: list[tuple[Path, np.ndarray]] = []
    for part in parts:
        ids = pq.read_table(part, columns=["run_id"]).column("run_id").to_pylist()
        keep = np.ones(len(ids), dtype=bool)
        for row, run_id in enumerate(ids):
            if run_id in seen:
                keep[row] = False
                copies.add(run_id)
            seen.add(run_id)
        if not keep.all():
            rewrites.append((part, keep))
    if not rewrites:
        return 0
    _check_copies_agree(directory, parts, copies)
    dropped = 0
    for part, keep in rewrites:
        summary = pq.read_table(part)
        series_part = directory / SERIES_DIR / part.name
        if series_part.exists():
            series = pq.read_table(series_part).to_pandas()
            kept_runs = set(np.array(summary.column("run_id").to_pylist())[keep])
            series = series[series["run_id"].isin(kept_runs)].drop_duplicates(["run_id", "step"])
            _replace_or_remove(
                pa.Table.from_pandas(
                    series, schema=SERIES_SCHEMA, preserve_index=False
                ).replace_schema_metadata(pq.read_schema(series_part).metadata),
                series_part,
                compression,
            )
        _replace_or_remove(summary.filter(pa.array(keep)), part, compression)
        dropped += int((~keep).sum())
    return dropped


def _check_copies_agree(directory: Path, parts: list[Path], run_ids: set[str]) -> None:
    compared = [f.name for f in SUMMARY_SCHEMA if f.name not in ("elapsed_s", "point")]
    wanted = pa.array(sorted(run_ids), type=pa.string())
    rows = [
        pq.read_table(part, columns=compared).filter(
            pc.is_in(pq.read_table(part, columns=["run_id"]).column("run_id"), value_set=wanted)
        )
        for part in parts
    ]
    table = pa.concat_tables(rows).to_pandas().drop_duplicates()
    if table["run_id"].duplicated().any():
        raise RuntimeError(f"{directory}: runs stored twice with different numbers")


def _drop_from_part(directory: Path, part: Path, run_ids: set[str], compression: str) -> int:
    wanted = pa.array(sorted(run_ids), type=pa.string())
    summary = pq.read_table(part)
    keep = pc.invert(pc.is_in(summary.column("run_id"), value_set=wanted))
    series_part = directory / SERIES_DIR / part.name
    if series_part.exists():
        series = pq.read_table(series_part)
        series_keep = pc.invert(pc.is_in(series.column("run_id"), value_set=wanted))
        _replace_or_remove(series.filter(series_keep), series_part, compression)
    _replace_or_remove(summary.filter(keep), part, compression)
    return summary.num_rows - pc.sum(keep.cast(pa.int64())).as_py()


def _replace_or_remove(table: pa.Table, path: Path, compression: str) -> None:
    if table.num_rows:
        write_table_atomic(table, path, compression)
    else:
        path.unlink()


def open_dataset(directory: Path, n_runs: int, **manifest: Any) -> None:
    """Make (or reopen) a dataset directory for a sweep: its part folders and its manifest,
    marked running."""
    directory = Path(directory)
    for sub in (SUMMARY_DIR, SERIES_DIR):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    write_manifest(directory, status="running", runs_planned=n_runs, **manifest)


def write_plan(
    directory: Path, plan: Iterable[pa.Table], config_yaml: str, compression: str
) -> None:
    """This invocation's config and plan (written chunk by chunk) into the dataset."""
    directory = Path(directory)
    with staged_file(directory / CONFIG_FILE) as tmp:
        tmp.write_text(config_yaml)
    with (
        staged_file(directory / PLAN_FILE) as tmp,
        pq.ParquetWriter(
            tmp,
            PLAN_SCHEMA,
            compression=compression,
            use_dictionary=dictionary_columns(PLAN_SCHEMA),
        ) as writer,
    ):
        for chunk in plan:
            writer.write_table(chunk.cast(PLAN_SCHEMA))
    release_arrow_memory()


LOCK_FILE = ".lock"


class DatasetBusy(RuntimeError):
    """Another live sweep holds the dataset's lock."""


@contextmanager
def writer_lock(directory: Path) -> Iterator[None]:
    """Hold ``<dataset>/.lock`` (pid and host) while a sweep writes, so two sweeps never write
    one dataset at once. A lock left by a process that is gone (same host) is taken over."""
    path = Path(directory) / LOCK_FILE
    me = {"pid": os.getpid(), "host": socket.gethostname()}
    while True:
        try:
            with open(path, "x") as handle:
                json.dump(me, handle)
            break
        except FileExistsError:
            try:
                holder = json.loads(path.read_text() or "{}")
            except (OSError, ValueError):
                holder = {}
            if holder.get("host") == me["host"] and not _alive(holder.get("pid")):
                _take_over_stale(path, holder)  # its sweep died
                continue
            raise DatasetBusy(
                f"{directory} is being written by another sweep (pid {holder.get('pid')} on "
                f"{holder.get('host')}); wait for it, or delete {path} if that sweep is gone."
            ) from None
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def _take_over_stale(path: Path, holder: dict[str, Any]) -> None:
    """Remove the lock of a dead sweep, unless another sweep took it over since ``holder`` was
    read: the lock is renamed to a private name (atomic, so of two sweeps taking over only one
    gets it), and put back if it turns out to be a live sweep's new lock."""
    private = path.with_name(f"{path.name}.{os.getpid()}.stale")
    try:
        os.rename(path, private)
    except FileNotFoundError:
        return  # another sweep removed it first; the caller looks again
    try:
        taken = json.loads(private.read_text() or "{}")
    except (OSError, ValueError):
        taken = {}
    if taken == holder:
        private.unlink(missing_ok=True)
        return
    try:
        os.link(private, path)  # a live sweep's lock: back in place unless a new one is there
    except FileExistsError:
        pass
    private.unlink(missing_ok=True)


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    state = Path(f"/proc/{pid}/stat")
    # a zombie (exited, not yet reaped) is not alive
    return not (state.exists() and state.read_text().split(") ")[-1].startswith("Z"))


def write_manifest(directory: Path, **fields: Any) -> dict[str, Any]:
    """Update ``manifest.json`` (atomically) with ``fields``; returns the whole manifest."""
    path = Path(directory) / MANIFEST_FILE
    manifest = read_manifest(directory) if path.exists() else {}
    manifest.update(fields, updated=datetime.now(UTC).isoformat(timespec="seconds"))
    with staged_file(path) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_manifest(directory: Path) -> dict[str, Any]:
    return json.loads((Path(directory) / MANIFEST_FILE).read_text())


def read_summary(directory: Path, columns: list[str] | None = None) -> pa.Table:
    """The summary table (one row per stored run): every column, or ``columns``."""
    path = Path(directory) / SUMMARY_DIR
    return ds.dataset(path, schema=SUMMARY_SCHEMA, format="parquet").to_table(columns=columns)


def read_series(directory: Path) -> pa.Table:
    """The whole time-series table."""
    path = Path(directory) / SERIES_DIR
    return ds.dataset(path, schema=SERIES_SCHEMA, format="parquet").to_table()

"""What a dataset holds: the run ids and statuses of its parts, each part read once, damaged
parts set aside so their runs are redone."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from segmark.pipeline.store.schemas import (
    DETAIL_KEYS,
    PROVENANCE_KEY,
    STATUS_OK,
    SUMMARY_DIR,
    Schemas,
)

SCAN_THREADS = 4  # parts read at once by scan


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


@dataclass(frozen=True)
class Expected:
    """What a dataset's every part must be: a table of its model version, in that version's
    schema. A part of another version, or with a column missing or of another type, is not of
    the dataset: it is set aside as a corrupt one is."""

    schemas: Schemas
    model_version: str

    def foreign(self, part: Path, schema: pa.Schema) -> bool:
        stored = pq.read_schema(part)
        meta = (stored.metadata or {}).get(PROVENANCE_KEY.encode(), b"{}")
        try:
            version = json.loads(meta).get("model_version", self.model_version)
        except (ValueError, AttributeError):  # not JSON, or not an object
            return True
        if version != self.model_version:
            return True
        for field in schema:
            i = stored.get_field_index(field.name)
            if i < 0 or not stored.field(i).type.equals(field.type):
                return True
        return False


class PartIndex:
    """The run ids and statuses of a dataset's summary parts, each part read once per version
    (its and its detail parts' inode, size and change times: a part is replaced by renaming a
    new file onto it). A sweep reads the part each receipt names as it arrives (``add``), so
    its final ``update`` (every part on disk) reads only what changed since instead of every
    part while the workers wait. ``update`` sets unreadable parts aside as ``scan`` does;
    ``add`` leaves them to it."""

    def __init__(self, directory: Path, expected: Expected | None = None):
        self.directory = Path(directory)
        self.expected = expected  # parts verified are also checked against it
        self.corrupt: list[Path] = []
        # name -> (version, verified, run ids, failed run ids)
        self._parts: dict[str, tuple[tuple[int, ...], bool, np.ndarray, np.ndarray]] = {}

    def add(self, key: str, whole: bool = False) -> None:
        """Read the part a task wrote (``write_batch``'s key), if it is new or changed; a part
        that cannot be read now is left for ``update``. ``whole``: known complete (a task of
        this sweep wrote it and renamed it into place), so ``update(verify=True)`` of a later
        sweep into the dataset by the same index does not read it again."""
        named = self.directory / SUMMARY_DIR / f"part-{key}.parquet"
        for part, version in self._changed([named], verify=False):
            self._keep(part, version, whole, _read_ids(part, verify=False))

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
                read = partial(_read_ids, verify=verify, expected=self.expected)
                tables = pool.map(read, [part for part, _ in window])
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
                version = _version(part)  # before the read: a part replaced is read again
            except FileNotFoundError:
                self._parts.pop(part.name, None)
                continue
            except OSError:  # a link loop, no permission: unreadable, set aside as corrupt
                self._set_aside(part)
                continue
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
        details = [self.directory / sub / part.name for sub in DETAIL_KEYS]
        for path in (part, *details):  # the summary part first: its runs become "not stored"
            if os.path.lexists(path):  # a link that leads nowhere is moved aside too
                aside = path.with_name(f".{path.name}.corrupt")  # no reader globs *.corrupt
                os.replace(path, aside)
                self.corrupt.append(aside)


_NO_IDS = np.empty(0, dtype="S16")


def _version(part: Path) -> tuple[int, ...]:
    """The summary part's and its detail parts' inode, size and change times: any of the
    files replaced or rewritten makes the pair a new version, verified again."""
    version = []
    for path in (part, *(part.parent.parent / sub / part.name for sub in DETAIL_KEYS)):
        try:
            info = path.stat()
        except FileNotFoundError:
            if path is part:
                raise
            version.append(-1)
            continue
        version += [info.st_ino, info.st_size, info.st_ctime_ns, info.st_mtime_ns]
    return tuple(version)


def sorted_unique(ids: np.ndarray) -> np.ndarray:
    """``np.unique`` of run ids (S16) by a sort and a neighbour comparison: half its time."""
    ordered = np.sort(ids)
    keep = np.ones(ordered.shape[0], dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


def _read_ids(part: Path, verify: bool, expected: Expected | None = None) -> pa.Table | None:
    """A summary part's run ids and statuses (after verifying it and its detail parts page by
    page if ``verify``, and that they are of the ``expected`` tables), or None if any is
    truncated, corrupted or foreign."""
    try:
        if not verify:
            with pq.ParquetFile(part) as summary:
                return summary.read(columns=["run_id", "status"], use_threads=False)
        if expected is not None and expected.foreign(part, expected.schemas.summary):
            return None
        table = verify_part(part, keep=("run_id", "status"))
        for sub in DETAIL_KEYS:
            detail = part.parent.parent / sub / part.name
            if detail.exists():
                if expected is not None and expected.foreign(detail, expected.schemas.detail(sub)):
                    return None
                verify_part(detail)
        return table
    except (OSError, KeyError, pa.ArrowException):  # KeyError: no run_id or status column
        return None

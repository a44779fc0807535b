"""Part files: written whole or not at all, named by their runs, and what a crash leaves.

Workers write one summary part per batch and a part of each detail table (series; places for
a model with places), each under a hidden temporary name and renamed when complete, so readers
(pyarrow.dataset, pandas, DuckDB) only ever see whole files, also while a sweep runs.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from segmark.pipeline.store.schemas import (
    DETAIL_KEYS,
    PLACES_DIR,
    PROVENANCE_KEY,
    SERIES_DIR,
    SUMMARY_DIR,
    Schemas,
    dictionary_columns,
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
    schemas: Schemas,
    provenance: dict[str, Any] | None = None,
    places: pa.Table | None = None,
) -> str:
    """Store one batch as a summary part and its detail parts (series, places); returns the
    part key.

    The detail parts are renamed into place first and the summary part last: a run counts as
    stored once its summary row is visible, and then its series and places are there too.
    ``provenance`` goes into each file's key-value metadata under ``segmark``.
    """
    directory = Path(directory)
    key = part_key(summary.column("run_id").to_pylist())
    meta = {PROVENANCE_KEY: json.dumps(provenance or {}, sort_keys=True)}
    for sub, table in ((SERIES_DIR, series), (PLACES_DIR, places)):
        if table is not None and table.num_rows:
            path = directory / sub / f"part-{key}.parquet"
            table = _as_schema(table, schemas.detail(sub)).replace_schema_metadata(meta)
            path.parent.mkdir(exist_ok=True)  # places/: made by the first batch that has some
            write_table_atomic(table, path, compression)
    path = directory / SUMMARY_DIR / f"part-{key}.parquet"
    write_table_atomic(
        _as_schema(summary, schemas.summary).replace_schema_metadata(meta), path, compression
    )
    return key


def _as_schema(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` cast to ``schema``, unless it already has it (a cast copies every column)."""
    return table if table.schema.equals(schema) else table.cast(schema)


def read_provenance(part: Path) -> dict[str, Any]:
    """The provenance record stored in one Parquet part's metadata."""
    meta = pq.read_schema(part).metadata or {}
    return json.loads(meta.get(PROVENANCE_KEY.encode(), b"{}"))


class UnreadableDataset(RuntimeError):
    """A dataset cannot be read as one: its summary parts cannot be listed (a dangling link,
    an unmounted disk, no permission) while it holds detail parts, none of which can then be
    proven orphaned; or its manifest, plan or a part cannot be read by a reader."""


def remove_leftovers(directory: Path) -> int:
    """Delete what writers cut short left behind: hidden temporary files and detail parts
    whose summary part never landed. Only while no task writes into the dataset. Returns how
    many detail parts were orphans. Deletes nothing, and raises UnreadableDataset, when the
    summary parts cannot be listed: an unreadable summary is not an empty one."""
    directory = Path(directory)
    for sub in (SUMMARY_DIR, *DETAIL_KEYS):
        for tmp in (directory / sub).glob(".part-*.tmp"):
            tmp.unlink(missing_ok=True)
    details = [p for sub in DETAIL_KEYS for p in (directory / sub).glob("part-*.parquet")]
    if not details:
        return 0
    summary = directory / SUMMARY_DIR
    try:
        with os.scandir(summary) as entries:
            summaries = {e.name for e in entries if e.name.endswith(".parquet")}
    except OSError as error:
        raise UnreadableDataset(
            f"cannot read the dataset's summary parts at {summary} ({error.strerror or error}) "
            f"while it holds {len(details)} time-series or places parts; nothing was deleted"
        ) from None
    orphans = [p for p in details if p.name not in summaries]
    for orphan in orphans:
        orphan.unlink()
    return len(orphans)


def parquet_bytes(table: pa.Table, compression: str = "zstd") -> int:
    """The size of ``table`` written as Parquet (in memory): what a run costs on disk."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression=compression)
    return sink.tell()

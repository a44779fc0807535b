"""Rewriting a finished dataset: small parts merged into large ones, runs dropped (to rerun
failed runs), second copies of runs removed. Only while no task writes into the dataset; every
rewrite replaces files by renaming, summary parts last."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from segmark.pipeline.store.index import release_arrow_memory
from segmark.pipeline.store.parts import _remove_if_there, part_key, write_table_atomic
from segmark.pipeline.store.schemas import DETAIL_KEYS, SUMMARY_DIR, dictionary_columns

ROW_GROUP_ROWS = 131_072  # rows per row group of a compacted part (~1,000 runs of series)
ROW_GROUP_BYTES = 16_000_000  # or fewer rows, as many as fit in this much memory (the driver's)


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
        details = [directory / sub / part.name for sub in DETAIL_KEYS]
        size += sum(p.stat().st_size for p in details if p.exists()) / 1e6
        size += part.stat().st_size / 1e6
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
    for sub in (*DETAIL_KEYS, SUMMARY_DIR):
        sources = [directory / sub / part.name for part in parts]
        sources = [path for path in sources if path.exists()]
        if sources:  # parts of one dataset share a schema: the first one's
            final = directory / sub / f"part-{key}.parquet"
            tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
            schema = pq.read_schema(sources[0]).with_metadata(meta)
            jobs.append((tmp, final, sources, schema))
    try:
        for tmp, _, sources, schema in jobs:  # one at a time: the driver's memory stays flat
            _write_merged(tmp, sources, schema, compression)
    except BaseException:
        for tmp, _, _, _ in jobs:
            _remove_if_there(tmp)
        raise
    for sub in (SUMMARY_DIR, *DETAIL_KEYS):  # summary parts first: runs become "not stored"
        for part in parts:
            (directory / sub / part.name).unlink(missing_ok=True)
    for tmp, final, _, _ in jobs:  # details first, summary last, as when a batch is written
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
    """Rewrite every part holding any of ``run_ids`` without them (details first, then summary,
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
        kept_runs = set(np.array(summary.column("run_id").to_pylist())[keep])
        for sub, key in DETAIL_KEYS.items():
            detail_part = directory / sub / part.name
            if detail_part.exists():
                rows = pq.read_table(detail_part).to_pandas()
                rows = rows[rows["run_id"].isin(kept_runs)].drop_duplicates(list(key))
                schema = pq.read_schema(detail_part)
                _replace_or_remove(
                    pa.Table.from_pandas(rows, schema=schema, preserve_index=False),
                    detail_part,
                    compression,
                )
        _replace_or_remove(summary.filter(pa.array(keep)), part, compression)
        dropped += int((~keep).sum())
    return dropped


def _check_copies_agree(directory: Path, parts: list[Path], run_ids: set[str]) -> None:
    schema = pq.read_schema(parts[0])
    compared = [f.name for f in schema if f.name not in ("elapsed_s", "point")]
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
    for sub in DETAIL_KEYS:
        detail_part = directory / sub / part.name
        if detail_part.exists():
            rows = pq.read_table(detail_part)
            rows_keep = pc.invert(pc.is_in(rows.column("run_id"), value_set=wanted))
            _replace_or_remove(rows.filter(rows_keep), detail_part, compression)
    _replace_or_remove(summary.filter(keep), part, compression)
    return summary.num_rows - pc.sum(keep.cast(pa.int64())).as_py()


def _replace_or_remove(table: pa.Table, path: Path, compression: str) -> None:
    if table.num_rows:
        write_table_atomic(table, path, compression)
    else:
        path.unlink()

"""Parquet storage: the declared schemas and the only writer of a sweep's dataset.

Layout of a dataset directory (see docs/OUTPUT.md):
  manifest.json        status (running, complete, incomplete) and run counts
  config.yaml          resolved config of the sweep
  plan.parquet         the run table (one row per planned run)
  summary/part-*.parquet     one row per run
  timeseries/part-*.parquet  one row per run and sampled step
Part files are written under a hidden temporary name and renamed when complete, so readers
(pyarrow.dataset, pandas, DuckDB) only ever see whole files; a summary part and its series part
are closed together, so every stored run has its series.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from segmark.kernels import market
from segmark.pipeline.params import PARAMETER_COLUMNS

SUMMARY_DIR = "summary"
SERIES_DIR = "timeseries"
PLAN_FILE = "plan.parquet"
CONFIG_FILE = "config.yaml"
MANIFEST_FILE = "manifest.json"
STATUS_OK = "ok"
STATUS_FAILED = "failed"

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


def write_table_atomic(table: pa.Table, path: Path, compression: str) -> None:
    """Write ``table`` to ``path`` via a hidden temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression=compression)
    os.replace(tmp, path)


class _PartWriter:
    """Streams tables into numbered part files; ``close`` finishes the current part."""

    def __init__(self, directory: Path, schema: pa.Schema, compression: str):
        self.directory = directory
        self.schema = schema
        self.compression = compression
        self.parts = 0
        self._writer: pq.ParquetWriter | None = None
        directory.mkdir(parents=True, exist_ok=True)

    def _final(self) -> Path:
        return self.directory / f"part-{self.parts:06d}.parquet"

    def _tmp(self) -> Path:
        return self.directory / f".part-{self.parts:06d}.parquet.tmp"

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp(), self.schema, compression=self.compression)
        self._writer.write_table(table.cast(self.schema))

    def close(self) -> None:
        if self._writer is None:
            return
        self._writer.close()
        os.replace(self._tmp(), self._final())
        self._writer = None
        self.parts += 1

    def abandon(self) -> None:
        """Drop the part being written (its runs were never reported complete)."""
        if self._writer is not None:
            self._writer.close()
            self._tmp().unlink(missing_ok=True)
            self._writer = None


class DatasetWriter:
    """Writes one sweep's dataset. Use as a context manager; on error the open parts are dropped,
    the parts already closed stay."""

    def __init__(self, directory: Path, compression: str = "zstd", rows_per_part: int = 100_000):
        self.directory = Path(directory)
        self.rows_per_part = rows_per_part
        self.summary = _PartWriter(self.directory / SUMMARY_DIR, SUMMARY_SCHEMA, compression)
        self.series = _PartWriter(self.directory / SERIES_DIR, SERIES_SCHEMA, compression)
        self.rows_written = 0
        self._rows_in_part = 0

    def write(self, summary: pa.Table, series: pa.Table) -> None:
        self.summary.write(summary)
        self.series.write(series)
        self.rows_written += summary.num_rows
        self._rows_in_part += summary.num_rows
        if self._rows_in_part >= self.rows_per_part:
            self.summary.close()
            self.series.close()
            self._rows_in_part = 0

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.summary.close()
            self.series.close()
        else:
            self.summary.abandon()
            self.series.abandon()


def prepare_dataset(directory: Path, plan: pa.Table, config_yaml: str, compression: str) -> None:
    """Create the dataset directory with its manifest, plan and config; refuses an existing one."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    directory.mkdir()
    write_manifest(directory, status="running", runs_planned=plan.num_rows)
    (directory / CONFIG_FILE).write_text(config_yaml)
    write_table_atomic(plan.cast(PLAN_SCHEMA), directory / PLAN_FILE, compression)


def write_manifest(directory: Path, **fields: Any) -> dict[str, Any]:
    """Update ``manifest.json`` (atomically) with ``fields``; returns the whole manifest."""
    path = Path(directory) / MANIFEST_FILE
    manifest = read_manifest(directory) if path.exists() else {}
    manifest.update(fields, updated=datetime.now(UTC).isoformat(timespec="seconds"))
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, path)
    return manifest


def read_manifest(directory: Path) -> dict[str, Any]:
    return json.loads((Path(directory) / MANIFEST_FILE).read_text())


def read_summary(directory: Path) -> pa.Table:
    import pyarrow.dataset as ds

    return ds.dataset(Path(directory) / SUMMARY_DIR, format="parquet").to_table()


def read_series(directory: Path) -> pa.Table:
    import pyarrow.dataset as ds

    return ds.dataset(Path(directory) / SERIES_DIR, format="parquet").to_table()

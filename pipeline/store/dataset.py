"""A dataset directory as a whole: opened for a sweep, its manifest, plan and config, the
writer's lock, and its tables read back."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from segmark.models.interface import Model, from_description
from segmark.pipeline.store.index import release_arrow_memory
from segmark.pipeline.store.parts import staged_file
from segmark.pipeline.store.schemas import (
    CONFIG_FILE,
    MANIFEST_FILE,
    PLACES_DIR,
    PLAN_FILE,
    SERIES_DIR,
    SUMMARY_DIR,
    dictionary_columns,
    schemas,
)


def open_dataset(directory: Path, n_runs: int, **manifest: Any) -> None:
    """Make (or reopen) a dataset directory for a sweep: its part folders and its manifest,
    marked running."""
    directory = Path(directory)
    for sub in (SUMMARY_DIR, SERIES_DIR):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    write_manifest(directory, status="running", runs_planned=n_runs, **manifest)


def write_plan(
    directory: Path,
    plan: Iterable[pa.Table],
    config_yaml: str,
    compression: str,
    schema: pa.Schema,
) -> None:
    """This invocation's config and plan (written chunk by chunk) into the dataset."""
    directory = Path(directory)
    with staged_file(directory / CONFIG_FILE) as tmp:
        tmp.write_text(config_yaml)
    with (
        staged_file(directory / PLAN_FILE) as tmp,
        pq.ParquetWriter(
            tmp,
            schema,
            compression=compression,
            use_dictionary=dictionary_columns(schema),
        ) as writer,
    ):
        for chunk in plan:
            writer.write_table(chunk.cast(schema))
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
            holder = holder if isinstance(holder, dict) else {}
            if holder.get("host") == me["host"] and not _alive(holder.get("pid")):
                _take_over_stale(path, holder)  # its sweep died
                continue
            who = (
                f"pid {holder['pid']} on {holder['host']}"
                if {"pid", "host"} <= holder.keys()
                else "its lock file names no owner: being written this instant, or left damaged"
            )
            raise DatasetBusy(
                f"{directory} is being written by another sweep ({who}); wait for it, or "
                f"delete {path} if that sweep is gone."
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


def read_model(directory: Path) -> Model | None:
    """The model that made the dataset, as its manifest describes it (None in a dataset
    written before manifests described their model)."""
    path = Path(directory) / MANIFEST_FILE
    described = json.loads(path.read_text()).get("model") if path.exists() else None
    return from_description(described) if isinstance(described, dict) else None


def _dataset(directory: Path, sub: str, table: str) -> ds.Dataset:
    """The parts under ``sub`` as one dataset, in the declared schema where the manifest
    describes the model (parts of older layouts are cast to it), else as the parts say."""
    model = read_model(directory)
    schema = getattr(schemas(model), table) if model is not None else None
    return ds.dataset(Path(directory) / sub, schema=schema, format="parquet")


def read_summary(directory: Path, columns: list[str] | None = None, filter=None) -> pa.Table:
    """The summary table (one row per stored run): every column, or ``columns``, of the rows
    ``filter`` keeps (a ``pyarrow.dataset`` expression)."""
    return _dataset(directory, SUMMARY_DIR, "summary").to_table(columns=columns, filter=filter)


def read_series(directory: Path, columns: list[str] | None = None, filter=None) -> pa.Table:
    """The time-series table: every column, or ``columns``, of the rows ``filter`` keeps (a
    ``pyarrow.dataset`` expression)."""
    return _dataset(directory, SERIES_DIR, "series").to_table(columns=columns, filter=filter)


def read_places(directory: Path, columns: list[str] | None = None, filter=None) -> pa.Table:
    """The places table (a row per run and unit; empty for a model without places): every
    column, or ``columns``, of the rows ``filter`` keeps."""
    if not (Path(directory) / PLACES_DIR).is_dir():
        model = read_model(directory)
        schema = schemas(model).places if model is not None else pa.schema([])
        return schema.empty_table().select(columns) if columns else schema.empty_table()
    return _dataset(directory, PLACES_DIR, "places").to_table(columns=columns, filter=filter)


def read_plan_ids(directory: Path) -> pa.ChunkedArray:
    """The run ids of the latest invocation's plan (``plan.parquet``), as numpy strings."""
    return (
        pq.read_table(Path(directory) / PLAN_FILE, columns=["run_id"]).column("run_id").to_numpy()
    )


def read_file(path: Path) -> pa.Table:
    """One Parquet file written with ``write_table_atomic`` (e.g. a calibration's posterior)."""
    return pq.read_table(path)

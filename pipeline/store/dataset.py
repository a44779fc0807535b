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
from segmark.pipeline.store.parts import UnreadableDataset, staged_file
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


# the manifest's keys a reader relies on, and the JSON type each must have where present
MANIFEST_TYPES: dict[str, type] = {
    "status": str,
    "model_version": str,
    "model": dict,
    "provenance": dict,
    "refinement": dict,
}
_JSON_NAMES = {dict: "an object", list: "a list", str: "a string", bool: "true or false"}


def read_manifest(directory: Path) -> dict[str, Any]:
    """``manifest.json`` as a dict. Every reader of it comes here, so a damaged one (not JSON,
    empty, not an object, a key of the wrong type) is UnreadableDataset naming the file and
    the cause in one line, never a parser's traceback."""
    path = Path(directory) / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_bytes())
    except OSError as error:  # no damage to the file: no advice to restore it
        raise UnreadableDataset(f"{path}: cannot be read ({error.strerror or error})") from None
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise _damaged(path, _json_cause(error)) from None
    if not isinstance(manifest, dict):
        raise _damaged(path, f"it holds {_json_name(manifest)}, not an object")
    for key, kind in MANIFEST_TYPES.items():
        value = manifest.get(key)
        if value is not None and not isinstance(value, kind):
            raise _damaged(path, f"its {key!r} is {_json_name(value)}, not {_JSON_NAMES[kind]}")
    return manifest


def _json_cause(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        if not error.doc.strip():
            return "the file is empty"
        return f"not JSON ({error.msg} at line {error.lineno}, column {error.colno})"
    if isinstance(error, UnicodeDecodeError):
        return "not JSON (not UTF-8 text)"
    return f"not JSON ({type(error).__name__})"  # nested too deep to parse


def _json_name(value: Any) -> str:
    if value is None:
        return "null"
    kind = next((k for k in _JSON_NAMES if isinstance(value, k)), None)
    return _JSON_NAMES[kind] if kind else "a number"


def _damaged(path: Path, cause: str) -> UnreadableDataset:
    return UnreadableDataset(
        f"{path}: {cause}; restore it from a copy of the dataset (segmark only ever writes "
        "it whole)"
    )


def read_model(directory: Path) -> Model | None:
    """The model that made the dataset, as its manifest describes it (None in a dataset
    written before manifests described their model)."""
    path = Path(directory) / MANIFEST_FILE
    described = read_manifest(directory).get("model") if path.exists() else None
    if described is None:
        return None
    try:
        return from_description(described)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        cause = f"{type(error).__name__}: {_first_line(error)}"
        raise _damaged(path, f"its 'model' describes no model ({cause})") from None


def _dataset(directory: Path, sub: str, table: str) -> ds.Dataset:
    """The parts under ``sub`` as one dataset, in the declared schema where the manifest
    describes the model (parts of older layouts are cast to it), else as the parts say."""
    model = read_model(directory)
    schema = getattr(schemas(model), table) if model is not None else None
    folder = Path(directory) / sub
    _check_links(folder)
    return ds.dataset(folder, schema=schema, format="parquet")


def _check_links(folder: Path) -> None:
    """Refuse a part that is a link leading nowhere (dangling, or a loop): pyarrow passes over
    such a name without a word, and the runs it should hold would be missing from every
    analysis unannounced. Only links are looked at: a plain file always leads somewhere."""
    try:
        entries = list(os.scandir(folder))
    except OSError as error:
        raise UnreadableDataset(f"{folder}: cannot be listed ({error.strerror or error})") from None
    for entry in entries:
        if not entry.is_symlink() or entry.name.startswith((".", "_")):  # hidden: not read
            continue
        try:
            entry.stat()
        except OSError as error:
            raise UnreadableDataset(
                f"{entry.path}: cannot be read ({error.strerror or error}); the runs it "
                "holds would be missing from every result: restore what it points to, or "
                f"move it out of {folder.name}/ (its runs then count as not stored)"
            ) from None


def _read(directory: Path, sub: str, table: str, columns: list[str] | None, filter) -> pa.Table:
    """The rows of one table, or UnreadableDataset naming the folder and pyarrow's cause (a
    truncated or garbled part, one of another schema) instead of an Arrow traceback. A column
    or filter the table lacks is the caller's error and raises as pyarrow's."""
    try:
        dataset = _dataset(directory, sub, table)  # opens a part when no schema is declared
    except (OSError, pa.ArrowException) as error:
        raise _damaged_part(Path(directory) / sub, error) from None
    scanner = dataset.scanner(columns=columns, filter=filter)
    try:
        return scanner.to_table()
    except (OSError, pa.ArrowException) as error:
        raise _damaged_part(Path(directory) / sub, error) from None


def _damaged_part(folder: Path, error: BaseException) -> UnreadableDataset:
    return UnreadableDataset(
        f"{folder}: a part cannot be read ({_first_line(error)}); run the sweep's command "
        "again into the dataset (same storage.dataset): it sets damaged parts aside and "
        "redoes their runs"
    )


def read_summary(directory: Path, columns: list[str] | None = None, filter=None) -> pa.Table:
    """The summary table (one row per stored run): every column, or ``columns``, of the rows
    ``filter`` keeps (a ``pyarrow.dataset`` expression)."""
    return _read(directory, SUMMARY_DIR, "summary", columns, filter)


def read_series(directory: Path, columns: list[str] | None = None, filter=None) -> pa.Table:
    """The time-series table: every column, or ``columns``, of the rows ``filter`` keeps (a
    ``pyarrow.dataset`` expression)."""
    return _read(directory, SERIES_DIR, "series", columns, filter)


def read_places(directory: Path, columns: list[str] | None = None, filter=None) -> pa.Table:
    """The places table (a row per run and unit; empty for a model without places): every
    column, or ``columns``, of the rows ``filter`` keeps."""
    if not os.path.lexists(Path(directory) / PLACES_DIR):  # a dangling link is not "none"
        model = read_model(directory)
        schema = schemas(model).places if model is not None else pa.schema([])
        return schema.empty_table().select(columns) if columns else schema.empty_table()
    return _read(directory, PLACES_DIR, "places", columns, filter)


def read_plan_ids(directory: Path) -> pa.ChunkedArray:
    """The run ids of the latest invocation's plan (``plan.parquet``), as numpy strings; an
    unreadable plan is UnreadableDataset naming it."""
    path = Path(directory) / PLAN_FILE
    try:
        return pq.read_table(path, columns=["run_id"]).column("run_id").to_numpy()
    except (OSError, KeyError, pa.ArrowException) as error:
        raise UnreadableDataset(
            f"{path}: cannot be read ({_first_line(error, path)}); run the sweep's command again "
            "into the dataset (same storage.dataset) to write it anew (stored runs are skipped)"
        ) from None


def read_file(path: Path) -> pa.Table:
    """One Parquet file written with ``write_table_atomic`` (e.g. a calibration's posterior)."""
    return pq.read_table(path)


def _first_line(error: BaseException, path: Path | None = None) -> str:
    """An error's message on one line (pyarrow's run over several) without pyarrow's naming of
    ``path`` (the message names it already), or the error's type."""
    text = str(error).replace(f"Could not open Parquet input source '{path}': ", "").strip()
    return text.splitlines()[0] if text else type(error).__name__

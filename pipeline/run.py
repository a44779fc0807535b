"""Execute a batch of runs: run-table rows -> the model's ``simulate`` -> Arrow tables.

``run_and_store`` is the task Dask ships to workers: it runs a batch, writes it into the dataset
and returns a small receipt, so results never travel through the driver. No Dask import here.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from segmark.models.interface import PLACE_LABELS, Model, Stopped
from segmark.pipeline.store import STATUS_FAILED, STATUS_OK, Schemas, schemas, write_batch
from segmark.pipeline.sweep import Shipment

M_TOP_PAD, M_MMAP_THRESHOLD = -2, -3  # glibc's mallopt parameters
RUN_HEAP_BYTES = 4 << 20


@lru_cache(maxsize=1)
def keep_run_arrays_on_the_heap() -> bool:
    """Serve allocations up to RUN_HEAP_BYTES from the heap, and keep that much free at its
    top, in this process (glibc, with MALLOC_TRIM_THRESHOLD_ set); returns whether the settings
    took.

    Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_ set, which also freezes glibc's
    mmap threshold at 128 KiB (any explicit malloc setting turns the adaptive one off). Each
    run's larger work arrays (the 52-week price memory: 455 KB on the NK network) are then
    mapped and unmapped, or trimmed off the heap's top and grown again, every run: about 140
    page faults and 0.6 ms of system time. With both settings they are reused. Dask's trim
    threshold (freed memory goes back to the system) is left as it is."""
    if not sys.platform.startswith("linux") or "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return False  # without it glibc adapts by itself
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(
            libc.mallopt(M_MMAP_THRESHOLD, RUN_HEAP_BYTES)
            and libc.mallopt(M_TOP_PAD, RUN_HEAP_BYTES)
        )
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False


@dataclass(frozen=True)
class Receipt:
    """What a worker reports for a stored batch."""

    part: str
    n_runs: int
    n_failed: int
    run_seconds: float  # kernel wall time summed over the batch's runs
    derived: Any = None  # what the sweep's ``derive`` made of the batch's result, if any


@dataclass(frozen=True)
class BatchResult:
    summary: pa.Table
    series: pa.Table
    places: pa.Table | None = None  # a model with places: a row per run and unit

    @property
    def n_runs(self) -> int:
        return self.summary.num_rows

    @property
    def n_failed(self) -> int:
        statuses = self.summary.column("status").to_pylist()
        return sum(status != STATUS_OK for status in statuses)


def run_one(model: Model, row: dict[str, Any], stop: np.ndarray | None = None) -> Any:
    """The run of a run-table row (its parameter columns and seed): what ``simulate`` returns."""
    return run_point(model, row, int(row["seed"]), stop)


def run_point(
    model: Model, point: dict[str, Any], seed: int, stop: np.ndarray | None = None
) -> Any:
    """A run at a design point (parameter columns; other keys ignored) with ``seed``."""
    params = {p.name: point[p.column] for p in model.parameters}
    if model.stoppable:
        return model.simulate(params, seed, stop=stop)
    return model.simulate(params, seed)


def outcome_values(model: Model, result: Any) -> np.ndarray:
    """float64 (len(outcomes),) in declared order from what ``simulate`` returned: a mapping
    by name, or anything whose ``outcomes`` is one or an array in declared order."""
    outcomes = getattr(result, "outcomes", result)
    if isinstance(outcomes, Mapping):
        missing = [o.name for o in model.outcomes if o.name not in outcomes]
        if missing:
            raise KeyError(f"simulate returned no value for outcome(s) {', '.join(missing)}")
        return np.array([float(outcomes[o.name]) for o in model.outcomes])
    values = np.asarray(outcomes, dtype=np.float64)
    if values.shape != (len(model.outcomes),):
        raise ValueError(
            f"simulate returned {values.shape} outcomes, the model declares {len(model.outcomes)}"
        )
    return values


def series_values(model: Model, result: Any) -> np.ndarray:
    """float64 (n_samples, 1 + len(series)) from what ``simulate`` returned (no ``series``:
    no rows)."""
    series = getattr(result, "series", None)
    width = 1 + len(model.series)
    if series is None:
        return np.empty((0, width))
    values = np.asarray(series, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != width:
        raise ValueError(
            f"simulate returned series of shape {values.shape}; the model declares "
            f"{len(model.series)} series: (samples, 1 + {len(model.series)}), the step first"
        )
    return values


def place_values(model: Model, result: Any) -> np.ndarray:
    """float64 (n_units, len(places)) from what ``simulate`` returned (a model without places:
    no rows)."""
    if not model.places:
        return np.empty((0, 0))
    values = np.asarray(getattr(result, "places", None), dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(model.places):
        raise ValueError(
            f"simulate returned places of shape {values.shape}; the model declares "
            f"{len(model.places)}: (units, {len(model.places)})"
        )
    if not np.isfinite(values).all():
        raise ValueError("non-finite place value")
    return values


class Watchdog:
    """Raises the current run's stop flag once it has run ``seconds``; one thread per batch.
    The kernel releases the GIL and reads the flag every simulated week."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        # (deadline, that run's own flag), replaced as one value: the thread can never raise
        # a later run's flag for an earlier run's deadline
        self._current: tuple[float, np.ndarray] | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def start_run(self) -> np.ndarray:
        flag = np.zeros(1, dtype=np.uint8)
        self._current = (time.monotonic() + self.seconds, flag)
        return flag

    def end_run(self) -> None:
        self._current = None

    def _watch(self) -> None:
        while not self._done.wait(min(0.05, self.seconds / 4)):
            current = self._current
            if current is not None and time.monotonic() > current[0]:
                current[1][0] = 1


def run_batch(
    model: Model, plan: pa.Table | pd.DataFrame | Shipment, time_budget: float = 0.0
) -> BatchResult:
    """Run every row of ``plan`` (a slice of the run table: ``RunTable.batch``, ``.rows`` or
    ``.shipment``). A run that raises, returns non-finite outcomes or runs longer than
    ``time_budget`` seconds (if > 0) is recorded with status ``failed`` and a message; the
    batch goes on."""
    keep_run_arrays_on_the_heap()
    tables = schemas(model)
    if isinstance(plan, Shipment):
        runs = plan.runs()
        plan = plan.table(tables.point)
    else:
        if isinstance(plan, pd.DataFrame):
            plan = pa.Table.from_pandas(plan, preserve_index=False)
        runs = ((row, int(row["seed"])) for row in plan.to_pylist())
    stoppable = time_budget > 0 and model.stoppable  # others are judged when they end
    with Watchdog(time_budget) if stoppable else nullcontext() as watchdog:
        return _run_rows(model, tables, plan, runs, watchdog, time_budget)


def _run_rows(
    model: Model,
    tables: Schemas,
    plan: pa.Table,
    runs: Iterator[tuple[dict[str, Any], int]],
    watchdog: Watchdog | None,
    time_budget: float,
) -> BatchResult:
    n = plan.num_rows
    outcomes = np.full((n, len(model.outcomes)), np.nan)
    status = np.full(n, STATUS_OK, dtype=object)
    message = np.full(n, None, dtype=object)
    elapsed = np.empty(n)
    series: list[np.ndarray] = []
    series_rows = np.zeros(n, dtype=np.int64)
    places: list[pa.Table] = []
    for i, (point, seed) in enumerate(runs):
        start = time.perf_counter()
        try:
            result = run_point(model, point, seed, watchdog.start_run() if watchdog else None)
            outcomes[i] = outcome_values(model, result)
            rows = series_values(model, result)
            units = _places_table(model, tables, plan.column("run_id")[i], point, result)
            series.append(rows)
            series_rows[i] = rows.shape[0]
            places.append(units)
        except Stopped:
            outcomes[i] = np.nan
            status[i] = STATUS_FAILED
            message[i] = f"TimeBudgetExceeded: stopped after the time budget of {time_budget:g} s"
        except Exception as error:  # a failed run is data, not a crash of the sweep
            outcomes[i] = np.nan
            status[i], message[i] = STATUS_FAILED, f"{type(error).__name__}: {error}"
        finally:
            if watchdog:
                watchdog.end_run()
        elapsed[i] = time.perf_counter() - start
    over = np.zeros(n, dtype=bool)
    if watchdog is None and time_budget > 0:
        over = (elapsed > time_budget) & (status == STATUS_OK)
        status[over], message[over] = (
            STATUS_FAILED,
            (f"TimeBudgetExceeded: ran past the time budget of {time_budget:g} s"),
        )
    values = np.concatenate(series) if series else np.empty((0, len(model.series) + 1))
    owner = np.repeat(np.arange(n), series_rows)  # each series row's run (batch position)
    with np.errstate(over="ignore"):  # stored as float32: too large a value becomes inf
        stored = values.astype(np.float32)
    finite = np.isfinite(outcomes).all(axis=1)
    finite[owner[~np.isfinite(stored).all(axis=1)]] = False
    nonfinite = (status == STATUS_OK) & ~finite
    status[nonfinite], message[nonfinite] = STATUS_FAILED, "non-finite outcome or series value"
    outcomes[over] = np.nan  # as for a run stopped on time
    keep = ~over[owner]
    ok = set(plan.column("run_id").filter(pa.array(status == STATUS_OK)).to_pylist())
    places = [p for p in places if p.num_rows and p.column("run_id")[0].as_py() in ok]
    return BatchResult(
        _summary_table(model, tables, plan, status, message, elapsed, outcomes),
        _series_table(
            model,
            tables,
            plan.column("run_id").take(owner[keep]),
            values[keep, 0],
            stored[keep, 1:],
        ),
        pa.concat_tables(places) if places else None,
    )


def _summary_table(
    model: Model,
    tables: Schemas,
    plan: pa.Table,
    status: np.ndarray,
    message: np.ndarray,
    elapsed: np.ndarray,
    outcomes: np.ndarray,
) -> pa.Table:
    """The batch's summary rows, built column by column in the declared schema."""
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        f.name: plan.column(f.name).cast(f.type) for f in tables.plan
    }
    columns["status"] = pa.array(status, type=pa.string())
    columns["message"] = pa.array(message, type=pa.string())
    columns["elapsed_s"] = pa.array(elapsed)
    for j, outcome in enumerate(model.outcomes):
        values = outcomes[:, j]
        missing = ~np.isfinite(values)
        if outcome.dtype is bool:
            columns[outcome.name] = pa.array(values != 0.0, mask=missing, type=pa.bool_())
        else:
            columns[outcome.name] = pa.array(values, mask=missing, type=pa.float64())
    return pa.table(columns, schema=tables.summary)


def _series_table(
    model: Model, tables: Schemas, run_ids: pa.ChunkedArray, steps: np.ndarray, rows: np.ndarray
) -> pa.Table:
    """Series rows in the declared schema: run id, step, then a column per declared series."""
    columns = {"run_id": run_ids.cast(pa.string()), "step": pa.array(steps.astype(np.int32))}
    for j, series in enumerate(model.series):
        columns[series.name] = pa.array(rows[:, j])
    return pa.table(columns, schema=tables.series)


def _places_table(
    model: Model, tables: Schemas, run_id: pa.Scalar, point: dict[str, Any], result: Any
) -> pa.Table:
    """One run's places rows: run id, unit, its labels (``model.units``) and its outputs."""
    values = place_values(model, result)
    if not values.size:
        return tables.places.empty_table()
    labels = model.units({p.name: point[p.column] for p in model.parameters})
    n = values.shape[0]
    columns: dict[str, Any] = {
        "run_id": pa.array([run_id.as_py()] * n, type=pa.string()),
        "unit": pa.array(np.arange(n, dtype=np.int32)),
    }
    for name in PLACE_LABELS:
        kind = tables.places.field(name).type
        columns[name] = pa.array(np.asarray(labels[name]).tolist(), type=kind)
    with np.errstate(over="ignore"):
        stored = values.astype(np.float32)
    if not np.isfinite(stored).all():  # a value too large for float32
        raise ValueError("place value out of float32 range")
    for j, place in enumerate(model.places):
        columns[place.name] = pa.array(stored[:, j])
    return pa.table(columns, schema=tables.places)


def run_and_store(
    plan: pa.Table | pd.DataFrame | Shipment,
    directory: str,
    compression: str,
    model: Model,
    provenance: dict[str, Any] | None = None,
    time_budget: float = 0.0,
    derive: Callable[[BatchResult], Any] | None = None,
) -> Receipt:
    """Run a batch of ``model``'s runs and store it in the dataset at ``directory``; the Dask
    task. ``derive(result)``, computed here before the batch is stored, travels back in the
    receipt: a small per-run reduction (a calibration's statistics) made where the tables
    already are, in parallel, instead of read back by the driver."""
    result = run_batch(model, plan, time_budget)
    derived = derive(result) if derive is not None else None
    part = write_batch(
        Path(directory),
        result.summary,
        result.series,
        compression,
        schemas(model),
        provenance,
        result.places,
    )
    seconds = float(pc.sum(result.summary.column("elapsed_s")).as_py() or 0.0)
    return Receipt(part, result.n_runs, result.n_failed, seconds, derived)

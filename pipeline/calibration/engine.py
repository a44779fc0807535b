"""ABC's simulations through the sweep engine: each batch of proposals is a ``list`` sweep
into the calibration's dataset, with independent random streams per point
(``common_random_numbers=false``), so a run's seed and id follow from its parameter values
alone: a batch rerun after a crash finds its stored runs and runs only the rest. A run's
statistics are its outcomes, or what the model's declared estimator (``Targets.estimate``)
makes of its outcomes and stored series."""

from __future__ import annotations

import copy
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from segmark.models.interface import Model, Targets
from segmark.pipeline.calibration.predictive import POPULATION as PREDICTIVE
from segmark.pipeline.calibration.priors import Priors
from segmark.pipeline.config import Config
from segmark.pipeline.driver import run_sweep
from segmark.pipeline.extend import as_list_design
from segmark.pipeline.run import BatchResult
from segmark.pipeline.schedule import Client
from segmark.pipeline.store import read_series, read_summary
from segmark.pipeline.store.schemas import STATUS_OK
from segmark.pipeline.sweep import plan as plan_runs

RUNS = "runs"  # the calibration's run dataset, under its directory
READ_CHUNK = 1000  # stored runs whose statistics are read back at once (a resume)


def batch_config(
    base: Config, directory: Path, paths: tuple[str, ...], points: np.ndarray, label: str
) -> Config:
    """``base`` with a list design of ``points`` (columns in ``paths`` order), one replicate
    each with its own random stream, stored in ``directory``/runs."""
    cfg = copy.deepcopy(base)
    cfg.sweep.name, cfg.sweep.common_random_numbers = label, False
    as_list_design(cfg, [dict(zip(paths, map(float, row), strict=True)) for row in points], 1)
    cfg.storage.root, cfg.storage.dataset = str(directory), RUNS
    cfg.progress = cfg.dry_run = cfg.retry_failed = False
    cfg.storage.compact_mb = 0.0  # a batch's parts stay: the calibration compacts once, at the end
    return cfg


def check_base(base: Config, model: Model, priors: Priors) -> None:
    """``base`` planned for one run at the priors' medians: its settings, and the model's own
    check of them, refused (ConfigError) before any run or directory."""
    median = np.array([[p.dist.median() for p in priors.items]])
    plan_runs(batch_config(base, Path("."), priors.paths, median, "calibration"), model)


def with_settings(base: Config, targets: Targets | None) -> Config:
    """``base`` with the parameter values the targets' estimator needs (a run length...)."""
    if targets is None or not targets.settings:
        return base
    cfg = copy.deepcopy(base)
    for path, value in targets.settings.items():
        group, name = path.split(".", 1)
        getattr(cfg, group)[name] = value
    return cfg


class EngineSimulator:
    """``simulate(population, batch, points)`` for :func:`smc.calibrate`: runs the batch through
    :func:`pipeline.driver.run_sweep` on ``client`` and reads its runs' statistics back from the
    dataset; a failed run gives a row of NaN."""

    def __init__(
        self,
        base: Config,
        model: Model,
        directory: Path,
        paths: tuple[str, ...],
        statistics: tuple[str, ...],
        targets: Targets | None = None,
        client: Client | None = None,
    ) -> None:
        self.base, self.model, self.directory = base, model, Path(directory)
        self.paths, self.statistics, self.targets, self.client = paths, statistics, targets, client

    def __call__(self, population: int, batch: int, points: np.ndarray) -> np.ndarray:
        """Population ``predictive.POPULATION`` (-1) runs each point's replicate 1: the same
        parameters with fresh random numbers. Each batch's statistics are made on its worker
        (``derive``); only runs found stored (a resume) are read back here."""
        fresh = population == PREDICTIVE
        label = "calibration-predictive" if fresh else f"calibration-p{population}-b{batch}"
        cfg = batch_config(self.base, self.directory, self.paths, points, label)
        cfg.sweep.replicates = 2 if fresh else 1  # replicate 0 is stored: only 1 runs
        derive = partial(
            batch_statistics, model=self.model, targets=self.targets, statistics=self.statistics
        )
        result = run_sweep(cfg, echo=lambda _: None, client=self.client, model=self.model,
                           derive=derive)  # fmt: skip
        out = np.full((len(points), len(self.statistics)), np.nan)
        known = np.zeros(len(points), dtype=bool)
        for point, replicate, values in result.derived:
            mine = replicate == int(fresh)
            out[point[mine]], known[point[mine]] = values[mine], True
        if not known.all():
            ids = plan_runs(cfg, self.model)[1].run_id.astype(str)[int(fresh) :: 1 + fresh]
            out[~known] = self.read(ids[~known])
        return out

    def read(self, ids: np.ndarray, chunk: int = READ_CHUNK) -> np.ndarray:
        """(len(ids), s) statistics of stored runs, read back from the dataset ``chunk`` runs
        at a time (the driver's memory stays bounded however large a resumed batch)."""
        directory = self.directory / RUNS
        outcomes = ["run_id", "status", *(o.name for o in self.model.outcomes)]
        names = ["run_id", "step", *(s.name for s in self.model.series)]
        out = []
        for start in range(0, len(ids), chunk):
            some = ids[start : start + chunk]
            summary = read_summary(directory, outcomes, _of_runs(some))
            series = None if self.targets is None else read_series(directory, names, _of_runs(some))
            out.append(statistics_of(summary, series, some, self.model, self.targets,
                                     self.statistics))  # fmt: skip
        return np.vstack(out) if out else np.empty((0, len(self.statistics)))


def _of_runs(ids: np.ndarray) -> pc.Expression:
    return pc.is_in(ds.field("run_id"), value_set=pc.cast(ids.tolist(), "string"))


def batch_statistics(
    result: BatchResult, model: Model, targets: Targets | None, statistics: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(design point, replicate, statistics) of each run of a batch just run: ``run_sweep``'s
    ``derive``, on the worker. The tables are those the batch stores, so the numbers are those
    read back."""
    summary = result.summary
    ids = np.array(summary.column("run_id").to_pylist())
    series = result.series if targets is not None else None
    return (
        summary.column("point").to_numpy(),
        summary.column("replicate").to_numpy(),
        statistics_of(summary, series, ids, model, targets, statistics),
    )


def statistics_of(
    summary: pa.Table,
    series: pa.Table | None,
    ids: np.ndarray,
    model: Model,
    targets: Targets | None,
    statistics: tuple[str, ...],
) -> np.ndarray:
    """(len(ids), s) statistics of the runs ``ids`` from their summary rows (and, for a
    model's data, their series rows): the outcomes by name, or what ``targets.estimate``
    makes of each run's outcomes and series in step order; NaN where a run failed or a
    value is not finite."""
    out = np.full((len(ids), len(statistics)), np.nan)
    rows = {run_id: i for i, run_id in enumerate(summary.column("run_id").to_pylist())}
    ok = np.array(summary.column("status").to_pylist(), dtype=object) == STATUS_OK
    outcomes = [o.name for o in model.outcomes]
    columns = {name: summary.column(name).to_pylist() for name in outcomes}
    by_run = _series_by_run(series, model) if series is not None else {}
    for i, run_id in enumerate(ids.tolist()):
        row = rows.get(run_id)
        if row is None or not ok[row]:
            continue
        values = {name: columns[name][row] for name in outcomes}
        if targets is None:
            out[i] = [values[name] for name in statistics]
        else:
            estimate = targets.estimate(values, by_run.get(run_id, _no_rows(model)))
            out[i] = [estimate[name] for name in statistics]
    return np.where(np.isfinite(out), out, np.nan)


def _series_by_run(series: pa.Table, model: Model) -> dict[str, np.ndarray]:
    """Each run's series rows as float64 (n_samples, 1 + len(model.series)), in step order."""
    names = ["step", *(s.name for s in model.series)]
    series = series.sort_by([("run_id", "ascending"), ("step", "ascending")])
    run_ids = series.column("run_id").to_numpy(zero_copy_only=False)
    values = np.column_stack(
        [series.column(n).to_numpy(zero_copy_only=False).astype(np.float64) for n in names]
    ).reshape(len(run_ids), len(names))
    starts = np.flatnonzero(np.r_[True, run_ids[1:] != run_ids[:-1]]) if len(run_ids) else []
    ends = [*starts[1:], len(run_ids)]
    return {run_ids[a]: values[a:b] for a, b in zip(starts, ends, strict=True)}


def _no_rows(model: Model) -> np.ndarray:
    return np.empty((0, 1 + len(model.series)))

"""ABC's simulations through the sweep engine: each batch of proposals is a ``list`` sweep
into the calibration's dataset, with independent random streams per point
(``common_random_numbers=false``), so a run's seed and id follow from its parameter values
alone: a batch rerun after a crash finds its stored runs and runs only the rest. A run's
statistics are its outcomes, or what the model's declared estimator (``Targets.estimate``)
makes of its outcomes and stored series."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.dataset as ds

from segmark.models.interface import Model, Targets
from segmark.pipeline.calibration.predictive import POPULATION as PREDICTIVE
from segmark.pipeline.calibration.priors import Priors
from segmark.pipeline.config import Config
from segmark.pipeline.driver import as_list_design, run_sweep
from segmark.pipeline.schedule import Client
from segmark.pipeline.store import read_series, read_summary
from segmark.pipeline.store.schemas import STATUS_OK
from segmark.pipeline.sweep import plan as plan_runs

RUNS = "runs"  # the calibration's run dataset, under its directory


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
        parameters with fresh random numbers."""
        fresh = population == PREDICTIVE
        label = "calibration-predictive" if fresh else f"calibration-p{population}-b{batch}"
        cfg = batch_config(self.base, self.directory, self.paths, points, label)
        cfg.sweep.replicates = 2 if fresh else 1  # replicate 0 is stored: only 1 runs
        ids = plan_runs(cfg, self.model)[1].run_id.astype(str)[1 if fresh else 0 :: 1 + fresh]
        run_sweep(cfg, echo=lambda _: None, client=self.client, model=self.model)
        if self.targets is None:
            return read_statistics(self.directory / RUNS, ids, self.statistics)
        return estimated(self.directory / RUNS, ids, self.model, self.targets, self.statistics)


def _of_runs(ids: np.ndarray) -> pc.Expression:
    return pc.is_in(ds.field("run_id"), value_set=pc.cast(ids.tolist(), "string"))


def read_statistics(directory: Path, ids: np.ndarray, statistics: tuple[str, ...]) -> np.ndarray:
    """(len(ids), s) statistics (outcomes by name) of the runs ``ids`` in order; NaN where a
    run failed."""
    table = read_summary(directory, ["run_id", "status", *statistics], _of_runs(ids))
    table = table.to_pandas().drop_duplicates("run_id").set_index("run_id").reindex(ids)
    values = table[list(statistics)].to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where((table["status"] == STATUS_OK).to_numpy()[:, None], values, np.nan)


def estimated(
    directory: Path, ids: np.ndarray, model: Model, targets: Targets, statistics: tuple[str, ...]
) -> np.ndarray:
    """(len(ids), s) statistics the targets' estimator makes of each run's outcomes and
    series; NaN where a run failed or its estimate is not finite."""
    outcomes = [o.name for o in model.outcomes]
    summary = read_summary(directory, ["run_id", "status", *outcomes], _of_runs(ids)).to_pandas()
    summary = summary.drop_duplicates("run_id").set_index("run_id")
    names = ["step", *(s.name for s in model.series)]
    series = read_series(directory, ["run_id", *names], _of_runs(ids)).to_pandas()
    by_run = dict(tuple(series.groupby("run_id", sort=False)))
    out = np.full((len(ids), len(statistics)), np.nan)
    for i, run_id in enumerate(ids):
        if run_id not in summary.index or summary.at[run_id, "status"] != STATUS_OK:
            continue
        rows = by_run[run_id].sort_values("step")[names].to_numpy(dtype=np.float64)
        values = targets.estimate(summary.loc[run_id, outcomes].to_dict(), rows)
        out[i] = [values[name] for name in statistics]
    return np.where(np.isfinite(out), out, np.nan)

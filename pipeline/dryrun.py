"""A sweep's size before it runs: a few runs timed here, the rest estimated (``dry_run=true``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from segmark.models.interface import Model
from segmark.pipeline import designs, sweep
from segmark.pipeline.config import Config
from segmark.pipeline.designs import Design
from segmark.pipeline.driver import check_dataset, describe_plan, model_of
from segmark.pipeline.run import run_batch
from segmark.pipeline.store import parquet_bytes
from segmark.pipeline.validate import validate_settings


def dry_run(
    cfg: Config, echo: Callable[[str], None] = print, model: Model | None = None
) -> dict[str, float]:
    """Time a few runs here and print the sweep's size, core-hours and output size; no cluster,
    nothing written."""
    model = model or model_of(cfg)
    design, n_runs, pilot, directory = plan_pilot(cfg, model)
    echo(describe_plan(cfg, design))
    run_batch(model, pilot.slice(0, 1))  # compile or load the kernel
    started = time.perf_counter()
    result = run_batch(model, pilot)
    per_run = (time.perf_counter() - started) / len(pilot)
    tables = [result.summary, result.series, result.places]
    per_run_bytes = sum(parquet_bytes(t) for t in tables if t is not None) / len(pilot)
    estimate = {
        "runs": float(n_runs),
        "seconds_per_run": per_run,
        "core_hours": per_run * n_runs / 3600,
        "output_mb": per_run_bytes * n_runs / 1e6,
    }
    echo(
        f"dry run: {n_runs} runs x {per_run * 1000:.1f} ms (timed here on {len(pilot)} runs) = "
        f"{estimate['core_hours']:.3g} core-hours; about {estimate['output_mb']:.3g} MB of "
        f"Parquet in {directory}; only those {len(pilot)} runs were run, here, and nothing "
        "was written"
    )
    return estimate


def plan_pilot(cfg: Config, model: Model) -> tuple[Design, int, pa.Table, Path]:
    """What ``plan_sweep`` checks and refuses, without its run table: the design, its run
    count (arithmetic: a grid's points are made on demand), the rows of the first, middle
    and last runs, and the dataset's directory. A sweep at the limits plans in about a
    second and a few MB here (0.6 s, +1 MB), where its run table would take 0.7 GB."""
    validate_settings(cfg, model)
    design = designs.build(cfg, model)  # a sweep over the limits is refused before its points
    sweep.check_points(cfg, model, design)  # every point the sweep would refuse, one at a time
    n_runs = design.n_runs(cfg.sweep.replicates)
    pilot = sweep.pilot(cfg, model, design, np.unique([0, n_runs // 2, n_runs - 1]))
    return design, n_runs, pilot, check_dataset(cfg, model)

"""A sweep's size before it runs: a few runs timed here, the rest estimated (``dry_run=true``)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from segmark.models.interface import Model
from segmark.pipeline.config import Config
from segmark.pipeline.driver import describe_plan, model_of, plan_sweep
from segmark.pipeline.run import run_batch
from segmark.pipeline.store import parquet_bytes


def dry_run(
    cfg: Config, echo: Callable[[str], None] = print, model: Model | None = None
) -> dict[str, float]:
    """Time a few runs here and print the sweep's size, core-hours and output size; no cluster,
    nothing written."""
    model = model or model_of(cfg)
    design, plan, directory = plan_sweep(cfg, model)
    echo(describe_plan(cfg, design))
    pilot = plan.batch(np.unique([0, len(plan) // 2, len(plan) - 1]))
    run_batch(model, pilot.slice(0, 1))  # compile or load the kernel
    started = time.perf_counter()
    result = run_batch(model, pilot)
    per_run = (time.perf_counter() - started) / len(pilot)
    tables = [result.summary, result.series, result.places]
    per_run_bytes = sum(parquet_bytes(t) for t in tables if t is not None) / len(pilot)
    estimate = {
        "runs": float(len(plan)),
        "seconds_per_run": per_run,
        "core_hours": per_run * len(plan) / 3600,
        "output_mb": per_run_bytes * len(plan) / 1e6,
    }
    echo(
        f"dry run: {len(plan)} runs x {per_run * 1000:.1f} ms (timed here on {len(pilot)} runs) = "
        f"{estimate['core_hours']:.3g} core-hours; about {estimate['output_mb']:.3g} MB of "
        f"Parquet in {directory}; only those {len(pilot)} runs were run, here, and nothing "
        "was written"
    )
    return estimate

"""Run a sweep end to end: validate -> expand -> schedule on Dask -> write Parquet."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from omegaconf import OmegaConf
from tqdm import tqdm

from segmark.pipeline.config import Config, ConfigError, validate
from segmark.pipeline.run import run_batch
from segmark.pipeline.schedule import connect, map_batches, total_threads
from segmark.pipeline.store import PLAN_SCHEMA, DatasetWriter, prepare_dataset, write_manifest
from segmark.pipeline.sweep import expand

BATCHES_PER_WORKER = 8
MAX_AUTO_BATCH = 200


@dataclass(frozen=True)
class SweepResult:
    directory: Path
    axes: dict[str, list[Any]]
    n_runs: int
    n_failed: int
    wall_s: float
    dashboard: str


def dataset_directory(cfg: Config, now: datetime | None = None) -> Path:
    """``<root>/<storage.dataset>``, or ``<root>/<sweep name>-<timestamp>`` made unique with a
    ``-2``, ``-3``... suffix when two sweeps start in the same second."""
    root = Path(cfg.storage.root).expanduser().resolve()
    if cfg.storage.dataset:
        return root / cfg.storage.dataset
    stem = f"{cfg.sweep.name}-{(now or datetime.now()):%Y%m%d-%H%M%S}"
    candidate, n = root / stem, 1
    while candidate.exists():
        n += 1
        candidate = root / f"{stem}-{n}"
    return candidate


def batch_size(cfg: Config, n_runs: int, n_workers: int) -> int:
    """Runs per Dask task: the configured size, or about BATCHES_PER_WORKER tasks per worker."""
    if cfg.sweep.batch_size:
        return cfg.sweep.batch_size
    return max(1, min(MAX_AUTO_BATCH, math.ceil(n_runs / (n_workers * BATCHES_PER_WORKER))))


def split(plan: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    return [plan.iloc[start : start + size] for start in range(0, len(plan), size)]


def plan_sweep(cfg: Config) -> tuple[dict[str, list[Any]], pd.DataFrame, Path]:
    """Validate and expand; refuse a dataset directory that exists. Writes nothing."""
    axes = validate(cfg)
    plan = expand(cfg, axes)
    directory = dataset_directory(cfg)
    if directory.exists():
        raise ConfigError(
            f"storage.dataset: {directory} already exists; choose another storage.dataset or "
            "storage.root (segmark never overwrites a dataset)."
        )
    return axes, plan, directory


def run_sweep(cfg: Config, echo: Callable[[str], None] = print) -> SweepResult:
    """Run every planned run of ``cfg`` and store the results; returns where they are."""
    axes, plan, directory = plan_sweep(cfg)
    grid = " x ".join(f"{len(v)} {path}" for path, v in axes.items()) or "1 point"
    echo(f"sweep {cfg.sweep.name}: {grid} x {cfg.sweep.replicates} replicates = {len(plan)} runs")
    started = time.perf_counter()
    with connect(cfg.cluster) as client:
        workers = total_threads(client)
        size = batch_size(cfg, len(plan), workers)
        batches = split(plan, size)
        echo(f"dask: {workers} worker threads, {len(batches)} tasks of <= {size} runs")
        echo(f"dask dashboard: {client.dashboard_link}")
        prepare_dataset(
            directory,
            pa.Table.from_pandas(plan, schema=PLAN_SCHEMA, preserve_index=False),
            OmegaConf.to_yaml(OmegaConf.structured(cfg)),
            cfg.storage.compression,
        )
        in_flight = cfg.cluster.max_in_flight or 4 * workers
        n_failed = 0
        writer = DatasetWriter(directory, cfg.storage.compression, cfg.storage.rows_per_part)
        try:
            with (
                writer,
                tqdm(total=len(plan), unit="run", disable=not cfg.progress, smoothing=0.1) as bar,
            ):
                for result in map_batches(client, run_batch, batches, in_flight):
                    writer.write(result.summary, result.series)
                    n_failed += result.n_failed
                    bar.update(result.n_runs)
                    bar.set_postfix(failed=n_failed, refresh=False)
            if writer.rows_written != len(plan):
                raise RuntimeError(f"planned {len(plan)} runs but stored {writer.rows_written}")
        except BaseException as error:
            write_manifest(
                directory,
                status="incomplete",
                runs_stored=writer.rows_written,
                error=f"{type(error).__name__}: {error}",
            )
            raise
        dashboard = client.dashboard_link
    wall = time.perf_counter() - started
    write_manifest(
        directory,
        status="complete",
        runs_stored=writer.rows_written,
        runs_failed=n_failed,
        wall_s=round(wall, 3),
    )
    return SweepResult(directory, axes, len(plan), n_failed, wall, dashboard)

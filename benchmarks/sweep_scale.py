"""Sweep throughput and driver memory, measured side by side in one process run.

For a sweep of N runs it measures, on this machine:
  kernel-only   the same runs executed back to back in this process (no Dask, no Parquet);
                ideal wall time = kernel-only time / worker threads
  segmark       the full sweep on a LocalCluster: plan, schedule, workers writing Parquet
and reports throughput as a fraction of the ideal, the driver's peak memory (RSS high-water mark
of this process, which is the driver; the kernel-only timing runs in a child process) and the
files written. Ratios only; machines are noisy.

  python benchmarks/sweep_scale.py --runs 10000                # the default model
  python benchmarks/sweep_scale.py --runs 1000000 --trivial    # a one-step, two-region model
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from segmark.pipeline import cli  # noqa: F401  (registers the config schema)
from segmark.pipeline import sweep as sweeps
from segmark.pipeline.driver import run_sweep
from segmark.pipeline.run import run_one
from segmark.pipeline.schedule import connect, total_threads

TRIVIAL = (
    "model.network=ring",
    "model.n_regions=2",
    "model.n_goods=1",
    "model.n_steps=1",
    "model.sample_every=1",
)


def config(runs: int, trivial: bool, root: Path):
    points = 100
    overrides = [
        f"sweep.axes.policy.permit_strictness=${{linspace:0,1,{points}}}",
        f"sweep.replicates={max(1, runs // points)}",
        "progress=false",
        "cluster.dashboard_address=127.0.0.1:0",
        f"storage.root={root}",
        "storage.dataset=bench",
        *(TRIVIAL if trivial else ()),
    ]
    with initialize_config_module(config_module="segmark.conf", version_base="1.3"):
        return OmegaConf.to_object(compose(config_name="config", overrides=overrides))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--trivial", action="store_true")
    parser.add_argument("--kernel-sample", type=int, default=500, help="runs timed kernel-only")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-compact", action="store_true", help="keep the per-task parts")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        cfg = config(args.runs, args.trivial, Path(tmp))
        if args.no_compact:
            cfg.storage.compact_mb = 0.0
        _, plan = sweeps.plan(cfg)
        rss_after_plan = peak_rss_mb()
        picks = np.random.default_rng(0).choice(len(plan), min(args.kernel_sample, len(plan)))
        rows = plan.rows(np.sort(picks)).to_dict("records")
        del plan
        # Kernel-only timing in a child process, so the driver's memory is the sweep's alone.
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            kernel_per_run = pool.submit(time_kernel, rows).result()
        # The same runs in as many processes as there will be workers, at once: how much the
        # machine itself slows runs that share it (not segmark's overhead).
        n_parallel = cfg.cluster.n_workers or os.cpu_count() or 1
        with ProcessPoolExecutor(n_parallel, mp_context=spawn) as pool:
            shared = [pool.submit(time_kernel, rows) for _ in range(n_parallel)]
            parallel_per_run = sum(f.result() for f in shared) / n_parallel
        del rows

        with connect(cfg.cluster) as client:
            workers = total_threads(client)
            client.run(run_one, {**_first_row(cfg)})  # every worker compiles/loads first
            started = time.perf_counter()
            result = run_sweep(cfg, echo=lambda _: None, client=client)
            wall = time.perf_counter() - started
        files = sum(1 for _ in (result.directory).rglob("part-*.parquet"))

    ideal = kernel_per_run * result.n_runs / workers
    report = {
        "runs": result.n_runs,
        "model": "trivial (2 regions, 1 good, 1 step)" if args.trivial else "default",
        "workers": workers,
        "kernel_ms_per_run": round(kernel_per_run * 1000, 4),
        "kernel_ms_per_run_all_cores_busy": round(parallel_per_run * 1000, 4),
        "ideal_wall_s": round(ideal, 2),
        "segmark_wall_s": round(wall, 2),
        "fraction_of_ideal": round(ideal / wall, 3),
        "driver_peak_rss_mb": round(peak_rss_mb(), 1),
        "driver_rss_after_plan_mb": round(rss_after_plan, 1),
        "parquet_files": files,
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


def time_kernel(rows: list[dict]) -> float:
    """Seconds per run for ``rows`` run back to back in this process, after one warm-up."""
    run_one(rows[0])  # compile or load the kernel
    started = time.perf_counter()
    for row in rows:
        run_one(row)
    return (time.perf_counter() - started) / len(rows)


def _first_row(cfg) -> dict:
    return sweeps.plan(cfg)[1].rows(slice(0, 1)).iloc[0].to_dict()


if __name__ == "__main__":
    sys.exit(main())

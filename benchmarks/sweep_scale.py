"""Scale: segmark end to end from 10^3 to 10^6 runs, each size in a fresh process.

For each size it runs the whole sweep (plan, LocalCluster, workers writing Parquet, compaction)
in a new Python process, so the driver's peak memory (the RSS high-water mark of the process
that runs segmark, which also hosts the Dask scheduler) is that size's alone, and reports wall
time, runs per second, peak and start-up memory, and the Parquet files written (before and after
compaction). The trivial model (2 regions, 1 good, 1 step) makes runs cost ~0.2 ms, so the
curve is the engine's own.

    .venv/bin/python -m benchmarks.sweep_scale --trivial --runs 1000 10000 100000 1000000
    .venv/bin/python -m benchmarks.sweep_scale --runs 2000        # the default model
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.dataset as ds

from benchmarks.common import HERE, peak_rss_mb, sweep_config, table, write_json
from segmark.models.nk import MODEL
from segmark.pipeline import sweep as sweeps
from segmark.pipeline.driver import run_sweep
from segmark.pipeline.run import run_one
from segmark.pipeline.schedule import connect, total_threads
from segmark.pipeline.store import SUMMARY_DIR


def segmark_sweep(runs: int, trivial: bool, root: Path) -> dict:
    """One sweep of ``runs`` runs into ``root`` on a fresh LocalCluster whose workers have loaded
    the kernel; the clock covers run_sweep (plan, schedule, store, verify, compact)."""
    rss_start = peak_rss_mb()
    cfg = sweep_config(runs, trivial, root)
    first = sweeps.plan(cfg, MODEL)[1].rows(slice(0, 1)).iloc[0].to_dict()
    lines: list[str] = []
    with connect(cfg.cluster) as client:
        workers = total_threads(client)
        client.run(run_one, MODEL, first)  # every worker compiles or loads the kernel first
        rss_ready = peak_rss_mb()
        started = time.perf_counter()
        result = run_sweep(cfg, echo=lines.append, client=client)
        wall = time.perf_counter() - started
    rss_peak = peak_rss_mb()  # before this process reads anything back
    compacted = [re.findall(r"\d+", line) for line in lines if line.startswith("compacted")]
    files = sum(1 for _ in result.directory.rglob("part-*.parquet"))
    # the runs' own time as the workers measured it (elapsed_s): the rest of the workers' time
    # is segmark's (batches, Parquet, Dask) or idle
    summary = ds.dataset(result.directory / SUMMARY_DIR, format="parquet")
    run_s = pc.sum(summary.to_table(columns=["elapsed_s"]).column("elapsed_s")).as_py()
    return {
        "runs": result.n_runs,
        "failed": result.n_failed,
        "workers": workers,
        "wall_s": wall,
        "runs_per_s": result.n_runs / wall,
        "driver_peak_rss_mb": rss_peak,
        "driver_rss_at_start_mb": rss_start,
        "driver_rss_cluster_ready_mb": rss_ready,
        "parts_written": int(compacted[0][0]) if compacted else files // 2,
        "run_ms_in_workers": run_s / result.n_runs * 1e3,
        "workers_busy_with_runs": run_s / (wall * workers),
        "parquet_files": files,
    }


def fresh_process(runs: int, trivial: bool) -> dict:
    """``segmark_sweep`` in a new Python process (its own memory high-water mark)."""
    command = [sys.executable, "-m", "benchmarks.sweep_scale", "--one", str(runs)]
    done = subprocess.run(
        [*command, *(["--trivial"] if trivial else [])],
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def show(report: dict) -> str:
    header = ("runs", "wall s", "runs/s", "driver peak MB", "at start MB", "parts", "files")
    keys = ("runs", "wall_s", "runs_per_s", "driver_peak_rss_mb", "driver_rss_at_start_mb",
            "parts_written", "parquet_files")  # fmt: skip
    rows = [tuple(map(point.get, keys)) for point in report["curve"]]
    return f"segmark end to end, {report['model']} model\n" + table(rows, header)


def main(argv: list[str] | None = None) -> dict | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--trivial", action="store_true")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child: one size
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.one:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(segmark_sweep(args.one, args.trivial, Path(tmp))))
        return None
    model = "trivial (2 regions, 1 good, 1 step)" if args.trivial else "default"
    report = {"model": model, "curve": [fresh_process(n, args.trivial) for n in args.runs]}
    print(show(report))
    write_json(args.json, report)
    return report


if __name__ == "__main__":
    main()

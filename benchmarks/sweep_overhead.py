"""Sweep overhead: segmark against the drivers users would use instead, on the same runs.

One sweep (100 permit-strictness points x replicates) is planned once; its run table is what
every driver runs, each in a fresh process and each with its workers already holding the kernel:
  kernel alone   the runs back to back in one process, no driver: ideal = its time / workers
  segmark        run_sweep on a LocalCluster, workers writing Parquet, verified and compacted
  Pool           multiprocessing.Pool.map over the rows, results collected in the driver
  EMA Workbench  MultiprocessingEvaluator, one Scenario per run, results collected
  Hydra          multirun with the basic launcher, one job (and directory) per run, sequential
and reports each driver's per-run overhead, (wall - ideal) / runs, and its throughput as a
fraction of the ideal. The kernel alone, in one process and in one process per worker at once
("busy kernel"), is timed again after every driver, and each driver's references are the
means of the timings just before and after it. Each driver's runs also time themselves where
they run (perf_counter around each run), so a second overhead, (wall - own run seconds /
workers) / runs, needs no reference: it is what the driver adds beyond its runs as they ran,
immune to this machine's speed drifting between a reference and the driver (the kernel alone
has taken 0.097 and 0.185 ms a run minutes apart), blind to a driver slowing its own runs.
With the trivial model (--trivial, ~0.2 ms a run) the overhead is measured directly; with the
default model (~120 ms a run) the fraction of ideal is what counts. With --repeats R every
driver runs R times, the order reversed every other time, and each number is the median.
Hydra runs a smaller sample of the runs (--hydra-runs): it is sequential and slow per job.

    .venv/bin/python -m benchmarks.sweep_overhead --runs 2000
    .venv/bin/python -m benchmarks.sweep_overhead --runs 20000 --trivial --hydra-runs 500
    .venv/bin/python -m benchmarks.sweep_overhead --runs 10000 --drivers segmark pool --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import HERE, sweep_config, table, write_json
from benchmarks.peers.runs import load_rows, run, save_rows
from segmark.models.nk import MODEL
from segmark.pipeline import sweep as sweeps

DRIVERS = ("segmark", "pool", "ema", "hydra")
LABELS = {
    "kernel": "kernel alone (1 process)",
    "kernel_busy": "kernel alone, all cores busy",
    "segmark": "segmark (Dask, Parquet)",
    "pool": "multiprocessing.Pool",
    "ema": "EMA Workbench",
    "hydra": "Hydra multirun (basic)",
}


def time_kernel(rows: str) -> dict[str, float]:
    """The rows run back to back in this process after one warm-up run."""
    todo = load_rows(rows)
    run(todo[0])
    start = time.perf_counter()
    for row in todo:
        run(row)
    wall = time.perf_counter() - start
    return {"wall_s": wall, "runs": len(todo), "processes": 1}


def drive(driver: str, rows: str, workers: int, trivial: bool, out: Path) -> dict:
    """One driver on the rows; runs in a fresh process (see ``child``)."""
    if driver == "kernel":
        return time_kernel(rows)
    if driver == "segmark":
        from benchmarks.sweep_scale import segmark_sweep

        result = segmark_sweep(len(load_rows(rows)), trivial, out)
        keep = ("wall_s", "runs", "run_ms_in_workers", "workers_busy_with_runs")
        run_s = result["run_ms_in_workers"] / 1e3 * result["runs"]
        return {"processes": workers, "run_s": run_s, **{key: result[key] for key in keep}}
    if driver == "pool":
        from benchmarks.peers import pool

        return pool.drive(rows, workers)
    if driver == "ema":
        try:
            from benchmarks.peers import ema
        except ImportError:
            return {"skipped": "EMA Workbench is not installed: pip install -e '.[bench]'"}
        return ema.drive(rows, workers)
    if driver == "hydra":
        from benchmarks.peers import hydra_app

        return hydra_app.drive(rows, workers, out)
    raise ValueError(driver)


def child(driver: str, rows: Path, workers: int, trivial: bool, out: Path, copies: int = 1):
    """``drive`` in a fresh process; ``copies`` processes at once give a list of results."""
    command = [sys.executable, "-m", "benchmarks.sweep_overhead", "--driver", driver,
               "--rows", str(rows), "--workers", str(workers), "--out", str(out),
               *(["--trivial"] if trivial else [])]  # fmt: skip
    started = [
        subprocess.Popen(command, cwd=HERE.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(copies)
    ]
    results = []
    for process in started:
        stdout, stderr = process.communicate()
        if process.returncode:
            lines = stderr.decode().strip().splitlines()
            results.append({"skipped": f"failed: {lines[-1] if lines else process.returncode}"})
        else:
            results.append(json.loads(stdout.decode().strip().splitlines()[-1]))
    return results if copies > 1 else results[0]


def measure(
    runs: int, trivial: bool, hydra_runs: int, kernel_sample: int, drivers, repeats: int = 1
) -> dict:
    """Every driver ``repeats`` times, in alternating order (forward, then backward), each with
    the kernel timed alone and on all cores just before and after it; a driver's numbers are
    the medians over its repeats."""
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        cfg = sweep_config(runs, trivial, tmp / "unused")
        plan = sweeps.plan(cfg, MODEL)[1]
        workers = cfg.cluster.n_workers or os.cpu_count() or 1
        rows = plan.rows().to_dict("records")
        save_rows(rows, tmp / "rows.pkl")
        # the kernel's time per run, from an evenly spread sample (all runs of a cheap model)
        step = 1 if trivial else max(1, len(rows) // kernel_sample)
        save_rows(rows[::step], tmp / "sample.pkl")
        save_rows(rows[:: max(1, len(rows) // hydra_runs)][:hydra_runs], tmp / "hydra.pkl")
        del rows, plan
        kernel = child("kernel", tmp / "sample.pkl", workers, trivial, tmp)
        kernel_ms = [kernel["wall_s"] / kernel["runs"] * 1e3]

        def busy_ms() -> float:
            """The same, in one process per worker at once: how much a machine with every core
            busy slows the runs themselves (shared caches, memory bandwidth, each vCPU's own
            speed), no driver involved."""
            busy = child("kernel", tmp / "sample.pkl", workers, trivial, tmp, copies=workers)
            return sum(r["wall_s"] / r["runs"] for r in busy) / workers * 1e3

        busy_ms_each = [busy_ms()]
        n = len(load_rows(str(tmp / "rows.pkl")))
        each: dict[str, list[dict]] = {driver: [] for driver in drivers}
        for repeat in range(repeats):
            for driver in drivers if repeat % 2 == 0 else drivers[::-1]:
                if any("skipped" in r for r in each[driver]):
                    continue
                rows_file = tmp / ("hydra.pkl" if driver == "hydra" else "rows.pkl")
                out = tmp / f"{driver}-{repeat}"
                out.mkdir()
                result = child(driver, rows_file, workers, trivial, out)
                each[driver].append(result)
                if "skipped" in result:
                    continue
                # the kernel alone again, on one core and on all: each driver's references are
                # the means of the timings just before and just after it, so a machine that
                # speeds up or slows down over the benchmark's minutes (it does, by 10% and
                # more) moves the driver and its references together
                again = child("kernel", tmp / "sample.pkl", workers, trivial, tmp)
                kernel_ms.append(again["wall_s"] / again["runs"] * 1e3)
                busy_ms_each.append(busy_ms())
                result["kernel_ms_per_run"] = (kernel_ms[-2] + kernel_ms[-1]) / 2
                result["busy_kernel_ms_per_run"] = (busy_ms_each[-2] + busy_ms_each[-1]) / 2
                score(result, workers)
    kernel_median = statistics.median(kernel_ms)
    results = _results(kernel_median, statistics.median(busy_ms_each), n, workers, each)
    return {
        "model": "trivial (2 regions, 1 good, 1 step)" if trivial else "default",
        "workers": workers,
        "repeats": repeats,
        "kernel_ms_per_run": kernel_median,
        "kernel_ms_per_run_each_timing": kernel_ms,
        "kernel_ms_per_run_all_cores_busy": statistics.median(busy_ms_each),
        "kernel_ms_per_run_all_cores_busy_each_timing": busy_ms_each,
        "kernel_sample_runs": kernel["runs"],
        "drivers": results,
    }


def _results(
    kernel_median: float, busy_median: float, n: int, workers: int, each: dict[str, list[dict]]
) -> dict[str, dict]:
    """The kernel's references and each driver's median result, with overheads relative to
    segmark's."""
    results: dict[str, dict] = {
        "kernel": {
            "runs": n,
            "processes": 1,
            "wall_s": kernel_median / 1e3 * n,
            "kernel_ms_per_run": kernel_median,
        },
        "kernel_busy": {
            "runs": n,
            "processes": workers,
            "wall_s": busy_median / 1e3 * n / workers,
            "kernel_ms_per_run": kernel_median,
            "busy_kernel_ms_per_run": busy_median,
        },
    }
    for name in ("kernel", "kernel_busy"):
        score(results[name], workers, overhead=name != "kernel")
    for driver, done in each.items():
        results[driver] = median_result(done)
    for key in ("overhead_ms_per_run", "own_overhead_ms_per_run"):
        own = results.get("segmark", {}).get(key)
        for result in results.values():
            if own and own > 0 and key in result:
                result[key.replace("_ms_per_run", "_vs_segmark")] = result[key] / own
    return results


def score(result: dict, workers: int, overhead: bool = True) -> None:
    """Adds the ideal (the kernel alone, over ``workers``), the fractions of it and of the
    busy kernel, and the overhead per run to a timed result."""
    ideal = result["kernel_ms_per_run"] / 1e3 * result["runs"] / workers
    result["ideal_s"] = ideal
    result["fraction_of_ideal"] = ideal / result["wall_s"]
    if result["processes"] == workers:  # against the runs alone on every core at once
        busy = result["busy_kernel_ms_per_run"] / 1e3
        result["fraction_of_busy_kernel"] = busy * result["runs"] / workers / result["wall_s"]
    if overhead:
        result["overhead_ms_per_run"] = (result["wall_s"] - ideal) / result["runs"] * 1e3
        if "run_s" in result:  # against the runs' own time where they ran: no reference timing
            own_ideal = result["run_s"] / result["processes"]
            result["own_overhead_ms_per_run"] = (
                (result["wall_s"] - own_ideal) / result["runs"] * 1e3
            )


def median_result(done: list[dict]) -> dict:
    """One driver's repeats as one result: each number the median over the repeats, and the
    repeats themselves under ``each_repeat`` (a skipped driver: its reason)."""
    if len(done) == 1 or "skipped" in done[-1]:
        return done[-1]
    merged: dict = {}
    for key, value in done[0].items():
        values = [r[key] for r in done if isinstance(r.get(key), (int, float))]
        merged[key] = statistics.median(values) if len(values) == len(done) else value
    merged["each_repeat"] = done
    return merged


def show(report: dict) -> str:
    header = ("driver", "runs", "procs", "wall s", "ideal s", "of ideal", "of busy kernel",
              "overhead ms/run", "× segmark", "beyond own runs ms/run", "× segmark")  # fmt: skip
    keys = ("runs", "processes", "wall_s", "ideal_s", "fraction_of_ideal",
            "fraction_of_busy_kernel", "overhead_ms_per_run", "overhead_vs_segmark",
            "own_overhead_ms_per_run", "own_overhead_vs_segmark")  # fmt: skip
    rows = []
    for name, r in report["drivers"].items():
        if "skipped" in r:
            rows.append((LABELS[name], None, None, r["skipped"], *[None] * 7))
        else:
            rows.append((LABELS[name], *map(r.get, keys)))

    def timings(key: str) -> str:
        return ", ".join(f"{ms:.3g}" for ms in report[key])

    repeats = report.get("repeats", 1)
    title = (
        f"sweep overhead, {report['model']} model"
        + (f", medians of {repeats} repeats (order alternated)" if repeats > 1 else "")
        + f": kernel {report['kernel_ms_per_run']:.3g} "
        f"ms/run (median of {len(report['kernel_ms_per_run_each_timing'])} timings of "
        f"{report['kernel_sample_runs']} runs, before and after each driver: "
        f"{timings('kernel_ms_per_run_each_timing')}; with all cores busy: "
        f"{timings('kernel_ms_per_run_all_cores_busy_each_timing')}), {report['workers']} workers"
    )
    lines = [title, table(rows, header)]
    for name, r in report["drivers"].items():
        if len(r.get("each_repeat", [])) > 1:
            of_ideal = ", ".join(f"{e['fraction_of_ideal']:.3f}" for e in r["each_repeat"])
            lines.append(f"{LABELS[name]}, of ideal in each repeat: {of_ideal}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--trivial", action="store_true")
    parser.add_argument("--hydra-runs", type=int, default=200, help="runs Hydra drives")
    parser.add_argument(
        "--kernel-sample", type=int, default=300, help="runs timed alone (default model)"
    )
    parser.add_argument("--drivers", nargs="+", choices=DRIVERS, default=list(DRIVERS))
    parser.add_argument(
        "--repeats", type=int, default=1, help="times each driver runs (medians reported)"
    )
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--driver", help=argparse.SUPPRESS)  # a child: one driver
    parser.add_argument("--rows", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.driver:
        result = drive(args.driver, args.rows, args.workers, args.trivial, args.out)
        print(json.dumps(result))
        return None
    if args.repeats < 1:
        parser.error(f"--repeats = {args.repeats}: allowed is an integer >= 1")
    report = measure(
        args.runs, args.trivial, args.hydra_runs, args.kernel_sample, args.drivers, args.repeats
    )
    print(show(report))
    write_json(args.json, report)
    return report


if __name__ == "__main__":
    main()

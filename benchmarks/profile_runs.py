"""Where a short run's time goes: pyinstrument profiles of a worker's batch and of the driver.

batch   run_batch (the worker's side of a task) on trivial runs, in this process
driver  run_sweep of trivial runs on a LocalCluster: the driver's own work (planning,
        building batches, submitting, verifying, compacting) beside its waiting
pieces  the pieces of a trivial run timed alone (min of 3): what the batch adds to run_one

  .venv/bin/python -m benchmarks.profile_runs batch --runs 5000
  .venv/bin/python -m benchmarks.profile_runs driver --runs 100000
  .venv/bin/python -m benchmarks.profile_runs pieces
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from numba import njit

from benchmarks.common import sweep_config
from segmark.kernels import market
from segmark.kernels.goods import table
from segmark.kernels.parameters import PARAMETERS
from segmark.models.nk import MODEL, networks
from segmark.pipeline import sweep as sweeps
from segmark.pipeline.driver import run_sweep
from segmark.pipeline.run import run_batch, run_one
from segmark.pipeline.schedule import connect


@njit(nogil=True, error_model="numpy")
def noise_table(normal_table: np.ndarray, level: float, out: np.ndarray) -> None:
    """The kernel's weekly-noise table, as ``_simulate`` builds it at the start of every run."""
    total = 0.0
    for j in range(normal_table.shape[0]):
        out[j] = np.exp(level * normal_table[j])
        total += out[j]
    for j in range(normal_table.shape[0]):
        out[j] *= normal_table.shape[0] / total


def kernel_vector(row: dict) -> np.ndarray:
    """The kernel's parameter vector from a run-table row, as the nk model builds it."""
    return np.array([row[p.column] for p in PARAMETERS], dtype=np.float64)


def _profiler():
    try:
        from pyinstrument import Profiler
    except ImportError as error:
        raise SystemExit("pyinstrument is not installed: pip install -e '.[bench]'") from error
    return Profiler(interval=0.0005)


def batch(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows = sweeps.plan(sweep_config(runs, True, Path(tmp)), MODEL)[1].rows()
    run_batch(MODEL, rows.head(2))  # load the kernel
    profiler = _profiler()
    with profiler:
        run_batch(MODEL, rows)
    print(profiler.output_text(color=False))


def driver(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = sweep_config(runs, True, Path(tmp))
        first = sweeps.plan(cfg, MODEL)[1].rows(slice(0, 1)).iloc[0].to_dict()
        with connect(cfg.cluster) as client:
            client.run(run_one, MODEL, first)
            profiler = _profiler()
            with profiler:
                run_sweep(cfg, echo=lambda _: None, client=client)
    print(profiler.output_text(color=False))


def pieces(runs: int = 5000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        frame = sweeps.plan(sweep_config(runs, True, Path(tmp)), MODEL)[1].rows()
    rows = frame.to_dict("records")
    net, goods = networks.build("ring", 2), table(1)
    params = kernel_vector(rows[0])
    run_batch(MODEL, frame.head(2))
    out = np.empty(market.NORMAL_TABLE.shape[0])
    noise_table(market.NORMAL_TABLE, 0.05, out)

    def per_run(fn) -> float:
        best = np.inf
        for _ in range(3):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        return best / len(rows) * 1e6

    seeds = range(len(rows))

    def landscape(seed: int) -> market.Landscape:
        return market.draw_landscape(net, goods, 0.5, np.random.default_rng(seed))

    timings = {
        "run_batch (a worker's batch, all of it)": lambda: run_batch(MODEL, frame),
        "run_one (the model's simulate and its wrapper)": lambda: [run_one(MODEL, r) for r in rows],
        "market.simulate alone": lambda: [market.simulate(net, params, i, 1, 1, 1) for i in seeds],
        "draw_landscape + seeded Generator": lambda: [landscape(i) for i in seeds],
        "DataFrame.to_dict('records')": lambda: frame.to_dict("records"),
        "the kernel's parameter vector from a row": lambda: [kernel_vector(r) for r in rows],
        "the kernel's noise table (4096 exp)": lambda: [
            noise_table(market.NORMAL_TABLE, 0.05, out) for _ in seeds
        ],
    }
    for name, fn in timings.items():
        print(f"{name:<45} {per_run(fn):8.1f} µs/run")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("batch", "driver", "pieces"))
    parser.add_argument("--runs", type=int, default=5000)
    args = parser.parse_args(argv)
    {"batch": batch, "driver": driver, "pieces": pieces}[args.what](args.runs)


if __name__ == "__main__":
    main()

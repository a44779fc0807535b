"""A ``multiprocessing.Pool`` driving the sweep's runs: ``pool.map`` over the rows, results
collected in the driver (nothing written to disk)."""

from __future__ import annotations

import time
from multiprocessing import Pool

from benchmarks.peers.runs import load_rows, run, timed_run


def _warm(rows: str) -> None:
    run(load_rows(rows)[0])  # each worker loads the kernel before the clock starts


def drive(rows: str, workers: int) -> dict[str, float]:
    todo = load_rows(rows)
    with Pool(workers, initializer=_warm, initargs=(rows,)) as pool:
        pool.map(run, todo[: 2 * workers], chunksize=1)
        start = time.perf_counter()
        results = pool.map(timed_run, todo)
        wall = time.perf_counter() - start
    assert len(results) == len(todo)
    run_s = sum(seconds for _, _, seconds in results)
    return {"wall_s": wall, "runs": len(todo), "processes": workers, "run_s": run_s}

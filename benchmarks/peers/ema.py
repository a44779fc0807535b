"""EMA Workbench's ``MultiprocessingEvaluator`` driving the sweep's runs.

The model function takes a run's index (an ``IntegerParameter``) and the rows file (a
``Constant``) and returns the run's outcomes as ``ScalarOutcome``s and its series as an
``ArrayOutcome``; one ``Scenario`` per run, so EMA performs exactly segmark's runs. Its results
are collected in memory (nothing written to disk).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from benchmarks.peers.runs import load_rows, timed_run
from segmark.kernels import market


def segmark_model(index: int, rows: str) -> dict[str, Any]:
    outcomes, series, seconds = timed_run(load_rows(rows)[index])
    values = dict(zip(market.OUTCOMES, outcomes.tolist(), strict=True))
    return {**values, "series": series, "run_seconds": seconds}


def drive(rows: str, workers: int) -> dict[str, float]:
    from ema_workbench import (
        ArrayOutcome,
        Constant,
        IntegerParameter,
        Model,
        MultiprocessingEvaluator,
        ScalarOutcome,
        Scenario,
    )

    logging.getLogger("EMA").setLevel(logging.WARNING)
    n = len(load_rows(rows))
    model = Model("segmark", function=segmark_model)
    model.uncertainties = [IntegerParameter("index", 0, max(n - 1, 1))]
    model.constants = [Constant("rows", rows)]
    model.outcomes = [ScalarOutcome(name) for name in (*market.OUTCOMES, "run_seconds")] + [
        ArrayOutcome("series")
    ]
    with MultiprocessingEvaluator(model, n_processes=workers) as evaluator:
        # a first batch loads the kernel in every worker before the clock starts
        evaluator.perform_experiments(scenarios=[Scenario(index=i) for i in range(2 * workers)])
        start = time.perf_counter()
        experiments, outcomes = evaluator.perform_experiments(
            scenarios=[Scenario(index=i) for i in range(n)]
        )
        wall = time.perf_counter() - start
    assert len(experiments) == n
    run_s = float(outcomes["run_seconds"].sum())
    return {"wall_s": wall, "runs": n, "processes": workers, "run_s": run_s}

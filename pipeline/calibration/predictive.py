"""The posterior predictive runs: every particle of the last population run once more with
fresh random numbers (the engine's replicate 1 of the same point; replicate 0 is the run the
particle was accepted on), stored as ``predictive.parquet`` beside the posterior: columns
``particle``, ``weight``, the parameters' columns and ``stat_<name>``. Weighted by the
particles' weights, their statistics are a sample of the posterior predictive distribution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from segmark.pipeline.calibration.smc import Population, Simulate
from segmark.pipeline.store import write_table_atomic

FILE = "predictive.parquet"
POPULATION = -1  # what ``simulate`` is told for the predictive runs


def run(
    last: Population,
    simulate: Simulate,
    directory: Path,
    columns: tuple[str, ...],
    statistics: tuple[str, ...],
) -> Path:
    """Simulate the predictive runs of ``last`` and store them; returns the file's path."""
    stats = np.asarray(simulate(POPULATION, 0, last.points), dtype=np.float64)
    data = {"particle": np.arange(len(last.weights), dtype=np.int32), "weight": last.weights}
    data.update({c: last.points[:, j] for j, c in enumerate(columns)})
    data.update({f"stat_{s}": stats[:, j] for j, s in enumerate(statistics)})
    path = Path(directory) / FILE
    write_table_atomic(pa.table(data), path, "zstd")
    return path

"""The run function every sweep peer drives: a run-table row in, the kernel's outputs out.

The rows are the segmark sweep's own run table (the same parameters and seeds), pickled once to
a file by the benchmark and read once per process, so each peer runs exactly segmark's runs
through ``pipeline.run.run_one`` (the nk model) and differs only in how it schedules them and
collects results.
"""

from __future__ import annotations

import pickle
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from segmark.models.nk import MODEL
from segmark.pipeline.run import run_one


def save_rows(rows: list[dict[str, Any]], path: Path) -> None:
    path.write_bytes(pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL))


@lru_cache(maxsize=2)
def load_rows(path: str) -> list[dict[str, Any]]:
    return pickle.loads(Path(path).read_bytes())


def run(row: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """One run: (outcomes, sampled series), what a peer collects."""
    sim = run_one(MODEL, row)
    return sim.outcomes, sim.series


def timed_run(row: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, float]:
    """``run`` and the seconds it took where it ran (a driver's runs timed in place)."""
    start = time.perf_counter()
    outcomes, series = run(row)
    return outcomes, series, time.perf_counter() - start


def run_index(rows: str, index: int) -> tuple[np.ndarray, np.ndarray]:
    return run(load_rows(rows)[index])

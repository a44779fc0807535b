"""Batches of runs sized to a target of work per task, so thousands of short runs never become
thousands of tasks and the last tasks are short enough for the workers to finish together."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from segmark.pipeline.sweep import RunTable, Shipment

MAX_BATCH = 10_000
TAPER_FLOOR = 50  # the last tasks hold at least task_seconds / TAPER_FLOOR of work
PRIOR_SHARE = 5  # until a receipt, tasks hold task_seconds / PRIOR_SHARE of estimated work


class Batcher:
    """Slices the runs still to do into batches, made into shipments (``RunTable.shipment``)
    only when a task is submitted. With a fixed size it is a plain splitter; with size 0 it
    sizes batches to about ``task_seconds`` of work, so thousands of short runs never become
    thousands of tasks: first from ``prior_seconds`` (a run's cost estimated from its size,
    ``estimates.run_seconds``), then from the run times the receipts report."""

    def __init__(
        self,
        table: RunTable,
        todo: np.ndarray,
        fixed_size: int,
        task_seconds: float,
        workers: int,
        prior_seconds: float,
    ):
        self.table = table
        self.todo = todo
        self.fixed_size = fixed_size
        self.task_seconds = task_seconds
        self.workers = workers
        self.position = 0
        self.run_seconds = prior_seconds
        self.measured = False

    @property
    def size(self) -> int:
        if self.fixed_size:
            return self.fixed_size
        per_run = max(self.run_seconds, 1e-6)
        wanted = round(self.task_seconds / per_run)
        if not self.measured:  # a prior several times too low must cost seconds, not minutes
            wanted = round(self.task_seconds / PRIOR_SHARE / per_run)
        # tapered towards the end (guided self-scheduling): at most half a worker's share of
        # the runs not yet submitted, so the last tasks are short and the workers finish
        # together; never below task_seconds / TAPER_FLOOR (0.1 s of the default 5 s), where a
        # task's fixed costs (its rows, two Parquet parts, the scheduler's round trip: about
        # 15 ms) would start to count
        share = math.ceil((len(self.todo) - self.position) / (2 * self.workers))
        floor = round(self.task_seconds / TAPER_FLOOR / per_run)
        return max(1, min(wanted, max(share, floor), MAX_BATCH))

    def observe(self, n_runs: int, run_seconds: float) -> None:
        """Fold a receipt's mean run time into the running estimate: the first replaces the
        prior, later a lower mean is taken at once (a worker's first runs also load the
        kernel, seconds that never come again), a higher one smoothed."""
        if n_runs:
            mean = run_seconds / n_runs
            if not self.measured or mean < self.run_seconds:
                self.run_seconds = mean
            else:
                self.run_seconds = 0.7 * self.run_seconds + 0.3 * mean
            self.measured = True

    def __iter__(self) -> Iterator[Shipment]:
        while self.position < len(self.todo):
            index = self.todo[self.position : self.position + self.size]
            self.position += len(index)
            yield self.table.shipment(index)

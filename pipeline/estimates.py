"""Run-time estimates before any run was timed: the prior that sizes a sweep's first tasks.

The model's ``estimate_seconds(params)`` guesses a run's cost from its parameters (the ``nk``
model: weeks x goods x nodes and links). The first receipts replace the estimate, so it only
has to be within a few times of the truth. A model that gives none is assumed slow: its first
tasks hold one run each until the workers report how long runs take.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmark.models.interface import Model

UNKNOWN_RUN_SECONDS = 1.0


def run_seconds(model: Model, points: pd.DataFrame) -> np.ndarray:
    """The estimated seconds of one run at each design point (rows of ``RunTable.points``)."""
    if model.estimate_seconds is None:
        return np.full(len(points), UNKNOWN_RUN_SECONDS)
    names = {p.column: p.name for p in model.parameters}
    rows = points.rename(columns=names).to_dict("records")
    return np.array([float(model.estimate_seconds(row)) for row in rows])

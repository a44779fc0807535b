"""What a run is expected to cost before any has been timed: a prior for sizing the first tasks.

A run's work grows with weeks x goods x (nodes + links); its set-up (parameters, network
lookup, landscape draws) is a fixed cost. The constants are rough on purpose: the first
receipts replace the estimate, so it only has to be within a few times of the truth, and it
needs nothing the driver would have to build (the NK network takes 0.4 s to assemble).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RUN_SETUP_SECONDS = 1e-4  # a 1-week run of 2 regions: 0.09-0.16 ms (benchmarks/sweep_overhead)
UNIT_WEEK_SECONDS = 3e-8  # per (node·good + link·good) per week: 20-33 ns (benchmarks/kernel_speed)
LINKS_PER_NODE = 3.0  # NK: 534 links over 179 units; synthetic networks 1 (ring) to 3.5
NK_NODES = 179  # the county/city units of kernels/data/oad_county_centroids.csv


def run_seconds(points: pd.DataFrame) -> np.ndarray:
    """The estimated seconds of one run at each design point (rows of ``RunTable.points``)."""
    nodes = np.where(
        points["model_network"].to_numpy() == "nk",
        NK_NODES,
        points["model_n_regions"].to_numpy(dtype=np.float64),
    )
    units = nodes * (1.0 + LINKS_PER_NODE) * points["model_n_goods"].to_numpy(dtype=np.float64)
    weeks = points["model_n_steps"].to_numpy(dtype=np.float64)
    return RUN_SETUP_SECONDS + UNIT_WEEK_SECONDS * units * weeks

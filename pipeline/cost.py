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
NK_NODES = 179  # the county/city units of kernels/data/oad_county_centroids.csv
NK_LINKS_PER_NODE = 3.0  # 534 links over 179 units
# links per node of the synthetic networks: a ring 1, a grid about 2, a random geometric
# network about 0.6 x model.neighbours (1,000 regions: 2,428 links with 4, 3,533 with 6)
GEOMETRIC_LINKS_PER_NEIGHBOUR = 0.6


def run_seconds(points: pd.DataFrame) -> np.ndarray:
    """The estimated seconds of one run at each design point (rows of ``RunTable.points``)."""
    kind = points["model_network"].to_numpy()
    regions = points["model_n_regions"].to_numpy(dtype=np.float64)
    neighbours = points["model_neighbours"].to_numpy(dtype=np.float64)
    nodes = np.where(kind == "nk", NK_NODES, regions)
    links_per_node = np.select(
        [kind == "nk", kind == "geometric", kind == "grid"],
        [NK_LINKS_PER_NODE, GEOMETRIC_LINKS_PER_NEIGHBOUR * neighbours, 2.0],
        1.0,  # ring
    )
    units = nodes * (1.0 + links_per_node) * points["model_n_goods"].to_numpy(dtype=np.float64)
    weeks = points["model_n_steps"].to_numpy(dtype=np.float64)
    return RUN_SETUP_SECONDS + UNIT_WEEK_SECONDS * units * weeks

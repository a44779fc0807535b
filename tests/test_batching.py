"""Task sizes: the prior that sizes a sweep's first tasks from a run's size, and the batcher
that then sizes them from the run times workers report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import make_config

from segmark.kernels.nk import north_korea
from segmark.models.nk import MODEL as NK
from segmark.models.nk import networks
from segmark.pipeline import batching, estimates
from segmark.pipeline import sweep as sweeps
from segmark.pipeline.batching import Batcher


def test_batcher_sizes_tasks_from_run_times() -> None:
    cfg = make_config(
        "+preset=small",
        "sweep.axes.policy.permit_strictness=[0.0,0.4,0.8]",
        "sweep.replicates=1000",
    )
    table = sweeps.plan(cfg, NK)[1]
    todo = np.arange(len(table) // 3)  # the first 1000 runs still to do
    batcher = Batcher(table, todo, fixed_size=0, task_seconds=0.5, workers=2, prior_seconds=0.01)
    batches = iter(batcher)
    # from the prior, a fifth of a task: 0.1 s / 10 ms
    assert len(next(batches)) == round(0.5 / batching.PRIOR_SHARE / 0.01) == 10
    batcher.observe(10, 0.02)  # the first receipt replaces the prior: 2 ms a run
    assert batcher.run_seconds == 0.002
    batcher.observe(10, 0.01)  # 1 ms a run -> 500 runs make 0.5 s
    assert len(next(batches)) == 248  # half a worker's share of the 990 left
    sizes = [len(b) for b in batches]
    assert sum(sizes) == 1000 - 10 - 248
    # the end is tapered: each batch at most half a worker's share of what is left, but not
    # below task_seconds / TAPER_FLOOR of work (10 runs)
    floor = round(0.5 / batching.TAPER_FLOOR / 0.001)
    assert floor == 10
    left = 1000 - 10 - 248
    for size in sizes:
        assert size == min(500, max(-(-left // 4), floor), left)
        left -= size
    assert sizes[-2:] == [10, 10] and max(sizes) == 186
    too_low = Batcher(table, todo, fixed_size=0, task_seconds=0.5, workers=2, prior_seconds=1e-4)
    too_low.observe(2, 2.0)  # the first runs loaded the kernel: 1 s a run, taken as it is
    assert too_low.run_seconds == 1.0
    too_low.observe(4, 0.004)  # then 1 ms a run: believed at once
    assert too_low.run_seconds == 0.001
    too_low.observe(10, 0.02)  # slower runs count for 0.3
    assert too_low.run_seconds == pytest.approx(0.7 * 0.001 + 0.3 * 0.002)
    fixed = Batcher(table, todo, fixed_size=7, task_seconds=2.0, workers=2, prior_seconds=1.0)
    assert fixed.size == 7


def test_run_cost_prior_grows_with_a_run_s_size() -> None:
    """The prior that sizes the first tasks: the NK network's nodes and links it assumes are the
    network's, and its estimates grow with weeks, goods and nodes as the kernel's work does."""
    nk = north_korea()
    assert networks.NK_NODES == nk.n_nodes
    assert networks.NK_LINKS_PER_NODE == pytest.approx(nk.n_edges / nk.n_nodes, rel=0.01)
    points = pd.DataFrame(
        {
            "model_network": ["nk", "nk", "geometric", "geometric", "geometric"],
            "model_n_regions": [50, 50, 100, 400, 400],
            "model_neighbours": [4, 4, 4, 4, 12],
            "model_n_goods": [6, 6, 3, 3, 3],
            "model_n_steps": [520, 52, 52, 52, 52],
        }
    )
    seconds = estimates.run_seconds(NK, points)
    assert seconds[0] == pytest.approx(10 * seconds[1], rel=0.02)  # 10x the weeks
    assert seconds[3] == pytest.approx(4 * seconds[2], rel=0.05)  # 4x the nodes
    assert seconds[4] > 2 * seconds[3]  # 3x the neighbours: about 2.4x the units
    # a default run: about 88-140 us a week on this class of machine (benchmarks/kernel_speed)
    assert 0.02 < seconds[0] < 0.2

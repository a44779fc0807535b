"""The kernel benchmarks' tools: the phase profiler times every phase, the floor counts the
kernel's own passes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from segmark.kernels import arbitrage, market, network, outputs, phases

sys.path.insert(0, str(Path(__file__).parents[1]))  # benchmarks/ is not an installed package
from benchmarks import kernel_sections
from benchmarks.common import default_params


def test_every_phase_of_the_week_gets_its_cycles_and_the_numbers_stay() -> None:
    net, params = network.grid(9), default_params(phone_penetration=1.0)
    cycles = np.zeros(len(market.PHASES), dtype=np.int64)
    timed = kernel_sections.run(net, params, 3, 24, cycles)
    assert (cycles > 0).all()
    whole = market.simulate(net, params, 3, kernel_sections.K, 24, 4)
    assert_array_equal(timed.outcomes, whole.outcomes)
    assert_array_equal(timed.series, whole.series)


def test_the_floor_benchmark_sums_the_needed_passes_against_the_target() -> None:
    from benchmarks import kernel_floor

    result = kernel_floor.measure(rounds=1)
    assert result["units"] == 4278 and result["cells"] == 1074  # (179 + 534) x 6 goods
    assert result["budget_us_per_step"] == pytest.approx(5.0 * 4278 / 1000)
    us = result["pass_us"]
    assert result["floor_us_per_step"] == pytest.approx(
        us["production draw"] + us["log"] + us["exp"]
    )
    assert result["output_prices_us_per_output_week"] == pytest.approx(us["log"] + us["exp"])
    assert all(value > 0.0 for value in us.values())
    left = (result["budget_us_per_step"] - result["floor_us_per_step"]) * 1000 / (534 * 6)
    assert result["left_for_links_ns_per_edge_good"] == pytest.approx(left)
    assert result["kernel_us_per_step"] > result["floor_us_per_step"]
    assert "floor: the dynamics' passes" in kernel_floor.show(result)


def test_the_floor_counts_the_kernels_own_log_and_exp_passes() -> None:
    """The floor's passes are the weekly phases': if the kernel gains or loses a log or exp
    pass, kernel_floor's accounting must follow."""
    from benchmarks import kernel_floor

    source = "".join(Path(m.__file__).read_text() for m in (phases, arbitrage, outputs))
    passes = {"log": source.count("log_into("), "exp": source.count("exp_into(")}
    counted = {
        name: kernel_floor.DYNAMICS.get(name, 0) + kernel_floor.OUTPUTS.get(name, 0)
        for name in passes
    }
    assert passes == counted == {"log": 2, "exp": 2}
    assert source.count("draws.table_index(key_production") == 1  # the production draw

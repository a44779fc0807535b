"""The kernel benchmarks' source tools: the section profiler instruments every numbered section."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from segmark.kernels import market

sys.path.insert(0, str(Path(__file__).parents[1]))  # benchmarks/ is not an installed package
from benchmarks import kernel_sections


def test_every_numbered_section_of_the_weekly_loop_gets_a_cycle_reading() -> None:
    source, names = kernel_sections.instrumented_source(Path(market.__file__).read_text())
    ast.parse(source)  # still Python
    assert sorted(names) == list(range(14))  # the week's start and sections 1-13
    assert names[10] == "arbitrage" and names[12] == "local clearing"
    assert source.count("cycles[_section] +=") == 14
    assert "cache=True" not in source  # compiled afresh, never into the package's cache
    assert "from segmark.kernels import draws" in source and "from ." not in source


def test_a_kernel_without_its_section_comments_is_refused() -> None:
    source = Path(market.__file__).read_text()
    with pytest.raises(RuntimeError, match="no longer has the layout"):
        kernel_sections.instrumented_source(source.replace("        # 1", "        # x"))


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
    """The floor's passes are the weekly loop's: if the kernel gains or loses a log or exp pass,
    kernel_floor's accounting must follow."""
    from benchmarks import kernel_floor

    source = Path(market.__file__).read_text()
    loop = source[source.index("def _simulate(") : source.index("def _flood(")]
    passes = {"log": loop.count("log_into("), "exp": loop.count("exp_into(")}
    counted = {
        name: kernel_floor.DYNAMICS.get(name, 0) + kernel_floor.OUTPUTS.get(name, 0)
        for name in passes
    }
    assert passes == counted == {"log": 2, "exp": 2}
    assert loop.count("draws.table_index(key_production") == 1  # the production draw

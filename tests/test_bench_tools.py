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
    needed = kernel_floor.NEEDED
    assert needed == {"production draw": 1, "log": 2, "exp": 2}
    expected = sum(result["pass_us"][name] * count for name, count in needed.items())
    assert result["floor_us_per_step"] == pytest.approx(expected)
    assert all(us > 0.0 for us in result["pass_us"].values())
    left = (result["budget_us_per_step"] - result["floor_us_per_step"]) * 1000 / (534 * 6)
    assert result["left_for_links_ns_per_edge_good"] == pytest.approx(left)
    assert result["kernel_us_per_step"] > result["floor_us_per_step"]
    assert "floor: these passes" in kernel_floor.show(result)

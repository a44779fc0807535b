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

"""The finding paragraph and the tipping table on hand-made summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmark.models.nk import MODEL as NK
from segmark.pipeline.analysis.finding import axis_table, describe
from segmark.pipeline.analysis.stats import crossing_cells, first_crossing, wilson_interval


def summary(column: str, values: list, integrated: list[bool | None]) -> pd.DataFrame:
    """Shaped like a summary read back from Parquet (``integrated`` is nullable: object)."""
    n = len(values)
    return pd.DataFrame(
        {
            column: values,
            "status": ["ok"] * n,
            "integrated": pd.Series(integrated, dtype=object),
            "price_dispersion": np.linspace(0.1, 0.4, n),
            "trade_share": np.linspace(0.2, 0.0, n),
            "integration_index": [0.9 if i else 0.1 for i in integrated],
        }
    )


def test_first_crossing_interpolates_in_its_cell() -> None:
    x = np.array([0.0, 0.5, 1.0])
    p = np.array([[1.0, 0.8, 0.2], [1.0, 0.5, 0.0], [1.0, 0.9, 0.6]])
    assert crossing_cells(p).tolist() == [1, 1, -1]
    assert first_crossing(x, p)[:2].tolist() == pytest.approx([0.75, 0.5])
    assert np.isnan(first_crossing(x, p)[2])


def test_wilson_interval_known_values() -> None:
    low, high = wilson_interval(np.array([0, 5, 10]), np.array([10, 10, 10]))
    assert low[0] == pytest.approx(0.0, abs=1e-12) and high[0] == pytest.approx(0.2775, abs=1e-4)
    assert low[1] == pytest.approx(0.2366, abs=1e-4) and high[1] == pytest.approx(0.7634, abs=1e-4)


def test_axis_table_and_paragraph_along_a_numeric_axis() -> None:
    data = summary(
        "policy_permit_strictness",
        [0.0, 0.0, 0.5, 0.5, 1.0, 1.0],
        [True, True, True, False, False, False],
    )
    table = axis_table(data, NK, "policy.permit_strictness")
    assert table["runs"].tolist() == [2, 2, 2]
    assert table["p_state"].tolist() == [1.0, 0.5, 0.0]
    assert table["price_dispersion_mean"].tolist() == pytest.approx([0.13, 0.25, 0.37], abs=1e-12)
    text = describe(data, NK, {"policy.permit_strictness": [0.0, 0.5, 1.0]})
    assert "P(integrated national market) goes from 100% to 0%" in text
    assert "Mean price dispersion (sd of log prices across units) moves from 0.13 to 0.37" in text
    assert "crosses 50% near policy.permit_strictness = 0.5 (between 0.5 and 1)" in text


def test_paragraph_along_a_categorical_axis() -> None:
    data = summary("model_network", ["grid", "grid", "ring", "ring"], [True, True, False, True])
    text = describe(data, NK, {"model.network": ["grid", "ring"]})
    assert "Across 2 values of model.network (grid, ring)" in text
    assert "from 100% to 50%" in text and "crosses" not in text


def test_failed_runs_are_reported_not_analysed() -> None:
    some = summary("policy_permit_strictness", [0.0, 1.0, 1.0], [True, False, None])
    some.loc[2, "status"] = "failed"
    assert "1 of 3 runs failed and are left out" in describe(
        some, NK, {"policy.permit_strictness": [0.0, 1.0]}
    )
    everything = some.assign(status="failed")
    assert describe(everything, NK, {"policy.permit_strictness": [0.0, 1.0]}).startswith(
        "All 3 runs failed"
    )

"""Places: each unit's outputs averaged at chosen parameter values, per province, and mapped
(pipeline/analysis/places.py), on the smoke sweep's dataset."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmark.pipeline.analysis import places
from segmark.pipeline.analysis.data import AnalysisError, load
from segmark.pipeline.analysis.report import write_report
from segmark.pipeline.store import read_places

AXIS = "policy.permit_strictness"


@pytest.fixture(scope="module")
def contrast(smoke_dataset: Path) -> places.PlaceContrast:
    return places.contrast(load(smoke_dataset), AXIS)


def test_unit_means_average_the_runs_at_each_value(
    smoke_dataset: Path, contrast: places.PlaceContrast
) -> None:
    rows = read_places(smoke_dataset).to_pandas()
    ds = load(smoke_dataset)
    ids = ds.ok.loc[ds.ok[contrast.column] == 1.0, "run_id"]
    by_hand = rows[rows.run_id.isin(ids)].groupby("unit")["shortage"].mean()
    got = contrast.units[contrast.units[contrast.column] == 1.0].set_index("unit")["shortage"]
    assert contrast.values == (0.0, 1.0) and contrast.runs == {0.0: 2, 1.0: 2}
    np.testing.assert_allclose(got.loc[by_hand.index], by_hand, rtol=1e-6)


def test_free_trade_puts_more_units_in_the_national_market(
    contrast: places.PlaceContrast,
) -> None:
    """Strictness 0 integrates the smoke sweep's runs, strictness 1 does not: the map's colour
    says the same unit by unit."""
    linked = contrast.units.groupby(contrast.column)["linked"].mean()
    assert linked[0.0] > 0.5 > linked[1.0]


def test_the_province_table_has_every_province_at_both_values(
    contrast: places.PlaceContrast,
) -> None:
    table = places.province_table(contrast)
    assert len(table) == contrast.units["province"].nunique() == 9  # 3 x 3 blocks
    assert {"shortage at 0", "shortage at 1", "linked at 0", "price_level at 1"} <= set(table)
    first = table["price_level at 0"].to_numpy()
    assert (np.diff(first) <= 0).all()  # dearest first


def test_the_map_has_a_panel_per_value(contrast: places.PlaceContrast, tmp_path: Path) -> None:
    fig = places.map_figure(contrast, tmp_path / "map.png")
    assert (tmp_path / "map.png").stat().st_size > 10_000
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 2 and all(len(ax.collections) == 1 for ax in panels)
    offsets = panels[0].collections[0].get_offsets()
    assert len(offsets) == 40 and isinstance(contrast.units, pd.DataFrame)


def test_runs_on_different_networks_are_not_averaged(smoke_dataset: Path, tmp_path: Path) -> None:
    """A unit at two positions (runs on two layouts) is refused, and the report says why
    instead of drawing one map over both."""
    data = tmp_path / "two_layouts"
    shutil.copytree(smoke_dataset, data)
    part = next((data / "places").glob("part-*.parquet"))
    table = pq.read_table(part).to_pandas()
    moved = table["run_id"] == table["run_id"].iloc[0]
    table.loc[moved, "x_km"] += 1.0  # as if that run's network had another layout
    pq.write_table(pa.Table.from_pandas(table, schema=pq.read_schema(part)), part)
    with pytest.raises(AnalysisError, match="different networks"):
        places.contrast(load(data), AXIS)
    text = write_report(load(data), n_boot=100).read_text()
    assert "## Places" in text and "No map:" in text and "places.png" not in text

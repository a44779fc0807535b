"""Where things happen: each unit's outputs (``places/``, docs/OUTPUT.md) averaged over a
sweep's runs at chosen parameter values, per province, and as maps on the units' coordinates.

The report contrasts the lowest and the highest value of the first numeric swept parameter
(permit strictness in the default sweep): which counties belong to the national market,
where demand goes unmet, which provinces pay the most.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as pads
from matplotlib.figure import Figure

from segmark.pipeline.analysis.data import AnalysisError, Dataset
from segmark.pipeline.analysis.labels import parameter_label
from segmark.pipeline.store import PLACES_DIR, read_places

UNIT_COLUMNS = ("unit", "name", "province", "x_km", "y_km")
MAP_OUTCOME = "linked"  # coloured on the maps: the share of goods in the national market
MAP_MEANING = "the share of goods for which a unit is in the largest price-linked market"
PROVINCE_OUTCOMES = ("shortage", "price_level", "linked", "inflow_share")


@dataclass(frozen=True)
class PlaceContrast:
    """Per-unit means at each value of ``axis`` (``units``: one row per value and unit) and
    per-province means (``provinces``: one row per value and province)."""

    axis: str
    column: str
    values: tuple[float, ...]
    units: pd.DataFrame
    provinces: pd.DataFrame
    label: str
    runs: dict[float, int]
    titles: dict[float, str] | None = None  # a panel's title other than "label = value"
    colour: str = MAP_OUTCOME  # the per-unit output the maps colour


def has_places(ds: Dataset) -> bool:
    return bool(ds.model.places) and any((ds.path / PLACES_DIR).glob("part-*.parquet"))


def check_colour(ds: Dataset, colour: str) -> None:
    """Refuse a map colour that is not one of the model's per-unit outputs."""
    names = [p.name for p in ds.model.places]
    if colour not in names:
        raise AnalysisError(
            f"--map {colour}: not a per-unit output of model {ds.model.name}; outputs are "
            f"{', '.join(names) or 'none (the model has no places)'}."
        )


def unit_means(ds: Dataset, run_ids: list[str]) -> tuple[pd.DataFrame, int]:
    """Each unit's outputs averaged over ``run_ids``, and how many runs had places rows.
    The runs must share one network: a unit at two places is refused."""
    filt = pads.field("run_id").isin(list(run_ids))
    frame = read_places(ds.path, filter=filt).to_pandas()
    if frame.empty:
        raise AnalysisError(f"{ds.path}: no places rows for these runs.")
    frame = frame.drop_duplicates(["run_id", "unit"])
    if frame.groupby("unit")[["x_km", "y_km"]].nunique().max().max() > 1:
        raise AnalysisError(
            f"{ds.path}: these runs are on different networks (a unit has two positions); "
            "average places over runs of one network (fix model.n_regions, network_seed)."
        )
    outputs = [p.name for p in ds.model.places]
    means = frame.groupby(list(UNIT_COLUMNS), as_index=False, sort=True)[outputs].mean()
    return means, frame["run_id"].nunique()


def contrast(ds: Dataset, axis: str, colour: str = MAP_OUTCOME) -> PlaceContrast:
    """Unit and province means at the lowest and highest value of ``axis`` (ok runs only;
    every other swept parameter pooled); the maps coloured by ``colour``."""
    column = ds.column(axis)
    values = sorted(ds.ok[column].unique())
    chosen = (values[0], values[-1]) if len(values) > 1 else (values[0],)
    groups = {v: ds.ok.loc[ds.ok[column] == v, "run_id"].tolist() for v in chosen}
    return contrast_runs(ds, groups, axis, column, parameter_label(ds.model, axis), None, colour)


def contrast_runs(
    ds: Dataset,
    groups: dict[float, list[str]],
    axis: str,
    column: str,
    label: str,
    titles: dict[float, str] | None = None,
    colour: str = MAP_OUTCOME,
) -> PlaceContrast:
    """Unit and province means of each group of runs (keyed by a value of ``column``); the
    maps coloured by ``colour``, one of the model's per-unit outputs."""
    units, runs = [], {}
    for value, ids in groups.items():
        means, runs[value] = unit_means(ds, ids)
        units.append(means.assign(**{column: value}))
    frame = pd.concat(units, ignore_index=True)
    outputs = [p.name for p in ds.model.places if p.name in PROVINCE_OUTCOMES]
    provinces = frame.groupby([column, "province"], as_index=False)[outputs].mean()
    return PlaceContrast(axis, column, tuple(groups), frame, provinces, label, runs, titles, colour)


def province_table(result: PlaceContrast) -> pd.DataFrame:
    """Provinces as rows, each output at each chosen value as columns, dearest first."""
    wide = result.provinces.pivot(index="province", columns=result.column)
    wide.columns = [f"{name} at {value:g}" for name, value in wide.columns]
    first = f"price_level at {result.values[0]:g}"
    order = wide[first] if first in wide else wide.iloc[:, 0]
    return wide.loc[order.sort_values(ascending=False).index].reset_index()


def map_figure(result: PlaceContrast, path: str | Path | None = None) -> Figure:
    """One map per chosen value: each unit at its coordinates, coloured by ``result.colour``
    (by default the share of goods for which it is in the largest price-linked market; any
    other output on one scale over the panels), its size by unmet demand."""
    panels = len(result.values)
    share = result.colour == MAP_OUTCOME
    values = result.units[result.colour]
    low, high = (0.0, 1.0) if share else (float(values.min()), float(values.max()))
    fig = Figure(figsize=(5.2 * panels, 5.0), dpi=110, layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, panels, sharex=True, sharey=True))
    for ax, value in zip(axes, result.values, strict=True):
        units = result.units[result.units[result.column] == value]
        dots = ax.scatter(
            units["x_km"],
            units["y_km"],
            c=units[result.colour],
            s=12 + 400 * units["shortage"].clip(0, 1),
            cmap="viridis",
            vmin=low,
            vmax=high,
            edgecolors="k",
            linewidths=0.3,
        )
        title = (result.titles or {}).get(value, f"{result.label} = {value:g}")
        ax.set_title(f"{title} ({result.runs[value]} runs)", fontsize=9)
        ax.set_aspect("equal")
        ax.set_xlabel("x (km)")
    axes[0].set_ylabel("y (km)")
    label = "share of goods in the national market" if share else result.colour
    fig.colorbar(dots, ax=list(axes), shrink=0.8, label=label)
    what = "Units in the largest price-linked market" if share else f"Units by {result.colour}"
    fig.suptitle(f"{what} (dot size: unmet demand)", fontsize=10)
    if path is not None:
        fig.savefig(path)
    return fig

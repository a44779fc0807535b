"""Phase diagrams: an outcome (P(state) by default, the model's bool state outcome) over two
swept parameters, with the tipping boundary: the 0.5 contour of P(state), and one threshold
with its bootstrap interval along the x parameter per value of the y parameter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segmark.pipeline.analysis.data import AnalysisError, Dataset, as_dataset, is_numeric
from segmark.pipeline.analysis.labels import outcome_label, parameter_label
from segmark.pipeline.analysis.threshold import Threshold
from segmark.pipeline.analysis.tipping import tipping_thresholds


@dataclass
class PhaseDiagram:
    x: str
    y: str
    outcome: str
    mean: pd.DataFrame  # rows: y values, columns: x values (mean of the outcome over ok runs)
    runs: pd.DataFrame  # ok runs per cell
    failed: pd.DataFrame  # failed runs per cell
    boundary: list[Threshold] = field(default_factory=list)  # threshold along x per y value
    pooled: list[str] = field(default_factory=list)
    state: str | None = None  # the model's state outcome: the outcome is a probability
    labels: dict[str, str] = field(default_factory=dict)  # of x, y and the outcome

    @property
    def is_probability(self) -> bool:
        return self.outcome == self.state

    def label(self, name: str) -> str:
        return self.labels.get(name, name)

    def boundary_table(self) -> pd.DataFrame:
        rows = []
        for t in self.boundary:
            rows.append(
                {
                    self.y: t.where[self.y],
                    "threshold": t.crossing,
                    "ci_low": t.crossing_ci[0],
                    "ci_high": t.crossing_ci[1],
                    "width": t.width,
                }
            )
        return pd.DataFrame(rows)


def phase_diagram(
    data: Dataset | pd.DataFrame | str,
    x: str,
    y: str,
    outcome: str | None = None,
    *,
    boundary: bool = True,
    **options: Any,
) -> PhaseDiagram:
    """The mean of ``outcome`` (default: the model's state) on the (x, y) grid of the sweep
    (other swept parameters pooled) and, with ``boundary``, the threshold of P(state) along x
    for each y value."""
    ds = as_dataset(data)
    outcome = outcome or ds.state
    for path in (x, y):
        if path not in ds.swept:
            raise AnalysisError(
                f"{path} is not swept in {ds.name}; swept are: {', '.join(ds.swept) or 'nothing'}."
            )
        if not is_numeric(ds, path):
            raise AnalysisError(f"{path} is not numeric: a phase diagram needs numeric axes.")
    if x == y:
        raise AnalysisError("a phase diagram needs two different parameters.")
    if outcome not in ds.summary.columns:
        raise AnalysisError(f"{outcome!r} is not an outcome column of the summary.")
    xc, yc = ds.column(x), ds.column(y)
    ok = ds.ok.assign(**{outcome: ds.ok[outcome].astype(float)})
    mean = ok.pivot_table(index=yc, columns=xc, values=outcome, aggfunc="mean")
    runs = ok.pivot_table(index=yc, columns=xc, values=outcome, aggfunc="count")
    all_cells = ds.summary.assign(_failed=(ds.summary["status"] != "ok").astype(int))
    failed = all_cells.pivot_table(index=yc, columns=xc, values="_failed", aggfunc="sum")
    cells = mean.notna().sum().sum()
    if cells < mean.size or mean.shape[0] < 2 or mean.shape[1] < 2:
        raise AnalysisError(
            f"{x} x {y}: the runs do not fill a grid ({cells} of {mean.size} cells hold ok "
            "runs); a phase diagram needs a grid design over both parameters."
        )
    thresholds = []
    if boundary and mean.shape[1] >= 3:
        thresholds = tipping_thresholds(ds, x, by=[y], **options)
    pooled = [p for p in ds.swept if p not in (x, y)]
    labels = {
        x: parameter_label(ds.model, x),
        y: parameter_label(ds.model, y),
        outcome: outcome_label(ds.model, outcome),
    }
    return PhaseDiagram(
        x, y, outcome, mean, runs, failed.reindex_like(mean), thresholds, pooled,
        ds.model.state, labels,
    )  # fmt: skip


def contour_points(diagram: PhaseDiagram, level: float = 0.5) -> np.ndarray:
    """Points (x, y) where the cell means cross ``level`` along x, row by row (linear
    interpolation): the estimated boundary as a polyline through the grid."""
    xs = diagram.mean.columns.to_numpy(dtype=float)
    out = []
    for yv, row in diagram.mean.iterrows():
        v = row.to_numpy(dtype=float) - level
        for j in range(len(xs) - 1):
            if v[j] == 0 or v[j] * v[j + 1] < 0:
                frac = v[j] / (v[j] - v[j + 1]) if v[j] != v[j + 1] else 0.0
                out.append((xs[j] + frac * (xs[j + 1] - xs[j]), float(yv)))
    return np.array(out).reshape(-1, 2)

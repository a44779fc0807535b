"""The report's scenario-discovery section: PRIM boxes over the swept parameters for the runs of
interest (``--where``; by default the model's state outcome), in words and as a table with
quasi-p-values, the coverage-density trade-off, CART's boxes beside them, feature scores of
every outcome, and, for a model with places, a map of the units inside and outside the first
box. Written for sampled designs (``sweep=explore``), and for any design given ``--where``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from segmark.pipeline.analysis.condition import Condition, parse
from segmark.pipeline.analysis.data import AnalysisError, Dataset
from segmark.pipeline.analysis.markdown import table
from segmark.pipeline.analysis.prim import PrimResult, prim
from segmark.pipeline.analysis.scoring import (
    MIN_RUNS,
    Box,
    cart_boxes,
    describe_box,
    feature_scores,
)

THRESHOLD = 0.8  # a box's density to be reported (EMA Workbench's default)
MOST_BOXES = 3
REPORTED = ("random", "lhs", "sobol")  # designs whose report always has the section


@dataclass(frozen=True)
class Discovery:
    """What the section looks for: the runs meeting ``condition``, over the swept
    parameters ``over``."""

    condition: Condition
    over: tuple[str, ...]


def discovery_of(ds: Dataset, where: str | None, over: list[str] | None) -> Discovery | None:
    """The discovery a report makes (None: none), its settings checked against the dataset:
    an AnalysisError in one line names the option and what is allowed."""
    asked = where is not None or over is not None
    if not asked and (ds.design not in REPORTED or ds.model.state is None):
        return None
    condition = parse(where, ds.model)
    if condition.outcome not in ds.summary:
        raise AnalysisError(f"--where {where!r}: the dataset has no {condition.outcome} column.")
    unknown = [p for p in over or [] if p not in ds.swept]
    if unknown:
        raise AnalysisError(
            f"--over {unknown[0]}: not a swept parameter of this dataset; swept are "
            f"{', '.join(ds.swept) or 'none'}."
        )
    if asked and len(ds.ok) < MIN_RUNS:
        raise AnalysisError(
            f"--where/--over: scenario discovery needs at least {MIN_RUNS} ok runs; the "
            f"dataset has {len(ds.ok)}."
        )
    return Discovery(condition, tuple(over or ds.swept))


def inputs(ds: Dataset, over: tuple[str, ...]) -> pd.DataFrame:
    """The ok runs' values of the swept parameters ``over``, named by their paths."""
    return pd.DataFrame({p: ds.ok[ds.column(p)].to_numpy() for p in over})


def section(report: Any, discovery: Discovery) -> None:
    """Add the section to ``report`` (a :class:`.report.Report`)."""
    ds: Dataset = report.ds
    condition = discovery.condition
    report.add("## Scenario discovery", "")
    x, y = inputs(ds, discovery.over), condition.cases(ds.ok)
    try:
        result = prim(x, pd.Series(y, name=str(condition)), threshold=THRESHOLD, n_boxes=MOST_BOXES)
    except ValueError as error:  # too few runs, none or all of interest, nothing varies
        problem = (f"Not analysed: {error}; choose another condition with `segmark-report "
                   "--where` (e.g. an outcome above a quantile).")  # fmt: skip
        report.add(problem, "")
        report.numbers["discovery"] = {"condition": str(condition), "skipped": problem}
        return
    units = {p: ds.model.parameter(p).unit for p in discovery.over}
    units = {p: u for p, u in units.items() if u not in ("-", "dimensionless")}
    report.add(_intro(condition, y), "")
    if result.notes:
        report.add(*[f"- {note}" for note in result.notes], "")
    for number, box in enumerate(result.boxes, 1):
        report.add(f"- **Box {number}**: {describe_box(box, units, str(condition))}.")
    limits = box_table(result.boxes)
    report.add("", table(limits.astype(object).where(limits.notna(), "")), "")  # open: blank
    report.figure(_tradeoff_figure, result, "discovery_tradeoff",
                  "coverage and density along the peeling trajectory")  # fmt: skip
    leaves = cart_boxes(x, y)  # leaves of at least 5% of the runs, as EMA Workbench
    cart = [b for b in leaves if b.density > 0.5][:MOST_BOXES]
    report.add("CART (a decision tree's leaves where most runs are of interest), beside PRIM:", "")
    report.add(*[f"- {describe_box(b, units, str(condition))}." for b in cart] or ["- none"], "")
    _scores(report, x)
    _map(report, result.box)
    report.numbers["discovery"] = {
        "condition": str(condition),
        "runs": len(x),
        "of_interest": int(y.sum()),
        "notes": result.notes,
        "boxes": limits.to_dict("records"),
        "cart": [describe_box(b, units, str(condition)) for b in cart],
    }


def box_table(boxes: list[Box]) -> pd.DataFrame:
    """One row per restricted dimension of each box: its limits (blank where open) or the
    categories kept, its quasi-p-value, and the box's coverage, density and mass."""
    rows = []
    for number, box in enumerate(boxes, 1):
        for name in box.restricted:
            low, high = box.limits.get(name, (None, None))
            kept = ", ".join(sorted(map(str, box.categories.get(name, ()))))
            rows.append(
                {"box": number, "parameter": name, "low": low, "high": high,
                 "categories": kept, "quasi-p": box.quasi_p[name], "coverage": box.coverage,
                 "density": box.density, "mass": box.mass}
            )  # fmt: skip
    return pd.DataFrame(rows)


def _intro(condition: Condition, y: np.ndarray) -> str:
    return (
        f"Runs of interest: `{condition}`, {int(y.sum())} of {len(y)} ok runs ({y.mean():.0%}). "
        "PRIM (peeling 5% at a time, EMA Workbench's choices) finds boxes of the swept "
        f"parameters holding them; a box is the one with the most coverage where at least "
        f"{THRESHOLD:.0%} of its runs are of interest, then pasted, and the next is sought "
        "among the runs no box holds; quasi-p is Bryant & Lempert's one-sided binomial test of "
        "each restriction (small: the restriction matters)."
    )


def _tradeoff_figure(result: PrimResult, path: str | Path | None = None) -> Figure:
    """Coverage against density for every box of the first peeling trajectory, coloured by
    how many dimensions it restricts; the first box (pasted) circled."""
    trajectory, box = result.trajectory, result.box
    fig = Figure(figsize=(5.6, 4.2), dpi=110, layout="constrained")
    ax = fig.subplots()
    dots = ax.scatter(trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"],
                      cmap="viridis", s=18)  # fmt: skip
    ax.scatter([box.coverage], [box.density], s=160, facecolors="none", edgecolors="r")
    ax.set_xlabel("coverage (share of the runs of interest inside)")
    ax.set_ylabel("density (share of the box's runs of interest)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    fig.colorbar(dots, ax=ax, label="restricted dimensions")
    if path is not None:
        fig.savefig(path)
    return fig


def _scores(report: Any, x: pd.DataFrame) -> None:
    ds: Dataset = report.ds
    names = [o.name for o in ds.model.outcomes if o.name in ds.ok]
    outcomes = ds.ok[names].reset_index(drop=True)
    outcomes = outcomes[
        [c for c in names if outcomes[c].notna().all() and outcomes[c].nunique() > 1]
    ]
    scores = feature_scores(x, outcomes)
    report.add("Feature scores (extra-trees importances: each outcome's column sums to 1):", "")
    report.add(table(scores.T.reset_index(names="outcome"), digits=2), "")
    report.numbers["discovery_scores"] = scores.to_dict()


def _map(report: Any, box: Box) -> None:
    from segmark.pipeline.analysis import places

    ds: Dataset = report.ds
    if not places.has_places(ds) or box.mass >= 1:
        return
    ids = ds.ok["run_id"].to_numpy()
    groups = {1.0: list(ids[box.inside]), 0.0: list(ids[~box.inside])}
    titles = {1.0: "inside box 1", 0.0: "outside box 1"}
    colour = report.colour or places.MAP_OUTCOME
    result = places.contrast_runs(ds, groups, "box", "in_box", "box 1", titles, colour)
    report.add("Units inside and outside box 1 (means over their runs):", "")
    report.figure(places.map_figure, result, "discovery_map", "units inside and outside box 1")

"""Adaptive refinement of a tipping threshold: add points and replicates where P(integrated)
is most uncertain, round after round, until the threshold's bootstrap interval is narrower than
a requested width; the extra runs join the same dataset.

Each round (docs/ANALYSIS.md, "Adaptive refinement"):
  1. estimate the threshold along ``axis`` (:func:`tipping_threshold`, seeded bootstrap); stop
     when its interval is at most ``target_width`` wide, or when no threshold is found;
  2. propose ``new_values`` evenly spaced axis values inside the interval (clipped to the swept
     range, values already present left out), each crossed with every combination of the other
     swept parameters in the slice, at the slice's replicate count; and ``extra_replicates`` more
     replicates at the ``top_points`` existing values with the highest binomial variance
     p(1 - p) (nearest the crossing on ties; values with p = 0 or 1 get none);
  3. hand them to ``extend(points, replicates)``, which runs them into the same dataset through
     the engine (``pipeline.extend.extending``: ``list`` designs built from the dataset's own
     ``config.yaml``, the same base parameters, root seed and common-random-numbers rule, so a
     run's seed is the engine's (root seed, replicate) seed and its id the engine's content
     address; runs already stored are skipped, never repeated). Refinement proposes; it never
     starts a cluster or a sweep itself.

The proposal depends only on the dataset and the bootstrap seed, so a refinement is
reproducible. ``manifest.json`` keeps the dataset's original ``sweep`` section and the rounds
under ``refinement`` (``config.yaml`` and ``plan.parquet`` describe the latest invocation, as
for any sweep into an existing dataset).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmark.pipeline.analysis.data import AnalysisError, Dataset, load
from segmark.pipeline.analysis.markdown import fmt
from segmark.pipeline.analysis.threshold import Threshold
from segmark.pipeline.analysis.tipping import tipping_threshold
from segmark.pipeline.designs import SAMPLED
from segmark.pipeline.store import write_manifest

Extend = Callable[[list[dict[str, Any]], int], int]  # (points, replicates) -> runs stored

DIGITS = 6  # decimals of proposed axis values


@dataclass
class Round:
    """One refinement round: what was added and the threshold afterwards."""

    number: int
    values_added: list[float]  # new axis values
    replicates_added: dict[float, tuple[int, int]]  # axis value -> (replicates before, after)
    runs_added: int  # runs newly stored by this round
    runs_total: int  # runs stored in the dataset after the round
    threshold: float
    ci: tuple[float, float]

    @property
    def ci_width(self) -> float:
        return float(self.ci[1] - self.ci[0])

    def describe(self) -> str:
        values = ", ".join(fmt(v) for v in self.values_added) or "none"
        reps = ", ".join(f"{fmt(x)} ({a}->{b})" for x, (a, b) in self.replicates_added.items())
        return (
            f"round {self.number}: +{self.runs_added} runs (new values: {values}; more "
            f"replicates at: {reps or 'none'}); threshold {fmt(self.threshold)}, CI "
            f"{fmt(self.ci[0])}-{fmt(self.ci[1])}, width {fmt(self.ci_width)}"
        )


@dataclass
class Refinement:
    """The record of :func:`refine`."""

    dataset: Path
    axis: str
    target_width: float
    initial: Threshold
    final: Threshold
    rounds: list[Round] = field(default_factory=list)
    reached: bool = False
    reason: str = ""  # reached, max_rounds, max_runs, no_threshold, nothing_to_add

    @property
    def runs_added(self) -> int:
        return sum(r.runs_added for r in self.rounds)

    def describe(self) -> str:
        width = fmt(self.final.ci_width) if self.final.found else "n/a"
        if self.reached:
            head = f"width reached: CI width {width} <= {fmt(self.target_width)}"
        else:
            why = {
                "max_rounds": "stopped at the maximum number of rounds",
                "max_runs": "stopped at the maximum number of runs",
                "no_threshold": "no threshold in the swept range (extend the axis)",
                "nothing_to_add": "nothing left to add within the run budget",
            }.get(self.reason, self.reason)
            head = f"width NOT reached ({why}): CI width {width} > {fmt(self.target_width)}"
        return (
            f"{head} after {len(self.rounds)} rounds, {self.runs_added} runs added; "
            f"threshold {fmt(self.final.crossing)} (CI {fmt(self.final.crossing_ci[0])}-"
            f"{fmt(self.final.crossing_ci[1])})"
        )


def _state_line(t: Threshold) -> str:
    if not t.found:
        return "start: no threshold found"
    return (
        f"start: {t.n_runs} runs; threshold {fmt(t.crossing)}, CI {fmt(t.crossing_ci[0])}-"
        f"{fmt(t.crossing_ci[1])}, width {fmt(t.ci_width)}"
    )


def _slice(ds: Dataset, where: dict[str, Any]) -> pd.DataFrame:
    summary = ds.summary
    for path, value in where.items():
        if path not in ds.model.paths or ds.column(path) not in summary.columns:
            raise AnalysisError(
                f"where {path}: no such parameter in {ds.name}; it sweeps {ds.swept}."
            )
        values = summary[ds.column(path)]
        if isinstance(value, int | float) and pd.api.types.is_numeric_dtype(values):
            summary = summary[np.isclose(values.astype(float), value, rtol=0, atol=1e-12)]
        else:
            summary = summary[values == value]
    if summary.empty:
        raise AnalysisError(f"no runs at {where} in {ds.name}.")
    return summary


def propose(
    ds: Dataset,
    t: Threshold,
    *,
    where: dict[str, Any] | None = None,
    new_values: int = 3,
    extra_replicates: int | None = None,
    top_points: int = 2,
) -> tuple[list[float], dict[float, tuple[int, int]], list[dict[str, Any]], int]:
    """The next round's proposal from threshold ``t``: (new axis values, {existing value:
    (replicates, replicates after)}, the other swept parameters' combinations to cross them
    with, the replicate count of new values: the smallest count along the axis, normally the
    sweep's ``replicates``)."""
    axis = t.axis
    where = dict(where or {})
    runs = _slice(ds, where)
    xcol = ds.column(axis)
    present = np.sort(runs[xcol].unique().astype(float))
    lo_x, hi_x = float(present[0]), float(present[-1])
    lo, hi = t.crossing_ci
    if not (np.isfinite(lo) and np.isfinite(hi)):  # the grid cell around the crossing
        j = int(np.clip(np.searchsorted(present, t.interpolated) - 1, 0, len(present) - 2))
        lo, hi = present[j], present[j + 1]
    lo, hi = max(lo, lo_x), min(hi, hi_x)
    is_int = ds.model.parameter(axis).dtype is int
    values: list[float] = []
    if hi > lo:
        for i in range(1, new_values + 1):
            v = lo + (hi - lo) * i / (new_values + 1)
            v = float(round(v)) if is_int else round(float(v), DIGITS)
            if not np.isclose(present, v, rtol=0, atol=10.0**-DIGITS).any() and v not in values:
                values.append(v)
    replicates = runs.groupby(xcol)["replicate"].max() + 1  # replicates 0..R-1 at each value
    base_reps = int(replicates.min())  # the sweep's replicate count, before any refinement
    extra = base_reps if extra_replicates is None else int(extra_replicates)
    curve = t.curve.set_index(xcol)
    variance = curve[t.p] * (1 - curve[t.p])
    ranked = sorted(
        (x for x in curve.index if variance[x] > 0),
        key=lambda x: (-variance[x], abs(x - t.crossing), x),
    )
    more = {
        float(x): (int(replicates[x]), int(replicates[x]) + extra)
        for x in ranked[:top_points]
        if extra > 0
    }
    others = [p for p in ds.swept if p != axis and p not in where]
    combos = (
        [
            dict(zip(others, c, strict=True))
            for c in product(*(_values(runs, ds.column(p)) for p in others))
        ]
        if others
        else [{}]
    )
    combos = [{**where, **c} for c in combos]
    return values, more, combos, base_reps


def _values(runs: pd.DataFrame, column: str) -> list[Any]:
    return [v.item() if isinstance(v, np.generic) else v for v in sorted(runs[column].unique())]


def _batches(
    axis: str,
    values: list[float],
    more: dict[float, tuple[int, int]],
    combos: list[dict[str, Any]],
    base_reps: int,
) -> list[tuple[int, list[dict[str, Any]]]]:
    """(replicates, points) per engine call: one list design per replicate count."""
    by_reps: dict[int, list[dict[str, Any]]] = {}
    for v in values:
        by_reps.setdefault(base_reps, []).extend({**c, axis: v} for c in combos)
    for x, (_, after) in more.items():
        by_reps.setdefault(after, []).extend({**c, axis: x} for c in combos)
    return sorted(by_reps.items())


def _cost(
    batches: list[tuple[int, list[dict[str, Any]]]], runs: pd.DataFrame, axis: str, xcol: str
) -> int:
    """Runs the batches would add (replicates not yet stored at each point)."""
    stored = runs.groupby(xcol)["replicate"].max() + 1
    total = 0
    for reps, points in batches:
        for p in points:
            total += reps - int(stored.get(p[axis], 0)) if p[axis] in stored.index else reps
    return total


def refine(
    dataset: str | Path,
    axis: str,
    target_width: float,
    *,
    extend: Extend,
    where: dict[str, Any] | None = None,
    max_rounds: int = 5,
    runs_per_round: int | None = None,
    max_runs: int | None = None,
    new_values: int = 3,
    extra_replicates: int | None = None,
    top_points: int = 2,
    n_boot: int = 1000,
    seed: int = 0,
    echo: Callable[[str], None] = print,
) -> Refinement:
    """Refine the threshold along ``axis`` of the dataset at ``dataset`` (in place) until its
    bootstrap CI is at most ``target_width`` wide, or ``max_rounds`` rounds / ``max_runs`` added
    runs are spent. ``runs_per_round`` caps a round (extra replicates are dropped first, then
    new values). Each round's runs go to ``extend(points, replicates)`` (the engine's
    ``pipeline.extend.extending``). Prints one line per round."""
    ds = load(dataset)
    where = _check_start(ds, target_width, where)
    options = {"n_boot": n_boot, "seed": seed}
    t = tipping_threshold(ds, axis, where=where or None, **options)
    record = Refinement(ds.path, axis, float(target_width), t, t)
    echo(_state_line(t))
    previous = ds.manifest.get("refinement", {})
    original = previous.get("original_sweep") or ds.sweep
    history = list(previous.get("rounds", []))
    for number in range(1, max_rounds + 2):
        record.reason = _stop(t, target_width, number > max_rounds)
        if record.reason:
            break
        budget = runs_per_round
        if max_runs is not None:
            left = max_runs - record.runs_added
            budget = left if budget is None else min(budget, left)
        proposal = propose(
            ds, t, where=where, new_values=new_values, extra_replicates=extra_replicates,
            top_points=top_points,
        )  # fmt: skip
        values, more, batches = _within(ds, axis, where, proposal, budget)
        if not batches:
            spent = max_runs is not None and budget is not None and budget <= 0
            record.reason = "max_runs" if spent else "nothing_to_add"
            break
        before = ds.n_stored
        for reps, points in batches:
            extend(points, reps)
        ds = load(ds.path)
        t = tipping_threshold(ds, axis, where=where or None, **options)
        step = Round(
            number, values, more, ds.n_stored - before, ds.n_stored, t.crossing, t.crossing_ci
        )
        record.rounds.append(step)
        history.append(_history_entry(axis, where, step, t))
        write_manifest(ds.path, refinement={"original_sweep": original, "rounds": history})
        echo(step.describe())
    record.reached = record.reason == "reached"
    record.final = t
    echo(record.describe())
    return record


def _check_start(ds: Dataset, target_width: float, where: dict[str, Any] | None) -> dict:
    """The ``where`` of a refinement that can start (bad input is refused before any work)."""
    if not target_width > 0:
        raise AnalysisError(f"the target width must be positive, got {target_width}.")
    if ds.design in SAMPLED:
        raise AnalysisError(
            f"{ds.name} is a {ds.design} design: adding points would break the design its "
            "analysis needs; refine grid or list sweeps."
        )
    where = dict(where or {})
    _slice(ds, where)
    return where


def _stop(t: Threshold, target_width: float, out_of_rounds: bool) -> str:
    """Why refinement stops before another round ("" to go on)."""
    if not t.found:
        return "no_threshold"
    if t.ci_width <= target_width:
        return "reached"
    return "max_rounds" if out_of_rounds else ""


def _within(
    ds: Dataset,
    axis: str,
    where: dict[str, Any],
    proposal: tuple[list[float], dict[float, tuple[int, int]], list[dict[str, Any]], int],
    budget: int | None,
) -> tuple[list[float], dict[float, tuple[int, int]], list[tuple[int, list[dict[str, Any]]]]]:
    """The proposal cut to ``budget`` runs (extra replicates dropped first, then new values):
    (new values, extra replicates, the engine calls as (replicates, points))."""
    values, more, combos, base_reps = proposal
    runs = _slice(ds, where)
    batches = _batches(axis, values, more, combos, base_reps)
    while budget is not None and batches and _cost(batches, runs, axis, ds.column(axis)) > budget:
        if more:
            more.pop(list(more)[-1])
        elif values:
            values.pop(len(values) // 2 if len(values) > 2 else -1)
        batches = _batches(axis, values, more, combos, base_reps)
    return values, more, batches


def _history_entry(axis: str, where: dict[str, Any], step: Round, t: Threshold) -> dict:
    """A round as the manifest keeps it."""
    return {
        "axis": axis,
        "where": where,
        "values_added": step.values_added,
        "replicates_added": {str(x): list(v) for x, v in step.replicates_added.items()},
        "runs_added": step.runs_added,
        "threshold": _finite(t.crossing),
        "ci": [_finite(t.crossing_ci[0]), _finite(t.crossing_ci[1])],
    }


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def parse_where(text: list[str]) -> dict[str, Any]:
    """``PATH=VALUE`` items as {path: value}, numbers as numbers."""
    out: dict[str, Any] = {}
    for item in text:
        path, _, value = item.partition("=")
        if not value:
            raise AnalysisError(f"--where takes PATH=VALUE, got {item!r}.")
        try:
            out[path] = float(value) if "." in value or "e" in value else int(value)
        except ValueError:
            out[path] = value
    return out

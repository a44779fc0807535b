"""Boxes over the swept parameters and their scores, beside PRIM (:mod:`.prim`): the box type
and its statistics, the checks of the runs every method shares, a box in words, CART leaves as
boxes, and extra-trees feature scores of every parameter for every outcome, the last two as
EMA Workbench does them (``ema_workbench.analysis.cart``, ``feature_scoring``).

scikit-learn is imported inside the functions, so the rest of the analysis runs without it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MIN_RUNS = 20  # below this every box is a handful of runs and the quasi-p-values meaningless


@dataclass(frozen=True)
class Box:
    """A box over the swept parameters, restricted dimensions only: ``limits`` (low, high) in
    the data's units, None for a side left open; ``categories``, the values kept. ``inside``
    marks its runs among all runs given. ``coverage``: its share of all cases of interest;
    ``density``: the share of its runs that are of interest; ``mass``: its share of all runs.
    ``quasi_p_sides``: per restricted dimension, the quasi-p-value of the (low, high) limit
    (None where open; categories in the first); ``quasi_p``: the smaller of the two, the
    evidence for restricting that dimension at all."""

    limits: dict[str, tuple[float | None, float | None]]
    categories: dict[str, frozenset]
    coverage: float
    density: float
    mass: float
    n: int  # runs inside
    k: int  # cases of interest inside
    inside: np.ndarray = field(repr=False, compare=False)
    quasi_p_sides: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    outcome: str = "y"

    @property
    def restricted(self) -> list[str]:
        return [*self.limits, *self.categories]

    @property
    def quasi_p(self) -> dict[str, float]:
        return {d: min(p for p in s if p is not None) for d, s in self.quasi_p_sides.items()}


def check_runs(
    x: Any, y: Any, columns: Sequence[str] | None, method: str
) -> tuple[pd.DataFrame, np.ndarray, str, list[str]]:
    """The parameters, y as bools, the outcome's name and notes, or ValueError with the reason.
    ``y`` may name a column of ``x`` (then taken out of the parameters)."""
    if not isinstance(x, pd.DataFrame):
        raise ValueError(f"{method}: the runs must be a pandas DataFrame, got {type(x).__name__}")
    outcome = getattr(y, "name", None) or "y"
    if isinstance(y, str):
        if y not in x.columns:
            raise ValueError(f"{method}: outcome {y!r} is not a column of the runs")
        outcome, y, x = y, x[y].to_numpy(), x.drop(columns=y)
    missing = [c for c in columns or [] if c not in x.columns]
    if missing:
        raise ValueError(f"{method}: parameter {missing[0]!r} is not a column of the runs")
    x = x[list(columns)] if columns is not None else x
    if x.shape[1] == 0:
        raise ValueError(f"{method}: no parameters to search over")
    if len(x) < MIN_RUNS:
        raise ValueError(f"{method}: needs at least {MIN_RUNS} runs, got {len(x)}")
    y = np.asarray(y)
    if y.shape != (len(x),):
        raise ValueError(f"{method}: outcome {outcome!r} has shape {y.shape}, runs {len(x)}")
    if y.dtype != bool and not np.isin(y, [0, 1]).all():
        raise ValueError(f"{method}: outcome {outcome!r} must be bool (or 0/1)")
    y = y.astype(bool)
    if not y.any():
        raise ValueError(f"{method}: outcome {outcome!r} has no cases of interest")
    if y.all():
        raise ValueError(
            f"{method}: every run of {outcome!r} is of interest; nothing to tell apart"
        )
    nan = [c for c in x.columns if x[c].isna().any()]
    if nan:
        raise ValueError(f"{method}: parameter {nan[0]!r} has missing values")
    notes = [f"{c}: constant, left out" for c in x.columns if x[c].nunique() < 2]
    x = x.drop(columns=[c for c in x.columns if x[c].nunique() < 2])
    if x.shape[1] == 0:
        raise ValueError(f"{method}: no parameter varies across the runs")
    if x.shape[1] == 1:
        notes.append(f"only one parameter ({x.columns[0]}): a box can restrict only that one")
    return x.reset_index(drop=True), y, str(outcome), notes


def is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _number(v: float, unit: str) -> str:
    text = f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
    return f"{text} {unit}" if unit else text


def _condition(box: Box, name: str, units: dict[str, str]) -> str:
    if name in box.categories:
        kept = sorted(map(str, box.categories[name]))
        return f"{name} is {kept[0]}" if len(kept) == 1 else f"{name} in {{{', '.join(kept)}}}"
    (low, high), unit = box.limits[name], units.get(name, "")
    if low is not None and high is not None:
        return f"{_number(low, unit)} < {name} < {_number(high, unit)}"
    return f"{name} > {_number(low, unit)}" if high is None else f"{name} < {_number(high, unit)}"


def describe_box(box: Box, units: dict[str, str] | None = None, outcome: str | None = None) -> str:
    """The box in words: "integrated in 87% of runs where permit strictness < 0.31 and phone
    penetration > 0.52; this box holds 62% of all integrated runs (mass 12%)". Uses the
    column names as given (map them to labels first) and ``units`` per column."""
    what = outcome or box.outcome
    where = " and ".join(_condition(box, d, units or {}) for d in box.restricted)
    return (
        f"{what} in {box.density:.0%} of runs"
        + (f" where {where}" if where else " (no parameter restricted)")
        + f"; this box holds {box.coverage:.0%} of all {what} runs (mass {box.mass:.0%})"
    )


_SEP = "\x1f"  # joins a categorical column and its value in the one-hot names; never in a name


def _leaf_paths(tree, names: list[str]) -> dict[int, list[tuple[str, bool, float]]]:
    """Per leaf, the (feature, went right, threshold) of each split on its path."""
    paths: dict[int, list[tuple[str, bool, float]]] = {0: []}
    stack, leaves = [0], {}
    while stack:
        node = stack.pop()
        left, right = tree.children_left[node], tree.children_right[node]
        if left == -1:
            leaves[node] = paths[node]
            continue
        split = names[tree.feature[node]], float(tree.threshold[node])
        paths[left] = [*paths[node], (split[0], False, split[1])]
        paths[right] = [*paths[node], (split[0], True, split[1])]
        stack += [left, right]
    return leaves


def _leaf_box(x: pd.DataFrame, path, inside: np.ndarray, y: np.ndarray, outcome: str) -> Box:
    """A leaf as a box: numeric splits narrow the limits (sklearn sends x <= t left); a split
    on a one-hot column keeps that category (right) or drops it (left)."""
    limits: dict[str, list[float | None]] = {}
    kept: dict[str, set] = {}
    for name, right, t in path:
        if _SEP in name:
            col, value = name.split(_SEP)
            levels = kept.setdefault(col, {str(v) for v in x[col].unique()})
            kept[col] = levels & {value} if right else levels - {value}
        else:
            low, high = limits.setdefault(name, [None, None])
            if right:
                limits[name] = [t if low is None else max(low, t), high]
            else:
                limits[name] = [low, t if high is None else min(high, t)]
    cats = {c: frozenset(v for v in x[c].unique() if str(v) in s) for c, s in kept.items()}
    n, k = int(inside.sum()), int((y & inside).sum())
    return Box({c: (lo, hi) for c, (lo, hi) in limits.items()}, cats, k / y.sum(), k / n,
               n / len(y), n, k, inside, {}, outcome)  # fmt: skip


def cart_boxes(
    x: pd.DataFrame,
    y: np.ndarray | pd.Series | str,
    *,
    columns: Sequence[str] | None = None,
    min_samples_leaf: int | None = None,
    seed: int = 0,
) -> list[Box]:
    """CART (scikit-learn's decision tree) as boxes: every leaf, with its path's limits and its
    coverage, density and mass; densest first. ``min_samples_leaf`` defaults to 5% of the runs
    (EMA's ``mass_min``); categorical columns enter one-hot, as in EMA. No quasi-p-values."""
    from sklearn.tree import DecisionTreeClassifier

    x, yb, outcome, _ = check_runs(x, y, columns, "cart_boxes")
    onehot = pd.get_dummies(x, columns=[c for c in x.columns if not is_numeric(x[c])],
                            prefix_sep=_SEP).astype(float)  # fmt: skip
    leaf_min = min_samples_leaf or max(1, int(0.05 * len(x)))
    tree = DecisionTreeClassifier(min_samples_leaf=leaf_min, random_state=seed)
    leaves = tree.fit(onehot.to_numpy(), yb).apply(onehot.to_numpy())
    paths = _leaf_paths(tree.tree_, list(onehot.columns))
    boxes = [_leaf_box(x, p, leaves == leaf, yb, outcome) for leaf, p in paths.items()]
    return sorted(boxes, key=lambda b: (-b.density, -b.coverage))


def feature_scores(
    x: pd.DataFrame,
    outcomes: pd.DataFrame | Sequence[str],
    *,
    columns: Sequence[str] | None = None,
    seed: int = 0,
    n_trees: int = 100,
) -> pd.DataFrame:
    """Extra-trees importances of every parameter (rows) for every outcome (columns; each sums
    to 1): a classifier for a bool or categorical outcome, a regressor otherwise, with EMA's
    settings (a third of the parameters per split, leaves of sqrt(runs / 1000), bootstrap).
    ``outcomes`` is a frame beside ``x`` or names columns of ``x``. Runs where an outcome is
    missing are left out of its fit; an outcome that never varies scores NaN. Same seed, same
    scores."""
    from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

    if isinstance(x, pd.DataFrame) and not isinstance(outcomes, pd.DataFrame):
        missing = [o for o in outcomes if o not in x.columns]
        if missing:
            raise ValueError(f"feature_scores: outcome {missing[0]!r} is not a column of the runs")
        outcomes, x = x[list(outcomes)], x.drop(columns=list(outcomes))
    if len(outcomes) != len(x):
        raise ValueError(f"feature_scores: {len(outcomes)} outcome rows for {len(x)} runs")
    ones = np.arange(len(x)) % 2 == 0  # a stand-in y: only the parameters are checked here
    params, _, _, _ = check_runs(x, ones, columns, "feature_scores")
    codes = params.apply(lambda s: s if is_numeric(s) else s.astype("category").cat.codes)
    scores = {}
    for name in outcomes.columns:
        yo = outcomes[name].reset_index(drop=True)
        ok = yo.notna().to_numpy()
        if ok.sum() < MIN_RUNS:
            raise ValueError(f"feature_scores: outcome {name!r} has fewer than {MIN_RUNS} values")
        if yo[ok].nunique() < 2:
            scores[name] = pd.Series(np.nan, index=params.columns)
            continue
        model = ExtraTreesRegressor if is_numeric(yo) else ExtraTreesClassifier
        trees = model(
            n_estimators=n_trees,
            max_features=max(1, round(params.shape[1] / 3)),
            min_samples_leaf=max(1, round(math.sqrt(ok.sum() / 1000))),
            bootstrap=True,
            random_state=seed,
            n_jobs=1,
        )
        target = yo[ok].to_numpy() if is_numeric(yo) else yo[ok].astype(str).to_numpy()
        trees.fit(codes[ok].to_numpy(dtype=float), target)
        scores[name] = pd.Series(trees.feature_importances_, index=params.columns)
    return pd.DataFrame(scores).rename_axis("parameter")

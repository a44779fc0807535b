"""PRIM for scenario discovery: which region of the swept parameters holds the runs of interest.

Friedman & Fisher (1999) as Bryant & Lempert (2010) use it and as EMA Workbench implements it
(``ema_workbench.analysis.prim``, whose choices this mirrors step for step and which the tests
compare against): a box is peeled a ``peel_alpha`` quantile at a time from the low or high side
of a numeric parameter, or by one category of a categorical one, taking the peel with the most
gain in density per run removed (EMA's "lenient1"), until ``mass_min`` or no gain; a box chosen
on that trajectory (by index, or the most coverage at a density of at least ``threshold``) is
pasted back out while density still grows; each restricted limit gets Bryant & Lempert's
quasi-p-value. Covering repeats the search on the runs no earlier box holds.

Where this departs from EMA: pasting works on the chosen box (EMA pastes the last peeled one
and lets the user choose afterwards) and over every restricted dimension (EMA skips integer
and categorical ones when no float one is restricted); float32 columns count (EMA's
``select_dtypes(float64)`` drops them); constant columns of any type are dropped, not only
categorical ones. Bools are categorical, as in EMA. The box type, its words (``describe_box``),
CART and feature scores: :mod:`.scoring`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from segmark.pipeline.analysis.scoring import MIN_RUNS, Box, check_runs, describe_box, is_numeric

__all__ = ["Box", "PrimResult", "Search", "describe_box", "prim"]


@dataclass(frozen=True)
class _Runs:
    """The runs split for peeling: numeric columns (floats, then ints: EMA's order, which
    breaks ties between equally good peels) and categorical ones as integer codes."""

    num: np.ndarray
    num_names: list[str]
    discrete: np.ndarray  # per numeric column: integers peel by EMA's discrete rule
    cat: np.ndarray
    cat_names: list[str]
    levels: list[np.ndarray]
    y: np.ndarray
    outcome: str
    lo0: np.ndarray  # the limits of the box holding all runs
    hi0: np.ndarray


@dataclass(frozen=True)
class _Lims:
    low: np.ndarray
    high: np.ndarray
    kept: tuple[frozenset[int], ...]


def _split(x: pd.DataFrame, y: np.ndarray, outcome: str) -> _Runs:
    floats = [c for c in x.columns if is_numeric(x[c]) and not pd.api.types.is_integer_dtype(x[c])]
    ints = [c for c in x.columns if pd.api.types.is_integer_dtype(x[c]) and is_numeric(x[c])]
    cats = [c for c in x.columns if not is_numeric(x[c])]
    num = x[floats + ints].to_numpy(dtype=float).reshape(len(x), -1)
    coded = [x[c].astype("category").cat for c in cats]
    return _Runs(
        num, floats + ints, np.array([False] * len(floats) + [True] * len(ints)),
        np.column_stack([c.codes.to_numpy() for c in coded]) if cats else np.empty((len(x), 0)),
        cats, [np.asarray(c.categories) for c in coded], y, outcome,
        num.min(axis=0), num.max(axis=0),
    )  # fmt: skip


def quantile(v: np.ndarray, q: float) -> float:
    """EMA's (sdtoolkit's) quantile: the midpoint of two neighbouring distinct values, so a
    limit falls between data values and never cuts through a run of ties."""
    v = np.sort(v)
    lo, hi = math.floor((len(v) - 1) * q), math.ceil((len(v) - 1) * q)
    if v[lo] == v[hi] and q > 0.5:
        lo = max(int(np.searchsorted(v, v[hi], "left")) - 1, 0)
    elif v[lo] == v[hi]:
        hi = min(int(np.searchsorted(v, v[lo], "right")), len(v) - 1)
    return float(v[lo] + v[hi]) / 2


def _mask(r: _Runs, lims: _Lims, rows: np.ndarray) -> np.ndarray:
    inside = rows & ((r.num >= lims.low) & (r.num <= lims.high)).all(axis=1)
    for j, kept in enumerate(lims.kept):
        inside &= np.isin(r.cat[:, j], list(kept))
    return inside


def _n_restricted(r: _Runs, lims: _Lims) -> int:
    num = np.count_nonzero((lims.low != r.lo0) | (lims.high != r.hi0))
    return int(num) + sum(len(k) < len(lv) for k, lv in zip(lims.kept, r.levels, strict=True))


def _gain(y: np.ndarray, old: np.ndarray, new: np.ndarray) -> float:
    """EMA's lenient1: the change in density per run the step removes (or adds), which keeps a
    categorical peel (removing many runs at once) from winning on density alone."""
    n_old, n_new = np.count_nonzero(old), np.count_nonzero(new)
    m_old = np.count_nonzero(y & old) / n_old
    m_new = np.count_nonzero(y & new) / n_new if n_new else 0.0
    return 0.0 if m_new == m_old or n_new == n_old else (m_new - m_old) / abs(n_old - n_new)


def _with(lims: _Lims, j: int, side: str, value: float) -> _Lims:
    bound = getattr(lims, side).copy()
    bound[j] = value
    return replace(lims, **{side: bound})


def _with_kept(lims: _Lims, j: int, kept: frozenset[int]) -> _Lims:
    return replace(lims, kept=(*lims.kept[:j], kept, *lims.kept[j + 1 :]))


def _num_peels(xj: np.ndarray, low: float, high: float, alpha: float, discrete: bool):
    """The new (side, limit) of peeling ``alpha`` off the high side, then the low side."""
    if not discrete:
        return [("high", quantile(xj, 1 - alpha)), ("low", quantile(xj, alpha))]
    # integers: EMA truncates the quantile and, where that leaves the limit, drops its value
    up, down = int(quantile(xj, 1 - alpha)), int(quantile(xj, alpha))
    keep_up = xj < high if up == high else xj <= up
    keep_down = xj > low if down == low else xj >= down
    return [
        ("high", float(xj[keep_up].max() if keep_up.any() else xj.max())),
        ("low", float(xj[keep_down].min() if keep_down.any() else xj.min())),
    ]


def _peels(r: _Runs, lims: _Lims, inside: np.ndarray, alpha: float) -> list[_Lims]:
    out = []
    for j in range(len(r.num_names)):
        for side, value in _num_peels(
            r.num[inside, j], lims.low[j], lims.high[j], alpha, r.discrete[j]
        ):
            out.append(_with(lims, j, side, value))
    for j, kept in enumerate(lims.kept):
        if len(kept) > 1:
            out.extend(_with_kept(lims, j, kept - {c}) for c in sorted(kept))
    return out


def _pastes(r: _Runs, lims: _Lims, rows: np.ndarray, alpha: float) -> list[_Lims]:
    """Per restricted dimension: the box grown by ``alpha`` of the runs just outside it."""
    out = []
    for j in range(len(r.num_names)):
        if lims.low[j] == r.lo0[j] and lims.high[j] == r.hi0[j]:
            continue
        around = _mask(r, _with(_with(lims, j, "low", r.lo0[j]), j, "high", r.hi0[j]), rows)
        xj = r.num[:, j]
        below, above = xj[around & (xj <= lims.low[j])], xj[around & (xj >= lims.high[j])]
        low = quantile(below, 1 - alpha) if below.size else r.lo0[j]
        out.append(_with(lims, j, "low", low))
        out.append(_with(lims, j, "high", quantile(above, alpha) if above.size else r.hi0[j]))
    for j, kept in enumerate(lims.kept):
        out.extend(
            _with_kept(lims, j, kept | {c}) for c in range(len(r.levels[j])) if c not in kept
        )
    return out


def _best(r: _Runs, old: np.ndarray, candidates: list[tuple[_Lims, np.ndarray]]):
    """The step with the most gain; among equals, the one restricting fewest dimensions, then
    the first (EMA's stable sort)."""
    score = [(_gain(r.y, old, m), -_n_restricted(r, lm)) for lm, m in candidates]
    i = max(range(len(candidates)), key=lambda i: (score[i], -i))
    return score[i][0], *candidates[i]


def _peel(r: _Runs, rows: np.ndarray, alpha: float, mass_min: float):
    """The peeling trajectory over ``rows``: (limits, inside) from the box of all of them."""
    n_all = len(r.y)
    lims = _Lims(r.lo0.copy(), r.hi0.copy(), tuple(frozenset(range(len(v))) for v in r.levels))
    steps = [(lims, rows.copy())]
    while True:
        lims, inside = steps[-1]
        peels = [(p, _mask(r, p, inside)) for p in _peels(r, lims, inside, alpha)]
        if not peels:
            return steps
        gain, new, mask = _best(r, inside, peels)
        mass = np.count_nonzero(mask) / n_all
        if not (mass >= mass_min and mass < np.count_nonzero(inside) / n_all and gain > 0):
            return steps
        steps.append((new, mask))


def _paste(r: _Runs, rows: np.ndarray, lims: _Lims, inside: np.ndarray, alpha, mass_min):
    n_all = len(r.y)
    while True:
        pastes = [(p, _mask(r, p, rows)) for p in _pastes(r, lims, rows, alpha)]
        if not pastes:
            return lims, inside
        gain, new, mask = _best(r, inside, pastes)
        n_old, n_new = np.count_nonzero(inside), np.count_nonzero(mask)
        denser = np.count_nonzero(r.y & mask) / n_new > np.count_nonzero(r.y & inside) / n_old
        if not (n_new / n_all >= mass_min and n_new > n_old and gain > 0 and denser):
            return lims, inside
        lims, inside = new, mask


def _quasi_p(r: _Runs, lims: _Lims, inside: np.ndarray, rows: np.ndarray) -> dict:
    """Bryant & Lempert's quasi-p-value of each restricted limit: the one-sided binomial chance
    of the box's cases of interest at the density of the box without that limit (EMA's
    ``_calculate_quasip``); large means the limit adds little."""
    from scipy.stats import binomtest  # here: scipy.stats takes 0.5 s to import

    n, k = np.count_nonzero(inside), np.count_nonzero(r.y & inside)

    def qp(relaxed: _Lims) -> float:
        m = _mask(r, relaxed, rows)
        return float(binomtest(k, n, np.count_nonzero(r.y & m) / np.count_nonzero(m), "greater")
                     .pvalue)  # fmt: skip

    out = {}
    for j, name in enumerate(r.num_names):
        low = qp(_with(lims, j, "low", r.lo0[j])) if lims.low[j] != r.lo0[j] else None
        high = qp(_with(lims, j, "high", r.hi0[j])) if lims.high[j] != r.hi0[j] else None
        if low is not None or high is not None:
            out[name] = (low, high)
    for j, name in enumerate(r.cat_names):
        if len(lims.kept[j]) < len(r.levels[j]):
            out[name] = (qp(_with_kept(lims, j, frozenset(range(len(r.levels[j]))))), None)
    return out


def _box(r: _Runs, lims: _Lims, inside: np.ndarray, qp: dict | None = None) -> Box:
    n, k = int(np.count_nonzero(inside)), int(np.count_nonzero(r.y & inside))
    limits = {
        name: (
            float(lims.low[j]) if lims.low[j] != r.lo0[j] else None,
            float(lims.high[j]) if lims.high[j] != r.hi0[j] else None,
        )
        for j, name in enumerate(r.num_names)
        if lims.low[j] != r.lo0[j] or lims.high[j] != r.hi0[j]
    }
    categories = {
        name: frozenset(r.levels[j][sorted(lims.kept[j])].tolist())
        for j, name in enumerate(r.cat_names)
        if len(lims.kept[j]) < len(r.levels[j])
    }
    return Box(limits, categories, k / np.count_nonzero(r.y), k / n if n else 0.0,
               n / len(r.y), n, k, inside, qp or {}, r.outcome)  # fmt: skip


@dataclass(frozen=True)
class Search:
    """One PRIM search (EMA's ``find_box``) over the runs no earlier box holds: the peeling
    ``steps`` (step 0: all those runs), the step ``chosen`` and its pasted ``box``."""

    steps: list[Box]
    chosen: int
    box: Box
    _ctx: tuple = field(repr=False, compare=False)  # runs, rows, trajectory, settings

    @property
    def trajectory(self) -> pd.DataFrame:
        """Coverage, density, mass, runs, cases of interest and restricted dims per step."""
        keys = ["coverage", "density", "mass", "n", "k"]
        rows = [{**{a: getattr(b, a) for a in keys}, "res_dim": len(b.restricted),
                 "restricted": tuple(b.restricted)} for b in self.steps]  # fmt: skip
        return pd.DataFrame(rows).rename_axis("step")

    def select(self, i: int, *, paste: bool = True) -> Box:
        """Step ``i`` of the trajectory as a box, pasted unless ``paste=False``, with its
        quasi-p-values."""
        return _select(self._ctx, i, paste)


def _select(ctx: tuple, i: int, paste: bool) -> Box:
    r, rows, traj, paste_alpha, mass_min = ctx
    lims, inside = traj[i]
    if paste:
        lims, inside = _paste(r, rows, lims, inside, paste_alpha, mass_min)
    return _box(r, lims, inside, _quasi_p(r, lims, inside, rows))


@dataclass(frozen=True)
class PrimResult:
    """The searches of covering, in order; ``notes``: what the reader should know (a column
    left out, a single parameter, no box reaching the threshold, covering stopped early)."""

    searches: list[Search]
    notes: list[str]

    @property
    def boxes(self) -> list[Box]:
        return [s.box for s in self.searches]

    @property
    def box(self) -> Box:
        return self.searches[0].box

    @property
    def trajectory(self) -> pd.DataFrame:
        return self.searches[0].trajectory


def _choose(steps: list[Box], threshold: float) -> int | None:
    """The step with the most coverage at a density of at least ``threshold``; among equal
    coverage the densest (it dominates the others), then the earliest."""
    ok = [i for i, b in enumerate(steps) if b.density >= threshold]
    return max(ok, key=lambda i: (steps[i].coverage, steps[i].density, -i)) if ok else None


def prim(
    x: pd.DataFrame,
    y: np.ndarray | pd.Series | str,
    *,
    columns: Sequence[str] | None = None,
    threshold: float = 0.8,
    index: int | Sequence[int] | None = None,
    n_boxes: int = 1,
    peel_alpha: float = 0.05,
    paste_alpha: float = 0.05,
    mass_min: float = 0.05,
) -> PrimResult:
    """PRIM over the parameters ``columns`` of ``x`` (default: all) for the bool outcome ``y``
    (an array, or the name of a column of ``x``). Each search's box is the step at ``index``
    (an int for the first box, a sequence for the first few) or else the one with the most
    coverage at a density of at least ``threshold``, pasted. ``n_boxes`` > 1 covers: each next
    search runs on the runs no earlier box holds, while one reaches the threshold."""
    if not 0 < peel_alpha < 0.5 or not 0 < paste_alpha < 0.5 or not 0 < mass_min < 1:
        raise ValueError("prim: peel_alpha and paste_alpha must be in (0, 0.5), mass_min in (0, 1)")
    x, yb, outcome, notes = check_runs(x, y, columns, "prim")
    r = _split(x, yb, outcome)
    picks = [index] if isinstance(index, int) else list(index or [])
    rows, searches = np.ones(len(yb), dtype=bool), []
    while len(searches) < n_boxes:
        traj = _peel(r, rows, peel_alpha, mass_min)
        steps = [_box(r, lims, inside) for lims, inside in traj]
        k = len(searches)
        i = picks[k] if k < len(picks) else _choose(steps, threshold)
        if i is not None and not -len(steps) <= i < len(steps):
            raise ValueError(f"prim: index {i} is not a step of box {k + 1} (0..{len(steps) - 1})")
        i = i % len(steps) if i is not None else None
        if i is None and k > 0:
            notes.append(f"box {k + 1}: no step reaches density {threshold}; covering stopped")
            break
        if i is None:
            i = max(range(len(steps)), key=lambda s: (steps[s].density, -s))
            notes.append(f"no step reaches density {threshold}; the densest step is shown")
        ctx = (r, rows, traj, paste_alpha, mass_min)
        search = Search(steps, i, _select(ctx, i, paste=True), ctx)
        searches.append(search)
        rows = rows & ~search.box.inside
        few = np.count_nonzero(rows) < MIN_RUNS
        stop = "no case of interest" if not (yb & rows).any() else "too few runs" if few else ""
        if stop and len(searches) < n_boxes:
            notes.append(f"covering stopped after box {len(searches)}: {stop} left")
            break
    return PrimResult(searches, notes)

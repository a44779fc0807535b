"""Tipping thresholds along one parameter: P(state | x) with its uncertainty, the 0.5 crossing
with a bootstrap confidence interval, the width of the transition and the susceptibility peak,
pooled or conditional on the other swept parameters (one per slice). The state is the model's
bool state outcome (``integrated`` for nk: an integrated national market), the order parameter
its continuous order outcome (``integration_index``).

Methods (docs/ANALYSIS.md gives the formulas):
  * P(state) at each value x_j: k_j / n_j over the ok runs, with the 95% Wilson interval.
  * A logistic curve logit P = a + b x fitted by maximum likelihood with Firth's bias
    reduction (finite even when the runs separate perfectly between two grid values); its
    midpoint x0 = -a/b is the threshold, 2 ln(9)/|b| the 10-90% width of the transition.
  * The interpolated crossing: where the empirical curve first reaches 0.5 (linear
    interpolation between neighbouring values), a model-free check on x0.
  * Susceptibility: the variance across replicates of the order parameter (the integration
    index by default) at each x; its peak marks where runs disagree most.
  * Uncertainty: a nonparametric bootstrap over replicates. With common random numbers
    (replicate r has the same seed at every point) whole replicates are resampled jointly
    across points, keeping their correlation; otherwise replicates are resampled within each
    point; designs with about one run per value resample runs. Percentile intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from segmark.pipeline.analysis.data import (
    AnalysisError,
    Dataset,
    as_dataset,
    is_numeric,
    slices,
)
from segmark.pipeline.analysis.labels import outcome_label, parameter_label
from segmark.pipeline.analysis.markdown import fmt
from segmark.pipeline.analysis.stats import (
    LEVEL,
    bootstrap_weights,
    first_crossing,
    fit_logistic,
    percentile_interval,
    wilson_interval,
)
from segmark.pipeline.analysis.threshold import Threshold, where_text

N_BOOT = 2000
LN9 = math.log(9.0)


def _cells(runs: pd.DataFrame, xcol: str, state: str, order: str, clusters: str):
    """Per (axis value, cluster) sums: state count, ok runs, order sum and sum of squares."""
    xs = np.sort(runs[xcol].unique()).astype(float)
    key = runs["replicate"].to_numpy() if clusters != "runs" else np.arange(len(runs))
    ids = np.unique(key)
    xi = np.searchsorted(xs, runs[xcol].to_numpy(dtype=float))
    ci = np.searchsorted(ids, key)
    shape = (len(xs), len(ids))
    k, n, s, s2 = (np.zeros(shape) for _ in range(4))
    m = runs[order].to_numpy(dtype=float)
    np.add.at(k, (xi, ci), runs[state].to_numpy(dtype=float))
    np.add.at(n, (xi, ci), 1.0)
    np.add.at(s, (xi, ci), m)
    np.add.at(s2, (xi, ci), m * m)
    return xs, k, n, s, s2


def _min(a: float, b: float) -> float:
    return b if not np.isfinite(a) else min(a, b)


def _max(a: float, b: float) -> float:
    return b if not np.isfinite(a) else max(a, b)


@dataclass(frozen=True)
class _Boot:
    """The bootstrap replicates (row 0: the sample itself) of a curve along the axis: P(state),
    the order parameter's mean and variance per value, the logistic midpoint, slope and width,
    the interpolated crossing and the susceptibility peak."""

    p: np.ndarray  # (B+1, J)
    mean: np.ndarray
    var: np.ndarray
    x0: np.ndarray  # (B+1,)
    slope: np.ndarray
    width: np.ndarray
    cross: np.ndarray
    peak: np.ndarray


def _bootstrap(xs, k, n, s, s2, n_boot: int, joint: bool, seed: int) -> _Boot:
    rng = np.random.default_rng([seed, 0x7199])
    w = bootstrap_weights(n, n_boot, joint, rng)  # (B+1, J, C)
    kb, nb, sb, s2b = ((w * a).sum(2) for a in (k, n, s, s2))
    with np.errstate(invalid="ignore", divide="ignore"):
        pb = kb / nb
        mean_b = sb / nb
        var_b = (s2b / nb - mean_b**2) * nb / (nb - 1)
    var_b = np.where(nb > 1, np.maximum(var_b, 0.0), np.nan)
    x0, slope = fit_logistic(xs, kb, nb)
    with np.errstate(divide="ignore"):
        width = LN9 * 2 / np.abs(slope)
    peak = np.full(var_b.shape[0], np.nan)
    ok_rows = np.isfinite(var_b).any(1)
    peak[ok_rows] = xs[
        np.nanargmax(np.where(np.isfinite(var_b[ok_rows]), var_b[ok_rows], -1), axis=1)
    ]
    return _Boot(pb, mean_b, var_b, x0, slope, width, first_crossing(xs, pb), peak)


def _curve(xcol, xs, k, n, boot: _Boot, state: str, order: str, level: float) -> pd.DataFrame:
    """Per axis value: runs, the state's count and probability with its Wilson interval, the
    order parameter's mean, the susceptibility and the fitted logistic."""
    low, high = wilson_interval(k.sum(1), n.sum(1), level)
    x0, slope = boot.x0[0], boot.slope[0]
    fitted = expit(slope * (xs - x0)) if np.isfinite(x0) else np.full(len(xs), np.nan)
    return pd.DataFrame(
        {
            xcol: xs,
            "runs": n.sum(1).astype(int),
            state: k.sum(1).astype(int),
            f"p_{state}": boot.p[0],
            "p_low": low,
            "p_high": high,
            f"{order}_mean": boot.mean[0],
            "susceptibility": boot.var[0],
            "p_fit": fitted,
        }
    )


def _fit_p_value(curve: pd.DataFrame, state: str) -> float:
    """Pearson chi-square goodness of fit of the logistic to the curve."""
    valid = curve["runs"] > 0
    fitted = curve["p_fit"]
    with np.errstate(invalid="ignore", divide="ignore"):
        pearson = ((curve[state] - curve["runs"] * fitted) ** 2) / (
            curve["runs"] * fitted * (1 - fitted)
        )
    dof = int(valid.sum()) - 2
    fit_p = float(stats.chi2.sf(pearson[valid].sum(), dof)) if dof > 0 else math.nan
    return fit_p if np.isfinite(fit_p) else math.nan


def _intervals(xs, boot: _Boot, fit_p: float, state: str, level: float, notes: list[str]):
    """(crossing, its CI, width, its CI, interpolated crossing, its CI), each interval widened
    to the grid cell around the crossing when the transition is sharper than the grid;
    ``notes`` gets what the reader should know."""
    p, cross = boot.p[0], boot.cross
    crossing, crossing_ci = float(boot.x0[0]), percentile_interval(boot.x0[1:], level)
    width, width_ci = float(boot.width[0]), percentile_interval(boot.width[1:], level)
    interp, interp_ci = float(cross[0]), percentile_interval(cross[1:], level)
    lo_x, hi_x = float(xs[0]), float(xs[-1])
    nan_ci = (math.nan, math.nan)
    if not np.isfinite(cross[0]):
        side = "above" if np.nanmin(p) > 0.5 else "below"
        notes.append(
            f"P({state}) stays {side} 0.5 on [{fmt(lo_x)}, {fmt(hi_x)}]: the threshold lies "
            "outside the swept range (extend the axis)."
        )
        return math.nan, nan_ci, math.nan, nan_ci, interp, interp_ci
    share = float(np.isfinite(cross[1:]).mean()) if cross.size > 1 else math.nan
    if share < 0.99:
        notes.append(
            f"{1 - share:.0%} of bootstrap curves do not cross 0.5; the interval of the "
            "interpolated crossing uses the others."
        )
    j = int(np.searchsorted(xs, cross[0], side="right")) - 1
    lo_cell, hi_cell = float(xs[max(j, 0)]), float(xs[min(j + 1, len(xs) - 1)])
    if cross[0] == xs[max(j, 0)]:  # the curve sits at 0.5 on a grid value
        lo_cell = float(xs[max(j - 1, 0)])
    spacing = hi_cell - lo_cell
    p_lo, p_hi = p[np.searchsorted(xs, lo_cell)], p[np.searchsorted(xs, hi_cell)]
    jump = min(p_lo, p_hi) <= 0.1 and max(p_lo, p_hi) >= 0.9  # all of it in one cell
    if (np.isfinite(width) and width < spacing) or jump:
        notes.append(
            f"the transition is narrower than the grid spacing around it ({fmt(lo_cell)} to "
            f"{fmt(hi_cell)}): its width is not resolved, and the threshold's intervals are "
            "widened to that grid cell; refine the axis near the threshold."
        )
        crossing_ci = (_min(crossing_ci[0], lo_cell), _max(crossing_ci[1], hi_cell))
        interp_ci = (_min(interp_ci[0], lo_cell), _max(interp_ci[1], hi_cell))
        width_ci = (0.0, _max(width_ci[1], spacing))
    if np.isfinite(crossing_ci[0]) and (crossing_ci[0] < lo_x or crossing_ci[1] > hi_x):
        notes.append("the confidence interval reaches beyond the swept range.")
    if np.isfinite(fit_p) and fit_p < 0.01:
        notes.append(
            f"a logistic curve fits poorly (Pearson chi-square p = {fit_p:.2g}); prefer the "
            "interpolated crossing."
        )
    return crossing, crossing_ci, width, width_ci, interp, interp_ci


def estimate(
    runs: pd.DataFrame,
    axis: str,
    *,
    xcol: str | None = None,
    state: str,
    order: str,
    where: dict[str, Any] | None = None,
    pooled: list[str] | None = None,
    n_failed: int = 0,
    n_boot: int = N_BOOT,
    level: float = LEVEL,
    seed: int = 0,
    crn: bool = True,
) -> Threshold:
    """The threshold along ``axis`` (its column ``xcol``; default ``axis`` with _ for .) from
    ok runs: ``state`` a bool column, ``order`` a number column."""
    xcol = xcol or axis.replace(".", "_")
    if runs.empty:
        raise AnalysisError(
            f"no ok runs to estimate a threshold along {axis}{where_text(where or {})}."
        )
    clusters = "runs" if runs.groupby(xcol).size().median() < 2 else "replicates"
    xs, k, n, s, s2 = _cells(runs, xcol, state, order, clusters)
    if len(xs) < 3:
        raise AnalysisError(
            f"{axis} takes {len(xs)} value(s){where_text(where or {})}: a threshold needs at "
            "least 3 values along the axis."
        )
    boot = _bootstrap(xs, k, n, s, s2, n_boot, clusters == "runs" or crn, seed)
    curve = _curve(xcol, xs, k, n, boot, state, order, level)
    fit_p = _fit_p_value(curve, state)
    notes: list[str] = []
    crossing, crossing_ci, width, width_ci, interp, interp_ci = _intervals(
        xs, boot, fit_p, state, level, notes
    )
    if k.shape[1] < 10:
        notes.append(
            f"only {k.shape[1]} {clusters} to resample: bootstrap intervals are rough; add "
            "replicates."
        )
    if n_failed:
        notes.append(f"{n_failed} failed runs left out.")
    if pooled:
        notes.append(f"pooled over {', '.join(pooled)}.")
    resampling = {
        "runs": "runs (about one run per axis value)",
        "replicates": "whole replicates jointly across points (common random numbers)"
        if crn
        else "replicates within each point",
    }[clusters]
    return Threshold(
        axis=axis,
        where=dict(where or {}),
        pooled=list(pooled or []),
        curve=curve,
        direction="falling" if boot.slope[0] < 0 else "rising",
        crossing=crossing,
        crossing_ci=crossing_ci,
        width=width,
        width_ci=width_ci,
        interpolated=interp,
        interpolated_ci=interp_ci,
        susceptibility_peak=float(boot.peak[0]),
        susceptibility_peak_ci=percentile_interval(boot.peak[1:], level),
        fit_p_value=fit_p,
        boot_crossing_share=float(np.isfinite(boot.cross[1:]).mean()) if n_boot else math.nan,
        n_runs=int(n.sum()),
        n_failed=n_failed,
        n_boot=n_boot,
        level=level,
        resampling=resampling,
        order=order,
        state=state,
        notes=notes,
        boot_crossings=boot.x0[1:],
    )


def _check_axis(ds: Dataset, axis: str) -> None:
    xcol = ds.column(axis)
    if xcol not in ds.summary or ds.summary[xcol].nunique() < 2:
        raise AnalysisError(
            f"{axis} is not swept in {ds.name}; swept are: {', '.join(ds.swept) or 'nothing'}."
        )
    if not is_numeric(ds, axis):
        raise AnalysisError(f"{axis} is not numeric: a threshold needs a numeric axis.")


def tipping_threshold(
    data: Dataset | pd.DataFrame | str,
    axis: str,
    *,
    where: dict[str, Any] | None = None,
    **options: Any,
) -> Threshold:
    """The threshold of P(the model's state) along ``axis`` over the runs at ``where`` (path ->
    value; other swept parameters are pooled). Options: order (default: the model's order
    outcome), n_boot, level, seed (see :func:`estimate`)."""
    ds = as_dataset(data)
    _check_axis(ds, axis)
    state = ds.state
    order = options.pop("order", None) or ds.model.order or state
    summary = ds.summary
    for path, value in (where or {}).items():
        summary = summary[summary[ds.column(path)] == value]
        if summary.empty:
            raise AnalysisError(f"no runs at {path} = {value!r} in {ds.name}.")
    ok = summary[summary["status"] == "ok"]
    ok = ok.assign(**{state: ok[state].astype(bool)})
    pooled = [p for p in ds.swept if p != axis and p not in (where or {})]
    result = estimate(
        ok,
        axis,
        xcol=ds.column(axis),
        state=state,
        order=order,
        where=where,
        pooled=pooled,
        n_failed=int((summary["status"] != "ok").sum()),
        crn=ds.common_random_numbers,
        **options,
    )
    result.labels = {
        axis: parameter_label(ds.model, axis),
        state: outcome_label(ds.model, state),
        order: outcome_label(ds.model, order),
    }
    return result


def tipping_thresholds(
    data: Dataset | pd.DataFrame | str,
    axis: str,
    by: list[str] | None = None,
    **options: Any,
) -> list[Threshold]:
    """One threshold along ``axis`` per slice of the ``by`` parameters (default: every other
    swept parameter), i.e. conditional on them."""
    ds = as_dataset(data)
    _check_axis(ds, axis)
    by = [p for p in ds.swept if p != axis] if by is None else list(by)
    out = []
    for where, runs in slices(ds, by):
        if runs[ds.column(axis)].nunique() < 3:
            continue
        out.append(tipping_threshold(ds, axis, where=where, **options))
    return out


def clustered_thresholds(
    data: Dataset | pd.DataFrame | str,
    axis: str,
    by: str,
    cluster: str,
    level: float = 0.95,
    **options: Any,
) -> pd.DataFrame:
    """One threshold along ``axis`` per value of ``by``, with ``cluster`` (e.g. a network's
    layout seed) as the unit of replication: a threshold per cluster, then their mean and a
    Student-t interval over clusters. Runs on one layout share it, so pooling them would
    understate how much the threshold varies from one territory to the next."""
    ds = as_dataset(data)
    rows = []
    for t in tipping_thresholds(ds, axis, by=[by, cluster], **options):
        rows.append({by: t.where[by], cluster: t.where[cluster], "threshold": t.crossing})
    if not rows:
        raise AnalysisError(f"no slice of {by} x {cluster} has 3 values of {axis} in {ds.name}.")
    per = pd.DataFrame(rows)
    out = []
    for value, group in per.groupby(by, sort=True):
        x = group["threshold"].dropna().to_numpy()  # a layout that never crosses has none
        half = (
            stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
            if len(x) > 1
            else math.nan
        )
        mean = float(x.mean()) if len(x) else math.nan
        out.append(
            {
                by: value,
                "clusters": len(x),
                "without_threshold": len(group) - len(x),
                "threshold": mean,
                "ci_low": mean - half,
                "ci_high": mean + half,
                "per_cluster": group.sort_values(cluster)["threshold"].round(4).tolist(),
            }
        )
    return pd.DataFrame(out)


def threshold_table(results: list[Threshold]) -> pd.DataFrame:
    """The thresholds of :func:`tipping_thresholds` as one table, one row per slice."""
    return pd.DataFrame([r.as_dict() for r in results])

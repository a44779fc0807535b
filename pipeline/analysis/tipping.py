"""Tipping thresholds along one parameter: P(integrated | x) with its uncertainty, the 0.5
crossing with a bootstrap confidence interval, the width of the transition and the
susceptibility peak, pooled or conditional on the other swept parameters (one per slice).

Methods (docs/ANALYSIS.md gives the formulas):
  * P(integrated) at each value x_j: k_j / n_j over the ok runs, with the 95% Wilson interval.
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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from segmark.pipeline.analysis.data import (
    AnalysisError,
    Dataset,
    as_dataset,
    column,
    is_numeric,
    slices,
)

LEVEL = 0.95
N_BOOT = 2000
LN9 = math.log(9.0)


def wilson_interval(k: np.ndarray, n: np.ndarray, level: float = LEVEL):
    """Wilson score interval of a binomial proportion (NaN where n == 0)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return centre - half, centre + half


def fit_logistic(x: np.ndarray, k: np.ndarray, n: np.ndarray, iterations: int = 100):
    """Firth-penalised logistic regression of k successes in n trials at x, vectorised over
    rows: ``k`` and ``n`` are (B, J) (or (J,)). Returns (midpoint x0, slope b) per row, in the
    units of x (x0 NaN where the slope is ~0)."""
    x = np.asarray(x, dtype=float)
    k = np.atleast_2d(np.asarray(k, dtype=float))
    n = np.atleast_2d(np.asarray(n, dtype=float))
    centre, scale = x.mean(), (x.std() or 1.0)
    z = (x - centre) / scale
    a = np.zeros(k.shape[0])
    b = np.zeros(k.shape[0])
    for _ in range(iterations):
        p = expit(a[:, None] + b[:, None] * z)
        w = n * p * (1 - p)
        i00, i01, i11 = w.sum(1), (w * z).sum(1), (w * z * z).sum(1)
        det = i00 * i11 - i01**2
        det = np.where(det > 1e-300, det, 1e-300)
        hat = w * (i11[:, None] - 2 * i01[:, None] * z + i00[:, None] * z * z) / det[:, None]
        r = k - n * p + hat * (0.5 - p)
        ua, ub = r.sum(1), (r * z).sum(1)
        da = (i11 * ua - i01 * ub) / det
        db = (-i01 * ua + i00 * ub) / det
        step = np.maximum(np.abs(da), np.abs(db))
        shrink = np.where(step > 2.0, 2.0 / np.maximum(step, 1e-300), 1.0)
        a += shrink * da
        b += shrink * db
        if np.nanmax(step) < 1e-10:
            break
    slope = b / scale
    with np.errstate(divide="ignore", invalid="ignore"):
        x0 = np.where(np.abs(b) > 1e-9, centre - a / b * scale, np.nan)
    return x0, slope


def first_crossing(x: np.ndarray, p: np.ndarray, level: float = 0.5) -> np.ndarray:
    """Where each row of ``p`` (B, J) first reaches or crosses ``level`` along ``x`` (linear
    interpolation); NaN for rows that never do."""
    p = np.atleast_2d(p)
    d = p - level
    left, right = d[:, :-1], d[:, 1:]
    hit = (left == 0) | (left * right < 0)
    hit[:, -1] |= right[:, -1] == 0
    hit &= np.isfinite(left) & np.isfinite(right)
    found = hit.any(1)
    j = np.argmax(hit, axis=1)
    rows = np.arange(p.shape[0])
    dl, dr = left[rows, j], right[rows, j]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(dl != dr, dl / (dl - dr), 0.0)
    cross = x[j] + (x[j + 1] - x[j]) * frac
    return np.where(found, cross, np.nan)


@dataclass
class Threshold:
    """The tipping threshold of P(integrated) along ``axis`` within one slice."""

    axis: str
    where: dict[str, Any]  # values of the other parameters fixed in this slice ({}: pooled)
    pooled: list[str]  # other swept parameters pooled over
    curve: pd.DataFrame  # per axis value: runs, failed, p, p_low, p_high, order mean/var
    direction: str  # "falling" or "rising": how P(integrated) moves as the axis grows
    crossing: float  # logistic midpoint: the threshold
    crossing_ci: tuple[float, float]
    width: float  # 10-90% distance of the fitted logistic
    width_ci: tuple[float, float]
    interpolated: float  # first 0.5 crossing of the empirical curve
    interpolated_ci: tuple[float, float]
    susceptibility_peak: float  # axis value where the order parameter varies most
    susceptibility_peak_ci: tuple[float, float]
    fit_p_value: float  # Pearson chi-square goodness of fit of the logistic
    boot_crossing_share: float  # share of bootstrap curves that cross 0.5
    n_runs: int
    n_failed: int
    n_boot: int
    level: float
    resampling: str
    order: str
    notes: list[str] = field(default_factory=list)
    boot_crossings: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    @property
    def found(self) -> bool:
        return bool(np.isfinite(self.crossing))

    @property
    def ci_width(self) -> float:
        return float(self.crossing_ci[1] - self.crossing_ci[0])

    def describe(self) -> str:
        """One sentence with the threshold, its interval and the width."""
        where = _where_text(self.where)
        pct = f"{self.level:.0%}"
        if not self.found:
            return f"Along {self.axis}{where}: no threshold in the swept range. " + (
                self.notes[0] if self.notes else ""
            )
        return (
            f"Along {self.axis}{where}, P(integrated) is {self.direction} and crosses 0.5 at "
            f"{fmt(self.crossing)} ({pct} CI {fmt(self.crossing_ci[0])}-"
            f"{fmt(self.crossing_ci[1])}; interpolated crossing {fmt(self.interpolated)}); the "
            f"transition (10-90%) is {fmt(self.width)} wide ({pct} CI {fmt(self.width_ci[0])}-"
            f"{fmt(self.width_ci[1])}); susceptibility peaks at {fmt(self.susceptibility_peak)}."
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "axis": self.axis,
            **{f"at {k}": v for k, v in self.where.items()},
            "threshold": self.crossing,
            "ci_low": self.crossing_ci[0],
            "ci_high": self.crossing_ci[1],
            "width": self.width,
            "width_low": self.width_ci[0],
            "width_high": self.width_ci[1],
            "interpolated": self.interpolated,
            "interp_low": self.interpolated_ci[0],
            "interp_high": self.interpolated_ci[1],
            "susceptibility_peak": self.susceptibility_peak,
            "peak_low": self.susceptibility_peak_ci[0],
            "peak_high": self.susceptibility_peak_ci[1],
            "direction": self.direction,
            "fit_p_value": self.fit_p_value,
            "runs": self.n_runs,
            "failed": self.n_failed,
        }


def fmt(value: float, digits: int = 4) -> str:
    """A number as the report prints it (``digits`` significant digits; 'n/a' for NaN)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:.{digits}g}"


def _where_text(where: dict[str, Any]) -> str:
    if not where:
        return ""
    return " at " + ", ".join(
        f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}" for k, v in where.items()
    )


def _cells(runs: pd.DataFrame, xcol: str, order: str, clusters: str):
    """Per (axis value, cluster) sums: integrated count, ok runs, order sum and sum of squares."""
    xs = np.sort(runs[xcol].unique()).astype(float)
    key = runs["replicate"].to_numpy() if clusters != "runs" else np.arange(len(runs))
    ids = np.unique(key)
    xi = np.searchsorted(xs, runs[xcol].to_numpy(dtype=float))
    ci = np.searchsorted(ids, key)
    shape = (len(xs), len(ids))
    k, n, s, s2 = (np.zeros(shape) for _ in range(4))
    m = runs[order].to_numpy(dtype=float)
    np.add.at(k, (xi, ci), runs["integrated"].to_numpy(dtype=float))
    np.add.at(n, (xi, ci), 1.0)
    np.add.at(s, (xi, ci), m)
    np.add.at(s2, (xi, ci), m * m)
    return xs, k, n, s, s2


def _weights(n: np.ndarray, n_boot: int, joint: bool, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap multiplicities (B, J, C) of clusters: joint across points, or per point over
    the clusters present there. Row 0 is the original sample (all ones)."""
    j_points, c = n.shape
    w = np.empty((n_boot + 1, j_points, c))
    w[0] = (n > 0).astype(float)
    if joint:
        draws = rng.multinomial(c, np.full(c, 1.0 / c), size=n_boot).astype(float)
        w[1:] = draws[:, None, :]
    else:
        for j in range(j_points):
            present = np.flatnonzero(n[j] > 0)
            w[1:, j, :] = 0.0
            if present.size:
                counts = rng.multinomial(
                    present.size, np.full(present.size, 1 / present.size), size=n_boot
                )
                w[1:, j, present] = counts
    return w


def _min(a: float, b: float) -> float:
    return b if not np.isfinite(a) else min(a, b)


def _max(a: float, b: float) -> float:
    return b if not np.isfinite(a) else max(a, b)


def _percentile(values: np.ndarray, level: float) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if values.size < 10:
        return (math.nan, math.nan)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return (float(low), float(high))


def estimate(
    runs: pd.DataFrame,
    axis: str,
    *,
    where: dict[str, Any] | None = None,
    pooled: list[str] | None = None,
    n_failed: int = 0,
    order: str = "integration_index",
    n_boot: int = N_BOOT,
    level: float = LEVEL,
    seed: int = 0,
    crn: bool = True,
) -> Threshold:
    """The threshold along ``axis`` from ok runs (``integrated`` bool)."""
    xcol = column(axis)
    if runs.empty:
        raise AnalysisError(
            f"no ok runs to estimate a threshold along {axis}{_where_text(where or {})}."
        )
    per_value = runs.groupby(xcol).size()
    clusters = "runs" if per_value.median() < 2 else "replicates"
    joint = clusters == "runs" or crn
    xs, k, n, s, s2 = _cells(runs, xcol, order, clusters)
    if len(xs) < 3:
        raise AnalysisError(
            f"{axis} takes {len(xs)} value(s){_where_text(where or {})}: a threshold needs at "
            "least 3 values along the axis."
        )
    rng = np.random.default_rng([seed, 0x7199])
    w = _weights(n, n_boot, joint, rng)  # (B+1, J, C)
    kb = (w * k).sum(2)
    nb = (w * n).sum(2)
    sb = (w * s).sum(2)
    s2b = (w * s2).sum(2)
    with np.errstate(invalid="ignore", divide="ignore"):
        pb = kb / nb
        mean_b = sb / nb
        var_b = (s2b / nb - mean_b**2) * nb / (nb - 1)
    var_b = np.where(nb > 1, np.maximum(var_b, 0.0), np.nan)
    x0, slope = fit_logistic(xs, kb, nb)
    with np.errstate(divide="ignore"):
        width = LN9 * 2 / np.abs(slope)
    cross = first_crossing(xs, pb)
    peak = np.full(var_b.shape[0], np.nan)
    ok_rows = np.isfinite(var_b).any(1)
    peak[ok_rows] = xs[
        np.nanargmax(np.where(np.isfinite(var_b[ok_rows]), var_b[ok_rows], -1), axis=1)
    ]

    p = pb[0]
    low, high = wilson_interval(k.sum(1), n.sum(1), level)
    curve = pd.DataFrame(
        {
            xcol: xs,
            "runs": n.sum(1).astype(int),
            "integrated": k.sum(1).astype(int),
            "p_integrated": p,
            "p_low": low,
            "p_high": high,
            f"{order}_mean": mean_b[0],
            "susceptibility": var_b[0],
        }
    )
    fitted = expit(slope[0] * (xs - x0[0])) if np.isfinite(x0[0]) else np.full(len(xs), np.nan)
    curve["p_fit"] = fitted
    notes: list[str] = []
    direction = "falling" if (slope[0] < 0) else "rising"
    valid = curve["runs"] > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        pearson = ((curve["integrated"] - curve["runs"] * fitted) ** 2) / (
            curve["runs"] * fitted * (1 - fitted)
        )
    dof = int(valid.sum()) - 2
    fit_p = float(stats.chi2.sf(pearson[valid].sum(), dof)) if dof > 0 else math.nan
    if not np.isfinite(fit_p):
        fit_p = math.nan
    boot_share = float(np.isfinite(cross[1:]).mean()) if n_boot else math.nan
    crossing, crossing_ci = float(x0[0]), _percentile(x0[1:], level)
    width0, width_ci = float(width[0]), _percentile(width[1:], level)
    interp, interp_ci = float(cross[0]), _percentile(cross[1:], level)
    lo_x, hi_x = float(xs[0]), float(xs[-1])
    if not np.isfinite(cross[0]):
        side = "above" if np.nanmin(p) > 0.5 else "below"
        notes.append(
            f"P(integrated) stays {side} 0.5 on [{fmt(lo_x)}, {fmt(hi_x)}]: the threshold lies "
            "outside the swept range (extend the axis)."
        )
        crossing, crossing_ci = math.nan, (math.nan, math.nan)
        width0, width_ci = math.nan, (math.nan, math.nan)
    else:
        if boot_share < 0.99:
            notes.append(
                f"{1 - boot_share:.0%} of bootstrap curves do not cross 0.5; the interval of the "
                "interpolated crossing uses the others."
            )
        j = int(np.searchsorted(xs, cross[0], side="right")) - 1
        lo_cell, hi_cell = float(xs[max(j, 0)]), float(xs[min(j + 1, len(xs) - 1)])
        if cross[0] == xs[max(j, 0)]:  # the curve sits at 0.5 on a grid value
            lo_cell = float(xs[max(j - 1, 0)])
        spacing = hi_cell - lo_cell
        p_lo, p_hi = p[np.searchsorted(xs, lo_cell)], p[np.searchsorted(xs, hi_cell)]
        jump = min(p_lo, p_hi) <= 0.1 and max(p_lo, p_hi) >= 0.9  # all of it in one cell
        if (np.isfinite(width0) and width0 < spacing) or jump:
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
        direction=direction,
        crossing=crossing,
        crossing_ci=crossing_ci,
        width=width0,
        width_ci=width_ci,
        interpolated=interp,
        interpolated_ci=interp_ci,
        susceptibility_peak=float(peak[0]),
        susceptibility_peak_ci=_percentile(peak[1:], level),
        fit_p_value=fit_p,
        boot_crossing_share=boot_share,
        n_runs=int(n.sum()),
        n_failed=n_failed,
        n_boot=n_boot,
        level=level,
        resampling=resampling,
        order=order,
        notes=notes,
        boot_crossings=x0[1:],
    )


def _check_axis(ds: Dataset, axis: str) -> None:
    xcol = column(axis)
    if xcol not in ds.summary or ds.summary[xcol].nunique() < 2:
        raise AnalysisError(
            f"{axis} is not swept in {ds.name}; swept are: {', '.join(ds.swept) or 'nothing'}."
        )
    if not is_numeric(ds.summary, axis):
        raise AnalysisError(f"{axis} is not numeric: a threshold needs a numeric axis.")


def tipping_threshold(
    data: Dataset | pd.DataFrame | str,
    axis: str,
    *,
    where: dict[str, Any] | None = None,
    **options: Any,
) -> Threshold:
    """The threshold along ``axis`` over the runs at ``where`` (path -> value; other swept
    parameters are pooled). Options: order, n_boot, level, seed (see :func:`estimate`)."""
    ds = as_dataset(data)
    _check_axis(ds, axis)
    summary = ds.summary
    for path, value in (where or {}).items():
        summary = summary[summary[column(path)] == value]
        if summary.empty:
            raise AnalysisError(f"no runs at {path} = {value!r} in {ds.name}.")
    ok = summary[summary["status"] == "ok"].assign(
        integrated=lambda f: f["integrated"].astype(bool)
    )
    pooled = [p for p in ds.swept if p != axis and p not in (where or {})]
    return estimate(
        ok,
        axis,
        where=where,
        pooled=pooled,
        n_failed=int((summary["status"] != "ok").sum()),
        crn=ds.common_random_numbers,
        **options,
    )


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
    for where, runs in slices(ds.summary, by):
        if runs[column(axis)].nunique() < 3:
            continue
        out.append(tipping_threshold(ds, axis, where=where, **options))
    return out


def threshold_table(results: list[Threshold]) -> pd.DataFrame:
    """The thresholds of :func:`tipping_thresholds` as one table, one row per slice."""
    return pd.DataFrame([r.as_dict() for r in results])

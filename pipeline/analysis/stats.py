"""The statistics behind tipping thresholds: binomial intervals, a bias-reduced logistic fit,
where a curve crosses a level, and bootstrap weights of clustered runs (docs/ANALYSIS.md)."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats
from scipy.special import expit

LEVEL = 0.95


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


def crossing_cells(p: np.ndarray, level: float = 0.5) -> np.ndarray:
    """The grid cell (j: between values j and j + 1) where each row of ``p`` (B, J) first
    reaches or crosses ``level``; -1 for rows that never do."""
    p = np.atleast_2d(p)
    d = p - level
    left, right = d[:, :-1], d[:, 1:]
    hit = (left == 0) | (left * right < 0)
    hit[:, -1] |= right[:, -1] == 0
    hit &= np.isfinite(left) & np.isfinite(right)
    return np.where(hit.any(1), np.argmax(hit, axis=1), -1)


def first_crossing(x: np.ndarray, p: np.ndarray, level: float = 0.5) -> np.ndarray:
    """Where each row of ``p`` (B, J) first reaches or crosses ``level`` along ``x`` (linear
    interpolation in its :func:`crossing_cells` cell); NaN for rows that never do."""
    p = np.atleast_2d(p)
    cells = crossing_cells(p, level)
    j = np.maximum(cells, 0)
    rows = np.arange(p.shape[0])
    dl, dr = p[rows, j] - level, p[rows, j + 1] - level
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(dl != dr, dl / (dl - dr), 0.0)
    cross = x[j] + (x[j + 1] - x[j]) * frac
    return np.where(cells >= 0, cross, np.nan)


def bootstrap_weights(
    n: np.ndarray, n_boot: int, joint: bool, rng: np.random.Generator
) -> np.ndarray:
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


def percentile_interval(values: np.ndarray, level: float) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if values.size < 10:
        return (math.nan, math.nan)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return (float(low), float(high))

"""Survey moments: the numbers the ``nk`` model is calibrated and tested against.

The Daily NK market-price survey (``kernels/data/dailynk_hub_prices_2013_2019.csv``, attribution
in ``kernels/data/SOURCES.md``) gives rice prices (KPW/kg) and the dollar rate (KPW per USD) in
Pyongyang, Sinuiju and Hyesan on 103 irregularly spaced dates from 2013-01-09 to 2019-12-22.
``moments`` reduces such a panel, the survey's or a weekly model run sampled like it
(``sample_like_survey``), to a few numbers; ``bootstrap`` gives their sampling uncertainty.

Only 2013-2019 is packaged and used. Later survey data are reserved for out-of-sample
validation and must never be used to set a parameter: ``load`` refuses any date outside
2013-2019.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

HUBS = ("pyongyang", "sinuiju", "hyesan")
DATA = "dailynk_hub_prices_2013_2019.csv"
YEARS = (2013, 2019)  # the calibration window; later years are the out-of-sample test
START = np.datetime64("2013-01-09", "D")  # the survey's first date: day 0
# hub pairs (later, earlier column) whose log price gap is an AR(1)
PAIRS = {"ps": (1, 0), "ph": (2, 0), "sh": (2, 1)}
YEAR_DAYS = 365.25
WITHIN = np.log(1.05)  # a pair is "within 5%" when its |log gap| is at most this
HALFLIFE_FLOOR = 1.0  # days: surveys are >= 1 week apart, faster reversion all looks alike
HALFLIFE_CAP = 3650.0  # days: no visible reversion within a decade
# half-lives searched (log-spaced, 2% apart) before the parabolic refinement
_GRID = np.geomspace(HALFLIFE_FLOOR, HALFLIFE_CAP, 421)
LEAN, HARVEST = (4, 6), (10, 11)  # months (first, last): spring lean season, autumn harvest


@dataclass(frozen=True, eq=False)
class Survey:
    """The survey panel: T dates, columns of ``rice`` and ``usd`` in ``HUBS`` order."""

    days: np.ndarray  # float64 (T,): days since the first survey date
    dates: np.ndarray  # datetime64[D] (T,)
    rice: np.ndarray  # float64 (T, 3): KPW per kg
    usd: np.ndarray  # float64 (T, 3): KPW per USD, NaN where not reported


def load() -> Survey:
    """The packaged survey, one row per date (raises if a date lies outside 2013-2019)."""
    with resources.files("segmark.kernels").joinpath("data", DATA).open(encoding="utf-8") as f:
        wide = pd.read_csv(f, parse_dates=["date"]).pivot(index="date", columns="city")
    dates = wide.index.to_numpy().astype("datetime64[D]")
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    if years.min() < YEARS[0] or years.max() > YEARS[1]:
        raise ValueError(f"{DATA} has dates outside {YEARS}: later data are out-of-sample only")
    rice = wide["rice_kpw_per_kg"][list(HUBS)].to_numpy(np.float64)
    if np.isnan(rice).any():
        raise ValueError(f"{DATA}: a hub lacks a rice price on some date")
    days = (dates - dates[0]).astype(np.float64)
    usd = wide["kpw_per_usd"][list(HUBS)].to_numpy(np.float64)
    return Survey(days=days, dates=dates, rice=rice, usd=usd)


def moments(
    days: np.ndarray,
    rice: np.ndarray,
    usd: np.ndarray | None = None,
    *,
    segments: Sequence[np.ndarray] | None = None,
    start: np.datetime64 = START,
) -> dict[str, float]:
    """The moments of a hub panel: ``rice`` (T, 3) KPW/kg in ``HUBS`` order at ``days`` (T,).

    - ``hub_cv``: mean over dates of the cross-hub coefficient of variation (sd, ddof=0, / mean);
    - ``gap_sinuiju``, ``gap_hyesan``: mean over dates of log(S/P) and log(H/P);
    - ``within5_ps``, ``within5_ph``: share of dates whose |log gap| to Pyongyang <= log 1.05;
    - ``halflife_ps``, ``halflife_ph``, ``halflife_sh``: days for half of a pair's log gap
      deviation to decay (``halflife``), from consecutive dates inside one of ``segments``
      (index arrays of runs of consecutive rows; default: all rows, one run);
    - ``lean_season_rise``: ``lean_season_rise`` of the hub-mean price on the calendar
      ``start + days`` (``start``: the date of day 0, by default the survey's first date, so a
      model series from ``sample_like_survey`` is read on the survey's calendar);
    - with ``usd`` (T, 3) KPW per USD: ``usd_cv`` (as ``hub_cv``, dates with a NaN left out),
      ``usd_trend`` (least-squares slope of the log hub-mean rate, per year),
      ``rice_kpw`` (mean price), ``kpw_per_usd`` (mean rate), ``rice_usd`` (mean USD per kg).
    """
    days, rice = np.asarray(days, np.float64), np.asarray(rice, np.float64)
    if rice.shape != (len(days), len(HUBS)):
        raise ValueError(f"rice must be (T, {len(HUBS)}) for {len(days)} days, not {rice.shape}")
    log_rice = np.log(rice)
    gap = {pair: log_rice[:, a] - log_rice[:, b] for pair, (a, b) in PAIRS.items()}
    out = {
        "hub_cv": _mean_cv(rice),
        "gap_sinuiju": float(gap["ps"].mean()),
        "gap_hyesan": float(gap["ph"].mean()),
        "within5_ps": float(np.mean(np.abs(gap["ps"]) <= WITHIN)),
        "within5_ph": float(np.mean(np.abs(gap["ph"]) <= WITHIN)),
    }
    for pair, g in gap.items():
        out[f"halflife_{pair}"] = halflife(days, g, segments)
    dates = start + np.round(days).astype("timedelta64[D]")
    out["lean_season_rise"] = lean_season_rise(dates, rice.mean(axis=1))
    if usd is not None:
        out |= _dollar_moments(days, rice, np.asarray(usd, np.float64))
    return out


def halflife(days: np.ndarray, gap: np.ndarray, segments: Sequence | None = None) -> float:
    """Half-life in days of ``gap`` as a discretely sampled AR(1) (Ornstein-Uhlenbeck) process.

    Over consecutive observations d days apart, g(t+d) - mu = rho**d (g(t) - mu) + e.
    With a = rho**d = 0.5**(d / h) the model is linear in mu for a given half-life h, so mu is
    profiled out by least squares and the sum of squared residuals is searched over a log grid
    of h in [HALFLIFE_FLOOR, HALFLIFE_CAP], then refined by a parabola through the best three
    grid points (nonlinear least squares without a start value to get wrong). Pairs come only
    from within ``segments``; pairs with a NaN are left out. NaN with fewer than 3 pairs.
    """
    days, gap = np.asarray(days, np.float64), np.asarray(gap, np.float64)
    earlier, later = _consecutive(len(days), segments)
    keep = np.isfinite(gap[earlier]) & np.isfinite(gap[later])
    earlier, later = earlier[keep], later[keep]
    if len(earlier) < 3:
        return float("nan")
    ssr = _profile_ssr(_GRID, days[later] - days[earlier], gap[earlier], gap[later])
    return _refine(_GRID, ssr)


def _consecutive(n: int, segments: Sequence[np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (earlier, later) of the consecutive observations inside each segment."""
    runs = [np.arange(n)] if segments is None else [np.asarray(s, int) for s in segments]
    earlier = np.concatenate([np.zeros(0, int)] + [s[:-1] for s in runs])
    later = np.concatenate([np.zeros(0, int)] + [s[1:] for s in runs])
    return earlier, later


def _profile_ssr(h: np.ndarray, lag: np.ndarray, g0: np.ndarray, g1: np.ndarray) -> np.ndarray:
    """Sum of squared AR(1) residuals at each half-life ``h`` (H,), mu fitted for each; ``lag``
    (days) and the gaps ``g0`` before and ``g1`` after it are (pairs,)."""
    decay = np.exp(np.multiply.outer(-np.log(2) / h, lag))  # rho**d, (H, pairs)
    target = g1 - decay * g0  # = (1 - rho**d) mu + e
    weight = 1.0 - decay
    mu = (weight * target).sum(axis=1) / np.maximum((weight**2).sum(axis=1), 1e-300)
    return ((target - weight * mu[:, None]) ** 2).sum(axis=1)


def _refine(grid: np.ndarray, f: np.ndarray) -> float:
    """The minimum of f on a log-spaced grid, refined by a parabola in log; the ends as they are."""
    i = int(np.argmin(f))
    if i in (0, len(grid) - 1):
        return float(grid[i])  # the floor or the cap
    curvature = f[i - 1] - 2 * f[i] + f[i + 1]
    shift = 0.5 * (f[i - 1] - f[i + 1]) / curvature if curvature > 0 else 0.0
    return float(grid[i] * (grid[1] / grid[0]) ** np.clip(shift, -1, 1))


def lean_season_rise(dates: np.ndarray, price: np.ndarray) -> float:
    """Mean over years y of log(mean price in Apr-Jun of y / mean price in Oct-Nov of y-1).

    Only years with dates in both windows count; NaN if none has.
    """
    month = dates.astype("datetime64[M]").astype(int) % 12 + 1
    year = dates.astype("datetime64[Y]").astype(int) + 1970
    rises = []
    for y in np.unique(year):
        lean = price[(year == y) & (month >= LEAN[0]) & (month <= LEAN[1])]
        harvest = price[(year == y - 1) & (month >= HARVEST[0]) & (month <= HARVEST[1])]
        if lean.size and harvest.size:
            rises.append(np.log(lean.mean() / harvest.mean()))
    return float(np.mean(rises)) if rises else float("nan")


def _mean_cv(values: np.ndarray) -> float:
    """Mean over rows (without a NaN) of the population coefficient of variation across hubs."""
    rows = values[~np.isnan(values).any(axis=1)]
    if len(rows) == 0:
        return float("nan")
    return float(np.mean(rows.std(axis=1) / rows.mean(axis=1)))


def _dollar_moments(days: np.ndarray, rice: np.ndarray, usd: np.ndarray) -> dict[str, float]:
    """Price levels, the dollar rate's dispersion and its trend (NaN rates left out)."""
    reported = ~np.isnan(usd)
    rate, rice_usd = usd[reported], rice[reported] / usd[reported]
    return {
        "usd_cv": _mean_cv(usd),
        "usd_trend": _trend(days, usd),
        "rice_kpw": float(rice.mean()),
        "kpw_per_usd": float(rate.mean()) if rate.size else float("nan"),
        "rice_usd": float(rice_usd.mean()) if rate.size else float("nan"),
    }


def _trend(days: np.ndarray, values: np.ndarray) -> float:
    """Least-squares slope, per year, of the log of the hubs' mean (dates with no value left
    out; NaN with fewer than two dates)."""
    counts = (~np.isnan(values)).sum(axis=1)
    kept = counts > 0
    mean = np.nansum(values, axis=1)[kept] / counts[kept]
    days = days[kept]
    if len(days) < 2 or np.ptp(days) == 0:
        return float("nan")
    return float(np.polyfit(days / YEAR_DAYS, np.log(mean), 1)[0])


def sample_like_survey(
    steps: np.ndarray, values: np.ndarray, survey_days: np.ndarray, start_step: int
) -> tuple[np.ndarray, np.ndarray]:
    """A weekly model series read at the survey's irregular spacing.

    ``steps`` (n,) are increasing 1-based week numbers, ``values`` (n, ...) the series at them.
    Survey day d is read at the week nearest to ``start_step + d / 7``; returns (days since
    ``start_step``, the rows at those weeks).
    """
    steps, values = np.asarray(steps), np.asarray(values)
    weeks = start_step + np.floor(np.asarray(survey_days, np.float64) / 7 + 0.5).astype(int)
    at = np.searchsorted(steps, weeks).clip(0, max(len(steps) - 1, 0))
    if len(steps) == 0 or not np.array_equal(steps[at], weeks):
        have = f"weeks {steps.min()}..{steps.max()}" if len(steps) else "no weeks"
        raise ValueError(
            f"the model series ({have}) is too short for the survey read from week "
            f"{start_step}: it needs weeks {weeks.min()}..{weeks.max()}"
        )
    return 7.0 * (weeks - start_step), values[at]


def bootstrap(
    survey: Survey, n: int = 2000, block: int = 8, seed: int = 0, level: float = 0.9
) -> dict[str, tuple[float, float, float]]:
    """(estimate, lower, upper) of each moment: the central ``level`` percentile interval of a
    moving-block bootstrap over the survey dates.

    A replicate concatenates blocks of ``block`` consecutive dates, each starting at a uniformly
    drawn date, until it has T rows; the blocks keep the serial dependence within them, and
    each is its own segment for the AR(1) pairs (no pair across the seam of two blocks).
    """
    T = len(survey.days)
    if not 1 <= block <= T:
        raise ValueError(f"block must be in 1..{T} (the survey's dates), not {block}")
    starts = np.random.default_rng(seed).integers(0, T - block + 1, size=(n, -(-T // block)))
    rows = (starts[:, :, None] + np.arange(block)).reshape(n, -1)[:, :T]
    segments = [np.arange(i, min(i + block, T)) for i in range(0, T, block)]
    estimate = _moments_of(survey, np.arange(T), None)
    draws = np.array([list(_moments_of(survey, r, segments).values()) for r in rows])
    tail = 50 * (1 - level)
    return {
        name: (value, *_percentiles(draws[:, j], (tail, 100 - tail)))
        for j, (name, value) in enumerate(estimate.items())
    }


def _moments_of(s: Survey, rows: np.ndarray, segments: Sequence | None) -> dict[str, float]:
    """The moments of the survey's ``rows``, in that order."""
    return moments(s.days[rows], s.rice[rows], s.usd[rows], segments=segments, start=s.dates[0])


def _percentiles(draws: np.ndarray, q: tuple[float, float]) -> tuple[float, float]:
    """Percentiles of the defined draws (NaN where a replicate has no value, e.g. no year)."""
    defined = draws[~np.isnan(draws)]
    if defined.size == 0:
        return float("nan"), float("nan")
    low, high = np.percentile(defined, q)
    return float(low), float(high)


def table(intervals: dict[str, tuple[float, float, float]]) -> pd.DataFrame:
    """``bootstrap``'s result as a frame: one row per moment, estimate, lower and upper."""
    return pd.DataFrame.from_dict(intervals, orient="index", columns=["estimate", "lower", "upper"])

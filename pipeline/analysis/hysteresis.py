"""Hysteresis and early-warning signals from ramp runs (model.ramp_parameter set).

* Loop: a ``cycle`` run moves the parameter x from a to b and back within one run. The order
  parameter m (the weekly ``lcc_share``: population share of the largest price-linked market)
  is averaged in bins of x on each leg; the loop area is A = sum_bins (m_out(x) - m_back(x)) dx
  (positive when the state lags behind x both ways), one value per run; its mean across
  replicates has a percentile bootstrap interval.
* Bistability: ``step`` runs held at a start value (integrated or segmented side), then moved
  at once to x and left there; P(integrated at the end) from each start, and the difference
  with a bootstrap interval, per x. A difference whose interval excludes 0 means two stable
  states at the same x: the transition is not reversible there.
* Early warnings: along the outbound leg, up to where the run tips (the 8-sample running mean
  of m crosses model.integration_threshold), the price-dispersion series is detrended (running
  mean over a quarter of the window), and the rolling variance and lag-1 autocorrelation (window:
  half the series) get a Kendall tau against time. Each tau is tested against 200 AR(1)
  surrogates fitted to the detrended series (one-sided p < 0.05: the indicator "fires").
  The third indicator is spatial correlation: the rolling mean (same window) of the weekly
  Moran's I of price changes over the links (series ``spatial_correlation``), its tau tested
  against AR(1) surrogates of that series. Ramps that do not tip are tested over the same
  number of samples: false alarms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segmark.pipeline.analysis.data import AnalysisError, Dataset, as_dataset
from segmark.pipeline.scenarios import ramp_values

ORDER = "lcc_share"
INDICATOR_SERIES = "price_dispersion"
SPATIAL_SERIES = "spatial_correlation"
INDICATORS = ("variance", "autocorrelation", "spatial")
INDICATOR_TEXT = {
    "variance": "rolling variance\nof price dispersion",
    "autocorrelation": "rolling lag-1 autocorrelation\nof price dispersion",
    "spatial": "rolling mean of Moran's I\nof price changes",
}
N_BINS = 20
N_SURROGATES = 200
MIN_SAMPLES = 24
RAMP_COLUMNS = [
    "model_ramp_parameter",
    "model_ramp_from",
    "model_ramp_to",
    "model_ramp_hold",
    "model_ramp_weeks",
]


def ramp_runs(data: Dataset | str, shape: str | None = None) -> pd.DataFrame:
    ds = as_dataset(data)
    if "model_ramp_parameter" not in ds.summary.columns:
        return ds.summary.iloc[:0]
    runs = ds.summary[ds.summary["model_ramp_parameter"] != "none"]
    if shape is not None:
        runs = runs[runs["model_ramp_shape"] == shape]
    return runs


def _x_of(run: pd.Series, steps: np.ndarray) -> np.ndarray:
    return ramp_values(
        run["model_ramp_shape"],
        float(run["model_ramp_from"]),
        float(run["model_ramp_to"]),
        int(run["model_ramp_hold"]),
        int(run["model_ramp_weeks"]),
        steps - 1,
    )


def loop_area_of(
    x: np.ndarray,
    m: np.ndarray,
    out: np.ndarray,
    back: np.ndarray,
    a: float,
    b: float,
    bins: int = N_BINS,
):
    """Per-bin means of m on the outbound and return legs and the signed area between them
    (outbound minus return, integrated along the direction a -> b)."""
    edges = np.linspace(min(a, b), max(a, b), bins + 1)
    centre = (edges[1:] + edges[:-1]) / 2

    def binned(mask):
        idx = np.clip(np.digitize(x[mask], edges) - 1, 0, bins - 1)
        sums = np.bincount(idx, m[mask], bins)
        counts = np.bincount(idx, None, bins)
        with np.errstate(invalid="ignore"):
            return sums / counts

    m_out, m_back = binned(out), binned(back)
    diff = m_out - m_back
    area = float(np.nansum(diff) * (edges[1] - edges[0]) * np.sign(b - a))
    return centre, m_out, m_back, area


@dataclass
class Loop:
    parameter: str
    start: float
    end: float
    weeks: int
    areas: np.ndarray  # one per run
    area: float
    area_ci: tuple[float, float]
    curves: pd.DataFrame  # x, mean m outbound and return (across runs)
    returned: float  # share of runs integrated at the end (back at start)
    started: float  # share integrated before the ramp (hold period)
    level: float = 0.95

    def describe(self) -> str:
        pct = f"{self.level:.0%}"
        lo, hi = self.area_ci
        verdict = "no loop is detectable" if lo <= 0 <= hi else "the loop is significant"
        return (
            f"Cycle {self.parameter} {self.start:g} -> {self.end:g} -> {self.start:g} "
            f"({self.weeks} weeks a leg, {len(self.areas)} runs): loop area {self.area:.4g} "
            f"({pct} CI {lo:.4g} to {hi:.4g}; units of {ORDER} x parameter): {verdict}; "
            f"{self.started:.0%} of runs were integrated before the ramp and "
            f"{self.returned:.0%} at its end."
        )


def _bootstrap_mean(values: np.ndarray, level: float, seed: int, n_boot: int = 2000):
    values = values[np.isfinite(values)]
    if values.size < 2:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng([seed, 0x4E57])
    means = values[rng.integers(0, values.size, (n_boot, values.size))].mean(1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return (float(lo), float(hi))


def loops(data: Dataset | str, *, level: float = 0.95, seed: int = 0) -> list[Loop]:
    """One loop per cycle configuration (parameter, from, to, hold, weeks) of the dataset."""
    ds = as_dataset(data)
    cycles = ramp_runs(ds, "cycle")
    cycles = cycles[cycles["status"] == "ok"]
    out = []
    if cycles.empty:
        return out
    series = ds.series(list(cycles["run_id"]), [ORDER])
    by_run = dict(tuple(series.groupby("run_id")))
    for key, runs in cycles.groupby(RAMP_COLUMNS, sort=True):
        path, a, b, hold, weeks = key
        areas, outs, backs, before = [], [], [], []
        centre = None
        for _, run in runs.iterrows():
            s = by_run[run["run_id"]]
            steps = s["step"].to_numpy()
            x = _x_of(run, steps)
            m = s[ORDER].to_numpy(dtype=float)
            t = steps - 1
            leg_out = (t >= hold) & (t < hold + weeks)
            leg_back = (t >= hold + weeks) & (t < hold + 2 * weeks)
            centre, m_out, m_back, area = loop_area_of(x, m, leg_out, leg_back, a, b)
            areas.append(area)
            outs.append(m_out)
            backs.append(m_back)
            pre = m[t < hold]
            before.append(float(pre.mean()) if pre.size else np.nan)
        areas = np.array(areas)
        threshold = float(runs["model_integration_threshold"].iloc[0])
        out.append(
            Loop(
                parameter=path,
                start=a,
                end=b,
                weeks=int(weeks),
                areas=areas,
                area=float(areas.mean()),
                area_ci=_bootstrap_mean(areas, level, seed),
                curves=pd.DataFrame(
                    {"x": centre, "outbound": np.nanmean(outs, 0), "return": np.nanmean(backs, 0)}
                ),
                returned=float(runs["integrated"].astype(bool).mean()),
                started=float(np.nanmean(np.array(before) >= threshold)),
                level=level,
            )
        )
    return out


def bistability(data: Dataset | str, *, level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Per target x of step runs: P(integrated) from each start value, their difference
    (first start minus second) with a bootstrap interval, and whether it excludes 0."""
    ds = as_dataset(data)
    steps = ramp_runs(ds, "step")
    rows = []
    if steps.empty:
        return pd.DataFrame()
    rng = np.random.default_rng([seed, 0xB157])
    tail = (1 - level) / 2 * 100
    for (path, x), runs in steps.groupby(["model_ramp_parameter", "model_ramp_to"], sort=True):
        ok = runs[runs["status"] == "ok"]
        starts = sorted(ok["model_ramp_from"].unique())
        if len(starts) != 2:
            continue
        groups = [
            ok[ok["model_ramp_from"] == s]["integrated"].astype(float).to_numpy() for s in starts
        ]
        p = [g.mean() for g in groups]
        boots = [g[rng.integers(0, g.size, (2000, g.size))].mean(1) for g in groups]
        lo, hi = np.percentile(boots[0] - boots[1], [tail, 100 - tail])
        rows.append(
            {
                "parameter": path,
                "x": float(x),
                f"P(int) from {starts[0]:g}": p[0],
                f"P(int) from {starts[1]:g}": p[1],
                "difference": p[0] - p[1],
                "ci_low": float(lo),
                "ci_high": float(hi),
                "runs": len(ok),
                "failed": len(runs) - len(ok),
                "bistable": bool(lo > 0 or hi < 0),
            }
        )
    return pd.DataFrame(rows)


def verdict(loop_list: list[Loop], bistable: pd.DataFrame) -> str:
    """Whether the transition is reversible, in one sentence, from the step runs (the clean
    test) and the loops."""
    if not bistable.empty:
        hits = bistable[bistable["bistable"]]
        if hits.empty:
            return (
                "Reversible: at every tested value, runs started from either state end in the "
                "same state (no difference in P(integrated) excludes 0)"
                + (
                    "; a ramp loop, if any, comes from the finite ramp speed (lag), not from "
                    "two stable states."
                    if any(lp.area_ci[0] > 0 or lp.area_ci[1] < 0 for lp in loop_list)
                    else "."
                )
            )
        xs = hits["x"]
        return (
            f"Not reversible: runs started from the two states end differently for "
            f"{hits['parameter'].iloc[0]} in [{xs.min():g}, {xs.max():g}] (bistable range: "
            "hysteresis)."
        )
    if loop_list:
        sig = [lp for lp in loop_list if lp.area_ci[0] > 0 or lp.area_ci[1] < 0]
        if not sig:
            return "Reversible within the ramps' resolution: no loop area differs from 0."
        return (
            "A loop is significant, but without step runs from both states it cannot be told "
            "from the lag of a finite-speed ramp; add step runs (sweep=ramp has them)."
        )
    return "No cycle or step runs: reversibility not assessed."


# early warnings ---------------------------------------------------------------------------------


def kendall_tau(values: np.ndarray) -> np.ndarray:
    """Kendall's tau-a of each row of ``values`` (M, n) against time (NaNs not allowed)."""
    values = np.atleast_2d(values)
    n = values.shape[1]
    diff = np.sign(values[:, None, :] - values[:, :, None])  # [i, j] = sign(v_j - v_i)
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    return diff[:, upper].sum(1) / (n * (n - 1) / 2)


def _running_mean(v: np.ndarray, w: int) -> np.ndarray:
    kernel = np.ones(w) / w
    padded = np.pad(v, (w // 2, w - 1 - w // 2), mode="edge")
    return np.convolve(padded, kernel, mode="valid")


def indicators(residual: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Rolling variance and lag-1 autocorrelation of rows of ``residual`` (M, n)."""
    from numpy.lib.stride_tricks import sliding_window_view

    r = np.atleast_2d(residual)
    win = sliding_window_view(r, window, axis=1)  # (M, n - w + 1, w)
    var = win.var(axis=2)
    a, b = win[..., :-1], win[..., 1:]
    a = a - a.mean(2, keepdims=True)
    b = b - b.mean(2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        ac = (a * b).sum(2) / np.sqrt((a * a).sum(2) * (b * b).sum(2))
    return var, np.nan_to_num(ac)


def ar1_surrogates(residual: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` AR(1) series with the lag-1 coefficient, variance and length of ``residual``."""
    r = residual - residual.mean()
    phi = float(np.clip(np.corrcoef(r[:-1], r[1:])[0, 1], -0.99, 0.99)) if r.std() > 0 else 0.0
    sd = r.std() * np.sqrt(1 - phi**2)
    out = np.empty((n, r.size))
    out[:, 0] = rng.normal(0, r.std() or 1e-12, n)
    shocks = rng.normal(0, sd or 1e-12, (n, r.size))
    for t in range(1, r.size):
        out[:, t] = phi * out[:, t - 1] + shocks[:, t]
    return out


def rolling_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Rolling mean of rows of ``values`` (M, n) over ``window`` samples."""
    from numpy.lib.stride_tricks import sliding_window_view

    return sliding_window_view(np.atleast_2d(values), window, axis=1).mean(axis=2)


def warning_test(
    series: np.ndarray,
    rng: np.random.Generator,
    n_surrogates: int = N_SURROGATES,
    spatial: np.ndarray | None = None,
):
    """Kendall taus of rolling variance and lag-1 autocorrelation of ``series`` (and of the
    rolling mean of ``spatial``, a spatial-correlation series of the same length, if given)
    and their one-sided p-values against AR(1) surrogates: {indicator: (tau, p)}."""
    n = series.size
    residual = series - _running_mean(series, max(n // 4, 3))
    window = max(n // 2, 8)
    var, ac = indicators(residual, window)
    sur = ar1_surrogates(residual, n_surrogates, rng)
    s_var, s_ac = indicators(sur, window)
    tests = [("variance", var, s_var), ("autocorrelation", ac, s_ac)]
    if spatial is not None:
        spatial_null = rolling_mean(ar1_surrogates(spatial, n_surrogates, rng), window)
        tests.append(("spatial", rolling_mean(spatial, window), spatial_null))
    out = {}
    for name, obs, null in tests:
        tau = float(kendall_tau(obs)[0])
        taus = kendall_tau(null)
        out[name] = (tau, float((1 + (taus >= tau).sum()) / (1 + taus.size)))
    return out


@dataclass
class EarlyWarnings:
    table: pd.DataFrame  # one row per ramp run: tipped, tip step, taus, p-values, fired flags
    alpha: float = 0.05
    notes: list[str] = field(default_factory=list)

    def rates(self) -> pd.DataFrame:
        """Share of runs where each indicator fires, for ramps that tip and ramps that do not."""
        t = self.table.dropna(subset=["variance_p"])
        rows = []
        names = [name for name in INDICATORS if t[f"{name}_p"].notna().any()]
        for tipped, group in t.groupby("tipped"):
            row = {"ramps": "tipping" if tipped else "not tipping", "runs": len(group)}
            for name in names:
                row[f"{name} fires"] = float((group[f"{name}_p"] < self.alpha).mean())
            for name in names:
                row[f"median tau {name}"] = float(group[f"{name}_tau"].median())
            rows.append(row)
        return pd.DataFrame(rows)


def early_warnings(data: Dataset | str, *, seed: int = 0, alpha: float = 0.05) -> EarlyWarnings:
    """Early-warning tests on the outbound leg of every ok cycle or one-way ramp run."""
    ds = as_dataset(data)
    runs = ramp_runs(ds)
    runs = runs[(runs["status"] == "ok") & runs["model_ramp_shape"].isin(["cycle", "one_way"])]
    if runs.empty:
        raise AnalysisError(f"{ds.name} has no cycle or one-way ramp runs.")
    series = ds.series(list(runs["run_id"]), [ORDER, INDICATOR_SERIES, SPATIAL_SERIES])
    has_spatial = bool(series[SPATIAL_SERIES].notna().all())  # absent before model nk-5
    by_run = dict(tuple(series.groupby("run_id")))
    rng = np.random.default_rng([seed, 0xE75])
    rows, pending = [], []
    for _, run in runs.iterrows():
        s = by_run[run["run_id"]]
        t = s["step"].to_numpy() - 1
        hold, weeks = int(run["model_ramp_hold"]), int(run["model_ramp_weeks"])
        leg = (t >= hold) & (t < hold + weeks)
        m = _running_mean(s[ORDER].to_numpy(dtype=float), 8)
        d = s[INDICATOR_SERIES].to_numpy(dtype=float)
        sp = s[SPATIAL_SERIES].to_numpy(dtype=float) if has_spatial else None
        threshold = float(run["model_integration_threshold"])
        start_state = m[t < hold].mean() >= threshold if (t < hold).any() else m[0] >= threshold
        crossed = (m < threshold) if start_state else (m >= threshold)
        tip = np.flatnonzero(leg & crossed)
        row = {
            "run_id": run["run_id"],
            "ramp_to": float(run["model_ramp_to"]),
            "tipped": bool(tip.size),
            "tip_step": int(s["step"].iloc[tip[0]]) if tip.size else -1,
        }
        if tip.size:
            before = leg & (np.arange(t.size) < tip[0])
            row["samples"] = int(before.sum())
            if before.sum() >= MIN_SAMPLES:
                spatial = sp[before] if sp is not None else None
                row.update(_flat(warning_test(d[before], rng, spatial=spatial)))
        else:
            pending.append((row, d[leg], sp[leg] if sp is not None else None))
        rows.append(row)
    tipped_lengths = [r["samples"] for r in rows if r["tipped"] and "samples" in r]
    length = int(np.median(tipped_lengths)) if tipped_lengths else None
    for row, leg_values, leg_spatial in pending:
        use = slice(0, length) if length else slice(None)
        row["samples"] = int(leg_values[use].size)
        if row["samples"] >= MIN_SAMPLES:
            spatial = leg_spatial[use] if leg_spatial is not None else None
            row.update(_flat(warning_test(leg_values[use], rng, spatial=spatial)))
    table = pd.DataFrame(rows)
    for col in [f"{name}_{part}" for name in INDICATORS for part in ("tau", "p")]:
        if col not in table:
            table[col] = np.nan
    notes = []
    if not has_spatial:
        notes.append(
            f"the dataset has no {SPATIAL_SERIES} series (model before nk-5): spatial "
            "correlation not tested."
        )
    short = int(table["variance_p"].isna().sum())
    if short:
        notes.append(
            f"{short} runs had fewer than {MIN_SAMPLES} samples before tipping: not tested."
        )
    if not table["tipped"].any():
        notes.append("no ramp run tipped: only false-alarm rates can be measured.")
    return EarlyWarnings(table, alpha, notes)


def _flat(result: dict[str, tuple[float, float]]) -> dict[str, float]:
    return {f"{k}_{part}": v[i] for k, v in result.items() for i, part in enumerate(("tau", "p"))}


# figures and report -----------------------------------------------------------------------------


def loop_figure(loop_list: list[Loop], path=None):
    from matplotlib.figure import Figure

    from segmark.pipeline.analysis.labels import outcome_label, parameter_label

    fig = Figure(figsize=(7, 4.5), dpi=110)
    ax = fig.subplots()
    for lp in loop_list:
        c = lp.curves
        label = f"{lp.start:g}->{lp.end:g}"
        line = ax.plot(c["x"], c["outbound"], "-", marker=">", ms=3, label=f"{label} outbound")[0]
        ax.plot(
            c["x"],
            c["return"],
            "--",
            marker="<",
            ms=3,
            color=line.get_color(),
            label=f"{label} return; area {lp.area:.3g} [{lp.area_ci[0]:.3g}, {lp.area_ci[1]:.3g}]",
        )
    ax.set_xlabel(parameter_label(loop_list[0].parameter))
    ax.set_ylabel(outcome_label(ORDER) + "\n(mean over runs, binned along the ramp)")
    ax.set_title("Hysteresis loops of ramp runs (95% bootstrap CI of the area)", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    return fig


def warnings_figure(result: EarlyWarnings, path=None):
    from matplotlib.figure import Figure

    t = result.table.dropna(subset=["variance_p"])
    names = [name for name in INDICATORS if t[f"{name}_p"].notna().any()]
    fig = Figure(figsize=(3.5 * len(names), 4), dpi=110)
    axes = fig.subplots(1, len(names), sharey=True)
    for ax, name in zip(axes, names, strict=True):
        for tipped, colour in ((True, "tab:red"), (False, "tab:grey")):
            g = t[t["tipped"] == tipped]
            ax.scatter(
                g[f"{name}_tau"],
                g[f"{name}_p"],
                s=14,
                color=colour,
                label="tipping ramps" if tipped else "ramps that do not tip",
            )
        ax.axhline(result.alpha, color="black", lw=0.8, ls=":")
        ax.set_xlabel(f"Kendall tau of {INDICATOR_TEXT[name]} (-)")
        ax.set_yscale("log")
    axes[0].set_ylabel("p-value vs AR(1) surrogates (one-sided)")
    axes[0].legend(fontsize=7)
    fig.suptitle("Early-warning trends before tipping (below the line: fires)", fontsize=10)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    return fig


def report_section(report: Any) -> None:
    from segmark.pipeline.analysis.report import _table

    ds = report.ds
    if ramp_runs(ds).empty:
        return
    report.add("## Hysteresis", "")
    loop_list = loops(ds, seed=report.seed)
    bist = bistability(ds, seed=report.seed)
    for lp in loop_list:
        report.add(f"- {lp.describe()}")
    report.add("")
    if loop_list:
        report.figure(loop_figure, loop_list, "hysteresis_loops", "hysteresis loops")
    if not bist.empty:
        report.add(
            "Step runs from the two states at the same value (95% bootstrap CI):",
            "",
            _table(bist),
            "",
        )
    text = verdict(loop_list, bist)
    report.add(f"**{text}**", "")
    report.numbers["hysteresis"] = {
        "loops": [
            {
                "parameter": lp.parameter,
                "from": lp.start,
                "to": lp.end,
                "area": lp.area,
                "area_ci": list(lp.area_ci),
                "runs": len(lp.areas),
            }
            for lp in loop_list
        ],
        "bistability": bist.to_dict("records"),
        "verdict": text,
    }
    try:
        ews = early_warnings(ds, seed=report.seed)
    except AnalysisError:
        return
    report.add("## Early-warning signals", "")
    rates = ews.rates()
    report.add(
        "Rolling variance and lag-1 autocorrelation of the price-dispersion series, and the "
        "rolling mean of the spatial correlation (Moran's I of weekly price changes over the "
        "links), on the outbound leg up to tipping; an indicator fires when its Kendall tau "
        f"exceeds that of AR(1) surrogates at p < {ews.alpha:g} (docs/ANALYSIS.md).",
        "",
        _table(rates),
        "",
    )
    for note in ews.notes:
        report.add(f"- {note}")
    report.add("")
    if not rates.empty and ews.table["variance_p"].notna().any():
        report.figure(warnings_figure, ews, "early_warnings", "early-warning trends")
    report.numbers["early_warnings"] = rates.to_dict("records")

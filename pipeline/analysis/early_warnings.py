"""Early-warning signals before tipping, from ramp runs (the nk model's ramps and series).

Along the outbound leg, up to where the run tips (the 8-sample running mean of the order series
m, ``lcc_share``, crosses model.integration_threshold), the price-dispersion series is
detrended (running mean over a quarter of the window), and the rolling variance and lag-1
autocorrelation (window: half the series) get a Kendall tau against time. Each tau is tested
against 200 AR(1) surrogates fitted to the detrended series (one-sided p < 0.05: the indicator
"fires"). The third indicator is spatial correlation: the rolling mean (same window) of the
weekly Moran's I of price changes over the links (series ``spatial_correlation``), its tau
tested against AR(1) surrogates of that series. Ramps that do not tip are tested over the same
number of samples: false alarms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segmark.models import ramps
from segmark.pipeline.analysis.data import AnalysisError, Dataset, as_dataset
from segmark.pipeline.analysis.hysteresis import COLUMN, ORDER, ramp_runs
from segmark.pipeline.analysis.markdown import table

INDICATOR_SERIES = "price_dispersion"
SPATIAL_SERIES = "spatial_correlation"
INDICATORS = ("variance", "autocorrelation", "spatial")
INDICATOR_TEXT = {
    "variance": "rolling variance\nof price dispersion",
    "autocorrelation": "rolling lag-1 autocorrelation\nof price dispersion",
    "spatial": "rolling mean of Moran's I\nof price changes",
}
N_SURROGATES = 200
MIN_SAMPLES = 24


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
    runs = runs[(runs["status"] == "ok") & runs[COLUMN["shape"]].isin(["cycle", "one_way"])]
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
        ramp = ramps.Ramp.of(run)
        hold, weeks = ramp.hold, ramp.weeks
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
            "ramp_to": ramp.end,
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
    """The report's early-warning section (ramps that tip and those that do not)."""
    ds = report.ds
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
        table(rates),
        "",
    )
    for note in ews.notes:
        report.add(f"- {note}")
    report.add("")
    if not rates.empty and ews.table["variance_p"].notna().any():
        report.figure(warnings_figure, ews, "early_warnings", "early-warning trends")
    report.numbers["early_warnings"] = rates.to_dict("records")

"""What a finished sweep found along its first axis: a table and a one-paragraph summary."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmark.pipeline.params import BY_PATH, PARAMETER_COLUMNS
from segmark.pipeline.store import STATUS_OK

Z95 = 1.959963984540054


def swept_axes(summary: pd.DataFrame) -> list[str]:
    """Parameter paths (e.g. ``policy.permit_strictness``) that vary across a sweep's runs."""
    return [c.path for c in PARAMETER_COLUMNS if summary[c.column].nunique() > 1]


# the summary columns the finding and its figure read, besides the swept parameters
FINDING_OUTCOMES = ("integrated", "price_dispersion", "trade_share", "integration_index")


def _ok_runs(summary: pd.DataFrame) -> pd.DataFrame:
    """The runs with status ok; ``integrated`` as plain bool (it is nullable for failed runs)."""
    ok = summary[summary["status"] == STATUS_OK]
    return ok.assign(integrated=ok["integrated"].astype(bool))


def wilson_interval(successes: np.ndarray, trials: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson score interval of a binomial proportion."""
    successes = np.asarray(successes, dtype=float)
    trials = np.asarray(trials, dtype=float)
    p = successes / trials
    denom = 1.0 + Z95**2 / trials
    centre = (p + Z95**2 / (2 * trials)) / denom
    half = Z95 * np.sqrt(p * (1 - p) / trials + Z95**2 / (4 * trials**2)) / denom
    return centre - half, centre + half


def axis_table(summary: pd.DataFrame, axis_path: str) -> pd.DataFrame:
    """Per value of the axis (other axes pooled): runs, P(integrated) with its 95% interval,
    and mean and sd of price dispersion, trade share and the integration index."""
    column = BY_PATH[axis_path].column
    ok = _ok_runs(summary)
    grouped = ok.groupby(column, sort=True)
    table = pd.DataFrame(
        {
            "runs": grouped.size(),
            "p_integrated": grouped["integrated"].mean(),
            "dispersion_mean": grouped["price_dispersion"].mean(),
            "dispersion_sd": grouped["price_dispersion"].std(ddof=1),
            "trade_share_mean": grouped["trade_share"].mean(),
            "integration_index_mean": grouped["integration_index"].mean(),
            "integration_index_sd": grouped["integration_index"].std(ddof=1),
        }
    )
    low, high = wilson_interval(grouped["integrated"].sum().to_numpy(), table["runs"].to_numpy())
    table["p_low"], table["p_high"] = low, high
    table.index.name = column
    return table.reset_index()


def half_crossing(x: np.ndarray, p: np.ndarray) -> tuple[float, float, float] | None:
    """Where p first reaches or crosses 0.5, by linear interpolation between neighbouring axis
    values: (crossing, lower value, upper value), or None if it never does."""
    for i in range(len(x) - 1):
        a, b = p[i] - 0.5, p[i + 1] - 0.5
        if a == 0 or a * b < 0 or (b == 0 and i == len(x) - 2):
            cross = x[i] + (x[i + 1] - x[i]) * a / (a - b) if a != b else x[i]
            return float(cross), float(x[i]), float(x[i + 1])
    return None


def describe(summary: pd.DataFrame, axes: dict[str, list]) -> str:
    """One paragraph on how integration changes along the sweep's first axis."""
    n_runs = len(summary)
    ok = _ok_runs(summary)
    n_failed = n_runs - len(ok)
    failed = f" {n_failed} of {n_runs} runs failed and are left out." if n_failed else ""
    if ok.empty:
        return f"All {n_runs} runs failed; see the status and message columns of the summary."
    if not axes:
        return (
            f"{n_runs} runs at one parameter point: {ok['integrated'].mean():.0%} ended in an "
            f"integrated national market; mean log-price dispersion "
            f"{ok['price_dispersion'].mean():.3f}.{failed}"
        )
    path = next(iter(axes))
    table = axis_table(summary, path)
    column = BY_PATH[path].column
    first, last = table.iloc[0], table.iloc[-1]
    others = f" (pooled over {', '.join(list(axes)[1:])})" if len(axes) > 1 else ""
    numeric = pd.api.types.is_numeric_dtype(table[column])
    span = (
        f"from {first[column]:g} to {last[column]:g}"
        if numeric
        else (f"({', '.join(map(str, table[column]))})")
    )
    text = (
        f"Across {len(table)} values of {path} {span}{others}, with "
        f"{int(table['runs'].median())} replicates each, the share of runs that end in an "
        f"integrated national market goes from {first.p_integrated:.0%} to "
        f"{last.p_integrated:.0%}"
    )
    if numeric:
        x = table[column].to_numpy(dtype=float)
        crossing = half_crossing(x, table["p_integrated"].to_numpy(dtype=float))
        if crossing is not None:
            cross, lo, hi = crossing
            text += f"; it crosses 50% near {path} = {cross:.3g} (between {lo:g} and {hi:g})"
        else:
            text += "; it never crosses 50% on this range"
    text += (
        f". Mean log-price dispersion moves from {first.dispersion_mean:.3f} to "
        f"{last.dispersion_mean:.3f} and the interregional trade share of market value from "
        f"{first.trade_share_mean:.1%} to {last.trade_share_mean:.1%}.{failed}"
    )
    return text


def describe_sampled(summary: pd.DataFrame, paths: tuple[str, ...]) -> str:
    """One paragraph for a sampled or listed design: how often runs integrate, and which
    parameters move the integration index most (Spearman rank correlation)."""
    ok = _ok_runs(summary)
    n_failed = len(summary) - len(ok)
    if ok.empty:
        return f"All {len(summary)} runs failed; see the status and message columns of the summary."
    text = (
        f"{len(ok)} runs over {ok['point'].nunique()} design points: "
        f"{ok['integrated'].mean():.0%} ended in an integrated national market"
    )
    correlations = {}
    for path in paths:
        values = ok[BY_PATH[path].column]
        if pd.api.types.is_numeric_dtype(values) and values.nunique() > 1:
            rho = values.corr(ok["integration_index"], method="spearman")
            if np.isfinite(rho):
                correlations[path] = rho
    if correlations:
        ranked = sorted(correlations.items(), key=lambda item: -abs(item[1]))
        text += "; rank correlation with the integration index: " + ", ".join(
            f"{path} {rho:+.2f}" for path, rho in ranked
        )
    failed = f" {n_failed} of {len(summary)} runs failed and are left out." if n_failed else ""
    return text + "." + failed

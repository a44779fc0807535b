"""Figures of the analyses (matplotlib's object API: no global backend or pyplot state).

Every function returns the Figure; ``path`` saves it as PNG too. Parameters are labelled as
users write them in configs, with units; every estimate carries its interval."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from segmark.models.interface import Model
from segmark.pipeline.analysis.finding import axis_table
from segmark.pipeline.analysis.labels import outcome_label, parameter_label, probability_label
from segmark.pipeline.analysis.markdown import fmt
from segmark.pipeline.analysis.phase import PhaseDiagram, contour_points
from segmark.pipeline.analysis.sensitivity import Sensitivity
from segmark.pipeline.analysis.threshold import Threshold


def _save(fig: Figure, path: str | Path | None) -> Figure:
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    return fig


def _where(where: dict) -> str:
    return ", ".join(
        f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}" for k, v in where.items()
    )


def tipping_figure(result: Threshold, path: str | Path | None = None) -> Figure:
    """P(state) with 95% Wilson intervals, the fitted logistic, the threshold with its
    bootstrap interval (band), and below it the susceptibility (variance across replicates)."""
    curve = result.curve
    x = curve.iloc[:, 0].to_numpy(dtype=float)
    fig = Figure(figsize=(7, 6), dpi=110)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    p = curve[result.p]
    err = np.vstack([p - curve["p_low"], curve["p_high"] - p]).clip(0)
    top.errorbar(
        x,
        p,
        yerr=err,
        fmt="o",
        color="tab:blue",
        capsize=3,
        label=f"P({result.state}), {result.level:.0%} Wilson interval",
    )
    if result.found:
        grid = np.linspace(x.min(), x.max(), 300)
        slope = 2 * np.log(9) / result.width * (-1 if result.direction == "falling" else 1)
        top.plot(
            grid,
            1 / (1 + np.exp(-slope * (grid - result.crossing))),
            "-",
            color="tab:blue",
            alpha=0.7,
            label="logistic fit (Firth)",
        )
        lo, hi = result.crossing_ci
        if np.isfinite(lo):
            top.axvspan(
                lo,
                hi,
                color="tab:orange",
                alpha=0.25,
                label=f"threshold {fmt(result.crossing)} [{fmt(lo)}, {fmt(hi)}]",
            )
        top.axvline(result.crossing, color="tab:orange", lw=1.5)
    top.axhline(0.5, color="grey", lw=0.8, ls=":")
    state_label = result.label(result.state)
    top.set_ylabel(state_label if state_label.startswith("P(") else f"P({state_label})")
    top.set_ylim(-0.03, 1.03)
    top.legend(fontsize=8, loc="best")
    title = f"Tipping along {result.axis}"
    if result.where:
        title += f" at {_where(result.where)}"
    top.set_title(f"{title} ({result.n_runs} runs, {result.n_failed} failed)", fontsize=10)
    bottom.plot(x, curve["susceptibility"], "s-", color="tab:red", ms=4)
    if np.isfinite(result.susceptibility_peak):
        lo, hi = result.susceptibility_peak_ci
        if np.isfinite(lo):
            bottom.axvspan(
                lo,
                hi,
                color="tab:red",
                alpha=0.15,
                label=f"peak {fmt(result.susceptibility_peak)} [{fmt(lo)}, {fmt(hi)}]",
            )
            bottom.legend(fontsize=8)
    bottom.set_ylabel(f"variance of {result.order}\nacross replicates")
    bottom.set_xlabel(result.label(result.axis))
    return _save(fig, path)


def phase_figure(diagram: PhaseDiagram, path: str | Path | None = None) -> Figure:
    """Heatmap of the outcome over the two parameters, the 0.5 contour of P(state) and the
    per-row thresholds with their bootstrap intervals."""
    xs = diagram.mean.columns.to_numpy(dtype=float)
    ys = diagram.mean.index.to_numpy(dtype=float)
    fig = Figure(figsize=(7, 5.2), dpi=110)
    ax = fig.subplots()

    def edges(v):
        mid = (v[1:] + v[:-1]) / 2
        return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])

    is_p = diagram.is_probability
    mesh = ax.pcolormesh(
        edges(xs),
        edges(ys),
        diagram.mean.to_numpy(dtype=float),
        cmap="viridis",
        vmin=0 if is_p else None,
        vmax=1 if is_p else None,
        shading="flat",
    )
    label = diagram.label(diagram.outcome) + " (mean over runs)"
    fig.colorbar(mesh, ax=ax, label=textwrap.fill(label, 45))  # long labels ran off the figure
    if is_p:
        pts = contour_points(diagram)
        if len(pts):
            ax.plot(pts[:, 0], pts[:, 1], "w--", lw=1.2, label="0.5 contour (cell means)")
    if diagram.boundary:
        table = diagram.boundary_table()
        ok = table["threshold"].notna()
        if ok.any():
            t = table[ok]
            err = np.vstack([t["threshold"] - t["ci_low"], t["ci_high"] - t["threshold"]]).clip(0)
            ax.errorbar(
                t["threshold"],
                t[diagram.y],
                xerr=np.nan_to_num(err),
                fmt="o",
                color="tab:orange",
                ecolor="white",
                capsize=3,
                label="threshold per row, 95% bootstrap CI",
            )
    ax.set_xlabel(diagram.label(diagram.x))
    ax.set_ylabel(diagram.label(diagram.y))
    title = f"Phase diagram: {diagram.label(diagram.outcome)}"
    if diagram.pooled:
        title += f"\n(pooled over {', '.join(diagram.pooled)})"
    ax.set_title(title, fontsize=10)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper right", framealpha=0.6)
    return _save(fig, path)


def sensitivity_figure(result: Sensitivity, path: str | Path | None = None) -> Figure:
    """Sobol' S1 and ST as bars with intervals, or Morris mu* vs sigma with intervals."""
    t = result.table
    fig = Figure(figsize=(7, 4.2), dpi=110)
    ax = fig.subplots()
    if result.method == "sobol":
        pos = np.arange(len(t))
        for offset, key, colour in ((-0.2, "S1", "tab:blue"), (0.2, "ST", "tab:orange")):
            err = np.vstack([t[key] - t[f"{key}_low"], t[f"{key}_high"] - t[key]]).clip(0)
            ax.bar(
                pos + offset,
                t[key],
                width=0.4,
                color=colour,
                yerr=err,
                capsize=3,
                label={"S1": "first order S1", "ST": "total ST"}[key],
            )
        ax.set_xticks(pos, t["parameter"], rotation=20, ha="right", fontsize=8)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_ylabel(
            f"Sobol' index of {result.outcome}\n(share of variance, {result.level:.0%} CI)"
        )
        ax.legend(fontsize=8)
        ax.set_title(
            f"Sobol' indices ({result.n_points} points x {result.replicates} replicates)",
            fontsize=10,
        )
    else:
        xerr = np.vstack([t["mu_star"] - t["mu_star_low"], t["mu_star_high"] - t["mu_star"]])
        yerr = np.vstack([t["sigma"] - t["sigma_low"], t["sigma_high"] - t["sigma"]])
        ax.errorbar(
            t["mu_star"], t["sigma"], xerr=np.abs(xerr), yerr=np.abs(yerr), fmt="o", capsize=3
        )
        for _, row in t.iterrows():
            ax.annotate(
                row["parameter"],
                (row["mu_star"], row["sigma"]),
                fontsize=8,
                xytext=(4, 4),
                textcoords="offset points",
            )
        top = float(np.nanmax([t["mu_star_high"].max(), t["sigma_high"].max(), 1e-12]))
        ax.plot([0, top], [0, top], ":", color="grey", lw=0.8, label="sigma = mu*")
        ax.set_xlabel(
            f"mu*: mean |elementary effect| on {result.outcome}\n(per full parameter range)"
        )
        ax.set_ylabel("sigma: sd of elementary effects")
        ax.legend(fontsize=8)
        ax.set_title(
            f"Morris screening ({result.n_points} points x {result.replicates} replicates)",
            fontsize=10,
        )
    return _save(fig, path)


def axis_curve(summary: pd.DataFrame, model: Model, axis: str, path: Path) -> Path:
    """The finding's figure along one axis: P(state) with its 95% interval (a model with a
    state outcome), and the mean (+- 1 sd across runs) of the first headline outcome."""
    table = axis_table(summary, model, axis)
    x = table[model.parameter(axis).column]
    fig = Figure(figsize=(7, 4.2), dpi=120)
    left = fig.subplots()
    right = left.twinx() if model.state else left
    if model.state:
        left.fill_between(x, table["p_low"], table["p_high"], color="tab:blue", alpha=0.2)
        p_label = f"P({model.state}), 95% CI"
        left.plot(x, table["p_state"], "o-", color="tab:blue", label=p_label)
        left.set_ylabel(probability_label(model, model.state), color="tab:blue")
        left.set_ylim(-0.02, 1.02)
    headline = (model.headline or tuple(o.name for o in model.outcomes if o.dtype is float))[0]
    right.errorbar(
        x,
        table[f"{headline}_mean"],
        yerr=table[f"{headline}_sd"],
        fmt="s--",
        color="tab:red",
        ms=3,
        capsize=2,
        label=f"{headline}, mean +- sd",
    )
    right.set_ylabel(outcome_label(model, headline), color="tab:red")
    left.set_xlabel(parameter_label(model, axis))
    handles = left.get_legend_handles_labels()[0]
    if right is not left:
        handles += right.get_legend_handles_labels()[0]
    left.legend(handles=handles, loc="center right", fontsize=8)
    left.set_title(f"Model {model.name} along {axis} ({int(table['runs'].sum())} runs)")
    fig.tight_layout()
    fig.savefig(path)
    return path

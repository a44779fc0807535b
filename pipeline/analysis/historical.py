"""Historical scenarios (a swept ``model.scenario``, as nk's time paths of policies and shocks):
outcomes per scenario with intervals, and the time paths of the sampled series, mean and 95%
band across replicates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from segmark.pipeline.analysis.data import Dataset, as_dataset
from segmark.pipeline.analysis.labels import outcome_label, probability_label
from segmark.pipeline.analysis.stats import wilson_interval

SCENARIO = "model.scenario"
SERIES_SHOWN = 4  # the model's first series, or those named


def scenario_table(data: Dataset | pd.DataFrame | str) -> pd.DataFrame:
    """Per scenario: ok and failed runs, P(state) with its 95% Wilson interval, and the mean of
    the order and headline outcomes (and the sd across replicates of the first headline)."""
    ds = as_dataset(data)
    model = ds.model
    means = [name for name in (model.order, *model.headline) if name]
    rows = []
    for name, runs in ds.summary.groupby(ds.column(SCENARIO), sort=False):
        ok = runs[runs["status"] == "ok"]
        row: dict[str, object] = {"scenario": name, "runs": len(ok), "failed": len(runs) - len(ok)}
        if model.state:
            k = int(ok[model.state].astype(bool).sum())
            low, high = wilson_interval(np.array([k]), np.array([len(ok)]))
            row[probability_label(model, model.state)] = k / len(ok) if len(ok) else np.nan
            row["95% CI"] = f"{low[0]:.2f}-{high[0]:.2f}"
        for outcome in means:
            row[outcome] = ok[outcome].mean()
            if model.headline and outcome == model.headline[0]:
                row[f"{outcome}_sd"] = ok[outcome].std(ddof=1)
        rows.append(row)
    return pd.DataFrame(rows)


def _shown(ds: Dataset, series: tuple[str, ...] | None) -> list[str]:
    return list(series) if series else [s.name for s in ds.model.series[:SERIES_SHOWN]]


def scenario_paths(data: Dataset | str, series: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Mean and 2.5/97.5% quantiles across ok replicates of each series (default: the model's
    first four), by scenario and step."""
    ds = as_dataset(data)
    names = _shown(ds, series)
    scenario = ds.column(SCENARIO)
    ok = ds.ok[["run_id", scenario]]
    frame = ds.series(list(ok["run_id"]), names).merge(ok, on="run_id")
    grouped = frame.groupby([scenario, "step"])
    out = grouped[names].mean().add_suffix("_mean")
    out = out.join(grouped[names].quantile(0.025).add_suffix("_low"))
    out = out.join(grouped[names].quantile(0.975).add_suffix("_high"))
    return out.reset_index()


def scenario_figure(data: Dataset | str, path: str | Path | None = None) -> Figure:
    ds = as_dataset(data)
    names = _shown(ds, None)
    paths = scenario_paths(ds)
    scenario = ds.column(SCENARIO)
    fig = Figure(figsize=(9, 7), dpi=100)
    axes = fig.subplots(2, 2, sharex=True).ravel()
    for ax, name in zip(axes, names, strict=False):
        for label, frame in paths.groupby(scenario, sort=False):
            ax.plot(frame["step"], frame[f"{name}_mean"], label=label, lw=1.2)
            ax.fill_between(frame["step"], frame[f"{name}_low"], frame[f"{name}_high"], alpha=0.15)
        ax.set_ylabel(outcome_label(ds.model, name), fontsize=8)
        ax.set_xlabel("step of the scenario (week 0 = 1 January of its start year)", fontsize=8)
    axes[0].legend(fontsize=7)
    fig.suptitle("Scenario time paths: mean and 95% band across replicates", fontsize=10)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    return fig

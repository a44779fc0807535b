"""Historical scenarios (model.scenario swept): outcomes per scenario with intervals, and the
time paths of the weekly series, mean and 95% band across replicates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from segmark.pipeline.analysis.data import Dataset, as_dataset
from segmark.pipeline.analysis.labels import outcome_label
from segmark.pipeline.analysis.tipping import wilson_interval

SERIES_SHOWN = ("price_dispersion", "lcc_share", "trade_share", "shortage")


def scenario_table(data: Dataset | pd.DataFrame | str) -> pd.DataFrame:
    """Per scenario: ok and failed runs, P(integrated) with its 95% Wilson interval, and the
    mean (and sd across replicates) of the main outcomes."""
    ds = as_dataset(data)
    rows = []
    for name, runs in ds.summary.groupby("model_scenario", sort=False):
        ok = runs[runs["status"] == "ok"]
        k = int(ok["integrated"].astype(bool).sum())
        low, high = wilson_interval(np.array([k]), np.array([len(ok)]))
        rows.append(
            {
                "scenario": name,
                "runs": len(ok),
                "failed": len(runs) - len(ok),
                "P(integrated)": k / len(ok) if len(ok) else float("nan"),
                "95% CI": f"{low[0]:.2f}-{high[0]:.2f}",
                "integration_index": ok["integration_index"].mean(),
                "price_dispersion": ok["price_dispersion"].mean(),
                "dispersion_sd": ok["price_dispersion"].std(ddof=1),
                "trade_share": ok["trade_share"].mean(),
                "shortage": ok["shortage"].mean(),
                "market_income_share": ok["market_income_share"].mean(),
            }
        )
    return pd.DataFrame(rows)


def scenario_paths(data: Dataset | str, series: tuple[str, ...] = SERIES_SHOWN) -> pd.DataFrame:
    """Mean and 2.5/97.5% quantiles across ok replicates of each series, by scenario and week."""
    ds = as_dataset(data)
    ok = ds.ok[["run_id", "model_scenario"]]
    frame = ds.series(list(ok["run_id"]), list(series)).merge(ok, on="run_id")
    grouped = frame.groupby(["model_scenario", "step"])
    out = grouped[list(series)].mean().add_suffix("_mean")
    out = out.join(grouped[list(series)].quantile(0.025).add_suffix("_low"))
    out = out.join(grouped[list(series)].quantile(0.975).add_suffix("_high"))
    return out.reset_index()


def scenario_figure(data: Dataset | str, path: str | Path | None = None) -> Figure:
    ds = as_dataset(data)
    paths = scenario_paths(ds)
    fig = Figure(figsize=(9, 7), dpi=100)
    axes = fig.subplots(2, 2, sharex=True).ravel()
    for ax, name in zip(axes, SERIES_SHOWN, strict=True):
        for scenario, frame in paths.groupby("model_scenario", sort=False):
            ax.plot(frame["step"], frame[f"{name}_mean"], label=scenario, lw=1.2)
            ax.fill_between(frame["step"], frame[f"{name}_low"], frame[f"{name}_high"], alpha=0.15)
        ax.set_ylabel(outcome_label(name), fontsize=8)
        ax.set_xlabel("week of the scenario (week 0 = 1 January of its start year)", fontsize=8)
    axes[0].legend(fontsize=7)
    fig.suptitle("Scenario time paths: mean and 95% band across replicates", fontsize=10)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    return fig

# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Quick start: load a sweep and plot integration along its axis
#
# A sweep's dataset is a directory with `summary/` (one row per run) and `timeseries/` (one row
# per run and sampled week), both Parquet (schema: `docs/OUTPUT.md`), and a manifest that
# describes the model that made it. This notebook reads the dataset named by `SEGMARK_DATASET`,
# or the newest one under `runs/`.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from segmark.pipeline.analysis import places
from segmark.pipeline.analysis.data import load
from segmark.pipeline.analysis.finding import axis_table, describe

dataset = os.environ.get("SEGMARK_DATASET")
if dataset is None:
    candidates = sorted(Path("../runs").glob("*/summary"), key=lambda p: p.stat().st_mtime)
    dataset = candidates[-1].parent
dataset = Path(dataset)
summary = pd.read_parquet(dataset / "summary")
series = pd.read_parquet(dataset / "timeseries")
model = load(dataset).model  # the model's declarations: parameters, outcomes, units
print(f"{dataset} ({model.tag}): {len(summary)} runs, {len(series)} time-series rows")
summary.head()

# %% [markdown]
# ## What was swept, and what it found

# %%
axes = load(dataset).swept
axis = axes[0]
column = model.parameter(axis).column
print(
    describe(summary, model, {a: sorted(summary[model.parameter(a).column].unique()) for a in axes})
)
table = axis_table(summary, model, axis)
table

# %% [markdown]
# ## P(integrated) and price dispersion along the axis, with the spread across replicates
# Dots are single runs; the band is the 95% Wilson interval of P(integrated).

# %%
fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
top.fill_between(table[column], table["p_low"], table["p_high"], alpha=0.25)
top.plot(table[column], table["p_state"], "o-")
top.set_ylabel("P(integrated)")
top.set_ylim(-0.02, 1.02)
bottom.scatter(summary[column], summary["price_dispersion"], s=8, alpha=0.4, label="runs")
bottom.errorbar(
    table[column],
    table["price_dispersion_mean"],
    yerr=table["price_dispersion_sd"],
    fmt="s-",
    color="black",
    capsize=3,
    label="mean +- sd",
)
bottom.set_ylabel("sd of log prices across regions")
bottom.set_xlabel(axis)
bottom.legend()
fig.tight_layout()

# %% [markdown]
# ## One run's dispersion over time, per axis value (replicate 0)

# %%
first = summary[summary["replicate"] == 0][["run_id", column]]
traces = series.merge(first, on="run_id")
fig, ax = plt.subplots(figsize=(7, 3.5))
for value, trace in traces.groupby(column):
    ax.plot(trace["step"], trace["price_dispersion"], label=f"{axis} = {value:g}")
ax.set_xlabel("week")
ax.set_ylabel("sd of log prices")
ax.legend(fontsize=7)

# %% [markdown]
# ## Where: each county over the run, and the hubs in won and dollars
# A model with places (`nk`) stores each unit's window means in `places/`: here the units at
# the lowest and highest value of the axis, mapped, and per province. The hubs' rice prices
# (KPW per kg) and market dollar rates (KPW per USD) are series, comparable with the Daily NK
# survey (docs/OUTPUT.md).

# %%
ds = load(dataset)
if places.has_places(ds):
    contrast = places.contrast(ds, axis)
    places.map_figure(contrast)
    print(places.province_table(contrast).round(3).head(5).to_string(index=False))
hubs = [c for c in series.columns if c.startswith(("rice_", "usd_"))]
traces.groupby(column)[hubs].mean().round(0)

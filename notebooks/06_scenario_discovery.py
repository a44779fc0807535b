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
# # Scenario discovery: which combinations of policies and shocks integrate the market?
#
# A Latin hypercube over levers and shocks (`segmark sweep=explore`) answers "which
# combinations lead to an integrated national market" with PRIM boxes (Friedman & Fisher
# 1999; Bryant & Lempert 2010; as EMA Workbench implements it): a box of the swept parameters
# that holds many of the runs of interest (coverage) and few others (density). CART and
# feature scores sit beside it. The notebook reads `SEGMARK_EXPLORE_DATASET` (default: the
# newest `explore-*` dataset under `runs/`) and `SEGMARK_WHERE` (default: the model's state
# outcome; e.g. `integration_index > 0.14`).

# %%
import os
from pathlib import Path

from matplotlib_inline.backend_inline import set_matplotlib_formats

from segmark.pipeline.analysis.condition import parse
from segmark.pipeline.analysis.data import load
from segmark.pipeline.analysis.discovery_report import box_table, inputs
from segmark.pipeline.analysis.prim import prim
from segmark.pipeline.analysis.scoring import cart_boxes, describe_box, feature_scores

set_matplotlib_formats("png")
dataset = os.environ.get("SEGMARK_EXPLORE_DATASET")
if dataset is None:
    found = Path("../runs").glob("explore-*/summary")
    dataset = max(found, key=lambda p: p.stat().st_mtime).parent
ds = load(dataset)
condition = parse(os.environ.get("SEGMARK_WHERE"), ds.model)
if not condition.cases(ds.ok).any():  # no run integrates: the most integrated quarter instead
    cut = ds.ok["integration_index"].quantile(0.75)
    condition = parse(f"integration_index > {cut:.6g}", ds.model)
x, y = inputs(ds, tuple(ds.swept)), condition.cases(ds.ok)
print(ds.status_line(), f"design: {ds.design};", f"runs of interest ({condition}): {y.sum()}")

# %% [markdown]
# PRIM's boxes, found one after another on the runs no earlier box holds (covering), with its
# notes (where no box is dense enough, the densest step is shown). Each box: its limits,
# coverage, density, mass and quasi-p-values.

# %%
result = prim(x, y, threshold=0.8, n_boxes=3)
for note in result.notes:
    print("note:", note)
for box in result.boxes:
    print("-", describe_box(box, outcome=str(condition)))
box_table(result.boxes)

# %% [markdown]
# The peeling trajectory of the first box: pick another step with `result.searches[0].select(i)`
# where density is high enough for your question and coverage still large.

# %%
result.trajectory.plot.scatter("coverage", "density", c="res_dim", colormap="viridis")
# %% [markdown]
# CART's leaves as boxes, and how much each swept parameter drives each outcome.

# %%
for box in [b for b in cart_boxes(x, y) if b.density > 0.5][:3]:
    print("-", describe_box(box, outcome=str(condition)))
outcomes = ds.ok[["integration_index", "price_dispersion", "trade_share"]].reset_index(drop=True)
feature_scores(x, outcomes).round(3)

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
# # Historical scenarios
#
# The five packaged scenarios (famine 1995, the 2002 measures, the 2009 crackdown and currency
# reform, the 2013 trade peak, the 2020 border closure) and the steady baseline, each a 10-year
# path of policies and shocks within one run (`docs/MODEL.md`). Run them with
# `segmark sweep=scenarios`; this notebook reads `SEGMARK_SCENARIOS_DATASET` (default: the
# newest `scenarios-*` dataset under `runs/`).

# %%
import os
from pathlib import Path

from matplotlib_inline.backend_inline import set_matplotlib_formats

from segmark.pipeline.analysis.data import load
from segmark.pipeline.analysis.historical import scenario_figure, scenario_paths, scenario_table

set_matplotlib_formats("png")  # show the analysis figures (matplotlib Figure objects) inline
dataset = os.environ.get("SEGMARK_SCENARIOS_DATASET")
if dataset is None:
    found = Path("../runs").glob("scenarios-*/summary")
    dataset = max(found, key=lambda p: p.stat().st_mtime).parent
ds = load(dataset)
print(ds.status_line())

# %% [markdown]
# ## Where each episode ends: outcomes over the final window
# P(integrated) with its 95% Wilson interval across replicates; means of the other outcomes.

# %%
scenario_table(ds)

# %% [markdown]
# ## Paths through each episode: weekly series, mean and 95% band across replicates

# %%
scenario_figure(ds)

# %%
paths = scenario_paths(ds)
paths.groupby("model_scenario")[["price_dispersion_mean", "lcc_share_mean"]].agg(["min", "max"])

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
# # Hysteresis and early warnings
#
# Is the tipping reversible? `segmark sweep=ramp` moves travel-permit strictness up and back
# within each run (the market's state carried along), and starts runs from an integrated and
# from a segmented state at the same strictness. This notebook reads
# `SEGMARK_RAMP_DATASET` (default: the newest `ramp-*` dataset under `runs/`); methods in
# `docs/ANALYSIS.md`.

# %%
import os
from pathlib import Path

from matplotlib_inline.backend_inline import set_matplotlib_formats

from segmark.pipeline.analysis.data import load
from segmark.pipeline.analysis.early_warnings import early_warnings, warnings_figure
from segmark.pipeline.analysis.hysteresis import bistability, loop_figure, loops, verdict

set_matplotlib_formats("png")  # show the analysis figures (matplotlib Figure objects) inline
dataset = os.environ.get("SEGMARK_RAMP_DATASET")
if dataset is None:
    found = Path("../runs").glob("ramp-*/summary")
    dataset = max(found, key=lambda p: p.stat().st_mtime).parent
ds = load(dataset)
print(ds.status_line())

# %% [markdown]
# ## Loops: the order parameter along the ramp out and back
# The area between the two legs, per run, with a bootstrap interval of its mean.

# %%
loop_list = loops(ds)
for lp in loop_list:
    print(lp.describe())
loop_figure(loop_list)

# %% [markdown]
# ## Runs from both states at the same point: the clean test of bistability

# %%
table = bistability(ds)
print(verdict(loop_list, table))
table

# %% [markdown]
# ## Early-warning signals before tipping, and false alarms on ramps that do not tip
#
# Three indicators on the outbound leg: rolling variance and lag-1 autocorrelation of the
# price-dispersion series, and the rolling mean of spatial correlation (Moran's I of weekly
# price changes over the links). Each fires when its Kendall tau beats AR(1) surrogates.

# %%
ews = early_warnings(ds)
for note in ews.notes:
    print("-", note)
ews.rates()

# %%
warnings_figure(ews)

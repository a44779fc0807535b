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
# # Tipping point and phase diagram
#
# Where does P(integrated national market) cross one half along a swept parameter, how sure
# are we, and how does the boundary move with a second parameter? This notebook reads the
# dataset named by `SEGMARK_DATASET` (default: the newest under `runs/`) through
# `segmark.pipeline.analysis`; methods and formulas are in `docs/ANALYSIS.md`. For a phase
# diagram, run a sweep with two numeric grid axes, e.g. `segmark sweep=phase`, and point
# `SEGMARK_DATASET` at it.

# %%
import os
from pathlib import Path

from matplotlib_inline.backend_inline import set_matplotlib_formats

from segmark.pipeline.analysis import figures
from segmark.pipeline.analysis.data import load
from segmark.pipeline.analysis.phase import phase_diagram
from segmark.pipeline.analysis.tipping import threshold_table, tipping_threshold, tipping_thresholds

set_matplotlib_formats("png")  # show the analysis figures (matplotlib Figure objects) inline
dataset = os.environ.get("SEGMARK_DATASET")
if dataset is None:
    candidates = sorted(Path("../runs").glob("*/summary"), key=lambda p: p.stat().st_mtime)
    dataset = candidates[-1].parent
ds = load(dataset)
print(ds.status_line())
print("swept:", ds.swept)
N_BOOT = int(os.environ.get("SEGMARK_N_BOOT", "1000"))

# %% [markdown]
# ## The threshold along the first swept parameter
# Failed runs are counted and left out. The interval comes from resampling replicates (whole
# replicates jointly when the sweep used common random numbers).

# %%
axis = ds.swept[0]
result = tipping_threshold(ds, axis, n_boot=N_BOOT)
print(result.describe())
for note in result.notes:
    print("-", note)
result.curve

# %%
figures.tipping_figure(result)

# %% [markdown]
# ## Conditional thresholds and the phase diagram
# With a second swept parameter, one threshold per value of it, and the heatmap of
# P(integrated) with the estimated boundary.

# %%
others = [p for p in ds.swept if p != axis]
if others:
    rows = tipping_thresholds(ds, axis, by=others[:1], n_boot=N_BOOT)
    display(threshold_table(rows))  # noqa: F821
    diagram = phase_diagram(ds, axis, others[0], n_boot=N_BOOT)
    fig = figures.phase_figure(diagram)
else:
    print("one swept parameter: no phase diagram (sweep two, e.g. segmark sweep=phase)")
    fig = None
fig

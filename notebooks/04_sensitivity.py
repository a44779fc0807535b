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
# # Sensitivity: Sobol' indices and Morris screening
#
# Which levers and shocks move market integration most? A `saltelli` sweep
# (`segmark sweep=sensitivity`) gives Sobol' first-order and total indices; a `morris` sweep
# (`segmark sweep=screening`) gives elementary effects (mu*, sigma). Both with 95% intervals.
# The notebook reads `SEGMARK_SENSITIVITY_DATASET` (default: the newest `sensitivity-*` or
# `screening-*` dataset under `runs/`). A design with failed or missing runs is refused with
# the reason: rerun the failed runs with `retry_failed=true` first.

# %%
import os
from pathlib import Path

from matplotlib_inline.backend_inline import set_matplotlib_formats

from segmark.pipeline.analysis import figures
from segmark.pipeline.analysis.data import load
from segmark.pipeline.analysis.sensitivity import morris_effects, sobol_indices

set_matplotlib_formats("png")  # show the analysis figures (matplotlib Figure objects) inline
dataset = os.environ.get("SEGMARK_SENSITIVITY_DATASET")
if dataset is None:
    found = [
        *Path("../runs").glob("sensitivity-*/summary"),
        *Path("../runs").glob("screening-*/summary"),
    ]
    dataset = max(found, key=lambda p: p.stat().st_mtime).parent
ds = load(dataset)
print(ds.status_line(), f"design: {ds.design}")

# %%
analyse = {"saltelli": sobol_indices, "morris": morris_effects}[ds.design]
result = analyse(ds, "integration_index")
for note in result.notes:
    print("-", note)
print(f"replicate noise share of the variance: {result.noise_share:.1%}")
result.table

# %%
figures.sensitivity_figure(result)

# %% [markdown]
# The same for the binary outcome: P(integrated) at each design point (mean over replicates).

# %%
binary = analyse(ds, "integrated")
binary.table

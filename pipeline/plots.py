"""Figures saved as PNG next to a sweep's data (matplotlib's object API: no global backend)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from segmark.pipeline.finding import axis_table
from segmark.pipeline.params import BY_PATH


def tipping_curve(summary: pd.DataFrame, axis_path: str, path: Path) -> Path:
    """P(integrated) with its 95% interval and mean price dispersion (+- 1 sd across runs)
    along one axis."""
    table = axis_table(summary, axis_path)
    x = table[BY_PATH[axis_path].column]
    fig = Figure(figsize=(7, 4.2), dpi=120)
    left = fig.subplots()
    left.fill_between(x, table["p_low"], table["p_high"], color="tab:blue", alpha=0.2)
    left.plot(x, table["p_integrated"], "o-", color="tab:blue", label="P(integrated), 95% CI")
    left.set_xlabel(axis_path)
    left.set_ylabel("P(integrated national market)", color="tab:blue")
    left.set_ylim(-0.02, 1.02)
    right = left.twinx()
    right.errorbar(
        x,
        table["dispersion_mean"],
        yerr=table["dispersion_sd"],
        fmt="s--",
        color="tab:red",
        ms=3,
        capsize=2,
        label="log-price dispersion, mean +- sd",
    )
    right.set_ylabel("sd of log prices across regions", color="tab:red")
    handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    left.legend(handles=handles, loc="center right", fontsize=8)
    left.set_title(f"Market integration along {axis_path} ({int(table['runs'].sum())} runs)")
    fig.tight_layout()
    fig.savefig(path)
    return path

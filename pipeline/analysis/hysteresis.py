"""Hysteresis from ramp runs (model.ramp_parameter set; the nk model's ramps and series).

* Loop: a ``cycle`` run moves the parameter x from a to b and back within one run. The order
  parameter m (the weekly ``lcc_share``: population share of the largest price-linked market)
  is averaged in bins of x on each leg; the loop area is A = sum_bins (m_out(x) - m_back(x)) dx
  (positive when the state lags behind x both ways), one value per run; its mean across
  replicates has a percentile bootstrap interval.
* Bistability: ``step`` runs held at a start value (integrated or segmented side), then moved
  at once to x and left there; P(integrated at the end) from each start, and the difference
  with a bootstrap interval, per x. A difference whose interval excludes 0 means two stable
  states at the same x: the transition is not reversible there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segmark.models import ramps
from segmark.pipeline.analysis.data import Dataset, as_dataset
from segmark.pipeline.analysis.labels import outcome_label, parameter_label
from segmark.pipeline.analysis.markdown import table

ORDER = "lcc_share"
COLUMN = ramps.COLUMNS  # a ramp setting's column by its role: parameter, shape, from, ...
N_BINS = 20
LOOP_KEY = [COLUMN[role] for role in ("parameter", "from", "to", "hold", "weeks")]


def ramp_runs(data: Dataset | str, shape: str | None = None) -> pd.DataFrame:
    ds = as_dataset(data)
    if COLUMN["parameter"] not in ds.summary.columns:
        return ds.summary.iloc[:0]
    runs = ds.summary[ds.summary[COLUMN["parameter"]] != ramps.NONE]
    if shape is not None:
        runs = runs[runs[COLUMN["shape"]] == shape]
    return runs


def _x_of(run: pd.Series, steps: np.ndarray) -> np.ndarray:
    return ramps.Ramp.of(run).values(steps - 1)


def loop_area_of(
    x: np.ndarray,
    m: np.ndarray,
    out: np.ndarray,
    back: np.ndarray,
    a: float,
    b: float,
    bins: int = N_BINS,
):
    """Per-bin means of m on the outbound and return legs and the signed area between them
    (outbound minus return, integrated along the direction a -> b)."""
    edges = np.linspace(min(a, b), max(a, b), bins + 1)
    centre = (edges[1:] + edges[:-1]) / 2

    def binned(mask):
        idx = np.clip(np.digitize(x[mask], edges) - 1, 0, bins - 1)
        sums = np.bincount(idx, m[mask], bins)
        counts = np.bincount(idx, None, bins)
        with np.errstate(invalid="ignore"):
            return sums / counts

    m_out, m_back = binned(out), binned(back)
    diff = m_out - m_back
    area = float(np.nansum(diff) * (edges[1] - edges[0]) * np.sign(b - a))
    return centre, m_out, m_back, area


@dataclass
class Loop:
    parameter: str
    start: float
    end: float
    weeks: int
    areas: np.ndarray  # one per run
    area: float
    area_ci: tuple[float, float]
    curves: pd.DataFrame  # x, mean m outbound and return (across runs)
    returned: float  # share of runs integrated at the end (back at start)
    started: float  # share integrated before the ramp (hold period)
    level: float = 0.95
    labels: dict[str, str] = field(default_factory=dict)  # of the parameter and the order

    def describe(self) -> str:
        pct = f"{self.level:.0%}"
        lo, hi = self.area_ci
        verdict = "no loop is detectable" if lo <= 0 <= hi else "the loop is significant"
        return (
            f"Cycle {self.parameter} {self.start:g} -> {self.end:g} -> {self.start:g} "
            f"({self.weeks} weeks a leg, {len(self.areas)} runs): loop area {self.area:.4g} "
            f"({pct} CI {lo:.4g} to {hi:.4g}; units of {ORDER} x parameter): {verdict}; "
            f"{self.started:.0%} of runs were integrated before the ramp and "
            f"{self.returned:.0%} at its end."
        )


def _bootstrap_mean(values: np.ndarray, level: float, seed: int, n_boot: int = 2000):
    values = values[np.isfinite(values)]
    if values.size < 2:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng([seed, 0x4E57])
    means = values[rng.integers(0, values.size, (n_boot, values.size))].mean(1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return (float(lo), float(hi))


def loops(data: Dataset | str, *, level: float = 0.95, seed: int = 0) -> list[Loop]:
    """One loop per cycle configuration (parameter, from, to, hold, weeks) of the dataset."""
    ds = as_dataset(data)
    cycles = ramp_runs(ds, "cycle")
    cycles = cycles[cycles["status"] == "ok"]
    out = []
    if cycles.empty:
        return out
    series = ds.series(list(cycles["run_id"]), [ORDER])
    by_run = dict(tuple(series.groupby("run_id")))
    for key, runs in cycles.groupby(LOOP_KEY, sort=True):
        path, a, b, hold, weeks = key
        areas, outs, backs, before = [], [], [], []
        centre = None
        for _, run in runs.iterrows():
            s = by_run[run["run_id"]]
            steps = s["step"].to_numpy()
            x = _x_of(run, steps)
            m = s[ORDER].to_numpy(dtype=float)
            t = steps - 1
            leg_out = (t >= hold) & (t < hold + weeks)
            leg_back = (t >= hold + weeks) & (t < hold + 2 * weeks)
            centre, m_out, m_back, area = loop_area_of(x, m, leg_out, leg_back, a, b)
            areas.append(area)
            outs.append(m_out)
            backs.append(m_back)
            pre = m[t < hold]
            before.append(float(pre.mean()) if pre.size else np.nan)
        areas = np.array(areas)
        threshold = float(runs["model_integration_threshold"].iloc[0])
        out.append(
            Loop(
                parameter=path,
                start=a,
                end=b,
                weeks=int(weeks),
                areas=areas,
                area=float(areas.mean()),
                area_ci=_bootstrap_mean(areas, level, seed),
                curves=pd.DataFrame(
                    {"x": centre, "outbound": np.nanmean(outs, 0), "return": np.nanmean(backs, 0)}
                ),
                returned=float(runs[ds.state].astype(bool).mean()),
                started=float(np.nanmean(np.array(before) >= threshold)),
                level=level,
                labels={
                    "parameter": parameter_label(ds.model, path),
                    "order": outcome_label(ds.model, ORDER),
                },
            )
        )
    return out


def bistability(data: Dataset | str, *, level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Per target x of step runs: P(integrated) from each start value, their difference
    (first start minus second) with a bootstrap interval, and whether it excludes 0."""
    ds = as_dataset(data)
    steps = ramp_runs(ds, "step")
    rows = []
    if steps.empty:
        return pd.DataFrame()
    rng = np.random.default_rng([seed, 0xB157])
    tail = (1 - level) / 2 * 100
    for (path, x), runs in steps.groupby([COLUMN["parameter"], COLUMN["to"]], sort=True):
        ok = runs[runs["status"] == "ok"]
        starts = sorted(ok[COLUMN["from"]].unique())
        if len(starts) != 2:
            continue
        groups = [ok[ok[COLUMN["from"]] == s][ds.state].astype(float).to_numpy() for s in starts]
        p = [g.mean() for g in groups]
        boots = [g[rng.integers(0, g.size, (2000, g.size))].mean(1) for g in groups]
        lo, hi = np.percentile(boots[0] - boots[1], [tail, 100 - tail])
        rows.append(
            {
                "parameter": path,
                "x": float(x),
                f"P(int) from {starts[0]:g}": p[0],
                f"P(int) from {starts[1]:g}": p[1],
                "difference": p[0] - p[1],
                "ci_low": float(lo),
                "ci_high": float(hi),
                "runs": len(ok),
                "failed": len(runs) - len(ok),
                "bistable": bool(lo > 0 or hi < 0),
            }
        )
    return pd.DataFrame(rows)


def verdict(loop_list: list[Loop], bistable: pd.DataFrame) -> str:
    """Whether the transition is reversible, in one sentence, from the step runs (the clean
    test) and the loops."""
    if not bistable.empty:
        hits = bistable[bistable["bistable"]]
        if hits.empty:
            return (
                "Reversible: at every tested value, runs started from either state end in the "
                "same state (no difference in P(integrated) excludes 0)"
                + (
                    "; a ramp loop, if any, comes from the finite ramp speed (lag), not from "
                    "two stable states."
                    if any(lp.area_ci[0] > 0 or lp.area_ci[1] < 0 for lp in loop_list)
                    else "."
                )
            )
        xs = hits["x"]
        return (
            f"Not reversible: runs started from the two states end differently for "
            f"{hits['parameter'].iloc[0]} in [{xs.min():g}, {xs.max():g}] (bistable range: "
            "hysteresis)."
        )
    if loop_list:
        sig = [lp for lp in loop_list if lp.area_ci[0] > 0 or lp.area_ci[1] < 0]
        if not sig:
            return "Reversible within the ramps' resolution: no loop area differs from 0."
        return (
            "A loop is significant, but without step runs from both states it cannot be told "
            "from the lag of a finite-speed ramp; add step runs (sweep=ramp has them)."
        )
    return "No cycle or step runs: reversibility not assessed."


def loop_figure(loop_list: list[Loop], path=None):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5), dpi=110)
    ax = fig.subplots()
    for lp in loop_list:
        c = lp.curves
        label = f"{lp.start:g}->{lp.end:g}"
        line = ax.plot(c["x"], c["outbound"], "-", marker=">", ms=3, label=f"{label} outbound")[0]
        ax.plot(
            c["x"],
            c["return"],
            "--",
            marker="<",
            ms=3,
            color=line.get_color(),
            label=f"{label} return; area {lp.area:.3g} [{lp.area_ci[0]:.3g}, {lp.area_ci[1]:.3g}]",
        )
    ax.set_xlabel(loop_list[0].labels.get("parameter", loop_list[0].parameter))
    order = loop_list[0].labels.get("order", ORDER)
    ax.set_ylabel(order + "\n(mean over runs, binned along the ramp)")
    ax.set_title("Hysteresis loops of ramp runs (95% bootstrap CI of the area)", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    return fig


def report_section(report: Any) -> None:
    """The report's hysteresis section: loops, runs from both states, the verdict."""
    ds = report.ds
    if ramp_runs(ds).empty:
        return
    report.add("## Hysteresis", "")
    loop_list = loops(ds, seed=report.seed)
    bist = bistability(ds, seed=report.seed)
    for lp in loop_list:
        report.add(f"- {lp.describe()}")
    report.add("")
    if loop_list:
        report.figure(loop_figure, loop_list, "hysteresis_loops", "hysteresis loops")
    if not bist.empty:
        report.add(
            "Step runs from the two states at the same value (95% bootstrap CI):",
            "",
            table(bist),
            "",
        )
    text = verdict(loop_list, bist)
    report.add(f"**{text}**", "")
    report.numbers["hysteresis"] = {
        "loops": [
            {
                "parameter": lp.parameter,
                "from": lp.start,
                "to": lp.end,
                "area": lp.area,
                "area_ci": list(lp.area_ci),
                "runs": len(lp.areas),
            }
            for lp in loop_list
        ],
        "bistability": bist.to_dict("records"),
        "verdict": text,
    }

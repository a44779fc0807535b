"""Global sensitivity of an outcome to the parameters of a Saltelli (Sobol' indices) or Morris
(elementary effects) sweep, with SALib.

The design is rebuilt from the dataset's resolved ``config.yaml`` exactly as the sweep built
it (pipeline/designs.py: same root seed, same SALib sample in the unit hypercube), and every
design point is matched to its stored runs by parameter values. The outcome at a point is its
mean over replicates. A design with any failed or missing run is refused with
:class:`IncompleteDesign`: the estimators need every row, in SALib's order.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segmark.pipeline.analysis.data import AnalysisError, Dataset, as_dataset

N_RESAMPLES = 1000


class IncompleteDesign(AnalysisError):
    """A sensitivity design lacks runs (failed or never stored)."""


@dataclass
class Sensitivity:
    method: str  # "sobol" or "morris"
    outcome: str
    parameters: list[str]
    table: pd.DataFrame  # one row per parameter
    n_points: int
    replicates: int
    noise_share: float  # within-point (replicate) variance / total variance of the outcome
    level: float = 0.95
    notes: list[str] = field(default_factory=list)


def _design(ds: Dataset, kinds: tuple[str, ...]):
    from segmark.pipeline import designs

    cfg = ds.config_object()
    if cfg.sweep.design not in kinds:
        raise AnalysisError(
            f"{ds.name} is a {cfg.sweep.design} design; this analysis needs a "
            f"{' or '.join(kinds)} design (sweep=sensitivity for Sobol' indices, sweep=screening "
            "for Morris)."
        )
    design = designs.build(cfg, ds.model)
    rng = np.random.default_rng([cfg.sweep.root_seed, designs.DESIGN_STREAM, 0])
    unit = designs._unit_sample(cfg.sweep.design, cfg.sweep.samples, len(design.paths), rng)
    return cfg, design, unit


def _outcomes(ds: Dataset, design, outcome: str, replicates: int) -> tuple[np.ndarray, float]:
    """The mean outcome at each design point, in design order; refuses incomplete designs.
    Also the share of the outcome's variance that is replicate noise."""
    if outcome not in ds.summary.columns:
        raise AnalysisError(f"{outcome!r} is not an outcome column of the summary.")
    columns = [ds.column(p) for p in design.paths]
    points = pd.DataFrame(list(design.points)).rename(
        columns=dict(zip(design.paths, columns, strict=True))
    )
    summary = ds.summary.assign(_ok=(ds.summary["status"] == "ok"))
    summary = summary.assign(_y=summary[outcome].astype(float))
    stats = summary.groupby(columns, dropna=False).agg(
        ok=("_ok", "sum"),
        runs=("_ok", "size"),
        y=("_y", "mean"),
        var=("_y", "var"),
    )
    matched = points.join(stats, on=columns)
    matched[["ok", "runs"]] = matched[["ok", "runs"]].fillna(0)
    # Morris and list designs can repeat a point: the runs of all copies share its values
    copies = matched.groupby(columns)["ok"].transform("size")
    per_point_ok = matched["ok"] / copies
    per_point_runs = matched["runs"] / copies
    missing = int((per_point_runs < replicates).sum())
    failed = int((per_point_ok < per_point_runs).sum())
    if missing or failed:
        n_failed = int((summary["_ok"] == 0).sum())
        raise IncompleteDesign(
            f"{ds.name}: the {design.kind} design is incomplete: {failed} of {len(points)} design "
            f"points have failed runs ({n_failed} failed runs in all) and {missing} lack stored "
            "runs; Sobol' and Morris estimators need every point. Rerun the failed runs with "
            "retry_failed=true (same storage.dataset), or finish the sweep, then analyse again."
        )
    y = matched["y"].to_numpy(dtype=float)
    total = float(np.var(summary.loc[summary["_ok"], "_y"], ddof=1))
    within = float(np.nanmean(matched["var"])) if replicates > 1 else float("nan")
    noise = within / total if total > 0 else float("nan")
    return y, noise


def _problem(paths: tuple[str, ...]) -> dict[str, Any]:
    return {"num_vars": len(paths), "names": list(paths), "bounds": [[0.0, 1.0]] * len(paths)}


def sobol_indices(
    data: Dataset | str,
    outcome: str | None = None,
    *,
    level: float = 0.95,
    seed: int = 0,
) -> Sensitivity:
    """First-order (S1) and total (ST) Sobol' indices of ``outcome`` with their bootstrap
    intervals (SALib ``sobol.analyze``) from a ``saltelli`` sweep."""
    from SALib.analyze import sobol

    ds = as_dataset(data)
    outcome = outcome or ds.model.order or ds.state
    cfg, design, _ = _design(ds, ("saltelli",))
    y, noise = _outcomes(ds, design, outcome, cfg.sweep.replicates)
    return sobol_from_outcomes(
        design.paths,
        y,
        outcome,
        level=level,
        seed=seed,
        replicates=cfg.sweep.replicates,
        noise_share=noise,
        analyze=sobol.analyze,
    )


def sobol_from_outcomes(
    paths, y, outcome, *, level=0.95, seed=0, replicates=1, noise_share=float("nan"), analyze=None
) -> Sensitivity:
    """Sobol' indices from outcomes ``y`` in SALib's Saltelli row order (second order on)."""
    if analyze is None:
        from SALib.analyze.sobol import analyze
    problem = _problem(tuple(paths))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze(
            problem,
            np.asarray(y, dtype=float),
            calc_second_order=True,
            num_resamples=N_RESAMPLES,
            conf_level=level,
            seed=seed,
        )
    half = np.asarray(res["S1_conf"])
    half_t = np.asarray(res["ST_conf"])
    table = pd.DataFrame(
        {
            "parameter": list(paths),
            "S1": res["S1"],
            "S1_low": res["S1"] - half,
            "S1_high": res["S1"] + half,
            "ST": res["ST"],
            "ST_low": res["ST"] - half_t,
            "ST_high": res["ST"] + half_t,
        }
    )
    notes = []
    if np.nanvar(y) == 0:
        notes.append(f"{outcome} does not vary across the design: all indices are undefined.")
    base = len(y) // (2 * len(paths) + 2)
    if base < 128:
        notes.append(
            f"base sample N = {base} is small: Sobol' estimates (even outside [0, 1]) are rough; "
            "raise sweep.samples (a power of 2)."
        )
    if np.isfinite(noise_share) and noise_share > 0.2:
        notes.append(
            f"replicate noise is {noise_share:.0%} of the outcome's variance: indices of weak "
            "parameters are noise; add replicates."
        )
    return Sensitivity(
        "sobol", outcome, list(paths), table, len(y), replicates, noise_share, level, notes
    )


def elementary_effects(x: np.ndarray, y: np.ndarray, d: int) -> np.ndarray:
    """(trajectories, d) elementary effects from Morris rows (each trajectory d + 1 rows,
    consecutive rows differing in one parameter), in units of each parameter's full range."""
    t = len(y) // (d + 1)
    xs = x.reshape(t, d + 1, d)
    ys = np.asarray(y, dtype=float).reshape(t, d + 1)
    dx = np.diff(xs, axis=1)  # (t, d, d)
    dy = np.diff(ys, axis=1)  # (t, d)
    which = np.abs(dx).argmax(axis=2)  # the parameter each step moves
    step = np.take_along_axis(dx, which[..., None], axis=2)[..., 0]
    ee = np.full((t, d), np.nan)
    rows = np.arange(t)[:, None]
    ee[rows, which] = dy / step
    return ee


def morris_effects(
    data: Dataset | str,
    outcome: str | None = None,
    *,
    level: float = 0.95,
    seed: int = 0,
) -> Sensitivity:
    """Morris mu* (mean |elementary effect|, SALib's bootstrap interval) and sigma (sd of the
    effects; interval from a bootstrap over trajectories) from a ``morris`` sweep."""
    ds = as_dataset(data)
    outcome = outcome or ds.model.order or ds.state
    cfg, design, unit = _design(ds, ("morris",))
    y, noise = _outcomes(ds, design, outcome, cfg.sweep.replicates)
    return morris_from_outcomes(
        design.paths,
        unit,
        y,
        outcome,
        level=level,
        seed=seed,
        replicates=cfg.sweep.replicates,
        noise_share=noise,
    )


def morris_from_outcomes(
    paths, x, y, outcome, *, level=0.95, seed=0, replicates=1, noise_share=float("nan")
) -> Sensitivity:
    from SALib.analyze import morris

    from segmark.pipeline.designs import MORRIS_LEVELS

    problem = _problem(tuple(paths))
    d = len(paths)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = morris.analyze(
            problem,
            np.asarray(x, dtype=float),
            np.asarray(y, dtype=float),
            num_resamples=N_RESAMPLES,
            conf_level=level,
            num_levels=MORRIS_LEVELS,
            seed=seed,
        )
    ee = elementary_effects(np.asarray(x, dtype=float), y, d)
    rng = np.random.default_rng([seed, 0x3077])
    picks = rng.integers(0, ee.shape[0], size=(N_RESAMPLES, ee.shape[0]))
    boot_sigma = np.nanstd(ee[picks], axis=1, ddof=1)  # (B, d)
    tail = (1 - level) / 2 * 100
    s_low, s_high = np.nanpercentile(boot_sigma, [tail, 100 - tail], axis=0)
    mu_star = np.asarray(res["mu_star"], dtype=float)
    conf = np.asarray(res["mu_star_conf"], dtype=float)
    table = pd.DataFrame(
        {
            "parameter": list(paths),
            "mu": np.asarray(res["mu"], dtype=float),
            "mu_star": mu_star,
            "mu_star_low": mu_star - conf,
            "mu_star_high": mu_star + conf,
            "sigma": np.asarray(res["sigma"], dtype=float),
            "sigma_low": s_low,
            "sigma_high": s_high,
        }
    )
    notes = []
    if ee.shape[0] < 10:
        notes.append(f"only {ee.shape[0]} trajectories: intervals are rough.")
    return Sensitivity(
        "morris", outcome, list(paths), table, len(y), replicates, noise_share, level, notes
    )

"""The headline under parameter uncertainty: the tipping threshold along an axis, and the
historical scenarios' outcomes, at draws from the posterior (``calibration.headline``).

``draws`` particles are drawn from the last population by weight (a particle drawn twice
counts twice). Each draw runs the axis's ``values`` x ``replicates`` with ``fixed`` settings,
and each scenario once, every run with its own random stream, into the calibration's
``headline/`` dataset; ``headline.parquet`` maps each planned run to its draw. Per draw, a
Firth logistic fit of P(state) along the axis gives the draw's threshold: its spread over draws
is the posterior predictive interval, holding parameter uncertainty and replicate noise.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.special import expit

from segmark.models.interface import Model
from segmark.pipeline.analysis.stats import fit_logistic
from segmark.pipeline.calibration.smc import Population, weighted_quantile
from segmark.pipeline.config import Config, ConfigError, HeadlineConfig
from segmark.pipeline.driver import run_sweep
from segmark.pipeline.extend import as_list_design
from segmark.pipeline.schedule import Client
from segmark.pipeline.store import read_file, write_table_atomic
from segmark.pipeline.sweep import plan as plan_runs

DATASET = "headline"  # the runs, under the calibration's directory
FILE = "headline.parquet"  # run_id -> draw, weight, kind, axis value or scenario, baseline
METADATA = b"segmark.headline"  # FILE's metadata: the spec and the axis's real unit
SCENARIO = "model.scenario"
SPAWN = 1_000_000  # the draws' random stream: SeedSequence(root_seed, (SPAWN,))


def draw(last: Population, n: int, root_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices of the drawn particles, each one's share of the ``n`` draws)."""
    rng = np.random.default_rng(np.random.SeedSequence(root_seed, spawn_key=(SPAWN,)))
    picked = rng.choice(len(last.weights), size=n, p=last.weights / last.weights.sum())
    particles, counts = np.unique(picked, return_counts=True)
    return particles, counts / n


def points(
    spec: HeadlineConfig, paths: tuple[str, ...], draws: np.ndarray, kind: str
) -> tuple[list[dict], pd.DataFrame]:
    """The list design's points (parameter path -> value) of ``kind`` (``threshold``: the
    axis's values with ``fixed``; ``scenario``: each scenario at the draw's values) and, per
    point, its draw and axis value or scenario."""
    out, rows = [], []
    for i, row in enumerate(draws):
        values = {p: float(v) for p, v in zip(paths, row, strict=True)}
        if kind == "threshold":
            for x in spec.values:
                out.append({**values, **spec.fixed, spec.axis: float(x)})
                rows.append((i, kind, float(x), ""))
        else:
            for name in spec.scenarios:
                out.append({**values, SCENARIO: name})
                rows.append((i, kind, np.nan, name))
    return out, pd.DataFrame(rows, columns=["draw", "kind", "x", "scenario"])


def sweep_config(base: Config, directory: Path, design: list[dict], replicates: int) -> Config:
    cfg = copy.deepcopy(base)
    cfg.sweep.name, cfg.sweep.common_random_numbers = "calibration-headline", False
    as_list_design(cfg, design, replicates)
    cfg.storage.root, cfg.storage.dataset = str(directory), DATASET
    cfg.progress = cfg.dry_run = cfg.retry_failed = False
    return cfg


def check(spec: HeadlineConfig, base: Config, model: Model, paths: tuple[str, ...]) -> None:
    """The headline's settings, and its runs planned at the model's defaults, refused with a
    ConfigError naming the key before any run."""
    key = "calibration.headline"
    if not model.state:
        raise ConfigError(f"{key}: model {model.name} declares no state outcome to tip.")
    if spec.axis not in {p.path for p in model.parameters if p.dtype is float}:
        raise ConfigError(f"{key}.axis = {spec.axis!r}: give a float parameter's path.")
    values = np.asarray(spec.values, dtype=float)
    if len(values) < 3 or np.any(np.diff(values) <= 0):
        raise ConfigError(f"{key}.values: give at least 3 increasing numbers, not {spec.values}.")
    if spec.axis in spec.fixed:
        raise ConfigError(f"{key}.fixed sets {spec.axis}, the axis: leave it to values.")
    for name, least in (("draws", 2), ("replicates", 1)):
        value = getattr(spec, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ConfigError(f"{key}.{name} = {value!r}: it takes an integer >= {least}.")
    if spec.scenarios and SCENARIO not in {p.path for p in model.parameters}:
        raise ConfigError(f"{key}.scenarios: model {model.name} has no {SCENARIO}.")
    one = np.array([[model.parameter(p).default for p in paths]], dtype=float)
    for kind in ("threshold", "scenario") if spec.scenarios else ("threshold",):
        plan_runs(sweep_config(base, Path("."), points(spec, paths, one, kind)[0], 1), model)


def run(
    spec: HeadlineConfig,
    base: Config,
    model: Model,
    directory: Path,
    last: Population,
    paths: tuple[str, ...],
    client: Client | None,
    echo: Callable[[str], None] = print,
) -> Path:
    """Run (or resume: stored runs are found by id) the headline's runs; returns FILE's path."""
    particles, shares = draw(last, spec.draws, base.sweep.root_seed)
    tables = []
    for kind, replicates in (("threshold", spec.replicates), ("scenario", 1)):
        if kind == "scenario" and not spec.scenarios:
            continue
        design, meta = points(spec, paths, last.points[particles], kind)
        cfg = sweep_config(base, directory, design, replicates)
        plan = plan_runs(cfg, model)[1]
        # the plan holds each point ``replicates`` times, point by point
        meta = meta.loc[meta.index.repeat(replicates)].reset_index(drop=True)
        meta.insert(0, "run_id", plan.run_id.astype(str))
        echo(f"headline: {kind} runs, {len(meta)} at {len(particles)} posterior draws")
        run_sweep(cfg, echo=lambda _: None, client=client, model=model)
        tables.append(meta)
    meta = pd.concat(tables, ignore_index=True)
    meta["weight"], meta["particle"] = shares[meta["draw"]], particles[meta["draw"]]
    baseline, scale = _baseline(spec, base, model, paths, last.points[particles])
    meta["baseline"], meta["scale"] = baseline[meta["draw"]], scale[meta["draw"]]
    unit = model.real_units.get(spec.axis)
    about = {"spec": asdict(spec), "unit": unit(_defaults(base, model))[1] if unit else ""}
    table = pa.Table.from_pandas(meta, preserve_index=False)
    table = table.replace_schema_metadata({METADATA: json.dumps(about)})
    path = Path(directory) / FILE
    write_table_atomic(table, path, "zstd")
    return path


def _defaults(base: Config, model: Model) -> dict[str, float]:
    """Every parameter by name: the model's defaults with ``base``'s settings."""
    values = {p.name: p.default for p in model.parameters}
    for p in model.parameters:
        values[p.name] = getattr(base, p.group).get(p.name, values[p.name])
    return values


def _baseline(
    spec: HeadlineConfig, base: Config, model: Model, paths: tuple[str, ...], draws: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per draw: the axis's value at the calibrated baseline, and one unit of the axis in its
    real unit (``Model.real_units``; NaN where the model gives none) under ``fixed``."""
    name, unit = spec.axis.split(".", 1)[1], model.real_units.get(spec.axis)
    baseline, scale = np.empty(len(draws)), np.full(len(draws), np.nan)
    fixed = {path.split(".", 1)[1]: value for path, value in spec.fixed.items()}
    for i, row in enumerate(draws):
        params = _defaults(base, model) | {
            p.split(".", 1)[1]: v for p, v in zip(paths, row, strict=True)
        }
        baseline[i] = params[name]
        if unit:
            scale[i] = unit(params | fixed)[0]
    return baseline, scale


def read(directory: Path) -> tuple[pd.DataFrame, dict] | None:
    """FILE's table and its metadata (the spec, the axis's real unit), or None before the
    headline has run."""
    path = Path(directory) / FILE
    if not path.exists():
        return None
    table = read_file(path)
    return table.to_pandas(), json.loads(table.schema.metadata[METADATA])


def draw_thresholds(meta: pd.DataFrame, summary: pd.DataFrame, model: Model) -> pd.DataFrame:
    """Per draw: its weight, the threshold along the axis (a Firth logistic fit of P(state)
    over its runs; +-inf where it does not cross on the axis: +inf beyond the axis's end, -inf
    before its start, as P(state) falls or rises along it), the baseline's axis value, P(state)
    there by the fit, and both in the axis's real unit (``threshold_real``...)."""
    runs = meta[meta["kind"] == "threshold"].merge(summary, on="run_id")
    runs = runs[runs["status"] == "ok"].astype({model.state: float})
    grid = runs.pivot_table(index="draw", columns="x", values=model.state, aggfunc=["sum", "count"])
    x = np.sort(meta.loc[meta["kind"] == "threshold", "x"].unique())
    k = grid["sum"].reindex(columns=x).fillna(0).to_numpy(float)
    n = grid["count"].reindex(columns=x).fillna(0).to_numpy(float)
    x0, slope = fit_logistic(x, k, n)
    p = k.sum(axis=1) / n.sum(axis=1)
    inside = np.isfinite(x0) & (x0 >= x[0]) & (x0 <= x[-1])
    # a draw that does not cross on the axis: beyond the end whose side its runs are on
    falling = fit_logistic(x, k.sum(axis=0), n.sum(axis=0))[1][0] < 0
    threshold = np.where(inside, x0, np.where((p > 0.5) == falling, np.inf, -np.inf))
    per = meta.drop_duplicates("draw").set_index("draw").loc[grid.index]
    baseline, scale = per["baseline"].to_numpy(), per["scale"].to_numpy()
    return pd.DataFrame({
        "draw": grid.index.to_numpy(), "weight": per["weight"].to_numpy(),
        "threshold": threshold, "baseline": baseline,
        "p_baseline": np.where(np.isfinite(x0), expit(slope * (baseline - x0)), p),
        "threshold_real": threshold * scale, "baseline_real": baseline * scale,
        "runs": n.sum(axis=1).astype(int),
    })  # fmt: skip


def interval(values: np.ndarray, weights: np.ndarray, level: float = 0.9) -> tuple[float, ...]:
    """(median, lower, upper) of the central ``level`` interval of weighted ``values`` (which
    may be infinite: an open end)."""
    tail = (1 - level) / 2
    return tuple(weighted_quantile(values, weights, q) for q in (0.5, tail, 1 - tail))


def scenario_table(meta: pd.DataFrame, summary: pd.DataFrame, model: Model) -> pd.DataFrame:
    """Per scenario, over the draws' runs (weighted): P(state), and the median and 90%
    interval of the order outcome and each headline outcome."""
    runs = meta[meta["kind"] == "scenario"].merge(summary, on="run_id")
    runs = runs[runs["status"] == "ok"]
    rows = []
    for name, group in runs.groupby("scenario", sort=False):
        w = group["weight"].to_numpy()
        row: dict[str, object] = {"scenario": name, "draws": len(group)}
        row[f"P({model.state})"] = float(np.average(group[model.state].astype(float), weights=w))
        for outcome in (model.order, *model.headline):
            if outcome:
                mid, low, high = interval(group[outcome].to_numpy(float), w)
                row[outcome] = f"{mid:.3g} ({low:.3g}-{high:.3g})"
        rows.append(row)
    return pd.DataFrame(rows)


def summarise(th: pd.DataFrame, about: dict, model: Model) -> list[str]:
    """The headline in sentences: the threshold's median and 90% interval over draws (and in
    the axis's real unit), the baseline's distance to it and P(state) at the baseline."""
    spec, w = about["spec"], th["weight"].to_numpy()
    fixed = ", ".join(f"{k} = {v:g}" for k, v in spec["fixed"].items()) or "nothing else fixed"
    mid, low, high = interval(th["threshold"].to_numpy(), w)
    text = (
        f"P({model.state}) along {spec['axis']} ({fixed}), at {len(th)} posterior draws x "
        f"{spec['replicates']} replicates: it crosses 50% at {_fmt(mid)} (90% posterior "
        f"predictive interval {_fmt(low)} to {_fmt(high)})"
    )
    if about["unit"]:
        real = interval(th["threshold_real"].to_numpy(), w)
        text += f", that is {_fmt(real[0])} {about['unit']} ({_fmt(real[1])} to {_fmt(real[2])})"
    lines = [text + "."]
    distance = (th["baseline"] - th["threshold"]).to_numpy()
    b_mid, b_low, b_high = interval(th["baseline"].to_numpy(), w)
    d_mid, d_low, d_high = interval(distance, w)
    beyond = float(np.average(distance > 0, weights=w))
    lines.append(
        f"The calibrated baseline has {spec['axis']} = {b_mid:.3g} ({b_low:.3g}-{b_high:.3g}): "
        f"{_gap(d_mid)} beyond the threshold ({_gap(d_low)} to {_gap(d_high)}); it lies past "
        f"the threshold in {beyond:.0%} of draws, and P({model.state}) there is "
        f"{np.average(th['p_baseline'], weights=w):.2f} on average."
    )
    ends = {"+inf": np.isposinf(th["threshold"]).sum(), "-inf": np.isneginf(th["threshold"]).sum()}
    if any(ends.values()):
        lines.append(
            f"Draws that do not cross on the axis: {ends['+inf']} beyond its end (+inf), "
            f"{ends['-inf']} before its start (-inf)."
        )
    return lines


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return "beyond the axis's end" if value > 0 else "before the axis's start"
    return f"{value:.3g}"


def _gap(value: float) -> str:
    """A baseline's distance past a threshold; -inf where the threshold is beyond the axis."""
    return f"{value:.3g}" if np.isfinite(value) else f"{value} (no threshold on the axis)"


def figure(
    meta: pd.DataFrame, summary: pd.DataFrame, th: pd.DataFrame, model: Model, axis: str, path=None
):
    """Each draw's P(state) along the axis (grey), their weighted mean (blue), the threshold's
    90% interval (band) and the baseline's median (dashed)."""
    from matplotlib.figure import Figure

    runs = meta[meta["kind"] == "threshold"].merge(summary, on="run_id")
    runs = runs[runs["status"] == "ok"].astype({model.state: float})
    curves = runs.pivot_table(index="draw", columns="x", values=model.state, aggfunc="mean")
    fig = Figure(figsize=(6, 3.6))
    ax = fig.add_subplot()
    x = curves.columns.to_numpy(float)
    for row in curves.to_numpy():
        ax.plot(x, row, color="0.6", alpha=0.25, lw=0.8)
    w = th.set_index("draw")["weight"].reindex(curves.index).to_numpy()
    ax.plot(x, np.average(curves.to_numpy(), axis=0, weights=w), color="tab:blue", lw=2)
    _, low, high = interval(th["threshold"].to_numpy(), th["weight"].to_numpy())
    ax.axvspan(max(low, x[0]), min(high, x[-1]), color="tab:orange", alpha=0.2)
    ax.axvline(interval(th["baseline"].to_numpy(), th["weight"].to_numpy())[0], ls="--", c="k")
    ax.set_xlabel(axis)
    ax.set_ylabel(f"P({model.state})")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=90)
    return fig

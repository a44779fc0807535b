"""A calibration read back and reported: each parameter's posterior beside its prior (and
whether the data identifies it), the populations' epsilon and acceptance, and the posterior
predictive check of each statistic beside the data's interval. ``write`` puts report.md and
its figures in ``<calibration>/report/``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from segmark.models.interface import Model
from segmark.pipeline.analysis.labels import parameter_label
from segmark.pipeline.analysis.markdown import table
from segmark.pipeline.calibration import headline, posterior, predictive
from segmark.pipeline.calibration.priors import parse
from segmark.pipeline.calibration.smc import weighted_quantile
from segmark.pipeline.store import read_file, read_summary

# posterior contraction (1 - posterior variance / prior variance; Betancourt 2018) below which
# the report says the data does not identify a parameter
IDENTIFIED = 0.5


@dataclass(frozen=True)
class Calibration:
    """A stored calibration: every population's particles, its identity (the config section,
    the observed values), the data's intervals and the predictive draws (None before them)."""

    directory: Path
    particles: pd.DataFrame
    identity: dict
    predictive: pd.DataFrame | None

    @property
    def last(self) -> pd.DataFrame:
        return self.particles[self.particles.population == self.particles.population.max()]

    @property
    def statistics(self) -> list[str]:
        return [c.removeprefix("stat_") for c in self.particles.columns if c.startswith("stat_")]


def read(directory: Path) -> Calibration:
    """The calibration at ``directory`` (a FileNotFoundError if it has no posterior yet)."""
    directory = Path(directory)
    table_ = read_file(directory / posterior.FILE)
    identity = json.loads(table_.schema.metadata[posterior.IDENTITY])
    path = directory / predictive.FILE
    draws = read_file(path).to_pandas() if path.exists() else None
    return Calibration(directory, table_.to_pandas(), identity, draws)


def parameters(cal: Calibration, model: Model) -> pd.DataFrame:
    """Per estimated parameter: the prior's and the posterior's mean and 90% interval, the
    posterior contraction and whether the data identifies it."""
    priors = parse(model, cal.identity["priors"], "calibration.priors")
    # inside each parameter's range (draws outside it are redrawn), so by sampling; variances
    # in the kernel's space, where a log-uniform prior is flat (log x)
    prior_z = priors.to_kernel(priors.sample(np.random.default_rng(0), 20_000))
    last, rows = cal.last, []
    columns = [model.parameter(item.path).column for item in priors.items]
    z = priors.to_kernel(last[columns].to_numpy())
    w = last.weight.to_numpy()
    for j, item in enumerate(priors.items):
        values = last[columns[j]].to_numpy()
        mean = float(np.average(values, weights=w))
        z_mean = np.average(z[:, j], weights=w)
        contraction = 1.0 - np.average((z[:, j] - z_mean) ** 2, weights=w) / prior_z[:, j].var()
        rows.append({
            "parameter": item.path,
            "prior mean": float(item.dist.mean()),
            "prior 5%": float(item.dist.ppf(0.05)),
            "prior 95%": float(item.dist.ppf(0.95)),
            "posterior mean": mean,
            "posterior 5%": weighted_quantile(values, w, 0.05),
            "posterior 95%": weighted_quantile(values, w, 0.95),
            "contraction": contraction,
            "identified": "yes" if contraction >= IDENTIFIED else "no",
        })  # fmt: skip
    return pd.DataFrame(rows)


def populations(cal: Calibration) -> pd.DataFrame:
    """Per population: epsilon, acceptance rate, proposals, simulations and the effective
    sample size of its weights."""
    grouped = cal.particles.groupby("population")
    out = grouped[["epsilon", "acceptance_rate", "proposals", "simulations"]].first()
    out["ess"] = grouped.weight.apply(lambda w: 1.0 / float((w**2).sum()))
    return out.reset_index()


def predictive_check(cal: Calibration) -> pd.DataFrame | None:
    """Per statistic: the data's estimate and interval, the posterior predictive median and
    90% interval (fresh runs at posterior draws), and whether the data's estimate is inside."""
    if cal.predictive is None:
        return None
    observed, rows = cal.identity.get("intervals", {}), []
    for j, name in enumerate(cal.statistics):
        ok = cal.predictive[f"stat_{name}"].notna()
        values = cal.predictive.loc[ok, f"stat_{name}"].to_numpy()
        weights = cal.predictive.loc[ok, "weight"].to_numpy()
        estimate, lower, upper = observed.get(name, (cal.identity["observed"][j], np.nan, np.nan))
        low, mid, high = (
            [weighted_quantile(values, weights, q) for q in (0.05, 0.5, 0.95)]
            if len(values)
            else [np.nan] * 3
        )
        rows.append({
            "statistic": name, "data": estimate, "data low": lower, "data high": upper,
            "predictive median": mid, "predictive 5%": low, "predictive 95%": high,
            "inside": "yes" if low <= estimate <= high else "no",
        })  # fmt: skip
    return pd.DataFrame(rows)


def marginals_figure(cal: Calibration, model: Model, path: Path | None = None) -> Figure:
    """Each parameter's posterior (weighted histogram of the last population) over its prior."""
    priors = parse(model, cal.identity["priors"], "calibration.priors")
    d = len(priors.items)
    cols = min(d, 3)
    fig = Figure(figsize=(4.0 * cols, 2.8 * ((d + cols - 1) // cols)))
    last = cal.last
    for j, item in enumerate(priors.items):
        ax = fig.add_subplot((d + cols - 1) // cols, cols, j + 1)
        low, high = max(item.low, item.dist.ppf(0.001)), min(item.high, item.dist.ppf(0.999))
        grid = np.linspace(low, high, 200)
        ax.hist(last[model.parameter(item.path).column], bins=30, range=(low, high),
                weights=last.weight, density=True, color="tab:blue", alpha=0.6,
                label="posterior")  # fmt: skip
        ax.plot(grid, item.dist.pdf(grid), color="0.3", label="prior")
        ax.set_xlabel(parameter_label(model, item.path), fontsize=8)
        ax.set_yticks([])
        if j == 0:
            ax.legend(fontsize=7)
    return _save(fig, path)


def pairs_figure(cal: Calibration, model: Model, path: Path | None = None) -> Figure:
    """The last population's particles, each pair of parameters (point size by weight)."""
    paths = list(parse(model, cal.identity["priors"], "calibration.priors").paths)
    last, d = cal.last, len(paths)
    fig = Figure(figsize=(1.9 * d + 1, 1.9 * d + 1))
    size = 400 * last.weight.to_numpy()
    for i, row in enumerate(paths):
        for j, col in enumerate(paths[: i + 1]):
            ax = fig.add_subplot(d, d, i * d + j + 1)
            x = last[model.parameter(col).column]
            if i == j:
                ax.hist(x, bins=20, weights=last.weight, color="tab:blue", alpha=0.6)
                ax.set_yticks([])
            else:
                ax.scatter(x, last[model.parameter(row).column], s=size, alpha=0.4, lw=0)
            ax.tick_params(labelsize=6)
            if i == d - 1:
                ax.set_xlabel(col, fontsize=7)
            if j == 0 and i > 0:
                ax.set_ylabel(row, fontsize=7)
    return _save(fig, path)


def progress_figure(table_: pd.DataFrame, path: Path | None = None) -> Figure:
    """Epsilon (each population in its own distance scales) and acceptance rate by population."""
    fig = Figure(figsize=(8, 3))
    ax, bx = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    later = table_[np.isfinite(table_.epsilon)]
    ax.plot(later.population, later.epsilon, "o-")
    ax.set(xlabel="population", ylabel="epsilon (scaled distance)")
    bx.plot(table_.population, table_.acceptance_rate, "o-", color="tab:orange")
    bx.set(xlabel="population", ylabel="acceptance rate", ylim=(0, 1.05))
    return _save(fig, path)


def predictive_figure(check: pd.DataFrame, path: Path | None = None) -> Figure:
    """Per statistic: the posterior predictive 90% interval and median (blue) beside the data's
    estimate and interval (black)."""
    n = len(check)
    cols = min(n, 5)
    fig = Figure(figsize=(2.4 * cols, 2.2 * ((n + cols - 1) // cols)))
    for k, row in enumerate(check.itertuples(index=False)):
        ax = fig.add_subplot((n + cols - 1) // cols, cols, k + 1)
        ax.errorbar([0], [row[4]], yerr=[[row[4] - row[5]], [row[6] - row[4]]], fmt="o",
                    color="tab:blue", capsize=4)  # fmt: skip
        low = row[1] - row[2] if np.isfinite(row[2]) else 0.0
        high = row[3] - row[1] if np.isfinite(row[3]) else 0.0
        ax.errorbar([1], [row[1]], yerr=[[low], [high]], fmt="s", color="k", capsize=4)
        ax.set_xticks([0, 1], ["model", "data"], fontsize=7)
        ax.set_xlim(-0.6, 1.6)
        ax.set_title(row[0], fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
    return _save(fig, path)


def _headline_section(
    directory: Path, model: Model, out: Path, meta: pd.DataFrame, about: dict
) -> list[str]:
    """The threshold and the scenarios at posterior draws (:mod:`.headline`), with a figure."""
    outcomes = [o for o in (model.state, model.order, *model.headline) if o]
    columns = ["run_id", "status", *dict.fromkeys(outcomes)]
    summary = read_summary(directory / headline.DATASET, columns).to_pandas()
    th = headline.draw_thresholds(meta, summary, model)
    headline.figure(meta, summary, th, model, about["spec"]["axis"], out / "headline.png")
    lines = ["", "## The headline under parameter uncertainty", "",
             *headline.summarise(th, about, model), "", "![headline](headline.png)"]  # fmt: skip
    scenarios = headline.scenario_table(meta, summary, model)
    if len(scenarios):
        lines += ["", "Historical scenarios at the same draws, one run each (median and 90% "
                  "interval over draws):", "", table(scenarios)]  # fmt: skip
    return lines


def _save(fig: Figure, path: Path | None) -> Figure:
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=90)
    return fig


def write(directory: Path, model: Model) -> Path:
    """``<directory>/report/report.md`` with its figures; returns the Markdown's path."""
    cal = read(directory)
    out = Path(directory) / "report"
    out.mkdir(exist_ok=True)
    params, pops, check = parameters(cal, model), populations(cal), predictive_check(cal)
    marginals_figure(cal, model, out / "marginals.png")
    pairs_figure(cal, model, out / "pairs.png")
    progress_figure(pops, out / "progress.png")
    lost = params.loc[params.identified == "no", "parameter"].tolist()
    lines = [
        f"# Calibration {cal.identity['name']} of {cal.identity['model']}",
        "",
        f"{len(pops)} populations of {len(cal.last)} particles, "
        f"{int(pops.simulations.sum())} simulations; the posterior is population "
        f"{int(pops.population.max())}.",
        "",
        "## Parameters",
        "",
        table(params),
        "",
        "Not identified by the data (posterior contraction below "
        f"{IDENTIFIED}: the posterior is close to the prior): "
        + (", ".join(lost) if lost else "none")
        + ".",
        "",
        "![marginals](marginals.png)",
        "",
        "![pairs](pairs.png)",
        "",
        "## Populations",
        "",
        table(pops),
        "",
        "![progress](progress.png)",
    ]
    if check is not None:
        predictive_figure(check, out / "predictive.png")
        misses = check.loc[check.inside == "no", "statistic"].tolist()
        lines += [
            "",
            f"## Posterior predictive check ({len(cal.predictive)} fresh runs)",
            "",
            table(check),
            "",
            "Outside the predictive 90% interval: " + (", ".join(misses) or "none") + ".",
            "",
            "![predictive](predictive.png)",
        ]
    if (done := headline.read(directory)) is not None:
        lines += _headline_section(Path(directory), model, out, *done)
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

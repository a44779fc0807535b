"""A calibration from its spec: validate, resume what is stored, run the rest through the engine.

``<storage.root>/<name>/`` holds ``runs/`` (every simulation, a segmark dataset) and
``posterior.parquet`` (every population; :mod:`.posterior`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from segmark.models.interface import Model
from segmark.pipeline.calibration import headline, posterior, predictive
from segmark.pipeline.calibration.engine import RUNS, EngineSimulator, check_base, with_settings
from segmark.pipeline.calibration.smc import Population, Simulate, calibrate, weighted_quantile
from segmark.pipeline.calibration.spec import CalibrationSpec, check, identity
from segmark.pipeline.config import Config
from segmark.pipeline.driver import compact_parts
from segmark.pipeline.schedule import Client, connect, dashboard_link


def run(
    base: Config,
    spec: CalibrationSpec,
    model: Model,
    client: Client | None = None,
    echo: Callable[[str], None] = print,
    simulate: Simulate | None = None,
) -> tuple[Path, tuple[Population, ...]]:
    """Run (or resume) the calibration ``spec`` of ``model`` over ``base``'s other settings;
    returns its directory and every population. ``client``: a Dask client to use (default:
    one on ``base.cluster`` for the whole calibration); ``simulate`` replaces the engine."""
    checked = check(spec, model, base.sweep.root_seed)
    plain, base = base, with_settings(base, checked.targets)  # the headline runs as configured
    check_base(base, model, checked.priors)
    if spec.headline is not None:
        headline.check(spec.headline, plain, model, checked.priors.paths)
    directory = Path(base.storage.root).expanduser().resolve() / spec.name
    columns = tuple(model.parameter(p).column for p in checked.priors.paths)
    ident = identity(spec, checked, model, base.sweep.root_seed)
    done = posterior.read(directory, columns, checked.statistics, ident)
    if done:
        echo(f"resuming {directory.name}: {len(done)} of {spec.populations} populations stored")
    directory.mkdir(parents=True, exist_ok=True)
    history = list(done)
    with ExitStack() as stack:
        if simulate is None:
            predicted = (directory / predictive.FILE).exists() or not spec.predictive
            headlined = (directory / headline.FILE).exists() or spec.headline is None
            if client is None and (len(done) < spec.populations or not predicted or not headlined):
                client = stack.enter_context(connect(base.cluster))
                echo(f"dask dashboard: {dashboard_link(client)}")
            simulate = EngineSimulator(
                base, model, directory, checked.priors.paths, checked.statistics,
                checked.targets, client,
            )  # fmt: skip
        for population in calibrate(
            checked.settings, checked.priors, checked.observed, simulate, tuple(done)
        ):
            history.append(population)
            posterior.write(directory, history, columns, checked.statistics, ident)
            for stale in (predictive.FILE, headline.FILE):  # of an earlier posterior
                (directory / stale).unlink(missing_ok=True)
            echo(_line(population))
        if len(history) < spec.populations:
            echo(
                f"stopped before population {len(history)}: it would accept fewer than "
                f"{spec.min_acceptance:g} of its proposals (calibration.min_acceptance)"
                + (f"; the posterior is population {len(history) - 1}" if history else "")
            )
        if spec.predictive and history and not (directory / predictive.FILE).exists():
            predictive.run(history[-1], simulate, directory, columns, checked.statistics)
            echo(f"posterior predictive: {len(history[-1].weights)} runs with fresh noise")
        if isinstance(simulate, EngineSimulator) and (directory / RUNS).is_dir():
            compact_parts(base, directory / RUNS, echo)  # its batches leave theirs
        if spec.headline is not None and history and not (directory / headline.FILE).exists():
            if isinstance(simulate, EngineSimulator):  # the headline's runs need the engine
                headline.run(spec.headline, plain, model, directory, history[-1],
                             checked.priors.paths, simulate.client, echo)  # fmt: skip
    return directory, tuple(history)


def _line(p: Population) -> str:
    return (
        f"population {p.number}: epsilon {p.epsilon:.4g}, {len(p.weights)} particles accepted "
        f"of {p.proposals} proposals ({p.acceptance_rate:.1%}), {p.simulations} simulations"
    )


def posterior_mean(population: Population) -> np.ndarray:
    return np.average(population.points, axis=0, weights=population.weights)


def credible_interval(population: Population, level: float = 0.9) -> np.ndarray:
    """(d, 2) equal-tailed weighted credible intervals."""
    tail = (1.0 - level) / 2.0
    return np.array(
        [
            [
                weighted_quantile(population.points[:, j], population.weights, q)
                for q in (tail, 1 - tail)
            ]
            for j in range(population.points.shape[1])
        ]
    )

"""``gauss``: a model whose posterior is known exactly, to test calibration (docs/CALIBRATION.md).

Each of two unknown means ``mu_1``, ``mu_2`` makes ``draws`` observations with noise sd
``noise``; the outcomes are the two sample means. Under a normal prior N(m, s^2) on a mean,
the posterior given a sample mean y is normal with precision 1/s^2 + draws/noise^2 and mean
(m/s^2 + draws y/noise^2) / precision (the conjugate normal model): :func:`exact_posterior`.
"""

from __future__ import annotations

import math

import numpy as np

from segmark.models import Model, Outcome, Parameter

MEANS = ("mu_1", "mu_2")


def simulate(params, seed):
    rng = np.random.default_rng(seed)
    draws, noise = params["draws"], params["noise"]
    return {
        f"mean_{j + 1}": float(params[name] + noise * rng.standard_normal(draws).mean())
        for j, name in enumerate(MEANS)
    }


def exact_posterior(
    mean: float, sd: float, observed: float, draws: int, noise: float
) -> tuple[float, float]:
    """(mean, sd) of a mean's posterior under the prior N(mean, sd^2) given a sample mean."""
    precision = 1.0 / sd**2 + draws / noise**2
    centre = (mean / sd**2 + draws * observed / noise**2) / precision
    return centre, math.sqrt(1.0 / precision)


MODEL = Model(
    name="gauss",
    version="1",
    parameters=(
        Parameter("mu_1", "shock", 0.0, "first unknown mean", low=-100.0, high=100.0),
        Parameter("mu_2", "shock", 0.0, "second unknown mean", low=-100.0, high=100.0),
        Parameter("noise", "model", 1.0, "sd of one observation", low=0.01, high=100.0),
        Parameter("draws", "model", 10, "observations of each mean", low=1, high=10_000),
    ),
    outcomes=(
        Outcome("mean_1", "sample mean of the first mean's observations"),
        Outcome("mean_2", "sample mean of the second mean's observations"),
    ),
    simulate=simulate,
    doc="two normal means with a conjugate prior: calibration's exact test case",
    headline=("mean_1",),
    config_package="segmark.models.gauss.conf",
)

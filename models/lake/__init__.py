"""``lake``: the shallow-lake problem (Carpenter, Ludwig & Brock 1999), the standard example of
exploratory modelling and robust decision making (EMA Workbench; Hadka et al. 2015; Quinn et
al. 2017), in its intertemporal form: a town releases phosphorus into a lake each year, the
lake recycles its own phosphorus nonlinearly, and past a critical level it tips into a
eutrophic state it may never leave.

Phosphorus X_t (X_0 = 0) in each of ``model.samples`` realisations of the natural inflows:

    X_{t+1} = (1 - b) X_t + X_t^q / (1 + X_t^q) + a_t + e_t,   t = 0 .. years - 2

with a_t the release in year t (``policy.release_00`` ... ``release_99``, the levers) and e_t
log-normal natural inflows of mean ``shock.mean`` and sd ``shock.stdev``. The critical level
P_crit solves x^q / (1 + x^q) = b x. Outcomes, as EMA Workbench's ``lake_model`` defines them:
max_p (the largest yearly phosphorus averaged over realisations), utility (sum of alpha a_t
delta^t), inertia (share of years whose release changes by less than 0.02: Quinn et al. 2017),
reliability (share of years and realisations below P_crit), and tipped (max_p > P_crit).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit
from scipy.optimize import brentq

from segmark.models.interface import Model, Outcome, Parameter, Result, Series

YEARS = 100  # one release decision a year (EMA Workbench's time horizon)
INERTIA_STEP = 0.02  # a release changing by less than this counts as stable (Quinn et al. 2017)
SOURCE = "Carpenter, Ludwig & Brock 1999; ranges as in EMA Workbench's lake_model example"

PARAMETERS = (
    *(
        Parameter(
            f"release_{t:02d}", "policy", 0.0, f"phosphorus released into the lake in year {t}",
            unit="mass / year", low=0.0, high=0.1, source="lever; EMA Workbench's range",
        )
        for t in range(YEARS)
    ),
    Parameter(
        "b", "shock", 0.42, "decay rate of phosphorus in the lake (below 0.5: tipping is "
        "irreversible at q = 2)", unit="1/year", low=0.1, high=0.45, source=SOURCE,
    ),
    Parameter(
        "q", "shock", 2.0, "recycling exponent of phosphorus from the sediment",
        low=2.0, high=4.5, source=SOURCE,
    ),
    Parameter(
        "mean", "shock", 0.02, "mean of the yearly natural inflows", unit="mass / year",
        low=0.01, high=0.05, source=SOURCE,
    ),
    Parameter(
        "stdev", "shock", 0.001, "sd of the yearly natural inflows", unit="mass / year",
        low=0.001, high=0.005, source=SOURCE,
    ),
    Parameter(
        "delta", "shock", 0.98, "discount factor of future utility", low=0.93, high=0.99,
        source=SOURCE,
    ),
    Parameter(
        "alpha", "model", 0.4, "utility per unit of phosphorus released", low=0.0, high=1.0,
        source="Carpenter, Ludwig & Brock 1999",
    ),
    Parameter(
        "samples", "model", 100, "realisations of the natural inflows averaged in a run",
        unit="realisations", low=1, high=10_000, source="EMA Workbench's nsamples",
    ),
)  # fmt: skip

OUTCOMES = (
    Outcome("max_p", "largest yearly phosphorus level, averaged over realisations",
            unit="mass", label="peak phosphorus"),
    Outcome("utility", "sum over years of alpha x release x delta^year", label="utility"),
    Outcome("inertia", "share of years whose release changes by less than 0.02",
            label="inertia (share of stable years)"),
    Outcome("reliability", "share of years and realisations with phosphorus below P_crit",
            label="reliability (share below P_crit)"),
    Outcome("p_crit", "the critical phosphorus level: x^q / (1 + x^q) = b x", unit="mass",
            label="critical phosphorus level"),
    Outcome("tipped", "max_p > p_crit: the lake tipped into its eutrophic state", dtype=bool,
            label="P(lake tipped)"),
)  # fmt: skip

SERIES = (
    Series("phosphorus", "phosphorus that year, averaged over realisations", unit="mass",
           label="mean phosphorus"),
    Series("release", "phosphorus released that year", unit="mass / year", label="release"),
)  # fmt: skip


def critical_level(b: float, q: float) -> float:
    """P_crit: where recycling x^q / (1 + x^q) meets the decay b x (the tipping point)."""
    return brentq(lambda x: x**q / (1 + x**q) - b * x, 0.01, 1.5)


@njit(cache=True, nogil=True, error_model="numpy")
def phosphorus(releases: np.ndarray, inflows: np.ndarray, b: float, q: float) -> np.ndarray:
    """Phosphorus of each realisation (row of ``inflows``, float (samples, years)) and year."""
    samples, years = inflows.shape
    x = np.zeros((samples, years))
    for s in range(samples):
        for t in range(1, years):
            last = x[s, t - 1]
            recycled = last**q / (1.0 + last**q)
            x[s, t] = (1.0 - b) * last + recycled + releases[t - 1] + inflows[s, t - 1]
    return x


def simulate(params: Mapping[str, Any], seed: int) -> Result:
    """One run: ``model.samples`` realisations of the natural inflows drawn from ``seed``."""
    releases = np.array([params[f"release_{t:02d}"] for t in range(YEARS)])
    mean, sd = params["mean"], params["stdev"]
    sigma = math.sqrt(math.log(1.0 + sd**2 / mean**2))
    rng = np.random.default_rng(seed)
    inflows = rng.lognormal(math.log(mean) - 0.5 * sigma**2, sigma, (params["samples"], YEARS))
    x = phosphorus(releases, inflows, params["b"], params["q"])
    p_crit = critical_level(params["b"], params["q"])
    average = x.mean(axis=0)
    max_p = float(average.max())
    outcomes = {
        "max_p": max_p,
        "utility": float((params["alpha"] * releases * params["delta"] ** np.arange(YEARS)).sum()),
        "inertia": float((np.abs(np.diff(releases)) < INERTIA_STEP).mean()),
        "reliability": float((x < p_crit).mean()),
        "p_crit": p_crit,
        "tipped": max_p > p_crit,
    }
    series = np.column_stack([np.arange(1, YEARS + 1), average, releases])
    return Result(outcomes, series)


def run_seconds(params: Mapping[str, Any]) -> float:
    """A run's cost before any was timed: about 20 ns a realisation-year, plus the set-up."""
    return 2e-4 + 2e-8 * params["samples"] * YEARS


MODEL = Model(
    name="lake",
    version="1",
    parameters=PARAMETERS,
    outcomes=OUTCOMES,
    series=SERIES,
    simulate=simulate,
    doc="the shallow-lake problem (Carpenter, Ludwig & Brock 1999), intertemporal form",
    state="tipped",
    order="max_p",
    headline=("max_p", "reliability", "utility"),
    estimate_seconds=run_seconds,
    config_package="segmark.models.lake.conf",
)

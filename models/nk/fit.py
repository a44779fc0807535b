"""The ``nk`` model read like the Daily NK survey: a run's weekly hub rice prices and dollar
rates sampled at the survey's dates after a year's burn-in and reduced to the survey's
moments (``survey.moments``), and the model's median over seeds beside the survey's 90%
intervals.

``python -m segmark.models.nk.fit [key=value ...]`` prints the comparison at the defaults (or
with parameters changed, e.g. ``policy.permit_strictness=1``).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from segmark.kernels import market
from segmark.models.interface import Targets
from segmark.models.nk import simulation, survey

BURN_IN = 52  # weeks before the survey's day 0: the run forgets its initial stocks
HUB_SERIES = ("rice_pyongyang", "rice_sinuiju", "rice_hyesan")  # in survey.HUBS order
USD_SERIES = ("usd_pyongyang", "usd_sinuiju", "usd_hyesan")
# the moments of the hubs' prices the baseline must match (docs/MODEL.md, "Calibration")
MOMENTS = (
    "hub_cv",
    "gap_sinuiju",
    "gap_hyesan",
    "within5_ps",
    "within5_ph",
    "halflife_ps",
    "halflife_ph",
    "halflife_sh",
    "usd_cv",
    "usd_trend",
)
SEEDS = range(10)


def run_weeks(data: survey.Survey) -> int:
    """Weeks a run needs: the burn-in, then the survey's span."""
    return BURN_IN + math.ceil(data.days.max() / 7) + 2


def run_moments(params: Mapping[str, Any], seed: int, data: survey.Survey) -> dict[str, float]:
    """The survey's moments of one run at ``params`` (every parameter by name), sampled weekly
    and read at the survey's dates."""
    sim = simulation.simulate({**params, "n_steps": run_weeks(data), "sample_every": 1}, seed)
    return series_moments(sim.series, data)


def series_moments(series: np.ndarray, data: survey.Survey) -> dict[str, float]:
    """The survey's moments of a run's weekly series (float (n, 1 + len(SERIES)): the step,
    then each series), read at the survey's dates after the burn-in."""
    columns = [1 + market.SERIES.index(name) for name in (*HUB_SERIES, *USD_SERIES)]
    steps = series[:, 0].astype(np.int64)
    days, rows = survey.sample_like_survey(steps, series[:, columns], data.days, BURN_IN + 1)
    return survey.moments(days, rows[:, :3], rows[:, 3:])


@cache
def observed(n_boot: int = 2000) -> dict[str, tuple[float, float, float]]:
    """Each moment of MOMENTS from the survey: (estimate, lower, upper) of its 90% interval."""
    intervals = survey.bootstrap(survey.load(), n=n_boot)
    return {m: tuple(map(float, intervals[m])) for m in MOMENTS}


def estimate(outcomes: Mapping[str, Any], series: np.ndarray) -> dict[str, float]:
    """MOMENTS of one run of the survey's length (``SURVEY.settings``)."""
    moments = series_moments(series, _data())
    return {m: float(moments[m]) for m in MOMENTS}


@cache
def _data() -> survey.Survey:
    return survey.load()


SURVEY = Targets(
    name="survey_2013_2019",
    doc="Daily NK's hub rice prices and market dollar rates, 2013-2019: the moments of "
    "docs/MODEL.md (Calibration), each with its 90% block-bootstrap interval",
    statistics=MOMENTS,
    observed=observed,
    estimate=estimate,
    settings={"model.n_steps": run_weeks(_data()), "model.sample_every": 1},
)


def compare(
    params: Mapping[str, Any], seeds: Iterable[int] = SEEDS, n_boot: int = 2000
) -> pd.DataFrame:
    """One row per moment in MOMENTS: the survey's estimate and 90% block-bootstrap interval,
    the model's median, lowest and highest over ``seeds``, and whether the median is inside."""
    data = survey.load()
    intervals = survey.bootstrap(data, n=n_boot)
    runs = pd.DataFrame([run_moments(params, seed, data) for seed in seeds])
    table = pd.DataFrame(
        {
            "survey": [intervals[m][0] for m in MOMENTS],
            "lower": [intervals[m][1] for m in MOMENTS],
            "upper": [intervals[m][2] for m in MOMENTS],
            "model": [runs[m].median() for m in MOMENTS],
            "model_min": [runs[m].min() for m in MOMENTS],
            "model_max": [runs[m].max() for m in MOMENTS],
        },
        index=pd.Index(MOMENTS, name="moment"),
    )
    table["inside"] = (table["lower"] <= table["model"]) & (table["model"] <= table["upper"])
    return table


def main(argv: list[str] | None = None) -> None:
    """Print the comparison at the defaults, with ``group.name=value`` changes."""
    from segmark.models.nk import MODEL  # the package imports this module's siblings

    params = {p.name: p.default for p in MODEL.parameters}
    for item in argv if argv is not None else sys.argv[1:]:
        key, _, value = item.partition("=")
        params[key.rpartition(".")[2]] = float(value)
    with pd.option_context("display.float_format", "{:.4f}".format, "display.width", 120):
        print(compare(params))


if __name__ == "__main__":
    main()

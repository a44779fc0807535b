"""The calibration facts (``kernels/data/calibration_facts.csv``) the ``nk`` model produces,
as statistics a calibration can fit beside the survey's moments: V11, the market share of
household income, and V20, the lean-season rise of the rice price.

Each fact is declared once with its source row and the numbers read from it; ``SURVEY_AND_FACTS``
is the survey's ten moments (``fit.SURVEY``) plus these, for ``calibration.data``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from segmark.kernels import market
from segmark.models.interface import Targets
from segmark.models.nk import fit, survey


@dataclass(frozen=True)
class Fact:
    """A statistic from one row of calibration_facts.csv: its value and the interval the
    source gives (NaN where it gives no bound)."""

    statistic: str
    row: str  # the csv's id
    estimate: float
    lower: float
    upper: float
    reading: str  # how the numbers were read from the row


FACTS = (
    Fact(
        "market_income_share", "V11", 0.78, 0.70, math.nan,
        "78% (Kim & Song 2008); 'at least 70%' across refugee surveys (Kim & Kim 2016): "
        "no upper bound is given",
    ),
    Fact(
        "lean_season_rise", "V20", math.log(1.15), math.log(1.10), math.log(1.20),
        "a 10-20% rise from October-November to April-June in normal years (SERI 2007), "
        "as log points: log 1.10 to log 1.20, log 1.15 in the middle",
    ),
)  # fmt: skip
STATISTICS = (*fit.MOMENTS, *(f.statistic for f in FACTS))
RICE = [1 + market.SERIES.index(name) for name in fit.HUB_SERIES]


def observed() -> dict[str, tuple[float, float, float]]:
    """The survey's moments with their bootstrap intervals, then each fact's."""
    return {**fit.observed(), **{f.statistic: (f.estimate, f.lower, f.upper) for f in FACTS}}


def lean_season_rise(series: np.ndarray) -> float:
    """``survey.lean_season_rise`` of the hubs' mean weekly rice price after the burn-in, on
    the survey's calendar (week ``BURN_IN + 1`` is the survey's first date): every week of the
    run, not only the survey's dates, as V20 is a fact about the season, not the survey."""
    after = series[:, 0] > fit.BURN_IN
    weeks = series[after, 0].astype(np.int64) - (fit.BURN_IN + 1)
    dates = survey.START + (7 * weeks).astype("timedelta64[D]")
    return survey.lean_season_rise(dates, series[after][:, RICE].mean(axis=1))


def estimate(outcomes: Mapping[str, Any], series: np.ndarray) -> dict[str, float]:
    """STATISTICS of one run of the survey's length."""
    return {
        **fit.estimate(outcomes, series),
        "market_income_share": float(outcomes["market_income_share"]),
        "lean_season_rise": lean_season_rise(series),
    }


SURVEY_AND_FACTS = Targets(
    name="survey_and_facts",
    doc="the survey's ten moments (survey_2013_2019) plus V11, the market share of household "
    "income (0.78, at least 0.70), and V20, the lean-season rise of rice (10-20%)",
    statistics=STATISTICS,
    observed=observed,
    estimate=estimate,
    settings=fit.SURVEY.settings,
)

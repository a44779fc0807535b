"""The won and the dollar (kernels/money.py): the won level starts at 1 and grows with cash,
a redenomination divides it, and dollar rates stay within the cost of moving cash."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import vector

from segmark.kernels import market
from segmark.kernels.parameters import (
    EVENT_REDENOMINATION,
    KPW_PER_USD,
    MONEY_WEEKS,
    REDENOMINATION,
    P,
)
from segmark.models.nk import MODEL, networks, scenarios, survey

COLUMNS = ("step", *market.SERIES)
NET = networks.build("geometric", 30)


def series(sim: market.Simulation, name: str) -> np.ndarray:
    return sim.series[:, COLUMNS.index(name)]


def run(weeks: int = 156, events: np.ndarray | None = None, **changes: float):
    return market.simulate(NET, vector(**changes), 4, 6, weeks, 1, events=events)


def test_the_won_level_starts_at_one_and_grows_with_cash() -> None:
    """Cash growing at g a year moves the won level by g a year once sales settle."""
    steady = run(money_growth=0.0)
    growing = run(money_growth=0.2)
    assert series(steady, "won_level")[0] == pytest.approx(1.0)
    assert series(growing, "won_level")[0] == pytest.approx(1.0)
    ratio = series(growing, "won_level") / series(steady, "won_level")  # the same real market
    weeks = series(growing, "step") - 1
    assert np.log(ratio) == pytest.approx(0.2 * weeks / 52.0, rel=1e-9)
    outcomes = dict(zip(market.OUTCOMES, growing.outcomes, strict=True))
    base = dict(zip(market.OUTCOMES, steady.outcomes, strict=True))
    assert outcomes["won_inflation"] - base["won_inflation"] == pytest.approx(0.2, rel=1e-9)
    same_real = [o for o in market.OUTCOMES if o not in ("won_inflation",)]
    for name in same_real:  # money is neutral: the real market does not notice
        assert outcomes[name] == pytest.approx(base[name], rel=1e-12, abs=1e-15), name


def test_a_redenomination_divides_the_won_level_and_confiscates_cash() -> None:
    week, confiscated = 60, 0.3
    events = np.array([[week, EVENT_REDENOMINATION, confiscated, 1.0]])
    before, after = run(money_growth=0.0), run(money_growth=0.0, events=events)
    ratio = series(after, "won_level") / series(before, "won_level")
    steps = series(after, "step")
    assert np.all(ratio[steps <= week] == 1.0)
    assert ratio[steps > week] == pytest.approx((1 - confiscated) / REDENOMINATION, rel=1e-12)
    for hub in ("rice_pyongyang", "usd_sinuiju"):
        assert series(after, hub)[steps > week] == pytest.approx(
            series(before, hub)[steps > week] * (1 - confiscated) / REDENOMINATION, rel=1e-12
        )


def test_a_market_ban_raises_the_won_level_until_sales_recover() -> None:
    """Fewer sales for the same cash: each won buys less; as unsold stocks pile up, sales (and
    the won) recover most of the way (MONEY_WEEKS moving mean)."""
    events = np.array([[60.0, P.market_ban, 0.8, 1.0]])
    level = series(run(events=events, money_growth=0.0), "won_level")
    peak = level[60 : 60 + 2 * MONEY_WEEKS].max()
    assert peak > 1.3 * level[59]
    assert level[-1] < level[59] + 0.5 * (peak - level[59])


@pytest.mark.parametrize("cost", [0.0, 0.01, 0.033, 0.2])
def test_dollar_rates_differ_by_at_most_the_cost_of_moving_cash(cost: float) -> None:
    sim = run(remittance_cost=cost)
    rates = np.column_stack([series(sim, f"usd_{hub}") for hub in survey.HUBS])
    spread = np.log(rates.max(axis=1) / rates.min(axis=1))
    assert np.all(spread <= cost + 1e-12)
    assert np.log(rates.mean(axis=1) / (KPW_PER_USD * series(sim, "won_level"))) == (
        pytest.approx(0.0, abs=cost / 2 + 1e-12)
    )
    if cost > 0:  # the band binds only where hubs' price levels differ by more
        assert spread.max() > 0.5 * cost


def test_money_growth_is_the_surveys_dollar_trend() -> None:
    """The default growth of won cash is the 2013-2019 trend of the survey's dollar rate."""
    data = survey.load()
    trend = survey.moments(data.days, data.rice, data.usd)["usd_trend"]
    default = next(p.default for p in MODEL.parameters if p.name == "money_growth")
    assert default == pytest.approx(trend, abs=5e-5)


def test_scenarios_refuse_a_redenomination_in_week_zero_or_of_all_cash() -> None:
    for event, match in (
        ({"week": 0, "redenomination": 0.3}, "week >= 1"),
        ({"week": 5, "redenomination": 1.0}, r"allowed is \[0, 0.99\]"),
    ):
        with pytest.raises(ValueError, match=match):
            scenarios._check_event("test", 0, event)


def test_the_2009_scenario_redenominates_the_won() -> None:
    net = networks.build("nk", 0)
    rows = scenarios.events("crackdown_2009", net)
    reform = rows[rows[:, 1] == EVENT_REDENOMINATION]
    assert reform.tolist() == [[255.0, EVENT_REDENOMINATION, 0.3, 1.0]]

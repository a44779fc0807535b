"""The benchmark's per-agent pure-Python peer computes the same weeks as the NumPy twin."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import EVENTS, vector
from numpy.testing import assert_allclose

from segmark.kernels import market, reference
from segmark.models.nk import networks

sys.path.insert(0, str(Path(__file__).parents[1]))  # benchmarks/ is not an installed package
from benchmarks.peers import agents

CASES = {
    "baseline": {},
    # stale news, shipments weeks in transit, floods, a harvest shock, crackdowns
    "stale_slow_shocks": {
        "phone_penetration": 0.3,
        "info_lag": 3,
        "arbitrage_rounds": 2,
        "road_days": 30.0,
        "flood_rate": 0.3,
        "flood_weeks": 2,
        "harvest_sd": 0.8,
        "crackdown": 0.5,
        "transport_investment": 0.4,
    },
}


def same(peer: agents.Result, twin: market.Simulation) -> None:
    """Every output the peer computes, by name, against the twin's (which may have more)."""
    assert set(agents.OUTCOMES) <= set(market.OUTCOMES)
    twin_outcomes = dict(zip(market.OUTCOMES, twin.outcomes, strict=True))
    for name in agents.OUTCOMES:
        assert peer.outcomes[name] == pytest.approx(twin_outcomes[name], rel=1e-9, abs=1e-11), name
    columns = ("step", *market.SERIES)
    for name in agents.SERIES:
        got = np.array(peer.series[name])
        assert_allclose(got, twin.series[:, columns.index(name)], rtol=1e-9, atol=1e-11)
    assert_allclose([peer.ledger[n] for n in market.LEDGER], twin.ledger, rtol=1e-9, atol=1e-8)
    assert_allclose(np.array(peer.prices), twin.prices, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("net_name", ["ring", "grid"])
def test_agents_match_the_twin_with_events(net_name: str, case: str) -> None:
    net = networks.build(net_name, 9, extent_km=2000.0)  # long links: goods spend weeks in transit
    args = (net, vector(**CASES[case]), 7, 6, 60, 4)
    same(agents.simulate(*args, events=EVENTS), reference.simulate(*args, events=EVENTS))


def test_agents_match_the_twin_on_the_north_korea_network() -> None:
    """Rail links, outages, permits, provinces and border units; a harvest week (38)."""
    params = vector(rail_outage_rate=0.3, phone_penetration=0.6)
    args = (networks.build("nk", 0), params, 3, 6, 40, 10)
    same(agents.simulate(*args), reference.simulate(*args))

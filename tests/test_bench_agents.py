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
    # stale news, shipments weeks in transit, floods (routes recomputed around them), a harvest
    # shock, crackdowns (petty loads seized, truckloads bribed through), transport investment
    "stale_slow_shocks": {
        "phone_penetration": 0.3,
        "info_lag": 3,
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
    assert_allclose(np.array(peer.places), twin.places, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("net_name", ["ring", "grid"])
def test_agents_match_the_twin_with_events(net_name: str, case: str) -> None:
    net = networks.build(net_name, 9, extent_km=2000.0)  # long links: goods spend weeks in transit
    args = (net, vector(**CASES[case]), 7, 6, 60, 4)
    same(agents.simulate(*args, events=EVENTS), reference.simulate(*args, events=EVENTS))


def test_agents_match_the_twin_on_the_north_korea_network() -> None:
    """Rail links, outages (closing routes), permits, provinces and border units (depots); a
    harvest week (38)."""
    params = vector(rail_outage_rate=0.3, phone_penetration=0.6)
    args = (networks.build("nk", 0), params, 3, 6, 40, 10)
    same(agents.simulate(*args), reference.simulate(*args))


def _network(net_name: str):
    if net_name == "nk":
        return networks.build("nk", 0)
    return networks.build(net_name, 9, extent_km=2000.0)


@pytest.mark.parametrize("net_name", ["grid", "nk"])
def test_agents_route_like_the_twin(net_name: str) -> None:
    """The wholesalers' paths (equal-cost ties on the grid), terms and weekly opening, week by
    week, as floods start and end and rail links fail."""
    net = _network(net_name)
    args = (net, vector(flood_rate=0.5, flood_weeks=2), 5, 3, 12, 4)
    twin, peer = reference.start(*args, events=EVENTS), agents.Model(*args, events=EVENTS)
    paths = set()
    for t in range(12):
        for phase in market.PHASES:
            getattr(reference, phase)(twin, t)
        peer.step()
        for r, route in enumerate(peer.routes):
            c = net.n_edges + r
            path = twin.route_edges[twin.route_ptr[r] : twin.route_ptr[r + 1]].tolist()
            assert [trader.index for trader in route.path] == path, (t, r)
            assert (route.a.index, route.b.index) == (twin.route_u[r], twin.route_v[r])
            assert (route.open, route.delay) == (twin.ch_open[c], twin.delay[c]), (t, r)
            assert (route.cost, route.keep) == pytest.approx((twin.cost[c], twin.keep[c]))
            paths.add((r, tuple(path)))
    assert len(paths) > len(peer.routes)  # some route changed its path

"""The numba kernel against its NumPy twin, determinism, and the network arrays."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from segmark.kernels import market, network, reference

BASE = {
    "permit_strictness": 0.3,
    "transport_cost": 0.05,
    "trader_capital": 0.5,
    "harvest_sd": 0.2,
    "outage_rate": 0.1,
    "permit_cost": 1.0,
    "demand_elasticity": 1.0,
    "specialization": 0.5,
    "turnover": 0.5,
    "arbitrage_speed": 0.5,
    "active_trade_share": 0.25,
    "integration_threshold": 0.5,
    "window_share": 0.25,
}


def vector(**changes: float) -> np.ndarray:
    values = {**BASE, **changes}
    return np.array([values[name] for name in market.PARAMS])


NETWORKS = {
    "pair": network.ring(2),
    "ring": network.ring(7),
    "grid": network.grid(10),
    "geometric": network.geometric(25, neighbours=3, seed=4),
}
CASES = {
    "baseline": {},
    "free_trade": {"permit_strictness": 0.0, "transport_cost": 0.0},
    "closed": {"permit_strictness": 1.0, "permit_cost": 5.0},
    "no_capital": {"trader_capital": 0.0},
    "capacity_bound": {"trader_capital": 0.01, "arbitrage_speed": 1.0},
    "outages": {"outage_rate": 0.7, "harvest_sd": 0.8},
    "elastic": {"demand_elasticity": 3.0, "turnover": 1.0, "specialization": 1.5},
}


@pytest.mark.parametrize("net_name", NETWORKS)
@pytest.mark.parametrize("case", CASES)
def test_kernel_matches_reference(net_name: str, case: str) -> None:
    net = NETWORKS[net_name]
    params = vector(**CASES[case])
    fast = market.simulate(net, params, 11, 3, 40, 3)
    slow = reference.simulate(net, params, 11, 3, 40, 3)
    assert_allclose(fast.outcomes, slow.outcomes, rtol=1e-10, atol=1e-12)
    assert_allclose(fast.series, slow.series, rtol=1e-10, atol=1e-12)
    assert fast.series.shape == (40 // 3, 1 + len(market.SERIES))
    assert_array_equal(fast.series[:, 0], np.arange(1, 40 // 3 + 1) * 3)


def test_same_seed_same_numbers_different_seed_differs() -> None:
    net = NETWORKS["geometric"]
    first = market.simulate(net, vector(), 5, 4, 60, 5)
    again = market.simulate(net, vector(), 5, 4, 60, 5)
    other = market.simulate(net, vector(), 6, 4, 60, 5)
    assert_array_equal(first.outcomes, again.outcomes)
    assert_array_equal(first.series, again.series)
    assert not np.array_equal(first.series, other.series)


def test_friction_segments_markets() -> None:
    """Free trade integrates the 25-region network; a prohibitive permit regime does not."""
    net = NETWORKS["geometric"]
    free = market.simulate(net, vector(permit_strictness=0.0), 3, 3, 120, 10).outcomes
    closed = market.simulate(net, vector(permit_strictness=1.0, permit_cost=5.0), 3, 3, 120, 10)
    out = dict(zip(market.OUTCOMES, free, strict=True))
    shut = dict(zip(market.OUTCOMES, closed.outcomes, strict=True))
    assert out["integrated"] == 1.0 and shut["integrated"] == 0.0
    assert out["price_dispersion"] < shut["price_dispersion"]
    assert out["trade_share"] > 0.05 and shut["trade_share"] == 0.0
    assert shut["band_compliance"] == 1.0
    assert shut["integration_index"] == pytest.approx(1 / net.n_nodes)


def test_outcomes_stay_in_their_ranges() -> None:
    for seed in range(5):
        out = market.simulate(NETWORKS["grid"], vector(outage_rate=0.5), seed, 2, 50, 5)
        values = dict(zip(market.OUTCOMES, out.outcomes, strict=True))
        assert np.isfinite(out.outcomes).all() and np.isfinite(out.series).all()
        for name in ("trade_share", "band_compliance", "integration_index"):
            assert 0.0 <= values[name] <= 1.0
        assert values["integrated"] in (0.0, 1.0)


def test_params_vector_shape_is_checked() -> None:
    with pytest.raises(ValueError, match="params must have shape"):
        market.simulate(NETWORKS["ring"], np.zeros(3), 1, 2, 10, 1)


def test_largest_component_share_matches_scipy() -> None:
    net = network.geometric(60, neighbours=2, seed=9)
    rng = np.random.default_rng(0)
    for _ in range(20):
        active = rng.random(net.n_edges) < 0.4
        n = net.n_nodes
        graph = coo_matrix(
            (np.ones(active.sum()), (net.edge_u[active], net.edge_v[active])), shape=(n, n)
        )
        labels = connected_components(graph, directed=False)[1]
        expected = np.bincount(labels).max() / n
        got = market.largest_component_share(n, net.edge_u, net.edge_v, active)
        assert got == pytest.approx(expected)


@pytest.mark.parametrize("net_name", NETWORKS)
def test_network_arrays_are_consistent(net_name: str) -> None:
    net = NETWORKS[net_name]
    assert (net.edge_u < net.edge_v).all()
    assert net.indptr[0] == 0 and net.indptr[-1] == 2 * net.n_edges
    for i in range(net.n_nodes):
        for j in range(net.indptr[i], net.indptr[i + 1]):
            e = net.adj_edge[j]
            assert i in (net.edge_u[e], net.edge_v[e])
            assert net.adj_node[j] == (net.edge_v[e] if net.edge_u[e] == i else net.edge_u[e])
    assert_allclose(
        net.edge_km, np.linalg.norm(net.pos_km[net.edge_u] - net.pos_km[net.edge_v], axis=1)
    )
    assert net.population.mean() == pytest.approx(1.0)
    adjacency = coo_matrix(
        (np.ones(net.n_edges), (net.edge_u, net.edge_v)), shape=(net.n_nodes, net.n_nodes)
    )
    assert connected_components(adjacency, directed=False)[0] == 1


def test_grid_and_ring_shapes() -> None:
    assert network.grid(9).n_edges == 12
    assert network.ring(5).n_edges == 5
    assert network.ring(2).n_edges == 1
    assert network.build("geometric", 30) is network.build("geometric", 30)
    with pytest.raises(ValueError, match="network kind"):
        network.build("torus", 5)


def test_window_sampling_and_activity_helpers() -> None:
    assert market.window_start(520, 0.25) == 390
    assert market.window_start(10, 0.01) == 9  # at least one week
    assert market.window_start(10, 1.0) == 0
    assert market.n_samples(520, 4) == 130 and market.n_samples(10, 3) == 3
    assert market.weeks_needed(100, 0.07) == 7  # 0.07 * 100 is 7.000000000000001 in floats
    assert market.weeks_needed(100, 0.25) == 25 and market.weeks_needed(3, 0.5) == 2


def test_landscape_draws() -> None:
    population = np.array([1.0, 2.0, 0.5])
    log_demand, log_base = market.draw_landscape(population, 2, 0.0, np.random.default_rng(1))
    assert_allclose(log_demand, np.log(population)[:, None] * np.ones((1, 2)))
    assert_allclose(log_base, log_demand)  # no specialisation: production equals demand
    many = market.draw_landscape(np.ones(20_000), 1, 0.5, np.random.default_rng(2))[1]
    assert np.exp(many).mean() == pytest.approx(1.0, abs=0.02)  # mean-one specialty factor
    assert many.std() == pytest.approx(0.5, abs=0.01)


def test_without_shocks_or_trade_the_start_is_the_steady_state() -> None:
    """Stocks start at the no-trade steady state: with no harvest shock and no trade, prices
    never move, so every sampled dispersion equals the first."""
    closed = vector(harvest_sd=0.0, trader_capital=0.0)
    sim = market.simulate(NETWORKS["grid"], closed, 0, 3, 30, 1)
    assert_allclose(sim.series[:, 1], sim.series[0, 1], rtol=1e-12)
    assert (sim.series[:, 2] == 0.0).all()


def test_trade_share_stays_a_share_under_extreme_trade() -> None:
    extreme = vector(turnover=0.01, trader_capital=100.0, arbitrage_speed=1.0, permit_strictness=0)
    sim = market.simulate(NETWORKS["geometric"], extreme, 1, 3, 60, 1)
    assert ((sim.series[:, 2] >= 0.0) & (sim.series[:, 2] < 1.0)).all()
    assert 0.0 < sim.outcomes[market.OUTCOMES.index("trade_share")] < 1.0


def test_a_raised_stop_flag_ends_the_run() -> None:
    stop = np.ones(1, dtype=np.uint8)
    with pytest.raises(market.Stopped):
        market.simulate(NETWORKS["ring"], vector(), 1, 2, 10, 1, stop)
    stop[0] = 0
    sim = market.simulate(NETWORKS["ring"], vector(), 1, 2, 10, 1, stop)
    assert_array_equal(
        sim.outcomes, market.simulate(NETWORKS["ring"], vector(), 1, 2, 10, 1).outcomes
    )

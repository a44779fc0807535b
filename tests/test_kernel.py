"""The numba kernel against its NumPy twin, determinism, conservation, and the network arrays."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import EVENTS, vector
from numpy.testing import assert_allclose, assert_array_equal
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from segmark.kernels import (
    arbitrage,
    goods,
    graphs,
    market,
    money,
    network,
    outputs,
    phases,
    reference,
    weeks,
)
from segmark.models.nk import networks

NETWORKS = {
    "pair": network.ring(2),
    "ring": network.ring(7),
    "grid": network.grid(10),
    "geometric": network.geometric(25, neighbours=3, seed=4),
}
CASES = {
    "baseline": {},
    "free_trade": {"permit_strictness": 0.0, "crackdown": 0.0, "phone_penetration": 1.0},
    "closed": {"permit_strictness": 1.0, "permit_bribe": 200.0, "self_reliance": 1.0},
    "no_capital": {"trader_capital": 0.0},
    "stale_news": {"phone_penetration": 0.0, "info_lag": 3},
    "shocks": {"rail_outage_rate": 0.7, "harvest_sd": 0.8, "flood_rate": 0.3, "flood_weeks": 2},
    "slow_rail": {"rail_days": 20.0, "road_days": 30.0},  # shipments spend weeks in transit
    "famine": {"pds_level": 1.0, "capital_pds": 1.0, "harvest_sd": 1.0, "market_ban": 0.5},
    "elastic": {"demand_elasticity": 3.0, "turnover": 1.0, "specialization": 1.5},
}


def same(fast: market.Simulation, slow: market.Simulation) -> None:
    assert_allclose(fast.outcomes, slow.outcomes, rtol=1e-9, atol=1e-11)
    assert_allclose(fast.series, slow.series, rtol=1e-9, atol=1e-11)
    assert_allclose(fast.ledger, slow.ledger, rtol=1e-9, atol=1e-8)
    assert_allclose(fast.prices, slow.prices, rtol=1e-9, atol=1e-11)
    assert_allclose(fast.places, slow.places, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("net_name", NETWORKS)
@pytest.mark.parametrize("case", CASES)
def test_kernel_matches_reference(net_name: str, case: str) -> None:
    net = NETWORKS[net_name]
    params = vector(**CASES[case])
    same(
        market.simulate(net, params, 11, 6, 40, 3),
        reference.simulate(net, params, 11, 6, 40, 3),
    )


PHASE_MODULES = (phases, arbitrage, outputs, money)


def _phase(name: str):
    """The kernel's phase called ``name``."""
    return next(getattr(m, name) for m in PHASE_MODULES if hasattr(m, name))


def _same_state(kernel, twin, where: str) -> None:
    """Every field the twin keeps equal (integers, flags) or within 1e-9 (floats)."""
    for name in reference.KEPT:
        got, want = getattr(kernel, name), getattr(twin, name)
        if isinstance(got, np.ndarray) and got.dtype.kind == "f":
            assert_allclose(got, want, rtol=1e-9, atol=1e-10, equal_nan=True, err_msg=where + name)
        elif isinstance(got, np.ndarray):
            assert_array_equal(got, want, err_msg=where + name)
        else:
            assert got == pytest.approx(want, rel=1e-9, nan_ok=True), where + name


@pytest.mark.parametrize(
    ("net_name", "case"), [("geometric", "baseline"), ("grid", "shocks"), ("ring", "stale_news")]
)
def test_each_phase_matches_the_twins_phase(net_name: str, case: str) -> None:
    """From the same state, each phase of the kernel and the twin's phase of the same name
    leave the same state: week by week through the events, a harvest, floods and arbitrage."""
    params = vector(**CASES[case], rail_days=20.0)  # shipments spend weeks on the way
    state, _ = market.start(NETWORKS[net_name], params, 11, 6, 30, 4, events=EVENTS)
    for t in range(12):
        for name in market.PHASES:
            twin = reference.from_kernel(state)
            _phase(name)(state, t)
            getattr(reference, name)(twin, t)
            _same_state(reference.from_kernel(state), twin, f"week {t}, {name}: ")


def test_run_weeks_in_pieces_is_the_whole_run() -> None:
    """The weekly loop can stop and go on: weeks 0-9 then 10-39 give the run's numbers."""
    net, params = NETWORKS["grid"], vector(**CASES["shocks"])
    state, pieces = market.start(net, params, 4, 6, 40, 3, events=EVENTS)
    assert market.run_weeks(state, 0, 10) and market.run_weeks(state, 10, 40)
    whole = market.simulate(net, params, 4, 6, 40, 3, events=EVENTS)
    for field in ("outcomes", "series", "ledger", "prices", "places"):
        assert_array_equal(getattr(pieces, field), getattr(whole, field))


@pytest.mark.parametrize("n_goods", [1, 3])
def test_kernel_matches_reference_with_events_and_fewer_goods(n_goods: int) -> None:
    net = NETWORKS["geometric"]
    same(
        market.simulate(net, vector(), 5, n_goods, 60, 4, events=EVENTS),
        reference.simulate(net, vector(), 5, n_goods, 60, 4, events=EVENTS),
    )


def test_kernel_matches_reference_on_the_north_korea_network() -> None:
    """A short run on the real network: the twin follows it on 179 units and rail links too."""
    net = networks.build("nk", 0)
    params = vector(rail_days=8.0)  # some rail links take a week or more
    same(market.simulate(net, params, 3, 6, 14, 7), reference.simulate(net, params, 3, 6, 14, 7))


def test_same_seed_same_numbers_other_seed_other_numbers() -> None:
    net = NETWORKS["geometric"]
    first = market.simulate(net, vector(), 5, 4, 60, 5)
    again = market.simulate(net, vector(), 5, 4, 60, 5)
    other = market.simulate(net, vector(), 6, 4, 60, 5)
    assert_array_equal(first.outcomes, again.outcomes)
    assert_array_equal(first.series, again.series)
    assert not np.array_equal(first.series, other.series)


@pytest.mark.parametrize("case", CASES)
def test_goods_are_conserved(case: str) -> None:
    """production + imports = consumption + exports + spoilage + confiscation + flood losses
    + change in market stocks + goods in transit + change in the state's PDS stock."""
    params = vector(**CASES[case])
    sim = market.simulate(networks.build("nk", 0), params, 2, 6, 60, 6, events=EVENTS)
    ledger = dict(zip(market.LEDGER, sim.ledger, strict=True))
    sources = ledger["produced"] + ledger["imported"]
    uses = sum(v for k, v in ledger.items() if k not in ("produced", "imported"))
    assert uses == pytest.approx(sources, rel=1e-10)
    assert ledger["produced"] > 0 and ledger["consumed"] > 0


def test_outcomes_are_in_their_ranges() -> None:
    for seed in range(3):
        out = market.simulate(NETWORKS["grid"], vector(rail_outage_rate=0.5), seed, 6, 50, 5)
        values = dict(zip(market.OUTCOMES, out.outcomes, strict=True))
        for name in (
            "trade_share",
            "band_compliance",
            "shortage",
            "gini",
            "market_income_share",
            "marginal_trade_share",
            "crossing_trade_share",
            "hub_integration",
            "integration_index",
        ):
            assert 0.0 <= values[name] <= 1.0, name
        assert values["integrated"] in (0.0, 1.0)
        assert values["time_to_integration"] == -1.0 or 1 <= values["time_to_integration"] <= 50


def test_params_vector_shape_is_checked() -> None:
    with pytest.raises(ValueError, match="params must have shape"):
        market.simulate(NETWORKS["ring"], np.zeros(3), 1, 2, 10, 1)
    with pytest.raises(ValueError, match="n_goods must be in"):
        market.simulate(NETWORKS["ring"], vector(), 1, 7, 10, 1)


def test_largest_component_matches_scipy() -> None:
    net = network.geometric(60, neighbours=2, seed=9)
    rng = np.random.default_rng(0)
    for _ in range(20):
        active = rng.random(net.n_edges) < 0.4
        share, members = reference.largest_component(net, active)
        got, root = graphs.largest_component(
            net.n_nodes, net.edge_u, net.edge_v, active, net.population
        )
        assert got == pytest.approx(share)
        roots = graphs.component_roots(net.n_nodes, net.edge_u, net.edge_v, active)
        assert_array_equal(roots == root, members)
        n = net.n_nodes
        graph = coo_matrix(
            (np.ones(active.sum()), (net.edge_u[active], net.edge_v[active])), shape=(n, n)
        )
        labels = connected_components(graph, directed=False)[1]
        assert graphs.largest_component_share(n, net.edge_u, net.edge_v, active) == pytest.approx(
            np.bincount(labels).max() / n
        )


def test_mean_component_share_is_the_goods_largest_components_averaged() -> None:
    net = network.geometric(60, neighbours=2, seed=9)
    rng = np.random.default_rng(1)
    parent = np.empty((4, net.n_nodes), dtype=np.int64)
    mass = np.empty(net.n_nodes)
    for density in (0.0, 0.3, 0.5, 1.0):
        active = rng.random((net.n_edges, 4)) < density
        expected = [
            graphs.largest_component(net.n_nodes, net.edge_u, net.edge_v, a, net.population)[0]
            for a in active.T.copy()
        ]
        got = graphs.mean_component_share(
            net.edge_u, net.edge_v, active, net.population, parent, mass
        )
        assert got == sum(expected) / 4  # the same sums in the same order: equal, not close


def test_gini() -> None:
    ones = np.ones(4)
    assert graphs.gini(np.ones(4), ones) == pytest.approx(0.0)
    assert graphs.gini(np.array([0.0, 0.0, 0.0, 1.0]), ones) == pytest.approx(0.75)
    # weights count like repeated entries
    assert graphs.gini(np.array([1.0, 3.0]), np.array([2.0, 1.0])) == pytest.approx(
        graphs.gini(np.array([1.0, 1.0, 3.0]), np.ones(3))
    )
    rng = np.random.default_rng(3)
    values, weights = rng.random(30), rng.random(30) + 0.1
    assert graphs.gini(values, weights) == pytest.approx(reference.gini(values, weights))


@pytest.mark.parametrize("net_name", [*NETWORKS, "nk"])
def test_network_arrays_are_consistent(net_name: str) -> None:
    net = networks.build("nk", 0) if net_name == "nk" else NETWORKS[net_name]
    assert (net.edge_u < net.edge_v).all()
    assert net.indptr[0] == 0 and net.indptr[-1] == 2 * net.n_edges
    for i in range(net.n_nodes):
        for j in range(net.indptr[i], net.indptr[i + 1]):
            e = net.adj_edge[j]
            assert i in (net.edge_u[e], net.edge_v[e])
            assert net.adj_node[j] == (net.edge_v[e] if net.edge_u[e] == i else net.edge_u[e])
    assert net.population.mean() == pytest.approx(1.0)
    assert net.import_weight.sum() == pytest.approx(1.0)
    assert (net.tier == network.CAPITAL).sum() == 1 and net.trio[0] == np.argmax(net.tier)
    assert net.specialty.shape == (net.n_nodes, len(goods.GOODS))
    assert set(np.unique(net.edge_permit)) <= {0.0, 0.5, 0.75, 1.0, 1.5}
    adjacency = coo_matrix(
        (np.ones(net.n_edges), (net.edge_u, net.edge_v)), shape=(net.n_nodes, net.n_nodes)
    )
    assert connected_components(adjacency, directed=False)[0] == 1


def test_synthetic_edges_are_straight_lines() -> None:
    net = NETWORKS["geometric"]
    assert_allclose(
        net.edge_km, np.linalg.norm(net.pos_km[net.edge_u] - net.pos_km[net.edge_v], axis=1)
    )


def test_the_north_korea_network() -> None:
    """Built from the packaged data: 179 units, the 2008 census, real rail lines, roles."""
    net = networks.build("nk", 0)
    names = net.names
    assert net.n_nodes == 179
    assert [names[i] for i in net.trio] == ["Pyongyang", "Sinuiju City", "Hyesan City"]
    assert names[int(np.argmax(net.import_weight))] == "Sinuiju City"
    assert net.import_weight.max() == pytest.approx(0.75)  # 70-80% via Dandong-Sinuiju (V15)
    # provinces hold their 2008 census populations; the capital is the most populous unit
    total_2008 = 23_349_859  # the ten provincial units of the 2008 census
    people = net.population / net.population.sum() * total_2008
    assert int(np.argmax(people)) == net.trio[0]
    assert 0.9 * 3_255_288 < people[net.trio[0]] <= 3_255_288
    ryanggang = net.province == net.province[net.trio[2]]  # Hyesan's province
    assert people[ryanggang].sum() == pytest.approx(719_269, rel=1e-9)
    rail = net.edge_mode == network.RAIL
    pyongui = (net.edge_u == net.trio[0]) & (net.edge_v == net.trio[1]) | (
        net.edge_v == net.trio[0]
    ) & (net.edge_u == net.trio[1])
    assert net.edge_km[pyongui & rail] == pytest.approx([225.1])  # the Pyongui line's length
    assert 40 <= rail.sum() <= 60 and 400 <= (~rail).sum() <= 600
    # road links join neighbours: none longer than the pruning limit
    assert net.edge_km[~rail].max() < 100
    hubs = {names[i] for i in net.hubs}
    assert {"Pyongyang", "Pyongsong City", "Hamhung City", "Chongjin City"} <= hubs
    assert net.remote.sum() > 30 and not net.remote[net.hubs].any()


def test_network_kinds() -> None:
    assert network.grid(9).n_edges == 12
    assert network.ring(5).n_edges == 5
    assert network.ring(2).n_edges == 1
    assert networks.build("geometric", 30) is networks.build("geometric", 30)
    assert networks.build("nk", 0) is networks.build("nk", 5)  # sizes do not apply to nk
    with pytest.raises(ValueError, match="network kind"):
        networks.build("torus", 5)


def test_window_sampling_and_activity_helpers() -> None:
    assert weeks.window_start(520, 0.25) == 390
    assert weeks.window_start(10, 0.01) == 9  # at least one week
    assert weeks.window_start(10, 1.0) == 0
    assert weeks.n_samples(520, 4) == 130 and weeks.n_samples(10, 3) == 3
    assert weeks.weeks_needed(100, 0.07) == 7  # 0.07 * 100 is 7.000000000000001 in floats
    assert weeks.weeks_needed(100, 0.25) == 25 and weeks.weeks_needed(3, 0.5) == 2
    assert weeks.season(40, 0.1) == pytest.approx(1.1)  # October peak
    assert weeks.season(14, 0.1) == pytest.approx(0.9)  # April trough


def test_landscape() -> None:
    net = networks.build("nk", 0)
    table = goods.table(6)
    land = market.draw_landscape(net, table, 0.0, np.random.default_rng(1))
    # national output = demand less imports plus exports (before the floor)
    target = land.demand.sum(axis=0) * (
        1 - table[:, goods.G.import_share] + table[:, goods.G.export_share]
    )
    assert_allclose(land.base.sum(axis=0), target, rtol=0.02)
    assert (land.base >= goods.PRODUCTION_FLOOR * land.demand - 1e-12).all()
    assert_allclose(land.demand.sum(axis=1) / net.population, 6.0)  # weights sum to one
    pyongsong = net.names.index("Pyongsong City")
    light = goods.GOODS.index("light_industry")
    per_head = land.base[:, light] / net.population
    assert per_head[pyongsong] == per_head.max()  # Pyongsong's light industry [brief]


def test_a_raised_stop_flag_ends_the_run() -> None:
    stop = np.ones(1, dtype=np.uint8)
    with pytest.raises(market.Stopped):
        market.simulate(NETWORKS["ring"], vector(), 1, 2, 10, 1, stop)
    stop[0] = 0
    sim = market.simulate(NETWORKS["ring"], vector(), 1, 2, 10, 1, stop)
    assert_array_equal(
        sim.outcomes, market.simulate(NETWORKS["ring"], vector(), 1, 2, 10, 1).outcomes
    )


def test_spatial_correlation_is_morans_i_over_the_links() -> None:
    net = network.grid(16)  # 4 x 4: a bipartite graph
    rng = np.random.default_rng(3)
    before, after = rng.normal(size=(16, 3)), rng.normal(size=(16, 3))
    weights = np.zeros((16, 16))
    weights[net.edge_u, net.edge_v] = weights[net.edge_v, net.edge_u] = 1.0
    z = (after - before) - (after - before).mean(axis=0)
    dense = [
        16 / weights.sum() * z[:, k] @ weights @ z[:, k] / (z[:, k] @ z[:, k]) for k in range(3)
    ]
    fast = graphs.spatial_correlation(after, before, net.edge_u, net.edge_v)
    assert fast == pytest.approx(np.mean(dense), rel=1e-12)
    assert reference.spatial_correlation(net, after, before) == pytest.approx(fast, rel=1e-12)
    row, col = np.divmod(np.arange(16), 4)
    checkerboard = ((row + col) % 2 * 2.0 - 1.0)[:, None]
    assert graphs.spatial_correlation(checkerboard, 0 * checkerboard, net.edge_u, net.edge_v) == (
        pytest.approx(-1.0)
    )
    gradient = (row + col).astype(float)[:, None]
    assert graphs.spatial_correlation(gradient, 0 * gradient, net.edge_u, net.edge_v) > 0.6
    flat = np.ones((16, 1))
    assert graphs.spatial_correlation(flat, 0 * flat, net.edge_u, net.edge_v) == 0.0

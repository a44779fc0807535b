"""A slow, readable NumPy twin of :mod:`kernels.market`, for tests on small networks.

The same phases under the same names (``market.PHASES``) over a state with the kernel's field
names (``kernels.state.FIELDS``, a :class:`types.SimpleNamespace` here), so the tests can run
one phase of each from the same state and compare (:func:`from_kernel`). Whole-array NumPy
instead of loops, except for the Gauss-Seidel arbitrage; the same counter-based random draws;
connected components from scipy rather than the kernel's union-find.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from . import draws
from .goods import G, table
from .market import NO_EVENTS, NORMAL_TABLE, PHASES, Simulation, draw_landscape
from .network import CAPITAL, HUB, RAIL, Network
from .parameters import (
    DEMAND_FLOOR,
    EVENT_CAPITAL_LOSS,
    EVENT_FLOOD,
    EVENT_HARVEST,
    EVENT_REDENOMINATION,
    HARVEST_WEEK,
    INITIAL_STATE_WEEKS,
    MAX_DELAY,
    MAX_LAG,
    MAX_OUTFLOW_SHARE,
    MAX_PASSES,
    MAX_PROCUREMENT,
    REDENOMINATION,
    WEALTH_MAX,
    P,
)
from .reference_outputs import (
    clearing,
    finish,
    gini,
    largest_component,
    money,
    outputs,
    spatial_correlation,
    week_flags,
)
from .reference_routes import depots, haulage, route_terms, trip_terms
from .results import LEDGER, OUTCOMES, PLACE_SUMS, PLACES, L, S
from .state import FIELDS
from .weeks import n_samples, season, window_start

RING, MEMORY = MAX_DELAY + 1, MAX_LAG + 1
# the fields the twin keeps: all but the kernel's scratch arrays and views
KEPT = tuple(name for name, _, kind, _ in FIELDS if kind not in ("scratch", "view"))


def start(
    network: Network,
    params: np.ndarray,
    seed: int,
    n_goods: int,
    n_steps: int,
    sample_every: int,
    events: np.ndarray | None = None,
) -> SimpleNamespace:
    """The state before the first week, from the inputs of ``market.start``."""
    params = np.array(params, dtype=np.float64)
    goods = table(n_goods)
    rng = np.random.default_rng(seed)
    land = draw_landscape(
        network, goods, params[P.specialization], rng, params[P.specialty_strength]
    )
    s = SimpleNamespace(**{name: getattr(network, name) for name in _NETWORK_FIELDS})
    s.goods, s.demand, s.base, s.phone_rank = goods, land.demand, land.base, land.phone_rank
    s.params, s.key, s.normal_table = params, int(draws.run_key(rng)), NORMAL_TABLE
    s.events = NO_EVENTS if events is None else np.asarray(events, dtype=np.float64)
    s.indptr, s.adj_edge, s.adj_node = network.indptr, network.adj_edge, network.adj_node
    s.stop, s.n_steps, s.sample_every = np.zeros(1, dtype=np.uint8), n_steps, sample_every
    n, n_edges = network.n_nodes, network.n_edges
    cells, links = (n, n_goods), (n_edges, n_goods)
    s.outcomes, s.ledger = np.full(len(OUTCOMES), np.nan), np.zeros(len(LEDGER))
    s.series = np.empty((n_samples(n_steps, sample_every), len(S)))
    s.prices = np.zeros(cells)
    s.places = np.full((n, len(PLACES)), np.nan)
    s.place_sums, s.unit_market = np.zeros((n, PLACE_SUMS)), np.zeros(n)
    # fixed for the run
    s.demand_total = s.demand.sum(axis=0)
    s.cap_scale = s.demand_total / n
    s.value_scale = s.demand.sum(axis=1)
    s.staple = goods[:, G.staple] > 0.5
    s.remote_weight, s.n_remote = network.remote.astype(float), int(network.remote.sum())
    s.hub = (network.tier == HUB) | (network.tier == CAPITAL)
    s.hub[network.trio[1]] = True
    s.n_hubs = int(s.hub.sum())
    s.node_u, s.node_v = network.edge_u.astype(np.uint64), network.edge_v.astype(np.uint64)
    depots(s)
    channels, n_routes = len(s.ch_u), len(s.route_u)
    s.first = window_start(n_steps, params[P.window_share])
    s.stock_start, s.state_start = land.base.sum(), 0.0
    # the market
    s.stock, s.state_stock = land.base.copy(), np.zeros(n_goods)
    s.arrivals, s.incoming = np.zeros((RING, *cells)), np.zeros(cells)
    s.history, s.wealth = np.zeros((MEMORY, *cells)), np.ones(n)
    s.flood_left, s.harvest = np.zeros(n, dtype=np.int64), np.ones(cells)
    s.ev_start = np.zeros(len(s.events))
    s.dirty, s.phone, s.is_open = True, np.zeros(n, dtype=bool), np.zeros(n_edges, dtype=bool)
    s.cost, s.transport, s.keep = np.zeros(channels), np.zeros(channels), np.zeros(channels)
    s.delay, s.crossing = np.zeros(channels, dtype=np.int64), np.zeros(channels)
    s.ch_reachable, s.ch_open = np.zeros(channels, dtype=bool), np.zeros(channels, dtype=bool)
    s.route_ptr = np.zeros(n_routes + 1, dtype=np.int64)
    s.route_edges = np.full(max(n_routes * n, 1), -1, dtype=np.int64)
    s.routes_dirty, s.rail_down = True, np.zeros(n_edges, dtype=bool)
    s.log_p, s.prev_log_p, s.price = np.zeros(cells), np.zeros(cells), np.zeros(cells)
    s.log_market_demand, s.rations, s.consumed = np.zeros(cells), np.zeros(cells), np.zeros(cells)
    s.supply = np.zeros(cells)
    s.traded_week = np.full(links, -1, dtype=np.int64)
    s.active_steps = np.zeros(links, dtype=np.int64)
    s.linked = np.zeros(links, dtype=bool)
    s.linked_steps = np.zeros(links, dtype=np.int64)
    s.welfare_sum, s.sums = np.zeros(n), np.zeros(len(OUTCOMES))
    s.last_share = np.full(n_goods, np.nan)
    s.last_pds = s.last_capital_level = np.nan
    s.noise_factor, s.noise_level = np.zeros(len(NORMAL_TABLE)), -1.0
    s.cash, s.sales_mean, s.won_level, s.won_first, s.sales = 0.0, 0.0, 1.0, 1.0, 0.0
    s.reached, s.row = -1.0, 0
    s.room, s.inflow_value, s.profit = np.zeros(cells), np.zeros(n), np.zeros(n)
    s.budget, s.passes, s.wholesale_value = np.zeros(cells), 0, 0.0
    s.trade_value = s.crossing_value = s.market_value = s.ration_value = s.marginal = 0.0
    s.counted = s.sampled = s.before_sample = False
    return s


_NETWORK_FIELDS = (
    "edge_u", "edge_v", "edge_km", "edge_mode", "edge_permit", "population", "province", "tier",
    "import_weight", "remote", "trio",
)  # fmt: skip


def from_kernel(state) -> SimpleNamespace:
    """A copy of a kernel :class:`~kernels.state.State` as a twin state (the kept fields)."""
    values = {}
    for name in KEPT:
        value = getattr(state, name)
        values[name] = value.copy() if isinstance(value, np.ndarray) else value
    values["key"] = int(values["key"])
    return SimpleNamespace(**values)


def simulate(
    network: Network,
    params: np.ndarray,
    seed: int,
    n_goods: int,
    n_steps: int,
    sample_every: int,
    events: np.ndarray | None = None,
) -> Simulation:
    """A whole run, phase by phase, as ``market.simulate`` runs it."""
    s = start(network, params, seed, n_goods, n_steps, sample_every, events)
    phases = [globals()[name] for name in PHASES]
    for t in range(n_steps):
        for phase in phases:
            phase(s, t)
    finish(s)
    return Simulation(s.outcomes, s.series, s.ledger, s.prices, s.places)


# 1. events ----------------------------------------------------------------------------------
def events(s: SimpleNamespace, t: int) -> None:
    s.routes_dirty |= bool((s.flood_left == 1).any())
    np.maximum(s.flood_left - 1, 0, out=s.flood_left)
    for m, (week, code, value, over) in enumerate(s.events):
        week, code, over = int(week), int(code), max(int(over), 1)
        if code >= 0:
            if t == week:
                s.ev_start[m] = s.params[code]
            if week <= t < week + over:
                s.params[code] = s.ev_start[m] + (value - s.ev_start[m]) * (t - week + 1) / over
                s.dirty = True
        elif t == week and code == EVENT_FLOOD:
            flood(s, int(value))
        elif t == week and code == EVENT_CAPITAL_LOSS:
            s.wealth *= 1.0 - value
        elif t == week and code == EVENT_REDENOMINATION:
            s.cash *= (1.0 - value) / REDENOMINATION
    if t == 0:
        level = np.full(len(s.population), s.params[P.pds_level])
        level[s.trio[0]] = max(s.params[P.pds_level], s.params[P.capital_pds])
        need = (level[:, None] * s.demand).sum(axis=0)
        s.state_stock = np.where(s.staple, INITIAL_STATE_WEEKS * need, 0.0)
        s.state_start = s.state_stock.sum()
    if s.dirty:
        link_terms(s)
        s.routes_dirty = True
        s.phone = s.phone_rank < s.params[P.phone_penetration]
        s.dirty = False


def link_terms(s: SimpleNamespace) -> None:
    p, n_edges = s.params, len(s.edge_u)
    days = np.where(s.edge_mode == RAIL, p[P.rail_days], p[P.road_days])
    s.transport[:n_edges] = haulage(s, 1.0)  # before investment: the price-link ruler
    line = (s.edge_permit > 0.0).astype(float)
    cost, keep = trip_terms(p, s.transport[:n_edges], s.edge_permit, line, p[P.petty_load])
    s.cost[:n_edges], s.keep[:n_edges], s.crossing[:n_edges] = cost, keep, line
    weeks = np.floor(days * s.edge_km / 100.0 / 7.0 + 1e-9).astype(np.int64)
    s.delay[:n_edges] = np.minimum(weeks, MAX_DELAY)


def flood(s: SimpleNamespace, node: int) -> None:
    s.routes_dirty |= bool(s.flood_left[node] == 0 and s.params[P.flood_weeks] > 0)
    s.flood_left[node] = max(s.flood_left[node], int(s.params[P.flood_weeks]))
    lost = s.params[P.flood_loss] * s.stock[node] * s.staple
    s.stock[node] -= lost
    s.ledger[L.flood_destroyed] += lost.sum()


# 2. arrivals --------------------------------------------------------------------------------
def arrivals(s: SimpleNamespace, t: int) -> None:
    due = s.arrivals[t % RING]
    s.stock += due
    s.incoming -= due
    due[:] = 0.0


# 3. production ------------------------------------------------------------------------------
def production(s: SimpleNamespace, t: int) -> None:
    n, k_goods = s.stock.shape
    p, staple = s.params, s.staple
    if t == 0 or t % 52 == HARVEST_WEEK:
        sd, rho = p[P.harvest_sd], p[P.harvest_correlation]
        n_prov = s.province.max() + 1
        common = draws.normals_np(draws.week_key_np(s.key, draws.HARVEST_PROVINCE, t), 0, n_prov)
        local_key = draws.week_key_np(s.key, draws.HARVEST_LOCAL, t)
        local = draws.normals_np(local_key, 0, n * k_goods).reshape(n, k_goods)[:, staple]
        z = np.sqrt(rho) * common[s.province][:, None] + np.sqrt(1.0 - rho) * local
        s.harvest[:, staple] = np.exp(sd * z - 0.5 * sd * sd)
    for week, code, value, _ in s.events:
        if int(week) == t and int(code) == EVENT_HARVEST:
            s.harvest[:, staple] *= value
    factor = np.exp(p[P.production_noise] * s.normal_table)
    s.noise_factor, s.noise_level = factor * (len(factor) / factor.sum()), p[P.production_noise]
    index = draws.table_indices_np(draws.week_key_np(s.key, draws.PRODUCTION, t), 0, n * k_goods)
    y = s.base * s.noise_factor[index].reshape(n, k_goods)
    flooded = np.where(s.flood_left > 0, 1.0 - p[P.flood_loss], 1.0)[:, None]
    y = np.where(staple, y * (season(t, p[P.seasonal_amplitude]) * s.harvest) * flooded, y)
    procured = np.where(staple, min(p[P.pds_level], MAX_PROCUREMENT) * y, 0.0)
    s.state_stock += procured.sum(axis=0)
    s.stock += y - procured
    s.ledger[L.produced] += y.sum()


# 4. floods ----------------------------------------------------------------------------------
def floods(s: SimpleNamespace, t: int) -> None:
    chance, where = draws.uniforms_np(draws.week_key_np(s.key, draws.FLOOD, t), 0, 2)
    if chance < s.params[P.flood_rate]:
        flood(s, int(where * len(s.population)))


# 5. China trade -----------------------------------------------------------------------------
def china_trade(s: SimpleNamespace, t: int) -> None:
    p, stock = s.params, s.stock
    imported = p[P.china_trade] * s.goods[:, G.import_share] * s.demand_total
    to_state = p[P.state_import_share] * imported
    stock[s.trio[0]] += to_state
    stock += (imported - to_state)[None, :] * s.import_weight[:, None]
    s.ledger[L.imported] += imported.sum()
    wanted = p[P.china_trade] * s.goods[:, G.export_share] * s.demand_total
    border = s.import_weight > 0.0
    exported = np.minimum(
        wanted[None, :] * s.import_weight[border, None], MAX_OUTFLOW_SHARE * stock[border]
    )
    stock[border] -= exported
    s.ledger[L.exported] += exported.sum()


# 6. PDS rations -----------------------------------------------------------------------------
def rations(s: SimpleNamespace, t: int) -> None:
    pds = s.params[P.pds_level]
    level = np.full(len(s.population), pds)
    level[s.trio[0]] = max(pds, s.params[P.capital_pds])
    need = (level[:, None] * s.demand).sum(axis=0)
    has_need = s.staple & (need > 0)
    share = np.where(has_need, np.minimum(1.0, s.state_stock / np.where(has_need, need, 1)), 0.0)
    s.state_stock -= share * need
    s.rations = share[None, :] * level[:, None] * s.demand
    s.log_market_demand = np.log(np.maximum(s.demand - s.rations, DEMAND_FLOOR * s.demand))
    s.last_share, s.last_pds, s.last_capital_level = share, pds, level[s.trio[0]]


# 7. spoilage --------------------------------------------------------------------------------
def spoilage(s: SimpleNamespace, t: int) -> None:
    lost = s.params[P.spoilage_scale] * s.goods[:, G.spoilage][None, :] * s.stock
    s.stock -= lost
    s.ledger[L.spoiled] += lost.sum()


# 8. outages and floods close links; routes follow -------------------------------------------
def outages(s: SimpleNamespace, t: int) -> None:
    outage = s.params[P.rail_outage_rate] * (1.0 - s.params[P.transport_investment])
    down = draws.uniforms_np(draws.week_key_np(s.key, draws.OUTAGE, t), 0, len(s.edge_u))
    weeks = s.params[P.outage_weeks]
    if t == 0:
        chance = np.full(len(s.edge_u), outage)
    else:
        begin = min(outage / (weeks * (1.0 - outage)), 1.0) if outage < 1.0 else 1.0
        chance = np.where(s.rail_down, 1.0 - 1.0 / weeks, begin)
    s.rail_down = (down < chance) & (s.edge_mode == RAIL)
    s.is_open = ~s.rail_down & (s.flood_left[s.edge_u] == 0) & (s.flood_left[s.edge_v] == 0)
    if s.routes_dirty:
        route_terms(s)
    n_edges = len(s.edge_u)
    for r in range(len(s.route_u)):
        path = s.route_edges[s.route_ptr[r] : s.route_ptr[r + 1]]
        s.ch_open[n_edges + r] = s.ch_reachable[n_edges + r] and not s.rail_down[path].any()


# 9. the prices traders expect ---------------------------------------------------------------
def expected_prices(s: SimpleNamespace, t: int) -> None:
    turnover = s.params[P.turnover] * (1.0 - s.params[P.market_ban])
    s.supply = s.stock + s.incoming
    s.log_p = (s.log_market_demand - np.log(turnover) - np.log(s.supply)) / s.params[
        P.demand_elasticity
    ]
    s.history[t % MEMORY] = s.log_p


# 10. arbitrage: trips over channels (links, then routes) until no trip pays ----------------
def arbitrage(s: SimpleNamespace, t: int) -> None:
    p, k_goods, n_edges = s.params, s.stock.shape[1], len(s.edge_u)
    lag, elasticity = int(p[P.info_lag]), p[P.demand_elasticity]
    held = np.where(s.staple[None, :] & ~s.depot[:, None], p[P.self_reliance], 0.0)
    s.room = MAX_OUTFLOW_SHARE * (1.0 - held) * s.stock
    s.budget = p[P.trader_capital] * s.demand * s.wealth[:, None]
    s.price = np.exp(s.log_p)
    s.inflow_value, s.profit = np.zeros(len(s.population)), np.zeros(len(s.population))
    s.trade_value = s.crossing_value = s.wholesale_value = 0.0
    s.ch_open[:n_edges] = s.is_open
    informed = s.phone[s.ch_u.astype(np.int64)] & s.phone[s.ch_v.astype(np.int64)]
    old = s.history[max(t - lag, 0) % MEMORY]
    moved_before = np.ones(len(s.population), dtype=bool)
    s.passes = 0
    while s.passes < MAX_PASSES:
        visit = s.ch_open & (informed | (s.passes == 0))
        moved_now = np.zeros(len(s.population), dtype=bool)
        for c in np.flatnonzero(visit):
            a, b = int(s.ch_u[c]), int(s.ch_v[c])
            if moved_before[a] or moved_before[b]:
                for k in range(k_goods):
                    if _trip(s, t, c, k, informed[c], old, lag, elasticity):
                        moved_now[[a, b]] = True
        s.passes += 1
        if not moved_now.any():
            break
        moved_before = moved_now


def _trip(s, t, c, k, informed, old, lag, elasticity) -> bool:
    """One channel's trip of good k, if its gap beats its cost; returns whether it was made."""
    a, b = int(s.ch_u[c]), int(s.ch_v[c])
    seen = s.log_p if informed else old
    gap = seen[b, k] - seen[a, k]
    excess = abs(gap) - s.cost[c]
    if excess <= s.params[P.arbitrage_tolerance]:
        return False
    src, dst = (a, b) if gap > 0.0 else (b, a)
    inv_src, inv_dst = 1.0 / s.supply[src, k], 1.0 / s.supply[dst, k]
    rate = elasticity if informed else elasticity / (1.0 + lag)
    x = rate * excess / (inv_src + s.keep[c] * inv_dst)
    x = min(x, s.budget[src, k], s.room[src, k])
    if x <= 0.0:
        return False
    margin = excess if informed else s.log_p[dst, k] - s.log_p[src, k] - s.cost[c]
    n_edges = len(s.edge_u)
    if c < n_edges:
        s.traded_week[c, k] = t
    else:
        r = c - n_edges
        s.traded_week[s.route_edges[s.route_ptr[r] : s.route_ptr[r + 1]], k] = t
    s.room[src, k] -= x
    s.budget[src, k] -= x
    s.stock[src, k] -= x
    s.supply[src, k] -= x
    arriving = s.keep[c] * x
    s.supply[dst, k] += arriving
    s.ledger[L.confiscated] += x - arriving
    if s.delay[c] == 0:
        s.stock[dst, k] += arriving
    else:
        s.arrivals[(t + s.delay[c]) % RING, dst, k] += arriving
        s.incoming[dst, k] += arriving
    s.log_p[src, k] += x * inv_src / elasticity
    s.log_p[dst, k] -= arriving * inv_dst / elasticity
    value = x * s.price[src, k]
    s.trade_value += value
    s.crossing_value += s.crossing[c] * value
    s.wholesale_value += (c >= n_edges) * value
    s.inflow_value[dst] += value
    s.profit[src] += value * margin
    return True


# 11. traders' capital -----------------------------------------------------------------------
def capital(s: SimpleNamespace, t: int) -> None:
    p = s.params
    w = s.wealth + p[P.capital_recovery] * (1.0 - s.wealth)
    s.wealth = np.clip(w + p[P.reinvest] * s.profit / s.value_scale, 0.0, WEALTH_MAX)


__all__ = [  # phases 12-13 and the graphs live in reference_outputs.py
    *PHASES,
    "KEPT",
    "clearing",
    "finish",
    "from_kernel",
    "gini",
    "largest_component",
    "money",
    "outputs",
    "simulate",
    "spatial_correlation",
    "start",
    "week_flags",
]

"""A run's state, held in one place: a numba structref that every phase of a week reads and
writes (``s.stock``, ``s.row``), made by :func:`new_state` from a run's inputs.

Shapes: N units, E links, K goods, M events, P parameters; ``ring`` = MAX_DELAY + 1 weeks of
shipments on the way, ``memory`` = MAX_LAG + 1 weeks of prices. :data:`FIELDS` lists every
field with its numba type and meaning; Python code reads fields as attributes of a
:class:`State` (the NumPy twin and the tests compare them phase by phase).
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.experimental import structref

from .goods import G
from .network import BORDER, CAPITAL, HUB
from .parameters import MAX_DELAY, MAX_LAG, P
from .results import OUTCOMES, PLACE_SUMS
from .weeks import window_start

N_OUTCOMES = len(OUTCOMES)

f8, i8, b1 = types.float64, types.int64, types.boolean
f8_1, f8_2, f8_3 = types.float64[::1], types.float64[:, ::1], types.float64[:, :, ::1]
i8_1, i8_2, b1_1, b1_2 = (
    types.int64[::1],
    types.int64[:, ::1],
    types.boolean[::1],
    types.boolean[:, ::1],
)

# (name, numba type, kind, meaning); "input" fields are the run's arguments, "derived" fields
# are fixed for the run, "state" fields carry the market from week to week, "week" fields pass
# a week's values from one phase to the next, "scratch" fields are work arrays kept between
# weeks only to spare allocations, "view" fields other shapes of the arrays of other fields
FIELDS = (
    # inputs: the network (kernels.network.Network), goods, landscape and run settings
    ("edge_u", i8_1, "input", "(E,) first unit of each link"),
    ("edge_v", i8_1, "input", "(E,) second unit of each link"),
    ("edge_km", f8_1, "input", "(E,) length"),
    ("edge_mode", i8_1, "input", "(E,) ROAD or RAIL"),
    ("edge_permit", f8_1, "input", "(E,) travel-permit weight"),
    ("indptr", i8_1, "input", "(N+1,) CSR index of the links at each unit"),
    ("adj_edge", i8_1, "input", "(2E,) the links at each unit"),
    ("adj_node", i8_1, "input", "(2E,) their far ends"),
    ("population", f8_1, "input", "(N,) population, mean 1"),
    ("province", i8_1, "input", "(N,) province index"),
    ("tier", i8_1, "input", "(N,) PERIPHERY, HUB, BORDER or CAPITAL"),
    ("import_weight", f8_1, "input", "(N,) share of China imports entering here"),
    ("remote", b1_1, "input", "(N,) remote periphery units"),
    ("trio", i8_1, "input", "(3,) capital, main crossing, remote border city"),
    ("goods", f8_2, "input", "(K, 5) goods table (kernels.goods.G columns)"),
    ("demand", f8_2, "input", "(N, K) weekly demand at reference price 1"),
    ("base", f8_2, "input", "(N, K) mean weekly production"),
    ("phone_rank", f8_1, "input", "(N,) rank for phone coverage"),
    ("params", f8_1, "input", "(P,) parameters (kernels.parameters.P); events change them"),
    ("events", f8_2, "input", "(M, 4) rows (week, code, value, over), sorted by week"),
    ("key", types.uint64, "input", "the run's key for counter-based draws"),
    ("normal_table", f8_1, "input", "standard-normal quantiles (kernels.draws)"),
    ("stop", types.uint8[::1], "input", "(1,) non-zero: stop at the next week"),
    ("n_steps", i8, "input", "weeks to simulate"),
    ("sample_every", i8, "input", "weeks between series samples"),
    ("outcomes", f8_1, "input", "(len(OUTCOMES),) filled at the end (kernels.results.O)"),
    ("series", f8_2, "input", "(n_samples, 1 + len(SERIES)) (kernels.results.S)"),
    ("ledger", f8_1, "input", "(len(LEDGER),) the goods balance (kernels.results.L)"),
    ("prices", f8_2, "input", "(N, K) log prices after the last week"),
    ("places", f8_2, "input", "(N, len(PLACES)) each unit's outputs (kernels.results.PL)"),
    # fixed for the run
    ("demand_total", f8_1, "derived", "(K,) national demand"),
    ("cap_scale", f8_1, "derived", "(K,) mean regional demand: the unit of capital"),
    ("value_scale", f8_1, "derived", "(N,) a unit's weekly spending at reference prices"),
    ("staple", b1_1, "derived", "(K,) staples"),
    ("remote_weight", f8_1, "derived", "(N,) 1 for remote units"),
    ("n_remote", i8, "derived", "remote units"),
    ("hub", b1_1, "derived", "(N,) the major hubs (Network.hubs)"),
    ("n_hubs", i8, "derived", "major hubs"),
    ("node_u", types.uint64[::1], "derived", "(E,) edge_u as unsigned cell indices"),
    ("node_v", types.uint64[::1], "derived", "(E,) edge_v as unsigned cell indices"),
    ("depot", b1_1, "derived", "(N,) wholesale depots: major hubs, border units, trio[2]"),
    ("route_u", i8_1, "derived", "(R,) first depot of each route (R: 2 x pairs of depots)"),
    ("route_v", i8_1, "derived", "(R,) second depot"),
    ("ch_u", types.uint64[::1], "derived", "(C,) first unit of each channel (C = E + R)"),
    ("ch_v", types.uint64[::1], "derived", "(C,) second unit"),
    ("first", i8, "derived", "first week of the outcome window"),
    ("stock_start", f8, "derived", "market stocks at the start"),
    ("state_start", f8, "derived", "the state's stock after week 0's events"),
    # the market, week to week
    ("stock", f8_2, "state", "(N, K) market stocks"),
    ("state_stock", f8_1, "state", "(K,) the state's PDS stock"),
    ("arrivals", f8_3, "state", "(ring, N, K) shipments by week of arrival (mod ring)"),
    ("incoming", f8_2, "state", "(N, K) goods on the way to each unit"),
    ("history", f8_3, "state", "(memory, N, K) expected log prices by week (mod memory)"),
    ("wealth", f8_1, "state", "(N,) traders' capital, relative to its norm"),
    ("flood_left", i8_1, "state", "(N,) weeks a flood still lasts"),
    ("harvest", f8_2, "state", "(N, K) this year's harvest factor of staples"),
    ("ev_start", f8_1, "state", "(M,) a ramp event's starting value"),
    ("cost", f8_1, "state", "(C,) trade cost of a channel's trip (log price)"),
    ("transport", f8_1, "state", "(C,) haulage before investment: the price-link ruler"),
    ("keep", f8_1, "state", "(C,) share of a shipment not confiscated"),
    ("delay", i8_1, "state", "(C,) whole weeks in transit"),
    ("crossing", f8_1, "state", "(C,) 1 for channels that cross a permit line"),
    ("ch_reachable", b1_1, "state", "(C,) routes with a path (links: unused)"),
    ("route_ptr", i8_1, "state", "(R+1,) route r's path is route_edges[ptr[r]:ptr[r+1]]"),
    ("route_edges", i8_1, "state", "(R*N,) the links of the routes' paths"),
    ("routes_dirty", b1, "state", "routes to recompute (parameters changed, a flood)"),
    ("phone", b1_1, "state", "(N,) units whose merchants have phones"),
    ("dirty", b1, "state", "parameters changed: link terms and phones to recompute"),
    ("is_open", b1_1, "state", "(E,) links open this week"),
    ("rail_down", b1_1, "state", "(E,) rail links without power this week"),
    ("ch_open", b1_1, "state", "(C,) channels open this week"),
    ("log_p", f8_2, "state", "(N, K) log prices: expected before trade, clearing after"),
    ("prev_log_p", f8_2, "state", "(N, K) last week's log prices, kept before a sample"),
    ("log_market_demand", f8_2, "state", "(N, K) log of demand net of rations"),
    ("price", f8_2, "state", "(N, K) exp(log_p)"),
    ("rations", f8_2, "state", "(N, K) PDS rations this week"),
    ("consumed", f8_2, "state", "(N, K) sold plus rations this week"),
    ("supply", f8_2, "state", "(N, K) stock plus goods on the way, during arbitrage"),
    ("traded_week", i8_2, "state", "(E, K) last week a link carried a good (-1: never)"),
    ("active_steps", i8_2, "state", "(E, K) window weeks a link carried a good"),
    ("linked", b1_2, "state", "(E, K) price-linked this week"),
    ("linked_steps", i8_2, "state", "(E, K) window weeks a link was price-linked"),
    ("welfare_sum", f8_1, "state", "(N,) consumption ratio summed over the window"),
    ("place_sums", f8_2, "state", "(N, PLACE_SUMS) window sums of each unit's outputs"),
    ("sums", f8_1, "state", "(len(OUTCOMES),) window sums of weekly outcomes (by O)"),
    ("last_share", f8_1, "state", "(K,) the PDS's last ration share"),
    ("last_pds", f8, "state", "the last pds_level rations were computed for"),
    ("last_capital_level", f8, "state", "the last capital ration level"),
    ("noise_factor", f8_1, "state", "log-normal production noise table, mean one"),
    ("noise_level", f8, "state", "the production_noise noise_factor was made for"),
    ("cash", f8, "state", "won cash in circulation (units: the won level is 1 in week 0)"),
    ("sales_mean", f8, "state", "market sales, an exponential mean (weight 1 / MONEY_WEEKS)"),
    ("won_level", f8, "state", "won price level"),
    ("won_first", f8, "state", "won price level in the window's first week"),
    ("reached", f8, "state", "first sampled week integrated (-1: not yet)"),
    ("row", i8, "state", "series rows filled"),
    # one week's values, from one phase to the next
    ("room", f8_2, "week", "(N, K) what a unit may still ship this week"),
    ("budget", f8_2, "week", "(N, K) what a unit's traders may still ship this week"),
    ("passes", i8, "week", "trading passes this week"),
    ("wholesale_value", f8, "week", "value shipped on wholesale routes"),
    ("inflow_value", f8_1, "week", "(N,) value shipped to each unit"),
    ("unit_market", f8_1, "week", "(N,) value of each unit's market sales"),
    ("profit", f8_1, "week", "(N,) traders' margins by source unit"),
    ("trade_value", f8, "week", "value shipped between units"),
    ("crossing_value", f8, "week", "of it on permit links"),
    ("market_value", f8, "week", "value of local market sales"),
    ("sales", f8, "week", "goods sold on the markets (quantity)"),
    ("ration_value", f8, "week", "value of rations at market prices"),
    ("marginal", f8, "week", "share of units with marginal inflows"),
    ("counted", b1, "week", "the week is in the outcome window"),
    ("sampled", b1, "week", "a series row is taken this week"),
    ("before_sample", b1, "week", "the week before a sample (its prices are kept)"),
    # scratch
    ("inv_supply", f8_2, "scratch", "(N, K) 1 / supply"),
    ("output", f8_1, "scratch", "(N*K,) the week's production before staple factors"),
    ("log_scratch", f8_1, "scratch", "(N*K,) logs of stocks or supplies"),
    ("province_z", f8_1, "scratch", "(provinces,) common harvest draws"),
    ("gaps", f8_1, "scratch", "(K,) price gaps of one channel"),
    ("open_edges", i8_1, "scratch", "(C,) open channels in order"),
    ("informed_edges", i8_1, "scratch", "(C,) open channels with phones at both ends"),
    ("informed_link", b1_1, "scratch", "(C,) phones at both ends"),
    ("moved_before", b1_1, "scratch", "(N,) units whose prices moved in the last pass"),
    ("moved_now", b1_1, "scratch", "(N,) units whose prices move in this pass"),
    ("dist", f8_1, "scratch", "(N,) route costs from a depot (Dijkstra)"),
    ("pred_edge", i8_1, "scratch", "(N,) the last link of each unit's path (-1: none)"),
    ("done", b1_1, "scratch", "(N,) units settled or flooded (Dijkstra)"),
    ("frontier", i8_1, "scratch", "(N,) units reached but not settled (Dijkstra)"),
    ("weight", f8_1, "scratch", "(E,) link weights of the routes' least-cost paths"),
    ("wanted", b1_1, "scratch", "(N,) depots a Dijkstra run still has to reach"),
    ("welfare", f8_1, "scratch", "(N,) consumption ratio this week"),
    ("gap_i", f8_1, "scratch", "(N,) unmet demand this week"),
    ("level_i", f8_1, "scratch", "(N,) spending-weighted log price sum this week"),
    ("sum_lp", f8_1, "scratch", "(K,) weekly sums over units"),
    ("sum_lp2", f8_1, "scratch", "(K,)"),
    ("sum_p", f8_1, "scratch", "(K,)"),
    ("sum_p2", f8_1, "scratch", "(K,)"),
    ("sum_remote", f8_1, "scratch", "(K,)"),
    ("sum_pop_lp", f8_1, "scratch", "(K,)"),
    ("usd", f8_1, "scratch", "(3,) the trio's dollar rates this week"),
    ("parent", i8_2, "scratch", "(K, N) union-find"),
    ("mass", f8_1, "scratch", "(N,) union-find"),
    # flat views of the arrays above, made once (a reshape in every week costs a call each):
    # the loops over all N*K cells vectorise, and one cell index serves every array
    ("base_flat", f8_1, "view", "(N*K,) base"),
    ("stock_flat", f8_1, "view", "(N*K,) stock"),
    ("incoming_flat", f8_1, "view", "(N*K,) incoming"),
    ("arrivals_flat", f8_2, "view", "(ring, N*K) arrivals"),
    ("in_transit", f8_1, "view", "(ring*N*K,) arrivals"),
    ("history_flat", f8_2, "view", "(memory, N*K) history"),
    ("supply_flat", f8_1, "view", "(N*K,) supply"),
    ("inv_supply_flat", f8_1, "view", "(N*K,) inv_supply"),
    ("log_p_flat", f8_1, "view", "(N*K,) log_p"),
    ("log_demand_flat", f8_1, "view", "(N*K,) log_market_demand"),
    ("price_flat", f8_1, "view", "(N*K,) price"),
    ("room_flat", f8_1, "view", "(N*K,) room"),
    ("budget_flat", f8_1, "view", "(N*K,) budget"),
    ("rations_flat", f8_1, "view", "(N*K,) rations"),
    ("traded_week_flat", types.int64[::1], "view", "(E*K,) traded_week"),
)


@structref.register
class StateType(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(kind)) for name, kind in fields)


class State(structref.StructRefProxy):
    """A run's state; fields as in :data:`FIELDS`, read from Python as attributes."""


def _reader(name: str) -> property:
    @njit
    def read(s):  # compiled on first use; only tests read a state from Python
        return getattr(s, name)

    return property(lambda self: read(self), doc=name)


for _name, *_ in FIELDS:
    setattr(State, _name, _reader(_name))
structref.define_boxing(StateType, State)
STATE = StateType([(name, kind) for name, kind, *_ in FIELDS])


@njit(cache=True, nogil=True, error_model="numpy")
def new_state(
    edge_u, edge_v, edge_km, edge_mode, edge_permit, indptr, adj_edge, adj_node, population,
    province, tier, import_weight, remote, trio, goods, demand, base, phone_rank, params, events,
    key, normal_table, stop, n_steps, sample_every, outcomes, series, ledger, prices, places,
):  # fmt: skip
    """The state of a run before its first week (arguments: the "input" fields)."""
    s = structref.new(STATE)
    s.edge_u, s.edge_v, s.edge_km, s.edge_mode = edge_u, edge_v, edge_km, edge_mode
    s.edge_permit, s.population, s.province, s.tier = edge_permit, population, province, tier
    s.indptr, s.adj_edge, s.adj_node = indptr, adj_edge, adj_node
    s.import_weight, s.remote, s.trio, s.goods = import_weight, remote, trio, goods
    s.demand, s.base, s.phone_rank, s.params = demand, base, phone_rank, params
    s.events, s.key, s.normal_table, s.stop = events, key, normal_table, stop
    s.n_steps, s.sample_every = n_steps, sample_every
    s.outcomes, s.series, s.ledger, s.prices = outcomes, series, ledger, prices
    s.places = places
    _derive(s)
    _allocate(s)
    return s


@njit(cache=True, nogil=True, error_model="numpy")
def _derive(s):
    n, k_goods = s.demand.shape
    demand_total = np.zeros(k_goods)
    cap_scale = np.zeros(k_goods)
    for k in range(k_goods):
        demand_total[k] = s.demand[:, k].sum()
        cap_scale[k] = demand_total[k] / n
    value_scale = np.zeros(n)
    for i in range(n):
        value_scale[i] = s.demand[i].sum()
    s.demand_total, s.cap_scale, s.value_scale = demand_total, cap_scale, value_scale
    s.staple = s.goods[:, G.staple] > 0.5
    s.n_remote = s.remote.sum()
    s.remote_weight = s.remote.astype(np.float64)
    hub = (s.tier == HUB) | (s.tier == CAPITAL)
    hub[s.trio[1]] = True
    s.hub, s.n_hubs = hub, hub.sum()
    s.node_u, s.node_v = s.edge_u.astype(np.uint64), s.edge_v.astype(np.uint64)
    _routes(s)
    s.first = window_start(s.n_steps, s.params[P.window_share])
    s.stock_start = s.base.sum()  # a week of production on the shelves
    s.state_start = 0.0


@njit(cache=True, nogil=True, error_model="numpy")
def _routes(s):
    """The depots (the major hubs and border units), a route for each pair of them, and the
    channels of the arbitrage: the links, then the routes."""
    s.depot = s.hub | (s.tier == BORDER)
    s.depot[s.trio[2]] = True
    depots = np.flatnonzero(s.depot)
    pairs = depots.shape[0] * (depots.shape[0] - 1) // 2
    n_routes = 2 * pairs  # any mode, then road only (kernels.routes)
    s.route_u = np.empty(n_routes, dtype=np.int64)
    s.route_v = np.empty(n_routes, dtype=np.int64)
    r = 0
    for a in range(depots.shape[0]):
        for b in range(a + 1, depots.shape[0]):
            s.route_u[r], s.route_v[r] = depots[a], depots[b]
            s.route_u[pairs + r], s.route_v[pairs + r] = depots[a], depots[b]
            r += 1
    n_edges = s.edge_u.shape[0]
    s.ch_u = np.empty(n_edges + n_routes, dtype=np.uint64)
    s.ch_v = np.empty(n_edges + n_routes, dtype=np.uint64)
    s.ch_u[:n_edges], s.ch_v[:n_edges] = s.node_u, s.node_v
    for r in range(n_routes):
        s.ch_u[n_edges + r] = np.uint64(s.route_u[r])
        s.ch_v[n_edges + r] = np.uint64(s.route_v[r])


@njit(cache=True, nogil=True, error_model="numpy")
def _allocate(s):
    n, k_goods = s.demand.shape
    n_edges = s.edge_u.shape[0]
    cells = (n, k_goods)
    links = (n_edges, k_goods)
    s.stock = s.base.copy()
    s.state_stock = np.zeros(k_goods)  # filled in week 0, after that week's events
    s.arrivals = np.zeros((MAX_DELAY + 1, n, k_goods))
    s.incoming = np.zeros(cells)
    s.history = np.zeros((MAX_LAG + 1, n, k_goods))
    s.wealth = np.ones(n)
    s.flood_left = np.zeros(n, dtype=np.int64)
    s.harvest = np.ones(cells)
    s.ev_start = np.zeros(s.events.shape[0])
    channels = s.ch_u.shape[0]
    n_routes = s.route_u.shape[0]
    s.cost, s.transport, s.keep = np.empty(channels), np.empty(channels), np.empty(channels)
    s.delay = np.zeros(channels, dtype=np.int64)
    s.crossing = np.zeros(channels)
    s.ch_reachable = np.zeros(channels, dtype=np.bool_)
    s.route_ptr = np.zeros(n_routes + 1, dtype=np.int64)
    s.route_edges = np.full(max(n_routes * n, 1), -1, dtype=np.int64)
    s.routes_dirty = True
    s.rail_down = np.zeros(n_edges, dtype=np.bool_)
    s.ch_open = np.zeros(channels, dtype=np.bool_)
    s.phone = np.empty(n, dtype=np.bool_)
    s.dirty = True
    s.is_open = np.empty(n_edges, dtype=np.bool_)
    s.log_p, s.prev_log_p = np.empty(cells), np.zeros(cells)
    s.log_market_demand, s.price = np.empty(cells), np.empty(cells)
    s.rations, s.consumed, s.supply = np.zeros(cells), np.empty(cells), np.empty(cells)
    s.traded_week = np.full(links, -1, dtype=np.int64)
    s.active_steps = np.zeros(links, dtype=np.int64)
    s.linked = np.empty(links, dtype=np.bool_)
    s.linked_steps = np.zeros(links, dtype=np.int64)
    s.welfare_sum = np.zeros(n)
    s.place_sums = np.zeros((n, PLACE_SUMS))
    s.unit_market = np.zeros(n)
    s.sums = np.zeros(N_OUTCOMES)
    s.last_share = np.full(k_goods, np.nan)
    s.last_pds, s.last_capital_level = np.nan, np.nan
    s.noise_factor = np.empty(s.normal_table.shape[0])
    s.noise_level = -1.0
    s.cash, s.sales_mean, s.won_level, s.won_first, s.sales = 0.0, 0.0, 1.0, 1.0, 0.0
    s.reached, s.row = -1.0, 0
    s.room, s.inflow_value, s.profit = np.empty(cells), np.empty(n), np.empty(n)
    s.budget, s.passes, s.wholesale_value = np.empty(cells), 0, 0.0
    s.trade_value, s.crossing_value, s.market_value, s.ration_value = 0.0, 0.0, 0.0, 0.0
    s.marginal = 0.0
    s.counted, s.sampled, s.before_sample = False, False, False
    s.inv_supply = np.empty(cells)
    s.output, s.log_scratch = np.empty(n * k_goods), np.empty(n * k_goods)
    s.province_z = np.empty(s.province.max() + 1)
    s.gaps = np.empty(k_goods)
    s.open_edges = np.empty(channels, dtype=np.int64)
    s.informed_edges = np.empty(channels, dtype=np.int64)
    s.informed_link = np.empty(channels, dtype=np.bool_)
    s.moved_before = np.zeros(n, dtype=np.bool_)
    s.moved_now = np.zeros(n, dtype=np.bool_)
    s.dist, s.pred_edge = np.empty(n), np.empty(n, dtype=np.int64)
    s.done = np.empty(n, dtype=np.bool_)
    s.frontier = np.empty(n, dtype=np.int64)
    s.weight = np.empty(s.edge_u.shape[0])
    s.wanted = np.zeros(n, dtype=np.bool_)
    s.welfare, s.gap_i, s.level_i = np.empty(n), np.empty(n), np.empty(n)
    s.sum_lp, s.sum_lp2, s.sum_p = np.empty(k_goods), np.empty(k_goods), np.empty(k_goods)
    s.sum_p2, s.sum_remote = np.empty(k_goods), np.empty(k_goods)
    s.sum_pop_lp = np.empty(k_goods)
    s.usd = np.empty(3)
    s.parent = np.empty((k_goods, n), dtype=np.int64)
    s.mass = np.empty(n)
    _views(s)


@njit(cache=True, nogil=True, error_model="numpy")
def _views(s):
    cells = s.stock.size
    s.base_flat, s.stock_flat = s.base.reshape(cells), s.stock.reshape(cells)
    s.incoming_flat = s.incoming.reshape(cells)
    s.arrivals_flat = s.arrivals.reshape(MAX_DELAY + 1, cells)
    s.in_transit = s.arrivals.reshape((MAX_DELAY + 1) * cells)
    s.history_flat = s.history.reshape(MAX_LAG + 1, cells)
    s.supply_flat, s.inv_supply_flat = s.supply.reshape(cells), s.inv_supply.reshape(cells)
    s.log_p_flat, s.price_flat = s.log_p.reshape(cells), s.price.reshape(cells)
    s.log_demand_flat = s.log_market_demand.reshape(cells)
    s.room_flat, s.rations_flat = s.room.reshape(cells), s.rations.reshape(cells)
    s.budget_flat = s.budget.reshape(cells)
    s.traded_week_flat = s.traded_week.reshape(s.traded_week.size)

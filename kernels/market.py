"""The segmented-marketization kernel: county markets, PDS, China trade, traders and transport.

Public surface (what the pipeline relies on):
  MODEL_VERSION  changes whenever results for the same inputs could change
  PARAMS         names of the scalar parameters, in the order of the ``params`` vector
  OUTCOMES       per-run outcomes; FLAG_OUTCOMES the 0/1 ones
  SERIES         sampled per-step series (after the ``step`` column)
  LEDGER         the goods balance of a run (Simulation.ledger), for conservation checks
  EVENT_*        codes of the scenario event array
  simulate(network, params, seed, n_goods, n_steps, sample_every, stop, events) -> Simulation

One week t (docs/MODEL.md gives the equations; the NumPy twin in ``reference.py`` follows the
same numbered sections and the same counter-based draws, kernels.draws):
  1. events     scenario events due this week set or ramp parameters, flood a unit, cut the
                year's harvest, or wipe a share of traders' capital (a currency reform)
  2. arrivals   shipments whose travel time ends this week join the destination's stock
  3. production staples: base x season x annual harvest shock (province-correlated) x weekly
                noise (a stratified log-normal table), less flood_loss in a flooded unit;
                other goods: base x weekly noise. The state procures pds_level (at most
                0.9) of staple output into its stock
  4. floods     with probability flood_rate a random unit floods: it loses flood_loss of its
                staple stock, and for flood_weeks its links are cut and its staple output
                falls by flood_loss
  5. China      imports (china_trade x import share of national demand) enter at border units
                by their import weights, the state_import_share part at the capital instead;
                exports leave border units (export goods)
  6. PDS        rations of pds_level x staple demand from the state stock, cut pro rata when it
                runs short; households buy only the rest on the market
  7. spoilage   stocks shrink by each good's spoilage rate x spoilage_scale
  8. outages    rail links fail with rail_outage_rate; flooded units' links are closed
  9. prices     log p = (log market demand - log(turnover x stock)) / elasticity
 10. arbitrage  on each open link and good, traders compare the prices they see (fresh when both
                ends have phones, info_lag weeks old otherwise); beyond the link's cost (transport
                + permit + confiscation risk) they ship the linearised amount that closes the gap,
                at most their capital allows; self-reliance caps staple outflows; a crackdown
                confiscates a share in transit; goods arrive after the link's travel time
 11. capital    traders' capital grows with expected margins and returns toward its norm
 12. clearing   each market sells turnover x stock at the price that clears its demand
 13. outputs    dispersion, band compliance, trade share, shortage, remote premium, the
                Pyongyang-Sinuiju-Hyesan trio, Gini, the active-trade graph (links trading
                in active_trade_share of the window's weeks) and the price-linked graph
                (links that have carried trade and whose price gap stays within the
                transport cost alone, the law of one price net of physical transfer costs,
                in linked_share of the window's weeks; for the run's index the trade must
                fall in the window): an integrated national market is a run whose price-linked graph
                has a component holding integration_threshold of the population, on
                average over goods
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from . import draws
from .fastmath import exp_into, log_into
from .goods import GOODS, PRODUCTION_FLOOR, table
from .network import CAPITAL, HUB, RAIL, Network

# Changes whenever the same parameters and seed could give different numbers; part of every
# run's id, so runs of different model versions are never mixed in one dataset. Editing a
# packaged scenario (conf/scenario) is a model change too.
MODEL_VERSION = "nk-6"

PARAMS = (
    # policy levers
    "permit_strictness",
    "crackdown",
    "state_import_share",
    "transport_investment",
    "phone_penetration",
    "self_reliance",
    "trader_capital",
    # shocks
    "harvest_sd",
    "harvest_correlation",
    "flood_rate",
    "rail_outage_rate",
    "china_trade",
    "pds_level",
    "market_ban",
    # structure
    "permit_cost",
    "rail_cost",
    "road_cost",
    "rail_days",
    "road_days",
    "confiscation_max",
    "demand_elasticity",
    "specialization",
    "specialty_strength",
    "spoilage_scale",
    "turnover",
    "arbitrage_speed",
    "arbitrage_rounds",
    "info_lag",
    "production_noise",
    "seasonal_amplitude",
    "flood_weeks",
    "flood_loss",
    "capital_pds",
    "reinvest",
    "capital_recovery",
    "active_trade_share",
    "linked_share",
    "integration_threshold",
    "window_share",
)
OUTCOMES = (
    "price_dispersion",
    "price_cv",
    "trade_share",
    "band_compliance",
    "shortage",
    "remote_premium",
    "trio_dispersion",
    "gini",
    "market_income_share",
    "marginal_trade_share",
    "crossing_trade_share",
    "hub_integration",
    "time_to_integration",
    "integration_index",
    "integrated",
)
FLAG_OUTCOMES = frozenset({"integrated"})
SERIES = (
    "price_dispersion",
    "trade_share",
    "band_compliance",
    "lcc_share",
    "shortage",
    "remote_premium",
    "trio_dispersion",
    "gini",
    "price_level",
    "spatial_correlation",
)
LEDGER = (
    "produced",
    "imported",
    "consumed",
    "exported",
    "spoiled",
    "confiscated",
    "flood_destroyed",
    "market_stock_change",
    "in_transit_change",
    "state_stock_change",
)

# Scenario events: rows (week, code, value, over). code >= 0: ramp parameter PARAMS[code] to
# value over `over` weeks (1: at once); the others are one-off.
EVENT_FLOOD = -1  # value: the unit that floods
EVENT_CAPITAL_LOSS = -2  # value: share of traders' capital wiped out
EVENT_HARVEST = -3  # value: factor on this year's staple harvest (until the next harvest)
NO_EVENTS = np.zeros((0, 4), dtype=np.float64)
NORMAL_TABLE = draws.normal_table()

MAX_PROCUREMENT = 0.9  # the state never collects the last tenth (private plots, farmers' sales)
MAX_OUTFLOW_SHARE = 0.5  # a unit ships out at most this share of a stock per week
DEMAND_FLOOR = 0.05  # market demand never falls below this share of demand (rations in full)
WEALTH_MAX = 20.0  # traders' capital at most this many times its norm
MAX_DELAY = 8  # weeks; longer travel times are capped
MAX_LAG = 52  # weeks of price memory
HARVEST_WEEK = 38  # the year's harvest shock is drawn at the end of September (and at week 0)
SEASON_PEAK_WEEK = 40  # staple production peaks in October, is lowest in April
MARGINAL_INFLOW = 0.1  # a unit whose inflows are below this share of its market is marginal
INITIAL_STATE_WEEKS = 8.0  # the state starts with this many weeks of rations
# a pair counts as within its band when |gap| <= cost + BAND_SLACK: the linearised shipment
# closes a gap to about 1%, and price surveys are no more precise than that
BAND_SLACK = 0.01
THRESHOLD_TOLERANCE = 1e-9
SPATIAL_FLOOR = 1e-20  # sum of squared price changes below which a good's Moran's I is 0
N_LEDGER = len(LEDGER)
N_SERIES = len(SERIES)

_P = {name: i for i, name in enumerate(PARAMS)}
_STRICTNESS = _P["permit_strictness"]
_CRACKDOWN = _P["crackdown"]
_STATE_IMPORTS = _P["state_import_share"]
_INVESTMENT = _P["transport_investment"]
_PHONES = _P["phone_penetration"]
_SELF_RELIANCE = _P["self_reliance"]
_CAPITAL = _P["trader_capital"]
_HARVEST_SD = _P["harvest_sd"]
_HARVEST_CORR = _P["harvest_correlation"]
_FLOOD_RATE = _P["flood_rate"]
_OUTAGE = _P["rail_outage_rate"]
_CHINA = _P["china_trade"]
_PDS = _P["pds_level"]
_BAN = _P["market_ban"]
_PERMIT_COST = _P["permit_cost"]
_RAIL_COST = _P["rail_cost"]
_ROAD_COST = _P["road_cost"]
_RAIL_DAYS = _P["rail_days"]
_ROAD_DAYS = _P["road_days"]
_CONFISCATION = _P["confiscation_max"]
_ELASTICITY = _P["demand_elasticity"]
_SPECIALIZATION = _P["specialization"]
_SPECIALTY_STRENGTH = _P["specialty_strength"]
_SPOILAGE_SCALE = _P["spoilage_scale"]
_TURNOVER = _P["turnover"]
_SPEED = _P["arbitrage_speed"]
_ROUNDS = _P["arbitrage_rounds"]
_INFO_LAG = _P["info_lag"]
_NOISE = _P["production_noise"]
_SEASONAL = _P["seasonal_amplitude"]
_FLOOD_WEEKS = _P["flood_weeks"]
_FLOOD_LOSS = _P["flood_loss"]
_CAPITAL_PDS = _P["capital_pds"]
_REINVEST = _P["reinvest"]
_RECOVERY = _P["capital_recovery"]
_ACTIVE_SHARE = _P["active_trade_share"]
_LINKED_SHARE = _P["linked_share"]
_INTEGRATION_THRESHOLD = _P["integration_threshold"]
_WINDOW_SHARE = _P["window_share"]
# goods table columns (kernels.goods.GOOD_COLUMNS)
_G_DEMAND, _G_IMPORT, _G_EXPORT, _G_SPOIL, _G_STAPLE = range(5)


@dataclass(frozen=True)
class Simulation:
    """outcomes: float64 (len(OUTCOMES),); series: float64 (n_samples, 1 + len(SERIES)), the
    first column being the step (1-based) at which the row was sampled; ledger: float64
    (len(LEDGER),), the run's goods balance in units of one week of mean regional demand;
    prices: float64 (N, K), each unit's log price of each good after the last week."""

    outcomes: np.ndarray
    series: np.ndarray
    ledger: np.ndarray
    prices: np.ndarray


@dataclass(frozen=True)
class Landscape:
    """What a run draws before its first week: demand and base production per unit and good,
    and each unit's rank for phone coverage (lower ranks get phones first)."""

    demand: np.ndarray  # float64 (N, K): weekly demand at reference price 1
    base: np.ndarray  # float64 (N, K): mean weekly production
    phone_rank: np.ndarray  # float64 (N,)


def draw_landscape(
    network: Network,
    goods: np.ndarray,
    specialization: float,
    rng: np.random.Generator,
    specialty_strength: float = 1.0,
) -> Landscape:
    """Demand scales with population and each good's spending weight. Production is
    population x the network's specialty factor to the power ``specialty_strength`` (0: no
    specialties) x a log-normal factor (log-sd ``specialization``, mean one), scaled so that
    national output is demand less imports plus exports, with a floor of PRODUCTION_FLOOR x
    demand. Phone ranks are uniform, halved for the capital, hubs and border units (merchants
    there get phones first)."""
    n_goods = goods.shape[0]
    pop = network.population[:, None]
    demand = pop * goods[None, :, _G_DEMAND] * n_goods / goods[:, _G_DEMAND].sum()
    z = rng.standard_normal((network.n_nodes, n_goods))
    raw = (
        pop
        * network.specialty[:, :n_goods] ** specialty_strength
        * np.exp(specialization * z - 0.5 * specialization**2)
    )
    target = demand.sum(axis=0) * np.maximum(1.0 - goods[:, _G_IMPORT] + goods[:, _G_EXPORT], 0.0)
    base = np.maximum(raw * target / raw.sum(axis=0), PRODUCTION_FLOOR * demand)
    rank = rng.random(network.n_nodes) * np.where(network.tier > 0, 0.5, 1.0)
    return Landscape(
        np.ascontiguousarray(demand), np.ascontiguousarray(base), np.ascontiguousarray(rank)
    )


@njit(cache=True, nogil=True, error_model="numpy")
def window_start(n_steps: int, window_share: float) -> int:
    """First step of the final window (at least one step) over which outcomes are averaged."""
    return n_steps - max(1, int(window_share * n_steps + 0.5))


@njit(cache=True, nogil=True, error_model="numpy")
def weeks_needed(window: int, share: float) -> int:
    """Trading weeks out of ``window`` that make an edge active: ceil(share * window), robust to
    float error (0.07 * 100 counts as 7)."""
    return int(np.ceil(share * window - THRESHOLD_TOLERANCE))


@njit(cache=True, nogil=True, error_model="numpy")
def season(t: int, amplitude: float) -> float:
    """Staple production factor of week t (week 0 = 1 January): peaks in October."""
    return 1.0 + amplitude * np.cos(2.0 * np.pi * (t - SEASON_PEAK_WEEK) / 52.0)


def n_samples(n_steps: int, sample_every: int) -> int:
    return n_steps // sample_every


class Stopped(RuntimeError):
    """The run was told to stop (its ``stop`` flag was raised) before it finished."""


def simulate(
    network: Network,
    params: np.ndarray,
    seed: int,
    n_goods: int,
    n_steps: int,
    sample_every: int,
    stop: np.ndarray | None = None,
    events: np.ndarray | None = None,
) -> Simulation:
    """Run one simulation. ``params`` is float64 (len(PARAMS),); ``seed`` a non-negative int;
    ``events`` float64 (M, 4) rows (week, code, value, over), sorted by week.

    Deterministic given its arguments: the landscape comes from a ``numpy.random.Generator``
    seeded with ``seed``, and every weekly shock from counter-based draws keyed by that
    generator's next word (kernels.draws). ``stop``, a uint8 (1,) array, is read once
    a week: another thread setting it to 1 ends the run early with :class:`Stopped` (the kernel
    releases the GIL, so a watchdog can enforce a time budget).
    """
    params = np.ascontiguousarray(params, dtype=np.float64)
    if params.shape != (len(PARAMS),):
        raise ValueError(f"params must have shape ({len(PARAMS)},), got {params.shape}")
    events = NO_EVENTS if events is None else np.ascontiguousarray(events, dtype=np.float64)
    goods = table(n_goods)
    rng = np.random.default_rng(seed)
    land = draw_landscape(network, goods, params[_SPECIALIZATION], rng, params[_SPECIALTY_STRENGTH])
    key = draws.run_key(rng)
    outcomes = np.full(len(OUTCOMES), np.nan)  # filled only by a run that ends
    series = np.empty((n_samples(n_steps, sample_every), 1 + N_SERIES), dtype=np.float64)
    ledger = np.zeros(N_LEDGER)
    prices = np.zeros((network.n_nodes, n_goods))
    _simulate(
        network.edge_u,
        network.edge_v,
        network.edge_km,
        network.edge_mode,
        network.edge_permit,
        network.population,
        network.province,
        network.tier,
        network.import_weight,
        network.remote,
        network.trio,
        goods,
        land.demand,
        land.base,
        land.phone_rank,
        params.copy(),
        events,
        n_steps,
        sample_every,
        key,
        NORMAL_TABLE,
        np.zeros(1, dtype=np.uint8) if stop is None else stop,
        outcomes,
        series,
        ledger,
        prices,
    )
    if stop is not None and stop[0] and not np.isfinite(outcomes).all():
        raise Stopped("stopped before the end of the run")
    return Simulation(outcomes, series, ledger, prices)


@njit(cache=True, nogil=True, error_model="numpy")
def _find(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@njit(cache=True, nogil=True, error_model="numpy")
def component_roots(
    n: int, edge_u: np.ndarray, edge_v: np.ndarray, active: np.ndarray
) -> np.ndarray:
    """Union-find root of each node in the graph of active edges (active: bool (E,))."""
    parent = np.arange(n)
    for e in range(edge_u.shape[0]):
        if active[e]:
            a = _find(parent, edge_u[e])
            b = _find(parent, edge_v[e])
            if a != b:
                if a < b:
                    parent[b] = a
                else:
                    parent[a] = b
    for i in range(n):
        parent[i] = _find(parent, i)
    return parent


@njit(cache=True, nogil=True, error_model="numpy")
def largest_component(
    n: int, edge_u: np.ndarray, edge_v: np.ndarray, active: np.ndarray, weight: np.ndarray
) -> tuple[float, int]:
    """(weight share, root) of the heaviest component of the graph of active edges; ties go to
    the component with the smallest root. weight: float64 (N,), positive."""
    return heaviest(component_roots(n, edge_u, edge_v, active), weight)


@njit(cache=True, nogil=True, error_model="numpy")
def heaviest(roots: np.ndarray, weight: np.ndarray) -> tuple[float, int]:
    """(weight share, root) of the heaviest component given each node's root."""
    n = roots.shape[0]
    mass = np.zeros(n)
    for i in range(n):
        mass[roots[i]] += weight[i]
    best = 0
    for i in range(n):
        if mass[i] > mass[best] + 1e-12:
            best = i
    return mass[best] / weight.sum(), best


@njit(cache=True, nogil=True, error_model="numpy")
def largest_component_share(
    n: int, edge_u: np.ndarray, edge_v: np.ndarray, active: np.ndarray
) -> float:
    """Node share of the largest component of the graph of active edges (active: bool (E,))."""
    return largest_component(n, edge_u, edge_v, active, np.ones(n))[0]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _find_in(parent: np.ndarray, k: int, i: int) -> int:
    while parent[k, i] != i:
        parent[k, i] = parent[k, parent[k, i]]
        i = parent[k, i]
    return i


@njit(cache=True, nogil=True, error_model="numpy")
def mean_component_share(
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    active: np.ndarray,
    weight: np.ndarray,
    parent: np.ndarray,
    mass: np.ndarray,
) -> float:
    """The weight share of the heaviest component of each good's graph of active edges
    (active: bool (E, K)), averaged over goods; the same numbers as ``largest_component`` good
    by good, in one pass over the links. parent: int64 (K, N) and mass: float64 (N,) are
    scratch."""
    k_goods, n = parent.shape
    for k in range(k_goods):
        for i in range(n):
            parent[k, i] = i
    for e in range(edge_u.shape[0]):
        u = edge_u[e]
        v = edge_v[e]
        for k in range(k_goods):
            if active[e, k]:
                a = _find_in(parent, k, u)
                b = _find_in(parent, k, v)
                if a < b:  # the smaller index is the root: roots do not depend on the order
                    parent[k, b] = a
                elif b < a:
                    parent[k, a] = b
    total = weight.sum()
    shares = 0.0
    for k in range(k_goods):
        for i in range(n):
            mass[i] = 0.0
        for i in range(n):  # parent[i] <= i, so in this order each parent is already a root
            parent[k, i] = parent[k, parent[k, i]]
            mass[parent[k, i]] += weight[i]
        best = 0
        for i in range(n):
            if mass[i] > mass[best] + 1e-12:
                best = i
        shares += mass[best] / total
    return shares / k_goods


@njit(cache=True, nogil=True, error_model="numpy")
def gini(values: np.ndarray, weight: np.ndarray) -> float:
    """Weighted Gini coefficient of non-negative values (0 equal, towards 1 unequal)."""
    order = np.argsort(values)
    total_w = weight.sum()
    total_v = (values * weight).sum()
    if total_v <= 0.0:
        return 0.0
    cum_w = 0.0
    cum_v = 0.0
    area = 0.0
    for j in range(values.shape[0]):
        i = order[j]
        w = weight[i] / total_w
        v = values[i] * weight[i] / total_v
        area += w * (2.0 * cum_v + v)
        cum_w += w
        cum_v += v
    return 1.0 - area


@njit(cache=True, nogil=True, error_model="numpy")
def spatial_correlation(
    log_p: np.ndarray, prev_log_p: np.ndarray, edge_u: np.ndarray, edge_v: np.ndarray
) -> float:
    """Moran's I of the week's log-price changes over the links (binary, symmetric weights),
    averaged over goods: I_k = (N / E) sum_e z_u z_v / sum_i z_i^2 with z the change less its
    mean across units; a good whose changes are all equal counts 0."""
    n, k_goods = log_p.shape
    n_edges = edge_u.shape[0]
    if n_edges == 0:
        return 0.0
    z = np.empty((n, k_goods))
    squares = np.empty(k_goods)
    cross = np.zeros(k_goods)
    for k in range(k_goods):
        mean = 0.0
        for i in range(n):
            z[i, k] = log_p[i, k] - prev_log_p[i, k]
            mean += z[i, k]
        mean /= n
        sum_squares = 0.0
        for i in range(n):
            z[i, k] -= mean
            sum_squares += z[i, k] * z[i, k]
        squares[k] = sum_squares
    for e in range(n_edges):  # the goods' sums advance side by side
        u = edge_u[e]
        v = edge_v[e]
        for k in range(k_goods):
            cross[k] += z[u, k] * z[v, k]
    total = 0.0
    for k in range(k_goods):
        if squares[k] > SPATIAL_FLOOR:
            total += n / n_edges * cross[k] / squares[k]
    return total / k_goods


@njit(cache=True, nogil=True, error_model="numpy")
def _edge_terms(params, edge_km, edge_mode, edge_permit, cost, transport, keep, delay):
    """Per-edge cost (log-price units); the yardstick of price links: the link's transport
    cost before transport investment, so that one ruler measures integration under every
    policy; share arriving (not confiscated) and whole weeks in transit (0: the shipment
    arrives within the week it is sent)."""
    invest = 1.0 - params[_INVESTMENT]
    seized = params[_CRACKDOWN] * params[_CONFISCATION]
    for e in range(edge_km.shape[0]):
        rail = edge_mode[e] == RAIL
        per_km = params[_RAIL_COST] if rail else params[_ROAD_COST]
        days = params[_RAIL_DAYS] if rail else params[_ROAD_DAYS]
        transport[e] = per_km * edge_km[e] / 100.0
        cost[e] = (
            invest * transport[e]
            + params[_STRICTNESS] * params[_PERMIT_COST] * edge_permit[e]
            - np.log(1.0 - seized)
        )
        keep[e] = 1.0 - seized
        weeks = int(np.floor(days * edge_km[e] / 100.0 / 7.0 + 1e-9))
        delay[e] = min(weeks, MAX_DELAY)


@njit(cache=True, nogil=True, error_model="numpy")
def _simulate(
    edge_u,
    edge_v,
    edge_km,
    edge_mode,
    edge_permit,
    population,
    province,
    tier,
    import_weight,
    remote,
    trio,
    goods,
    demand,
    base,
    phone_rank,
    params,
    events,
    n_steps,
    sample_every,
    key,
    normal_table,
    stop,
    outcomes,
    series,
    ledger,
    prices,
):
    """Fill ``outcomes``, ``series``, ``ledger`` and ``prices``; ``params`` is modified by
    events.

    Arrays as in :class:`Network`, plus goods (K, 5), demand and base (N, K), phone_rank (N,),
    events (M, 4); key: uint64, the run's key for counter-based draws; normal_table: float64
    standard-normal quantiles (kernels.draws.normal_table); stop: uint8 (1,), checked every
    week: non-zero returns at once (outputs incomplete).
    """
    n, k_goods = demand.shape
    n_edges = edge_u.shape[0]
    n_prov = province.max() + 1
    capital_node = trio[0]
    ring = MAX_DELAY + 1
    memory = MAX_LAG + 1

    # fixed quantities
    demand_total = np.zeros(k_goods)
    cap_scale = np.zeros(k_goods)
    for k in range(k_goods):
        demand_total[k] = demand[:, k].sum()
        cap_scale[k] = demand_total[k] / n
    value_scale = np.zeros(n)  # a unit's weekly spending at reference prices
    for i in range(n):
        value_scale[i] = demand[i].sum()
    staple = goods[:, _G_STAPLE] > 0.5
    n_remote = remote.sum()
    remote_weight = remote.astype(np.float64)
    hub = (tier == HUB) | (tier == CAPITAL)  # the major hubs (Network.hubs)
    hub[trio[1]] = True
    n_hubs = hub.sum()

    # state
    stock = base.copy()  # a week of production on the shelves
    state_stock = np.zeros(k_goods)  # filled in week 0, after that week's events
    arrivals = np.zeros((ring, n, k_goods))
    incoming = np.zeros((n, k_goods))  # goods in transit to each unit
    history = np.zeros((memory, n, k_goods))
    wealth = np.ones(n)
    flood_left = np.zeros(n, dtype=np.int64)
    harvest = np.ones((n, k_goods))
    ev_start = np.zeros(events.shape[0])

    # per-week work arrays
    cost = np.empty(n_edges)
    transport = np.empty(n_edges)
    linked = np.empty((n_edges, k_goods), dtype=np.bool_)
    linked_steps = np.zeros((n_edges, k_goods), dtype=np.int64)
    keep = np.empty(n_edges)
    delay = np.empty(n_edges, dtype=np.int64)
    phone = np.empty(n, dtype=np.bool_)
    is_open = np.empty(n_edges, dtype=np.bool_)
    log_p = np.empty((n, k_goods))
    prev_log_p = np.zeros((n, k_goods))  # last week's prices, kept before a sampled week
    log_market_demand = np.empty((n, k_goods))
    price = np.empty((n, k_goods))
    log_turnover = 0.0
    room = np.empty((n, k_goods))  # what a unit may still ship this week
    rations = np.zeros((n, k_goods))
    consumed = np.empty((n, k_goods))
    inflow_value = np.empty(n)
    profit = np.empty(n)
    traded_week = np.full((n_edges, k_goods), -1, dtype=np.int64)  # last week of trade (-1: none)
    active_steps = np.zeros((n_edges, k_goods), dtype=np.int64)
    welfare = np.empty(n)
    sum_lp = np.empty(k_goods)
    sum_lp2 = np.empty(k_goods)
    sum_p = np.empty(k_goods)
    sum_p2 = np.empty(k_goods)
    sum_remote = np.empty(k_goods)
    sum_pop_lp = np.empty(k_goods)
    cap_round = np.empty(k_goods)  # traders' capital per pass, before the source's wealth
    supply = np.empty((n, k_goods))  # stock plus goods on the way, during arbitrage
    open_edges = np.empty(n_edges, dtype=np.int64)
    informed_edges = np.empty(n_edges, dtype=np.int64)
    informed_link = np.empty(n_edges, dtype=np.bool_)
    crossing = (edge_permit > 0.0).astype(np.float64)
    node_u = edge_u.astype(np.uint64)
    node_v = edge_v.astype(np.uint64)
    goods_unsigned = np.uint64(k_goods)
    n_cells = n * k_goods
    log_scratch = np.empty(n_cells)
    supply_flat = supply.reshape(n_cells)
    inv_supply = np.empty((n, k_goods))
    inv_supply_flat = inv_supply.reshape(n_cells)
    stock_flat = stock.reshape(n_cells)
    incoming_flat = incoming.reshape(n_cells)
    log_p_flat = log_p.reshape(n_cells)
    log_demand_flat = log_market_demand.reshape(n_cells)
    price_flat = price.reshape(n_cells)
    arrivals_flat = arrivals.reshape(ring, n_cells)
    in_transit_flat = arrivals.reshape(ring * n_cells)
    room_flat = room.reshape(n_cells)
    rations_flat = rations.reshape(n_cells)
    traded_week_flat = traded_week.reshape(n_edges * k_goods)
    cells_unsigned = np.uint64(n_cells)
    gaps = np.empty(k_goods)
    base_flat = base.reshape(n_cells)
    output = np.empty(n_cells)  # the week's production before staple factors
    room_share = np.empty(k_goods)  # share of a stock a unit may ship out in a week
    last_share = np.full(k_goods, np.nan)  # the PDS's last ration share, per good
    last_pds = np.nan
    last_capital_level = np.nan
    gap_i = np.empty(n)
    parent = np.empty((k_goods, n), dtype=np.int64)  # union-find scratch
    mass = np.empty(n)
    welfare_sum = np.zeros(n)
    province_z = np.empty(n_prov)
    noise_factor = np.empty(normal_table.shape[0])  # log-normal production noise, mean one
    noise_level = -1.0

    stock_start = stock.sum()
    state_start = 0.0
    first = window_start(n_steps, params[_WINDOW_SHARE])
    sums = np.zeros(12)
    reached = -1.0
    row = 0
    dirty = True
    for t in range(n_steps):
        if stop[0]:
            return
        for i in range(n):  # a flood lasts flood_weeks weeks from the week it strikes
            if flood_left[i] > 0:
                flood_left[i] -= 1
        # 1. events
        for m in range(events.shape[0]):
            week = int(events[m, 0])
            code = int(events[m, 1])
            if code >= 0:
                over = max(int(events[m, 3]), 1)
                if t == week:
                    ev_start[m] = params[code]
                if week <= t < week + over:
                    params[code] = (
                        ev_start[m] + (events[m, 2] - ev_start[m]) * (t - week + 1) / over
                    )
                    dirty = True
            elif t == week and code == EVENT_FLOOD:
                _flood(int(events[m, 2]), stock, flood_left, staple, params, ledger)
            elif t == week and code == EVENT_CAPITAL_LOSS:
                for i in range(n):
                    wealth[i] *= 1.0 - events[m, 2]
        if t == 0:  # the state's PDS stock: INITIAL_STATE_WEEKS of the week-0 rations
            for k in range(k_goods):
                if staple[k]:
                    cap_d = demand[capital_node, k]
                    level = max(params[_PDS], params[_CAPITAL_PDS])
                    need = params[_PDS] * (demand_total[k] - cap_d) + level * cap_d
                    state_stock[k] = INITIAL_STATE_WEEKS * need
            state_start = state_stock.sum()
        if dirty:
            _edge_terms(params, edge_km, edge_mode, edge_permit, cost, transport, keep, delay)
            for i in range(n):
                phone[i] = phone_rank[i] < params[_PHONES]
            dirty = False
        elasticity = params[_ELASTICITY]
        turnover = params[_TURNOVER] * (1.0 - params[_BAN])
        log_turnover = np.log(turnover)
        pds = params[_PDS]

        # 2. arrivals
        slot = t % ring
        for j in range(n_cells):
            arriving = arrivals_flat[slot, j]
            stock_flat[j] += arriving
            incoming_flat[j] -= arriving
            arrivals_flat[slot, j] = 0.0

        # 3. production
        if t == 0 or t % 52 == HARVEST_WEEK:
            sd = params[_HARVEST_SD]
            rho = params[_HARVEST_CORR]
            key_province = draws.week_key(key, draws.HARVEST_PROVINCE, t)
            key_local = draws.week_key(key, draws.HARVEST_LOCAL, t)
            for g in range(n_prov):
                province_z[g] = draws.normal(key_province, g)
            for i in range(n):
                for k in range(k_goods):
                    if staple[k]:
                        z = np.sqrt(rho) * province_z[province[i]] + np.sqrt(1.0 - rho) * (
                            draws.normal(key_local, i * k_goods + k)
                        )
                        harvest[i, k] = np.exp(sd * z - 0.5 * sd * sd)
        for m in range(events.shape[0]):  # after any redraw, so it cuts this year's harvest
            if int(events[m, 0]) == t and int(events[m, 1]) == EVENT_HARVEST:
                for i in range(n):
                    for k in range(k_goods):
                        if staple[k]:
                            harvest[i, k] *= events[m, 2]
        if params[_NOISE] != noise_level:
            noise_level = params[_NOISE]
            total = 0.0
            for j in range(noise_factor.shape[0]):
                noise_factor[j] = np.exp(noise_level * normal_table[j])
                total += noise_factor[j]
            for j in range(noise_factor.shape[0]):
                noise_factor[j] *= noise_factor.shape[0] / total
        grow = season(t, params[_SEASONAL])
        key_production = draws.week_key(key, draws.PRODUCTION, t)
        for j in range(n_cells):  # the draws vectorise apart from the staples' branches
            output[j] = base_flat[j] * noise_factor[draws.table_index(key_production, j)]
        procurement = min(pds, MAX_PROCUREMENT)
        flood_keep = 1.0 - params[_FLOOD_LOSS]
        produced = ledger[0]
        for i in range(n):
            for k in range(k_goods):
                y = output[i * k_goods + k]
                if staple[k]:
                    y *= grow * harvest[i, k]
                    if flood_left[i] > 0:
                        y *= flood_keep
                    procured = procurement * y
                    state_stock[k] += procured
                    stock[i, k] += y - procured
                else:
                    stock[i, k] += y
                produced += y
        ledger[0] = produced

        # 4. floods
        key_flood = draws.week_key(key, draws.FLOOD, t)
        if draws.uniform(key_flood, 0) < params[_FLOOD_RATE]:
            _flood(int(draws.uniform(key_flood, 1) * n), stock, flood_left, staple, params, ledger)

        # 5. China trade
        china = params[_CHINA]
        for k in range(k_goods):
            imported = china * goods[k, _G_IMPORT] * demand_total[k]
            if imported > 0.0:
                to_state = params[_STATE_IMPORTS] * imported
                stock[capital_node, k] += to_state
                for i in range(n):
                    stock[i, k] += (imported - to_state) * import_weight[i]
                ledger[1] += imported
            wanted = china * goods[k, _G_EXPORT] * demand_total[k]
            if wanted > 0.0:
                exported = ledger[3]
                for i in range(n):
                    if import_weight[i] > 0.0:
                        x = min(wanted * import_weight[i], MAX_OUTFLOW_SHARE * stock[i, k])
                        stock[i, k] -= x
                        exported += x
                ledger[3] = exported

        # 6. PDS rations (the capital is served at capital_pds at least); a good's rations and
        # market demand are recomputed only when its ration share or the levels change
        capital_level = max(pds, params[_CAPITAL_PDS])
        levels_changed = pds != last_pds or capital_level != last_capital_level
        last_pds = pds
        last_capital_level = capital_level
        for k in range(k_goods):
            share = 0.0
            if staple[k]:
                cap_d = demand[capital_node, k]
                need = pds * (demand_total[k] - cap_d) + capital_level * cap_d
                if need > 0.0:
                    share = min(1.0, state_stock[k] / need)
                    state_stock[k] -= share * need
            if not levels_changed and share == last_share[k]:
                continue
            last_share[k] = share
            for i in range(n):
                level = capital_level if i == capital_node else pds
                rations[i, k] = share * level * demand[i, k]
                if staple[k] or t == 0:  # other goods' demand never changes
                    rest = max(demand[i, k] - rations[i, k], DEMAND_FLOOR * demand[i, k])
                    log_market_demand[i, k] = np.log(rest)

        # 7. spoilage
        for k in range(k_goods):
            rate = goods[k, _G_SPOIL] * params[_SPOILAGE_SCALE]
            if rate > 0.0:
                spoiled = ledger[4]
                for i in range(n):
                    lost = rate * stock[i, k]
                    stock[i, k] -= lost
                    spoiled += lost
                ledger[4] = spoiled

        # 8. outages and floods close links
        outage = params[_OUTAGE] * (1.0 - params[_INVESTMENT])
        key_outage = draws.week_key(key, draws.OUTAGE, t)
        for e in range(n_edges):  # branch-free: the draw is cheaper than a mispredicted branch
            down = (edge_mode[e] == RAIL) & (draws.uniform(key_outage, e) < outage)
            is_open[e] = ~down & (flood_left[node_u[e]] == 0) & (flood_left[node_v[e]] == 0)

        # 9. prices traders expect (stock plus goods on the way), remembered for stale information
        # (flat views of the (N, K) arrays: these loops vectorise)
        mem = t % memory
        for j in range(n_cells):  # the supply the arbitrage then moves
            supply_flat[j] = stock_flat[j] + incoming_flat[j]
        log_into(supply_flat, log_scratch)
        history_now = history[mem].reshape(n_cells)
        for j in range(n_cells):
            log_p_flat[j] = (log_demand_flat[j] - log_turnover - log_scratch[j]) / elasticity
            history_now[j] = log_p_flat[j]
        lag = int(params[_INFO_LAG])
        old = max(t - lag, 0) % memory

        # 10. arbitrage, link by link in a fixed order, arbitrage_rounds passes (Gauss-Seidel):
        # each trade moves the expected prices at both ends, so later trades on the same unit
        # see it (no overshoot), and goods can travel several links in one week
        speed = params[_SPEED]
        rounds = int(params[_ROUNDS])
        inv_elasticity = 1.0 / elasticity
        slow = speed / (1.0 + lag)  # without fresh news a trade is spread until the next news
        for k in range(k_goods):
            cap_round[k] = params[_CAPITAL] * cap_scale[k] / rounds
        for k in range(k_goods):
            room_share[k] = MAX_OUTFLOW_SHARE
            if staple[k]:
                room_share[k] *= 1.0 - params[_SELF_RELIANCE]
        for i in range(n):
            inflow_value[i] = 0.0
            profit[i] = 0.0
            for k in range(k_goods):
                room[i, k] = room_share[k] * stock[i, k]
        exp_into(log_p_flat, price_flat)  # shipments are valued at the pre-trade prices
        for j in range(n_cells):  # updated with the supplies: a trade reads, not divides
            inv_supply_flat[j] = 1.0 / supply_flat[j]
        n_open = 0  # open links, and those with fresh news on both ends, in link order
        n_informed = 0
        for e in range(n_edges):
            informed_link[e] = phone[edge_u[e]] and phone[edge_v[e]]
            if is_open[e]:
                open_edges[n_open] = e
                n_open += 1
                if informed_link[e]:
                    informed_edges[n_informed] = e
                    n_informed += 1
        trade_value = 0.0
        crossing_value = 0.0
        confiscated = 0.0
        # (flat (N*K) views and unsigned cell indices: one index serves every array a trade
        # touches, with no negative-index fix-up)
        stale = history[old].reshape(n_cells)
        for r in range(rounds):
            moved = False
            # stale news is acted on once a week: later passes visit informed links only
            for j in range(n_open if r == 0 else n_informed):
                e = open_edges[j] if r == 0 else informed_edges[j]
                u = node_u[e]
                v = node_v[e]
                informed = informed_link[e]
                rate = (speed if informed else slow) * elasticity
                seen = log_p_flat if informed else stale
                link_cost = cost[e]
                link_keep = keep[e]
                crossing_e = crossing[e]
                same_week = delay[e] == 0  # arrives within the week, before the markets clear
                on_way = np.uint64((t + delay[e]) % ring) * cells_unsigned  # arrival week's row
                row_u = u * goods_unsigned
                row_v = v * goods_unsigned
                row_e = np.uint64(e) * goods_unsigned
                # the goods whose gap exceeds the cost, as bits (goods of one link are
                # independent, so their gaps can be read before any of them trades), then
                # those goods only: one hard-to-predict branch per link instead of per good
                wanted = np.uint64(0)
                for k in range(goods_unsigned):
                    gaps[k] = seen[row_v + k] - seen[row_u + k]
                    wanted |= np.uint64(not abs(gaps[k]) - link_cost <= 0.0) << k
                while wanted:
                    k = trailing_zeros(wanted)
                    wanted &= wanted - np.uint64(1)
                    cu = row_u + k
                    cv = row_v + k
                    gap = gaps[k]
                    excess = abs(gap) - link_cost
                    if gap > 0.0:
                        src, dst, cs, cd = u, v, cu, cv
                    else:
                        src, dst, cs, cd = v, u, cv, cu
                    inv_src = inv_supply_flat[cs]
                    inv_dst = inv_supply_flat[cd]
                    x = rate * excess / (inv_src + link_keep * inv_dst)
                    x = min(x, cap_round[k] * wealth[src], room_flat[cs])
                    if x <= 0.0:
                        continue
                    # the margin at the prices as they stand (stale news can mislead); with
                    # fresh news it is the excess itself (a - b == -(b - a) in IEEE arithmetic)
                    margin = excess if informed else log_p_flat[cd] - log_p_flat[cs] - link_cost
                    traded_week_flat[row_e + k] = t
                    moved = True
                    room_flat[cs] -= x
                    stock_flat[cs] -= x
                    supply_flat[cs] -= x
                    inv_supply_flat[cs] = 1.0 / supply_flat[cs]
                    arriving = link_keep * x
                    supply_flat[cd] += arriving
                    inv_supply_flat[cd] = 1.0 / supply_flat[cd]
                    confiscated += x - arriving
                    if same_week:
                        stock_flat[cd] += arriving
                    else:
                        in_transit_flat[on_way + cd] += arriving
                        incoming_flat[cd] += arriving
                    log_p_flat[cs] += x * inv_src * inv_elasticity  # linearised price moves
                    log_p_flat[cd] -= arriving * inv_dst * inv_elasticity
                    value = x * price_flat[cs]
                    trade_value += value
                    crossing_value += crossing_e * value
                    inflow_value[dst] += value
                    profit[src] += value * margin
            if not moved:
                break  # a pass without trade leaves the state as it was: so would the next
        ledger[5] += confiscated

        # 11. traders' capital
        for i in range(n):
            w = wealth[i] + params[_RECOVERY] * (1.0 - wealth[i])
            w += params[_REINVEST] * profit[i] / value_scale[i]
            wealth[i] = min(max(w, 0.0), WEALTH_MAX)

        # 12. local clearing: each market sells turnover x its stock; the clearing prices feed
        # only the outputs, so they are computed in weeks whose outputs are kept (averaged,
        # sampled, the week before a sample, and the last week: the run's final prices)
        market_value = 0.0
        ration_value = 0.0
        n_marginal = 0
        used = ledger[2]
        counted = t >= first
        sampled = (t + 1) % sample_every == 0 and row < series.shape[0]
        before_sample = (t + 2) % sample_every == 0  # its prices are the next sample's baseline
        if counted or sampled or before_sample or t == n_steps - 1:
            log_into(stock_flat, log_scratch)
            for j in range(n_cells):
                log_p_flat[j] = (log_demand_flat[j] - log_turnover - log_scratch[j]) / elasticity
            exp_into(log_p_flat, price_flat)
            for i in range(n):
                market_i = 0.0
                for k in range(k_goods):
                    sold = turnover * stock[i, k]
                    p_ik = price[i, k]
                    market_i += sold * p_ik
                    ration_value += rations[i, k] * p_ik
                    stock[i, k] -= sold
                    consumed[i, k] = sold + rations[i, k]
                    used += consumed[i, k]
                market_value += market_i
                if inflow_value[i] < MARGINAL_INFLOW * market_i:
                    n_marginal += 1
        else:
            for j in range(n_cells):
                sold = turnover * stock_flat[j]
                stock_flat[j] -= sold
                used += sold + rations_flat[j]
        ledger[2] = used
        marginal = n_marginal / n

        # 13. outputs of the week, in weeks that are averaged or sampled: one pass over units
        # for the per-good sums, one over links
        spatial = 0.0
        if sampled and t > 0:
            spatial = spatial_correlation(log_p, prev_log_p, edge_u, edge_v)
        if before_sample:
            for i in range(n):
                for k in range(k_goods):
                    prev_log_p[i, k] = log_p[i, k]
        if not (counted or sampled):
            continue
        for i in range(n):
            welfare[i] = 0.0
            gap_i[i] = 0.0
        for k in range(k_goods):  # good by good, the sums stay in registers
            s_lp = 0.0
            s_lp2 = 0.0
            s_p = 0.0
            s_p2 = 0.0
            s_remote = 0.0
            s_pop_lp = 0.0
            weight_k = goods[k, _G_DEMAND]
            for i in range(n):
                x = log_p[i, k]
                p_ik = price[i, k]
                s_lp += x
                s_lp2 += x * x
                s_p += p_ik
                s_p2 += p_ik * p_ik
                s_pop_lp += population[i] * x
                s_remote += remote_weight[i] * x
                ratio = consumed[i, k] / demand[i, k]
                welfare[i] += weight_k * ratio
                gap_i[i] += weight_k * max(1.0 - ratio, 0.0)
            sum_lp[k] = s_lp
            sum_lp2[k] = s_lp2
            sum_p[k] = s_p
            sum_p2[k] = s_p2
            sum_remote[k] = s_remote
            sum_pop_lp[k] = s_pop_lp
        short = 0.0
        for i in range(n):
            short += population[i] * gap_i[i]
        weights = goods[:, _G_DEMAND].sum()
        short /= population.sum() * weights
        dispersion = 0.0
        cv = 0.0
        premium = 0.0
        level = 0.0
        for k in range(k_goods):
            mean = sum_lp[k] / n
            dispersion += np.sqrt(max(sum_lp2[k] / n - mean * mean, 0.0))
            p_mean = sum_p[k] / n
            cv += np.sqrt(max(sum_p2[k] / n - p_mean * p_mean, 0.0)) / p_mean
            if n_remote > 0:
                premium += goods[k, _G_DEMAND] * (sum_remote[k] / n_remote - log_p[capital_node, k])
            level += goods[k, _G_DEMAND] * sum_pop_lp[k] / n  # population has mean one
        dispersion /= k_goods
        cv /= k_goods
        premium /= weights
        level /= weights
        trio_mean = (log_p[trio[0], 0] + log_p[trio[1], 0] + log_p[trio[2], 0]) / 3.0
        trio_sd = 0.0
        for j in range(3):
            d = log_p[trio[j], 0] - trio_mean
            trio_sd += d * d
        trio_sd = np.sqrt(trio_sd / 3.0)
        within = 0
        pairs = 0
        for e in range(n_edges):  # branch-free: these flags are unpredictable
            band = transport[e] + BAND_SLACK
            bound = cost[e] + BAND_SLACK
            open_e = is_open[e]
            u = node_u[e]
            v = node_v[e]
            for k in range(k_goods):
                gap = abs(log_p[v, k] - log_p[u, k])
                linked[e, k] = (gap <= band) & (traded_week[e, k] >= 0)
                within += open_e & (gap <= bound)
            pairs += k_goods * open_e
        compliance = within / pairs if pairs > 0 else 1.0
        share = trade_value / (trade_value + market_value)
        income_share = market_value / (market_value + ration_value)
        if counted:
            sums[0] += dispersion
            sums[1] += cv
            sums[2] += share
            sums[3] += compliance
            sums[4] += short
            sums[5] += premium
            sums[6] += trio_sd
            sums[7] += income_share
            sums[8] += marginal
            sums[9] += crossing_value / trade_value if trade_value > 0.0 else 0.0
            for i in range(n):
                welfare_sum[i] += welfare[i]
            for e in range(n_edges):
                for k in range(k_goods):
                    active_steps[e, k] += traded_week[e, k] == t
                    linked_steps[e, k] += linked[e, k]
        if sampled:
            lcc = mean_component_share(edge_u, edge_v, linked, population, parent, mass)
            if reached < 0.0 and lcc >= params[_INTEGRATION_THRESHOLD] - THRESHOLD_TOLERANCE:
                reached = t + 1.0
            series[row, 0] = t + 1
            series[row, 1] = dispersion
            series[row, 2] = share
            series[row, 3] = compliance
            series[row, 4] = lcc
            series[row, 5] = short
            series[row, 6] = premium
            series[row, 7] = trio_sd
            series[row, 8] = gini(welfare, population)
            series[row, 9] = level
            series[row, 10] = spatial
            row += 1

    for i in range(n):
        for k in range(k_goods):
            prices[i, k] = log_p[i, k]
    # the run's goods balance
    in_transit = 0.0
    for s in range(ring):
        for i in range(n):
            for k in range(k_goods):
                in_transit += arrivals[s, i, k]
    ledger[7] = stock.sum() - stock_start
    ledger[8] = in_transit
    ledger[9] = state_stock.sum() - state_start
    for j in range(N_LEDGER):
        ledger[j] /= cap_scale.mean()

    window = n_steps - first
    outcomes[0] = sums[0] / window
    outcomes[1] = sums[1] / window
    outcomes[2] = sums[2] / window
    outcomes[3] = sums[3] / window
    outcomes[4] = sums[4] / window
    outcomes[5] = sums[5] / window
    outcomes[6] = sums[6] / window
    outcomes[7] = gini(welfare_sum, population)
    outcomes[8] = sums[7] / window
    outcomes[9] = sums[8] / window
    outcomes[10] = sums[9] / window
    need_trade = weeks_needed(window, params[_ACTIVE_SHARE])
    need_linked = weeks_needed(window, params[_LINKED_SHARE])
    active = np.empty(n_edges, dtype=np.bool_)
    index = 0.0
    hubs_in = 0.0
    for k in range(k_goods):
        for e in range(n_edges):  # prices within transport costs, and the link was used
            active[e] = linked_steps[e, k] >= need_linked and active_steps[e, k] > 0
        index += largest_component(n, edge_u, edge_v, active, population)[0]
        for e in range(n_edges):
            active[e] = active_steps[e, k] >= need_trade
        roots = component_roots(n, edge_u, edge_v, active)
        root = heaviest(roots, population)[1]
        count = 0
        for i in range(n):
            if hub[i] and roots[i] == root:
                count += 1
        hubs_in += count / n_hubs if n_hubs > 0 else 0.0
    index /= k_goods
    outcomes[11] = hubs_in / k_goods
    outcomes[12] = reached
    outcomes[13] = index
    outcomes[14] = 1.0 if index >= params[_INTEGRATION_THRESHOLD] - THRESHOLD_TOLERANCE else 0.0


@njit(cache=True, nogil=True, error_model="numpy")
def _flood(node, stock, flood_left, staple, params, ledger):
    """Unit ``node`` floods: it loses flood_loss of its staple stocks; for flood_weeks its links
    close and it loses flood_loss of its staple output."""
    flood_left[node] = max(flood_left[node], int(params[_FLOOD_WEEKS]))
    for k in range(stock.shape[1]):
        if staple[k]:
            lost = params[_FLOOD_LOSS] * stock[node, k]
            stock[node, k] -= lost
            ledger[6] += lost


__all__ = [
    "EVENT_CAPITAL_LOSS",
    "EVENT_FLOOD",
    "EVENT_HARVEST",
    "FLAG_OUTCOMES",
    "GOODS",
    "LEDGER",
    "MODEL_VERSION",
    "OUTCOMES",
    "PARAMS",
    "SERIES",
    "Simulation",
    "Stopped",
    "simulate",
]

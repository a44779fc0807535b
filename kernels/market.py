"""The network market kernel: local market clearing plus hop-by-hop arbitrage between regions.

Public surface (what the pipeline relies on, so a richer model can replace the body):
  MODEL_VERSION  changes whenever results for the same inputs could change
  PARAMS     names of the scalar parameters, in the order of the ``params`` vector
  OUTCOMES   names of the per-run outcomes, in the order of the outcome vector
  FLAG_OUTCOMES  outcomes that are 0/1 flags (stored as booleans)
  SERIES     names of the sampled per-step series (after the ``step`` column)
  simulate(network, params, seed, n_goods, n_steps, sample_every) -> Simulation

One step (a week), for regions i, goods k and undirected edges e = (u, v):
  1. harvest      stock[i,k] += base[i,k] * exp(harvest_sd * z - harvest_sd**2 / 2),  z ~ N(0, 1)
  2. outages      edge e is closed this step with probability outage_rate
  3. prices       log p[i,k] = (log demand[i,k] - log(turnover * stock[i,k])) / elasticity
  4. arbitrage    on an open edge, if |log p_v - log p_u| exceeds the edge cost
                  c_e = transport_cost * km_e / 100 + permit_strictness * permit_cost,
                  traders ship x = speed * elasticity * (|gap| - c_e) / (1/S_src + e^-c_e / S_dst)
                  from the cheap to the dear end (the linearised amount that closes the gap to the
                  band), at most trader_capital * mean weekly production of the good; a region
                  ships out at most MAX_OUTFLOW_SHARE of its stock, flows are scaled down to fit;
                  an iceberg share 1 - e^-c_e of each shipment is lost on the way
  5. clearing     the region sells turnover * stock at the price that clears local demand
                  (stocks start at the no-trade steady state, base * (1 - turnover) / turnover)
  6. outcomes     dispersion of log prices, interregional trade as a share of all market value
                  (shipments + local sales), band compliance and the
                  largest connected component of each good's active-trade graph (mean over goods)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .network import Network

# Changes whenever the same parameters and seed could give different numbers; part of every
# run's id, so runs of different model versions are never mixed in one dataset.
MODEL_VERSION = "spine-2"

PARAMS = (
    "permit_strictness",
    "transport_cost",
    "trader_capital",
    "harvest_sd",
    "outage_rate",
    "permit_cost",
    "demand_elasticity",
    "specialization",
    "turnover",
    "arbitrage_speed",
    "active_trade_share",
    "integration_threshold",
    "window_share",
)
OUTCOMES = (
    "price_dispersion",
    "price_cv",
    "trade_share",
    "band_compliance",
    "integration_index",
    "integrated",
)
FLAG_OUTCOMES = frozenset({"integrated"})
SERIES = ("price_dispersion", "trade_share", "band_compliance", "lcc_share")

MAX_OUTFLOW_SHARE = 0.5
BAND_TOLERANCE = 1e-9
THRESHOLD_TOLERANCE = 1e-9

_PERMIT_STRICTNESS = PARAMS.index("permit_strictness")
_TRANSPORT_COST = PARAMS.index("transport_cost")
_TRADER_CAPITAL = PARAMS.index("trader_capital")
_HARVEST_SD = PARAMS.index("harvest_sd")
_OUTAGE_RATE = PARAMS.index("outage_rate")
_PERMIT_COST = PARAMS.index("permit_cost")
_ELASTICITY = PARAMS.index("demand_elasticity")
_TURNOVER = PARAMS.index("turnover")
_SPEED = PARAMS.index("arbitrage_speed")
_ACTIVE_SHARE = PARAMS.index("active_trade_share")
_INTEGRATION_THRESHOLD = PARAMS.index("integration_threshold")
_WINDOW_SHARE = PARAMS.index("window_share")


@dataclass(frozen=True)
class Simulation:
    """outcomes: float64 (len(OUTCOMES),); series: float64 (n_samples, 1 + len(SERIES)), the first
    column being the step number (1-based) at which the row was sampled."""

    outcomes: np.ndarray
    series: np.ndarray


def draw_landscape(
    population: np.ndarray, n_goods: int, specialization: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Log demand and log mean weekly production per region and good.

    Demand scales with population; production is population times a log-normal regional
    specialty factor with log-sd ``specialization`` (mean one).
    """
    log_demand = np.repeat(np.log(population)[:, None], n_goods, axis=1)
    z = rng.standard_normal((population.shape[0], n_goods))
    log_base = log_demand + specialization * z - 0.5 * specialization**2
    return np.ascontiguousarray(log_demand), np.ascontiguousarray(log_base)


@njit(cache=True, nogil=True)
def window_start(n_steps: int, window_share: float) -> int:
    """First step of the final window (at least one step) over which outcomes are averaged."""
    return n_steps - max(1, int(window_share * n_steps + 0.5))


@njit(cache=True, nogil=True)
def weeks_needed(window: int, share: float) -> int:
    """Trading weeks out of ``window`` that make an edge active: ceil(share * window), robust to
    float error (0.07 * 100 counts as 7)."""
    return int(np.ceil(share * window - THRESHOLD_TOLERANCE))


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
) -> Simulation:
    """Run one simulation. ``params`` is float64 (len(PARAMS),); ``seed`` a non-negative int.

    Deterministic given its arguments: the landscape and every shock come from one
    ``numpy.random.Generator`` seeded with ``seed``. ``stop``, a uint8 (1,) array, is read once
    a week: another thread setting it to 1 ends the run early with :class:`Stopped` (the kernel
    releases the GIL, so a watchdog can enforce a time budget).
    """
    params = np.ascontiguousarray(params, dtype=np.float64)
    if params.shape != (len(PARAMS),):
        raise ValueError(f"params must have shape ({len(PARAMS)},), got {params.shape}")
    rng = np.random.default_rng(seed)
    log_demand, log_base = draw_landscape(
        network.population, n_goods, params[PARAMS.index("specialization")], rng
    )
    outcomes = np.full(len(OUTCOMES), np.nan)  # filled only by a run that ends
    series = np.empty((n_samples(n_steps, sample_every), 1 + len(SERIES)), dtype=np.float64)
    _simulate(
        network.edge_u,
        network.edge_v,
        network.edge_km,
        network.indptr,
        network.adj_edge,
        log_demand,
        log_base,
        params,
        n_steps,
        sample_every,
        rng,
        np.zeros(1, dtype=np.uint8) if stop is None else stop,
        outcomes,
        series,
    )
    if stop is not None and stop[0] and not np.isfinite(outcomes).all():
        raise Stopped("stopped before the end of the run")
    return Simulation(outcomes, series)


@njit(cache=True, nogil=True)
def _find(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@njit(cache=True, nogil=True)
def largest_component_share(
    n: int, edge_u: np.ndarray, edge_v: np.ndarray, active: np.ndarray
) -> float:
    """Share of the n nodes in the largest component of the graph of active edges.

    edge_u, edge_v: int64 (E,); active: bool (E,).
    """
    parent = np.arange(n)
    size = np.ones(n, dtype=np.int64)
    largest = 1
    for e in range(edge_u.shape[0]):
        if not active[e]:
            continue
        a = _find(parent, edge_u[e])
        b = _find(parent, edge_v[e])
        if a == b:
            continue
        if size[a] < size[b]:
            a, b = b, a
        parent[b] = a
        size[a] += size[b]
        if size[a] > largest:
            largest = size[a]
    return largest / n


@njit(cache=True, nogil=True)
def mean_largest_component_share(
    n: int, edge_u: np.ndarray, edge_v: np.ndarray, active: np.ndarray
) -> float:
    """Largest-component share of each good's active-trade graph, averaged over goods.

    active: bool (E, K), True where edge e carries good k.
    """
    k_goods = active.shape[1]
    total = 0.0
    for k in range(k_goods):
        total += largest_component_share(n, edge_u, edge_v, active[:, k])
    return total / k_goods


@njit(cache=True, nogil=True)
def _simulate(
    edge_u,
    edge_v,
    edge_km,
    indptr,
    adj_edge,
    log_demand,
    log_base,
    params,
    n_steps,
    sample_every,
    rng,
    stop,
    outcomes,
    series,
):
    """Fill ``outcomes`` (float64 (O,)) and ``series`` (float64 (n_steps // sample_every, 1 + S)).

    edge_u, edge_v: int64 (E,); edge_km: float64 (E,); indptr: int64 (N+1,); adj_edge: int64 (2E,);
    log_demand, log_base: float64 (N, K); params: float64 (P,); rng: numpy Generator;
    stop: uint8 (1,), checked every week: non-zero returns at once (outputs incomplete).
    """
    n, k_goods = log_demand.shape
    n_edges = edge_u.shape[0]
    harvest_sd = params[_HARVEST_SD]
    outage_rate = params[_OUTAGE_RATE]
    elasticity = params[_ELASTICITY]
    turnover = params[_TURNOVER]
    speed = params[_SPEED]

    base = np.exp(log_base)
    stock = base * (1.0 - turnover) / turnover  # autarky steady state after clearing
    capacity = np.empty(k_goods)
    for k in range(k_goods):
        capacity[k] = params[_TRADER_CAPITAL] * base[:, k].mean()
    cost = np.empty(n_edges)
    keep = np.empty(n_edges)
    for e in range(n_edges):
        cost[e] = (
            params[_TRANSPORT_COST] * edge_km[e] / 100.0
            + params[_PERMIT_STRICTNESS] * params[_PERMIT_COST]
        )
        keep[e] = np.exp(-cost[e])

    log_p = np.empty((n, k_goods))
    flow = np.zeros((n_edges, k_goods))
    outflow = np.empty((n, k_goods))
    is_open = np.empty(n_edges, dtype=np.bool_)
    traded = np.empty((n_edges, k_goods), dtype=np.bool_)
    active_steps = np.zeros((n_edges, k_goods), dtype=np.int64)
    price = np.empty(n)

    first = window_start(n_steps, params[_WINDOW_SHARE])
    sums = np.zeros(4)  # dispersion, cv, trade share, band compliance over the window
    half_var = 0.5 * harvest_sd * harvest_sd
    row = 0
    for t in range(n_steps):
        if stop[0]:
            return
        # 1. harvest
        for i in range(n):
            for k in range(k_goods):
                z = rng.standard_normal()
                stock[i, k] += base[i, k] * np.exp(harvest_sd * z - half_var)
        # 2. outages
        for e in range(n_edges):
            is_open[e] = rng.random() >= outage_rate
        # 3. pre-trade prices
        for i in range(n):
            for k in range(k_goods):
                log_p[i, k] = (log_demand[i, k] - np.log(turnover * stock[i, k])) / elasticity
        # 4. desired shipments (positive: u -> v)
        for e in range(n_edges):
            u = edge_u[e]
            v = edge_v[e]
            for k in range(k_goods):
                flow[e, k] = 0.0
                if not is_open[e]:
                    continue
                gap = log_p[v, k] - log_p[u, k]
                excess = abs(gap) - cost[e]
                if excess <= 0.0:
                    continue
                if gap > 0.0:
                    src, dst = u, v
                else:
                    src, dst = v, u
                x = speed * elasticity * excess / (1.0 / stock[src, k] + keep[e] / stock[dst, k])
                x = min(x, capacity[k])
                flow[e, k] = x if gap > 0.0 else -x
        # 5. outflow limits per region (CSR over incident edges)
        for i in range(n):
            for k in range(k_goods):
                total = 0.0
                for j in range(indptr[i], indptr[i + 1]):
                    e = adj_edge[j]
                    x = flow[e, k]
                    if (x > 0.0 and edge_u[e] == i) or (x < 0.0 and edge_v[e] == i):
                        total += abs(x)
                limit = MAX_OUTFLOW_SHARE * stock[i, k]
                outflow[i, k] = 1.0 if total <= limit else limit / total
        # 6. ship
        trade_value = 0.0
        for e in range(n_edges):
            u = edge_u[e]
            v = edge_v[e]
            for k in range(k_goods):
                x = flow[e, k]
                traded[e, k] = x != 0.0
                if x == 0.0:
                    continue
                if x > 0.0:
                    src, dst = u, v
                else:
                    src, dst = v, u
                    x = -x
                x *= outflow[src, k]
                stock[src, k] -= x
                stock[dst, k] += x * keep[e]
                trade_value += x * np.exp(log_p[src, k])
        # 7. local clearing
        market_value = 0.0
        for i in range(n):
            for k in range(k_goods):
                sold = turnover * stock[i, k]
                log_p[i, k] = (log_demand[i, k] - np.log(sold)) / elasticity
                market_value += sold * np.exp(log_p[i, k])
                stock[i, k] -= sold
        # 8. outcomes of the step
        dispersion = 0.0
        cv = 0.0
        for k in range(k_goods):
            dispersion += log_p[:, k].std()
            for i in range(n):
                price[i] = np.exp(log_p[i, k])
            cv += price.std() / price.mean()
        dispersion /= k_goods
        cv /= k_goods
        within = 0
        pairs = 0
        for e in range(n_edges):
            if not is_open[e]:
                continue
            for k in range(k_goods):
                pairs += 1
                if abs(log_p[edge_v[e], k] - log_p[edge_u[e], k]) <= cost[e] + BAND_TOLERANCE:
                    within += 1
        compliance = within / pairs if pairs > 0 else 1.0
        share = trade_value / (trade_value + market_value)
        if t >= first:
            sums[0] += dispersion
            sums[1] += cv
            sums[2] += share
            sums[3] += compliance
            for e in range(n_edges):
                for k in range(k_goods):
                    if traded[e, k]:
                        active_steps[e, k] += 1
        if (t + 1) % sample_every == 0 and row < series.shape[0]:
            series[row, 0] = t + 1
            series[row, 1] = dispersion
            series[row, 2] = share
            series[row, 3] = compliance
            series[row, 4] = mean_largest_component_share(n, edge_u, edge_v, traded)
            row += 1

    window = n_steps - first
    for j in range(4):
        outcomes[j] = sums[j] / window
    need = weeks_needed(window, params[_ACTIVE_SHARE])
    active = np.empty((n_edges, k_goods), dtype=np.bool_)
    for e in range(n_edges):
        for k in range(k_goods):
            active[e, k] = active_steps[e, k] >= need
    index = mean_largest_component_share(n, edge_u, edge_v, active)
    outcomes[4] = index
    outcomes[5] = 1.0 if index >= params[_INTEGRATION_THRESHOLD] - THRESHOLD_TOLERANCE else 0.0

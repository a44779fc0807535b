"""A slow, readable NumPy twin of :mod:`kernels.market`, for tests on tiny networks.

Same sections, same random draws in the same order, whole-array operations instead of loops;
connected components come from scipy rather than the kernel's union-find.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .market import (
    BAND_TOLERANCE,
    MAX_OUTFLOW_SHARE,
    PARAMS,
    SERIES,
    THRESHOLD_TOLERANCE,
    Simulation,
    draw_landscape,
    n_samples,
    window_start,
)
from .network import Network


def mean_largest_component_share(network: Network, active: np.ndarray) -> float:
    """active: bool (E, K); the largest-component share of each good's graph, mean over goods."""
    n = network.n_nodes
    shares = []
    for good_active in active.T:
        u, v = network.edge_u[good_active], network.edge_v[good_active]
        graph = coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
        labels = connected_components(graph, directed=False)[1]
        shares.append(np.bincount(labels).max() / n)
    return float(np.mean(shares))


def simulate(
    network: Network,
    params: np.ndarray,
    seed: int,
    n_goods: int,
    n_steps: int,
    sample_every: int,
) -> Simulation:
    p = dict(zip(PARAMS, np.asarray(params, dtype=np.float64), strict=True))
    rng = np.random.default_rng(seed)
    log_demand, log_base = draw_landscape(network.population, n_goods, p["specialization"], rng)
    u, v = network.edge_u, network.edge_v
    elasticity, turnover = p["demand_elasticity"], p["turnover"]

    base = np.exp(log_base)
    stock = base * (1.0 - turnover) / turnover
    capacity = p["trader_capital"] * base.mean(axis=0)
    cost = p["transport_cost"] * network.edge_km / 100.0 + p["permit_strictness"] * p["permit_cost"]
    keep = np.exp(-cost)

    first = window_start(n_steps, p["window_share"])
    sums = np.zeros(4)
    active_steps = np.zeros((network.n_edges, n_goods), dtype=np.int64)
    series = np.empty((n_samples(n_steps, sample_every), 1 + len(SERIES)))
    row = 0
    for t in range(n_steps):
        # 1. harvest
        z = rng.standard_normal(stock.shape)
        stock += base * np.exp(p["harvest_sd"] * z - 0.5 * p["harvest_sd"] ** 2)
        # 2. outages
        is_open = rng.random(network.n_edges) >= p["outage_rate"]
        # 3. pre-trade prices
        log_p = (log_demand - np.log(turnover * stock)) / elasticity
        # 4. desired shipments (positive: u -> v)
        gap = log_p[v] - log_p[u]
        excess = np.abs(gap) - cost[:, None]
        forward = gap > 0.0
        src = np.where(forward, u[:, None], v[:, None])
        dst = np.where(forward, v[:, None], u[:, None])
        goods = np.arange(n_goods)[None, :]
        amount = (
            p["arbitrage_speed"]
            * elasticity
            * excess
            / (1.0 / stock[src, goods] + keep[:, None] / stock[dst, goods])
        )
        amount = np.minimum(amount, capacity[None, :])
        amount[(excess <= 0.0) | ~is_open[:, None]] = 0.0
        # 5. outflow limits per region
        total = np.zeros_like(stock)
        np.add.at(total, (src, np.broadcast_to(goods, src.shape)), amount)
        limit = MAX_OUTFLOW_SHARE * stock
        scale = np.where(total <= limit, 1.0, limit / np.where(total > 0.0, total, 1.0))
        # 6. ship
        shipped = amount * scale[src, goods]
        np.add.at(stock, (src, np.broadcast_to(goods, src.shape)), -shipped)
        np.add.at(stock, (dst, np.broadcast_to(goods, dst.shape)), shipped * keep[:, None])
        trade_value = (shipped * np.exp(log_p[src, goods])).sum()
        traded = amount > 0.0
        # 7. local clearing
        sold = turnover * stock
        log_p = (log_demand - np.log(sold)) / elasticity
        market_value = (sold * np.exp(log_p)).sum()
        stock -= sold
        # 8. outcomes of the step
        dispersion = log_p.std(axis=0).mean()
        price = np.exp(log_p)
        cv = (price.std(axis=0) / price.mean(axis=0)).mean()
        gaps = np.abs(log_p[v] - log_p[u])[is_open]
        within = gaps <= cost[is_open][:, None] + BAND_TOLERANCE
        compliance = within.mean() if within.size else 1.0
        share = trade_value / (trade_value + market_value)
        if t >= first:
            sums += (dispersion, cv, share, compliance)
            active_steps += traded
        if (t + 1) % sample_every == 0 and row < series.shape[0]:
            lcc = mean_largest_component_share(network, traded)
            series[row] = (t + 1, dispersion, share, compliance, lcc)
            row += 1

    window = n_steps - first
    need = np.ceil(p["active_trade_share"] * window - THRESHOLD_TOLERANCE)
    index = mean_largest_component_share(network, active_steps >= need)
    integrated = index >= p["integration_threshold"] - THRESHOLD_TOLERANCE
    outcomes = np.array([*(sums / window), index, 1.0 if integrated else 0.0])
    return Simulation(outcomes, series)

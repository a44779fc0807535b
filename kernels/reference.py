"""A slow, readable NumPy twin of :mod:`kernels.market`, for tests on tiny networks.

Same numbered sections, the same counter-based random draws (computed with NumPy arrays),
whole-array operations instead of loops except for the Gauss-Seidel arbitrage; connected
components come from scipy rather than the kernel's union-find.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from . import draws
from .goods import table
from .market import (
    BAND_SLACK,
    DEMAND_FLOOR,
    EVENT_CAPITAL_LOSS,
    EVENT_FLOOD,
    EVENT_HARVEST,
    HARVEST_WEEK,
    INITIAL_STATE_WEEKS,
    LEDGER,
    MARGINAL_INFLOW,
    MAX_DELAY,
    MAX_LAG,
    MAX_OUTFLOW_SHARE,
    MAX_PROCUREMENT,
    NO_EVENTS,
    NORMAL_TABLE,
    PARAMS,
    SERIES,
    SPATIAL_FLOOR,
    THRESHOLD_TOLERANCE,
    WEALTH_MAX,
    Simulation,
    draw_landscape,
    n_samples,
    season,
    window_start,
)
from .network import RAIL, Network


def components(network: Network, active: np.ndarray) -> np.ndarray:
    """Component label of each node in the graph of active edges (labels in order of each
    component's smallest node)."""
    n = network.n_nodes
    u, v = network.edge_u[active], network.edge_v[active]
    graph = coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def largest_component(network: Network, active: np.ndarray) -> tuple[float, np.ndarray]:
    """(population share, membership mask) of the most populous component."""
    labels = components(network, active)
    mass = np.bincount(labels, weights=network.population)
    best = int(np.argmax(mass))
    return mass[best] / network.population.sum(), labels == best


def gini(values: np.ndarray, weight: np.ndarray) -> float:
    if (values * weight).sum() <= 0.0:
        return 0.0
    order = np.argsort(values, kind="stable")
    w = weight[order] / weight.sum()
    v = values[order] * weight[order] / (values * weight).sum()
    cum_v = np.concatenate([[0.0], np.cumsum(v)[:-1]])
    return 1.0 - float((w * (2.0 * cum_v + v)).sum())


def spatial_correlation(network: Network, log_p: np.ndarray, prev_log_p: np.ndarray) -> float:
    """Moran's I of the week's log-price changes over the links, averaged over goods."""
    if network.n_edges == 0:
        return 0.0
    z = log_p - prev_log_p
    z = z - z.mean(axis=0)
    squares = (z**2).sum(axis=0)
    cross = (z[network.edge_u] * z[network.edge_v]).sum(axis=0)
    ratio = (
        network.n_nodes / network.n_edges * cross / np.where(squares > SPATIAL_FLOOR, squares, 1)
    )
    return float(np.where(squares > SPATIAL_FLOOR, ratio, 0.0).mean())


def edge_terms(network: Network, p: dict) -> tuple[np.ndarray, ...]:
    rail = network.edge_mode == RAIL
    seized = p["crackdown"] * p["confiscation_max"]
    per_km = np.where(rail, p["rail_cost"], p["road_cost"])
    days = np.where(rail, p["rail_days"], p["road_days"])
    transport = per_km * network.edge_km / 100.0  # before investment: the price-link ruler
    cost = (
        (1.0 - p["transport_investment"]) * transport
        + p["permit_strictness"] * p["permit_cost"] * network.edge_permit
        - np.log(1.0 - seized)
    )
    keep = np.full(network.n_edges, 1.0 - seized)
    weeks = np.floor(days * network.edge_km / 100.0 / 7.0 + 1e-9).astype(np.int64)
    return cost, transport, keep, np.minimum(weeks, MAX_DELAY)


def simulate(
    network: Network,
    params: np.ndarray,
    seed: int,
    n_goods: int,
    n_steps: int,
    sample_every: int,
    events: np.ndarray | None = None,
) -> Simulation:
    p = dict(zip(PARAMS, np.asarray(params, dtype=np.float64).copy(), strict=True))
    events = NO_EVENTS if events is None else np.asarray(events, dtype=np.float64)
    goods = table(n_goods)
    rng = np.random.default_rng(seed)
    land = draw_landscape(network, goods, p["specialization"], rng, p["specialty_strength"])
    key = int(draws.run_key(rng))
    demand, base = land.demand, land.base
    n, u, v = network.n_nodes, network.edge_u, network.edge_v
    n_prov = network.province.max() + 1
    capital = network.trio[0]
    ring, memory = MAX_DELAY + 1, MAX_LAG + 1
    weight_k = goods[:, 0]
    staple = goods[:, 4] > 0.5
    demand_total = demand.sum(axis=0)
    cap_scale = demand_total / n
    value_scale = demand.sum(axis=1)
    hub = np.zeros(n, dtype=bool)
    hub[network.hubs] = True

    stock = base.copy()
    state = np.zeros(n_goods)  # filled in week 0, after that week's events
    arrivals = np.zeros((ring, n, n_goods))
    history = np.zeros((memory, n, n_goods))
    wealth = np.ones(n)
    flood_left = np.zeros(n, dtype=np.int64)
    harvest = np.ones((n, n_goods))
    ev_start = np.zeros(len(events))
    ledger = dict.fromkeys(LEDGER, 0.0)
    stock_start, state_start = stock.sum(), 0.0

    def flood(node: int) -> None:
        flood_left[node] = max(flood_left[node], int(p["flood_weeks"]))
        lost = p["flood_loss"] * stock[node] * staple
        stock[node] -= lost
        ledger["flood_destroyed"] += lost.sum()

    first = window_start(n_steps, p["window_share"])
    sums = np.zeros(10)
    welfare_sum = np.zeros(n)
    active_steps = np.zeros((network.n_edges, n_goods), dtype=np.int64)
    linked_steps = np.zeros((network.n_edges, n_goods), dtype=np.int64)
    ever_traded = np.zeros((network.n_edges, n_goods), dtype=bool)
    series = np.empty((n_samples(n_steps, sample_every), 1 + len(SERIES)))
    reached = -1.0
    row = 0
    prev_log_p = np.zeros((n, n_goods))  # last week's prices
    for t in range(n_steps):
        np.maximum(flood_left - 1, 0, out=flood_left)
        # 1. events
        for m, (week, code, value, over) in enumerate(events):
            week, code, over = int(week), int(code), max(int(over), 1)
            if code >= 0:
                if t == week:
                    ev_start[m] = p[PARAMS[code]]
                if week <= t < week + over:
                    p[PARAMS[code]] = ev_start[m] + (value - ev_start[m]) * (t - week + 1) / over
            elif t == week and code == EVENT_FLOOD:
                flood(int(value))
            elif t == week and code == EVENT_CAPITAL_LOSS:
                wealth *= 1.0 - value
        if t == 0:
            level0 = np.full(n, p["pds_level"])
            level0[capital] = max(p["pds_level"], p["capital_pds"])
            state = np.where(staple, INITIAL_STATE_WEEKS * (level0[:, None] * demand).sum(0), 0.0)
            state_start = state.sum()
        cost, transport, keep, delay = edge_terms(network, p)
        phone = land.phone_rank < p["phone_penetration"]
        elasticity = p["demand_elasticity"]
        turnover = p["turnover"] * (1.0 - p["market_ban"])
        pds = p["pds_level"]

        # 2. arrivals
        stock += arrivals[t % ring]
        arrivals[t % ring] = 0.0

        # 3. production
        if t == 0 or t % 52 == HARVEST_WEEK:
            sd, rho = p["harvest_sd"], p["harvest_correlation"]
            province_z = draws.normals_np(
                draws.week_key_np(key, draws.HARVEST_PROVINCE, t), 0, n_prov
            )
            local_key = draws.week_key_np(key, draws.HARVEST_LOCAL, t)
            local = draws.normals_np(local_key, 0, n * n_goods).reshape(n, n_goods)[:, staple]
            z = np.sqrt(rho) * province_z[network.province][:, None] + np.sqrt(1.0 - rho) * local
            harvest[:, staple] = np.exp(sd * z - 0.5 * sd * sd)
        for week, code, value, _ in events:
            if int(week) == t and int(code) == EVENT_HARVEST:
                harvest[:, staple] *= value
        factor = np.exp(p["production_noise"] * NORMAL_TABLE)
        factor *= len(factor) / factor.sum()
        index = draws.table_indices_np(draws.week_key_np(key, draws.PRODUCTION, t), 0, n * n_goods)
        y = base * factor[index].reshape(n, n_goods)
        flooded = np.where(flood_left > 0, 1.0 - p["flood_loss"], 1.0)[:, None]
        y = np.where(staple, y * (season(t, p["seasonal_amplitude"]) * harvest) * flooded, y)
        procured = np.where(staple, min(pds, MAX_PROCUREMENT) * y, 0.0)
        state += procured.sum(axis=0)
        stock += y - procured
        ledger["produced"] += y.sum()

        # 4. floods
        flood_draws = draws.uniforms_np(draws.week_key_np(key, draws.FLOOD, t), 0, 2)
        if flood_draws[0] < p["flood_rate"]:
            flood(int(flood_draws[1] * n))

        # 5. China trade
        imported = p["china_trade"] * goods[:, 1] * demand_total
        to_state = p["state_import_share"] * imported
        stock[capital] += to_state
        stock += (imported - to_state)[None, :] * network.import_weight[:, None]
        ledger["imported"] += imported.sum()
        wanted = p["china_trade"] * goods[:, 2] * demand_total
        border = network.import_weight > 0.0
        exported = np.minimum(
            wanted[None, :] * network.import_weight[border, None], MAX_OUTFLOW_SHARE * stock[border]
        )
        stock[border] -= exported
        ledger["exported"] += exported.sum()

        # 6. PDS rations
        level = np.full(n, pds)
        level[capital] = max(pds, p["capital_pds"])
        need = (level[:, None] * demand).sum(axis=0)
        share = np.where(
            staple & (need > 0), np.minimum(1.0, state / np.where(need > 0, need, 1)), 0.0
        )
        state -= share * need
        rations = share[None, :] * level[:, None] * demand
        market_demand = np.maximum(demand - rations, DEMAND_FLOOR * demand)

        # 7. spoilage
        lost = p["spoilage_scale"] * goods[:, 3][None, :] * stock
        stock -= lost
        ledger["spoiled"] += lost.sum()

        # 8. outages and floods close links
        outage = p["rail_outage_rate"] * (1.0 - p["transport_investment"])
        down = draws.uniforms_np(draws.week_key_np(key, draws.OUTAGE, t), 0, network.n_edges)
        down = (down < outage) & (outage > 0.0)
        down &= network.edge_mode == RAIL
        is_open = ~down & (flood_left[u] == 0) & (flood_left[v] == 0)

        # 9. pre-trade prices
        incoming = arrivals.sum(axis=0)
        supply = stock + incoming
        log_p = (np.log(market_demand) - np.log(turnover) - np.log(supply)) / elasticity
        history[t % memory] = log_p
        old = history[max(t - int(p["info_lag"]), 0) % memory]

        # 10. arbitrage, link by link in a fixed order
        lag = int(p["info_lag"])
        room = MAX_OUTFLOW_SHARE * np.where(staple, 1.0 - p["self_reliance"], 1.0) * stock
        price = np.exp(log_p)
        traded = np.zeros((network.n_edges, n_goods), dtype=bool)
        inflow_value = np.zeros(n)
        profit = np.zeros(n)
        trade_value = 0.0
        crossing_value = 0.0
        confiscated = 0.0
        rounds = int(p["arbitrage_rounds"])
        cap_round = p["trader_capital"] * cap_scale / rounds
        informed = phone[u] & phone[v]
        fresh = np.flatnonzero(is_open & informed)
        order = np.flatnonzero(is_open)
        for r in range(rounds):
            moved = False
            for e in order if r == 0 else fresh:
                a, b = u[e], v[e]
                speed = p["arbitrage_speed"] if informed[e] else p["arbitrage_speed"] / (1.0 + lag)
                rate = speed * elasticity
                for k in range(n_goods):
                    gap = log_p[b, k] - log_p[a, k] if informed[e] else old[b, k] - old[a, k]
                    excess = abs(gap) - cost[e]
                    if excess <= 0.0:
                        continue
                    src, dst = (a, b) if gap > 0.0 else (b, a)
                    inv_src = 1.0 / supply[src, k]
                    inv_dst = 1.0 / supply[dst, k]
                    x = rate * excess / (inv_src + keep[e] * inv_dst)
                    x = min(x, cap_round[k] * wealth[src], room[src, k])
                    if x <= 0.0:
                        continue
                    margin = log_p[dst, k] - log_p[src, k] - cost[e]
                    traded[e, k] = True
                    moved = True
                    room[src, k] -= x
                    stock[src, k] -= x
                    supply[src, k] -= x
                    arriving = keep[e] * x
                    supply[dst, k] += arriving
                    confiscated += x - arriving
                    if delay[e] == 0:
                        stock[dst, k] += arriving
                    else:
                        arrivals[(t + delay[e]) % ring, dst, k] += arriving
                    log_p[src, k] += x * inv_src * (1.0 / elasticity)
                    log_p[dst, k] -= arriving * inv_dst * (1.0 / elasticity)
                    value = x * price[src, k]
                    trade_value += value
                    crossing_value += float(network.edge_permit[e] > 0.0) * value
                    inflow_value[dst] += value
                    profit[src] += value * margin
            if not moved:
                break
        ledger["confiscated"] += confiscated

        # 11. traders' capital
        w = wealth + p["capital_recovery"] * (1.0 - wealth) + p["reinvest"] * profit / value_scale
        wealth = np.clip(w, 0.0, WEALTH_MAX)

        # 12. local clearing
        sold = turnover * stock
        log_p = (np.log(market_demand) - np.log(turnover) - np.log(stock)) / elasticity
        price = np.exp(log_p)
        market_i = (sold * price).sum(axis=1)
        market_value = market_i.sum()
        ration_value = (rations * price).sum()
        stock -= sold
        consumed = sold + rations
        ledger["consumed"] += consumed.sum()
        marginal = (inflow_value < MARGINAL_INFLOW * market_i).mean()

        # 13. outputs of the week
        mean_lp = log_p.mean(axis=0)
        dispersion = np.sqrt(np.maximum((log_p**2).mean(axis=0) - mean_lp**2, 0.0)).mean()
        p_mean = price.mean(axis=0)
        cv = (np.sqrt(np.maximum((price**2).mean(axis=0) - p_mean**2, 0.0)) / p_mean).mean()
        remote = network.remote
        premium = (
            (weight_k * (log_p[remote].mean(axis=0) - log_p[capital])).sum() / weight_k.sum()
            if remote.any()
            else 0.0
        )
        trio_sd = log_p[network.trio, 0].std()
        all_gaps = np.abs(log_p[v] - log_p[u])
        ever_traded |= traded
        linked = (all_gaps <= transport[:, None] + BAND_SLACK) & ever_traded
        gaps = all_gaps[is_open]
        within = gaps <= cost[is_open][:, None] + BAND_SLACK
        compliance = within.mean() if within.size else 1.0
        share_t = trade_value / (trade_value + market_value)
        income_share = market_value / (market_value + ration_value)
        ratio = consumed / demand
        welfare = (weight_k[None, :] * ratio).sum(axis=1)
        short_i = (weight_k[None, :] * np.maximum(1.0 - ratio, 0.0)).sum(axis=1)
        short = (network.population * short_i).sum() / (network.population.sum() * weight_k.sum())
        if t >= first:
            crossing = crossing_value / trade_value if trade_value > 0.0 else 0.0
            sums += (dispersion, cv, share_t, compliance, short, premium, trio_sd, income_share,
                     marginal, crossing)  # fmt: skip
            welfare_sum += welfare
            active_steps += traded
            linked_steps += linked
        if (t + 1) % sample_every == 0 and row < series.shape[0]:
            lcc = np.mean([largest_component(network, linked[:, k])[0] for k in range(n_goods)])
            if reached < 0.0 and lcc >= p["integration_threshold"] - THRESHOLD_TOLERANCE:
                reached = t + 1.0
            level = (weight_k * (network.population @ log_p) / n).sum() / weight_k.sum()
            spatial = spatial_correlation(network, log_p, prev_log_p) if t > 0 else 0.0
            series[row] = (t + 1, dispersion, share_t, compliance, lcc, short, premium, trio_sd,
                           gini(welfare, network.population), level, spatial)  # fmt: skip
            row += 1
        prev_log_p = log_p.copy()

    ledger["market_stock_change"] = stock.sum() - stock_start
    ledger["in_transit_change"] = arrivals.sum()
    ledger["state_stock_change"] = state.sum() - state_start
    window = n_steps - first
    means = sums / window
    need_trade = np.ceil(p["active_trade_share"] * window - THRESHOLD_TOLERANCE)
    need_linked = np.ceil(p["linked_share"] * window - THRESHOLD_TOLERANCE)
    index, hubs_in = [], []
    for k in range(n_goods):
        used = active_steps[:, k] > 0
        index.append(largest_component(network, (linked_steps[:, k] >= need_linked) & used)[0])
        members = largest_component(network, active_steps[:, k] >= need_trade)[1]
        hubs_in.append(members[hub].mean() if hub.any() else 0.0)
    integration = float(np.mean(index))
    integrated = integration >= p["integration_threshold"] - THRESHOLD_TOLERANCE
    outcomes = np.array(
        [
            *means[:7],
            gini(welfare_sum, network.population),
            means[7],
            means[8],
            means[9],
            float(np.mean(hubs_in)),
            reached,
            integration,
            1.0 if integrated else 0.0,
        ]
    )
    balance = np.array([ledger[name] for name in LEDGER]) / cap_scale.mean()
    return Simulation(outcomes, series, balance, log_p.copy())

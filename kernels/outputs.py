"""The end of a week and of a run: phases 12 and 14 (13, money, is ``kernels.money``) and the
run's outcomes.

12. clearing  each market sells turnover x its stock at the price that clears its demand
14. outputs   dispersion, band compliance, trade share, shortage, remote premium, the
              Pyongyang-Sinuiju-Hyesan trio, Gini, the active-trade graph (links trading in
              active_trade_share of the window's weeks) and the price-linked graph (links that
              have carried trade and whose price gap stays within the transport cost alone,
              the law of one price net of physical transfer costs, in linked_share of the
              window's weeks; for the run's index the trade must fall in the window): an
              integrated national market is a run whose price-linked graph has a component
              holding integration_threshold of the population, on average over goods; the
              trio's rice prices in won and dollar rates
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .fastmath import exp_into, log_into
from .goods import G
from .graphs import component_roots, gini, heaviest, mean_component_share
from .graphs import spatial_correlation as moran
from .money import dollar_rates
from .parameters import BAND_SLACK, MARGINAL_INFLOW, MAX_DELAY, RICE_KPW, THRESHOLD_TOLERANCE, P
from .results import PL, PLACE_SUMS, L, O, S
from .weeks import weeks_needed

_jit = njit(cache=True, nogil=True, error_model="numpy")
# the outcomes that are weekly values averaged over the window, in the order outputs adds them
AVERAGED = (
    O.price_dispersion, O.price_cv, O.trade_share, O.band_compliance, O.shortage,
    O.remote_premium, O.trio_dispersion, O.market_income_share, O.marginal_trade_share,
    O.crossing_trade_share, O.wholesale_share, O.trading_passes, O.usd_cv,
)  # fmt: skip


@_jit
def week_flags(s, t):
    """Whether this week's outputs are kept: averaged (in the window), sampled, or the week
    before a sample (its prices are the next sample's baseline). Clearing and outputs share
    the decision."""
    s.counted = t >= s.first
    s.sampled = (t + 1) % s.sample_every == 0 and s.row < s.series.shape[0]
    s.before_sample = (t + 2) % s.sample_every == 0


@_jit
def clearing(s, t):
    """Each market sells turnover x its stock. The clearing prices feed only the outputs, so
    they are computed in weeks whose outputs are kept (and the last: the run's final prices)."""
    stock, rations, consumed, price, inflow = (
        s.stock,
        s.rations,
        s.consumed,
        s.price,
        s.inflow_value,
    )
    n, k_goods = stock.shape
    cells = n * k_goods
    turnover = s.params[P.turnover] * (1.0 - s.params[P.market_ban])
    market_value = 0.0
    ration_value = 0.0
    n_marginal = 0
    used = s.ledger[L.consumed]
    sales = 0.0
    if s.counted or s.sampled or s.before_sample or t == s.n_steps - 1:
        elasticity = s.params[P.demand_elasticity]
        log_turnover = np.log(turnover)
        log_p, log_demand, log_scratch = s.log_p_flat, s.log_demand_flat, s.log_scratch
        log_into(s.stock_flat, log_scratch)
        for j in range(cells):
            log_p[j] = (log_demand[j] - log_turnover - log_scratch[j]) / elasticity
        exp_into(log_p, s.price_flat)
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
                sales += sold
            market_value += market_i
            s.unit_market[i] = market_i
            if inflow[i] < MARGINAL_INFLOW * market_i:
                n_marginal += 1
    else:
        stock_flat, rations_flat = s.stock_flat, s.rations_flat
        for j in range(cells):
            sold = turnover * stock_flat[j]
            stock_flat[j] -= sold
            used += sold + rations_flat[j]
            sales += sold
    s.ledger[L.consumed] = used
    s.sales = sales
    s.market_value = market_value
    s.ration_value = ration_value
    s.marginal = n_marginal / n


@_jit
def outputs(s, t):
    """The week's outputs, in weeks that are averaged or sampled: one pass over units for the
    per-good sums, one over links; window sums and series rows."""
    spatial = 0.0
    if s.sampled and t > 0:
        spatial = moran(s.log_p, s.prev_log_p, s.edge_u, s.edge_v)
    if s.before_sample:
        s.prev_log_p[:] = s.log_p
    if not (s.counted or s.sampled):
        return
    short, level = _unit_sums(s)
    dispersion, cv, premium = _dispersion(s)
    trio_sd = _trio_sd(s.log_p, s.trio)
    compliance = _links(s)
    usd = s.usd
    dollar_rates(s, s.trio, usd)
    share = s.trade_value / (s.trade_value + s.market_value)
    income_share = s.market_value / (s.market_value + s.ration_value)
    if s.counted:
        sums = s.sums
        sums[O.price_dispersion] += dispersion
        sums[O.price_cv] += cv
        sums[O.trade_share] += share
        sums[O.band_compliance] += compliance
        sums[O.shortage] += short
        sums[O.remote_premium] += premium
        sums[O.trio_dispersion] += trio_sd
        sums[O.market_income_share] += income_share
        sums[O.marginal_trade_share] += s.marginal
        trade = s.trade_value
        sums[O.crossing_trade_share] += s.crossing_value / trade if trade > 0.0 else 0.0
        sums[O.wholesale_share] += s.wholesale_value / trade if trade > 0.0 else 0.0
        sums[O.trading_passes] += s.passes
        sums[O.usd_cv] += np.std(usd) / np.mean(usd)
        _window_counts(s, t)
    if s.sampled:
        lcc = mean_component_share(s.edge_u, s.edge_v, s.linked, s.population, s.parent, s.mass)
        if s.reached < 0.0 and lcc >= s.params[P.integration_threshold] - THRESHOLD_TOLERANCE:
            s.reached = t + 1.0
        row = s.series[s.row]
        row[S.step] = t + 1
        row[S.price_dispersion] = dispersion
        row[S.trade_share] = share
        row[S.band_compliance] = compliance
        row[S.lcc_share] = lcc
        row[S.shortage] = short
        row[S.remote_premium] = premium
        row[S.trio_dispersion] = trio_sd
        row[S.gini] = gini(s.welfare, s.population)
        row[S.price_level] = level
        won = RICE_KPW * s.won_level
        row[S.rice_pyongyang] = won * np.exp(s.log_p[s.trio[0], 0])
        row[S.rice_sinuiju] = won * np.exp(s.log_p[s.trio[1], 0])
        row[S.rice_hyesan] = won * np.exp(s.log_p[s.trio[2], 0])
        row[S.won_level] = s.won_level
        row[S.usd_pyongyang], row[S.usd_sinuiju], row[S.usd_hyesan] = usd[0], usd[1], usd[2]
        row[S.spatial_correlation] = spatial
        s.row += 1


@_jit
def _unit_sums(s):
    """Good by good over units (the sums stay in registers): the moments of log prices and
    prices, the remote and population-weighted sums, each unit's consumption ratio (welfare)
    and unmet demand; returns (shortage, price level)."""
    log_p, price, consumed, demand, population = (
        s.log_p, s.price, s.consumed, s.demand, s.population
    )  # fmt: skip
    welfare, gap_i, remote_weight, goods = s.welfare, s.gap_i, s.remote_weight, s.goods
    level_i = s.level_i
    n, k_goods = log_p.shape
    for i in range(n):
        welfare[i] = 0.0
        gap_i[i] = 0.0
        level_i[i] = 0.0
    for k in range(k_goods):
        s_lp = 0.0
        s_lp2 = 0.0
        s_p = 0.0
        s_p2 = 0.0
        s_remote = 0.0
        s_pop_lp = 0.0
        weight_k = goods[k, G.demand_weight]
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
            level_i[i] += weight_k * x
        s.sum_lp[k] = s_lp
        s.sum_lp2[k] = s_lp2
        s.sum_p[k] = s_p
        s.sum_p2[k] = s_p2
        s.sum_remote[k] = s_remote
        s.sum_pop_lp[k] = s_pop_lp
    short = 0.0
    for i in range(n):
        short += population[i] * gap_i[i]
    weights = goods[:, G.demand_weight].sum()
    short /= population.sum() * weights
    level = 0.0
    for k in range(k_goods):
        level += goods[k, G.demand_weight] * s.sum_pop_lp[k] / n  # population has mean one
    return short, level / weights


@_jit
def _dispersion(s):
    """(price dispersion, price CV, remote premium) of the week from the unit sums."""
    n, k_goods = s.log_p.shape
    goods = s.goods
    capital = s.trio[0]
    dispersion = 0.0
    cv = 0.0
    premium = 0.0
    for k in range(k_goods):
        mean = s.sum_lp[k] / n
        dispersion += np.sqrt(max(s.sum_lp2[k] / n - mean * mean, 0.0))
        p_mean = s.sum_p[k] / n
        cv += np.sqrt(max(s.sum_p2[k] / n - p_mean * p_mean, 0.0)) / p_mean
        if s.n_remote > 0:
            premium += goods[k, G.demand_weight] * (
                s.sum_remote[k] / s.n_remote - s.log_p[capital, k]
            )
    weights = goods[:, G.demand_weight].sum()
    return dispersion / k_goods, cv / k_goods, premium / weights


@_jit
def _trio_sd(log_p, trio):
    """sd of the log rice price across the trio."""
    trio_mean = (log_p[trio[0], 0] + log_p[trio[1], 0] + log_p[trio[2], 0]) / 3.0
    trio_sd = 0.0
    for j in range(3):
        d = log_p[trio[j], 0] - trio_mean
        trio_sd += d * d
    return np.sqrt(trio_sd / 3.0)


@_jit
def _links(s):
    """Marks each (link, good) price-linked (within the transport cost before investment, and
    traded before); returns the share of open pairs within their full cost band."""
    log_p, linked, traded_week = s.log_p, s.linked, s.traded_week
    transport, cost, is_open, node_u, node_v = (
        s.transport, s.cost, s.is_open, s.node_u, s.node_v
    )  # fmt: skip
    k_goods = log_p.shape[1]
    within = 0
    pairs = 0
    for e in range(node_u.shape[0]):  # branch-free: these flags are unpredictable
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
    return within / pairs if pairs > 0 else 1.0


@_jit
def _window_counts(s, t):
    """Counts of the window: each unit's welfare and place sums, each link's trading and
    price-linked weeks."""
    welfare_sum, welfare = s.welfare_sum, s.welfare
    place_sums, weights = s.place_sums, s.goods[:, G.demand_weight].sum()
    won = RICE_KPW * s.won_level
    active_steps, linked_steps, traded_week, linked = (
        s.active_steps, s.linked_steps, s.traded_week, s.linked
    )  # fmt: skip
    for i in range(welfare.shape[0]):
        welfare_sum[i] += welfare[i]
        place_sums[i, PL.price_level] += s.level_i[i] / weights
        place_sums[i, PL.rice_kpw] += won * s.price[i, 0]
        place_sums[i, PL.shortage] += s.gap_i[i] / weights
        place_sums[i, PL.inflow_share] += s.inflow_value[i]
        place_sums[i, PLACE_SUMS - 1] += s.unit_market[i]
    for e in range(active_steps.shape[0]):
        for k in range(active_steps.shape[1]):
            active_steps[e, k] += traded_week[e, k] == t
            linked_steps[e, k] += linked[e, k]


@_jit
def _places(s, window):
    """Each unit's window means from its sums (PL.linked is set by the caller)."""
    sums, places = s.place_sums, s.places
    for i in range(places.shape[0]):
        places[i, PL.price_level] = sums[i, PL.price_level] / window
        places[i, PL.rice_kpw] = sums[i, PL.rice_kpw] / window
        places[i, PL.shortage] = sums[i, PL.shortage] / window
        shipped = sums[i, PL.inflow_share]
        total = shipped + sums[i, PLACE_SUMS - 1]
        places[i, PL.inflow_share] = shipped / total if total > 0.0 else 0.0


@_jit
def finish(s):
    """After the last week: the final prices, the goods balance (in units of one week of mean
    regional demand) and the run's outcomes."""
    s.prices[:] = s.log_p
    ledger = s.ledger
    in_transit = 0.0
    arrivals = s.arrivals
    for slot in range(MAX_DELAY + 1):
        for i in range(arrivals.shape[1]):
            for k in range(arrivals.shape[2]):
                in_transit += arrivals[slot, i, k]
    ledger[L.market_stock_change] = s.stock.sum() - s.stock_start
    ledger[L.in_transit_change] = in_transit
    ledger[L.state_stock_change] = s.state_stock.sum() - s.state_start
    for j in range(ledger.shape[0]):
        ledger[j] /= s.cap_scale.mean()
    _outcomes(s)


@_jit
def _outcomes(s):
    outcomes, sums = s.outcomes, s.sums
    window = s.n_steps - s.first
    for o in AVERAGED:
        outcomes[o] = sums[o] / window
    outcomes[O.gini] = gini(s.welfare_sum, s.population)
    span = s.n_steps - 1 - s.first  # weeks from the window's first to the last
    growth = np.log(s.won_level / s.won_first)
    outcomes[O.won_inflation] = 52.0 * growth / span if span > 0 else 0.0
    n = s.population.shape[0]
    edge_u, edge_v, population = s.edge_u, s.edge_v, s.population
    need_trade = weeks_needed(window, s.params[P.active_trade_share])
    need_linked = weeks_needed(window, s.params[P.linked_share])
    k_goods = s.linked_steps.shape[1]
    active = np.empty(edge_u.shape[0], dtype=np.bool_)
    index = 0.0
    hubs_in = 0.0
    places = s.places
    for i in range(n):
        places[i, PL.linked] = 0.0
    for k in range(k_goods):
        for e in range(edge_u.shape[0]):  # prices within transport costs, and the link was used
            active[e] = s.linked_steps[e, k] >= need_linked and s.active_steps[e, k] > 0
        roots = component_roots(n, edge_u, edge_v, active)
        share, root = heaviest(roots, population)
        index += share
        for i in range(n):
            places[i, PL.linked] += (roots[i] == root) / k_goods
        for e in range(edge_u.shape[0]):
            active[e] = s.active_steps[e, k] >= need_trade
        roots = component_roots(n, edge_u, edge_v, active)
        root = heaviest(roots, population)[1]
        count = 0
        for i in range(n):
            if s.hub[i] and roots[i] == root:
                count += 1
        hubs_in += count / s.n_hubs if s.n_hubs > 0 else 0.0
    index /= k_goods
    _places(s, window)
    outcomes[O.hub_integration] = hubs_in / k_goods
    outcomes[O.time_to_integration] = s.reached
    outcomes[O.integration_index] = index
    threshold = s.params[P.integration_threshold] - THRESHOLD_TOLERANCE
    outcomes[O.integrated] = 1.0 if index >= threshold else 0.0

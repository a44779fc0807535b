"""The NumPy twin's end of a week and of a run (``reference.py`` has the rest): the phases
week_flags, clearing, money and outputs, and the run's outcomes, as ``kernels/outputs.py`` computes
them, with scipy's connected components."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .goods import G
from .outputs import AVERAGED
from .parameters import (
    BAND_SLACK,
    KPW_PER_USD,
    MARGINAL_INFLOW,
    MONEY_WEEKS,
    RICE_KPW,
    SPATIAL_FLOOR,
    THRESHOLD_TOLERANCE,
    P,
)
from .results import PL, PLACE_SUMS, L, O, S
from .weeks import weeks_needed


# 12. local clearing -------------------------------------------------------------------------
def week_flags(s: SimpleNamespace, t: int) -> None:
    s.counted = t >= s.first
    s.sampled = (t + 1) % s.sample_every == 0 and s.row < len(s.series)
    s.before_sample = (t + 2) % s.sample_every == 0


def clearing(s: SimpleNamespace, t: int) -> None:
    turnover = s.params[P.turnover] * (1.0 - s.params[P.market_ban])
    sold = turnover * s.stock
    s.market_value = s.ration_value = s.marginal = 0.0
    if s.counted or s.sampled or s.before_sample or t == s.n_steps - 1:
        s.log_p = (s.log_market_demand - np.log(turnover) - np.log(s.stock)) / s.params[
            P.demand_elasticity
        ]
        s.price = np.exp(s.log_p)
        market_i = (sold * s.price).sum(axis=1)
        s.market_value, s.ration_value = market_i.sum(), (s.rations * s.price).sum()
        s.marginal = (s.inflow_value < MARGINAL_INFLOW * market_i).mean()
        s.unit_market = market_i
        s.consumed = sold + s.rations
    s.stock = s.stock - sold
    s.ledger[L.consumed] += (sold + s.rations).sum()
    s.sales = sold.sum()


# 13. money ----------------------------------------------------------------------------------
def money(s: SimpleNamespace, t: int) -> None:
    won_share = 1.0 - s.params[P.dollarization]
    if t == 0:
        s.sales_mean, s.cash = s.sales, won_share * s.sales
    else:
        s.sales_mean += (s.sales - s.sales_mean) / MONEY_WEEKS
        s.cash *= np.exp(s.params[P.money_growth] / 52.0)
    s.won_level = s.cash / (won_share * s.sales_mean)
    if t == s.first:
        s.won_first = s.won_level


def dollar_rates(s: SimpleNamespace, units: np.ndarray) -> np.ndarray:
    """KPW per USD at depots ``units``: the won level, and the local price level against the
    depots' mean within the band."""
    weight = s.goods[:, G.demand_weight]
    local = (s.log_p * weight).sum(axis=1) / weight.sum()
    band = 0.5 * s.params[P.remittance_cost]
    relative = np.clip(local[units] - local[s.depot].mean(), -band, band)
    return KPW_PER_USD * s.won_level * np.exp(relative)


# 14. outputs of the week --------------------------------------------------------------------
def outputs(s: SimpleNamespace, t: int) -> None:
    spatial = spatial_correlation(s, s.log_p, s.prev_log_p) if s.sampled and t > 0 else 0.0
    if s.before_sample:
        s.prev_log_p = s.log_p.copy()
    if not (s.counted or s.sampled):
        return
    weight_k, population, log_p = s.goods[:, G.demand_weight], s.population, s.log_p
    mean_lp = log_p.mean(axis=0)
    dispersion = np.sqrt(np.maximum((log_p**2).mean(axis=0) - mean_lp**2, 0.0)).mean()
    p_mean = s.price.mean(axis=0)
    cv = (np.sqrt(np.maximum((s.price**2).mean(axis=0) - p_mean**2, 0.0)) / p_mean).mean()
    remote = s.remote
    premium = (
        (weight_k * (log_p[remote].mean(axis=0) - log_p[s.trio[0]])).sum() / weight_k.sum()
        if remote.any()
        else 0.0
    )
    trio_sd = log_p[s.trio, 0].std()
    gaps = np.abs(log_p[s.edge_v] - log_p[s.edge_u])
    n_edges = len(s.edge_u)
    s.linked = (gaps <= s.transport[:n_edges, None] + BAND_SLACK) & (s.traded_week >= 0)
    within = gaps[s.is_open] <= s.cost[:n_edges][s.is_open][:, None] + BAND_SLACK
    compliance = within.mean() if within.size else 1.0
    share = s.trade_value / (s.trade_value + s.market_value)
    income_share = s.market_value / (s.market_value + s.ration_value)
    ratio = s.consumed / s.demand
    welfare = (weight_k[None, :] * ratio).sum(axis=1)
    short_i = (weight_k[None, :] * np.maximum(1.0 - ratio, 0.0)).sum(axis=1)
    short = (population * short_i).sum() / (population.sum() * weight_k.sum())
    usd = dollar_rates(s, s.trio)
    if s.counted:
        traded = s.trade_value > 0.0
        crossing = s.crossing_value / s.trade_value if traded else 0.0
        wholesale = s.wholesale_value / s.trade_value if traded else 0.0
        weekly = (
            dispersion, cv, share, compliance, short, premium, trio_sd, income_share,
            s.marginal, crossing, wholesale, s.passes, usd.std() / usd.mean(),
        )  # fmt: skip
        s.sums[list(AVERAGED)] += weekly
        s.welfare_sum += welfare
        sums = s.place_sums
        sums[:, PL.price_level] += (log_p * weight_k).sum(axis=1) / weight_k.sum()
        sums[:, PL.rice_kpw] += RICE_KPW * s.won_level * s.price[:, 0]
        sums[:, PL.shortage] += short_i / weight_k.sum()
        sums[:, PL.inflow_share] += s.inflow_value
        sums[:, PLACE_SUMS - 1] += s.unit_market
        s.active_steps += s.traded_week == t
        s.linked_steps += s.linked
    if s.sampled:
        lcc = np.mean([largest_component(s, s.linked[:, k])[0] for k in range(len(weight_k))])
        threshold = s.params[P.integration_threshold] - THRESHOLD_TOLERANCE
        if s.reached < 0.0 and lcc >= threshold:
            s.reached = t + 1.0
        level = (weight_k * (population @ log_p) / len(population)).sum() / weight_k.sum()
        row = s.series[s.row]
        row[S.step], row[S.price_dispersion], row[S.trade_share] = t + 1, dispersion, share
        row[S.band_compliance], row[S.lcc_share], row[S.shortage] = compliance, lcc, short
        row[S.remote_premium], row[S.trio_dispersion] = premium, trio_sd
        row[S.gini], row[S.price_level] = gini(welfare, population), level
        rice = RICE_KPW * s.won_level * np.exp(log_p[s.trio, 0])
        row[S.rice_pyongyang], row[S.rice_sinuiju], row[S.rice_hyesan] = rice
        row[S.won_level] = s.won_level
        row[S.usd_pyongyang], row[S.usd_sinuiju], row[S.usd_hyesan] = usd
        row[S.spatial_correlation] = spatial
        s.row += 1


def finish(s: SimpleNamespace) -> None:
    """The final prices, the goods balance and the outcomes of the run."""
    s.prices = s.log_p.copy()
    s.ledger[L.market_stock_change] = s.stock.sum() - s.stock_start
    s.ledger[L.in_transit_change] = s.arrivals.sum()
    s.ledger[L.state_stock_change] = s.state_stock.sum() - s.state_start
    s.ledger /= s.cap_scale.mean()
    window = s.n_steps - s.first
    s.outcomes[list(AVERAGED)] = s.sums[list(AVERAGED)] / window
    s.outcomes[O.gini] = gini(s.welfare_sum, s.population)
    span = s.n_steps - 1 - s.first
    growth = np.log(s.won_level / s.won_first)
    s.outcomes[O.won_inflation] = 52.0 * growth / span if span > 0 else 0.0
    need_trade = weeks_needed(window, s.params[P.active_trade_share])
    need_linked = weeks_needed(window, s.params[P.linked_share])
    index, hubs_in, linked = [], [], []
    for k in range(s.linked_steps.shape[1]):
        used = s.active_steps[:, k] > 0
        share, members = largest_component(s, (s.linked_steps[:, k] >= need_linked) & used)
        index.append(share)
        linked.append(members)
        members = largest_component(s, s.active_steps[:, k] >= need_trade)[1]
        hubs_in.append(members[s.hub].mean() if s.hub.any() else 0.0)
    integration = float(np.mean(index))
    threshold = s.params[P.integration_threshold] - THRESHOLD_TOLERANCE
    sums = s.place_sums
    s.places[:, PL.price_level] = sums[:, PL.price_level] / window
    s.places[:, PL.rice_kpw] = sums[:, PL.rice_kpw] / window
    s.places[:, PL.shortage] = sums[:, PL.shortage] / window
    total = sums[:, PL.inflow_share] + sums[:, PLACE_SUMS - 1]
    shipped = np.where(total > 0.0, sums[:, PL.inflow_share], 0.0)
    s.places[:, PL.inflow_share] = shipped / np.where(total > 0.0, total, 1.0)
    s.places[:, PL.linked] = np.mean(linked, axis=0)
    s.outcomes[O.hub_integration] = float(np.mean(hubs_in))
    s.outcomes[O.time_to_integration] = s.reached
    s.outcomes[O.integration_index] = integration
    s.outcomes[O.integrated] = 1.0 if integration >= threshold else 0.0


# graphs -------------------------------------------------------------------------------------
def components(s: SimpleNamespace, active: np.ndarray) -> np.ndarray:
    """Component label of each unit in the graph of active links (labels in order of each
    component's smallest unit)."""
    n = len(s.population)
    u, v = s.edge_u[active], s.edge_v[active]
    graph = coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def largest_component(s: SimpleNamespace, active: np.ndarray) -> tuple[float, np.ndarray]:
    """(population share, membership mask) of the most populous component."""
    labels = components(s, active)
    mass = np.bincount(labels, weights=s.population)
    best = int(np.argmax(mass))
    return mass[best] / s.population.sum(), labels == best


def gini(values: np.ndarray, weight: np.ndarray) -> float:
    if (values * weight).sum() <= 0.0:
        return 0.0
    order = np.argsort(values, kind="stable")
    w = weight[order] / weight.sum()
    v = values[order] * weight[order] / (values * weight).sum()
    cum_v = np.concatenate([[0.0], np.cumsum(v)[:-1]])
    return 1.0 - float((w * (2.0 * cum_v + v)).sum())


def spatial_correlation(s: SimpleNamespace, log_p: np.ndarray, prev_log_p: np.ndarray) -> float:
    """Moran's I of the week's log-price changes over the links, averaged over goods."""
    n_edges = len(s.edge_u)
    if n_edges == 0:
        return 0.0
    z = log_p - prev_log_p
    z = z - z.mean(axis=0)
    squares = (z**2).sum(axis=0)
    cross = (z[s.edge_u] * z[s.edge_v]).sum(axis=0)
    ratio = len(s.population) / n_edges * cross / np.where(squares > SPATIAL_FLOOR, squares, 1)
    return float(np.where(squares > SPATIAL_FLOOR, ratio, 0.0).mean())

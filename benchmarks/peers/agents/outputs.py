"""The per-agent peer's outputs: the week's measures, the price-linked components and the
run's outcomes (``model.py`` steps the week)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from segmark.kernels import market
from segmark.kernels import parameters as M  # the model's constants

if TYPE_CHECKING:
    from benchmarks.peers.agents.model import Model
    from benchmarks.peers.agents.units import County, Trader

OUTCOMES = market.OUTCOMES  # what the peer computes: every output of the model, in its order
SERIES = ("step", *market.SERIES)


@dataclass
class Result:
    """Named like the kernel's Simulation: outcomes and ledger by name, series by column."""

    outcomes: dict[str, float]
    series: dict[str, list[float]]
    ledger: dict[str, float]
    prices: list[list[float]]
    places: list[list[float]]


def week_outputs(m: Model) -> None:
    """14. the week's outputs, in weeks that are averaged or sampled."""
    t, p, goods, counties = m.t, m.p, m.goods, m.counties
    for trader in m.traders:
        for k in range(m.n_goods):
            trader.ever_traded[k] = trader.ever_traded[k] or trader.traded[k]
    counted = t >= m.first
    sampled = (t + 1) % m.sample_every == 0 and len(m.series["step"]) < (
        m.n_steps // m.sample_every
    )
    if not (counted or sampled):
        return
    n = len(counties)
    weights = sum(g.weight for g in goods)
    dispersion = cv = premium = level = 0.0
    remote = [c for c in counties if c.remote]
    for k, good in enumerate(goods):
        mean = sum(c.log_p[k] for c in counties) / n
        square = sum(c.log_p[k] ** 2 for c in counties) / n
        dispersion += math.sqrt(max(square - mean * mean, 0.0))
        p_mean = sum(c.price[k] for c in counties) / n
        p_square = sum(c.price[k] ** 2 for c in counties) / n
        cv += math.sqrt(max(p_square - p_mean * p_mean, 0.0)) / p_mean
        if remote:
            far = sum(c.log_p[k] for c in remote) / len(remote)
            premium += good.weight * (far - m.capital.log_p[k])
        level += good.weight * sum(c.population * c.log_p[k] for c in counties) / n
    dispersion /= m.n_goods
    cv /= m.n_goods
    premium /= weights
    level /= weights
    trio = [c.log_p[0] for c in m.trio]
    trio_mean = sum(trio) / 3.0
    trio_sd = math.sqrt(sum((x - trio_mean) ** 2 for x in trio) / 3.0)
    usd = dollar_rates(m)
    short = 0.0
    for c in counties:
        c.welfare = gap = 0.0
        for k, good in enumerate(goods):
            ratio = c.consumed[k] / c.demand[k]
            c.welfare += good.weight * ratio
            gap += good.weight * max(1.0 - ratio, 0.0)
        short += c.population * gap
        c.gap = gap
    short /= sum(c.population for c in counties) * weights
    within = pairs = 0
    for trader in m.traders:
        for k in range(m.n_goods):
            gap = abs(trader.b.log_p[k] - trader.a.log_p[k])
            trader.linked[k] = gap <= trader.transport + M.BAND_SLACK and trader.ever_traded[k]
            if trader.open:
                pairs += 1
                within += gap <= trader.cost + M.BAND_SLACK
    compliance = within / pairs if pairs else 1.0
    share = m.trade_value / (m.trade_value + m.market_value)
    income_share = m.market_value / (m.market_value + m.ration_value)
    if counted:
        traded = m.trade_value > 0.0
        crossing = m.crossing_value / m.trade_value if traded else 0.0
        wholesale = m.wholesale_value / m.trade_value if traded else 0.0
        usd_mean = sum(usd) / 3.0
        usd_cv = math.sqrt(sum((x - usd_mean) ** 2 for x in usd) / 3.0) / usd_mean
        week = (dispersion, cv, share, compliance, short, premium, trio_sd, income_share,
                m.marginal, crossing, wholesale, m.passes, usd_cv)  # fmt: skip
        m.sums = [s + x for s, x in zip(m.sums, week, strict=True)]
        window_counts(m, weights)
    if sampled:
        lcc = sum(largest(m, [tr for tr in m.traders if tr.linked[k]])[0] for k in range(m.n_goods))
        lcc /= m.n_goods
        if m.reached < 0.0 and lcc >= p["integration_threshold"] - M.THRESHOLD_TOLERANCE:
            m.reached = t + 1.0
        spatial = spatial_correlation(m) if t > 0 else 0.0
        row = (t + 1.0, dispersion, share, compliance, lcc, short, premium, trio_sd,
               gini([c.welfare for c in counties], counties), level,
               *(M.RICE_KPW * m.won_level * math.exp(c.log_p[0]) for c in m.trio),
               m.won_level, *usd, spatial)  # fmt: skip
        for name, value in zip(SERIES, row, strict=True):
            m.series[name].append(value)


def window_counts(m: Model, weights: float) -> None:
    """Each county's welfare and place sums, each link's trading and price-linked weeks."""
    for c in m.counties:
        c.welfare_sum += c.welfare
        level_c = sum(g.weight * c.log_p[k] for k, g in enumerate(m.goods)) / weights
        rice = M.RICE_KPW * m.won_level * c.price[0]
        week_c = (level_c, rice, c.gap / weights, c.inflow_value, c.market_value)
        c.sums = [s + x for s, x in zip(c.sums, week_c, strict=True)]
    for trader in m.traders:
        for k in range(m.n_goods):
            trader.active_steps[k] += trader.traded[k]
            trader.linked_steps[k] += trader.linked[k]


def dollar_rates(m: Model) -> list[float]:
    """KPW per USD at the trio: the won level, and each one's price level against the depots'
    mean within half the remittance cost."""
    weights = sum(g.weight for g in m.goods)
    local = {c: sum(g.weight * c.log_p[k] for k, g in enumerate(m.goods)) / weights
             for c in m.counties if c.depot}  # fmt: skip
    center = sum(local.values()) / len(local)
    band = 0.5 * m.p["remittance_cost"]
    return [
        M.KPW_PER_USD * m.won_level * math.exp(min(max(local[c] - center, -band), band))
        for c in m.trio
    ]


def spatial_correlation(m: Model) -> float:
    """Moran's I of the week's log-price changes over the links, averaged over goods."""
    counties, n, n_links = m.counties, len(m.counties), len(m.traders)
    if n_links == 0:
        return 0.0
    total = 0.0
    for k in range(m.n_goods):
        z = [c.log_p[k] - c.prev_log_p[k] for c in counties]
        mean = sum(z) / n
        z = [x - mean for x in z]
        squares = sum(x * x for x in z)
        if squares > M.SPATIAL_FLOOR:
            cross = sum(z[tr.a.index] * z[tr.b.index] for tr in m.traders)
            total += n / n_links * cross / squares
    return total / m.n_goods


def largest(m: Model, links: list[Trader]) -> tuple[float, set[County]]:
    """(population share, members) of the most populous component joined by ``links``;
    ties go to the component with the smallest root (union by smaller index)."""
    parent = list(range(len(m.counties)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for tr in links:
        a, b = find(tr.a.index), find(tr.b.index)
        if a != b:
            parent[max(a, b)] = min(a, b)
    mass = [0.0] * len(m.counties)
    for c in m.counties:
        mass[find(c.index)] += c.population
    best = 0
    for i, weight in enumerate(mass):
        if weight > mass[best] + 1e-12:
            best = i
    members = {c for c in m.counties if find(c.index) == best}
    return mass[best] / sum(c.population for c in m.counties), members


def finish(m: Model) -> Result:
    p, counties = m.p, m.counties
    ledger = dict(m.ledger)
    ledger["market_stock_change"] = sum(sum(c.stock) for c in counties) - m.stock_start
    ledger["in_transit_change"] = sum(sum(sum(s) for s in c.arrivals) for c in counties)
    ledger["state_stock_change"] = sum(m.state) - m.state_start
    scale = sum(m.cap_scale) / len(m.cap_scale)
    window = m.n_steps - m.first
    means = [s / window for s in m.sums]
    need_trade = math.ceil(p["active_trade_share"] * window - M.THRESHOLD_TOLERANCE)
    need_linked = math.ceil(p["linked_share"] * window - M.THRESHOLD_TOLERANCE)
    index = hubs_in = 0.0
    linked = dict.fromkeys(counties, 0.0)
    for k in range(m.n_goods):
        used = [
            tr for tr in m.traders if tr.linked_steps[k] >= need_linked and tr.active_steps[k] > 0
        ]
        share, market_k = largest(m, used)
        index += share
        for c in market_k:
            linked[c] += 1.0 / m.n_goods
        members = largest(m, [tr for tr in m.traders if tr.active_steps[k] >= need_trade])
        hubs_in += sum(h in members[1] for h in m.hubs) / len(m.hubs)
    index /= m.n_goods
    integrated = index >= p["integration_threshold"] - M.THRESHOLD_TOLERANCE
    span = m.n_steps - 1 - m.first
    inflation = 52.0 * math.log(m.won_level / m.won_first) / span if span > 0 else 0.0
    values = (*means[:7], gini([c.welfare_sum for c in counties], counties), *means[7:],
              inflation, hubs_in / m.n_goods, m.reached, index, float(integrated))  # fmt: skip
    return Result(
        dict(zip(OUTCOMES, values, strict=True)),
        m.series,
        {name: value / scale for name, value in ledger.items()},
        [list(c.log_p) for c in counties],
        [place_values(c, window, linked[c]) for c in counties],
    )


def place_values(c: County, window: int, linked: float) -> list[float]:
    """A county's outputs over the window, in the order of the kernel's PLACES."""
    level, rice, short, shipped, market_value = c.sums
    total = shipped + market_value
    return [level / window, rice / window, short / window, shipped / total if total else 0.0,
            linked]  # fmt: skip


def gini(values: list[float], counties: list[County]) -> float:
    """Population-weighted Gini coefficient of non-negative values."""
    weight = [c.population for c in counties]
    total_v = sum(v * w for v, w in zip(values, weight, strict=True))
    if total_v <= 0.0:
        return 0.0
    total_w = sum(weight)
    cum_v = area = 0.0
    for i in sorted(range(len(values)), key=values.__getitem__):
        w = weight[i] / total_w
        v = values[i] * weight[i] / total_v
        area += w * (2.0 * cum_v + v)
        cum_v += v
    return 1.0 - area

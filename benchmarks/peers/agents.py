"""The segmark weekly step written per agent in plain Python, as a Mesa or NetLogo model would be.

A peer for the kernel benchmark, not part of segmark: one ``County`` object per market with a
float per good, one ``Trader`` object per link, and a ``Model`` whose ``step()`` runs the 13
numbered sections of ``kernels.market`` with Python loops, floats and the ``math`` module (no
NumPy inside the step). It computes the same step as ``kernels.reference`` (the counter-based
draws too, with Python integers), so the benchmark compares like with like;
tests/test_bench_agents.py holds the two to 1e-9. Only the setup borrows NumPy: the landscape
(demand, production, phone ranks) comes from ``market.draw_landscape`` with the run's seeded
generator, as in the kernel. Like the kernel, it computes the week's outputs only in weeks that
are averaged or sampled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from segmark.kernels import draws, market
from segmark.kernels import parameters as M  # the model's constants
from segmark.kernels.goods import table
from segmark.kernels.network import RAIL, Network

RING = M.MAX_DELAY + 1
MEMORY = M.MAX_LAG + 1
OUTCOMES = market.OUTCOMES  # what the peer computes: every output of the model, in its order
SERIES = ("step", *market.SERIES)

# Counter-based draws (kernels.draws) with Python integers.
_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15
_UNIT = 2.0**-53


def _word(wkey: int, index: int) -> int:
    return draws.mix_int((wkey + (index + 1) * _GAMMA) & _MASK)


def _uniform(wkey: int, index: int) -> float:
    return float(_word(wkey, index) >> 11) * _UNIT


def _normal(wkey: int, index: int) -> float:
    u1 = 1.0 - _uniform(wkey, 2 * index)
    u2 = _uniform(wkey, 2 * index + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def _table_index(wkey: int, index: int) -> int:
    return _word(wkey, index) >> (64 - draws.NORMAL_BITS)


@dataclass
class Good:
    weight: float
    import_share: float
    export_share: float
    spoilage: float
    staple: bool


class County:
    """A county or city market: stocks, prices and its traders' capital, one float per good."""

    def __init__(self, index: int, net: Network, demand: list, base: list, phone_rank: float):
        k = len(demand)
        self.index = index
        self.population = float(net.population[index])
        self.province = int(net.province[index])
        self.import_weight = float(net.import_weight[index])
        self.remote = bool(net.remote[index])
        self.phone_rank = phone_rank
        self.phone = False
        self.demand = demand
        self.base = base
        self.value_scale = sum(demand)
        self.stock = list(base)
        self.arrivals = [[0.0] * k for _ in range(RING)]
        self.history = [[0.0] * k for _ in range(MEMORY)]
        self.harvest = [1.0] * k
        self.wealth = 1.0
        self.flood_left = 0
        self.rations = [0.0] * k
        self.market_demand = [0.0] * k
        self.supply = [0.0] * k
        self.log_p = [0.0] * k
        self.prev_log_p = [0.0] * k  # last week's, kept before a sampled week
        self.price = [0.0] * k
        self.room = [0.0] * k
        self.consumed = [0.0] * k
        self.inflow_value = 0.0
        self.profit = 0.0
        self.market_value = 0.0
        self.welfare = 0.0
        self.welfare_sum = 0.0

    def prices_from(self, amounts: list, model: Model) -> None:
        """log p = (log market demand - log turnover - log amount) / elasticity."""
        for k in range(len(amounts)):
            self.log_p[k] = (
                math.log(self.market_demand[k]) - model.log_turnover - math.log(amounts[k])
            ) / model.elasticity


class Trader:
    """The traders of one link: they ship goods across it when the price gap they see beats
    its cost."""

    def __init__(self, index: int, net: Network, a: County, b: County, n_goods: int):
        self.index = index
        self.a, self.b = a, b
        self.km = float(net.edge_km[index])
        self.rail = int(net.edge_mode[index]) == RAIL
        self.permit = float(net.edge_permit[index])
        self.crossing = float(self.permit > 0.0)
        self.cost = self.transport = self.keep = 0.0
        self.delay = 0
        self.open = self.informed = True
        self.traded = [False] * n_goods
        self.ever_traded = [False] * n_goods
        self.linked = [False] * n_goods
        self.active_steps = [0] * n_goods
        self.linked_steps = [0] * n_goods

    def set_terms(self, p: dict) -> None:
        """Cost (transport after investment + permit + confiscation risk), transport before
        investment (the ruler of price links), share arriving and whole weeks in transit."""
        seized = p["crackdown"] * p["confiscation_max"]
        per_km = p["rail_cost"] if self.rail else p["road_cost"]
        days = p["rail_days"] if self.rail else p["road_days"]
        self.transport = per_km * self.km / 100.0
        self.cost = (
            (1.0 - p["transport_investment"]) * self.transport
            + p["permit_strictness"] * p["permit_cost"] * self.permit
            - math.log(1.0 - seized)
        )
        self.keep = 1.0 - seized
        self.delay = min(math.floor(days * self.km / 100.0 / 7.0 + 1e-9), M.MAX_DELAY)

    def trade(self, m: Model, old: int) -> bool:
        """One pass over the goods; True if anything moved."""
        a, b = self.a, self.b
        seen_a, seen_b = (a.log_p, b.log_p) if self.informed else (a.history[old], b.history[old])
        speed = m.p["arbitrage_speed"] if self.informed else m.p["arbitrage_speed"] / (1.0 + m.lag)
        rate = speed * m.elasticity
        keep = self.keep
        moved = False
        for k in range(m.n_goods):
            gap = seen_b[k] - seen_a[k]
            excess = abs(gap) - self.cost
            if excess <= 0.0:
                continue
            src, dst = (a, b) if gap > 0.0 else (b, a)
            inv_src = 1.0 / src.supply[k]
            inv_dst = 1.0 / dst.supply[k]
            x = rate * excess / (inv_src + keep * inv_dst)
            x = min(x, m.cap_round[k] * src.wealth, src.room[k])
            if x <= 0.0:
                continue
            margin = dst.log_p[k] - src.log_p[k] - self.cost
            self.traded[k] = True
            moved = True
            src.room[k] -= x
            src.stock[k] -= x
            src.supply[k] -= x
            arriving = keep * x
            dst.supply[k] += arriving
            m.confiscated += x - arriving
            if self.delay == 0:
                dst.stock[k] += arriving
            else:
                dst.arrivals[(m.t + self.delay) % RING][k] += arriving
            src.log_p[k] += x * inv_src * (1.0 / m.elasticity)
            dst.log_p[k] -= arriving * inv_dst * (1.0 / m.elasticity)
            value = x * src.price[k]
            m.trade_value += value
            m.crossing_value += self.crossing * value
            dst.inflow_value += value
            src.profit += value * margin
        return moved


@dataclass
class Result:
    """Named like the kernel's Simulation: outcomes and ledger by name, series by column."""

    outcomes: dict[str, float]
    series: dict[str, list[float]]
    ledger: dict[str, float]
    prices: list[list[float]]


class Model:
    """One run: counties, traders, the state's PDS stock and the week counter."""

    def __init__(
        self,
        net: Network,
        params: np.ndarray,
        seed: int,
        n_goods: int,
        n_steps: int,
        sample_every: int,
        events: np.ndarray | None = None,
    ):
        self.p = dict(zip(market.PARAMS, (float(x) for x in params), strict=True))
        self.events = [] if events is None else [tuple(map(float, e)) for e in events]
        goods = table(n_goods)
        rng = np.random.default_rng(seed)
        land = market.draw_landscape(
            net, goods, self.p["specialization"], rng, self.p["specialty_strength"]
        )
        self.key = int(draws.run_key(rng))
        self.goods = [Good(*map(float, g[:4]), bool(g[4] > 0.5)) for g in goods]
        self.n_goods, self.n_steps, self.sample_every = n_goods, n_steps, sample_every
        self.counties = [
            County(i, net, land.demand[i].tolist(), land.base[i].tolist(), float(rank))
            for i, rank in enumerate(land.phone_rank)
        ]
        self.traders = [
            Trader(e, net, self.counties[int(u)], self.counties[int(v)], n_goods)
            for e, (u, v) in enumerate(zip(net.edge_u, net.edge_v, strict=True))
        ]
        self.capital = self.counties[int(net.trio[0])]
        self.trio = [self.counties[int(i)] for i in net.trio]
        self.hubs = [self.counties[int(i)] for i in net.hubs]
        self.n_provinces = int(net.province.max()) + 1
        n = len(self.counties)
        self.demand_total = [sum(c.demand[k] for c in self.counties) for k in range(n_goods)]
        self.cap_scale = [d / n for d in self.demand_total]
        self.state = [0.0] * n_goods
        self.state_start = 0.0
        self.stock_start = sum(sum(c.stock) for c in self.counties)
        self.ledger = dict.fromkeys(market.LEDGER, 0.0)
        self.ev_start = [0.0] * len(self.events)
        self.noise_level, self.noise = None, []
        self.first = n_steps - max(1, int(self.p["window_share"] * n_steps + 0.5))
        self.sums = [0.0] * 10
        self.series = {name: [] for name in SERIES}
        self.reached = -1.0
        self.dirty = True
        self.t = 0

    # -- the week ---------------------------------------------------------------------------

    def step(self) -> None:
        t, p, counties = self.t, self.p, self.counties
        for c in counties:
            c.flood_left = max(c.flood_left - 1, 0)
        self.apply_events()
        if t == 0:
            for k, good in enumerate(self.goods):
                need = sum(self.level(c, p["pds_level"]) * c.demand[k] for c in counties)
                self.state[k] = M.INITIAL_STATE_WEEKS * need if good.staple else 0.0
            self.state_start = sum(self.state)
        if self.dirty:
            for trader in self.traders:
                trader.set_terms(p)
            for c in counties:
                c.phone = c.phone_rank < p["phone_penetration"]
            self.dirty = False
        self.elasticity = p["demand_elasticity"]
        self.turnover = p["turnover"] * (1.0 - p["market_ban"])
        self.log_turnover = math.log(self.turnover)
        self.lag = int(p["info_lag"])

        for c in counties:  # 2. arrivals
            due = c.arrivals[t % RING]
            for k in range(self.n_goods):
                c.stock[k] += due[k]
                due[k] = 0.0
        self.produce()  # 3
        wkey = draws.week_key_np(self.key, draws.FLOOD, t)  # 4. floods
        if _uniform(wkey, 0) < p["flood_rate"]:
            self.flood(counties[int(_uniform(wkey, 1) * len(counties))])
        self.china()  # 5
        self.rations()  # 6
        for c in counties:  # 7. spoilage
            for k, good in enumerate(self.goods):
                lost = p["spoilage_scale"] * good.spoilage * c.stock[k]
                c.stock[k] -= lost
                self.ledger["spoiled"] += lost
        self.close_links()  # 8
        for c in counties:  # 9. the prices traders expect, remembered for stale news
            for k in range(self.n_goods):
                c.supply[k] = c.stock[k] + sum(slot[k] for slot in c.arrivals)
            c.prices_from(c.supply, self)
            c.history[t % MEMORY] = list(c.log_p)
        self.arbitrage()  # 10
        for c in counties:  # 11. traders' capital
            gain = p["reinvest"] * c.profit / c.value_scale
            w = c.wealth + p["capital_recovery"] * (1.0 - c.wealth) + gain
            c.wealth = min(max(w, 0.0), M.WEALTH_MAX)
        self.clear()  # 12
        self.outputs()  # 13
        if (t + 2) % self.sample_every == 0:
            for c in counties:
                c.prev_log_p = list(c.log_p)
        self.t += 1

    def level(self, c: County, pds: float) -> float:
        return max(pds, self.p["capital_pds"]) if c is self.capital else pds

    def apply_events(self) -> None:
        t, p = self.t, self.p
        for m, (week, code, value, over) in enumerate(self.events):
            week, code, over = int(week), int(code), max(int(over), 1)
            if code >= 0:
                name = market.PARAMS[code]
                if t == week:
                    self.ev_start[m] = p[name]
                if week <= t < week + over:
                    p[name] = self.ev_start[m] + (value - self.ev_start[m]) * (t - week + 1) / over
                    self.dirty = True
            elif t == week and code == M.EVENT_FLOOD:
                self.flood(self.counties[int(value)])
            elif t == week and code == M.EVENT_CAPITAL_LOSS:
                for c in self.counties:
                    c.wealth *= 1.0 - value

    def flood(self, c: County) -> None:
        c.flood_left = max(c.flood_left, int(self.p["flood_weeks"]))
        for k, good in enumerate(self.goods):
            if good.staple:
                lost = self.p["flood_loss"] * c.stock[k]
                c.stock[k] -= lost
                self.ledger["flood_destroyed"] += lost

    def produce(self) -> None:
        """3. production: staples x season x the year's harvest shock, weekly noise, PDS
        procurement."""
        t, p, n_goods = self.t, self.p, self.n_goods
        if t == 0 or t % 52 == M.HARVEST_WEEK:
            sd, rho = p["harvest_sd"], p["harvest_correlation"]
            pkey = draws.week_key_np(self.key, draws.HARVEST_PROVINCE, t)
            lkey = draws.week_key_np(self.key, draws.HARVEST_LOCAL, t)
            province_z = [_normal(pkey, g) for g in range(self.n_provinces)]
            for c in self.counties:
                for k, good in enumerate(self.goods):
                    if good.staple:
                        local = _normal(lkey, c.index * n_goods + k)
                        z = math.sqrt(rho) * province_z[c.province] + math.sqrt(1.0 - rho) * local
                        c.harvest[k] = math.exp(sd * z - 0.5 * sd * sd)
        for week, code, value, _ in self.events:
            if int(week) == t and int(code) == M.EVENT_HARVEST:
                for c in self.counties:
                    for k, good in enumerate(self.goods):
                        if good.staple:
                            c.harvest[k] *= value
        if p["production_noise"] != self.noise_level:
            self.noise_level = p["production_noise"]
            self.noise = [math.exp(self.noise_level * q) for q in market.NORMAL_TABLE.tolist()]
            total = sum(self.noise)
            self.noise = [f * (len(self.noise) / total) for f in self.noise]
        grow = 1.0 + p["seasonal_amplitude"] * math.cos(
            2.0 * math.pi * (t - M.SEASON_PEAK_WEEK) / 52.0
        )
        procure = min(p["pds_level"], M.MAX_PROCUREMENT)
        wkey = draws.week_key_np(self.key, draws.PRODUCTION, t)
        for c in self.counties:
            flooded = 1.0 - p["flood_loss"] if c.flood_left > 0 else 1.0
            for k, good in enumerate(self.goods):
                y = c.base[k] * self.noise[_table_index(wkey, c.index * n_goods + k)]
                if good.staple:
                    y = y * (grow * c.harvest[k]) * flooded
                    procured = procure * y
                    self.state[k] += procured
                    c.stock[k] += y - procured
                else:
                    c.stock[k] += y
                self.ledger["produced"] += y

    def china(self) -> None:
        """5. imports enter at border units (the state's share at the capital); exports leave."""
        p = self.p
        for k, good in enumerate(self.goods):
            imported = p["china_trade"] * good.import_share * self.demand_total[k]
            to_state = p["state_import_share"] * imported
            self.capital.stock[k] += to_state
            for c in self.counties:
                c.stock[k] += (imported - to_state) * c.import_weight
            self.ledger["imported"] += imported
            wanted = p["china_trade"] * good.export_share * self.demand_total[k]
            for c in self.counties:
                if c.import_weight > 0.0:
                    x = min(wanted * c.import_weight, M.MAX_OUTFLOW_SHARE * c.stock[k])
                    c.stock[k] -= x
                    self.ledger["exported"] += x

    def rations(self) -> None:
        """6. PDS rations from the state stock, cut pro rata when it runs short."""
        pds = self.p["pds_level"]
        for k, good in enumerate(self.goods):
            need = sum(self.level(c, pds) * c.demand[k] for c in self.counties)
            share = min(1.0, self.state[k] / need) if good.staple and need > 0.0 else 0.0
            self.state[k] -= share * need
            for c in self.counties:
                c.rations[k] = share * self.level(c, pds) * c.demand[k]
                c.market_demand[k] = max(c.demand[k] - c.rations[k], M.DEMAND_FLOOR * c.demand[k])

    def close_links(self) -> None:
        """8. rail outages and floods close links."""
        outage = self.p["rail_outage_rate"] * (1.0 - self.p["transport_investment"])
        wkey = draws.week_key_np(self.key, draws.OUTAGE, self.t)
        for trader in self.traders:
            down = trader.rail and outage > 0.0 and _uniform(wkey, trader.index) < outage
            trader.open = not down and trader.a.flood_left == 0 and trader.b.flood_left == 0

    def arbitrage(self) -> None:
        """10. link by link in a fixed order, arbitrage_rounds passes; stale news once a week."""
        p = self.p
        for c in self.counties:
            c.inflow_value = c.profit = 0.0
            for k, good in enumerate(self.goods):
                share = 1.0 - p["self_reliance"] if good.staple else 1.0
                c.room[k] = M.MAX_OUTFLOW_SHARE * share * c.stock[k]
                c.price[k] = math.exp(c.log_p[k])
        rounds = int(p["arbitrage_rounds"])
        self.cap_round = [p["trader_capital"] * s / rounds for s in self.cap_scale]
        self.trade_value = self.crossing_value = self.confiscated = 0.0
        old = max(self.t - self.lag, 0) % MEMORY
        for trader in self.traders:
            trader.traded = [False] * self.n_goods
            trader.informed = trader.a.phone and trader.b.phone
        for r in range(rounds):
            moved = False
            for trader in self.traders:
                if trader.open and (r == 0 or trader.informed):
                    moved |= trader.trade(self, old)
            if not moved:
                break
        self.ledger["confiscated"] += self.confiscated

    def clear(self) -> None:
        """12. each market sells turnover x stock at the price that clears its demand."""
        self.market_value = self.ration_value = 0.0
        for c in self.counties:
            c.prices_from(c.stock, self)
            market_i = 0.0
            for k in range(self.n_goods):
                c.price[k] = math.exp(c.log_p[k])
                sold = self.turnover * c.stock[k]
                market_i += sold * c.price[k]
                self.ration_value += c.rations[k] * c.price[k]
                c.stock[k] -= sold
                c.consumed[k] = sold + c.rations[k]
                self.ledger["consumed"] += c.consumed[k]
            c.market_value = market_i
            self.market_value += market_i
        marginal = [c.inflow_value < M.MARGINAL_INFLOW * c.market_value for c in self.counties]
        self.marginal = sum(marginal) / len(self.counties)

    def outputs(self) -> None:
        """13. the week's outputs, in weeks that are averaged or sampled."""
        t, p, goods, counties = self.t, self.p, self.goods, self.counties
        for trader in self.traders:
            for k in range(self.n_goods):
                trader.ever_traded[k] = trader.ever_traded[k] or trader.traded[k]
        counted = t >= self.first
        sampled = (t + 1) % self.sample_every == 0 and len(self.series["step"]) < (
            self.n_steps // self.sample_every
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
                premium += good.weight * (far - self.capital.log_p[k])
            level += good.weight * sum(c.population * c.log_p[k] for c in counties) / n
        dispersion /= self.n_goods
        cv /= self.n_goods
        premium /= weights
        level /= weights
        trio = [c.log_p[0] for c in self.trio]
        trio_mean = sum(trio) / 3.0
        trio_sd = math.sqrt(sum((x - trio_mean) ** 2 for x in trio) / 3.0)
        short = 0.0
        for c in counties:
            c.welfare = gap = 0.0
            for k, good in enumerate(goods):
                ratio = c.consumed[k] / c.demand[k]
                c.welfare += good.weight * ratio
                gap += good.weight * max(1.0 - ratio, 0.0)
            short += c.population * gap
        short /= sum(c.population for c in counties) * weights
        within = pairs = 0
        for trader in self.traders:
            for k in range(self.n_goods):
                gap = abs(trader.b.log_p[k] - trader.a.log_p[k])
                trader.linked[k] = gap <= trader.transport + M.BAND_SLACK and trader.ever_traded[k]
                if trader.open:
                    pairs += 1
                    within += gap <= trader.cost + M.BAND_SLACK
        compliance = within / pairs if pairs else 1.0
        share = self.trade_value / (self.trade_value + self.market_value)
        income_share = self.market_value / (self.market_value + self.ration_value)
        if counted:
            crossing = self.crossing_value / self.trade_value if self.trade_value > 0.0 else 0.0
            week = (dispersion, cv, share, compliance, short, premium, trio_sd, income_share,
                    self.marginal, crossing)  # fmt: skip
            self.sums = [s + x for s, x in zip(self.sums, week, strict=True)]
            for c in counties:
                c.welfare_sum += c.welfare
            for trader in self.traders:
                for k in range(self.n_goods):
                    trader.active_steps[k] += trader.traded[k]
                    trader.linked_steps[k] += trader.linked[k]
        if sampled:
            lcc = sum(
                self.largest([tr for tr in self.traders if tr.linked[k]])[0]
                for k in range(self.n_goods)
            )
            lcc /= self.n_goods
            if self.reached < 0.0 and lcc >= p["integration_threshold"] - M.THRESHOLD_TOLERANCE:
                self.reached = t + 1.0
            spatial = self.spatial_correlation() if t > 0 else 0.0
            row = (t + 1.0, dispersion, share, compliance, lcc, short, premium, trio_sd,
                   gini([c.welfare for c in counties], counties), level, spatial)  # fmt: skip
            for name, value in zip(SERIES, row, strict=True):
                self.series[name].append(value)

    def spatial_correlation(self) -> float:
        """Moran's I of the week's log-price changes over the links, averaged over goods."""
        counties, n, n_links = self.counties, len(self.counties), len(self.traders)
        if n_links == 0:
            return 0.0
        total = 0.0
        for k in range(self.n_goods):
            z = [c.log_p[k] - c.prev_log_p[k] for c in counties]
            mean = sum(z) / n
            z = [x - mean for x in z]
            squares = sum(x * x for x in z)
            if squares > M.SPATIAL_FLOOR:
                cross = sum(z[tr.a.index] * z[tr.b.index] for tr in self.traders)
                total += n / n_links * cross / squares
        return total / self.n_goods

    # -- the end of a run -------------------------------------------------------------------

    def largest(self, links: list[Trader]) -> tuple[float, set[County]]:
        """(population share, members) of the most populous component joined by ``links``;
        ties go to the component with the smallest root (union by smaller index)."""
        parent = list(range(len(self.counties)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for tr in links:
            a, b = find(tr.a.index), find(tr.b.index)
            if a != b:
                parent[max(a, b)] = min(a, b)
        mass = [0.0] * len(self.counties)
        for c in self.counties:
            mass[find(c.index)] += c.population
        best = 0
        for i, m in enumerate(mass):
            if m > mass[best] + 1e-12:
                best = i
        members = {c for c in self.counties if find(c.index) == best}
        return mass[best] / sum(c.population for c in self.counties), members

    def finish(self) -> Result:
        p, counties = self.p, self.counties
        ledger = dict(self.ledger)
        ledger["market_stock_change"] = sum(sum(c.stock) for c in counties) - self.stock_start
        ledger["in_transit_change"] = sum(sum(sum(s) for s in c.arrivals) for c in counties)
        ledger["state_stock_change"] = sum(self.state) - self.state_start
        scale = sum(self.cap_scale) / len(self.cap_scale)
        window = self.n_steps - self.first
        means = [s / window for s in self.sums]
        need_trade = math.ceil(p["active_trade_share"] * window - M.THRESHOLD_TOLERANCE)
        need_linked = math.ceil(p["linked_share"] * window - M.THRESHOLD_TOLERANCE)
        index = hubs_in = 0.0
        for k in range(self.n_goods):
            used = [
                tr
                for tr in self.traders
                if tr.linked_steps[k] >= need_linked and tr.active_steps[k] > 0
            ]
            index += self.largest(used)[0]
            members = self.largest([tr for tr in self.traders if tr.active_steps[k] >= need_trade])
            hubs_in += sum(h in members[1] for h in self.hubs) / len(self.hubs)
        index /= self.n_goods
        integrated = index >= p["integration_threshold"] - M.THRESHOLD_TOLERANCE
        values = (*means[:7], gini([c.welfare_sum for c in counties], counties), *means[7:],
                  hubs_in / self.n_goods, self.reached, index, float(integrated))  # fmt: skip
        return Result(
            dict(zip(OUTCOMES, values, strict=True)),
            self.series,
            {name: value / scale for name, value in ledger.items()},
            [list(c.log_p) for c in counties],
        )


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


def simulate(
    net: Network,
    params: np.ndarray,
    seed: int,
    n_goods: int,
    n_steps: int,
    sample_every: int,
    events: np.ndarray | None = None,
) -> Result:
    """One run, with the arguments of ``kernels.reference.simulate``."""
    model = Model(net, params, seed, n_goods, n_steps, sample_every, events)
    for _ in range(n_steps):
        model.step()
    return model.finish()

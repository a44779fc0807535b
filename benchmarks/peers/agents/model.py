"""The per-agent peer's run: a ``Model`` whose ``step()`` runs the kernel's phases with Python
loops, floats and the ``math`` module, and ``simulate``."""

from __future__ import annotations

import math

import numpy as np

from benchmarks.peers.agents import outputs, routes
from benchmarks.peers.agents.outputs import SERIES, Result
from benchmarks.peers.agents.units import (
    MEMORY,
    RING,
    County,
    Good,
    Trader,
    normal,
    table_index,
    uniform,
)
from segmark.kernels import draws, market
from segmark.kernels import parameters as M  # the model's constants
from segmark.kernels.goods import table
from segmark.kernels.network import Network
from segmark.kernels.outputs import AVERAGED


class Model:
    """One run: counties, traders (petty, one per link; wholesale, one per route), the state's
    PDS stock and the week counter."""

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
        self.routes = routes.build(self, net)
        self.channels = [*self.traders, *self.routes]  # the arbitrage's order
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
        self.sums = [0.0] * len(AVERAGED)
        self.cash = self.sales = self.sales_mean = 0.0
        self.won_level = self.won_first = 1.0
        self.series = {name: [] for name in SERIES}
        self.reached = -1.0
        self.dirty = self.routes_dirty = True
        self.t = 0

    # -- the week ---------------------------------------------------------------------------

    def step(self) -> None:
        t, p, counties = self.t, self.p, self.counties
        for c in counties:
            self.routes_dirty |= c.flood_left == 1  # a flood ends
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
            self.routes_dirty = True
            for c in counties:
                c.phone = c.phone_rank < p["phone_penetration"]
            self.dirty = False
        self.elasticity = p["demand_elasticity"]
        self.turnover = p["turnover"] * (1.0 - p["market_ban"])
        self.log_turnover = math.log(self.turnover)
        self.lag = int(p["info_lag"])
        self.tolerance = p["arbitrage_tolerance"]

        for c in counties:  # 2. arrivals
            due = c.arrivals[t % RING]
            for k in range(self.n_goods):
                c.stock[k] += due[k]
                due[k] = 0.0
        self.produce()  # 3
        wkey = draws.week_key_np(self.key, draws.FLOOD, t)  # 4. floods
        if uniform(wkey, 0) < p["flood_rate"]:
            self.flood(counties[int(uniform(wkey, 1) * len(counties))])
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
        self.money()  # 13
        self.outputs()  # 14
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
            elif t == week and code == M.EVENT_REDENOMINATION:
                self.cash *= (1.0 - value) / M.REDENOMINATION

    def flood(self, c: County) -> None:
        self.routes_dirty |= c.flood_left == 0 and self.p["flood_weeks"] > 0  # a flood starts
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
            province_z = [normal(pkey, g) for g in range(self.n_provinces)]
            for c in self.counties:
                for k, good in enumerate(self.goods):
                    if good.staple:
                        local = normal(lkey, c.index * n_goods + k)
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
                y = c.base[k] * self.noise[table_index(wkey, c.index * n_goods + k)]
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
        """8. rail outages (lasting outage_weeks on average) and floods close links; routes
        follow (a rail outage on a route's path closes it for the week)."""
        outage = self.p["rail_outage_rate"] * (1.0 - self.p["transport_investment"])
        weeks = self.p["outage_weeks"]
        stay, begin = outage, outage  # week 0: the long-run share
        if self.t > 0:
            stay = 1.0 - 1.0 / weeks
            begin = min(outage / (weeks * (1.0 - outage)), 1.0) if outage < 1.0 else 1.0
        wkey = draws.week_key_np(self.key, draws.OUTAGE, self.t)
        for trader in self.traders:
            chance = stay if trader.rail_down else begin
            down = trader.rail and uniform(wkey, trader.index) < chance
            trader.rail_down = down
            trader.open = not down and trader.a.flood_left == 0 and trader.b.flood_left == 0
        if self.routes_dirty:
            routes.set_routes(self)
        for route in self.routes:
            route.week()

    def arbitrage(self) -> None:
        """10. trips over the channels (links, then routes) in a fixed order: pass 0 visits all
        open channels (stale news for the uninformed), later passes the informed ones with an
        end whose price moved in the pass before, until a pass moves nothing."""
        p = self.p
        held, capital = p["self_reliance"], p["trader_capital"]
        for c in self.counties:
            c.inflow_value = c.profit = 0.0
            c.moved = True
            for k, good in enumerate(self.goods):
                share = 1.0 - held if good.staple and not c.depot else 1.0
                c.room[k] = M.MAX_OUTFLOW_SHARE * share * c.stock[k]
                c.budget[k] = capital * c.demand[k] * c.wealth
                c.price[k] = math.exp(c.log_p[k])
        self.trade_value = self.crossing_value = self.wholesale_value = self.confiscated = 0.0
        old = max(self.t - self.lag, 0) % MEMORY
        for trader in self.traders:
            trader.traded = [False] * self.n_goods
        visit = [ch for ch in self.channels if ch.open]
        for ch in visit:
            ch.informed = ch.a.phone and ch.b.phone
        informed = [ch for ch in visit if ch.informed]
        self.passes = 0
        while self.passes < M.MAX_PASSES:
            moved = self.trading_pass(visit if self.passes == 0 else informed, old)
            self.passes += 1
            if not moved:
                break
        self.ledger["confiscated"] += self.confiscated

    def trading_pass(self, channels: list, old: int) -> bool:
        """One pass over ``channels``, skipping those whose ends' prices stood still."""
        for c in self.counties:
            c.moved_now = False
        moved = False
        for ch in channels:
            if (ch.a.moved or ch.b.moved) and ch.trade(self, old):
                ch.a.moved_now = ch.b.moved_now = True
                moved = True
        for c in self.counties:
            c.moved = c.moved_now
        return moved

    def clear(self) -> None:
        """12. each market sells turnover x stock at the price that clears its demand."""
        self.market_value = self.ration_value = self.sales = 0.0
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
                self.sales += sold
            c.market_value = market_i
            self.market_value += market_i
        marginal = [c.inflow_value < M.MARGINAL_INFLOW * c.market_value for c in self.counties]
        self.marginal = sum(marginal) / len(self.counties)

    def money(self) -> None:
        """13. cash grows; the won level is cash over the won balances the market holds."""
        won_share = 1.0 - self.p["dollarization"]
        if self.t == 0:
            self.sales_mean, self.cash = self.sales, won_share * self.sales
        else:
            self.sales_mean += (self.sales - self.sales_mean) / M.MONEY_WEEKS
            self.cash *= math.exp(self.p["money_growth"] / 52.0)
        self.won_level = self.cash / (won_share * self.sales_mean)
        if self.t == self.first:
            self.won_first = self.won_level

    def outputs(self) -> None:
        """14. the week's outputs, in weeks that are averaged or sampled."""
        outputs.week_outputs(self)

    def finish(self) -> outputs.Result:
        return outputs.finish(self)


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

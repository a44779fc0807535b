"""The per-agent peer's agents: goods, counties (one market each) and traders (one per link),
and the counter-based draws of ``kernels.draws`` with Python integers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from segmark.kernels import draws
from segmark.kernels import parameters as M  # the model's constants
from segmark.kernels.network import RAIL, Network

if TYPE_CHECKING:
    from benchmarks.peers.agents.model import Model

RING = M.MAX_DELAY + 1
MEMORY = M.MAX_LAG + 1

# Counter-based draws (kernels.draws) with Python integers.
_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15
_UNIT = 2.0**-53


def word(wkey: int, index: int) -> int:
    return draws.mix_int((wkey + (index + 1) * _GAMMA) & _MASK)


def uniform(wkey: int, index: int) -> float:
    return float(word(wkey, index) >> 11) * _UNIT


def normal(wkey: int, index: int) -> float:
    u1 = 1.0 - uniform(wkey, 2 * index)
    u2 = uniform(wkey, 2 * index + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def table_index(wkey: int, index: int) -> int:
    return word(wkey, index) >> (64 - draws.NORMAL_BITS)


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

"""The per-agent peer's agents: goods, counties (one market each), the traders of a channel
(``Channel``: its trips) and the petty traders of a link (``Trader``), the costs of a trip,
and the counter-based draws of ``kernels.draws`` with Python integers (``routes.py`` has the
wholesalers)."""

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
        self.depot = False  # wholesalers keep stock here (routes.py)
        self.links: list[tuple[Trader, County]] = []  # its links and their far ends
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
        self.budget = [0.0] * k
        self.consumed = [0.0] * k
        self.moved = self.moved_now = False  # its prices moved in the last pass, in this one
        self.inflow_value = 0.0
        self.profit = 0.0
        self.market_value = 0.0
        self.welfare = 0.0
        self.welfare_sum = 0.0
        self.gap = 0.0  # unmet demand this week (spending-weighted)
        self.sums = [0.0] * 5  # window sums: level, rice in won, unmet demand, inflow, market

    def prices_from(self, amounts: list, model: Model) -> None:
        """log p = (log market demand - log turnover - log amount) / elasticity."""
        for k in range(len(amounts)):
            self.log_p[k] = (
                math.log(self.market_demand[k]) - model.log_turnover - math.log(amounts[k])
            ) / model.elasticity


def haulage(p: dict, rail: bool, km: float, load_share: float) -> float:
    """Per-kg haulage over a link before investment, a share of a kg of rice's value: rail_cost
    by rail, road_cost x ``load_share`` by road."""
    per_km = p["rail_cost"] if rail else p["road_cost"] * load_share
    return per_km * km / 100.0


def trip_terms(p: dict, haul: float, weight: float, lines: float, load: float) -> tuple:
    """A trip's cost (log price) and the share of its load that arrives: haulage after
    investment, the permit bribe and checkpoint fines over the load, and under a crackdown a
    bribe or a seizure, whichever is cheaper."""
    fees = p["permit_bribe"] * M.KPW_PER_USD * weight + p["checkpoint_fine"] * lines
    shares = (1.0 - p["transport_investment"]) * haul
    shares = shares + p["permit_strictness"] * fees / (load * M.RICE_KPW)
    seized = p["crackdown"] * p["confiscation_max"]
    bribe = p["crackdown"] * p["protection_bribe"] * M.KPW_PER_USD / (load * M.RICE_KPW)
    if bribe < seized:
        return math.log1p(shares + bribe), 1.0
    return math.log1p(shares) - math.log(1.0 - seized), 1.0 - seized


class Channel:
    """The traders of a channel between two units (a link, or a wholesale route): they make a
    trip when the price gap they see beats a trip's cost."""

    wholesale = 0.0  # 1.0 for routes: their trade counts as wholesale

    def __init__(self, a: County, b: County):
        self.a, self.b = a, b
        self.cost = self.transport = self.keep = self.crossing = 0.0
        self.delay = 0
        self.open = self.informed = True

    def mark(self, k: int) -> None:
        """The links a trip of good ``k`` travelled carried it this week."""
        raise NotImplementedError

    def trade(self, m: Model, old: int) -> bool:
        """One pass's trips, good by good; True if any was made."""
        a, b = self.a, self.b
        seen_a, seen_b = (a.log_p, b.log_p) if self.informed else (a.history[old], b.history[old])
        # without fresh news a trip is spread over the weeks until the next news
        rate = m.elasticity if self.informed else m.elasticity / (1.0 + m.lag)
        made = False
        for k in range(m.n_goods):
            gap = seen_b[k] - seen_a[k]
            excess = abs(gap) - self.cost
            if excess <= m.tolerance:
                continue
            src, dst = (a, b) if gap > 0.0 else (b, a)
            made |= self.trip(m, k, src, dst, rate * excess)
        return made

    def trip(self, m: Model, k: int, src: County, dst: County, push: float) -> bool:
        """Ship what closes the gap at linearised prices, within capital and stock."""
        inv_src = 1.0 / src.supply[k]
        inv_dst = 1.0 / dst.supply[k]
        keep = self.keep
        x = min(push / (inv_src + keep * inv_dst), src.budget[k], src.room[k])
        if x <= 0.0:
            return False
        # the margin at the prices as they stand (stale news can mislead)
        margin = dst.log_p[k] - src.log_p[k] - self.cost
        self.mark(k)
        src.room[k] -= x
        src.budget[k] -= x
        src.stock[k] -= x
        src.supply[k] -= x
        arriving = keep * x
        dst.supply[k] += arriving
        m.confiscated += x - arriving
        if self.delay == 0:
            dst.stock[k] += arriving
        else:
            dst.arrivals[(m.t + self.delay) % RING][k] += arriving
        src.log_p[k] += x * inv_src / m.elasticity
        dst.log_p[k] -= arriving * inv_dst / m.elasticity
        value = x * src.price[k]
        m.trade_value += value
        m.crossing_value += self.crossing * value
        m.wholesale_value += self.wholesale * value
        dst.inflow_value += value
        src.profit += value * margin
        return True


class Trader(Channel):
    """The petty traders of one link: trips over it with a petty load."""

    def __init__(self, index: int, net: Network, a: County, b: County, n_goods: int):
        super().__init__(a, b)
        self.index = index
        self.km = float(net.edge_km[index])
        self.rail = int(net.edge_mode[index]) == RAIL
        self.permit = float(net.edge_permit[index])
        self.rail_down = False
        self.weight = 0.0  # a truckload's per-kg cost over it (routes.py)
        self.traded = [False] * n_goods
        self.ever_traded = [False] * n_goods
        self.linked = [False] * n_goods
        self.active_steps = [0] * n_goods
        self.linked_steps = [0] * n_goods

    def set_terms(self, p: dict) -> None:
        """Cost and share arriving of a petty trip, the haulage before investment (the ruler of
        price links), the permit flag and whole weeks in transit."""
        days = p["rail_days"] if self.rail else p["road_days"]
        self.transport = haulage(p, self.rail, self.km, 1.0)
        self.crossing = 1.0 if self.permit > 0.0 else 0.0
        self.cost, self.keep = trip_terms(
            p, self.transport, self.permit, self.crossing, p["petty_load"]
        )
        self.delay = min(math.floor(days * self.km / 100.0 / 7.0 + 1e-9), M.MAX_DELAY)

    def mark(self, k: int) -> None:
        self.traded[k] = True

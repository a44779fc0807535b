"""The per-agent peer's wholesalers: one ``Wholesaler`` object per route between two depots
(the major hubs and border units), its path found by a Dijkstra over the counties' links, as
``kernels.routes`` runs it (``units.py`` has the counties and the petty traders)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from benchmarks.peers.agents.units import Channel, County, Trader, haulage, trip_terms
from segmark.kernels import parameters as M  # the model's constants
from segmark.kernels.network import BORDER, Network

if TYPE_CHECKING:
    from benchmarks.peers.agents.model import Model


class Wholesaler(Channel):
    """The wholesalers of one route: trips with a truckload between two depots along the
    cheapest path (by any mode, or by road only), which carry the good over each of its links."""

    wholesale = 1.0

    def __init__(self, a: County, b: County, road_only: bool):
        super().__init__(a, b)
        self.road_only = road_only
        self.path: list[Trader] = []
        self.reachable = False

    def set_terms(self, p: dict, pred: list[Trader | None]) -> None:
        """The path to ``b`` back along ``pred``, and the terms of a trip along it: cost and
        share arriving, haulage before investment, whole weeks in transit, permit flag."""
        self.path, node = [], self.b
        while pred[node.index] is not None:
            trader = pred[node.index]
            self.path.append(trader)
            node = trader.a if trader.b is node else trader.b
        self.reachable = pred[self.b.index] is not None
        haul = days = lines = weight = 0.0
        for trader in self.path:
            haul += haulage(p, trader.rail, trader.km, p["truckload_share"])
            days += (p["rail_days"] if trader.rail else p["road_days"]) * trader.km / 100.0
            lines += trader.permit > 0.0
            weight = max(weight, trader.permit)
        self.transport = haul
        self.cost, self.keep = trip_terms(p, haul, weight, lines, p["wholesale_load"])
        self.delay = min(math.floor(days / 7.0 + 1e-9), M.MAX_DELAY)
        self.crossing = 1.0 if lines > 0.0 else 0.0

    def week(self) -> None:
        """Open this week if its path exists and no rail link on it is down."""
        self.open = self.reachable and not any(trader.rail_down for trader in self.path)

    def mark(self, k: int) -> None:
        for trader in self.path:
            trader.traded[k] = True


def build(m: Model, net: Network) -> list[Wholesaler]:
    """Mark the depots; the routes of each pair of them, any mode first, then road only; each
    county's links in the network's order (the order Dijkstra relaxes them)."""
    tier, indptr = net.tier.tolist(), net.indptr.tolist()
    adj_edge, adj_node = net.adj_edge.tolist(), net.adj_node.tolist()
    for c in m.counties:
        c.depot = c in m.hubs or tier[c.index] == BORDER or c is m.trio[2]
        ends = range(indptr[c.index], indptr[c.index + 1])
        c.links = [(m.traders[adj_edge[j]], m.counties[adj_node[j]]) for j in ends]
    depots = [c for c in m.counties if c.depot]
    pairs = [(a, b) for i, a in enumerate(depots) for b in depots[i + 1 :]]
    return [Wholesaler(a, b, road) for road in (False, True) for a, b in pairs]


def set_routes(m: Model) -> None:
    """Every route's path and terms, one Dijkstra per source and mode."""
    p = m.p
    invest = 1.0 - p["transport_investment"]
    fine = p["permit_strictness"] * p["checkpoint_fine"] / (p["wholesale_load"] * M.RICE_KPW)
    for trader in m.traders:
        trader.weight = invest * haulage(p, trader.rail, trader.km, p["truckload_share"])
        trader.weight += fine * (trader.permit > 0.0)
    paths: dict[tuple[County, bool], list[Trader | None]] = {}
    for route in m.routes:
        key = (route.a, route.road_only)
        if key not in paths:
            paths[key] = shortest_paths(m, route.a, route.road_only)
        route.set_terms(p, paths[key])
    m.routes_dirty = False


def shortest_paths(m: Model, source: County, road_only: bool) -> list[Trader | None]:
    """The last link of each county's cheapest path from ``source`` (None: no path): Dijkstra
    over counties not flooded, O(N^2) as the kernel runs it, the lowest county first among
    equals."""
    n = len(m.counties)
    dist = [math.inf] * n
    pred: list[Trader | None] = [None] * n
    done = [c.flood_left > 0 for c in m.counties]
    dist[source.index] = 0.0
    while True:
        u, best = -1, math.inf
        for i in range(n):
            if not done[i] and dist[i] < best:
                u, best = i, dist[i]
        if u < 0:
            return pred
        done[u] = True
        for trader, far in m.counties[u].links:
            v = far.index
            if road_only and trader.rail:
                continue
            if not done[v] and best + trader.weight < dist[v]:
                dist[v] = best + trader.weight
                pred[v] = trader

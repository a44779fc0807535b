"""The NumPy twin's wholesale routes (``kernels.routes``): depots and their routes, trip costs,
least-cost paths, route terms. Plain Python and NumPy, run only when routes change."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .network import BORDER, RAIL
from .parameters import KPW_PER_USD, MAX_DELAY, RICE_KPW, P


def depots(s: SimpleNamespace) -> None:
    """The depots, their routes (any mode, then road only, for each pair) and the channels."""
    s.depot = s.hub | (s.tier == BORDER)
    s.depot[s.trio[2]] = True
    pairs = np.array(
        [(a, b) for a in np.flatnonzero(s.depot) for b in np.flatnonzero(s.depot) if a < b],
        dtype=np.int64,
    ).reshape(-1, 2)
    s.route_u, s.route_v = np.tile(pairs[:, 0], 2), np.tile(pairs[:, 1], 2)
    s.ch_u = np.concatenate([s.node_u, s.route_u.astype(np.uint64)])
    s.ch_v = np.concatenate([s.node_v, s.route_v.astype(np.uint64)])


def trip_terms(p: np.ndarray, haul, weight, lines, load: float) -> tuple:
    """Cost (log price) and share arriving of trips (arrays): haulage after investment, permit
    bribe and fines over the load, and a crackdown's bribe or seizure, whichever is cheaper."""
    fees = p[P.permit_bribe] * KPW_PER_USD * weight + p[P.checkpoint_fine] * lines
    shares = (1.0 - p[P.transport_investment]) * haul
    shares = shares + p[P.permit_strictness] * fees / (load * RICE_KPW)
    seized = p[P.crackdown] * p[P.confiscation_max]
    bribe = p[P.crackdown] * p[P.protection_bribe] * KPW_PER_USD / (load * RICE_KPW)
    pays = bribe < seized
    cost = np.where(pays, np.log1p(shares + bribe), np.log1p(shares) - np.log(1.0 - seized))
    return cost, np.where(pays, 1.0, 1.0 - seized)


def haulage(s: SimpleNamespace, load_share: float) -> np.ndarray:
    """Per-kg haulage of each link before investment, a share of a kg of rice's value."""
    p = s.params
    per_km = np.where(s.edge_mode == RAIL, p[P.rail_cost], p[P.road_cost] * load_share)
    return per_km * s.edge_km / 100.0


def shortest_paths(s: SimpleNamespace, source: int, road_only: bool) -> np.ndarray:
    """The last link of each unit's cheapest path from ``source`` (-1: none): Dijkstra over
    units not flooded, as the kernel runs it (the lowest unit first among equals)."""
    p, n = s.params, len(s.population)
    weight = (1.0 - p[P.transport_investment]) * haulage(s, p[P.truckload_share])
    fine = p[P.permit_strictness] * p[P.checkpoint_fine] / (p[P.wholesale_load] * RICE_KPW)
    weight = weight + fine * (s.edge_permit > 0.0)
    dist, pred = np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    done = s.flood_left > 0
    dist[source] = 0.0
    while True:
        candidates = np.where(done, np.inf, dist)
        u = int(np.argmin(candidates))
        if not np.isfinite(candidates[u]):
            return pred
        done[u] = True
        for j in range(s.indptr[u], s.indptr[u + 1]):
            e, v = s.adj_edge[j], s.adj_node[j]
            if road_only and s.edge_mode[e] == RAIL:
                continue
            if not done[v] and dist[u] + weight[e] < dist[v]:
                dist[v], pred[v] = dist[u] + weight[e], e


def route_terms(s: SimpleNamespace) -> None:
    p, n_edges, half = s.params, len(s.edge_u), len(s.route_u) // 2
    haul = haulage(s, p[P.truckload_share])
    days = np.where(s.edge_mode == RAIL, p[P.rail_days], p[P.road_days]) * s.edge_km / 100.0
    s.route_edges[:] = -1
    end = 0
    for r in range(len(s.route_u)):
        if r in (0, half) or s.route_u[r] != s.route_u[r - 1]:
            pred = shortest_paths(s, s.route_u[r], r >= half)
        path, node = [], s.route_v[r]
        while pred[node] >= 0:
            path.append(pred[node])
            node = s.edge_u[pred[node]] if s.edge_v[pred[node]] == node else s.edge_v[pred[node]]
        path = np.array(path, dtype=np.int64)
        c = n_edges + r
        s.route_ptr[r], s.route_edges[end : end + len(path)] = end, path
        end += len(path)
        s.ch_reachable[c] = pred[s.route_v[r]] >= 0
        lines = float((s.edge_permit[path] > 0.0).sum())
        weight = s.edge_permit[path].max() if len(path) else 0.0
        s.transport[c] = haul[path].sum()
        s.cost[c], s.keep[c] = trip_terms(p, s.transport[c], weight, lines, p[P.wholesale_load])
        s.delay[c] = min(int(np.floor(days[path].sum() / 7.0 + 1e-9)), MAX_DELAY)
        s.crossing[c] = 1.0 if lines > 0 else 0.0
    s.route_ptr[len(s.route_u)] = end
    s.routes_dirty = False

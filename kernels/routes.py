"""Wholesale routes between depots: least-cost paths over the links, and their terms.

A depot is a major hub or a border unit (where wholesalers keep stock). Each pair of depots has
two routes: the cheapest path for a load over any links (wagons where rail is cheaper), and the
cheapest by road alone (a servi-cha truck), each with per-kg haulage by mode and the
checkpoint fines of the permit lines it crosses spread over the load. Paths avoid flooded
units and are recomputed when the parameters change or a flood starts or ends
(``s.routes_dirty``); a rail outage on a path closes that route for the week, and the load
goes by road (recomputing every path around each week's outages would cost more than the
rest of the week).

Routes 0 to R/2 - 1 are the any-mode routes of the depot pairs, R/2 to R - 1 the road routes
of the same pairs. Route r is channel E + r of the arbitrage (links are channels 0 to E-1): its
cost, share arriving, delay and permit flag sit in the same arrays as the links'.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .network import RAIL
from .parameters import KPW_PER_USD, MAX_DELAY, RICE_KPW, P

_jit = njit(cache=True, nogil=True, error_model="numpy")


@_jit
def haulage(params, edge_km, edge_mode, e, load_share):
    """Per-kg cost of moving a load over link ``e`` before investment, as a share of a kg of
    rice's value: rail_cost by rail, road_cost x ``load_share`` by road."""
    per_km = params[P.rail_cost] if edge_mode[e] == RAIL else params[P.road_cost] * load_share
    return per_km * edge_km[e] / 100.0


@_jit
def trip_share(params, permit_weight, lines, load_kg):
    """Per-trip costs (the permit bribe at the route's highest permit weight, the checkpoint
    fines of its permit lines), enforced at permit_strictness, as a share of a load's value."""
    kpw = params[P.permit_bribe] * KPW_PER_USD * permit_weight
    kpw += params[P.checkpoint_fine] * lines
    return params[P.permit_strictness] * kpw / (load_kg * RICE_KPW)


@_jit
def trip_terms(params, haul, permit_weight, lines, load_kg):
    """A trip's cost (log price) and the share of its load that arrives. Under a crackdown
    a trader either loses confiscation_max x crackdown of the load or pays crackdown x
    protection_bribe per trip, whichever costs less: petty loads are seized, truckloads pay
    (both are expected costs of a trip, per Daily NK and RFA accounts of inspections)."""
    invest = 1.0 - params[P.transport_investment]
    shares = invest * haul + trip_share(params, permit_weight, lines, load_kg)
    seized = params[P.crackdown] * params[P.confiscation_max]
    bribe = params[P.crackdown] * params[P.protection_bribe] * KPW_PER_USD / (load_kg * RICE_KPW)
    if bribe < seized:
        return np.log1p(shares + bribe), 1.0
    return np.log1p(shares) - np.log(1.0 - seized), 1.0 - seized


@_jit
def shortest_paths(s, source, targets):
    """Dijkstra from ``source`` over open units (not flooded) with the link weights in
    s.weight (``link_weights``), until every unit in ``targets`` has settled. Fills s.dist
    and s.pred_edge (-1: no path) for the settled units and the paths to them. The next unit
    to settle is searched among the frontier (units reached, not settled), a few dozen on
    these graphs: cheaper than a heap at this size. Ties go to the lower index, as in the
    twin."""
    dist, pred, done, flood_left, weight = s.dist, s.pred_edge, s.done, s.flood_left, s.weight
    indptr, adj_edge, adj_node, frontier = s.indptr, s.adj_edge, s.adj_node, s.frontier
    for i in range(dist.shape[0]):
        dist[i] = np.inf
        pred[i] = -1
        done[i] = flood_left[i] > 0
    dist[source] = 0.0
    wanted = s.wanted
    left = 0
    for v in targets:
        left += not wanted[v]
        wanted[v] = True
    size = 0
    if not done[source]:
        frontier[0] = source
        size = 1
    while size > 0:
        at = 0
        for j in range(1, size):
            a, b = frontier[j], frontier[at]
            if dist[a] < dist[b] or (dist[a] == dist[b] and a < b):
                at = j
        u = frontier[at]
        size -= 1
        frontier[at] = frontier[size]
        best = dist[u]
        done[u] = True
        if wanted[u]:
            left -= 1
            if left == 0:
                break
        for j in range(indptr[u], indptr[u + 1]):
            v = adj_node[j]
            w = weight[adj_edge[j]]
            if not done[v] and best + w < dist[v]:
                if dist[v] == np.inf:
                    frontier[size] = v
                    size += 1
                dist[v] = best + w
                pred[v] = adj_edge[j]
    for v in targets:
        wanted[v] = False


@_jit
def link_weights(s, road_only):
    """s.weight: each link's per-kg wholesale cost after investment plus its line's fine over a
    wholesale load; infinite for rail links on the road-only routes."""
    params, edge_km, edge_mode, edge_permit = s.params, s.edge_km, s.edge_mode, s.edge_permit
    invest = 1.0 - params[P.transport_investment]
    fine = trip_share(params, 0.0, 1.0, params[P.wholesale_load])
    share = params[P.truckload_share]
    for e in range(edge_km.shape[0]):
        w = invest * haulage(params, edge_km, edge_mode, e, share)
        w += fine * (edge_permit[e] > 0.0)
        s.weight[e] = np.inf if road_only and edge_mode[e] == RAIL else w


@_jit
def route_terms(s):
    """Each route's path (s.route_edges[s.route_ptr[r]:s.route_ptr[r + 1]]) and terms: cost
    and share arriving (``trip_terms``), transport
    before investment (the price-link ruler), travel weeks, permit flag."""
    params = s.params
    n_edges = s.edge_u.shape[0]
    load = params[P.wholesale_load]
    share = params[P.truckload_share]
    end = 0
    half = s.route_u.shape[0] // 2
    for r in range(s.route_u.shape[0]):
        if r == 0 or r == half:
            link_weights(s, r >= half)
        if r == 0 or r == half or s.route_u[r] != s.route_u[r - 1]:
            last = r + 1  # the routes from this depot in this half are r to last - 1
            while last < (half if r < half else 2 * half) and s.route_u[last] == s.route_u[r]:
                last += 1
            shortest_paths(s, s.route_u[r], s.route_v[r:last])
        c = n_edges + r
        s.route_ptr[r] = end
        target = s.route_v[r]
        s.ch_reachable[c] = s.pred_edge[target] >= 0
        haul = 0.0
        days = 0.0
        lines = 0.0
        weight = 0.0
        node = target
        while s.pred_edge[node] >= 0:
            e = s.pred_edge[node]
            s.route_edges[end] = e
            end += 1
            haul += haulage(params, s.edge_km, s.edge_mode, e, share)
            rail = s.edge_mode[e] == RAIL
            days += (params[P.rail_days] if rail else params[P.road_days]) * s.edge_km[e] / 100.0
            lines += s.edge_permit[e] > 0.0
            weight = max(weight, s.edge_permit[e])
            node = s.edge_u[e] if s.edge_v[e] == node else s.edge_v[e]
        s.transport[c] = haul
        s.cost[c], s.keep[c] = trip_terms(params, haul, weight, lines, load)
        s.delay[c] = min(int(np.floor(days / 7.0 + 1e-9)), MAX_DELAY)
        s.crossing[c] = 1.0 if lines > 0.0 else 0.0
    s.route_ptr[s.route_u.shape[0]] = end
    s.route_edges[end:] = -1  # no stale links of longer paths past the end
    s.routes_dirty = False


@_jit
def route_week(s):
    """This week's routes: open if their path exists and no rail link on it is down."""
    n_edges = s.edge_u.shape[0]
    route_ptr, route_edges, rail_down = s.route_ptr, s.route_edges, s.rail_down
    ch_open, ch_reachable = s.ch_open, s.ch_reachable
    for r in range(s.route_u.shape[0]):
        running = True
        for j in range(route_ptr[r], route_ptr[r + 1]):
            running &= not rail_down[route_edges[j]]
        ch_open[n_edges + r] = ch_reachable[n_edges + r] and running

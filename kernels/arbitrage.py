"""Trade between units, the week's phases 10 and 11 (docs/MODEL.md, "One week").

10. arbitrage  traders make trips: petty traders over one link with a petty load, wholesalers
               between depots along a route with a truckload, each paying the per-kg haulage
               and the per-trip costs of its channel (kernels.routes). A trip is made when the
               price gap they see beats its cost; it ships what closes the gap at linearised
               prices, at most what the traders' weekly capital and the source's stock allow;
               self-reliance cuts counties' staple outflows (depots' wholesale markets are
               exempt); a crackdown costs a bribe or a share of the load.
               Traders without phones at both ends trade once, on info_lag-week-old prices;
               the rest trade until no trip gains more than arbitrage_tolerance or capital or
               stock runs out: never because a pass count ran out.
11. capital    traders' capital grows with their margins and returns toward its norm
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from .fastmath import exp_into
from .parameters import MAX_LAG, MAX_OUTFLOW_SHARE, MAX_PASSES, WEALTH_MAX, P
from .results import L

_jit = njit(cache=True, nogil=True, error_model="numpy")


@_jit
def arbitrage(s, t):
    """Pass 0 visits every open channel; each later pass visits the informed channels with an
    end whose price moved in the pass before, until a pass moves nothing (Gauss-Seidel: each
    trade closes its gap at the prices as they stand, an exact step of the linearised
    spatial-equilibrium problem, so the passes converge)."""
    params, stock, room, budget = s.params, s.stock, s.room, s.budget
    n, k_goods = stock.shape
    self_reliance = params[P.self_reliance]
    capital = params[P.trader_capital]
    for i in range(n):
        s.inflow_value[i] = 0.0
        s.profit[i] = 0.0
        for k in range(k_goods):
            held = self_reliance if s.staple[k] and not s.depot[i] else 0.0
            room[i, k] = MAX_OUTFLOW_SHARE * (1.0 - held) * stock[i, k]
            budget[i, k] = capital * s.demand[i, k] * s.wealth[i]
    inv_supply, supply = s.inv_supply_flat, s.supply_flat
    exp_into(s.log_p_flat, s.price_flat)  # shipments valued pre-trade
    for j in range(n * k_goods):  # updated with the supplies: a trade reads, not divides
        inv_supply[j] = 1.0 / supply[j]
    n_open, n_informed = _open_channels(s)
    s.passes = _passes(s, t, n_open, n_informed)


@_jit
def _open_channels(s):
    """The open channels (links, then routes), and those with fresh news at both ends."""
    ch_u, ch_v, phone, ch_open = s.ch_u, s.ch_v, s.phone, s.ch_open
    informed, open_list, informed_list = s.informed_link, s.open_edges, s.informed_edges
    n_edges = s.edge_u.shape[0]
    for e in range(n_edges):
        ch_open[e] = s.is_open[e]
    n_open = 0
    n_informed = 0
    for c in range(ch_u.shape[0]):
        informed[c] = phone[ch_u[c]] and phone[ch_v[c]]
        if ch_open[c]:
            open_list[n_open] = c
            n_open += 1
            if informed[c]:
                informed_list[n_informed] = c
                n_informed += 1
    return n_open, n_informed


@_jit
def _passes(s, t, n_open, n_informed):
    """The week's trading passes; returns their number. One function with every array in a
    local (a structref field read costs a reference count, too dear per trip); flat (N*K)
    views and unsigned cell indices: one index serves every array a trip touches."""
    k_goods = s.stock.shape[1]
    cells = np.uint64(s.stock_flat.shape[0])
    goods = np.uint64(k_goods)
    ring = s.arrivals.shape[0]
    n_edges = s.edge_u.shape[0]
    stock, supply, inv_supply, log_p = s.stock_flat, s.supply_flat, s.inv_supply_flat, s.log_p_flat
    room, budget, price, gaps = s.room_flat, s.budget_flat, s.price_flat, s.gaps
    in_transit, incoming, inflow_value, profit = (
        s.in_transit, s.incoming_flat, s.inflow_value, s.profit
    )  # fmt: skip
    ch_u, ch_v, cost, keep, crossing, delay = s.ch_u, s.ch_v, s.cost, s.keep, s.crossing, s.delay
    informed_link, open_edges, informed_edges = s.informed_link, s.open_edges, s.informed_edges
    traded_week, route_ptr, route_edges = s.traded_week, s.route_ptr, s.route_edges
    moved_before, moved_now = s.moved_before, s.moved_now
    elasticity = s.params[P.demand_elasticity]
    tolerance = s.params[P.arbitrage_tolerance]
    lag = int(s.params[P.info_lag])
    stale = s.history_flat[max(t - lag, 0) % (MAX_LAG + 1)]
    trade_value = 0.0
    crossing_value = 0.0
    wholesale_value = 0.0
    confiscated = 0.0
    moved_before[:] = True  # pass 0 visits every open channel
    passes = 0
    while passes < MAX_PASSES:
        first = passes == 0
        moved_now[:] = False
        moved = False
        for j in range(n_open if first else n_informed):
            c = open_edges[j] if first else informed_edges[j]
            u, v = ch_u[c], ch_v[c]
            if not (moved_before[u] or moved_before[v]):
                continue
            informed = informed_link[c]
            seen = log_p if informed else stale
            # without fresh news a trip is spread over the weeks until the next news
            rate = elasticity if informed else elasticity / (1.0 + lag)
            cost_c, keep_c = cost[c], keep[c]
            row_u, row_v = u * goods, v * goods
            # the goods whose gap beats the cost, as bits: one hard-to-predict branch per
            # channel instead of per good
            wanted = np.uint64(0)
            for k in range(goods):
                gaps[k] = seen[row_v + k] - seen[row_u + k]
                wanted |= np.uint64(not abs(gaps[k]) - cost_c <= tolerance) << k
            on_way = np.uint64((t + delay[c]) % ring) * cells
            while wanted:
                k = trailing_zeros(wanted)
                wanted &= wanted - np.uint64(1)
                gap = gaps[k]
                excess = abs(gap) - cost_c
                src, dst, cs, cd = (
                    (u, v, row_u + k, row_v + k) if gap > 0.0 else (v, u, row_v + k, row_u + k)
                )
                inv_src, inv_dst = inv_supply[cs], inv_supply[cd]
                x = rate * excess / (inv_src + keep_c * inv_dst)
                x = min(x, budget[cs], room[cs])
                if x <= 0.0:
                    continue
                # the margin at the prices as they stand (stale news can mislead)
                margin = excess if informed else log_p[cd] - log_p[cs] - cost_c
                moved = True
                if c < n_edges:  # a route's trip travels its whole path
                    traded_week[c, k] = t
                else:
                    for p in range(route_ptr[c - n_edges], route_ptr[c - n_edges + 1]):
                        traded_week[route_edges[p], k] = t
                room[cs] -= x
                budget[cs] -= x
                stock[cs] -= x
                supply[cs] -= x
                inv_supply[cs] = 1.0 / supply[cs]
                arriving = keep_c * x
                supply[cd] += arriving
                inv_supply[cd] = 1.0 / supply[cd]
                confiscated += x - arriving
                if delay[c] == 0:  # arrives within the week, before the markets clear
                    stock[cd] += arriving
                else:
                    in_transit[on_way + cd] += arriving
                    incoming[cd] += arriving
                log_p[cs] += x * inv_src / elasticity  # linearised price moves
                log_p[cd] -= arriving * inv_dst / elasticity
                value = x * price[cs]
                trade_value += value
                crossing_value += crossing[c] * value
                wholesale_value += value if c >= n_edges else 0.0
                inflow_value[dst] += value
                profit[src] += value * margin
                moved_now[src] = True
                moved_now[dst] = True
        passes += 1
        if not moved:
            break
        moved_before, moved_now = moved_now, moved_before
    s.trade_value, s.crossing_value, s.wholesale_value = (
        trade_value,
        crossing_value,
        wholesale_value,
    )
    s.ledger[L.confiscated] += confiscated
    return passes


@_jit
def capital(s, t):
    """Traders' capital returns toward its norm at capital_recovery and grows with reinvest x
    their margins (relative to the unit's weekly spending), within [0, WEALTH_MAX]."""
    wealth, profit, value_scale = s.wealth, s.profit, s.value_scale
    recovery = s.params[P.capital_recovery]
    reinvest = s.params[P.reinvest]
    for i in range(wealth.shape[0]):
        w = wealth[i] + recovery * (1.0 - wealth[i])
        w += reinvest * profit[i] / value_scale[i]
        wealth[i] = min(max(w, 0.0), WEALTH_MAX)

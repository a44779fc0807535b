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
from .parameters import (
    MAX_LAG,
    MAX_OUTFLOW_SHARE,
    MAX_PASSES,
    WEALTH_MAX,
    L,
    P,
)

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
    s.trade_value = 0.0
    s.crossing_value = 0.0
    s.wholesale_value = 0.0
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
    """The week's trading passes; returns their number."""
    moved_before, moved_now = s.moved_before, s.moved_now
    moved_before[:] = True  # pass 0 visits every open channel
    stale = s.history_flat[max(t - int(s.params[P.info_lag]), 0) % (MAX_LAG + 1)]
    passes = 0
    while passes < MAX_PASSES:
        first = passes == 0
        moved_now[:] = False
        moved = False
        for j in range(n_open if first else n_informed):
            c = s.open_edges[j] if first else s.informed_edges[j]
            if moved_before[s.ch_u[c]] or moved_before[s.ch_v[c]]:
                moved |= _trips(s, t, c, stale, moved_now)
        passes += 1
        if not moved:
            break
        moved_before, moved_now = moved_now, moved_before
    return passes


@_jit
def _trips(s, t, c, stale, moved_now):
    """Channel ``c``'s trips this pass, good by good, marking the units whose prices they move
    in ``moved_now``; returns whether any was made. Flat (N*K)
    views and unsigned cell indices: one index serves every array a trip touches."""
    k_goods = s.stock.shape[1]
    cells = np.uint64(s.stock_flat.shape[0])
    goods = np.uint64(k_goods)
    stock, supply, inv_supply, log_p = s.stock_flat, s.supply_flat, s.inv_supply_flat, s.log_p_flat
    room, budget, price, gaps = s.room_flat, s.budget_flat, s.price_flat, s.gaps
    elasticity = s.params[P.demand_elasticity]
    tolerance = s.params[P.arbitrage_tolerance]
    informed = s.informed_link[c]
    seen = log_p if informed else stale
    # without fresh news a trip is spread over the weeks until the next news
    rate = elasticity if informed else elasticity / (1.0 + int(s.params[P.info_lag]))
    u, v = s.ch_u[c], s.ch_v[c]
    cost, keep, crossing = s.cost[c], s.keep[c], s.crossing[c]
    wholesale = 1.0 if c >= s.edge_u.shape[0] else 0.0
    same_week = s.delay[c] == 0  # arrives within the week, before the markets clear
    on_way = np.uint64((t + s.delay[c]) % s.arrivals.shape[0]) * cells
    row_u, row_v = u * goods, v * goods
    # the goods whose gap beats the cost, as bits: one hard-to-predict branch per channel
    wanted = np.uint64(0)
    for k in range(goods):
        gaps[k] = seen[row_v + k] - seen[row_u + k]
        wanted |= np.uint64(not abs(gaps[k]) - cost <= tolerance) << k
    traded = False
    while wanted:
        k = trailing_zeros(wanted)
        wanted &= wanted - np.uint64(1)
        gap = gaps[k]
        excess = abs(gap) - cost
        src, dst, cs, cd = (
            (u, v, row_u + k, row_v + k) if gap > 0.0 else (v, u, row_v + k, row_u + k)
        )
        inv_src, inv_dst = inv_supply[cs], inv_supply[cd]
        x = rate * excess / (inv_src + keep * inv_dst)
        x = min(x, budget[cs], room[cs])
        if x <= 0.0:
            continue
        # the margin at the prices as they stand (stale news can mislead)
        margin = excess if informed else log_p[cd] - log_p[cs] - cost
        traded = True
        _mark(s, c, k, t)
        room[cs] -= x
        budget[cs] -= x
        stock[cs] -= x
        supply[cs] -= x
        inv_supply[cs] = 1.0 / supply[cs]
        arriving = keep * x
        supply[cd] += arriving
        inv_supply[cd] = 1.0 / supply[cd]
        s.ledger[L.confiscated] += x - arriving
        if same_week:
            stock[cd] += arriving
        else:
            s.in_transit[on_way + cd] += arriving
            s.incoming_flat[cd] += arriving
        log_p[cs] += x * inv_src / elasticity  # linearised price moves
        log_p[cd] -= arriving * inv_dst / elasticity
        value = x * price[cs]
        s.trade_value += value
        s.crossing_value += crossing * value
        s.wholesale_value += wholesale * value
        s.inflow_value[dst] += value
        s.profit[src] += value * margin
        moved_now[src] = True
        moved_now[dst] = True
    return traded


@_jit
def _mark(s, c, k, t):
    """The links a trip on channel ``c`` used carried good ``k`` this week (a route's trip
    travels its whole path)."""
    n_edges = s.edge_u.shape[0]
    if c < n_edges:
        s.traded_week[c, k] = t
        return
    r = c - n_edges
    for j in range(s.route_ptr[r], s.route_ptr[r + 1]):
        s.traded_week[s.route_edges[j], k] = t


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

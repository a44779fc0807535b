"""Trade between units, the week's phases 10 and 11 (docs/MODEL.md, "One week").

10. arbitrage  on each open link and good, traders compare the prices they see (fresh when
               both ends have phones, info_lag weeks old otherwise); beyond the link's cost
               (transport + permit + confiscation risk) they ship the linearised amount that
               closes the gap, at most their capital allows; self-reliance caps staple
               outflows; a crackdown confiscates a share in transit; goods arrive after the
               link's travel time
11. capital    traders' capital grows with their margins and returns toward its norm
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from .fastmath import exp_into
from .parameters import MAX_DELAY, MAX_LAG, MAX_OUTFLOW_SHARE, WEALTH_MAX, L, P

_jit = njit(cache=True, nogil=True, error_model="numpy")


@_jit
def arbitrage(s, t):
    """Link by link in a fixed order, arbitrage_rounds passes (Gauss-Seidel): each trade moves
    the expected prices at both ends, so later trades on the same unit see it (no overshoot),
    and goods can travel several links in one week."""
    params, stock, room, room_share, cap_round = (
        s.params,
        s.stock,
        s.room,
        s.room_share,
        s.cap_round,
    )
    inflow_value, profit, staple, cap_scale = s.inflow_value, s.profit, s.staple, s.cap_scale
    n, k_goods = stock.shape
    lag = int(params[P.info_lag])
    speed = params[P.arbitrage_speed]
    rounds = int(params[P.arbitrage_rounds])
    for k in range(k_goods):
        cap_round[k] = params[P.trader_capital] * cap_scale[k] / rounds
    for k in range(k_goods):
        room_share[k] = MAX_OUTFLOW_SHARE
        if staple[k]:
            room_share[k] *= 1.0 - params[P.self_reliance]
    for i in range(n):
        inflow_value[i] = 0.0
        profit[i] = 0.0
        for k in range(k_goods):
            room[i, k] = room_share[k] * stock[i, k]
    cells = n * k_goods
    inv_supply, supply = s.inv_supply_flat, s.supply_flat
    exp_into(s.log_p_flat, s.price_flat)  # shipments valued pre-trade
    for j in range(cells):  # updated with the supplies: a trade reads, not divides
        inv_supply[j] = 1.0 / supply[j]
    n_open, n_informed = _open_links(s)
    s.trade_value = 0.0
    s.crossing_value = 0.0
    s.ledger[L.confiscated] += _passes(s, t, rounds, n_open, n_informed, speed, lag)


@_jit
def _open_links(s):
    """The open links, and those with fresh news at both ends, in link order."""
    edge_u, edge_v, phone, is_open = s.edge_u, s.edge_v, s.phone, s.is_open
    informed_link, open_edges, informed_edges = s.informed_link, s.open_edges, s.informed_edges
    n_open = 0
    n_informed = 0
    for e in range(edge_u.shape[0]):
        informed_link[e] = phone[edge_u[e]] and phone[edge_v[e]]
        if is_open[e]:
            open_edges[n_open] = e
            n_open += 1
            if informed_link[e]:
                informed_edges[n_informed] = e
                n_informed += 1
    return n_open, n_informed


@_jit
def _passes(s, t, rounds, n_open, n_informed, speed, lag):
    """The trading passes of the week; returns the value confiscated in transit. Flat (N*K)
    views and unsigned cell indices: one index serves every array a trade touches, with no
    negative-index fix-up."""
    n, k_goods = s.stock.shape
    cells = n * k_goods
    ring = MAX_DELAY + 1
    stock, supply, inv_supply_flat = s.stock_flat, s.supply_flat, s.inv_supply_flat
    log_p, price, room = s.log_p_flat, s.price_flat, s.room_flat
    incoming, in_transit, traded_week = s.incoming_flat, s.in_transit, s.traded_week_flat
    node_u, node_v, cost, keep, delay, crossing = (
        s.node_u, s.node_v, s.cost, s.keep, s.delay, s.crossing
    )  # fmt: skip
    open_edges, informed_edges, informed_link = s.open_edges, s.informed_edges, s.informed_link
    cap_round, wealth, gaps = s.cap_round, s.wealth, s.gaps
    inflow_value, profit = s.inflow_value, s.profit
    elasticity = s.params[P.demand_elasticity]
    inv_elasticity = 1.0 / elasticity
    slow = speed / (1.0 + lag)  # without fresh news a trade is spread until the next news
    stale = s.history_flat[max(t - lag, 0) % (MAX_LAG + 1)]
    goods_unsigned = np.uint64(k_goods)
    cells_unsigned = np.uint64(cells)
    trade_value = 0.0
    crossing_value = 0.0
    confiscated = 0.0
    for r in range(rounds):
        moved = False
        # stale news is acted on once a week: later passes visit informed links only
        for j in range(n_open if r == 0 else n_informed):
            e = open_edges[j] if r == 0 else informed_edges[j]
            u = node_u[e]
            v = node_v[e]
            informed = informed_link[e]
            rate = (speed if informed else slow) * elasticity
            seen = log_p if informed else stale
            link_cost = cost[e]
            link_keep = keep[e]
            crossing_e = crossing[e]
            same_week = delay[e] == 0  # arrives within the week, before the markets clear
            on_way = np.uint64((t + delay[e]) % ring) * cells_unsigned  # arrival week's row
            row_u = u * goods_unsigned
            row_v = v * goods_unsigned
            row_e = np.uint64(e) * goods_unsigned
            # the goods whose gap exceeds the cost, as bits (goods of one link are
            # independent, so their gaps can be read before any of them trades), then
            # those goods only: one hard-to-predict branch per link instead of per good
            wanted = np.uint64(0)
            for k in range(goods_unsigned):
                gaps[k] = seen[row_v + k] - seen[row_u + k]
                wanted |= np.uint64(not abs(gaps[k]) - link_cost <= 0.0) << k
            while wanted:
                k = trailing_zeros(wanted)
                wanted &= wanted - np.uint64(1)
                cu = row_u + k
                cv = row_v + k
                gap = gaps[k]
                excess = abs(gap) - link_cost
                if gap > 0.0:
                    src, dst, cs, cd = u, v, cu, cv
                else:
                    src, dst, cs, cd = v, u, cv, cu
                inv_src = inv_supply_flat[cs]
                inv_dst = inv_supply_flat[cd]
                x = rate * excess / (inv_src + link_keep * inv_dst)
                x = min(x, cap_round[k] * wealth[src], room[cs])
                if x <= 0.0:
                    continue
                # the margin at the prices as they stand (stale news can mislead); with
                # fresh news it is the excess itself (a - b == -(b - a) in IEEE arithmetic)
                margin = excess if informed else log_p[cd] - log_p[cs] - link_cost
                traded_week[row_e + k] = t
                moved = True
                room[cs] -= x
                stock[cs] -= x
                supply[cs] -= x
                inv_supply_flat[cs] = 1.0 / supply[cs]
                arriving = link_keep * x
                supply[cd] += arriving
                inv_supply_flat[cd] = 1.0 / supply[cd]
                confiscated += x - arriving
                if same_week:
                    stock[cd] += arriving
                else:
                    in_transit[on_way + cd] += arriving
                    incoming[cd] += arriving
                log_p[cs] += x * inv_src * inv_elasticity  # linearised price moves
                log_p[cd] -= arriving * inv_dst * inv_elasticity
                value = x * price[cs]
                trade_value += value
                crossing_value += crossing_e * value
                inflow_value[dst] += value
                profit[src] += value * margin
        if not moved:
            break  # a pass without trade leaves the state as it was: so would the next
    s.trade_value = trade_value
    s.crossing_value = crossing_value
    return confiscated


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

"""The phases of a week before trade (docs/MODEL.md gives the equations): each reads and
writes the run's :class:`~kernels.state.State` ``s`` for week ``t``; the NumPy twin
(``reference.py``) has a phase of the same name for each.

  1. events           scenario events set or ramp parameters, flood a unit, cut the year's
                      harvest, wipe a share of traders' capital or redenominate the won
  2. arrivals         shipments whose travel time ends join the destination's stock
  3. production       staples: base x season x harvest shock x weekly noise; other goods:
                      base x weekly noise; the state procures its share of staples
  4. floods           with probability flood_rate a random unit floods
  5. china_trade      imports enter at border units (the state's share at the capital);
                      exports leave them
  6. rations          the PDS rations from its stock; households buy the rest on the market
  7. spoilage         stocks shrink by each good's spoilage rate
  8. outages          rail links fail (petty trains stop, wholesale loads wait a week);
                      flooded units' links close; wholesale routes follow (kernels.routes)
  9. expected_prices  the prices traders expect from stock plus goods on the way, remembered
                      for traders without fresh news
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import draws
from .fastmath import log_into
from .goods import G
from .money import redenominate
from .network import RAIL
from .parameters import (
    DEMAND_FLOOR,
    EVENT_CAPITAL_LOSS,
    EVENT_FLOOD,
    EVENT_HARVEST,
    EVENT_REDENOMINATION,
    HARVEST_WEEK,
    INITIAL_STATE_WEEKS,
    MAX_DELAY,
    MAX_LAG,
    MAX_OUTFLOW_SHARE,
    MAX_PROCUREMENT,
    P,
)
from .results import L
from .routes import haulage, route_terms, route_week, trip_terms
from .weeks import season

_jit = njit(cache=True, nogil=True, error_model="numpy")


@_jit
def events(s, t):
    """Floods count down; this week's events act (codes in kernels.parameters); in week 0 the
    state fills its ration stock (INITIAL_STATE_WEEKS of week-0 rations); link terms and
    phones follow parameter changes."""
    flood_left, params, wealth, rows, ev_start = (
        s.flood_left, s.params, s.wealth, s.events, s.ev_start
    )  # fmt: skip
    for i in range(flood_left.shape[0]):  # a flood lasts flood_weeks weeks from its week
        if flood_left[i] > 0:
            flood_left[i] -= 1
            s.routes_dirty |= flood_left[i] == 0
    for m in range(rows.shape[0]):
        week = int(rows[m, 0])
        code = int(rows[m, 1])
        if code >= 0:  # a parameter, set at once or ramped linearly over `over` weeks
            over = max(int(rows[m, 3]), 1)
            if t == week:
                ev_start[m] = params[code]
            if week <= t < week + over:
                params[code] = ev_start[m] + (rows[m, 2] - ev_start[m]) * (t - week + 1) / over
                s.dirty = True
        elif t == week and code == EVENT_FLOOD:
            flood(s, int(rows[m, 2]))
        elif t == week and code == EVENT_CAPITAL_LOSS:
            for i in range(wealth.shape[0]):
                wealth[i] *= 1.0 - rows[m, 2]
        elif t == week and code == EVENT_REDENOMINATION:
            redenominate(s, rows[m, 2])
    if t == 0:
        capital = s.trio[0]
        for k in range(s.state_stock.shape[0]):
            if s.staple[k]:
                cap_d = s.demand[capital, k]
                level = max(params[P.pds_level], params[P.capital_pds])
                need = params[P.pds_level] * (s.demand_total[k] - cap_d) + level * cap_d
                s.state_stock[k] = INITIAL_STATE_WEEKS * need
        s.state_start = s.state_stock.sum()
    if s.dirty:
        link_terms(s)
        s.routes_dirty = True
        phone, rank = s.phone, s.phone_rank
        for i in range(phone.shape[0]):
            phone[i] = rank[i] < params[P.phone_penetration]
        s.dirty = False


@_jit
def link_terms(s):
    """Per link, for a petty trader's trip over it: trade cost and share arriving
    (``routes.trip_terms`` for a petty load), the haulage before investment (the yardstick of price
    links: one ruler under every policy), the share arriving and whole weeks in transit (0:
    the shipment arrives within the week it is sent)."""
    params, edge_km, edge_mode, edge_permit = s.params, s.edge_km, s.edge_mode, s.edge_permit
    cost, transport, keep, delay = s.cost, s.transport, s.keep, s.delay
    load = params[P.petty_load]
    for e in range(edge_km.shape[0]):
        rail = edge_mode[e] == RAIL
        days = params[P.rail_days] if rail else params[P.road_days]
        transport[e] = haulage(params, edge_km, edge_mode, e, 1.0)
        line = 1.0 if edge_permit[e] > 0.0 else 0.0
        cost[e], keep[e] = trip_terms(params, transport[e], edge_permit[e], line, load)
        s.crossing[e] = line
        weeks = int(np.floor(days * edge_km[e] / 100.0 / 7.0 + 1e-9))
        delay[e] = min(weeks, MAX_DELAY)


@_jit
def flood(s, node):
    """Unit ``node`` floods: it loses flood_loss of its staple stocks; for flood_weeks its links
    close and it loses flood_loss of its staple output."""
    stock, params, ledger = s.stock, s.params, s.ledger
    s.routes_dirty |= s.flood_left[node] == 0 and params[P.flood_weeks] > 0
    s.flood_left[node] = max(s.flood_left[node], int(params[P.flood_weeks]))
    for k in range(stock.shape[1]):
        if s.staple[k]:
            lost = params[P.flood_loss] * stock[node, k]
            stock[node, k] -= lost
            ledger[L.flood_destroyed] += lost


@_jit
def arrivals(s, t):
    """Shipments due this week join their destinations' stocks."""
    stock, incoming, due = s.stock_flat, s.incoming_flat, s.arrivals_flat
    slot = t % (MAX_DELAY + 1)
    for j in range(stock.shape[0]):
        arriving = due[slot, j]
        stock[j] += arriving
        incoming[j] -= arriving
        due[slot, j] = 0.0


@_jit
def production(s, t):
    """The week's output: staples base x season x annual harvest shock (province-correlated,
    drawn at week 0 and each September) x weekly noise, less flood_loss in a flooded unit;
    other goods base x weekly noise. The state procures pds_level (at most MAX_PROCUREMENT)
    of staple output."""
    stock, harvest, params, staple = s.stock, s.harvest, s.params, s.staple
    n, k_goods = stock.shape
    if t == 0 or t % 52 == HARVEST_WEEK:
        _draw_harvest(s, t)
    rows = s.events
    for m in range(rows.shape[0]):  # after any redraw, so it cuts this year's harvest
        if int(rows[m, 0]) == t and int(rows[m, 1]) == EVENT_HARVEST:
            for i in range(n):
                for k in range(k_goods):
                    if staple[k]:
                        harvest[i, k] *= rows[m, 2]
    noise_factor = s.noise_factor
    if params[P.production_noise] != s.noise_level:
        _noise_table(s)
    grow = season(t, params[P.seasonal_amplitude])
    key_production = draws.week_key(s.key, draws.PRODUCTION, t)
    output, base = s.output, s.base_flat
    for j in range(n * k_goods):  # the draws vectorise apart from the staples' branches
        output[j] = base[j] * noise_factor[draws.table_index(key_production, j)]
    procurement = min(params[P.pds_level], MAX_PROCUREMENT)
    flood_keep = 1.0 - params[P.flood_loss]
    flood_left, state_stock = s.flood_left, s.state_stock
    produced = s.ledger[L.produced]
    for i in range(n):
        for k in range(k_goods):
            y = output[i * k_goods + k]
            if staple[k]:
                y *= grow * harvest[i, k]
                if flood_left[i] > 0:
                    y *= flood_keep
                procured = procurement * y
                state_stock[k] += procured
                stock[i, k] += y - procured
            else:
                stock[i, k] += y
            produced += y
    s.ledger[L.produced] = produced


@_jit
def _draw_harvest(s, t):
    """This year's log-normal harvest factors of staples: a province's common draw and each
    unit's own, mixed by harvest_correlation."""
    harvest, province, province_z, staple = s.harvest, s.province, s.province_z, s.staple
    n, k_goods = harvest.shape
    sd = s.params[P.harvest_sd]
    rho = s.params[P.harvest_correlation]
    key_province = draws.week_key(s.key, draws.HARVEST_PROVINCE, t)
    key_local = draws.week_key(s.key, draws.HARVEST_LOCAL, t)
    for g in range(province_z.shape[0]):
        province_z[g] = draws.normal(key_province, g)
    for i in range(n):
        for k in range(k_goods):
            if staple[k]:
                z = np.sqrt(rho) * province_z[province[i]] + np.sqrt(1.0 - rho) * (
                    draws.normal(key_local, i * k_goods + k)
                )
                harvest[i, k] = np.exp(sd * z - 0.5 * sd * sd)


@_jit
def _noise_table(s):
    """The weekly production noise table for the current production_noise: exp(level x the
    normal quantiles), scaled to mean one."""
    noise_factor, normal_table = s.noise_factor, s.normal_table
    level = s.params[P.production_noise]
    s.noise_level = level
    total = 0.0
    for j in range(noise_factor.shape[0]):
        noise_factor[j] = np.exp(level * normal_table[j])
        total += noise_factor[j]
    for j in range(noise_factor.shape[0]):
        noise_factor[j] *= noise_factor.shape[0] / total


@_jit
def floods(s, t):
    """With probability flood_rate a unit drawn at random floods this week."""
    key_flood = draws.week_key(s.key, draws.FLOOD, t)
    if draws.uniform(key_flood, 0) < s.params[P.flood_rate]:
        flood(s, int(draws.uniform(key_flood, 1) * s.stock.shape[0]))


@_jit
def china_trade(s, t):
    """Imports (china_trade x import share of national demand) enter at border units by their
    import weights, the state_import_share part at the capital instead; exports leave border
    units, at most MAX_OUTFLOW_SHARE of a stock."""
    stock, params, goods, import_weight, ledger = (
        s.stock, s.params, s.goods, s.import_weight, s.ledger
    )  # fmt: skip
    n, k_goods = stock.shape
    capital = s.trio[0]
    china = params[P.china_trade]
    for k in range(k_goods):
        imported = china * goods[k, G.import_share] * s.demand_total[k]
        if imported > 0.0:
            to_state = params[P.state_import_share] * imported
            stock[capital, k] += to_state
            for i in range(n):
                stock[i, k] += (imported - to_state) * import_weight[i]
            ledger[L.imported] += imported
        wanted = china * goods[k, G.export_share] * s.demand_total[k]
        if wanted > 0.0:
            exported = ledger[L.exported]
            for i in range(n):
                if import_weight[i] > 0.0:
                    x = min(wanted * import_weight[i], MAX_OUTFLOW_SHARE * stock[i, k])
                    stock[i, k] -= x
                    exported += x
            ledger[L.exported] = exported


@_jit
def rations(s, t):
    """PDS rations of pds_level x staple demand (the capital at capital_pds at least) from the
    state's stock, cut pro rata when it runs short; households buy the rest on the market. A
    good's rations and market demand are recomputed only when its ration share or the levels
    change."""
    params, demand, state_stock, rations_, staple = (
        s.params, s.demand, s.state_stock, s.rations, s.staple
    )  # fmt: skip
    log_market_demand = s.log_market_demand
    n, k_goods = demand.shape
    capital = s.trio[0]
    pds = params[P.pds_level]
    capital_level = max(pds, params[P.capital_pds])
    levels_changed = pds != s.last_pds or capital_level != s.last_capital_level
    s.last_pds = pds
    s.last_capital_level = capital_level
    for k in range(k_goods):
        share = 0.0
        if staple[k]:
            cap_d = demand[capital, k]
            need = pds * (s.demand_total[k] - cap_d) + capital_level * cap_d
            if need > 0.0:
                share = min(1.0, state_stock[k] / need)
                state_stock[k] -= share * need
        if not levels_changed and share == s.last_share[k]:
            continue
        s.last_share[k] = share
        for i in range(n):
            level = capital_level if i == capital else pds
            rations_[i, k] = share * level * demand[i, k]
            if staple[k] or t == 0:  # other goods' demand never changes
                rest = max(demand[i, k] - rations_[i, k], DEMAND_FLOOR * demand[i, k])
                log_market_demand[i, k] = np.log(rest)


@_jit
def spoilage(s, t):
    """Stocks shrink by each good's spoilage rate x spoilage_scale."""
    stock, goods, ledger = s.stock, s.goods, s.ledger
    n, k_goods = stock.shape
    for k in range(k_goods):
        rate = goods[k, G.spoilage] * s.params[P.spoilage_scale]
        if rate > 0.0:
            spoiled = ledger[L.spoiled]
            for i in range(n):
                lost = rate * stock[i, k]
                stock[i, k] -= lost
                spoiled += lost
            ledger[L.spoiled] = spoiled


@_jit
def outages(s, t):
    """Rail links lose power for rail_outage_rate (less transport_investment) of the weeks, in
    outages of outage_weeks on average: petty traders' trains stop, routes over them close;
    links of flooded units close; routes follow."""
    params, edge_mode, flood_left, is_open = s.params, s.edge_mode, s.flood_left, s.is_open
    node_u, node_v, rail_down = s.node_u, s.node_v, s.rail_down
    outage = params[P.rail_outage_rate] * (1.0 - params[P.transport_investment])
    key_outage = draws.week_key(s.key, draws.OUTAGE, t)
    stay, begin = outage_chance(outage, params[P.outage_weeks], t)
    for e in range(edge_mode.shape[0]):  # branch-free: a draw costs less than a mispredicted branch
        chance = stay if rail_down[e] else begin
        rail_down[e] = (edge_mode[e] == RAIL) & (draws.uniform(key_outage, e) < chance)
        is_open[e] = ~rail_down[e] & (flood_left[node_u[e]] == 0) & (flood_left[node_v[e]] == 0)
    if s.routes_dirty:
        route_terms(s)
    route_week(s)


@_jit
def outage_chance(outage, weeks, t):
    """(chance a down rail link stays down, chance a running one goes down) this week: a
    Markov chain whose outages last ``weeks`` on average and which is down ``outage`` of the
    time; week 0 draws from that share directly."""
    if t == 0:
        return outage, outage
    stay = 1.0 - 1.0 / weeks
    return stay, min(outage / (weeks * (1.0 - outage)), 1.0) if outage < 1.0 else 1.0


@_jit
def expected_prices(s, t):
    """log p = (log market demand - log(turnover x supply)) / elasticity, with supply the stock
    plus goods on the way: the prices traders act on, remembered for MAX_LAG weeks (flat views
    of the (N, K) arrays: these loops vectorise)."""
    stock, incoming, supply, log_scratch = (
        s.stock_flat,
        s.incoming_flat,
        s.supply_flat,
        s.log_scratch,
    )
    log_p, log_demand = s.log_p_flat, s.log_demand_flat
    cells = stock.shape[0]
    elasticity = s.params[P.demand_elasticity]
    log_turnover = np.log(s.params[P.turnover] * (1.0 - s.params[P.market_ban]))
    for j in range(cells):  # the supply the arbitrage then moves
        supply[j] = stock[j] + incoming[j]
    log_into(supply, log_scratch)
    remembered = s.history_flat[t % (MAX_LAG + 1)]
    for j in range(cells):
        log_p[j] = (log_demand[j] - log_turnover - log_scratch[j]) / elasticity
        remembered[j] = log_p[j]

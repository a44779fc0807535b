"""The won and the dollar: phase 13 (money) and the market dollar rates the outputs report.

Goods trade by truck at the costs of ``kernels.routes``; money moves by phone broker or
courier for ``remittance_cost`` of it. So prices are regional while the dollar is national:

- the won price level is cash over the won balances the market holds, (1 - dollarization)
  times its sales (an exponential mean with weight 1 / MONEY_WEEKS); it is 1 in week 0,
  grows with cash at ``money_growth`` a year, and jumps with a redenomination (cash /
  REDENOMINATION, less the share confiscated above the exchange limit);
- dollars change hands at the wholesale markets (the depots); a depot's rate is KPW_PER_USD x
  the won level x its local price level relative to the depots' mean, clipped to
  +-remittance_cost / 2: where goods are dearer a dollar buys more won, until moving cash
  there costs more than the gap (no two rates differ by more than remittance_cost).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .goods import G
from .parameters import KPW_PER_USD, MONEY_WEEKS, REDENOMINATION, P

_jit = njit(cache=True, nogil=True, error_model="numpy")


@_jit
def money(s, t):
    """Cash grows at money_growth a year; the won level follows cash over won balances."""
    params = s.params
    won_share = 1.0 - params[P.dollarization]
    if t == 0:
        s.sales_mean = s.sales
        s.cash = won_share * s.sales
    else:
        s.sales_mean += (s.sales - s.sales_mean) / MONEY_WEEKS
        s.cash *= np.exp(params[P.money_growth] / 52.0)
    s.won_level = s.cash / (won_share * s.sales_mean)
    if t == s.first:
        s.won_first = s.won_level


@_jit
def redenominate(s, confiscated):
    """A currency reform: new won for REDENOMINATION old, cash above the exchange limit
    (``confiscated`` of it) lost."""
    s.cash *= (1.0 - confiscated) / REDENOMINATION


@_jit
def dollar_rates(s, units, out):
    """KPW per USD at the depots ``units`` (into ``out``)."""
    center = 0.0
    n_depots = 0
    for i in range(s.depot.shape[0]):
        if s.depot[i]:
            center += local_level(s, i)
            n_depots += 1
    center /= n_depots
    band = 0.5 * s.params[P.remittance_cost]
    for j in range(units.shape[0]):
        relative = min(max(local_level(s, units[j]) - center, -band), band)
        out[j] = KPW_PER_USD * s.won_level * np.exp(relative)


@_jit
def local_level(s, unit):
    """The spending-weighted mean log price at ``unit``."""
    goods, log_p = s.goods, s.log_p
    level = 0.0
    weights = 0.0
    for k in range(log_p.shape[1]):
        level += goods[k, G.demand_weight] * log_p[unit, k]
        weights += goods[k, G.demand_weight]
    return level / weights

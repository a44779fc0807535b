"""The goods of the model and their fixed properties (a model with n goods uses the first n).

Every number here is an assumption unless its comment names a source (docs/MODEL.md, "Goods").
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

GOODS = ("rice", "maize", "imports", "light_industry", "seafood", "herbs_metals")

# Columns of GOOD_TABLE, float64 (len(GOODS), len(GOOD_COLUMNS)).
GOOD_COLUMNS = (
    "demand_weight",  # share of household spending at reference prices (food ~55%: staples)
    "import_share",  # share of national supply imported from China at china_trade = 1
    "export_share",  # exported to China at china_trade = 1, as a share of national demand
    "spoilage",  # share of a stock lost per week (storability)
    "staple",  # 1: rationed by the PDS, blocked by self-reliance, harvested once a year
)
_ROWS = {
    # rice and maize: the staples; an annual harvest with a lean season (Apr-Jun, V20)
    "rice": (0.30, 0.05, 0.0, 0.002, 1.0),
    "maize": (0.25, 0.05, 0.0, 0.003, 1.0),
    # Chinese consumer goods and fuel: 60% imported, the rest domestic substitutes
    "imports": (0.15, 0.6, 0.0, 0.001, 0.0),
    # Pyongsong light industry [brief]
    "light_industry": (0.10, 0.0, 0.0, 0.001, 0.0),
    # Rason/Chongjin seafood [brief]: perishable, partly exported
    "seafood": (0.10, 0.0, 0.2, 0.03, 0.0),
    # Hyesan/Musan herbs, Hamhung/Tanchon metals [brief]: partly exported to China
    "herbs_metals": (0.10, 0.0, 0.3, 0.0, 0.0),
}
GOOD_TABLE = np.ascontiguousarray(np.array([_ROWS[g] for g in GOODS], dtype=np.float64))
G = IntEnum("G", GOOD_COLUMNS, start=0)  # the kernel reads goods[k, G.staple]

# Every region produces at least this share of its demand of every good (small-scale
# substitutes and smuggling), so no market is ever empty.
PRODUCTION_FLOOR = 0.01


def table(n_goods: int) -> np.ndarray:
    """The first ``n_goods`` rows of GOOD_TABLE."""
    if not 1 <= n_goods <= len(GOODS):
        raise ValueError(f"n_goods must be in [1, {len(GOODS)}], got {n_goods}")
    return np.ascontiguousarray(GOOD_TABLE[:n_goods])

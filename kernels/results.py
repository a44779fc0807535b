"""What the market kernel reports, declared once: its outcomes (per run), sampled series,
places (per unit) and goods ledger, with units and docs (docs/OUTPUT.md's tables are generated
from these).

The index enums ``O``, ``S``, ``L`` and ``PL`` are made from the tables; the kernel indexes its
arrays by them (``outcomes[O.integrated]``), never by a bare number.
"""

from __future__ import annotations

from enum import IntEnum

from segmark.models.interface import Outcome, Series

# the trio of every network, as the hub series name them: (key, where, name)
HUBS = (
    ("pyongyang", "the capital", "Pyongyang"),
    ("sinuiju", "the main crossing", "Sinuiju"),
    ("hyesan", "the remote border city", "Hyesan"),
)

OUTCOMES = (
    Outcome(
        "price_dispersion", "sd across units of log prices, mean over goods",
        label="price dispersion (sd of log prices across units)",
    ),
    Outcome(
        "price_cv", "coefficient of variation across units of prices, mean over goods",
        label="price CV across units",
    ),
    Outcome(
        "trade_share",
        "value shipped between units / (that value + value of local market sales), in [0, 1)",
        label="interregional trade share of market value",
    ),
    Outcome(
        "band_compliance",
        "share of open (link, good) pairs whose log-price gap lies within the link's full "
        "trade-cost band (+0.01)",
        label="share of links within their cost band",
    ),
    Outcome(
        "shortage",
        "population-weighted share of demand left unconsumed (spending-weighted over goods)",
        label="unmet demand (population-weighted share)",
    ),
    Outcome(
        "remote_premium",
        "spending-weighted mean over goods of (mean log price of remote units - log price in "
        "the capital)", unit="log points", label="remote-unit price premium",
    ),
    Outcome(
        "trio_dispersion",
        "sd of the log rice price across Pyongyang, Sinuiju and Hyesan (capital, main crossing, "
        "farthest unit on synthetic networks)", unit="log points",
        label="Pyongyang-Sinuiju-Hyesan rice price sd",
    ),
    Outcome(
        "gini", "population-weighted Gini of units' consumption per head over the window",
        label="Gini of consumption per head",
    ),
    Outcome(
        "market_income_share", "market sales / (market sales + PDS rations), at market prices",
        label="market share of household income",
    ),
    Outcome(
        "marginal_trade_share", "share of units whose inflows are under 10% of their market sales",
        label="share of units with marginal trade",
    ),
    Outcome(
        "crossing_trade_share", "share of trade value on links that need a travel permit",
        label="share of trade on permit links",
    ),
    Outcome(
        "wholesale_share", "share of trade value shipped on wholesale routes between depots",
        label="wholesale share of trade",
    ),
    Outcome(
        "trading_passes", "trading passes a week needs to converge, mean over the window",
        unit="passes", label="trading passes per week",
    ),
    Outcome(
        "usd_cv",
        "cross-hub coefficient of variation of the market dollar rate (Pyongyang, Sinuiju, "
        "Hyesan; sd / mean), mean over the window", label="dollar rate CV across hubs",
    ),
    Outcome(
        "won_inflation", "growth of the won price level over the window",
        unit="log / year", label="won inflation",
    ),
    Outcome(
        "hub_integration",
        "share of the major hubs in the largest component of the active-trade graph (a link is "
        "active for a good if it carried it in at least model.active_trade_share of window "
        "weeks), mean over goods", label="share of major hubs in one trade component",
    ),
    Outcome(
        "time_to_integration",
        "first sampled week whose price-linked graph holds model.integration_threshold of the "
        "population; -1 if never", unit="weeks",
        label="week of first integration (-1 never)",
    ),
    Outcome(
        "integration_index",
        "population share of the largest component of the price-linked graph (links that "
        "traded in the window with their price gap within the transport cost before investment "
        "in at least model.linked_share of window weeks), mean over goods",
        label="integration index (population share of largest price-linked market)",
    ),
    Outcome(
        "integrated",
        "integration_index >= model.integration_threshold: the run ended in an integrated "
        "national market (definition: docs/MODEL.md)", dtype=bool,
        label="P(integrated national market)",
    ),
)  # fmt: skip

SERIES = (
    Series(
        "price_dispersion", "sd of log prices across units that week, mean over goods",
        label="price dispersion (sd of log prices across units)",
    ),
    Series(
        "trade_share", "interregional trade value / (that + local sales value) that week",
        label="interregional trade share of market value",
    ),
    Series(
        "band_compliance", "share of open (link, good) pairs within their band that week",
        label="share of links within their cost band",
    ),
    Series(
        "lcc_share",
        "largest component of that week's price-linked graph (links that have traded and are "
        "within their transport cost before investment), population share, mean over goods",
        label="largest price-linked market (population share)",
    ),
    Series(
        "shortage", "share of demand left unconsumed that week",
        label="unmet demand (population-weighted share)",
    ),
    Series(
        "remote_premium", "remote units' log-price premium over the capital that week",
        unit="log points", label="remote-unit price premium",
    ),
    Series(
        "trio_dispersion", "sd of the log rice price across the trio that week",
        unit="log points", label="Pyongyang-Sinuiju-Hyesan rice price sd",
    ),
    Series("gini", "Gini of consumption per head that week", label="Gini of consumption per head"),
    Series(
        "price_level", "spending-weighted, population-weighted mean log price that week",
        unit="log points", label="mean log price",
    ),
    *(
        Series(f"rice_{hub}", f"clearing rice price at {where} that week", unit="KPW / kg",
               label=f"rice price, {name}")
        for hub, where, name in HUBS
    ),
    Series(
        "won_level", "won price level: won prices over real prices (1 in week 0)",
        unit="-", label="won price level",
    ),
    *(
        Series(f"usd_{hub}", f"market dollar rate at {where} that week", unit="KPW / USD",
               label=f"dollar rate, {name}")
        for hub, where, name in HUBS
    ),
    Series(
        "spatial_correlation",
        "Moran's I of that week's log-price changes over the links (binary weights), mean over "
        "goods; 0 in week 1 (nk-5 on)", label="Moran's I of weekly price changes",
    ),
)  # fmt: skip

# each unit's outputs, means over the window (Simulation.places: (N, len(PLACES)))
PLACES = (
    Series(
        "price_level", "spending-weighted mean log price at the unit (real)",
        unit="log points", label="price level",
    ),
    Series("rice_kpw", "rice price in won", unit="KPW / kg", label="rice price"),
    Series(
        "shortage", "share of the unit's demand left unconsumed (spending-weighted)",
        label="unmet demand",
    ),
    Series(
        "inflow_share", "value shipped to the unit / (that + the unit's market sales)",
        label="share of supply shipped in",
    ),
    Series(
        "linked",
        "share of goods for which the unit is in the largest price-linked market (the "
        "component behind integration_index; with no link price-linked, the most populous "
        "unit alone)", label="in the national market (share of goods)",
    ),
)  # fmt: skip

# the goods balance of a run, in units of one week of mean regional demand (Simulation.ledger):
# production + imports = consumption + exports + spoilage + confiscation + flood losses
# + change in market stocks + goods in transit + change in the state's PDS stock
LEDGER = (
    "produced",
    "imported",
    "consumed",
    "exported",
    "spoiled",
    "confiscated",
    "flood_destroyed",
    "market_stock_change",
    "in_transit_change",
    "state_stock_change",
)

O = IntEnum("O", [o.name for o in OUTCOMES], start=0)  # noqa: E741
# columns of a run's series array: the step (1-based) at which the row was sampled, then SERIES
S = IntEnum("S", ["step", *(s.name for s in SERIES)], start=0)
L = IntEnum("L", LEDGER, start=0)
PL = IntEnum("PL", [p.name for p in PLACES], start=0)
# the window sums behind PLACES: the first four as PL, then the unit's market sales value
PLACE_SUMS = 5

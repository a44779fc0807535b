"""What the market kernel reads and writes, declared once: its parameters (the ``params``
vector, in this order), outcomes, sampled series and goods ledger, with units, ranges, docs
and sources (docs/MODEL.md's tables are generated from these).

The index enums ``P``, ``O``, ``S`` and ``L`` are made from the tables; the kernel indexes its
arrays by them (``params[P.permit_strictness]``), never by a bare number.
"""

from __future__ import annotations

from enum import IntEnum

from segmark.models.interface import Outcome, Parameter, Series

# values no source pins down, set by hand so that the baseline meets the survey's moments
_FIT = "assumption, set to meet the 2013-2019 survey moments (docs/MODEL.md, Calibration)"
# the survey's 2013-2019 trend of the log dollar rate, per year (tests/test_survey_fit.py)
_USD_TREND = -0.0025
_RFA = "bribes of US$20-30 (~50x a monthly wage) per permit, RFA 2011"

PARAMETERS = (
    # policy levers
    Parameter(
        "permit_strictness", "policy", 0.7, "enforcement of travel permits (0 none, 1 full)",
        low=0.0, high=1.0,
    ),
    Parameter(
        "crackdown", "policy", 0.2, "intensity of crackdowns on merchants (confiscation risk)",
        low=0.0, high=1.0,
    ),
    Parameter(
        "state_import_share", "policy", 0.5,
        "share of China imports the state channels to the capital", low=0.0, high=1.0,
    ),
    Parameter(
        "transport_investment", "policy", 0.0,
        "cut in transport costs and rail outages from investment", low=0.0, high=0.9,
    ),
    Parameter(
        "phone_penetration", "policy", 0.5,
        "share of markets whose merchants have mobile phones", low=0.0, high=1.0,
        source="assumption; 12.7 subscriptions per 100 people in 2015, mostly merchants "
        "(ITU, V17)",
    ),
    Parameter(
        "self_reliance", "policy", 0.5,
        "cut in the staple outflow a county allows (regional self-reliance; depots exempt)",
        low=0.0, high=1.0,
    ),
    Parameter(
        "trader_capital", "policy", 0.8, "most a unit's traders ship of a good in a week",
        unit="x the unit's weekly demand", low=0.0, high=100.0,
        source=_FIT,
    ),
    # shocks
    Parameter(
        "harvest_sd", "shock", 0.13, "yearly harvest shock of staples", unit="log-sd",
        low=0.0, high=2.0,
        source=_FIT,
    ),
    Parameter(
        "harvest_correlation", "shock", 0.5, "share of harvest variance common to a province",
        low=0.0, high=1.0,
    ),
    Parameter(
        "flood_rate", "shock", 0.01, "probability that some unit floods in a week",
        unit="1/week", low=0.0, high=1.0,
    ),
    Parameter(
        "rail_outage_rate", "shock", 0.3,
        "share of weeks a rail link is without power",
        low=0.0, high=1.0,
        source="assumption; electric rail, hydro-dependent, frequent outages (Daily NK 2013)",
    ),
    Parameter(
        "outage_weeks", "shock", 13.0, "mean length of a rail link's power outage",
        unit="weeks", low=1.0, high=520.0,
        source=f"{_FIT}; electric rail is hydro-dependent, out in winter and dry seasons "
        "(Daily NK 2013)",
    ),
    Parameter(
        "china_trade", "shock", 1.0, "volume of China trade", unit="x 2013 level",
        low=0.0, high=10.0, source="2013 DPRK-China trade US$6.54bn (KOTRA, V14) is 1",
    ),
    Parameter(
        "pds_level", "shock", 0.3, "share of staple needs the PDS rations outside the capital",
        low=0.0, high=1.0,
    ),
    Parameter(
        "market_ban", "shock", 0.0,
        "share of market sales suppressed by bans (e.g. after Nov 2009)", low=0.0, high=0.95,
    ),
    Parameter(
        "money_growth", "shock", _USD_TREND, "growth of the won cash in circulation",
        unit="log / year", low=-2.0, high=10.0,
        source="the trend of the survey's dollar rate, 2013-2019 (models/nk/survey.py, "
        "usd_trend): with steady sales the won loses value at the rate cash grows",
    ),
    Parameter(
        "dollarization", "shock", 0.5,
        "share of the market's money held in dollars and yuan rather than won", low=0.0,
        high=0.95,
        source="assumption; only its changes move prices (the won level is 1 in week 0)",
    ),
    # structure
    Parameter(
        "permit_bribe", "model", 20.0,
        "bribe for a travel permit, per trip (x1.5 into the capital's red line)",
        unit="USD / trip", low=0.0, high=1e6,
        source="US$20 border-area, US$30 Pyongyang permit (RFA 2011)",
    ),
    Parameter(
        "checkpoint_fine", "model", 15000.0, "fine or bribe at a checkpoint, per permit line",
        unit="KPW / trip", low=0.0, high=1e7,
        source="train fines Chongjin-Musan 10,000-20,000 KPW (Daily NK c. 2015)",
    ),
    Parameter(
        "petty_load", "model", 50.0, "load of a petty trader, who crosses one link a trip",
        unit="kg", low=1.0, high=1e6, source="assumption; what one person carries by train",
    ),
    Parameter(
        "wholesale_load", "model", 5000.0,
        "load of a wholesale trip between hubs (a servi-cha truck or a wagon)", unit="kg",
        low=1.0, high=1e6, source="assumption; a 5-tonne truck",
    ),
    Parameter(
        "rail_cost", "model", 0.0007, "per-kg rail freight cost", unit="rice value / 100 km",
        low=0.0, high=5.0,
        source="road_cost x 3,500 KPW business-train fare / 200 CNY (240,000 KPW) taxi fare, "
        "Daily NK 2017 (docs/MODEL.md, Costs)",
    ),
    Parameter(
        "road_cost", "model", 0.047, "per-kg road cost at parcel and passenger rates",
        unit="rice value / 100 km", low=0.0, high=5.0,
        source="Kujang-Sinuiju parcel 5,000-10,000 KPW, ~160 km (Daily NK c. 2019); a parcel of "
        "20 kg assumed (docs/MODEL.md, Costs)",
    ),
    Parameter(
        "truckload_share", "model", 0.033,
        "per-kg cost of a wholesale truckload as a share of road_cost", low=0.0, high=1.0,
        source=_FIT,
    ),
    Parameter(
        "rail_days", "model", 1.0, "rail travel time incl. waiting for trains",
        unit="days / 100 km", low=0.0, high=50.0,
        source="Pyongyang-Hyesan ~24 h running, 2-3 trains a week (Asia Press 2016, Daily NK)",
    ),
    Parameter(
        "road_days", "model", 0.3, "road travel time", unit="days / 100 km", low=0.0, high=50.0,
        source="servi-cha ~1 day where the train takes up to a week (Daily NK)",
    ),
    Parameter(
        "confiscation_max", "model", 0.3,
        "share of a load confiscated under a full crackdown (unless the bribe is cheaper)",
        low=0.0, high=0.99,
    ),
    Parameter(
        "protection_bribe", "model", 180.0,
        "bribe that saves a trip's load from confiscation under a full crackdown",
        unit="USD / trip", low=0.0, high=1e5,
        source=_FIT,
    ),
    Parameter(
        "remittance_cost", "model", 0.033,
        "cost of moving cash between markets (by phone broker or courier), a share of it",
        low=0.0, high=1.0, source=f"{_FIT} (cross-hub CV of the dollar rate)",
    ),
    Parameter(
        "demand_elasticity", "model", 0.7, "price elasticity of local demand", low=0.1, high=10.0
    ),
    Parameter(
        "specialization", "model", 0.2,
        "random regional dispersion of production on top of specialties", unit="log-sd",
        low=0.0, high=3.0,
    ),
    Parameter(
        "specialty_strength", "model", 1.0,
        "power on the regional specialty factors (0: no specialties)", low=0.0, high=3.0,
    ),
    Parameter(
        "spoilage_scale", "model", 1.0,
        "multiplier on every good's weekly spoilage rate (0: no spoilage)", low=0.0, high=10.0,
    ),
    Parameter(
        "turnover", "model", 0.45, "share of the stock a local market sells each week",
        unit="1/week", low=0.0, high=1.0, open_low=True,
        source=_FIT,
    ),
    Parameter(
        "arbitrage_tolerance", "model", 0.001,
        "a week's trading ends when no trip gains more than this over its cost",
        unit="log price", low=0.0, high=0.1, open_low=True, source="numerical setting",
    ),
    Parameter(
        "info_lag", "model", 4, "age of the prices traders without phones at both ends see",
        unit="weeks", low=0, high=52,
    ),
    Parameter(
        "production_noise", "model", 0.043, "weekly production noise", unit="log-sd",
        low=0.0, high=2.0,
        source=_FIT,
    ),
    Parameter(
        "seasonal_amplitude", "model", 0.05, "seasonal swing of staple output (lowest in April)",
        low=0.0, high=0.9,
        source="set so the lean-season (Apr-Jun vs Oct-Nov) rice price rise is 10-20% (V20, "
        "SERI 2007): 0.16 log points on average at the baseline",
    ),
    Parameter(
        "flood_weeks", "model", 4, "weeks a flood closes a unit's links", unit="weeks",
        low=0, high=52,
    ),
    Parameter(
        "flood_loss", "model", 0.5, "share of staple stocks and output a flood destroys",
        low=0.0, high=0.95,
    ),
    Parameter(
        "capital_pds", "model", 0.7,
        "ration level the PDS keeps in the capital (at least pds_level)", low=0.0, high=1.0,
        source="assumption; after 1995 the PDS kept serving Pyongyang and core classes [brief]",
    ),
    Parameter(
        "reinvest", "model", 0.5, "share of trading margins added to capital", low=0.0, high=10.0
    ),
    Parameter(
        "capital_recovery", "model", 0.02,
        "rate at which traders' capital returns to its norm", unit="1/week", low=0.0, high=1.0,
    ),
    Parameter(
        "active_trade_share", "model", 0.25,
        "share of window weeks a link must carry a good to count as active",
        low=0.0, high=1.0, open_low=True,
    ),
    Parameter(
        "linked_share", "model", 0.5,
        "share of window weeks a link's price gap must stay within its transport cost",
        low=0.0, high=1.0, open_low=True,
    ),
    Parameter(
        "integration_threshold", "model", 0.5,
        "population share of the largest price-linked component that makes a run integrated",
        low=0.0, high=1.0, open_low=True,
    ),
    Parameter(
        "window_share", "model", 0.25, "final share of the run over which outcomes are averaged",
        low=0.0, high=1.0, open_low=True,
    ),
)  # fmt: skip

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
    Series(
        "rice_pyongyang", "clearing rice price in the capital that week", unit="KPW / kg",
        label="rice price, Pyongyang",
    ),
    Series(
        "rice_sinuiju", "clearing rice price at the main crossing that week", unit="KPW / kg",
        label="rice price, Sinuiju",
    ),
    Series(
        "rice_hyesan", "clearing rice price at the remote border city that week",
        unit="KPW / kg", label="rice price, Hyesan",
    ),
    Series(
        "won_level", "won price level: won prices over real prices (1 in week 0)",
        unit="-", label="won price level",
    ),
    Series(
        "usd_pyongyang", "market dollar rate in the capital that week", unit="KPW / USD",
        label="dollar rate, Pyongyang",
    ),
    Series(
        "usd_sinuiju", "market dollar rate at the main crossing that week", unit="KPW / USD",
        label="dollar rate, Sinuiju",
    ),
    Series(
        "usd_hyesan", "market dollar rate at the remote border city that week",
        unit="KPW / USD", label="dollar rate, Hyesan",
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

P = IntEnum("P", [p.name for p in PARAMETERS], start=0)
O = IntEnum("O", [o.name for o in OUTCOMES], start=0)  # noqa: E741
# columns of a run's series array: the step (1-based) at which the row was sampled, then SERIES
S = IntEnum("S", ["step", *(s.name for s in SERIES)], start=0)
L = IntEnum("L", LEDGER, start=0)
PL = IntEnum("PL", [p.name for p in PLACES], start=0)
# the window sums behind PLACES: the first four as PL, then the unit's market sales value
PLACE_SUMS = 5

# Fixed numbers of the model (docs/MODEL.md says why each is what it is)
# Won values of the 2013-2019 survey (Daily NK; means over Pyongyang, Sinuiju and Hyesan,
# models/nk/survey.py): a kg of rice at the reference price 1, and a US dollar. They
# turn per-trip costs in won and dollars into shares of a load's value.
RICE_KPW = 5045.0
KPW_PER_USD = 8162.0
MAX_PASSES = 100_000  # a safety bound on a week's trading passes, never reached in tests
MAX_PROCUREMENT = 0.9  # the state never collects the last tenth (private plots, farmers' sales)
MAX_OUTFLOW_SHARE = 0.5  # a unit ships out at most this share of a stock per week
DEMAND_FLOOR = 0.05  # market demand never falls below this share of demand (rations in full)
WEALTH_MAX = 20.0  # traders' capital at most this many times its norm
MAX_DELAY = 8  # weeks; longer travel times are capped
MAX_LAG = 52  # weeks of price memory
HARVEST_WEEK = 38  # the year's harvest shock is drawn at the end of September (and at week 0)
SEASON_PEAK_WEEK = 40  # staple production peaks in October, is lowest in April
MARGINAL_INFLOW = 0.1  # a unit whose inflows are below this share of its market is marginal
INITIAL_STATE_WEEKS = 8.0  # the state starts with this many weeks of rations
# a pair counts as within its band when |gap| <= cost + BAND_SLACK: the linearised shipment
# closes a gap to about 1%, and price surveys are no more precise than that
BAND_SLACK = 0.01
THRESHOLD_TOLERANCE = 1e-9
SPATIAL_FLOOR = 1e-20  # sum of squared price changes below which a good's Moran's I is 0

# Scenario events: rows (week, code, value, over). code >= 0: ramp parameter P(code) to value
# over `over` weeks (1: at once); the others are one-off.
EVENT_FLOOD = -1  # value: the unit that floods
EVENT_CAPITAL_LOSS = -2  # value: share of traders' capital wiped out
EVENT_HARVEST = -3  # value: factor on this year's staple harvest (until the next harvest)
EVENT_REDENOMINATION = -4  # value: share of won cash confiscated (above the exchange limit)
REDENOMINATION = 100.0  # old won per new won (30 November 2009)
MONEY_WEEKS = 13  # cash balances follow a quarter's sales: a week's noise barely moves the won

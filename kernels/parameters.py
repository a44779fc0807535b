"""What the market kernel reads, declared once: its parameters (the ``params`` vector, in
this order) with units, ranges, docs and sources (docs/MODEL.md's tables are generated from
them), its fixed numbers and the codes of scenario events. What it reports is declared in
``kernels.results``.

The index enum ``P`` is made from the table; the kernel indexes ``params`` by it
(``params[P.permit_strictness]``), never by a bare number.
"""

from __future__ import annotations

from enum import IntEnum

from segmark.models.interface import Parameter

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


P = IntEnum("P", [p.name for p in PARAMETERS], start=0)

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

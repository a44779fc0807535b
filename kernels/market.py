"""The segmented-marketization kernel: county markets, PDS, China trade, traders and transport.

:func:`simulate` runs one simulation: it draws the run's landscape, makes its
:class:`~kernels.state.State` and runs the weeks, each a fixed sequence of named phases
(:data:`PHASES`; their modules say what each does, docs/MODEL.md gives the equations). The
NumPy twin in ``reference.py`` has the same phases under the same names and makes the same
counter-based draws (``kernels.draws``), so the tests hold the two together phase by phase.

What a run reads is declared in ``kernels.parameters`` (the parameter vector,
``PARAMETERS``), what it writes in ``kernels.results``: outcomes, series, places and the goods
ledger.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from segmark.models.interface import Stopped

from . import draws
from .arbitrage import arbitrage, capital
from .goods import PRODUCTION_FLOOR, G, table
from .money import money
from .network import Network
from .outputs import clearing, finish, outputs, week_flags
from .parameters import (
    EVENT_CAPITAL_LOSS,
    EVENT_FLOOD,
    EVENT_HARVEST,
    EVENT_REDENOMINATION,
    PARAMETERS,
    P,
)
from .phases import (
    arrivals,
    china_trade,
    events,
    expected_prices,
    floods,
    outages,
    production,
    rations,
    spoilage,
)
from .results import LEDGER, S
from .results import OUTCOMES as _OUTCOMES
from .results import PLACES as _PLACES
from .results import SERIES as _SERIES
from .state import State, new_state
from .weeks import n_samples

PARAMS = tuple(p.name for p in PARAMETERS)
OUTCOMES = tuple(o.name for o in _OUTCOMES)  # the names, in the order of Simulation.outcomes
SERIES = tuple(s.name for s in _SERIES)  # of Simulation.series' columns after the step
PLACES = tuple(p.name for p in _PLACES)  # of Simulation.places' columns
# the phases of a week, in order (week_flags decides which outputs the week keeps)
PHASES = (
    "events",
    "arrivals",
    "production",
    "floods",
    "china_trade",
    "rations",
    "spoilage",
    "outages",
    "expected_prices",
    "arbitrage",
    "capital",
    "week_flags",
    "clearing",
    "money",
    "outputs",
)
NO_EVENTS = np.zeros((0, 4), dtype=np.float64)
NORMAL_TABLE = draws.normal_table()


@dataclass(frozen=True)
class Simulation:
    """outcomes: float64 (len(OUTCOMES),); series: float64 (n_samples, 1 + len(SERIES)), the
    first column being the step (1-based) at which the row was sampled; ledger: float64
    (len(LEDGER),), the run's goods balance in units of one week of mean regional demand;
    prices: float64 (N, K), each unit's log price of each good after the last week; places:
    float64 (N, len(PLACES)), each unit's outputs over the window (``kernels.results``)."""

    outcomes: np.ndarray
    series: np.ndarray
    ledger: np.ndarray
    prices: np.ndarray
    places: np.ndarray


@dataclass(frozen=True)
class Landscape:
    """What a run draws before its first week: demand and base production per unit and good,
    and each unit's rank for phone coverage (lower ranks get phones first)."""

    demand: np.ndarray  # float64 (N, K): weekly demand at reference price 1
    base: np.ndarray  # float64 (N, K): mean weekly production
    phone_rank: np.ndarray  # float64 (N,)


def draw_landscape(
    network: Network,
    goods: np.ndarray,
    specialization: float,
    rng: np.random.Generator,
    specialty_strength: float = 1.0,
) -> Landscape:
    """Demand scales with population and each good's spending weight. Production is
    population x the network's specialty factor to the power ``specialty_strength`` (0: no
    specialties) x a log-normal factor (log-sd ``specialization``, mean one), scaled so that
    national output is demand less imports plus exports, with a floor of PRODUCTION_FLOOR x
    demand. Phone ranks are uniform, halved for the capital, hubs and border units (merchants
    there get phones first)."""
    n_goods = goods.shape[0]
    pop = network.population[:, None]
    weight = goods[:, G.demand_weight]
    demand = pop * weight[None, :] * n_goods / weight.sum()
    z = rng.standard_normal((network.n_nodes, n_goods))
    raw = (
        pop
        * network.specialty[:, :n_goods] ** specialty_strength
        * np.exp(specialization * z - 0.5 * specialization**2)
    )
    share = 1.0 - goods[:, G.import_share] + goods[:, G.export_share]
    target = demand.sum(axis=0) * np.maximum(share, 0.0)
    base = np.maximum(raw * target / raw.sum(axis=0), PRODUCTION_FLOOR * demand)
    rank = rng.random(network.n_nodes) * np.where(network.tier > 0, 0.5, 1.0)
    return Landscape(
        np.ascontiguousarray(demand), np.ascontiguousarray(base), np.ascontiguousarray(rank)
    )


def start(
    network: Network,
    params: np.ndarray,
    seed: int,
    n_goods: int,
    n_steps: int,
    sample_every: int,
    stop: np.ndarray | None = None,
    events: np.ndarray | None = None,
) -> tuple[State, Simulation]:
    """A run's state before its first week (:func:`simulate`'s arguments; ``params`` is copied:
    events change the copy) and the arrays it fills, as a :class:`Simulation`."""
    params = np.ascontiguousarray(params, dtype=np.float64)
    if params.shape != (len(PARAMS),):
        raise ValueError(f"params must have shape ({len(PARAMS)},), got {params.shape}")
    events = NO_EVENTS if events is None else np.ascontiguousarray(events, dtype=np.float64)
    if ((events[:, 0] == 0) & (events[:, 1] == EVENT_REDENOMINATION)).any():
        raise ValueError("a redenomination needs week >= 1: week 0 sets the won level to 1")
    goods = table(n_goods)
    rng = np.random.default_rng(seed)
    land = draw_landscape(
        network, goods, params[P.specialization], rng, params[P.specialty_strength]
    )
    out = Simulation(
        np.full(len(_OUTCOMES), np.nan),  # filled only by a run that ends
        np.empty((n_samples(n_steps, sample_every), len(S)), dtype=np.float64),
        np.zeros(len(LEDGER)),
        np.zeros((network.n_nodes, n_goods)),
        np.full((network.n_nodes, len(_PLACES)), np.nan),
    )
    state = new_state(
        network.edge_u,
        network.edge_v,
        network.edge_km,
        network.edge_mode,
        network.edge_permit,
        network.indptr,
        network.adj_edge,
        network.adj_node,
        network.population,
        network.province,
        network.tier,
        network.import_weight,
        network.remote,
        network.trio,
        goods,
        land.demand,
        land.base,
        land.phone_rank,
        params.copy(),
        events,
        draws.run_key(rng),
        NORMAL_TABLE,
        np.zeros(1, dtype=np.uint8) if stop is None else stop,
        n_steps,
        sample_every,
        out.outcomes,
        out.series,
        out.ledger,
        out.prices,
        out.places,
    )
    return state, out


@njit(cache=True, nogil=True, error_model="numpy")
def run_weeks(s: State, first: int, last: int) -> bool:
    """Weeks ``first`` to ``last - 1``, and the run's outcomes when ``last`` is its end;
    returns False if the stop flag ended the run early (outputs incomplete)."""
    for t in range(first, last):
        if s.stop[0]:
            return False
        events(s, t)
        arrivals(s, t)
        production(s, t)
        floods(s, t)
        china_trade(s, t)
        rations(s, t)
        spoilage(s, t)
        outages(s, t)
        expected_prices(s, t)
        arbitrage(s, t)
        capital(s, t)
        week_flags(s, t)
        clearing(s, t)
        money(s, t)
        outputs(s, t)
    if last == s.n_steps:
        finish(s)
    return True


def simulate(
    network: Network,
    params: np.ndarray,
    seed: int,
    n_goods: int,
    n_steps: int,
    sample_every: int,
    stop: np.ndarray | None = None,
    events: np.ndarray | None = None,
) -> Simulation:
    """Run one simulation. ``params`` is float64 (len(PARAMS),) in the order of
    ``kernels.parameters.PARAMETERS``; ``seed`` a non-negative int; ``events`` float64 (M, 4)
    rows (week, code, value, over), sorted by week.

    Deterministic given its arguments: the landscape comes from a ``numpy.random.Generator``
    seeded with ``seed``, and every weekly shock from counter-based draws keyed by that
    generator's next word (kernels.draws). ``stop``, a uint8 (1,) array, is read once
    a week: another thread setting it to 1 ends the run early with :class:`Stopped` (the kernel
    releases the GIL, so a watchdog can enforce a time budget).
    """
    state, out = start(network, params, seed, n_goods, n_steps, sample_every, stop, events)
    if not run_weeks(state, 0, n_steps):
        raise Stopped("stopped before the end of the run")
    return out


__all__ = [
    "EVENT_CAPITAL_LOSS",
    "EVENT_FLOOD",
    "EVENT_HARVEST",
    "LEDGER",
    "NO_EVENTS",
    "OUTCOMES",
    "PARAMS",
    "PHASES",
    "PLACES",
    "SERIES",
    "Simulation",
    "Stopped",
    "draw_landscape",
    "simulate",
    "start",
]

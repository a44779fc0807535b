"""Finite-size checks: the model's stylized facts hold on synthetic networks of 50 to 800 regions.

A territory 500 km wide cut into more, smaller regions (random geometric and grid networks,
docs/MODEL.md "Finite-size checks"): with every friction off and traders given time (the
settings of test_stylized's law-of-one-price test) prices sit within their transport bands and
the market is integrated; at the defaults it stays segmented; with permits prohibitive no goods
cross a permit line. Two simulation seeds on one layout (network seed 0), 260 weeks (the window
is the last 65). Measured at nk-6: frictionless band compliance 0.93-0.96 and integration index
0.75-0.96 at every size, against 0.9 and the 0.5 threshold; default index 0.006-0.093 against
0.2. (In the default informed market the integration threshold does depend on size: the
finite_size sweep.)
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FREE, SETTLED, vector

from segmark.kernels import market, network
from segmark.kernels.nk import north_korea
from segmark.models.nk import networks

SIZES = (50, 200, 800)
SEEDS = (0, 1)
CLOSED = {"permit_strictness": 1.0, "permit_bribe": 1e6}


def outcomes(net: network.Network, **changes: float) -> dict[str, np.ndarray]:
    """Each outcome over SEEDS."""
    runs = np.array([market.simulate(net, vector(**changes), s, 6, 260, 4).outcomes for s in SEEDS])
    return {name: runs[:, j] for j, name in enumerate(market.OUTCOMES)}


@pytest.mark.parametrize("kind", ["geometric", "grid"])
@pytest.mark.parametrize("n_regions", SIZES)
def test_stylized_facts_hold_at_every_network_size(kind: str, n_regions: int) -> None:
    net = networks.build(kind, n_regions)
    assert net.n_nodes == n_regions
    free = outcomes(net, **FREE, **SETTLED)
    base = outcomes(net)
    closed = outcomes(net, **CLOSED)
    # law of one price: the same bar as on the North Korea network (test_stylized)
    assert (free["band_compliance"] >= 0.9).all()
    assert (free["integrated"] == 1.0).all()
    # the baseline is segmented: the price-linked market holds under a fifth of the people
    assert (base["integration_index"] < 0.2).all() and (base["integrated"] == 0.0).all()
    # prohibitive permits: nothing crosses a permit line, though neighbours still trade
    assert (closed["crossing_trade_share"] == 0.0).all()
    assert (closed["trade_share"] > 0.0).all()
    assert (free["crossing_trade_share"] > 0.05).all()
    assert (closed["integrated"] == 0.0).all()


@pytest.mark.parametrize("kind", ["geometric", "grid"])
def test_a_finer_cut_of_the_territory_has_shorter_links(kind: str) -> None:
    km = [networks.build(kind, n).edge_km.mean() for n in SIZES]
    assert km[0] > km[1] > km[2]
    assert km[0] > 2.5 * km[2]  # 16x the regions: links about a quarter as long (1 / sqrt 16)


@pytest.mark.parametrize("kind", ["nk", "geometric"])
def test_a_tenth_of_the_tolerance_changes_no_outcome_beyond_replicate_noise(kind: str) -> None:
    """A week's trading ends when no trip beats its cost by more than arbitrage_tolerance, not
    after a pass count: a tolerance ten times finer moves every outcome's mean over 6 seeds
    (same seeds) by under a quarter of its sd across seeds, on the North Korea network and on
    the 800-region geometric one (the finest cut, where v1's pass count mattered most)."""
    net = north_korea() if kind == "nk" else networks.build("geometric", 800)
    tolerance = vector()[market.PARAMS.index("arbitrage_tolerance")]

    def runs(tol: float) -> np.ndarray:
        params = vector(arbitrage_tolerance=tol)
        return np.array([market.simulate(net, params, s, 6, 156, 4).outcomes for s in range(6)])

    coarse, fine = runs(tolerance), runs(tolerance / 10)
    noise = coarse.std(axis=0)
    shift = np.abs(fine.mean(axis=0) - coarse.mean(axis=0))
    moved = [
        name
        for j, name in enumerate(market.OUTCOMES)
        if name != "trading_passes" and shift[j] > 0.25 * noise[j] + 1e-12
    ]
    assert moved == []
    passes = market.OUTCOMES.index("trading_passes")
    assert (fine[:, passes] >= coarse[:, passes]).all()  # finer: at least as many passes

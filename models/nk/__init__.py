"""``nk``: the network market model of North Korea's segmented marketization (docs/MODEL.md).

The 179 county and city units of North Korea (or a synthetic region graph), six goods, weekly
markets, the public distribution system, China trade, traders arbitraging along rail and road
links against permits, crackdowns and transport costs. A run is integrated when its
price-linked markets hold half the population. Its sweeps, the small preset and the historical
scenarios are in ``models/nk/conf``.
"""

from collections.abc import Mapping
from typing import Any

from segmark.kernels.parameters import KPW_PER_USD, PARAMETERS
from segmark.kernels.results import OUTCOMES, PLACES, SERIES
from segmark.models.interface import Model
from segmark.models.nk import facts, fit, networks, settings, simulation

# Changes whenever the same parameters and seed could give different numbers (the kernel, its
# data or a packaged scenario): part of every run id, so versions never mix in a dataset.
VERSION = "9"


def permit_cost_per_trip(params: Mapping[str, Any]) -> tuple[float, str]:
    """Permit strictness 1 in dollars: a trip's expected permit costs across one province
    line (the bribe plus the checkpoint fine, kernels.routes.trip_share), at ``params``."""
    usd = params["permit_bribe"] + params["checkpoint_fine"] / KPW_PER_USD
    return float(usd), "USD of expected permit costs a trip across a province line"


MODEL = Model(
    name="nk",
    version=VERSION,
    # columns: the run settings, the kernel's parameters, then the ramp
    parameters=(*settings.RUN, *PARAMETERS, *settings.RAMP),
    outcomes=OUTCOMES,
    series=SERIES,
    places=PLACES,
    units=networks.units,
    simulate=simulation.simulate,
    doc=__doc__.splitlines()[0].partition(": ")[2],
    state="integrated",
    order="integration_index",
    headline=("price_dispersion", "trade_share"),
    check=simulation.check,
    overrides=simulation.overrides,
    estimate_seconds=networks.estimate_seconds,
    config_package="segmark.models.nk.conf",
    # the kernel, this model, the ramps it shares, and its scenarios (data, not parameters)
    sources=(
        "segmark.kernels",
        "segmark.models.nk",
        "segmark.models.ramps",
        "segmark.models.nk.conf/scenario",
    ),
    stoppable=True,
    targets=(fit.SURVEY, facts.SURVEY_AND_FACTS),
    real_units={"policy.permit_strictness": permit_cost_per_trip},
)

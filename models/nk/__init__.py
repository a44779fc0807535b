"""``nk``: the network market model of North Korea's segmented marketization (docs/MODEL.md).

The 179 county and city units of North Korea (or a synthetic region graph), six goods, weekly
markets, the public distribution system, China trade, traders arbitraging along rail and road
links against permits, crackdowns and transport costs. A run is integrated when its
price-linked markets hold half the population. Its sweeps, the small preset and the historical
scenarios are in ``models/nk/conf``.
"""

from segmark.kernels.parameters import PARAMETERS
from segmark.kernels.results import OUTCOMES, PLACES, SERIES
from segmark.models.interface import Model
from segmark.models.nk import facts, fit, networks, settings, simulation

# Changes whenever the same parameters and seed could give different numbers (the kernel, its
# data or a packaged scenario): part of every run id, so versions never mix in a dataset.
VERSION = "9"

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
    estimate_seconds=networks.estimate_seconds,
    config_package="segmark.models.nk.conf",
    stoppable=True,
    targets=(fit.SURVEY, facts.SURVEY_AND_FACTS),
)

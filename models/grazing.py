"""``grazing``: a plain Python function as a model, the least a user writes (docs/MODELS.md).

May's (1977) grazed vegetation, the textbook system with two stable states (Scheffer et al.
2009): biomass x grows logistically to its capacity K and herbivores eat it at c x^2 / (1 + x^2),
with noise; stepped by Euler-Maruyama from the vegetated state. Past a critical grazing rate
(about 2.6 at K = 10, r = 1) the vegetation collapses to its grazed-down state.
"""

import math

import numpy as np

from segmark.models import Model, Outcome, Parameter

DT = 0.1  # time step of the Euler-Maruyama scheme
COLLAPSED = 2.0  # biomass below this is the grazed-down state (its equilibrium is below 1)


def simulate(params, seed):
    rng = np.random.default_rng(seed)
    x = params["capacity"]
    for _ in range(round(params["time"] / DT)):
        growth = params["growth"] * x * (1 - x / params["capacity"])
        eaten = params["grazing"] * x**2 / (1 + x**2)
        x = max(x + (growth - eaten) * DT + params["noise"] * math.sqrt(DT) * rng.normal(), 0.0)
    return {"biomass": x, "collapsed": x < COLLAPSED}


MODEL = Model(
    name="grazing",
    version="1",
    parameters=(
        Parameter("grazing", "policy", 1.0, "grazing rate c (herbivores)", low=0.0, high=4.0),
        Parameter("noise", "shock", 0.5, "sd of the biomass noise", low=0.0, high=2.0),
        Parameter("growth", "model", 1.0, "growth rate r", unit="1/time", low=0.1, high=5.0),
        Parameter("capacity", "model", 10.0, "carrying capacity K", low=1.0, high=100.0),
        Parameter("time", "model", 100.0, "time simulated", unit="time", low=1.0, high=1e4),
    ),
    outcomes=(
        Outcome("biomass", "vegetation biomass at the end"),
        Outcome("collapsed", "biomass ended below 2: the grazed-down state", dtype=bool),
    ),
    simulate=simulate,
    doc="May's (1977) grazed vegetation: a plain Python function",
    state="collapsed",
    order="biomass",
    headline=("biomass",),
)

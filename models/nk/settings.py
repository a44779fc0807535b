"""The ``nk`` model's settings beyond the kernel's parameter vector: which network, how many
goods and weeks, a historical scenario, a ramp (their values reach the kernel as arguments or
events, not in its ``params``). The kernel's own parameters are declared in
``kernels.parameters``."""

from __future__ import annotations

from importlib import resources

from segmark.kernels.network import HUB_RULES
from segmark.kernels.parameters import PARAMETERS as KERNEL
from segmark.models import ramps
from segmark.models.interface import Parameter
from segmark.models.nk.networks import KINDS

SCENARIO_PACKAGE = "segmark.models.nk.conf"


def scenario_names() -> tuple[str, ...]:
    """``none`` and the packaged scenarios (``models/nk/conf/scenario/*.yaml``)."""
    directory = resources.files(SCENARIO_PACKAGE).joinpath("scenario")
    files = sorted(p.name[:-5] for p in directory.iterdir() if p.name.endswith(".yaml"))
    return (ramps.NONE, *files)


# the kernel parameters a ramp or a scenario event can move within a run: levers and shocks
RAMPABLE = tuple(p.path for p in KERNEL if p.group in ("policy", "shock"))

RUN = (
    Parameter(
        "network", "model", "nk", "region graph: nk or a synthetic generator", choices=KINDS,
        source="-",
    ),
    Parameter(
        "n_regions", "model", 200, "regions of a synthetic network", unit="regions",
        low=2, high=5000,
    ),
    Parameter(
        "neighbours", "model", 4, "nearest neighbours linked (geometric network)", unit="edges",
        low=1, high=20,
    ),
    Parameter(
        "extent_km", "model", 500.0, "side of a synthetic network's square", unit="km",
        low=1.0, high=5000.0,
    ),
    Parameter(
        "network_seed", "model", 0, "seed of a synthetic network's layout", low=0,
        high=2**32 - 1,
    ),
    Parameter(
        "hubs", "model", "share",
        "wholesale hubs of a synthetic network: share (the most populous 3% of regions, more "
        "at finer cuts) or province (the most populous region of each province block)",
        choices=HUB_RULES, source="-",
    ),
    Parameter(
        "n_goods", "model", 6, "goods modelled (the first n of kernels.goods.GOODS)",
        unit="goods", low=1, high=6,
    ),
    Parameter(
        "n_steps", "model", 520, "simulated weeks (week 0 = 1 January)", unit="weeks",
        low=1, high=100_000,
    ),
    Parameter(
        "sample_every", "model", 4, "weeks between time-series samples (at most n_steps)",
        unit="weeks", low=1, high=100_000,
    ),
    Parameter(
        "scenario", "model", "none",
        "historical scenario: a time path of policies and shocks (models/nk/conf/scenario)",
        choices=scenario_names(), source="-",
    ),
)  # fmt: skip

RAMP = ramps.parameters(RAMPABLE)

"""The region graph a run uses, chosen by ``model.network``: the North Korea county network or
a synthetic one (for finite-size checks and fast tests); and what a run costs on it."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from segmark.kernels import network
from segmark.kernels.nk import north_korea, province_names

KINDS = ("nk", "geometric", "grid", "ring")

RUN_SETUP_SECONDS = 1e-4  # a 1-week run of 2 regions: 0.09-0.16 ms (benchmarks/sweep_overhead)
UNIT_WEEK_SECONDS = 3e-8  # per (node·good + link·good) per week: 20-33 ns (benchmarks/kernel_speed)
NK_NODES = 179  # the county/city units of kernels/data/oad_county_centroids.csv
NK_LINKS_PER_NODE = 3.0  # 534 links over 179 units
# links per node of the synthetic networks: a ring 1, a grid about 2, a random geometric
# network about 0.6 x neighbours (1,000 regions: 2,428 links with 4, 3,533 with 6)
LINKS_PER_NODE = {"ring": 1.0, "grid": 2.0}
GEOMETRIC_LINKS_PER_NEIGHBOUR = 0.6


@lru_cache(maxsize=16)
def build(
    kind: str,
    n_regions: int,
    neighbours: int = 4,
    extent_km: float = 500.0,
    seed: int = 0,
    hubs: str = "share",
) -> network.Network:
    """The network named by ``kind``; cached, so a worker builds each network once. The ``nk``
    network ignores the size arguments and the hub rule."""
    if kind == "nk":
        return north_korea()
    if kind == "geometric":
        return network.geometric(n_regions, neighbours, extent_km, seed, hubs)
    if kind == "grid":
        return network.grid(n_regions, extent_km, hubs)
    if kind == "ring":
        return network.ring(n_regions, extent_km, hubs)
    raise ValueError(f"network kind must be one of {KINDS}, got {kind!r}")


def of(params: Mapping[str, Any]) -> network.Network:
    """The network of a run's parameters (``network``, ``n_regions``, ``neighbours``,
    ``extent_km``, ``network_seed``, ``hubs``)."""
    return build(
        params["network"],
        int(params["n_regions"]),
        int(params["neighbours"]),
        float(params["extent_km"]),
        int(params["network_seed"]),
        params.get("hubs", "share"),
    )


def units(params: Mapping[str, Any]) -> dict[str, Any]:
    """Each unit's name, province and map coordinates (km), for the places table; the synthetic
    networks' provinces are their blocks."""
    net = of(params)
    provinces = province_names() if net.kind == "nk" else None
    return {
        "name": net.names,
        "province": [provinces[g] if provinces else f"block {g}" for g in net.province],
        "x_km": net.pos_km[:, 0],
        "y_km": net.pos_km[:, 1],
    }


def estimate_seconds(params: Mapping[str, Any]) -> float:
    """A run's cost guessed from its size, weeks x goods x (nodes + links), before any run was
    timed (the first receipts replace it; it needs nothing built: the NK network takes 0.4 s
    to assemble)."""
    kind = params["network"]
    nodes = NK_NODES if kind == "nk" else float(params["n_regions"])
    if kind == "nk":
        links = NK_LINKS_PER_NODE
    elif kind == "geometric":
        links = GEOMETRIC_LINKS_PER_NEIGHBOUR * float(params["neighbours"])
    else:
        links = LINKS_PER_NODE[kind]
    units = nodes * (1.0 + links) * float(params["n_goods"])
    return RUN_SETUP_SECONDS + UNIT_WEEK_SECONDS * units * float(params["n_steps"])

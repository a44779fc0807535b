"""The North Korea county network, built from the data files in ``kernels/data`` (sources and
licences in ``kernels/data/SOURCES.md``).

Nodes: the 179 county/city units (open-admin-data centroids). Roles of the major places
(``places.csv``): the capital, wholesale hubs and border crossings with their shares of China
imports. Populations: the 2008 census by province, with the census totals of the major cities
given to their units and the rest of each province split equally among its other units.
Edges: rail links between consecutive stations of the real lines (``rail_network.csv``, lengths
from the chainage; untabulated stations interpolated along the line) and express rail links
between consecutive hubs on a line, and road links between
neighbouring units (Delaunay triangulation of the centroids, longest links pruned, the graph kept
connected), ``ROAD_CIRCUITY`` times the great-circle distance long.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources
from itertools import pairwise

import numpy as np

from .goods import GOODS
from .network import (
    BORDER,
    CAPITAL,
    HUB,
    PERIPHERY,
    PERMIT_EXPRESS,
    RAIL,
    ROAD,
    Network,
    assemble,
    connect,
)

EARTH_KM = 6371.0
ROAD_CIRCUITY = 1.25  # road km per great-circle km (assumption)
RAIL_CIRCUITY = 1.2  # for the two rail links whose length is not tabulated (assumption)
ROAD_PRUNE = 2.5  # Delaunay links longer than this many times the median are dropped
# census provinces of the OAD provinces (2008 census groups Nampo with South Pyongan)
CENSUS_PROVINCE = {"Jagang": "Chagang", "Nampo": "South Pyongan"}
TIERS = {"capital": CAPITAL, "hub": HUB, "border": BORDER}


def _rows(name: str) -> list[dict[str, str]]:
    with resources.files("segmark.kernels").joinpath("data", name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _great_circle_km(lat1, lon1, lat2, lon2):
    lat1, lon1, lat2, lon2 = map(np.radians, (lat1, lon1, lat2, lon2))
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_KM * np.arcsin(np.sqrt(h))


@lru_cache(maxsize=1)
def north_korea() -> Network:
    counties = _rows("oad_county_centroids.csv")
    names = [r["county"] for r in counties]
    index = {name: i for i, name in enumerate(names)}
    n = len(names)
    lat = np.array([float(r["lat"]) for r in counties])
    lon = np.array([float(r["lon"]) for r in counties])
    pos = np.column_stack(
        [EARTH_KM * np.radians(lon) * np.cos(np.radians(40.0)), EARTH_KM * np.radians(lat)]
    )
    provinces = province_names()
    province = np.array([provinces.index(r["province"]) for r in counties])

    tier = np.full(n, PERIPHERY)
    import_weight = np.zeros(n)
    for place in _rows("places.csv"):
        i = index[place["county"]]
        tier[i] = max(tier[i], TIERS[place["tier"]])
        import_weight[i] += float(place["import_weight"])

    population = _populations(counties, index)
    specialty = _specialties(counties, index)
    rail, rail_km, rail_permit = _rail(index, lat, lon, tier)
    road, road_km = _roads(pos, lat, lon, rail)
    trio = np.array([index["Pyongyang"], index["Sinuiju City"], index["Hyesan City"]])
    return assemble(
        "nk",
        names,
        pos,
        population,
        province,
        tier,
        import_weight,
        specialty,
        trio,
        np.vstack([rail, road]),
        np.concatenate([rail_km, road_km]),
        np.concatenate([np.full(len(rail), RAIL), np.full(len(road), ROAD)]),
        np.concatenate([rail_permit, np.ones(len(road))]),
    )


@lru_cache(maxsize=1)
def province_names() -> tuple[str, ...]:
    """The provinces of the open-admin-data units, in the order of ``Network.province``."""
    return tuple(sorted({r["province"] for r in _rows("oad_county_centroids.csv")}))


def _populations(counties: list[dict[str, str]], index: dict[str, int]) -> np.ndarray:
    census = {r["province"]: float(r["pop_2008_census"]) for r in _rows("nk_provinces.csv")}
    places = {p["place"]: p["county"] for p in _rows("places.csv")}
    known: dict[int, float] = {}
    for row in _rows("nk_nodes_major.csv"):
        if not row["pop_2008_census_total"]:
            continue
        county = places.get(row["node"]) or _county_named(row["node"], index)
        if county is None:
            raise ValueError(f"nk_nodes_major.csv: {row['node']!r} matches no county unit")
        known[index[county]] = float(row["pop_2008_census_total"])
    population = np.zeros(len(counties))
    members: dict[str, list[int]] = {}
    for i, r in enumerate(counties):
        members.setdefault(CENSUS_PROVINCE.get(r["province"], r["province"]), []).append(i)
    for prov, units in members.items():
        total = census[prov]
        fixed = sum(known.get(i, 0.0) for i in units)
        rest = [i for i in units if i not in known]
        # where the named cities' census totals cover the province (Pyongyang), the other
        # units get a floor of 5% of the province and the cities give it up pro rata
        rest_total = max(total - fixed, 0.05 * total) if rest else 0.0
        for i in units:
            population[i] = known.get(i, rest_total / max(len(rest), 1))
        named = [i for i in units if i in known]
        if named:
            population[named] *= (total - rest_total) / fixed
    return population


# major places whose county unit is spelled differently in the open-admin-data names
ALIASES = {
    "Sinpo": "Sinpho City",
    "Kimchaek": "Kim Chaek City",
    "Rajin (Rason)": "Rason City",
    "Songnim": "Songrim City",
}


def _county_named(place: str, index: dict[str, int]) -> str | None:
    for candidate in (ALIASES.get(place, place), f"{place} City"):
        if candidate in index:
            return candidate
    return None


def _specialties(counties: list[dict[str, str]], index: dict[str, int]) -> np.ndarray:
    specialty = np.ones((len(counties), len(GOODS)))
    rows = _rows("specialties.csv")
    for row in rows:  # "other" first: it sets the default of a good
        if row["scope"] == "other":
            specialty[:, GOODS.index(row["good"])] = float(row["factor"])
    for row in rows:
        k = GOODS.index(row["good"])
        if row["scope"] == "province":
            for i, r in enumerate(counties):
                if r["province"] == row["name"]:
                    specialty[i, k] = float(row["factor"])
        elif row["scope"] == "county":
            specialty[index[row["name"]], k] = float(row["factor"])
    return specialty


def _rail(index: dict[str, int], lat: np.ndarray, lon: np.ndarray, tier: np.ndarray):
    """Links between consecutive stations of each line, plus express links between
    consecutive hubs (capital, wholesale hubs, border crossings) on a line: wholesale freight
    rides through the stations between them."""
    lines: dict[str, list[dict[str, str]]] = {}
    for row in _rows("rail_network.csv"):
        lines.setdefault(row["line"], []).append(row)
    edges, lengths, permit = [], [], []
    for stations in lines.values():
        stations.sort(key=lambda r: int(r["order"]))
        nodes = [index[s["county"]] for s in stations]
        km = [float(s["km"]) if s["km"] else np.nan for s in stations]
        km = _fill_chainage(nodes, km, lat, lon)
        for a, b, ka, kb in zip(nodes, nodes[1:], km, km[1:], strict=False):
            edges.append((a, b))
            lengths.append(kb - ka)
            permit.append(1.0)
        hubs = [(node, k) for node, k in zip(nodes, km, strict=True) if tier[node] != PERIPHERY]
        for (a, ka), (b, kb) in pairwise(hubs):
            edges.append((a, b))
            lengths.append(kb - ka)
            permit.append(PERMIT_EXPRESS)
    return np.array(edges, dtype=np.int64), np.array(lengths), np.array(permit)


def _fill_chainage(nodes, km, lat, lon) -> list[float]:
    """Stations without a km mark are placed between the known marks in proportion to the
    great-circle distances; a line with only its start known is RAIL_CIRCUITY x great circle."""
    hops = [float(_great_circle_km(lat[a], lon[a], lat[b], lon[b])) for a, b in pairwise(nodes)]
    km = list(km)
    known = [j for j, x in enumerate(km) if not np.isnan(x)]
    for left, right in pairwise(known):
        span = sum(hops[left:right])
        for j in range(left + 1, right):
            km[j] = km[left] + (km[right] - km[left]) * sum(hops[left:j]) / span
    for j in range(known[-1] + 1, len(km)):
        km[j] = km[j - 1] + RAIL_CIRCUITY * hops[j - 1]
    return km


def _roads(pos: np.ndarray, lat: np.ndarray, lon: np.ndarray, rail: np.ndarray):
    from scipy.spatial import Delaunay

    triangles = Delaunay(pos).simplices
    pairs = np.vstack([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [0, 2]]])
    pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    km = ROAD_CIRCUITY * _great_circle_km(
        lat[pairs[:, 0]], lon[pairs[:, 0]], lat[pairs[:, 1]], lon[pairs[:, 1]]
    )
    keep = km <= ROAD_PRUNE * np.median(km)
    pairs = pairs[keep]
    dist = ROAD_CIRCUITY * _great_circle_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    np.fill_diagonal(dist, np.inf)
    pairs = connect(dist, pairs)
    km = dist[pairs[:, 0], pairs[:, 1]]
    return pairs, km

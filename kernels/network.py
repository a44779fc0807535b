"""Region graphs as typed arrays: an edge list with modes plus a CSR incidence index.

The kernel only sees the arrays of a :class:`Network`. ``kernels.nk`` assembles the North Korea
county network; :func:`geometric`, :func:`grid` and :func:`ring` make synthetic ones for
finite-size checks and fast tests, with the same roles (a capital, hubs, one border crossing,
provinces) given by rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .goods import GOODS

ROAD, RAIL = 0, 1
PERIPHERY, HUB, BORDER, CAPITAL = 0, 1, 2, 3
TIER_NAMES = ("periphery", "hub", "border", "capital")
# Travel-permit weight of an edge: hops between adjacent counties of one province are exempt
# (the permit rule exempts adjacent counties, Lankov 2011); crossing a province line or riding
# the rail beyond the next county needs a permit; the capital and border zones cost more
# (US$30 "red line" Pyongyang permit vs US$20 border permit, RFA 2011).
PERMIT_CROSSING = 1.0
PERMIT_RED_LINE = 1.5
# Express rail freight between hubs moves under wholesale merchants' standing arrangements
# (state trading-company licences, regular bribes): half the permit cost (assumption).
PERMIT_EXPRESS = 0.5
HUB_RULES = ("share", "province")  # how a synthetic network picks its wholesale hubs


@dataclass(frozen=True, eq=False)
class Network:
    """An undirected region graph; parallel edges of different modes are allowed.

    Node arrays (all C-contiguous, N nodes):
      names        tuple[str]      unit names
      pos_km       float64 (N, 2)  coordinates in km
      population   float64 (N,)    population, mean 1
      province     int64   (N,)    province (group) index
      tier         int64   (N,)    PERIPHERY, HUB, BORDER or CAPITAL
      import_weight float64 (N,)   share of China imports entering here (sums to 1)
      remote       bool    (N,)    periphery units in the farthest third from the capital
      specialty    float64 (N, G)  production multiplier of each of the GOODS (G = 6)
      trio         int64   (3,)    the capital, the main border crossing and a remote border city
                                   (Pyongyang, Sinuiju, Hyesan on the NK network)
    Edge arrays (E edges):
      edge_u, edge_v int64 (E,)    endpoints (edge_u < edge_v)
      edge_km      float64 (E,)    length in km
      edge_mode    int64   (E,)    ROAD or RAIL
      edge_permit  float64 (E,)    travel-permit weight (0 exempt, 1, or 1.5 red line)
    CSR incidence: the edges at node i are adj_edge[indptr[i]:indptr[i+1]], their far ends
      adj_node[...]; indptr int64 (N+1,), adj_edge, adj_node int64 (2E,).
    """

    kind: str
    names: tuple[str, ...]
    pos_km: np.ndarray
    population: np.ndarray
    province: np.ndarray
    tier: np.ndarray
    import_weight: np.ndarray
    remote: np.ndarray
    specialty: np.ndarray
    trio: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_km: np.ndarray
    edge_mode: np.ndarray
    edge_permit: np.ndarray
    indptr: np.ndarray
    adj_edge: np.ndarray
    adj_node: np.ndarray

    @property
    def n_nodes(self) -> int:
        return int(self.pos_km.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.shape[0])

    @property
    def hubs(self) -> np.ndarray:
        """The major hubs: the capital, the wholesale hubs and the main border crossing."""
        major = (self.tier == HUB) | (self.tier == CAPITAL)
        major[self.trio[1]] = True
        return np.flatnonzero(major)


def _c(array: np.ndarray, dtype: type) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(array, dtype=dtype))


def assemble(
    kind: str,
    names: list[str],
    pos_km: np.ndarray,
    population: np.ndarray,
    province: np.ndarray,
    tier: np.ndarray,
    import_weight: np.ndarray,
    specialty: np.ndarray,
    trio: np.ndarray,
    edges: np.ndarray,
    edge_km: np.ndarray,
    edge_mode: np.ndarray,
    permit_scale: np.ndarray | None = None,
) -> Network:
    """Build a :class:`Network`: canonical edge order (u < v, one edge per pair and mode, the
    one with the lowest permit scale, then the shortest, kept), permit weights (the rule times
    ``permit_scale``, default 1), the remote set and the CSR index."""
    pos_km = _c(pos_km, np.float64)
    n = pos_km.shape[0]
    tier = _c(tier, np.int64)
    province = _c(province, np.int64)
    pairs = np.sort(np.asarray(edges, dtype=np.int64).reshape(-1, 2), axis=1)
    edge_km = np.asarray(edge_km, dtype=np.float64)
    edge_mode = np.asarray(edge_mode, dtype=np.int64)
    scale = np.ones(len(pairs)) if permit_scale is None else np.asarray(permit_scale, float)
    keep = pairs[:, 0] != pairs[:, 1]
    pairs, edge_km, edge_mode, scale = pairs[keep], edge_km[keep], edge_mode[keep], scale[keep]
    order = np.lexsort((edge_km, scale, edge_mode, pairs[:, 1], pairs[:, 0]))
    pairs, edge_km, edge_mode, scale = pairs[order], edge_km[order], edge_mode[order], scale[order]
    first = np.ones(len(pairs), dtype=bool)
    first[1:] = (np.diff(pairs, axis=0) != 0).any(axis=1) | (np.diff(edge_mode) != 0)
    pairs, edge_km, edge_mode, scale = pairs[first], edge_km[first], edge_mode[first], scale[first]
    edge_u, edge_v = _c(pairs[:, 0], np.int64), _c(pairs[:, 1], np.int64)

    crossing = (edge_mode == RAIL) | (province[edge_u] != province[edge_v])
    red_line = np.isin(tier[edge_u], (BORDER, CAPITAL)) | np.isin(tier[edge_v], (BORDER, CAPITAL))
    edge_permit = scale * np.where(
        crossing, np.where(red_line, PERMIT_RED_LINE, PERMIT_CROSSING), 0.0
    )

    ends = np.concatenate([edge_u, edge_v])
    far = np.concatenate([edge_v, edge_u])
    edge_ids = np.concatenate([np.arange(len(edge_u)), np.arange(len(edge_u))])
    csr = np.lexsort((edge_ids, ends))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=n), out=indptr[1:])

    capital = int(np.flatnonzero(tier == CAPITAL)[0])
    km_from_capital = _path_km(n, edge_u, edge_v, edge_km, capital)
    periphery = tier == PERIPHERY
    cut = np.quantile(km_from_capital[periphery], 2.0 / 3.0) if periphery.any() else np.inf
    population = np.asarray(population, dtype=np.float64)
    import_weight = np.asarray(import_weight, dtype=np.float64)
    return Network(
        kind=kind,
        names=tuple(names),
        pos_km=pos_km,
        population=_c(population / population.mean(), np.float64),
        province=province,
        tier=tier,
        import_weight=_c(import_weight / import_weight.sum(), np.float64),
        remote=_c(periphery & (km_from_capital >= cut), np.bool_),
        specialty=_c(specialty, np.float64),
        trio=_c(trio, np.int64),
        edge_u=edge_u,
        edge_v=edge_v,
        edge_km=_c(edge_km, np.float64),
        edge_mode=_c(edge_mode, np.int64),
        edge_permit=_c(edge_permit, np.float64),
        indptr=indptr,
        adj_edge=_c(edge_ids[csr], np.int64),
        adj_node=_c(far[csr], np.int64),
    )


def _path_km(n: int, u: np.ndarray, v: np.ndarray, km: np.ndarray, source: int) -> np.ndarray:
    """Shortest-path km from ``source``; of parallel links the shortest counts (a sparse
    matrix would add them up)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    a, b = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((km, b, a))
    a, b, km = a[order], b[order], np.asarray(km)[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    graph = coo_matrix((km[first], (a[first], b[first])), shape=(n, n)).tocsr()
    return dijkstra(graph, directed=False, indices=source)


def components(n: int, edges: np.ndarray) -> np.ndarray:
    """Connected-component label of each node of the graph of ``edges`` ((E, 2) node pairs)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def connect(dist: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Add the shortest links (by ``dist``, (N, N)) joining components until ``edges`` is
    connected."""
    n = dist.shape[0]
    labels = components(n, edges)
    while labels.max() > 0:
        inside = labels == 0
        sub = dist[np.ix_(inside, ~inside)]
        a, b = np.unravel_index(np.argmin(sub), sub.shape)
        edges = np.vstack([edges, [np.flatnonzero(inside)[a], np.flatnonzero(~inside)[b]]])
        labels = components(n, edges)
    return edges


def _synthetic(
    kind: str, pos: np.ndarray, population: np.ndarray, edges: np.ndarray, hubs: str = "share"
) -> Network:
    """Roles by rule: the most populous region is the capital; provinces are a 3 x 3 grid of
    blocks; the wholesale hubs are the next 3% of regions by population (``hubs="share"``:
    a finer cut has more of them) or the most populous region of each other block
    (``"province"``: the same markets however finely the territory is cut, as North Korea has
    its eight); the westernmost region is the single border crossing; the trio is capital,
    border and the region farthest from the capital."""
    if hubs not in HUB_RULES:
        raise ValueError(f"hubs must be one of {HUB_RULES}, got {hubs!r}")
    n = len(pos)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    tier = np.zeros(n, dtype=np.int64)
    order = np.argsort(-population, kind="stable")
    capital = int(order[0])
    border = int(np.argmin(pos[:, 0] + 1e-9 * np.arange(n)))
    if border == capital:
        border = int(np.argsort(pos[:, 0], kind="stable")[1]) if n > 1 else capital
    span = np.ptp(pos, axis=0)
    span[span == 0] = 1.0
    block = np.minimum((3 * (pos - pos.min(axis=0)) / span).astype(np.int64), 2)
    province = block[:, 0] * 3 + block[:, 1]
    if hubs == "share":
        tier[order[1 : 1 + max(1, int(0.03 * n))]] = HUB
    else:
        for g in np.unique(province[province != province[capital]]):
            members = np.flatnonzero(province == g)
            tier[members[np.argmax(population[members])]] = HUB
    tier[border] = BORDER
    tier[capital] = CAPITAL
    import_weight = np.zeros(n)
    import_weight[border] = 1.0
    edge_km = np.linalg.norm(pos[edges[:, 0]] - pos[edges[:, 1]], axis=1)
    km = _path_km(n, edges[:, 0], edges[:, 1], edge_km, capital) if len(edges) else np.zeros(n)
    far = int(np.argmax(np.where(np.isfinite(km), km, -1.0)))
    return assemble(
        kind,
        [f"{kind}-{i}" for i in range(n)],
        pos,
        population,
        province,
        tier,
        import_weight,
        np.ones((n, len(GOODS))),
        np.array([capital, border, far]),
        edges,
        edge_km,
        np.full(len(edges), ROAD),
    )


def geometric(
    n_regions: int,
    neighbours: int = 4,
    extent_km: float = 500.0,
    seed: int = 0,
    hubs: str = "share",
) -> Network:
    """Random regions in a square of side ``extent_km``, each linked to its nearest neighbours.

    Populations are log-normal (sd 0.5); the graph is made connected.
    """
    rng = np.random.default_rng(seed)
    pos = rng.uniform(0.0, extent_km, size=(n_regions, 2))
    population = rng.lognormal(0.0, 0.5, size=n_regions)
    dist = np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=2)
    np.fill_diagonal(dist, np.inf)
    k = min(neighbours, n_regions - 1)
    nearest = np.argsort(dist, axis=1, kind="stable")[:, :k]
    edges = np.column_stack([np.repeat(np.arange(n_regions), k), nearest.ravel()])
    return _synthetic("geometric", pos, population, connect(dist, edges), hubs)


def grid(n_regions: int, extent_km: float = 500.0, hubs: str = "share") -> Network:
    """A square-ish lattice (rows x cols >= n_regions, truncated row-major); the centre region
    is the capital (populations equal but for a 1% bump there)."""
    cols = int(np.ceil(np.sqrt(n_regions)))
    idx = np.arange(n_regions)
    row, col = np.divmod(idx, cols)
    spacing = extent_km / max(cols - 1, 1)
    pos = np.column_stack([col * spacing, row * spacing]).astype(np.float64)
    right = idx[(col + 1 < cols) & (idx + 1 < n_regions)]
    down = idx[idx + cols < n_regions]
    edges = np.vstack([np.column_stack([right, right + 1]), np.column_stack([down, down + cols])])
    population = np.ones(n_regions)
    population[np.argmin(np.linalg.norm(pos - pos.mean(axis=0), axis=1))] = 1.01
    return _synthetic("grid", pos, population, edges, hubs)


def ring(n_regions: int, extent_km: float = 500.0, hubs: str = "share") -> Network:
    """Regions equally spaced on a circle of circumference ``extent_km``, each linked to both
    neighbours (two regions: one edge); region 0 is the capital."""
    angle = 2.0 * np.pi * np.arange(n_regions) / n_regions
    radius = extent_km / (2.0 * np.pi)
    pos = radius * np.column_stack([np.cos(angle), np.sin(angle)])
    idx = np.arange(n_regions)
    edges = np.column_stack([idx, (idx + 1) % n_regions])
    population = np.ones(n_regions)
    population[0] = 1.01
    return _synthetic("ring", pos, population, edges, hubs)

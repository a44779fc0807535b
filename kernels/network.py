"""Region graphs as typed arrays: an undirected edge list plus a CSR incidence index.

The kernel only sees the arrays of a :class:`Network`; how the graph was made (a synthetic generator
here, the North Korean county network later) does not matter to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

NETWORK_KINDS = ("geometric", "grid", "ring")


@dataclass(frozen=True, eq=False)
class Network:
    """An undirected region graph.

    Arrays (all C-contiguous):
      pos_km      float64 (N, 2)  region coordinates in km
      population  float64 (N,)    relative population, mean 1
      edge_u      int64   (E,)    first endpoint of each edge (edge_u < edge_v)
      edge_v      int64   (E,)    second endpoint
      edge_km     float64 (E,)    edge length in km
      indptr      int64   (N+1,)  CSR row pointer: the edges incident to node i are
      adj_edge    int64   (2E,)     adj_edge[indptr[i]:indptr[i+1]], their far ends
      adj_node    int64   (2E,)     adj_node[indptr[i]:indptr[i+1]]
    """

    kind: str
    pos_km: np.ndarray
    population: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_km: np.ndarray
    indptr: np.ndarray
    adj_edge: np.ndarray
    adj_node: np.ndarray

    @property
    def n_nodes(self) -> int:
        return int(self.pos_km.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.shape[0])


def from_edges(kind: str, pos_km: np.ndarray, population: np.ndarray, edges: np.ndarray) -> Network:
    """Build a :class:`Network` from node coordinates and an (E, 2) array of node pairs."""
    pos_km = np.ascontiguousarray(pos_km, dtype=np.float64)
    n = pos_km.shape[0]
    pairs = np.sort(np.asarray(edges, dtype=np.int64).reshape(-1, 2), axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    pairs = np.unique(pairs, axis=0)
    edge_u = np.ascontiguousarray(pairs[:, 0])
    edge_v = np.ascontiguousarray(pairs[:, 1])
    edge_km = np.linalg.norm(pos_km[edge_u] - pos_km[edge_v], axis=1)

    ends = np.concatenate([edge_u, edge_v])
    far = np.concatenate([edge_v, edge_u])
    edge_ids = np.concatenate([np.arange(len(edge_u)), np.arange(len(edge_u))])
    order = np.lexsort((far, ends))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=n), out=indptr[1:])

    population = np.asarray(population, dtype=np.float64)
    return Network(
        kind=kind,
        pos_km=pos_km,
        population=np.ascontiguousarray(population / population.mean()),
        edge_u=edge_u,
        edge_v=edge_v,
        edge_km=np.ascontiguousarray(edge_km),
        indptr=indptr,
        adj_edge=np.ascontiguousarray(edge_ids[order].astype(np.int64)),
        adj_node=np.ascontiguousarray(far[order].astype(np.int64)),
    )


def _components(n: int, edges: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _knn_edges(pos: np.ndarray, neighbours: int) -> np.ndarray:
    dist = np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=2)
    np.fill_diagonal(dist, np.inf)
    k = min(neighbours, len(pos) - 1)
    nearest = np.argsort(dist, axis=1, kind="stable")[:, :k]
    edges = np.column_stack([np.repeat(np.arange(len(pos)), k), nearest.ravel()])
    # Join components to the nearest node outside them until the graph is connected.
    labels = _components(len(pos), edges)
    while labels.max() > 0:
        inside = labels == 0
        sub = dist[np.ix_(inside, ~inside)]
        a, b = np.unravel_index(np.argmin(sub), sub.shape)
        edges = np.vstack([edges, [np.flatnonzero(inside)[a], np.flatnonzero(~inside)[b]]])
        labels = _components(len(pos), edges)
    return edges


def geometric(
    n_regions: int, neighbours: int = 4, extent_km: float = 500.0, seed: int = 0
) -> Network:
    """Random regions in a square of side ``extent_km``, each linked to its nearest neighbours.

    Populations are log-normal (sd 0.5); the graph is made connected.
    """
    rng = np.random.default_rng(seed)
    pos = rng.uniform(0.0, extent_km, size=(n_regions, 2))
    population = rng.lognormal(0.0, 0.5, size=n_regions)
    return from_edges("geometric", pos, population, _knn_edges(pos, neighbours))


def grid(n_regions: int, extent_km: float = 500.0) -> Network:
    """A square-ish lattice of equal regions (rows x cols >= n_regions, truncated row-major)."""
    cols = int(np.ceil(np.sqrt(n_regions)))
    idx = np.arange(n_regions)
    row, col = np.divmod(idx, cols)
    spacing = extent_km / max(cols - 1, 1)
    pos = np.column_stack([col * spacing, row * spacing]).astype(np.float64)
    right = idx[(col + 1 < cols) & (idx + 1 < n_regions)]
    down = idx[idx + cols < n_regions]
    edges = np.vstack([np.column_stack([right, right + 1]), np.column_stack([down, down + cols])])
    return from_edges("grid", pos, np.ones(n_regions), edges)


def ring(n_regions: int, extent_km: float = 500.0) -> Network:
    """Regions equally spaced on a circle of circumference ``extent_km``, each linked to both
    neighbours (two regions: one edge)."""
    angle = 2.0 * np.pi * np.arange(n_regions) / n_regions
    radius = extent_km / (2.0 * np.pi)
    pos = radius * np.column_stack([np.cos(angle), np.sin(angle)])
    idx = np.arange(n_regions)
    edges = np.column_stack([idx, (idx + 1) % n_regions])
    return from_edges("ring", pos, np.ones(n_regions), edges)


@lru_cache(maxsize=16)
def build(
    kind: str, n_regions: int, neighbours: int = 4, extent_km: float = 500.0, seed: int = 0
) -> Network:
    """The network named by ``kind``; cached, so a worker builds each network once."""
    if kind == "geometric":
        return geometric(n_regions, neighbours, extent_km, seed)
    if kind == "grid":
        return grid(n_regions, extent_km)
    if kind == "ring":
        return ring(n_regions, extent_km)
    raise ValueError(f"network kind must be one of {NETWORK_KINDS}, got {kind!r}")

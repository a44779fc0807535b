"""Graphs and inequality over a week's prices and links: connected components by union-find,
the population-weighted Gini coefficient and Moran's I of price changes."""

from __future__ import annotations

import numpy as np
from numba import njit

from .parameters import SPATIAL_FLOOR


@njit(cache=True, nogil=True, error_model="numpy")
def _find(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@njit(cache=True, nogil=True, error_model="numpy")
def component_roots(
    n: int, edge_u: np.ndarray, edge_v: np.ndarray, active: np.ndarray
) -> np.ndarray:
    """Union-find root of each node in the graph of active edges (active: bool (E,))."""
    parent = np.arange(n)
    for e in range(edge_u.shape[0]):
        if active[e]:
            a = _find(parent, edge_u[e])
            b = _find(parent, edge_v[e])
            if a != b:
                if a < b:
                    parent[b] = a
                else:
                    parent[a] = b
    for i in range(n):
        parent[i] = _find(parent, i)
    return parent


@njit(cache=True, nogil=True, error_model="numpy")
def largest_component(
    n: int, edge_u: np.ndarray, edge_v: np.ndarray, active: np.ndarray, weight: np.ndarray
) -> tuple[float, int]:
    """(weight share, root) of the heaviest component of the graph of active edges; ties go to
    the component with the smallest root. weight: float64 (N,), positive."""
    return heaviest(component_roots(n, edge_u, edge_v, active), weight)


@njit(cache=True, nogil=True, error_model="numpy")
def heaviest(roots: np.ndarray, weight: np.ndarray) -> tuple[float, int]:
    """(weight share, root) of the heaviest component given each node's root."""
    n = roots.shape[0]
    mass = np.zeros(n)
    for i in range(n):
        mass[roots[i]] += weight[i]
    best = 0
    for i in range(n):
        if mass[i] > mass[best] + 1e-12:
            best = i
    return mass[best] / weight.sum(), best


@njit(cache=True, nogil=True, error_model="numpy")
def largest_component_share(
    n: int, edge_u: np.ndarray, edge_v: np.ndarray, active: np.ndarray
) -> float:
    """Node share of the largest component of the graph of active edges (active: bool (E,))."""
    return largest_component(n, edge_u, edge_v, active, np.ones(n))[0]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _find_in(parent: np.ndarray, k: int, i: int) -> int:
    while parent[k, i] != i:
        parent[k, i] = parent[k, parent[k, i]]
        i = parent[k, i]
    return i


@njit(cache=True, nogil=True, error_model="numpy")
def mean_component_share(
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    active: np.ndarray,
    weight: np.ndarray,
    parent: np.ndarray,
    mass: np.ndarray,
) -> float:
    """The weight share of the heaviest component of each good's graph of active edges
    (active: bool (E, K)), averaged over goods; the same numbers as ``largest_component`` good
    by good, in one pass over the links. parent: int64 (K, N) and mass: float64 (N,) are
    scratch."""
    k_goods, n = parent.shape
    for k in range(k_goods):
        for i in range(n):
            parent[k, i] = i
    for e in range(edge_u.shape[0]):
        u = edge_u[e]
        v = edge_v[e]
        for k in range(k_goods):
            if active[e, k]:
                a = _find_in(parent, k, u)
                b = _find_in(parent, k, v)
                if a < b:  # the smaller index is the root: roots do not depend on the order
                    parent[k, b] = a
                elif b < a:
                    parent[k, a] = b
    total = weight.sum()
    shares = 0.0
    for k in range(k_goods):
        for i in range(n):
            mass[i] = 0.0
        for i in range(n):  # parent[i] <= i, so in this order each parent is already a root
            parent[k, i] = parent[k, parent[k, i]]
            mass[parent[k, i]] += weight[i]
        best = 0
        for i in range(n):
            if mass[i] > mass[best] + 1e-12:
                best = i
        shares += mass[best] / total
    return shares / k_goods


@njit(cache=True, nogil=True, error_model="numpy")
def gini(values: np.ndarray, weight: np.ndarray) -> float:
    """Weighted Gini coefficient of non-negative values (0 equal, towards 1 unequal)."""
    order = np.argsort(values)
    total_w = weight.sum()
    total_v = (values * weight).sum()
    if total_v <= 0.0:
        return 0.0
    cum_w = 0.0
    cum_v = 0.0
    area = 0.0
    for j in range(values.shape[0]):
        i = order[j]
        w = weight[i] / total_w
        v = values[i] * weight[i] / total_v
        area += w * (2.0 * cum_v + v)
        cum_w += w
        cum_v += v
    return 1.0 - area


@njit(cache=True, nogil=True, error_model="numpy")
def spatial_correlation(
    log_p: np.ndarray, prev_log_p: np.ndarray, edge_u: np.ndarray, edge_v: np.ndarray
) -> float:
    """Moran's I of the week's log-price changes over the links (binary, symmetric weights),
    averaged over goods: I_k = (N / E) sum_e z_u z_v / sum_i z_i^2 with z the change less its
    mean across units; a good whose changes are all equal counts 0."""
    n, k_goods = log_p.shape
    n_edges = edge_u.shape[0]
    if n_edges == 0:
        return 0.0
    z = np.empty((n, k_goods))
    squares = np.empty(k_goods)
    cross = np.zeros(k_goods)
    for k in range(k_goods):
        mean = 0.0
        for i in range(n):
            z[i, k] = log_p[i, k] - prev_log_p[i, k]
            mean += z[i, k]
        mean /= n
        sum_squares = 0.0
        for i in range(n):
            z[i, k] -= mean
            sum_squares += z[i, k] * z[i, k]
        squares[k] = sum_squares
    for e in range(n_edges):  # the goods' sums advance side by side
        u = edge_u[e]
        v = edge_v[e]
        for k in range(k_goods):
            cross[k] += z[u, k] * z[v, k]
    total = 0.0
    for k in range(k_goods):
        if squares[k] > SPATIAL_FLOOR:
            total += n / n_edges * cross[k] / squares[k]
    return total / k_goods

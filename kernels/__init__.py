"""Numba kernels of the segmark market model and their NumPy reference twin."""

from . import cache

# before any module here compiles: a cached kernel is stale when any module of the package changed
cache.register()

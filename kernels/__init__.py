"""Numba kernels of the segmark market model and their NumPy reference twin."""

"""The calendar of a run: its outcome window, the season of a week, its sampled weeks."""

from __future__ import annotations

import numpy as np
from numba import njit

from .parameters import SEASON_PEAK_WEEK, THRESHOLD_TOLERANCE


@njit(cache=True, nogil=True, error_model="numpy")
def window_start(n_steps: int, window_share: float) -> int:
    """First step of the final window (at least one step) over which outcomes are averaged."""
    return n_steps - max(1, int(window_share * n_steps + 0.5))


@njit(cache=True, nogil=True, error_model="numpy")
def weeks_needed(window: int, share: float) -> int:
    """Trading weeks out of ``window`` that make an edge active: ceil(share * window), robust to
    float error (0.07 * 100 counts as 7)."""
    return int(np.ceil(share * window - THRESHOLD_TOLERANCE))


@njit(cache=True, nogil=True, error_model="numpy")
def season(t: int, amplitude: float) -> float:
    """Staple production factor of week t (week 0 = 1 January): peaks in October."""
    return 1.0 + amplitude * np.cos(2.0 * np.pi * (t - SEASON_PEAK_WEEK) / 52.0)


def n_samples(n_steps: int, sample_every: int) -> int:
    """Rows of a run's series: one every ``sample_every`` weeks."""
    return n_steps // sample_every

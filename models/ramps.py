"""Ramps: a parameter moved within one run, the state carried along (hysteresis experiments).

A ramp holds a parameter at ``start`` for ``hold`` weeks, then moves it linearly to ``end`` over
``weeks`` weeks (``cycle``: and back to ``start`` over the next ``weeks``; ``step``: jumps to
``end`` at once). A model that supports ramps turns them into its own time-varying inputs (the
``nk`` model: kernel events); the analysis of ramp runs recovers the parameter's path with
:func:`values`, so both read the same definition.
"""

from __future__ import annotations

import numpy as np

NONE = "none"
SHAPES = ("cycle", "one_way", "step")
LEGS = {"cycle": 2, "one_way": 1, "step": 0}


def weeks_needed(shape: str, hold: int, weeks: int) -> int:
    """Weeks a ramp takes from the start of the run to its end."""
    return hold + LEGS[shape] * weeks + (1 if shape == "step" else 0)


def values(
    shape: str, start: float, end: float, hold: int, weeks: int, t: np.ndarray
) -> np.ndarray:
    """The ramped parameter's value in weeks ``t`` (0-based); a ramp over ``weeks`` reaches its
    end in its last week."""
    t = np.asarray(t, dtype=float)
    if shape == "step":
        return np.where(t < hold, start, end)
    up = np.clip((t - hold + 1) / weeks, 0.0, 1.0)
    value = np.where(t < hold, start, start + (end - start) * up)
    if shape == "cycle":
        down = np.clip((t - hold - weeks + 1) / weeks, 0.0, 1.0)
        value = np.where(t >= hold + weeks, end + (start - end) * down, value)
    return value

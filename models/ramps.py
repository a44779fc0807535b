"""Ramps: a parameter moved within one run, the state carried along (hysteresis experiments).

A ramp holds a parameter at ``start`` for ``hold`` weeks, then moves it linearly to ``end`` over
``weeks`` weeks (``cycle``: and back to ``start`` over the next ``weeks``; ``step``: jumps to
``end`` at once). A model that supports ramps turns them into its own time-varying inputs (the
``nk`` model: kernel events); the analysis of ramp runs recovers the parameter's path with
:func:`values`, so both read the same definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from segmark.models.interface import Parameter

NONE = "none"
SHAPES = ("cycle", "one_way", "step")
LEGS = {"cycle": 2, "one_way": 1, "step": 0}


def parameters(rampable: tuple[str, ...]) -> tuple[Parameter, ...]:
    """A ramp's settings, as a model that supports ramps declares them: ``rampable`` are the
    parameter paths a ramp may move."""
    return (
        Parameter(
            "ramp_parameter", "model", NONE,
            "parameter a ramp moves within each run (none: no ramp; segmark.models.ramps)",
            choices=(NONE, *rampable), source="-",
        ),
        Parameter(
            "ramp_shape", "model", "cycle",
            "cycle: from -> to -> from; one_way: from -> to; step: from, then to at once",
            choices=SHAPES, source="-",
        ),
        Parameter(
            "ramp_from", "model", 0.0, "ramped parameter's value from week 0 (start state)",
            unit="as the parameter", low=0.0, high=100.0, source="-",
        ),
        Parameter(
            "ramp_to", "model", 0.0, "far end of the ramp (a step's target value)",
            unit="as the parameter", low=0.0, high=100.0, source="-",
        ),
        Parameter(
            "ramp_hold", "model", 0, "weeks held at ramp_from before the ramp", unit="weeks",
            low=0, high=100_000, source="-",
        ),
        Parameter(
            "ramp_weeks", "model", 1, "weeks of each leg of the ramp", unit="weeks", low=1,
            high=100_000, source="-",
        ),
    )  # fmt: skip


_SETTINGS = parameters(())
# a setting by its role (parameter, shape, from, to, hold, weeks): as a name and as a column
NAMES = {p.name.removeprefix("ramp_"): p.name for p in _SETTINGS}
COLUMNS = {role: p.column for role, p in zip(NAMES, _SETTINGS, strict=True)}
PATHS = tuple(p.path for p in _SETTINGS)  # settings of a ramp, never axes of an analysis


@dataclass(frozen=True)
class Ramp:
    """One run's ramp."""

    parameter: str
    shape: str
    start: float
    end: float
    hold: int
    weeks: int

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Ramp | None:
        """The ramp a run's parameters (by name) or its run-table row (by column) set; None
        when it has none."""
        key = NAMES if NAMES["parameter"] in values else COLUMNS
        if values[key["parameter"]] == NONE:
            return None
        return cls(
            str(values[key["parameter"]]),
            str(values[key["shape"]]),
            float(values[key["from"]]),
            float(values[key["to"]]),
            int(values[key["hold"]]),
            int(values[key["weeks"]]),
        )

    def values(self, t: np.ndarray) -> np.ndarray:
        """The ramped parameter's value in weeks ``t`` (0-based)."""
        return values(self.shape, self.start, self.end, self.hold, self.weeks, t)


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

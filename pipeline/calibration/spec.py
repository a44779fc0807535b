"""What a calibration estimates, checked against the model before any run: priors, the
observed statistics and the ABC-SMC settings.

Statistics come either from data the model declares (``data``: a :class:`Targets` of the
model, e.g. the nk model's ``survey_2013_2019``; ``statistics`` picks some of its statistics,
all by default) or from outcomes observed elsewhere (``targets``: outcome name -> value).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

from segmark.models.interface import Model, Targets
from segmark.pipeline.calibration.priors import Priors, parse
from segmark.pipeline.calibration.smc import VERSION, Settings
from segmark.pipeline.config import CalibrationConfig, ConfigError

CalibrationSpec = CalibrationConfig  # the config section is the spec


@dataclass(frozen=True)
class Checked:
    """A validated spec: priors, statistic names, observed values, the data's targets (None
    for outcome targets) and the algorithm's settings."""

    priors: Priors
    statistics: tuple[str, ...]
    observed: np.ndarray
    targets: Targets | None
    settings: Settings


def check(spec: CalibrationSpec, model: Model, root_seed: int = 0) -> Checked:
    """The spec, validated against ``model`` before any run; ConfigError names the key."""
    priors = parse(model, spec.priors, "calibration.priors")
    if spec.data:
        targets = _data_targets(spec, model)
        names = tuple(spec.statistics or targets.statistics)
        values = targets.observed()
        observed = {n: values[n][0] for n in names}
    else:
        targets, observed = None, _outcome_targets(spec, model)
        names = tuple(observed)
    for name, value in observed.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ConfigError(f"calibration.targets.{name} = {value!r}: give a finite number.")
    _check_settings(spec)
    floors = standard_errors(targets.observed(), names) if targets is not None else ()
    settings = Settings(
        spec.particles, spec.populations, spec.quantile, spec.min_acceptance, root_seed, floors
    )
    return Checked(priors, names, np.array([float(observed[n]) for n in names]), targets, settings)


def standard_errors(
    intervals: Mapping[str, tuple[float, float, float]], names: tuple[str, ...], level: float = 0.9
) -> tuple[float, ...]:
    """Each statistic's standard error read from its (estimate, lower, upper) ``level``
    interval as a normal one: the mean of its half-widths (one where the other bound is NaN;
    0 with neither)."""
    z = float(stats.norm.ppf(0.5 + level / 2))
    out = []
    for name in names:
        estimate, lower, upper = intervals[name]
        halves = [h for h in (estimate - lower, upper - estimate) if math.isfinite(h) and h > 0]
        out.append(float(np.mean(halves)) / z if halves else 0.0)
    return tuple(out)


def _data_targets(spec: CalibrationSpec, model: Model) -> Targets:
    declared = {t.name: t for t in model.targets}
    if spec.targets:
        raise ConfigError(
            "calibration.targets: give calibration.data (the model's data) or calibration.targets "
            "(observed outcomes), not both."
        )
    if spec.data not in declared:
        names = ", ".join(declared) or "none"
        raise ConfigError(
            f"calibration.data = {spec.data!r}: {model.name} declares no such data; it has {names}."
        )
    targets = declared[spec.data]
    for name in spec.statistics:
        if name not in targets.statistics:
            raise ConfigError(
                f"calibration.statistics: {name!r} is not a statistic of {spec.data}; choose from "
                f"{', '.join(targets.statistics)}."
            )
    return targets


def _outcome_targets(spec: CalibrationSpec, model: Model) -> dict[str, Any]:
    if spec.statistics:
        raise ConfigError("calibration.statistics needs calibration.data: it picks the data's.")
    if not spec.targets:
        raise ConfigError(
            "calibration.targets is empty: give observed outcomes, or calibration.data."
        )
    floats = [o.name for o in model.outcomes if o.dtype is float]
    for name in spec.targets:
        if name not in floats:
            raise ConfigError(
                f"calibration.targets.{name}: {model.name} has no float outcome {name!r}; "
                f"it has {', '.join(floats)}."
            )
    return dict(spec.targets)


def _check_settings(spec: CalibrationSpec) -> None:
    def integer(value: Any, least: int) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= least

    rules = {
        "particles": (spec.particles, integer(spec.particles, 2), "an integer >= 2"),
        "populations": (spec.populations, integer(spec.populations, 1), "an integer >= 1"),
        "quantile": (spec.quantile, 0.0 < spec.quantile < 1.0, "a number in (0, 1)"),
        "min_acceptance": (
            spec.min_acceptance, 0.0 < spec.min_acceptance <= 1.0, "a number in (0, 1]"
        ),
    }  # fmt: skip
    for key, (value, ok, allowed) in rules.items():
        if not ok:
            raise ConfigError(f"calibration.{key} = {value!r}: it takes {allowed}.")


def identity(spec: CalibrationSpec, checked: Checked, model: Model, root_seed: int) -> dict:
    """What makes two calibrations the same one (a resume checks it): the model version, the
    root seed, the spec and the observed values it fits (not what is run of the posterior)."""
    intervals = checked.targets.observed() if checked.targets is not None else {}
    return {
        "model": model.tag,
        "algorithm": f"abc-smc-{VERSION}",
        "root_seed": root_seed,
        "observed": checked.observed.tolist(),
        "intervals": {n: list(intervals[n]) for n in checked.statistics if n in intervals},
        **{k: v for k, v in asdict(spec).items() if k not in ("predictive", "headline")},
    }

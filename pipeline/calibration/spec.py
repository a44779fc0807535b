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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
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
    intervals: Mapping[str, tuple[float, float, float]]  # (estimate, lower, upper) by statistic


def check(spec: CalibrationSpec, model: Model, root_seed: int = 0) -> Checked:
    """The spec, validated against ``model`` before any run; ConfigError names the key."""
    priors = parse(model, spec.priors, "calibration.priors")
    intervals: Mapping[str, tuple[float, float, float]] = {}
    if spec.data:
        targets = _data_targets(spec, model)
        names = tuple(spec.statistics or targets.statistics)
        if spec.observed_file:
            intervals = read_observed(spec.observed_file, targets, names)
        else:
            intervals = targets.observed()
        observed = {n: intervals[n][0] for n in names}
    else:
        if spec.observed_file:
            raise ConfigError("calibration.observed_file needs calibration.data: its estimator "
                              "makes the file's statistics from each run.")  # fmt: skip
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
    floors = standard_errors(intervals, names) if targets is not None else ()
    settings = Settings(
        spec.particles, spec.populations, spec.quantile, spec.min_acceptance, root_seed, floors
    )
    values = np.array([float(observed[n]) for n in names])
    return Checked(priors, names, values, targets, settings, intervals)


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


# what is run of the posterior, and the file that held the observed values (the values
# themselves are part of a calibration's identity)
NOT_IDENTITY = ("predictive", "headline", "observed_file")
OBSERVED_COLUMNS = ("statistic", "estimate")  # and optionally lower, upper
MAX_OBSERVED_BYTES = 1 << 20  # a few rows of statistics; a larger file is not one


def read_observed(
    path: str, targets: Targets, names: tuple[str, ...]
) -> dict[str, tuple[float, float, float]]:
    """``calibration.observed_file``: each statistic's (estimate, lower, upper), NaN bounds
    where the file gives none; a ConfigError naming the key, the file and what is wrong."""
    key = f"calibration.observed_file = {path!r}"
    file = Path(path).expanduser()
    try:
        too_large = file.stat().st_size > MAX_OBSERVED_BYTES
        table = None if too_large else pd.read_csv(file, dtype={"statistic": str})
    except (OSError, ValueError) as error:  # pandas' parser errors are ValueErrors
        reason = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
        raise ConfigError(f"{key}: cannot read it as CSV ({reason}).") from None
    if table is None:
        raise ConfigError(f"{key}: larger than {MAX_OBSERVED_BYTES >> 20} MB; it holds a row "
                          "per statistic.")  # fmt: skip
    lacking = [c for c in OBSERVED_COLUMNS if c not in table.columns]
    if lacking:
        raise ConfigError(f"{key}: no column {', '.join(lacking)}; it needs statistic, "
                          "estimate and may give lower, upper (a 90% interval).")  # fmt: skip
    unknown = sorted(set(table.statistic) - set(targets.statistics))
    repeated = sorted(set(table.statistic[table.statistic.duplicated()]))
    if unknown or repeated:
        bad = unknown or repeated
        raise ConfigError(f"{key}: {'unknown' if unknown else 'repeated'} statistic(s) "
                          f"{', '.join(map(str, bad))}; {targets.name} has "
                          f"{', '.join(targets.statistics)}.")  # fmt: skip
    rows = table.set_index("statistic")
    out = {}
    for name in names:
        if name not in rows.index:
            raise ConfigError(f"{key}: no row for statistic {name!r} (calibration.statistics "
                              "picks fewer).")  # fmt: skip
        row = rows.loc[name]
        bounds = [_number(row.get(c, math.nan), f"{key}: {name!r}'s {c}")
                  for c in ("estimate", "lower", "upper")]  # fmt: skip
        if not math.isfinite(bounds[0]):
            raise ConfigError(f"{key}: statistic {name!r} has estimate {bounds[0]}; "
                              "give a finite number.")  # fmt: skip
        out[name] = (bounds[0], bounds[1], bounds[2])
    return out


def _number(value: Any, what: str) -> float:
    """A cell as a float (an empty one: NaN); a ConfigError for text."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} = {value!r}: give a number (or leave it empty).") from None


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
    intervals = checked.intervals
    return {
        "model": model.tag,
        "algorithm": f"abc-smc-{VERSION}",
        "root_seed": root_seed,
        "observed": checked.observed.tolist(),
        "intervals": {n: list(intervals[n]) for n in checked.statistics if n in intervals},
        **{k: v for k, v in asdict(spec).items() if k not in NOT_IDENTITY},
    }

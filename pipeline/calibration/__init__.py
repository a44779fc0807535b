"""Calibration: ABC-SMC over a model's parameters, every simulation through the sweep engine.

Modules: ``priors`` (scipy.stats priors checked against the parameter table), ``smc`` (the
algorithm, engine-free), ``engine`` (batches as sweeps), ``posterior`` (Parquet), ``spec``
(what to estimate, checked), ``calibrate`` (a spec in, a resumable calibration out),
``predictive`` (the posterior rerun with fresh noise), ``report`` (tables, figures and
report.md; imports matplotlib).
docs/CALIBRATION.md describes the method.
"""

from segmark.pipeline.calibration.calibrate import credible_interval, posterior_mean, run
from segmark.pipeline.calibration.smc import Population, Settings, calibrate
from segmark.pipeline.calibration.spec import CalibrationSpec, check

__all__ = [
    "CalibrationSpec",
    "Population",
    "Settings",
    "calibrate",
    "check",
    "credible_interval",
    "posterior_mean",
    "run",
]

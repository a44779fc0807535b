"""Priors over a model's parameters: scipy.stats distributions, checked against the parameter
table before any run.

A calibration config writes one prior per parameter path::

    shock.mu_1: {dist: norm, loc: 0, scale: 1}
    policy.permit_strictness: {dist: uniform, low: 0.3, high: 1.0}
    model.turnover: {dist: loguniform, low: 0.1, high: 1.0}

``uniform`` and ``loguniform`` take ``low`` and ``high``; any other name is a distribution
of ``scipy.stats`` with its own arguments (``loc``, ``scale``, shape names). A prior must put
all but 1e-9 of its mass inside the parameter's declared range; draws outside it are redrawn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from segmark.models.interface import GROUPS, Model
from segmark.pipeline.config import ConfigError
from segmark.pipeline.designs import scipy_distribution

OUTSIDE = 1e-9  # the prior mass allowed outside a parameter's range


@dataclass(frozen=True)
class Prior:
    """One parameter's prior: its path, the spec as written and the frozen distribution."""

    path: str
    spec: Mapping[str, Any]
    dist: Any  # a frozen scipy.stats distribution
    low: float  # the parameter's declared range
    high: float


@dataclass(frozen=True)
class Priors:
    """Independent priors over several parameters, in a fixed order (columns of a point)."""

    items: tuple[Prior, ...]

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(p.path for p in self.items)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """(n, d) draws, each column from its prior, redrawn until inside the range."""
        out = np.empty((n, len(self.items)))
        for j, prior in enumerate(self.items):
            column = prior.dist.rvs(size=n, random_state=rng)
            bad = ~self._inside(j, column)
            while bad.any():
                column[bad] = prior.dist.rvs(size=int(bad.sum()), random_state=rng)
                bad = ~self._inside(j, column)
            out[:, j] = column
        return out

    def logpdf(self, points: np.ndarray) -> np.ndarray:
        """(n,) joint log density of (n, d) points; -inf outside any parameter's range."""
        total = np.zeros(points.shape[0])
        for j, prior in enumerate(self.items):
            column = points[:, j]
            inside = self._inside(j, column)
            density = np.full(column.shape, -np.inf)
            density[inside] = prior.dist.logpdf(column[inside])
            total += density
        return total

    @property
    def logs(self) -> np.ndarray:
        """(d,) bool: the parameters whose ABC kernel moves in log space (log-uniform priors,
        whose density falls as 1/x: a kernel in x would weight small values up to the range's
        ratio more than large ones, and leave a few particles carrying the population)."""
        return np.array([p.spec.get("dist") == "loguniform" for p in self.items])

    def to_kernel(self, points: np.ndarray) -> np.ndarray:
        """(n, d) points in the kernel's space: log where ``logs``, as they are elsewhere."""
        return np.where(self.logs, np.log(np.where(self.logs, points, 1.0)), points)

    def from_kernel(self, z: np.ndarray) -> np.ndarray:
        return np.where(self.logs, np.exp(np.where(self.logs, z, 0.0)), z)

    def kernel_logpdf(self, points: np.ndarray) -> np.ndarray:
        """(n,) the priors' joint log density in the kernel's space, at (n, d) points given in
        the parameters' own: with the Jacobian x of each log coordinate."""
        jacobian = np.log(np.where(self.logs, points, 1.0)).sum(axis=1)
        return self.logpdf(points) + jacobian

    def _inside(self, j: int, column: np.ndarray) -> np.ndarray:
        return (column >= self.items[j].low) & (column <= self.items[j].high)


def parse(model: Model, specs: Mapping[str, Mapping[str, Any]], where: str = "priors") -> Priors:
    """The priors ``specs`` declares, or a ConfigError naming the key and what is allowed."""
    if not specs:
        raise ConfigError(f"{where} is empty: give a prior for at least one parameter.")
    items = []
    for path, spec in _flat(specs).items():
        key = f"{where}.{path}"
        try:
            parameter = model.parameter(path)
        except KeyError:
            numeric = [p.path for p in model.parameters if p.dtype is float]
            raise ConfigError(
                f"{key}: {model.name} has no parameter {path!r}; it has {', '.join(numeric)}."
            ) from None
        if parameter.dtype is not float:
            raise ConfigError(f"{key}: only float parameters can be calibrated ({path} is not).")
        dist = _distribution(key, spec)
        outside = float(dist.cdf(parameter.low) + dist.sf(parameter.high))
        if not outside <= OUTSIDE:
            raise ConfigError(
                f"{key}: the prior puts {outside:.3g} of its mass outside the parameter's "
                f"range {parameter.allowed()}; narrow it to fit inside."
            )
        items.append(Prior(path, dict(spec), dist, float(parameter.low), float(parameter.high)))
    return Priors(tuple(items))


def _flat(specs: Mapping[str, Any]) -> dict[str, Any]:
    """``{shock: {mu_1: spec}}`` (nested, as a command line's override writes it) and
    ``{shock.mu_1: spec}`` alike, as ``{"shock.mu_1": spec}``."""
    flat = {}
    for key, value in specs.items():
        nested = key in GROUPS and isinstance(value, Mapping) and "dist" not in value
        flat.update({f"{key}.{k}": v for k, v in value.items()} if nested else {key: value})
    return flat


def _distribution(key: str, spec: Mapping[str, Any]) -> Any:
    """The frozen scipy.stats distribution a spec names."""
    if not isinstance(spec, Mapping) or "dist" not in spec:
        raise ConfigError(f"{key}: write a prior as {{dist: uniform, low: 0, high: 1}}.")
    spec = dict(spec)
    name = spec.pop("dist")
    if name in ("uniform", "loguniform"):
        low, high = spec.pop("low", None), spec.pop("high", None)
        if spec or not all(isinstance(v, int | float) for v in (low, high)):
            raise ConfigError(f"{key}: a {name} prior takes exactly low and high (numbers).")
        if not low < high or (name == "loguniform" and not low > 0):
            allowed = "0 < low < high" if name == "loguniform" else "low < high"
            raise ConfigError(f"{key}: low = {low}, high = {high}; a {name} prior needs {allowed}.")
        if name == "uniform":
            return stats.uniform(loc=low, scale=high - low)
        return stats.loguniform(low, high)
    dist = scipy_distribution(key, {"dist": name, **spec})
    if not np.isfinite(dist.std()):
        raise ConfigError(f"{key}: {name}({spec}) has no finite spread; choose other arguments.")
    return dist

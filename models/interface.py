"""The model interface: what a model declares once, and what the engine generates from it.

A :class:`Model` is a name and a version, its parameter table (:class:`Parameter`: name,
group, type, default, range or choices, unit, one-line doc and source), its outcomes
(:class:`Outcome`), its sampled series (:class:`Series`) and ``simulate(params, seed)``. The
engine builds everything else from these declarations: config sections and their validation
messages, run-table columns, Parquet schemas, the parameters a design can sweep, the labels of
figures and the docs tables. No other place names a parameter.

Groups follow the vocabulary of exploratory modelling: ``policy`` (levers), ``shock``
(uncertainties) and ``model`` (structural settings held fixed unless swept). A parameter is
written ``<group>.<name>`` in configs and ``<group>_<name>`` as a column.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

GROUPS = ("model", "policy", "shock")
GROUP_ROLES = {"model": "model setting", "policy": "policy lever", "shock": "shock or uncertainty"}
# columns every run carries before its parameters and after them (docs/OUTPUT.md)
ENGINE_COLUMNS = ("run_id", "point", "replicate", "seed", "status", "message", "elapsed_s")
_NAME = re.compile(r"[a-z][a-z0-9_]*")


class ParameterError(ValueError):
    """A value a parameter does not take; the message is one line naming the key."""


class Stopped(RuntimeError):
    """A run told to stop (its ``stop`` flag raised, e.g. by a time budget) before it ended."""


def _kind(value: Any) -> type:
    for kind in (bool, int, float, str):  # bool first: it is an int too
        if isinstance(value, kind):
            return kind
    raise TypeError(f"a parameter default must be a bool, int, float or str, got {value!r}")


@dataclass(frozen=True)
class Parameter:
    """One parameter: its type is the type of its default (float, int, str or bool); numbers
    have a closed range ``[low, high]`` (``(low, high]`` with ``open_low``), strings a tuple
    of ``choices``."""

    name: str
    group: str
    default: Any
    doc: str
    unit: str = "-"
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    open_low: bool = False
    source: str = "assumption"

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"parameter name {self.name!r}: use lower-case snake_case")
        if self.group not in GROUPS:
            raise ValueError(f"{self.name}: group {self.group!r} is not one of {GROUPS}")
        kind = _kind(self.default)
        if kind in (int, float) and (self.low is None or self.high is None):
            raise ValueError(f"{self.path}: a number needs low and high")
        if kind is str and not self.choices:
            raise ValueError(f"{self.path}: a string parameter needs its choices")
        self.check(self.default)

    @property
    def dtype(self) -> type:
        return _kind(self.default)

    @property
    def path(self) -> str:
        """``group.name``, as configs write it."""
        return f"{self.group}.{self.name}"

    @property
    def column(self) -> str:
        """``group_name``, the run-table and Parquet column."""
        return f"{self.group}_{self.name}"

    def allowed(self) -> str:
        """What the parameter takes, as docs and messages print it: ``[0, 1]`` or choices."""
        if self.dtype is bool:
            return "true, false"
        if self.dtype is str:
            return ", ".join(map(str, self.choices))
        return f"{'(' if self.open_low else '['}{self.low:g}, {self.high:g}]"

    def check(self, value: Any, path: str | None = None) -> Any:
        """``value`` as this parameter's type, or :class:`ParameterError` naming ``path``
        (default: the parameter's own) and what is allowed."""
        path = path or self.path
        kind = self.dtype
        if kind is str:
            if value not in self.choices:
                raise ParameterError(
                    f"{path} = {value!r} is not allowed: choose one of {self.allowed()} "
                    f"({self.doc})."
                )
            return value
        if kind is bool:
            if not isinstance(value, bool):
                raise ParameterError(f"{path} = {value!r} is not allowed: it takes true or false.")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise ParameterError(
                f"{path} = {value!r} is not a number: it takes a {kind.__name__} in "
                f"{self.allowed()} ({self.unit}; {self.doc})."
            )
        if kind is int:
            if not float(value).is_integer():
                raise ParameterError(
                    f"{path} = {value!r} is not an integer: it takes an int in "
                    f"{self.allowed()} ({self.doc})."
                )
            value = int(value)
        else:
            value = float(value)
        low_ok = value > self.low if self.open_low else value >= self.low
        if not math.isfinite(value) or not low_ok or value > self.high:
            raise ParameterError(
                f"{path} = {value!r} is out of range: allowed is {self.allowed()} "
                f"({self.unit}; {self.doc})."
            )
        return value


@dataclass(frozen=True)
class Outcome:
    """One number per run: a float, or a bool (a state a run ends in or not)."""

    name: str
    doc: str
    unit: str = "-"
    dtype: type = float
    label: str = ""  # a short axis label ("" : the name)


@dataclass(frozen=True)
class Series:
    """One number per sampled step of a run."""

    name: str
    doc: str
    unit: str = "-"
    label: str = ""


@dataclass(frozen=True)
class Result:
    """What ``simulate`` may return: outcomes (by name, or an array in declared order), the
    sampled series, float (n_samples, 1 + len(series)): the step, then each declared series,
    and for a model with places, float (n_units, len(places)). A plain mapping of outcomes
    (no series) is accepted as well."""

    outcomes: Mapping[str, Any] | np.ndarray
    series: np.ndarray | None = None
    places: np.ndarray | None = None


# the columns of a places row before the model's own: which unit, and where (Model.units)
PLACE_LABELS = ("name", "province", "x_km", "y_km")


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: it holds functions
class Targets:
    """Observed statistics a calibration can fit, and the estimator that computes the same
    statistics from one run.

    ``observed()`` gives each statistic's (estimate, lower, upper) from the data (the bounds of
    its interval, NaN where the data gives none); ``estimate(outcomes, series)`` the run's
    value of each statistic, from its outcomes by name and its sampled series (float
    (n_samples, 1 + len(Model.series)), as :class:`Result` holds them); ``settings`` the
    parameter values (by path) the runs need for it, e.g. a run length and weekly samples."""

    name: str
    doc: str
    statistics: tuple[str, ...]
    observed: Callable[[], Mapping[str, tuple[float, float, float]]]
    estimate: Callable[[Mapping[str, Any], np.ndarray], Mapping[str, float]]
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Model:
    """A model the engine can sweep.

    ``simulate(params, seed)`` gets every parameter by name (a mapping, values of the declared
    types) and a non-negative seed; it returns a :class:`Result` (or anything with ``outcomes``
    and ``series`` attributes) or a mapping of outcomes, and must be deterministic given both.
    With ``stoppable``, it also takes ``stop``, a uint8 (1,) array that a watchdog sets to 1
    when the run's time budget is spent; it then raises :class:`Stopped`.

    Optional hooks: ``targets``, data a calibration can fit (:class:`Targets`);
    ``check(params)`` refuses combinations of values (a ValueError whose
    message names the keys), before any run; ``overrides(params)`` names the parameter paths
    a run at these values sets itself from its first step, whatever their own values (nk: a
    scenario's week-0 events), so a sweep whose every swept value is overridden (identical
    runs) is refused; ``estimate_seconds(params)`` guesses a run's
    time to size the first batches. A model with ``places`` (per-unit outputs over a run)
    gives ``units(params)``: each unit's PLACE_LABELS (name, province: strings; x_km, y_km:
    map coordinates), by label, one entry per row of ``Result.places``. ``state`` names the
    bool outcome whose probability the tipping analyses estimate, ``order`` the continuous
    outcome behind it; ``headline`` the outcomes a sweep's one-paragraph finding reports.
    ``real_units`` maps a parameter's path to what one unit of it is worth in real terms,
    given every parameter by name, and that unit's name (nk: permit strictness as dollars of
    expected permit costs a trip), so a threshold along it can be told in those terms.
    ``config_package`` is an importable package holding the model's Hydra config groups
    (``sweep/`` and any of its own). ``sources`` names what determines the numbers: modules
    and packages (``package/folder`` for a data folder inside one), by default the module
    defining ``simulate``; a dataset records their files' digests, and resuming it with other
    code is refused (docs/OUTPUT.md). Files under ``config_package`` count only where a
    source names them: configs set parameter values, which each run records anyway.
    """

    name: str
    version: str
    parameters: tuple[Parameter, ...]
    outcomes: tuple[Outcome, ...]
    simulate: Callable[..., Any] | None = None
    series: tuple[Series, ...] = ()
    places: tuple[Series, ...] = ()
    units: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
    doc: str = ""
    state: str | None = None
    order: str | None = None
    headline: tuple[str, ...] = ()
    check: Callable[[Mapping[str, Any]], None] | None = None
    overrides: Callable[[Mapping[str, Any]], Iterable[str]] | None = None
    estimate_seconds: Callable[[Mapping[str, Any]], float] | None = None
    config_package: str | None = None
    sources: tuple[str, ...] = ()
    stoppable: bool = False
    targets: tuple[Targets, ...] = ()
    real_units: Mapping[str, Callable[[Mapping[str, Any]], tuple[float, str]]] = field(
        default_factory=dict, compare=False
    )
    _by_path: dict[str, Parameter] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"model name {self.name!r}: use lower-case letters, digits and _")
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names) or "name" in names:
            raise ValueError(f"model {self.name}: parameter names must be unique, not 'name'")
        taken = set(ENGINE_COLUMNS) | {p.column for p in self.parameters}
        for outcome in self.outcomes:
            if not _NAME.fullmatch(outcome.name) or outcome.name in taken:
                raise ValueError(f"model {self.name}: outcome {outcome.name!r} clashes or is bad")
            if outcome.dtype not in (float, bool):
                raise ValueError(f"model {self.name}: outcome {outcome.name} is float or bool")
            taken.add(outcome.name)
        series = [s.name for s in self.series]
        if len(set(series)) != len(series) or {"run_id", "step"} & set(series):
            raise ValueError(f"model {self.name}: series names must be unique, not run_id/step")
        places = [p.name for p in self.places]
        if len(set(places)) != len(places) or {"run_id", "unit", *PLACE_LABELS} & set(places):
            raise ValueError(f"model {self.name}: place names must be unique, not the labels")
        if places and self.simulate is not None and self.units is None:
            raise ValueError(f"model {self.name}: a model with places needs units(params)")
        kinds = {o.name: o.dtype for o in self.outcomes}
        if self.state is not None and kinds.get(self.state) is not bool:
            raise ValueError(f"model {self.name}: state {self.state!r} is not a bool outcome")
        if self.order is not None and kinds.get(self.order) is not float:
            raise ValueError(f"model {self.name}: order {self.order!r} is not a float outcome")
        for name in self.headline:
            if name not in kinds:
                raise ValueError(f"model {self.name}: headline {name!r} is not an outcome")
        object.__setattr__(self, "_by_path", {p.path: p for p in self.parameters})
        for target in self.targets:
            unknown = set(target.settings) - set(self._by_path)
            if not _NAME.fullmatch(target.name) or unknown:
                raise ValueError(
                    f"model {self.name}: targets {target.name!r}: bad name or "
                    f"settings of unknown parameters {sorted(unknown)}"
                )

    @property
    def tag(self) -> str:
        """``name-version``: part of every run id, so runs of two models or versions never mix."""
        return f"{self.name}-{self.version}"

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(self._by_path)

    def parameter(self, path: str) -> Parameter:
        """The parameter at ``group.name`` (KeyError if there is none)."""
        return self._by_path[path]

    def group(self, group: str) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.group == group)

    def columns(self) -> tuple[Parameter, ...]:
        """The parameters in column order: by group (model, policy, shock), then as declared."""
        return tuple(p for group in GROUPS for p in self.group(group))

    def outcome(self, name: str) -> Outcome:
        return next(o for o in self.outcomes if o.name == name)

    def describe(self) -> dict[str, Any]:
        """The declarations as plain data, for a dataset's manifest (:func:`from_description`)."""
        return {
            "name": self.name,
            "version": self.version,
            "doc": self.doc,
            "state": self.state,
            "order": self.order,
            "headline": list(self.headline),
            "parameters": [
                {
                    "name": p.name,
                    "group": p.group,
                    "default": p.default,
                    "doc": p.doc,
                    "unit": p.unit,
                    "low": p.low,
                    "high": p.high,
                    "choices": list(p.choices),
                    "open_low": p.open_low,
                    "source": p.source,
                }
                for p in self.parameters
            ],
            "outcomes": [
                {
                    "name": o.name,
                    "doc": o.doc,
                    "unit": o.unit,
                    "dtype": o.dtype.__name__,
                    "label": o.label,
                }
                for o in self.outcomes
            ],
            "series": [
                {"name": s.name, "doc": s.doc, "unit": s.unit, "label": s.label}
                for s in self.series
            ],
            "places": [
                {"name": p.name, "doc": p.doc, "unit": p.unit, "label": p.label}
                for p in self.places
            ],
        }


def from_description(data: Mapping[str, Any]) -> Model:
    """A :class:`Model` without ``simulate`` from :meth:`Model.describe`'s data: what a dataset
    says about the model that made it, readable without that model installed."""
    kinds = {"float": float, "bool": bool}
    return Model(
        name=data["name"],
        version=data["version"],
        doc=data.get("doc", ""),
        state=data.get("state"),
        order=data.get("order"),
        headline=tuple(data.get("headline", ())),
        parameters=tuple(
            Parameter(**{**p, "choices": tuple(p.get("choices", ()))}) for p in data["parameters"]
        ),
        outcomes=tuple(Outcome(**{**o, "dtype": kinds[o["dtype"]]}) for o in data["outcomes"]),
        series=tuple(Series(**s) for s in data.get("series", ())),
        places=tuple(Series(**p) for p in data.get("places", ())),
    )

"""Experimental designs: a sweep config -> its parameter points (before replicates).

Designs (``sweep.design``):
  grid      full factorial of ``sweep.axes`` (group -> parameter -> list of values)
  list      the explicit points in ``sweep.points`` (each group -> parameter -> value)
  random    ``sweep.samples`` independent uniform draws over ``sweep.parameters``
  lhs       Latin hypercube (scipy.stats.qmc.LatinHypercube)
  sobol     scrambled Sobol' sequence (scipy.stats.qmc.Sobol); samples must be a power of 2
  saltelli  SALib's Saltelli/Sobol' sample: samples x (2D + 2) points, for Sobol' indices
  morris    SALib's Morris trajectories: samples x (D + 1) points, for elementary effects

A sampled parameter (``sweep.parameters.<group>.<name>``) is ``{low, high}`` (uniform; integers
for int parameters; ``log: true`` for log-uniform), ``{values: [..]}`` (categorical), or
``{dist: <scipy.stats name>, ...its arguments}`` drawn through the distribution's inverse CDF.
Points are drawn in the unit hypercube first, so every design works with every kind. A name
with wildcards (``policy."release_*"``) stands for every parameter of the group it matches, each
sampled with the same spec. Parameters, ranges and types come from the model's table.

``sweep.combine``: ``joint`` samples all parameters together; ``factorial`` samples policies
(levers) and the other groups (uncertainties) apart and crosses them: N policy points x M other
points. Saltelli and Morris are joint by construction.
"""

from __future__ import annotations

import fnmatch
import itertools
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from segmark.models.interface import GROUPS, Model, Parameter, ParameterError
from segmark.pipeline.config import MAX_POINTS, MAX_RUNS, Config, ConfigError, SweepConfig

DESIGNS = ("grid", "list", "random", "lhs", "sobol", "saltelli", "morris")
SAMPLED = ("random", "lhs", "sobol", "saltelli", "morris")
COMBINES = ("joint", "factorial")
MORRIS_LEVELS = 4
DESIGN_STREAM = 0x5E6D  # keeps design draws apart from the runs' random streams


@dataclass(frozen=True)
class Design:
    """The parameter points of a sweep (only the swept parameters, by path)."""

    kind: str
    paths: tuple[str, ...]
    points: Sequence[dict[str, Any]]  # a grid's: GridPoints, made on demand
    policy_points: int
    other_points: int
    grid: dict[str, list[Any]] | None  # the axes of a grid design

    def n_runs(self, replicates: int) -> int:
        """Points x replicates, counted without making a grid's points."""
        return len(self.points) * replicates

    def describe(self, replicates: int) -> str:
        """ "N policy points x M shock/model points x R replicates = K runs" for a crossed
        design, "P points (N policy x M shock/model combinations, joint) x R ..." otherwise."""
        n = len(self.points)
        runs = f"{replicates} replicates = {self.n_runs(replicates)} runs ({self.kind} design)"
        if self.policy_points * self.other_points == n:
            return (
                f"{self.policy_points} policy points x {self.other_points} shock/model points x "
                f"{runs}"
            )
        return (
            f"{n} points sampled jointly ({self.policy_points} distinct policy and "
            f"{self.other_points} distinct shock/model settings) x {runs}"
        )


@dataclass(frozen=True)
class GridPoints(Sequence[dict[str, Any]]):
    """A grid's points in order (first axis slowest), each made when asked for: the grid
    holds its axes, not a dict per point, and a dry run makes only the points it times."""

    axes: tuple[tuple[str, tuple[Any, ...]], ...]

    def __len__(self) -> int:
        return math.prod(len(values) for _, values in self.axes)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        paths = [path for path, _ in self.axes]
        for combo in itertools.product(*(values for _, values in self.axes)):
            yield dict(zip(paths, combo, strict=True))

    def __getitem__(self, index: int) -> dict[str, Any]:  # type: ignore[override]
        shape = [len(values) for _, values in self.axes]  # the last axis varies fastest
        at = np.unravel_index(range(len(self))[index], shape)  # range: negatives, IndexError
        return {path: values[int(i)] for (path, values), i in zip(self.axes, at, strict=True)}


def check_value(path: str, value: Any, parameter: Parameter) -> Any:
    """``value`` as the parameter's type, or a ConfigError naming ``path`` and the range."""
    try:
        return parameter.check(value, path)
    except ParameterError as error:
        raise ConfigError(str(error)) from None


def example_path(model: Model) -> str:
    """A parameter path to show in a message: the model's first lever, else its first."""
    return next((p.path for p in model.group("policy")), model.parameters[0].path)


def _nested_items(model: Model, section: Any, where: str) -> list[tuple[str, str, Any]]:
    """(group, name, value) from a group -> parameter -> value mapping, checking the names
    against the model's parameters (wildcard names expanded, in the table's order)."""
    if not isinstance(section, dict):
        raise ConfigError(
            f"{where} must map a group ({', '.join(GROUPS)}) to its parameters, "
            f"e.g. {where}.{example_path(model)}."
        )
    items = []
    for group, params in section.items():
        if group not in GROUPS:
            raise ConfigError(
                f"{where}.{group} is not a parameter group: use {', '.join(GROUPS)} "
                f"(e.g. {where}.{example_path(model)})."
            )
        if not isinstance(params, dict) or not params:
            raise ConfigError(
                f"{where}.{group} must map parameter names to values, e.g. "
                f"{where}.{group}.<name>: ..."
            )
        known = [p.name for p in model.group(group)]
        for name, value in params.items():
            matched = fnmatch.filter(known, name) if _is_pattern(name) else [name]
            if not matched or matched[0] not in known:
                raise ConfigError(
                    f"{where}.{group}.{name}: {group} has no parameter {name!r} in model "
                    f"{model.name}; known are {', '.join(known) or 'none'}."
                )
            items.extend((group, match, value) for match in matched)
    return items


def _is_pattern(name: str) -> bool:
    return any(c in name for c in "*?[")


def _grid(cfg: Config, model: Model) -> dict[str, list[Any]]:
    """The validated axes; their sizes are checked against the limits before their values."""
    sweep = cfg.sweep
    specs: dict[str, Any] = {}
    items = _nested_items(model, sweep.axes, "sweep.axes") if sweep.axes else []
    for group, name, spec in items:
        path = f"{group}.{name}"
        if not isinstance(spec, list | tuple):
            raise ConfigError(
                f"sweep.axes.{path} = {spec!r}: an axis is a list of values, e.g. [0.1, 0.5] "
                "or ${linspace:0,1,11} or ${geomspace:0.01,1,5}."
            )
        if not spec:
            raise ConfigError(f"sweep.axes.{path} is empty: an axis needs at least one value.")
        specs[path] = spec
    sizes = " x ".join(f"{path} ({len(spec)})" for path, spec in specs.items())
    _check_size(cfg, math.prod(len(spec) for spec in specs.values()), f"sweep.axes: {sizes}")
    axes: dict[str, list[Any]] = {}
    for path, spec in specs.items():
        values = [check_value(path, v, model.parameter(path)) for v in spec]
        if len(set(values)) != len(values):
            raise ConfigError(f"sweep.axes.{path} repeats a value: {values}.")
        axes[path] = values
    return axes


def scipy_distribution(where: str, spec: dict[str, Any]) -> Any:
    """The frozen scipy.stats distribution ``{dist: <name>, <its arguments>}`` names, or a
    ConfigError naming ``where``."""
    from scipy import stats  # only distributions and sampled designs need scipy.stats

    args = dict(spec)
    name = args.pop("dist")
    family = getattr(stats, str(name), None)
    if not isinstance(family, stats.rv_continuous):
        raise ConfigError(
            f"{where}.dist = {name!r} is not a continuous scipy.stats distribution "
            "(e.g. norm, uniform, loguniform, truncnorm, lognorm, beta)."
        )
    try:
        frozen = family(**args)
        frozen.ppf(0.5)  # bad shape arguments surface here
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{where}: bad arguments for {name}: {error}.") from None
    return frozen


class _Marginal:
    """One sampled parameter: maps u in [0, 1) to a checked value."""

    def __init__(self, model: Model, group: str, name: str, spec: Any):
        self.path = f"{group}.{name}"
        self.field = model.parameter(self.path)
        where = f"sweep.parameters.{self.path}"
        if not isinstance(spec, dict):
            raise ConfigError(
                f"{where} = {spec!r}: a sampled parameter is {{low, high}}, {{values: [..]}} or "
                "{dist: <scipy.stats name>, ...}."
            )
        self.spec = dict(spec)
        keys = set(self.spec)
        is_int = self.field.dtype is int
        if "values" in keys:
            if keys != {"values"} or not isinstance(self.spec["values"], list | tuple):
                raise ConfigError(f"{where}: a categorical parameter is {{values: [a, b, ...]}}.")
            self.values = [
                check_value(f"{where}.values", v, self.field) for v in self.spec["values"]
            ]
            if not self.values or len(set(self.values)) != len(self.values):
                raise ConfigError(f"{where}.values must list distinct values, at least one.")
            self.kind = "values"
        elif "dist" in keys:
            self.frozen = scipy_distribution(where, self.spec)
            self.kind = "dist"
        elif keys - {"log"} == {"low", "high"}:
            low = check_value(f"{where}.low", self.spec["low"], self.field)
            high = check_value(f"{where}.high", self.spec["high"], self.field)
            if not low < high:
                raise ConfigError(f"{where}: low = {low} must be below high = {high}.")
            self.log = bool(self.spec.get("log", False))
            if self.log and low <= 0:
                raise ConfigError(f"{where}: a log-uniform range needs low > 0, got {low}.")
            self.low, self.high, self.kind = low, high, "int" if is_int else "range"
        else:
            raise ConfigError(
                f"{where} has keys {sorted(keys)}: use {{low, high}} (optionally log: true), "
                "{values: [..]} or {dist: <scipy.stats name>, ...}."
            )

    def value(self, u: float) -> Any:
        if self.kind == "values":
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        if self.kind == "int":
            return min(math.floor(self.low + u * (self.high - self.low + 1)), self.high)
        if self.kind == "dist":
            raw = float(self.frozen.ppf(u))
        elif self.log:
            raw = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            raw = self.low + u * (self.high - self.low)
        try:
            return check_value(self.path, round(raw, 12), self.field)
        except ConfigError as error:
            raise ConfigError(
                f"sweep.parameters.{self.path}: the design drew {raw:.6g}, outside the "
                f"parameter's range ({error}); truncate or narrow the distribution."
            ) from None


def _unit_sample(kind: str, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """Points in [0, 1)^d of the given design."""
    if kind == "random":
        return rng.random((n, d))
    from scipy.stats import qmc  # (a 50 MB import a grid sweep's driver does without)

    if kind == "lhs":
        return qmc.LatinHypercube(d, seed=rng).random(n)
    if kind == "sobol":
        return qmc.Sobol(d, scramble=True, seed=rng).random(n)
    from SALib.sample import morris, sobol  # only these designs need SALib

    problem = {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[0, 1]] * d}
    seed = int(rng.integers(2**31))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "saltelli":
            unit = sobol.sample(problem, n, calc_second_order=True, seed=seed)
        else:
            unit = morris.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed)
    return np.clip(unit, 0.0, np.nextafter(1.0, 0.0))


def _sampled(sweep: SweepConfig, marginals: list[_Marginal], stream: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng([sweep.root_seed, DESIGN_STREAM, stream])
    unit = _unit_sample(sweep.design, sweep.samples, len(marginals), rng)
    return [{m.path: m.value(u) for m, u in zip(marginals, row, strict=True)} for row in unit]


def _check_samples(sweep: SweepConfig) -> None:
    n = sweep.samples
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(
            f"sweep.samples = {n!r}: a {sweep.design} design needs sweep.samples, an integer >= 1."
        )
    if sweep.design in ("sobol", "saltelli") and n & (n - 1):
        below = 1 << (n.bit_length() - 1)
        raise ConfigError(
            f"sweep.samples = {n}: a {sweep.design} design needs a power of 2 "
            f"(e.g. {below} or {below * 2}) to keep the balance properties of Sobol' points."
        )


def _split(points: list[dict[str, Any]]) -> tuple[int, int]:
    """Distinct policy sub-points and distinct other sub-points of a point list."""
    policy = {
        tuple(sorted((k, v) for k, v in p.items() if k.startswith("policy."))) for p in points
    }
    other = {
        tuple(sorted((k, v) for k, v in p.items() if not k.startswith("policy."))) for p in points
    }
    return len(policy), len(other)


def _check_size(cfg: Config, n_points: int, source: str) -> None:
    """Refuse, before any point is made, a sweep whose plan would not fit a modest driver:
    over MAX_RUNS runs or MAX_POINTS design points (``source`` names where they come from)."""
    name, replicates = cfg.sweep.name, cfg.sweep.replicates
    if n_points * replicates > MAX_RUNS:
        raise ConfigError(
            f"sweep {name!r} would make {n_points * replicates:,} runs ({n_points:,} points "
            f"x {replicates} sweep.replicates; {source}); at most {MAX_RUNS:,} runs are "
            "allowed in one sweep (the driver plans 40 bytes per run: 0.4 GB at the limit): "
            "lower sweep.replicates or the design's size."
        )
    if n_points > MAX_POINTS:
        raise ConfigError(
            f"sweep {name!r} has {n_points:,} design points ({source}); at most "
            f"{MAX_POINTS:,} are allowed in one sweep (the driver plans each point's full "
            "parameter row, ~3.5 KB: 0.35 GB at the limit): use fewer points and more "
            "sweep.replicates, or split the sweep."
        )


def build(cfg: Config, model: Model) -> Design:
    """The validated design of ``cfg.sweep`` over ``model``'s parameters. Raises
    :class:`ConfigError`."""
    sweep = cfg.sweep
    if sweep.design not in DESIGNS:
        raise ConfigError(
            f"sweep.design = {sweep.design!r} is not known: choose one of {', '.join(DESIGNS)}."
        )
    if sweep.combine not in COMBINES:
        raise ConfigError(
            f"sweep.combine = {sweep.combine!r}: choose one of {', '.join(COMBINES)}."
        )
    unused = {
        "axes": sweep.design != "grid" and bool(sweep.axes),
        "parameters": sweep.design not in SAMPLED and bool(sweep.parameters),
        "points": sweep.design != "list" and bool(sweep.points),
    }
    for key, stray in unused.items():
        if stray:
            raise ConfigError(
                f"sweep.{key} is set but sweep.design = {sweep.design!r} does not use it "
                f"(grid uses axes, list uses points, {', '.join(SAMPLED)} use parameters): "
                f"drop it (e.g. ~sweep.{key}.policy) or start from a sweep config of that kind "
                "(sweep=explore, sweep=sensitivity, sweep=screening)."
            )
    if sweep.design == "grid":
        axes = _grid(cfg, model)
        points = GridPoints(tuple((path, tuple(v)) for path, v in axes.items()))
        n_policy = math.prod(len(v) for p, v in axes.items() if p.startswith("policy."))
        n_other = math.prod(len(v) for p, v in axes.items() if not p.startswith("policy."))
        return Design("grid", tuple(axes), points, n_policy, n_other, axes)
    if sweep.design == "list":
        if not isinstance(sweep.points, list | tuple) or not sweep.points:
            raise ConfigError("sweep.points is empty: a list design needs at least one point.")
        _check_size(cfg, len(sweep.points), f"{len(sweep.points):,} sweep.points")
        points = []
        for i, raw in enumerate(sweep.points):
            items = _nested_items(model, raw, f"sweep.points[{i}]")
            points.append(
                {
                    f"{g}.{n}": check_value(f"{g}.{n}", v, model.parameter(f"{g}.{n}"))
                    for g, n, v in items
                }
            )
        paths = tuple(dict.fromkeys(path for point in points for path in point))
        if any(set(point) != set(paths) for point in points):
            raise ConfigError(f"sweep.points must all set the same parameters: {', '.join(paths)}.")
        return Design("list", paths, tuple(points), *_split(points), None)
    _check_samples(sweep)
    marginals = [
        _Marginal(model, g, n, s)
        for g, n, s in _nested_items(model, sweep.parameters, "sweep.parameters")
    ]
    paths = tuple(m.path for m in marginals)
    d = len(marginals)
    factor = {"saltelli": 2 * d + 2, "morris": d + 1}.get(sweep.design, 1)
    crossed = sweep.combine == "factorial" and 0 < sum(p.startswith("policy.") for p in paths) < d
    n_points = sweep.samples * factor * (sweep.samples if crossed else 1)
    _check_size(cfg, n_points, f"sweep.samples = {sweep.samples:,} of a {sweep.design} design")
    if sweep.combine == "joint" or sweep.design in ("saltelli", "morris"):
        if sweep.combine == "factorial":
            raise ConfigError(
                f"sweep.combine = factorial does not fit a {sweep.design} design, whose points "
                "are built jointly for its sensitivity indices: use sweep.combine=joint."
            )
        points = _sampled(sweep, marginals, 0)
        return Design(sweep.design, paths, tuple(points), *_split(points), None)
    levers = [m for m in marginals if m.path.startswith("policy.")]
    others = [m for m in marginals if not m.path.startswith("policy.")]
    policy = _sampled(sweep, levers, 1) if levers else [{}]
    other = _sampled(sweep, others, 2) if others else [{}]
    points = [{**a, **b} for a in policy for b in other]
    return Design(sweep.design, paths, tuple(points), len(policy), len(other), None)

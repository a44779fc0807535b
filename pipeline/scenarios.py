"""Historical scenarios: time paths of policies and shocks within one run.

A scenario is a YAML file in ``conf/scenario/`` (packaged with segmark), chosen with
``model.scenario=<name>``. It lists events, each at a week (week 0 = the run's 1 January):

  - {week: 0, set: {policy.permit_strictness: 0.9, shock.pds_level: 0.9}}    # from this week
  - {week: 104, set: {shock.pds_level: 0.1}, over: 52}   # a linear ramp over 52 weeks
  - {week: 142, harvest: 0.6}                            # this year's staple harvest x 0.6
  - {week: 138, flood: [Sinuiju City, Uiju]}             # these units flood (NK network names)
  - {week: 256, capital_loss: 0.7}                       # traders lose 70% of their capital

Events set the kernel's parameters from their week on, overriding the run's own values (also
swept ones). The files are part of the model: editing one changes results, so it needs a new
``market.MODEL_VERSION``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
from omegaconf import OmegaConf

from segmark.kernels import market
from segmark.kernels.network import Network

NONE = "none"
KINDS = ("set", "harvest", "flood", "capital_loss")
# Parameters a ramp (model.ramp_parameter) can move within a run: the policy levers and shocks
RAMPABLE = (
    "policy.permit_strictness",
    "policy.crackdown",
    "policy.state_import_share",
    "policy.transport_investment",
    "policy.phone_penetration",
    "policy.self_reliance",
    "policy.trader_capital",
    "shock.harvest_sd",
    "shock.harvest_correlation",
    "shock.flood_rate",
    "shock.rail_outage_rate",
    "shock.china_trade",
    "shock.pds_level",
    "shock.market_ban",
)
RAMP_SHAPES = ("cycle", "one_way", "step")


def _directory():
    return resources.files("segmark.conf").joinpath("scenario")


def names() -> tuple[str, ...]:
    """``none`` and the packaged scenarios, by file name."""
    files = sorted(p.name[:-5] for p in _directory().iterdir() if p.name.endswith(".yaml"))
    return (NONE, *files)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    start_year: int
    events: tuple[dict[str, Any], ...]


@lru_cache(maxsize=32)
def load(name: str) -> Scenario:
    """The scenario called ``name``, checked (raises ConfigError naming the bad entry)."""
    from segmark.pipeline.config import ConfigError

    if name == NONE:
        return Scenario(NONE, "no events", 0, ())
    if name not in names():
        raise ConfigError(
            f"model.scenario = {name!r} is not a known scenario: choose one of "
            f"{', '.join(names())} (files in conf/scenario)."
        )
    raw = OmegaConf.to_container(
        OmegaConf.create(_directory().joinpath(f"{name}.yaml").read_text(encoding="utf-8"))
    )
    events = tuple(raw.get("events") or ())
    for j, event in enumerate(events):
        _check_event(name, j, event)
    return Scenario(name, str(raw.get("description", "")), int(raw.get("start_year", 0)), events)


def _check_event(name: str, j: int, event: Any) -> None:
    from segmark.pipeline.config import ConfigError, check_value, parameter_fields

    where = f"scenario {name!r}, event {j}"
    if not isinstance(event, dict) or not isinstance(event.get("week"), int) or event["week"] < 0:
        raise ConfigError(f"{where}: each event needs a whole week >= 0, got {event!r}.")
    kinds = [k for k in KINDS if k in event]
    extra = set(event) - {"week", "over", *KINDS}
    if len(kinds) != 1 or extra:
        raise ConfigError(
            f"{where}: an event has a week and exactly one of {', '.join(KINDS)} "
            f"(plus `over` for set), got keys {sorted(event)}."
        )
    if kinds[0] == "set":
        for path, value in event["set"].items():
            group, _, field = path.partition(".")
            spec = (
                parameter_fields(group).get(field)
                if group in ("policy", "shock", "model")
                else None
            )
            if spec is None or field not in market.PARAMS:
                raise ConfigError(
                    f"{where}: {path!r} is not a kernel parameter a scenario can set "
                    f"(e.g. policy.permit_strictness, shock.pds_level)."
                )
            check_value(f"{where}: {path}", value, spec)
        over = event.get("over", 1)
        if not isinstance(over, int) or over < 1:
            raise ConfigError(f"{where}: over = {over!r}; give a whole number of weeks >= 1.")
    elif kinds[0] in ("harvest", "capital_loss"):
        value = event[kinds[0]]
        high = 10.0 if kinds[0] == "harvest" else 1.0
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= high:
            raise ConfigError(f"{where}: {kinds[0]} = {value!r}; allowed is [0, {high:g}].")


def events(name: str, network: Network) -> np.ndarray:
    """The scenario as the kernel's event array, float64 (M, 4) rows (week, code, value, over),
    sorted by week (stable). Flood units are named by the network's unit names."""
    from segmark.pipeline.config import ConfigError

    rows: list[tuple[float, float, float, float]] = []
    for j, event in enumerate(load(name).events):
        week = float(event["week"])
        if "set" in event:
            over = float(event.get("over", 1))
            for path, value in event["set"].items():
                code = market.PARAMS.index(path.partition(".")[2])
                rows.append((week, float(code), float(value), over))
        elif "harvest" in event:
            rows.append((week, float(market.EVENT_HARVEST), float(event["harvest"]), 1.0))
        elif "capital_loss" in event:
            rows.append((week, float(market.EVENT_CAPITAL_LOSS), float(event["capital_loss"]), 1))
        else:
            units = event["flood"] if isinstance(event["flood"], list) else [event["flood"]]
            for unit in units:
                if unit not in network.names:
                    raise ConfigError(
                        f"scenario {name!r}, event {j}: flood unit {unit!r} is not a unit of the "
                        f"{network.kind} network (units are named as in "
                        "kernels/data/oad_county_centroids.csv)."
                    )
                rows.append((week, float(market.EVENT_FLOOD), float(network.names.index(unit)), 1))
    array = np.array(rows, dtype=np.float64).reshape(-1, 4)
    return np.ascontiguousarray(array[np.argsort(array[:, 0], kind="stable")])


def sets_parameter(name: str, path: str) -> bool:
    """Whether scenario ``name`` has an event that sets ``path``."""
    return any(path in (event.get("set") or {}) for event in load(name).events)


def ramp_events(
    path: str, shape: str, start: float, end: float, hold: int, weeks: int
) -> np.ndarray:
    """A ramp as kernel events (rows week, code, value, over): ``path`` is ``start`` from week
    0; after ``hold`` weeks it moves linearly to ``end`` over ``weeks`` weeks (cycle: and back
    to ``start`` over the next ``weeks``; step: jumps to ``end`` at once). The state (stocks,
    capital, prices) carries through: it is one run."""
    if path == NONE:
        return market.NO_EVENTS
    code = float(market.PARAMS.index(path.partition(".")[2]))
    rows = [(0.0, code, start, 1.0)]
    if shape == "step":
        rows.append((float(hold), code, end, 1.0))
    else:
        rows.append((float(hold), code, end, float(weeks)))
        if shape == "cycle":
            rows.append((float(hold + weeks), code, start, float(weeks)))
    return np.array(rows, dtype=np.float64)


def ramp_values(
    shape: str, start: float, end: float, hold: int, weeks: int, t: np.ndarray
) -> np.ndarray:
    """The ramped parameter's value in weeks ``t`` (0-based), as the kernel applies
    :func:`ramp_events` (a ramp over ``weeks`` reaches its end in its last week)."""
    t = np.asarray(t, dtype=float)
    if shape == "step":
        return np.where(t < hold, start, end)
    up = np.clip((t - hold + 1) / weeks, 0.0, 1.0)
    value = np.where(t < hold, start, start + (end - start) * up)
    if shape == "cycle":
        down = np.clip((t - hold - weeks + 1) / weeks, 0.0, 1.0)
        value = np.where(t >= hold + weeks, end + (start - end) * down, value)
    return value

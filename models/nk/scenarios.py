"""Historical scenarios and ramps: time paths of policies and shocks within one run, as the
kernel's event arrays (rows week, code, value, over; ``kernels.parameters`` defines the codes).

A scenario is a YAML file in ``models/nk/conf/scenario/``, chosen with ``model.scenario=<name>``.
It lists events, each at a week (week 0 = the run's 1 January):

  - {week: 0, set: {policy.permit_strictness: 0.9, shock.pds_level: 0.9}}    # from this week
  - {week: 104, set: {shock.pds_level: 0.1}, over: 52}   # a linear ramp over 52 weeks
  - {week: 142, harvest: 0.6}                            # this year's staple harvest x 0.6
  - {week: 138, flood: [Sinuiju City, Uiju]}             # these units flood (NK network names)
  - {week: 256, capital_loss: 0.7}                       # traders lose 70% of their capital
  - {week: 255, redenomination: 0.3}    # 100 old won to 1 new; 30% of cash over the limit lost

Events set the kernel's parameters from their week on, overriding the run's own values (also
swept ones). The files are part of the model: editing one changes results, so it needs a new
model version.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import yaml

from segmark.kernels.network import Network
from segmark.kernels.parameters import (
    EVENT_CAPITAL_LOSS,
    EVENT_FLOOD,
    EVENT_HARVEST,
    EVENT_REDENOMINATION,
    PARAMETERS,
    P,
)
from segmark.models import ramps
from segmark.models.nk.settings import SCENARIO_PACKAGE, scenario_names

KINDS = ("set", "harvest", "flood", "capital_loss", "redenomination")
# one-off events with a number: (kernel code, highest value)
ONE_OFF = {
    "harvest": (EVENT_HARVEST, 10.0),
    "capital_loss": (EVENT_CAPITAL_LOSS, 1.0),
    "redenomination": (EVENT_REDENOMINATION, 0.99),
}
KERNEL = {p.path: p for p in PARAMETERS}
MAX_WEEK = 100_000  # model.n_steps' highest value


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    start_year: int
    events: tuple[dict[str, Any], ...]


@lru_cache(maxsize=32)
def load(name: str) -> Scenario:
    """The scenario called ``name``, checked (a ValueError naming the bad entry)."""
    if name == ramps.NONE:
        return Scenario(ramps.NONE, "no events", 0, ())
    if name not in scenario_names():
        raise ValueError(
            f"model.scenario = {name!r} is not a known scenario: choose one of "
            f"{', '.join(scenario_names())} (files in models/nk/conf/scenario)."
        )
    path = resources.files(SCENARIO_PACKAGE).joinpath("scenario", f"{name}.yaml")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        reason = str(error).replace("\n", " ")
        raise ValueError(f"scenario {name!r}: {path.name} is not valid YAML ({reason}).") from None
    events = raw.get("events") if isinstance(raw, dict) else None
    year = raw.get("start_year", 0) if isinstance(raw, dict) else None
    if not isinstance(events, list | None) or not _whole(year, 0, 9999):
        raise ValueError(
            f"scenario {name!r}: {path.name} must be a mapping with `events` (a list), "
            "`description` and `start_year` (a year)."
        )
    events = tuple(events or ())
    for j, event in enumerate(events):
        _check_event(name, j, event)
    return Scenario(name, str(raw.get("description", "")), year, events)


def _whole(value: Any, low: int, high: int) -> bool:
    """An int (not a bool) in [low, high]."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _check_event(name: str, j: int, event: Any) -> None:
    where = f"scenario {name!r}, event {j}"
    if not isinstance(event, dict) or not _whole(event.get("week"), 0, MAX_WEEK):
        raise ValueError(
            f"{where}: each event needs a whole week in [0, {MAX_WEEK}], got {event!r}."
        )
    kinds = [k for k in KINDS if k in event]
    extra = set(event) - {"week", "over", *KINDS}
    if len(kinds) != 1 or extra:
        raise ValueError(
            f"{where}: an event has a week and exactly one of {', '.join(KINDS)} "
            f"(plus `over` for set), got keys {sorted(event)}."
        )
    if kinds[0] == "set":
        if not isinstance(event["set"], dict) or not event["set"]:
            raise ValueError(f"{where}: set takes parameter path: value pairs, got "
                             f"{event['set']!r}.")  # fmt: skip
        for path, value in event["set"].items():
            if path not in KERNEL:
                raise ValueError(
                    f"{where}: {path!r} is not a kernel parameter a scenario can set "
                    f"(e.g. policy.permit_strictness, shock.pds_level)."
                )
            KERNEL[path].check(value, f"{where}: {path}")
        over = event.get("over", 1)
        if not _whole(over, 1, MAX_WEEK):
            raise ValueError(f"{where}: over = {over!r}; give a whole number of weeks >= 1.")
    elif kinds[0] in ONE_OFF:
        value = event[kinds[0]]
        high = ONE_OFF[kinds[0]][1]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= high:
            raise ValueError(f"{where}: {kinds[0]} = {value!r}; allowed is [0, {high:g}].")
        if kinds[0] == "redenomination" and event["week"] == 0:
            raise ValueError(f"{where}: a redenomination needs week >= 1 (week 0 sets the won).")
    else:
        units = event["flood"] if isinstance(event["flood"], list) else [event["flood"]]
        if not units or not all(isinstance(u, str) for u in units):
            raise ValueError(f"{where}: flood takes a unit's name or a list of names, got "
                             f"{event['flood']!r}.")  # fmt: skip


@lru_cache(maxsize=64)
def events(name: str, network: Network) -> np.ndarray:
    """The scenario as the kernel's event array, float64 (M, 4) rows (week, code, value, over),
    sorted by week (stable). Flood units are named by the network's unit names."""
    rows: list[tuple[float, float, float, float]] = []
    for j, event in enumerate(load(name).events):
        week = float(event["week"])
        if "set" in event:
            over = float(event.get("over", 1))
            for path, value in event["set"].items():
                rows.append((week, float(P[path.partition(".")[2]]), float(value), over))
        elif kind := next((k for k in ONE_OFF if k in event), None):
            rows.append((week, float(ONE_OFF[kind][0]), float(event[kind]), 1.0))
        else:
            units = event["flood"] if isinstance(event["flood"], list) else [event["flood"]]
            for unit in units:
                if unit not in network.names:
                    raise ValueError(
                        f"scenario {name!r}, event {j}: flood unit {unit!r} is not a unit of the "
                        f"{network.kind} network (units are named as in "
                        "kernels/data/oad_county_centroids.csv)."
                    )
                rows.append((week, float(EVENT_FLOOD), float(network.names.index(unit)), 1.0))
    array = np.array(rows, dtype=np.float64).reshape(-1, 4)
    return np.ascontiguousarray(array[np.argsort(array[:, 0], kind="stable")])


def sets_parameter(name: str, path: str) -> bool:
    """Whether scenario ``name`` has an event that sets ``path``."""
    return any(path in (event.get("set") or {}) for event in load(name).events)


def set_from_start(name: str) -> frozenset[str]:
    """The parameter paths scenario ``name`` sets at once in week 0: a run's own values of
    them never act."""
    return frozenset(
        path
        for event in load(name).events
        if event["week"] == 0 and event.get("over", 1) == 1
        for path in event.get("set") or {}
    )


def ramp_events(ramp: ramps.Ramp) -> np.ndarray:
    """A ramp of a kernel parameter as kernel events: ``start`` from week 0; after ``hold``
    weeks a linear move to ``end`` over ``weeks`` weeks (cycle: and back over the next
    ``weeks``; step: at once). The state (stocks, capital, prices) carries through: it is one
    run."""
    code = float(P[ramp.parameter.partition(".")[2]])
    rows = [(0.0, code, ramp.start, 1.0)]
    if ramp.shape == "step":
        rows.append((float(ramp.hold), code, ramp.end, 1.0))
    else:
        rows.append((float(ramp.hold), code, ramp.end, float(ramp.weeks)))
        if ramp.shape == "cycle":
            rows.append((float(ramp.hold + ramp.weeks), code, ramp.start, float(ramp.weeks)))
    return np.array(rows, dtype=np.float64)

"""One ``nk`` run from its parameters by name: the network, the kernel's parameter vector and
the events of its scenario and ramp, then ``kernels.market.simulate``; and the checks of a
parameter point that no single range can express."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from segmark.kernels import market
from segmark.kernels.network import Network
from segmark.kernels.parameters import PARAMETERS
from segmark.models import ramps
from segmark.models.nk import networks, scenarios


def simulate(
    params: Mapping[str, Any], seed: int, stop: np.ndarray | None = None
) -> market.Simulation:
    """The run at ``params`` (every parameter of the model, by name) with ``seed``."""
    net = networks.of(params)
    return market.simulate(
        net,
        np.array([params[p.name] for p in PARAMETERS], dtype=np.float64),
        seed,
        int(params["n_goods"]),
        int(params["n_steps"]),
        int(params["sample_every"]),
        stop,
        events(params, net),
    )


def events(params: Mapping[str, Any], net: Network) -> np.ndarray:
    """The run's scenario events and, with a ramp, its ramp events (after the scenario's
    within a week), sorted by week (stable)."""
    scenario = scenarios.events(params["scenario"], net)
    ramp = ramps.Ramp.of(params)
    if ramp is None:
        return scenario
    both = np.concatenate([scenario, scenarios.ramp_events(ramp)])
    return np.ascontiguousarray(both[np.argsort(both[:, 0], kind="stable")])


def overrides(params: Mapping[str, Any]) -> frozenset[str]:
    """The parameters the run's scenario sets at once in week 0: their own values never act."""
    scenario = params["scenario"]
    return frozenset() if scenario == ramps.NONE else scenarios.set_from_start(scenario)


def check(params: Mapping[str, Any]) -> None:
    """Refuse, naming the keys: a sampling interval longer than the run, rail outages too short
    to fill their share of weeks, a scenario whose flood units are not on the network or whose
    events outlast the run, a ramp outside its parameter's range, longer than the run or on a
    parameter the scenario also sets."""
    steps, every = params["n_steps"], params["sample_every"]
    if every > steps:
        raise ValueError(
            f"model.sample_every = {every} exceeds model.n_steps = {steps}: no time-series "
            "sample would be taken; keep sample_every <= n_steps."
        )
    rate, weeks = params["rail_outage_rate"], params["outage_weeks"]
    if rate > weeks / (1.0 + weeks):
        raise ValueError(
            f"shock.rail_outage_rate = {rate} with shock.outage_weeks = {weeks}: outages that "
            f"long cannot fill that share of weeks; keep rail_outage_rate <= "
            f"outage_weeks / (1 + outage_weeks) = {weeks / (1.0 + weeks):.3g}."
        )
    scenario = params["scenario"]
    if scenario != ramps.NONE:
        rows = scenarios.events(scenario, networks.of(params))
        last = int((rows[:, 0] + rows[:, 3] - 1).max()) if len(rows) else -1
        if last >= steps:  # the kernel would drop them without a word
            raise ValueError(
                f"model.scenario = {scenario!r} has events until week {last}, past "
                f"model.n_steps = {steps}: run at least {last + 1} weeks or choose another "
                "scenario."
            )
    ramp = ramps.Ramp.of(params)
    if ramp is None:
        return
    path = ramp.parameter
    for role, value in (("from", ramp.start), ("to", ramp.end)):
        scenarios.KERNEL[path].check(value, f"model.{ramps.NAMES[role]} (for {path})")
    if scenario != ramps.NONE and scenarios.sets_parameter(scenario, path):
        raise ValueError(
            f"model.ramp_parameter = {path}: scenario {scenario!r} also sets it; ramp another "
            "parameter or use model.scenario=none."
        )
    if ramps.weeks_needed(ramp.shape, ramp.hold, ramp.weeks) > steps:
        raise ValueError(
            f"model.ramp_hold = {ramp.hold} + {ramps.LEGS[ramp.shape]} x model.ramp_weeks = "
            f"{ramp.weeks} exceeds model.n_steps = {steps}: the {ramp.shape} ramp does not fit "
            "in the run; lengthen the run or shorten the ramp."
        )

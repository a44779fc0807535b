"""The floor under a weekly step: the per-cell math this model's equations need, alone.

Issue 3's target is 5 ns per (node·good + edge·good) per step: 21.4 µs a step on the North
Korea network (179 units, 534 links, 6 goods). Every week the dynamics draw each unit's
production of each good (a counter-based draw), turn supplies into the log prices traders see (a
log) and value shipments at those prices (an exp over all cells: the values feed traders'
profits and so their capital). Local clearing sells a fixed share of each stock, which needs no
price; its prices (another log and exp) feed only the outputs: market value, income share,
marginal units and the week's statistics. This times those passes alone, over arrays the size of
the network's N·K cells, with the kernel's own vectorised functions (kernels.fastmath,
kernels.draws) in hot loops, so the numbers are a floor, not the kernel's sections. Beside them,
interleaved in one process: the kernel's step with every link removed (the node side as
implemented) and the whole step. What the dynamics' passes leave of the budget is what the
arbitrage (E·K link·goods, several passes, about 2,700 trades a week at default parameters) and
the outputs could spend.

    .venv/bin/python -m benchmarks.kernel_floor [--rounds 7] [--json PATH]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from numba import njit

from benchmarks.common import HERE, default_params, table, write_json
from benchmarks.kernel_speed import K, per_step, without_links
from segmark.kernels import draws, market
from segmark.kernels.fastmath import exp_into, log_into
from segmark.models.nk import networks

TARGET_NS = 5.0
PASS_REPEATS = 2000  # passes per timing: one pass over 1,074 cells takes 1-3 µs
STEPS = 104


@njit(cache=True, nogil=True, error_model="numpy")
def _draws(base: np.ndarray, table_: np.ndarray, out: np.ndarray, repeats: int) -> None:
    key = np.uint64(0x9E3779B97F4A7C15)
    for r in range(repeats):
        week = draws.week_key(key, draws.PRODUCTION, r)
        for j in range(out.shape[0]):
            out[j] = base[j] * table_[draws.table_index(week, j)]


@njit(cache=True, nogil=True, error_model="numpy")
def _logs(x: np.ndarray, out: np.ndarray, repeats: int) -> None:
    for _ in range(repeats):
        log_into(x, out)


@njit(cache=True, nogil=True, error_model="numpy")
def _exps(x: np.ndarray, out: np.ndarray, repeats: int) -> None:
    for _ in range(repeats):
        exp_into(x, out)


def pass_seconds(cells: int) -> dict[str, float]:
    """Seconds of one pass of each kind over ``cells`` cells (a median is taken by the
    caller over rounds)."""
    rng = np.random.default_rng(0)
    supply = rng.lognormal(0.0, 1.0, cells)
    log_p = rng.normal(0.0, 0.5, cells)
    out = np.empty(cells)
    norm = draws.normal_table()
    timed = {
        "production draw": lambda n: _draws(supply, norm, out, n),
        "log": lambda n: _logs(supply, out, n),
        "exp": lambda n: _exps(log_p, out, n),
    }
    result = {}
    for name, run in timed.items():
        run(1)  # compile, or load from the cache
        start = time.perf_counter()
        run(PASS_REPEATS)
        result[name] = (time.perf_counter() - start) / PASS_REPEATS
    return result


# passes every week: production, the traders' log prices, shipment values
DYNAMICS = {"production draw": 1, "log": 1, "exp": 1}
# passes in weeks whose outputs are kept (averaged or sampled): the clearing prices
OUTPUTS = {"log": 1, "exp": 1}


def measure(rounds: int) -> dict:
    net = networks.build("nk", 0)
    bare = without_links(net)
    cells = net.n_nodes * K
    units = cells + net.n_edges * K
    market.simulate(net, default_params(), 0, K, 2, 1)
    samples: dict[str, list[float]] = {}
    for _ in range(rounds):  # interleaved: the machine's speed drifts over minutes
        for name, seconds in pass_seconds(cells).items():
            samples.setdefault(name, []).append(seconds)
        samples.setdefault("step", []).append(per_step(market.simulate, net, STEPS, 1))
        samples.setdefault("step without links", []).append(
            per_step(market.simulate, bare, STEPS, 1)
        )
    us = {name: statistics.median(values) * 1e6 for name, values in samples.items()}
    floor = sum(us[name] * count for name, count in DYNAMICS.items())
    output_prices = sum(us[name] * count for name, count in OUTPUTS.items())
    budget = TARGET_NS * units / 1000.0
    return {
        "network": f"nk: {net.n_nodes} units, {net.n_edges} links, {K} goods",
        "cells": cells,
        "units": units,
        "rounds": rounds,
        "pass_us": {name: us[name] for name in DYNAMICS},
        "pass_ns_per_cell": {name: us[name] * 1000.0 / cells for name in DYNAMICS},
        "dynamics_passes": DYNAMICS,
        "output_passes": OUTPUTS,
        "floor_us_per_step": floor,
        "output_prices_us_per_output_week": output_prices,
        "budget_us_per_step": budget,
        "left_for_links_ns_per_edge_good": (budget - floor) * 1000.0 / (net.n_edges * K),
        "kernel_us_per_step": us["step"],
        "kernel_without_links_us_per_step": us["step without links"],
        "kernel_ns_per_unit": us["step"] * 1000.0 / units,
    }


def show(result: dict) -> str:
    rows = [
        (f"one {name} pass", us, ns)
        for (name, us), ns in zip(
            result["pass_us"].items(), result["pass_ns_per_cell"].values(), strict=True
        )
    ]
    target = f"target: {TARGET_NS:g} ns x {result['units']:,} units"
    rows += [
        ("floor: the dynamics' passes, every week", result["floor_us_per_step"], None),
        ("clearing prices, in output weeks", result["output_prices_us_per_output_week"], None),
        (target, result["budget_us_per_step"], None),
        ("kernel: step without links", result["kernel_without_links_us_per_step"], None),
        ("kernel: whole step", result["kernel_us_per_step"], None),
    ]
    left = result["left_for_links_ns_per_edge_good"]
    return "\n".join(
        [
            f"{result['network']}; {result['cells']:,} cells; medians of {result['rounds']} "
            "interleaved rounds",
            table(rows, ("pass", "µs", "ns/cell")),
            f"left of the target after the dynamics' passes, for the arbitrage and the "
            f"outputs: {left:.2f} ns per edge·good",
        ]
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", type=Path, default=HERE / "kernel_floor.json")
    args = parser.parse_args(argv)
    result = measure(args.rounds)
    print(show(result))
    write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()

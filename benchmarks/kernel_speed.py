"""Kernel speed: the numba kernel, its NumPy twin and a per-agent pure-Python peer, side by side.

On the full North Korea network (179 units, 534 links, 6 goods) it times, in this process and
with the same runs, the numba kernel, the NumPy reference twin and the per-agent pure-Python
implementation of the same weekly step (benchmarks/peers/agents/, Mesa/NetLogo style): the
median of a run's wall time divided by its weeks over interleaved rounds (a load change on the
machine hits all three), and the ratios to the kernel. The kernel is also timed over a full
520-week run (the headline microseconds per step).

The cost per node·good is a step's time on the same units with every link removed (production,
prices, rations, clearing, outputs: no trade) over N·K; the cost per edge·good is the rest over
E·K (arbitrage and the link outputs). numba's compile time is measured cold (empty cache, fresh
process) and from the cache. Writes kernel_speed.json.

    .venv/bin/python -m benchmarks.kernel_speed [--steps 520] [--peer-steps 104] [--repeats 7]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.common import HERE, default_params, median_seconds, table, write_json
from benchmarks.peers import agents
from segmark.kernels import market, network, reference
from segmark.models.nk import networks

K = 6  # goods
PEER_ROUNDS = 5  # rounds of one twin run, one per-agent run and a median of kernel runs
Simulate = Callable[..., object]
IMPLEMENTATIONS: dict[str, Simulate] = {
    "numba kernel": market.simulate,
    "NumPy twin": reference.simulate,
    "per-agent Python": agents.simulate,
}


def per_step(simulate: Simulate, net: network.Network, steps: int, repeats: int) -> float:
    """Median seconds per weekly step of a ``steps``-week run (default parameters, seed 1)."""
    params = default_params()
    return median_seconds(lambda: simulate(net, params, 1, K, steps, 4), repeats) / steps


def without_links(net: network.Network) -> network.Network:
    """The same units with no links: a step's node-side work alone (no trade, no link
    outputs)."""
    none_i, none_f = np.empty(0, dtype=np.int64), np.empty(0)
    return dataclasses.replace(
        net,
        edge_u=none_i,
        edge_v=none_i,
        edge_km=none_f,
        edge_mode=none_i,
        edge_permit=none_f,
        indptr=np.zeros(net.n_nodes + 1, dtype=np.int64),
        adj_edge=none_i,
        adj_node=none_i,
    )


def compile_seconds(cache_dir: str) -> float:
    """Seconds to import and run a 1-step simulation in a fresh process using ``cache_dir``."""
    code = (
        "import time; t = time.perf_counter();"
        "from segmark.kernels import market;"
        "from segmark.models.nk import networks;"
        "from benchmarks.common import default_params;"
        "market.simulate(networks.build('nk', 0), default_params(), 0, 6, 1, 1);"
        "print(time.perf_counter() - t)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "NUMBA_CACHE_DIR": cache_dir},
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def measure(steps: int, peer_steps: int, repeats: int, rounds: int = PEER_ROUNDS) -> dict:
    net = networks.build("nk", 0)
    market.simulate(net, default_params(), 0, K, 2, 1)  # compile (or load from the cache)
    bare = without_links(net)
    # interleaved rounds, so that a change in the machine's load hits every implementation
    times: dict[tuple[str, bool], list[float]] = {}
    for _ in range(rounds):
        for name, simulate in IMPLEMENTATIONS.items():
            for links in (True, False):
                n = repeats if simulate is market.simulate else 1
                seconds = per_step(simulate, net if links else bare, peer_steps, n)
                times.setdefault((name, links), []).append(seconds)
    rows = {}
    for name in IMPLEMENTATIONS:
        step, nodes = (statistics.median(times[name, links]) for links in (True, False))
        # each round's ratio to the kernel timed in the same round: the machine's speed drifts
        # between rounds (by 2x over minutes here), and a ratio of medians mixes rounds
        pairs = zip(times[name, True], times["numba kernel", True], strict=True)
        ratios = [a / b for a, b in pairs]
        rows[name] = {
            "us_per_step": step * 1e6,
            "times_kernel": statistics.median(ratios),
            "times_kernel_each_round": ratios,
            "ns_per_unit_step": step * 1e9 / (net.n_nodes * K + net.n_edges * K),
            "ns_per_node_good": nodes * 1e9 / (net.n_nodes * K),
            "ns_per_edge_good": (step - nodes) * 1e9 / (net.n_edges * K),
        }
    with tempfile.TemporaryDirectory() as cache:
        cold = compile_seconds(cache)
        warm = compile_seconds(cache)
    return {
        "network": f"nk: {net.n_nodes} units, {net.n_edges} links, {K} goods",
        "peer_steps": peer_steps,
        "rounds": rounds,
        "implementations": rows,
        "kernel_us_per_step_full_run": per_step(market.simulate, net, steps, repeats) * 1e6,
        "full_run_steps": steps,
        "agents_over_kernel": rows["per-agent Python"]["times_kernel"],
        "twin_over_kernel": rows["NumPy twin"]["times_kernel"],
        "compile_cold_s": cold,
        "compile_cached_s": warm,
        "target_agents_over_kernel": 100.0,
    }


def show(result: dict) -> str:
    header = ("implementation", "µs/step", "× kernel", "ns/(node+edge)·good",
              "ns/node·good", "ns/edge·good")  # fmt: skip
    keys = ("us_per_step", "times_kernel", "ns_per_unit_step", "ns_per_node_good",
            "ns_per_edge_good")  # fmt: skip
    rows = [(name, *map(r.get, keys)) for name, r in result["implementations"].items()]
    return "\n".join(
        [
            f"{result['network']}; {result['peer_steps']}-week runs, medians over "
            f"{result.get('rounds', PEER_ROUNDS)} interleaved rounds (× kernel: of each round's "
            "ratio)",
            table(rows, header),
            f"numba kernel over a {result['full_run_steps']}-week run: "
            f"{result['kernel_us_per_step_full_run']:.0f} µs/step; compile cold "
            f"{result['compile_cold_s']:.1f} s, from cache {result['compile_cached_s']:.2f} s",
        ]
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=520, help="weeks of the kernel's full run")
    parser.add_argument("--peer-steps", type=int, default=104, help="weeks of the side-by-side")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=PEER_ROUNDS, help="interleaved rounds")
    parser.add_argument("--json", type=Path, default=HERE / "kernel_speed.json")
    args = parser.parse_args(argv)
    result = measure(args.steps, args.peer_steps, args.repeats, args.rounds)
    print(show(result))
    write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()

"""Where a kernel step's time goes: each phase of the week, timed by the CPU.

Runs the kernel's phases (``kernels.market.PHASES``) in the weekly loop's order, reading the
CPU's cycle counter (``llvm.readcyclecounter``) after each and adding the cycles to that phase.
On the North Korea network with default parameters, with phones everywhere (the default sweep's
market) and with every link removed (the node side alone); each phase's share of the cycles is
scaled by the run's wall time per step. The readings cost some time of their own: the table
shows where time goes, kernel_speed.py how fast the kernel is. Not part of ``make bench``.

    .venv/bin/python -m benchmarks.kernel_sections [--steps 520] [--runs 5]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from llvmlite import ir
from numba import literal_unroll, njit, types
from numba.core import cgutils
from numba.core.errors import NumbaExperimentalFeatureWarning
from numba.extending import intrinsic

from benchmarks.common import default_params, table
from benchmarks.kernel_speed import K, without_links
from segmark.kernels import arbitrage, market, money, network, outputs, phases
from segmark.models.nk import networks

FUNCTIONS = tuple(
    next(getattr(m, name) for m in (phases, arbitrage, outputs, money) if hasattr(m, name))
    for name in market.PHASES
)


@intrinsic
def _cycles(typingctx):
    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.IntType(64), [])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.readcyclecounter")
        return builder.call(fn, [])

    return types.int64(), codegen


@njit(nogil=True)  # an instrument, not the kernel: never in the package's cache
def timed_weeks(s, cycles):
    """The run's weeks, as ``market.run_weeks`` runs them, with each phase's cycles added to
    ``cycles`` (int64, one slot per phase)."""
    last = _cycles()
    for t in range(s.n_steps):
        j = 0
        for phase in literal_unroll(FUNCTIONS):
            phase(s, t)
            now = _cycles()
            cycles[j] += now - last
            last = now
            j += 1
    outputs.finish(s)


def run(net: network.Network, params: np.ndarray, seed: int, steps: int, cycles: np.ndarray):
    """One run through :func:`timed_weeks`; returns its numbers (a ``market.Simulation``)."""
    state, result = market.start(net, params, seed, K, steps, 4)
    with warnings.catch_warnings():  # literal_unroll is "experimental" in numba's words
        warnings.simplefilter("ignore", NumbaExperimentalFeatureWarning)
        timed_weeks(state, cycles)
    return result


def measure(steps: int, runs: int) -> dict:
    net = networks.build("nk", 0)
    cases = {
        "default parameters": (net, default_params()),
        "phones everywhere": (net, default_params(phone_penetration=1.0)),
        "no links": (without_links(net), default_params()),
    }
    result = {}
    for label, (graph, params) in cases.items():
        cycles = np.zeros(len(market.PHASES), dtype=np.int64)
        run(graph, params, 0, 2, cycles)  # compile
        cycles[:] = 0
        start = time.perf_counter()
        for seed in range(runs):
            run(graph, params, seed + 1, steps, cycles)
        us_per_step = (time.perf_counter() - start) / runs / steps * 1e6
        share = cycles / cycles.sum()
        result[label] = {
            "us_per_step": us_per_step,
            "phases": {name: float(share[j] * us_per_step) for j, name in enumerate(market.PHASES)},
        }
    return result


def show(result: dict) -> str:
    labels = list(result)
    names = list(next(iter(result.values()))["phases"])
    rows = [(name, *(result[label]["phases"][name] for label in labels)) for name in names]
    rows.append(("whole step", *(result[label]["us_per_step"] for label in labels)))
    return "µs per step by phase (NK network)\n" + table(rows, ("phase", *labels))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=520)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    result = measure(args.steps, args.runs)
    print(show(result))
    return result


if __name__ == "__main__":
    main()

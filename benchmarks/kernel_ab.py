"""The kernel against an earlier version of itself, interleaved in one process.

Loads the kernel as it was at a git revision (``git archive REV kernels``, imported as its own
package) beside the current kernel, checks that both give
the same numbers where that is expected (``--same``: outcomes, series and final prices equal,
not close, on the NK network and three synthetic ones), then times 520-week runs of both in
alternating order on the NK network: default parameters, phones everywhere (the default
sweep's market) and the links removed. Reports the medians and the ratio new / old; the
machine's speed drifts, so only the ratio means much.

    .venv/bin/python -m benchmarks.kernel_ab --against 40d029a [--runs 21] [--same]
"""

from __future__ import annotations

import argparse
import importlib
import io
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from types import ModuleType

import numpy as np

from benchmarks.common import HERE, default_params, table
from benchmarks.kernel_speed import K, without_links
from segmark.kernels import market, network
from segmark.kernels.nk import north_korea


def old_kernel(revision: str, directory: Path) -> ModuleType:
    """``kernels/market.py`` of ``kernels/`` as it was at ``revision``, importable beside the
    current package (its modules as package ``kernels_<revision>``)."""
    archive = subprocess.run(
        ["git", "archive", revision, "kernels"], cwd=HERE.parent, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(directory, filter="data")
    package = f"kernels_{revision.replace('-', '_').replace('~', '_').replace('^', '_')}"
    (directory / "kernels").rename(directory / package)
    sys.path.insert(0, str(directory))
    return importlib.import_module(f"{package}.market")


def differences(old: ModuleType) -> list[str]:
    """The runs where the two kernels' numbers are not equal."""
    graphs = {
        "nk": north_korea(),
        "ring": network.ring(7),
        "grid": network.grid(10),
        "geometric": network.geometric(25, neighbours=3, seed=4),
    }
    cases = {
        "default": {},
        "phones everywhere": {"phone_penetration": 1.0},
        "stale news": {"phone_penetration": 0.0, "info_lag": 3},
        "shocks": {"rail_outage_rate": 0.7, "harvest_sd": 0.8, "flood_rate": 0.3},
        "slow rail": {"rail_days": 20.0, "road_days": 30.0},
    }
    found = []
    for name, net in graphs.items():
        for case, changes in cases.items():
            params = default_params(**changes)
            a = market.simulate(net, params, 3, K, 80, 3)
            b = old.simulate(net, params, 3, K, 80, 3)
            for field in ("outcomes", "series", "prices"):
                if not np.array_equal(getattr(a, field), getattr(b, field), equal_nan=True):
                    found.append(f"{name}, {case}: {field}")
    return found


def own_defaults(kernel: ModuleType, **changes: float) -> np.ndarray:
    """A kernel's parameter vector at its own declared defaults (an older kernel may declare
    other parameters), with the ``changes`` it has."""
    declared = importlib.import_module(kernel.__name__.rpartition(".")[0] + ".parameters")
    values = {p.name: p.default for p in declared.PARAMETERS}
    values.update({k: v for k, v in changes.items() if k in values})
    return np.array([float(values[p.name]) for p in declared.PARAMETERS])


def measure(old: ModuleType, runs: int, steps: int) -> dict:
    """Each kernel at its own defaults: the same model only where the versions agree."""
    net = north_korea()
    cases = {
        "default parameters": (net, {}),
        "phones everywhere": (net, {"phone_penetration": 1.0}),
        "no links": (without_links(net), {}),
    }
    result = {}
    for label, (graph, changes) in cases.items():
        kernels = {"new": market.simulate, "old": old.simulate}
        params = {"new": own_defaults(market, **changes), "old": own_defaults(old, **changes)}
        for name, simulate in kernels.items():
            simulate(graph, params[name], 0, K, 20, 4)
        times: dict[str, list[float]] = {"new": [], "old": []}
        for r in range(runs):
            order = ("new", "old") if r % 2 == 0 else ("old", "new")
            for name in order:
                start = time.perf_counter()
                kernels[name](graph, params[name], r + 1, K, steps, 4)
                times[name].append((time.perf_counter() - start) / steps * 1e6)
        new, old_us = statistics.median(times["new"]), statistics.median(times["old"])
        result[label] = {"new_us_per_step": new, "old_us_per_step": old_us, "ratio": new / old_us}
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, help="git revision of the old kernel")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--steps", type=int, default=520)
    parser.add_argument("--same", action="store_true", help="check the numbers are equal")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        old = old_kernel(args.against, Path(directory))
        if args.same:
            found = differences(old)
            print("same numbers" if not found else "different numbers: " + "; ".join(found))
        result = measure(old, args.runs, args.steps)
    rows = [(k, v["old_us_per_step"], v["new_us_per_step"], v["ratio"]) for k, v in result.items()]
    print(f"{args.steps}-week runs on the NK network, medians of {args.runs}, alternating order")
    print(table(rows, ("case", f"µs/step at {args.against}", "µs/step now", "now / then")))
    return result


if __name__ == "__main__":
    main()

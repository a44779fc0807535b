"""Kernel speed on the full North Korea network, beside its NumPy twin, in one process.

Reports microseconds per weekly step and the cost per (node·good + edge·good) per step of the
numba kernel (median of repeats), the same for the NumPy reference twin (fewer steps: it is
slow), their ratio, and numba's compile time cold (empty cache, in a fresh process) and from
the cache. Writes JSON next to this file.

    .venv/bin/python benchmarks/kernel_speed.py [--steps 520] [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from segmark.kernels import market, network, reference
from segmark.pipeline.config import ModelConfig, PolicyConfig, ShockConfig

HERE = Path(__file__).parent


def default_params(**changes: float) -> np.ndarray:
    values = {**asdict(ModelConfig()), **asdict(PolicyConfig()), **asdict(ShockConfig())}
    values.update(changes)
    return np.array([float(values[name]) for name in market.PARAMS])


def per_step(fn, steps: int, repeats: int) -> float:
    """Median seconds per step over ``repeats`` calls of ``fn(steps)``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(steps)
        times.append((time.perf_counter() - start) / steps)
    return statistics.median(times)


def compile_seconds(cache_dir: str) -> float:
    """Seconds to import and run a 1-step simulation in a fresh process using ``cache_dir``."""
    code = (
        "import time; t = time.perf_counter();"
        "import numpy as np;"
        "from segmark.kernels import market, network;"
        "from benchmarks.kernel_speed import default_params;"
        "market.simulate(network.build('nk', 0), default_params(), 0, 6, 1, 1);"
        "print(time.perf_counter() - t)"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=520)
    parser.add_argument("--twin-steps", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    net = network.build("nk", 0)
    params = default_params()
    k = 6
    units = (net.n_nodes + net.n_edges) * k
    market.simulate(net, params, 0, k, 2, 1)  # compile (or load from the cache)

    def fast(steps: int) -> None:
        market.simulate(net, params, 1, k, steps, 4)

    def slow(steps: int) -> None:
        reference.simulate(net, params, 1, k, steps, 4)

    kernel_s = per_step(fast, args.steps, args.repeats)
    twin_s = per_step(slow, args.twin_steps, max(1, args.repeats // 3))
    with tempfile.TemporaryDirectory() as cache:
        cold = compile_seconds(cache)
        warm = compile_seconds(cache)
    result = {
        "network": f"nk: {net.n_nodes} units, {net.n_edges} links, {k} goods",
        "arbitrage_rounds": int(params[market.PARAMS.index("arbitrage_rounds")]),
        "kernel_us_per_step": kernel_s * 1e6,
        "kernel_ns_per_unit_step": kernel_s * 1e9 / units,
        "twin_us_per_step": twin_s * 1e6,
        "twin_over_kernel": twin_s / kernel_s,
        "compile_cold_s": cold,
        "compile_cached_s": warm,
        "target_ns_per_unit_step": 5.0,
    }
    width = max(map(len, result))
    for key, value in result.items():
        shown = f"{value:.3g}" if isinstance(value, float) else value
        print(f"{key:<{width}}  {shown}")
    (HERE / "kernel_speed.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

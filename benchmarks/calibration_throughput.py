"""A calibration's throughput (issue 24): the shipped nk calibration (``calibration=nk_2013_2019``,
its posterior predictive and headline left out) against one flat sweep of the same runs, and
segmark's ABC-SMC against pyabc's on the toy model ``gauss``.

- **nk**: the calibration, ``--particles`` x ``--populations``, on a LocalCluster of one worker
  per core; then a flat ``list`` sweep of every parameter point the calibration simulated
  (another root seed, so nothing is found stored), on a fresh cluster like the calibration's.
  Workers busy = the runs' own seconds (``elapsed_s``, timed in the workers) / (workers x
  wall); the calibration's throughput relative to the flat sweep = (its runs / its wall) /
  (the flat sweep's runs / its wall): what populations, batches and statistics cost beyond the
  runs. The calibration's driver peak memory at each of ``--particles`` (flat in particles: the
  runs' tables stay on the workers).
- **toy**: ``calibration=toy`` (two normal means, prior N(0, 1), data 0.4 and -0.3) at
  ``--toy-particles`` x ``--populations`` through segmark's engine, and pyabc's ``ABCSMC`` with
  the closest settings (``benchmarks/pyabc_toy.py``): wall, simulations, ms a simulation, and
  each posterior's sd beside the exact one. A run costs microseconds, so this measures each
  framework's own cost per simulation; segmark stores every simulation in Parquet.

Each measurement runs in its own process (``--child``), so each driver's peak memory is its own.

    .venv/bin/python -m benchmarks.calibration_throughput     # 5 x 1000 and 200: about 50 min
    .venv/bin/python -m benchmarks.calibration_throughput --particles 100 300 --populations 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import HERE, compose_config, peak_rss_mb, table, write_json
from segmark.models import registry
from segmark.models.gauss import exact_posterior
from segmark.pipeline.calibration.calibrate import run as calibrate
from segmark.pipeline.calibration.engine import RUNS, with_settings
from segmark.pipeline.calibration.spec import check
from segmark.pipeline.driver import run_sweep
from segmark.pipeline.extend import as_list_design
from segmark.pipeline.store import read_summary

FLAT_SEED = 4242  # the flat sweep's root seed: its runs are new, not the calibration's
TOY_OBSERVED, TOY_PRIOR = (0.4, -0.3), (0.0, 1.0)  # calibration=toy's data and N(0, 1) priors


def _calibration(name: str, root: Path, particles: int, populations: int, *extra: str):
    overrides = [f"calibration={name}", f"storage.root={root}", "progress=false",
                 f"calibration.particles={particles}", f"calibration.populations={populations}",
                 "calibration.predictive=false", "calibration.headline=null",
                 "cluster.dashboard_address=127.0.0.1:0", *extra]  # fmt: skip
    return compose_config(overrides, "calibrate")


def _runs(directory: Path, columns: list[str]) -> tuple[int, float, np.ndarray]:
    """A dataset's run count, the runs' own seconds, and the ``columns`` of every run."""
    table_ = read_summary(directory, ["elapsed_s", *columns])
    points = np.column_stack([table_.column(c).to_numpy() for c in columns]) if columns else None
    return table_.num_rows, float(np.nansum(table_.column("elapsed_s").to_numpy())), points


def nk(root: Path, particles: int, populations: int, flat: bool) -> dict:
    """The nk calibration, then (``flat``) one flat sweep of the same parameter points."""
    base = _calibration("nk_2013_2019", root, particles, populations)
    model, workers = registry.get("nk"), base.cluster.n_workers or os.cpu_count() or 1
    start = time.perf_counter()
    directory, history = calibrate(base, base.calibration, model, echo=lambda _: None)
    wall = time.perf_counter() - start
    rss = peak_rss_mb()
    checked = check(base.calibration, model, base.sweep.root_seed)
    columns = [model.parameter(p).column for p in checked.priors.paths]
    runs, seconds, points = _runs(directory / RUNS, columns)
    out = {"particles": particles, "populations": len(history), "workers": workers,
           "calibration": {"wall_s": wall, "runs": runs, "run_seconds": seconds,
                           "busy": seconds / (workers * wall), "driver_peak_rss_mb": rss,
                           "simulations": [p.simulations for p in history]}}  # fmt: skip
    if flat:
        cfg = with_settings(base, checked.targets)
        cfg.sweep.name, cfg.sweep.common_random_numbers = "flat", False
        cfg.sweep.root_seed = FLAT_SEED
        as_list_design(cfg, [dict(zip(checked.priors.paths, map(float, row), strict=True))
                             for row in points], 1)  # fmt: skip
        cfg.storage.root, cfg.storage.dataset = str(root), "flat"
        start = time.perf_counter()
        run_sweep(cfg, echo=lambda _: None, model=model)
        flat_wall = time.perf_counter() - start
        n, flat_seconds, _ = _runs(root / "flat", [])
        out["flat"] = {"wall_s": flat_wall, "runs": n, "run_seconds": flat_seconds,
                       "busy": flat_seconds / (workers * flat_wall)}  # fmt: skip
        out["throughput_vs_flat"] = (runs / wall) / (n / flat_wall)
    return out


def toy(root: Path, particles: int, populations: int, workers: int) -> dict:
    """segmark's ABC-SMC and pyabc's on ``gauss``, with the exact posterior sd beside theirs."""
    from benchmarks.pyabc_toy import run_pyabc

    base = _calibration("toy", root, particles, populations, "model=gauss",
                        f"cluster.n_workers={workers}")  # fmt: skip
    start = time.perf_counter()
    _, history = calibrate(base, base.calibration, registry.get("gauss"), echo=lambda _: None)
    wall = time.perf_counter() - start
    last = history[-1]
    mean = np.average(last.points, axis=0, weights=last.weights)
    sd = np.sqrt(np.average((last.points - mean) ** 2, axis=0, weights=last.weights))
    simulations = sum(p.simulations for p in history)
    exact = [exact_posterior(*TOY_PRIOR, y, 10, 1.0)[1] for y in TOY_OBSERVED]
    peer = run_pyabc(particles, populations, workers, TOY_OBSERVED, TOY_PRIOR)
    if "wall_s" in peer:
        peer["ms_per_simulation"] = peer["wall_s"] / peer["simulations"] * 1e3
    return {"particles": particles, "populations": len(history), "workers": workers,
            "exact_sd": exact,
            "segmark": {"wall_s": wall, "simulations": simulations,
                        "ms_per_simulation": wall / simulations * 1e3,
                        "posterior_sd": sd.tolist()},
            "pyabc": peer}  # fmt: skip


def child(args: argparse.Namespace) -> None:
    root = Path(tempfile.mkdtemp(prefix="segmark-calbench-", dir=args.scratch))
    try:
        if args.child == "toy":
            result = toy(root, args.toy_particles, args.populations, args.workers)
        else:
            result = nk(root, args.particles[0], args.populations, args.child == "nk-flat")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(result))


def _measure(kind: str, args: argparse.Namespace, particles: int) -> dict:
    command = [sys.executable, "-m", "benchmarks.calibration_throughput", "--child", kind,
               "--particles", str(particles), "--populations", str(args.populations),
               "--toy-particles", str(args.toy_particles), "--workers", str(args.workers),
               "--scratch", str(args.scratch)]  # fmt: skip
    print(f"-- {kind} ({particles if kind != 'toy' else args.toy_particles} particles)",
          flush=True)  # fmt: skip
    done = subprocess.run(command, cwd=HERE.parent, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(args: argparse.Namespace) -> dict:
    largest, *others = sorted(args.particles, reverse=True)
    runs = {"nk": _measure("nk-flat", args, largest)}
    runs["memory"] = [_measure("nk", args, p) for p in others]
    runs["toy"] = _measure("toy", args, 0)
    nk_, toy_ = runs["nk"], runs["toy"]
    cal, flat = nk_["calibration"], nk_["flat"]
    rows = [
        [f"nk {largest} x {nk_['populations']}: runs; wall s, calibration / flat sweep",
         f"{cal['runs']:,}; {cal['wall_s']:.0f} / {flat['wall_s']:.0f}"],
        ["workers busy, calibration / flat sweep", f"{cal['busy']:.3f} / {flat['busy']:.3f}"],
        ["calibration's throughput ÷ flat sweep's", f"{nk_['throughput_vs_flat']:.3f}"],
        ["driver peak MB at " + " / ".join(str(p) for p in [largest, *others]) + " particles",
         " / ".join(f"{m['calibration']['driver_peak_rss_mb']:.0f}"
                    for m in [nk_, *runs["memory"]])],
    ]  # fmt: skip
    seg, peer = toy_["segmark"], toy_["pyabc"]
    rows.append(
        [
            f"toy {toy_['particles']} x {toy_['populations']}: segmark wall s, "
            "simulations, ms each",
            f"{seg['wall_s']:.1f}, {seg['simulations']:,}, {seg['ms_per_simulation']:.2f}",
        ]
    )
    if "wall_s" in peer:
        rows.append(["toy: pyabc (multicore) wall s, simulations, ms each",
                     f"{peer['wall_s']:.1f}, {peer['simulations']:,}, "
                     f"{peer['ms_per_simulation']:.2f}"])  # fmt: skip
    else:
        rows.append(["toy: pyabc", peer.get("skipped", "failed")])
    print(table(rows, ["measure", "value"]))
    return {"settings": vars(args) | {"scratch": str(args.scratch), "json": str(args.json)}, **runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--particles",
        type=int,
        nargs="+",
        default=[1000, 200],
        help="nk particles: the largest with a flat sweep, each for memory",
    )
    parser.add_argument("--populations", type=int, default=5)
    parser.add_argument("--toy-particles", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--scratch", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--child", choices=["nk", "nk-flat", "toy"], help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=HERE / "calibration_throughput.json")
    args = parser.parse_args()
    if args.child:
        child(args)
    else:
        write_json(args.json, report(args))


if __name__ == "__main__":
    main()

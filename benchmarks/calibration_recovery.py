"""Parameter recovery on the nk model (issue 24): parameter sets drawn from the shipped
calibration's priors (``calibration=nk_2013_2019``), each run once to make a synthetic survey
(the same twelve statistics as the real one), each then calibrated by ABC-SMC through the
engine. Reports how often each parameter's truth falls inside its 90% posterior interval, and
its posterior contraction.

The calibrations share one run dataset, so their common population 0 (the same prior draws,
seeded by the root seed) is simulated once; the synthetic surveys come from another root seed,
so no calibration sees the random numbers of its data. Resumable: stored runs and posteriors
are found again.

    .venv/bin/python -m benchmarks.calibration_recovery [--sets 20] [--particles 200]
        [--populations 3] [--root /tmp/segmark-recovery]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.common import HERE, compose_config, table, write_json
from segmark.models import registry
from segmark.pipeline.calibration import credible_interval, posterior, smc
from segmark.pipeline.calibration.engine import EngineSimulator, with_settings
from segmark.pipeline.calibration.spec import check
from segmark.pipeline.schedule import connect

LEVEL = 0.9
TRUTH_SEED = 777  # the synthetic surveys' root seed, not the calibrations'


def recover(args: argparse.Namespace) -> dict:
    root = Path(args.root)
    base = compose_config(["calibration=nk_2013_2019", f"storage.root={root}"], "calibrate")
    spec, model = base.calibration, registry.get("nk")
    checked = check(spec, model, base.sweep.root_seed)
    base = with_settings(base, checked.targets)
    paths, stats = checked.priors.paths, checked.statistics
    columns = tuple(model.parameter(p).column for p in paths)
    rng = np.random.default_rng(np.random.SeedSequence(TRUTH_SEED))
    truths = checked.priors.sample(rng, args.sets)
    # the shipped settings (scale floors from the real survey's intervals) at a smaller size
    settings = replace(checked.settings, particles=args.particles, populations=args.populations)
    truth_base = compose_config(
        ["calibration=nk_2013_2019", f"sweep.root_seed={TRUTH_SEED}"], "calibrate"
    )
    truth_base = with_settings(truth_base, checked.targets)
    rows, started = [], time.perf_counter()
    with connect(base.cluster) as client:
        make = EngineSimulator(truth_base, model, root / "truths", paths, stats, checked.targets,
                               client)  # fmt: skip
        observed = make(0, 0, truths)
        shared = EngineSimulator(base, model, root / "shared", paths, stats, checked.targets,
                                 client)  # fmt: skip
        for k in range(args.sets):
            if not np.isfinite(observed[k]).all():
                print(f"set {k}: the synthetic survey has a NaN statistic; left out")
                continue
            last = _calibrate(root / f"set_{k:02d}", settings, checked.priors, observed[k],
                              shared, columns, stats, truths[k])  # fmt: skip
            rows.append(_row(k, last, truths[k], checked.priors))
            print(f"set {k}: {int(rows[-1]['inside'].sum())} of {len(paths)} inside, "
                  f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    return _report(rows, paths, args, time.perf_counter() - started)


def _calibrate(directory, settings, priors, observed, simulate, columns, stats, truth):
    identity = {
        "truth": truth.tolist(),
        "observed": observed.tolist(),
        "settings": [settings.particles, settings.populations, settings.root_seed],
    }
    history = list(posterior.read(directory, columns, stats, identity))
    directory.mkdir(parents=True, exist_ok=True)
    for population in smc.calibrate(settings, priors, observed, simulate, tuple(history)):
        history.append(population)
        posterior.write(directory, history, columns, stats, identity)
    return history[-1]


def _row(k: int, last: smc.Population, truth: np.ndarray, priors) -> dict:
    ci = credible_interval(last, LEVEL)
    z = priors.to_kernel(last.points)  # log x for log-uniform priors, as the report measures
    mean = np.average(z, axis=0, weights=last.weights)
    var = np.average((z - mean) ** 2, axis=0, weights=last.weights)
    prior_var = priors.to_kernel(priors.sample(np.random.default_rng(0), 20_000)).var(axis=0)
    return {"set": k, "inside": (ci[:, 0] <= truth) & (truth <= ci[:, 1]),
            "contraction": 1 - var / prior_var, "population": last.number}  # fmt: skip


def _report(rows: list[dict], paths, args, seconds: float) -> dict:
    inside = np.array([r["inside"] for r in rows])
    contraction = np.array([r["contraction"] for r in rows])
    n = len(rows)
    per = [
        [p, f"{int(inside[:, j].sum())}/{n}", float(inside[:, j].mean()),
         float(np.median(contraction[:, j]))]
        for j, p in enumerate(paths)
    ]  # fmt: skip
    print(table(per, ["parameter", "inside 90%", "coverage", "median contraction"]))
    total = float(inside.mean())
    print(f"all parameters: {int(inside.sum())}/{inside.size} = {total:.3f} inside their 90% "
          f"intervals; {n} sets, {args.particles} particles, {args.populations} populations, "
          f"{seconds / 60:.1f} min")  # fmt: skip
    return {
        "sets": n, "particles": args.particles, "populations": args.populations,
        "minutes": seconds / 60, "coverage": total,
        "per_parameter": {p: {"inside": int(inside[:, j].sum()),
                              "median_contraction": float(np.median(contraction[:, j]))}
                          for j, p in enumerate(paths)},
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=20)
    parser.add_argument("--particles", type=int, default=200)
    parser.add_argument("--populations", type=int, default=3)
    parser.add_argument("--root", default="/tmp/segmark-recovery")
    parser.add_argument("--json", type=Path, default=HERE / "calibration_recovery.json")
    args = parser.parse_args()
    write_json(args.json, recover(args))


if __name__ == "__main__":
    main()

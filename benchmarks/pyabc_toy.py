"""pyabc's ABC-SMC on segmark's toy model ``gauss``, as a peer of segmark's own ABC-SMC
(pipeline/calibration/smc.py): wall time, simulations, acceptances and the posterior of the two
means, to set beside the exact conjugate posterior (``models/gauss.exact_posterior``).

The model is segmark's own ``gauss.simulate`` (two unknown means ``mu_1``, ``mu_2``, each making
``draws`` normal observations of sd ``noise``; the statistics are the two sample means), called
by pyabc one particle at a time. pyabc runs with the settings closest to segmark's:

- distance: ``AdaptivePNormDistance(p=2)`` with median-absolute-deviation scales refitted every
  population from all its simulations, accepted or not (segmark's adaptive MAD scales, without
  segmark's optional scale floors);
- epsilon: ``QuantileEpsilon(alpha=0.5)``, the weighted median of the last population's
  distances under the new scales;
- kernel (``kernel="beaumont"``, the default): ``MultivariateNormalTransition`` with
  ``scaling=2`` and a bandwidth factor of 1, i.e. a normal kernel with twice the weighted
  covariance, segmark's Beaumont et al. (2009) kernel. pyabc's own default
  (``kernel="silverman"``: ``scaling=1``) multiplies the weighted covariance by Silverman's
  factor squared, ``(4 / (ESS (d + 2)))^(2 / (d + 4))``, which for d = 2 is ``ESS^(-1/3)``:
  about 0.13 at an effective sample size of 500, some 16 times narrower than segmark's;
- population 0 (``first="prior"``, the default): prior draws, all accepted (epsilon infinite),
  as in segmark. pyabc still simulates one calibration sample of ``particles`` prior draws
  first, to fit the adaptive distance's first scales; its simulations are counted in
  ``simulations`` and also reported alone. ``first="calibrated"`` is pyabc's default instead:
  population 0 is already held to the median distance of that calibration sample, so each
  population is one epsilon step ahead of segmark's;
- a constant population size ``particles``, ``populations`` populations at most, and
  ``MulticoreEvalParallelSampler(n_procs=workers)`` (``sampler="multicore"``) or a
  ``DaskDistributedSampler`` on a loopback dask LocalCluster of ``workers`` single-threaded
  worker processes (``sampler="dask"``, pyabc's default batch size of one simulation a task).
  pyabc's dask sampler keeps at most one task per worker core in flight and polls them every
  10 ms, so on a model of microseconds it measures that latency, not the simulations.

pyabc's samplers reseed numpy in every worker from the operating system's entropy, so a pyabc
run cannot be repeated exactly: ``seed`` seeds only the driver process's generators.
``wall_s`` times ``ABCSMC.run`` alone: not the imports, the database's creation or the dask
cluster's start (``setup_s``).

    .venv/bin/python -m benchmarks.pyabc_toy --particles 1000 --populations 5 --workers 2
"""

from __future__ import annotations

import argparse
import json
import math
import random
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

from segmark.models import gauss

SAMPLERS = ("multicore", "dask")
KERNELS = ("beaumont", "silverman")
FIRSTS = ("prior", "calibrated")


def _simulate(params, draws: int, noise: float) -> dict[str, float]:
    """One pyabc simulation: segmark's ``gauss.simulate`` under a seed from numpy's global
    generator (which pyabc reseeds in every worker process)."""
    seed = int(np.random.randint(2**63 - 1))  # noqa: NPY002 (pyabc seeds the legacy generator)
    point = {name: float(params[name]) for name in gauss.MEANS}
    return gauss.simulate({**point, "draws": draws, "noise": noise}, seed)


def _unit_bandwidth(n_samples: float, dimension: int) -> float:
    """A bandwidth factor of 1, so that ``scaling`` alone sets the kernel's covariance."""
    return 1.0


def run_pyabc(
    particles: int,
    populations: int,
    workers: int,
    observed: tuple[float, float],
    prior: tuple[float, float] = (0.0, 3.0),
    draws: int = 10,
    noise: float = 1.0,
    seed: int = 0,
    sampler: str = "multicore",
    kernel: str = "beaumont",
    first: str = "prior",
) -> dict:
    """Run pyabc's ABCSMC on ``gauss`` once (see the module's docstring); ``{"skipped": reason}``
    where pyabc (or, for ``sampler="dask"``, distributed) cannot be imported."""
    if sampler not in SAMPLERS or kernel not in KERNELS or first not in FIRSTS:
        raise ValueError(f"sampler in {SAMPLERS}, kernel in {KERNELS}, first in {FIRSTS}")
    try:
        import pyabc
    except ImportError as exc:
        return {"skipped": f"pyabc is not installed: {exc}"}
    np.random.seed(seed)  # noqa: NPY002 (pyabc draws from the legacy generator)
    random.seed(seed)

    transition = (
        pyabc.MultivariateNormalTransition(scaling=2.0, bandwidth_selector=_unit_bandwidth)
        if kernel == "beaumont"
        else pyabc.MultivariateNormalTransition()
    )
    setup_start = time.perf_counter()
    cluster = client = None
    if sampler == "dask":
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:
            return {"skipped": f"dask.distributed is not installed: {exc}"}
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        client = Client(cluster)
        parallel = pyabc.sampler.DaskDistributedSampler(dask_client=client)
    else:
        parallel = pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers)

    try:
        abc = pyabc.ABCSMC(
            models=partial(_simulate, draws=draws, noise=noise),
            parameter_priors=pyabc.Distribution(
                **{name: pyabc.RV("norm", prior[0], prior[1]) for name in gauss.MEANS}
            ),
            distance_function=pyabc.AdaptivePNormDistance(p=2, scale_function=pyabc.distance.mad),
            population_size=pyabc.ConstantPopulationSize(particles),
            transitions=transition,
            eps=pyabc.QuantileEpsilon(
                initial_epsilon=math.inf if first == "prior" else "from_sample",
                alpha=0.5,
                weighted=True,
            ),
            sampler=parallel,
        )
        with tempfile.TemporaryDirectory(prefix="segmark-pyabc-") as tmp:
            abc.new(
                f"sqlite:///{Path(tmp) / 'pyabc.db'}",
                {"mean_1": float(observed[0]), "mean_2": float(observed[1])},
            )
            setup_s = time.perf_counter() - setup_start
            start = time.perf_counter()
            history = abc.run(max_nr_populations=populations)
            wall_s = time.perf_counter() - start
            table = history.get_all_populations()  # t = -1: the calibration sample
            points, weights = history.get_distribution(m=0, t=history.max_t)
            simulations = int(history.total_nr_simulations)
    finally:
        if client is not None:
            client.close()
            cluster.close()

    found = table[table.t >= 0]
    posterior = {}
    for name in gauss.MEANS:
        values = points[name].to_numpy()
        mean = float(np.average(values, weights=weights))
        sd = math.sqrt(float(np.average((values - mean) ** 2, weights=weights)))
        posterior[name] = {"mean": mean, "sd": sd}
    return {
        "pyabc_version": pyabc.__version__,
        "sampler": sampler,
        "kernel": kernel,
        "first": first,
        "particles": particles,
        "populations": len(found),
        "workers": workers,
        "observed": list(observed),
        "setup_s": setup_s,
        "wall_s": wall_s,
        "simulations": simulations,
        "calibration_simulations": int(table[table.t < 0].samples.sum()),
        "simulations_per_population": [int(n) for n in found.samples],
        "accepted": [int(n) for n in found.particles],
        "epsilon": [float(e) if math.isfinite(e) else None for e in found.epsilon],  # None: inf
        "posterior": posterior,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--particles", type=int, default=1000)
    parser.add_argument("--populations", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--observed", type=float, nargs=2, default=(1.0, -0.5))
    parser.add_argument("--prior", type=float, nargs=2, default=(0.0, 3.0))
    parser.add_argument("--draws", type=int, default=10)
    parser.add_argument("--noise", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sampler", choices=SAMPLERS, default="multicore")
    parser.add_argument("--kernel", choices=KERNELS, default="beaumont")
    parser.add_argument("--first", choices=FIRSTS, default="prior")
    args = parser.parse_args(argv)
    result = run_pyabc(
        args.particles,
        args.populations,
        args.workers,
        tuple(args.observed),
        prior=tuple(args.prior),
        draws=args.draws,
        noise=args.noise,
        seed=args.seed,
        sampler=args.sampler,
        kernel=args.kernel,
        first=args.first,
    )
    if "posterior" in result:
        result["exact"] = {
            name: dict(
                zip(
                    ("mean", "sd"),
                    gauss.exact_posterior(*args.prior, y, args.draws, args.noise),
                    strict=True,
                )
            )
            for name, y in zip(gauss.MEANS, args.observed, strict=True)
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

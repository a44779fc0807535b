"""ABC-SMC (Beaumont et al. 2009; Del Moral et al. 2012) with batched proposals, so that each
batch is one sweep of the engine.

Population 0 draws ``particles`` points from the prior and keeps every one whose simulation
succeeded. Population t >= 1:

1. scales: each statistic's median absolute deviation over every simulation of population
   t - 1 (an adaptive distance, as pyabc's ``AdaptivePNormDistance``), but not below the
   observed value's standard error where the data gives one (``Settings.scale_floors``); the
   distance of a simulation is the Euclidean norm of (statistics - observed) / scales;
2. epsilon: the weighted ``quantile`` of population t - 1's distances under those scales;
3. proposals in batches: a particle of population t - 1 drawn by weight, moved by a normal
   kernel with twice the weighted covariance of the population (Beaumont et al. 2009), redrawn
   until inside the prior's support; each batch is simulated as a whole; the first
   ``particles`` proposals within epsilon, in proposal order, are the population. The kernel
   moves log-uniform parameters in log space (``Priors.to_kernel``);
4. weights: prior density over the kernel mixture's density, both in the kernel's space,
   normalised.

Everything is deterministic given the root seed: batch b of population t draws from
``SeedSequence(root_seed, spawn_key=(t, b))`` and its size depends only on earlier results, so a
calibration resumed from its stored populations makes the same proposals, and the engine finds
the runs it already stored.

Hand-written rather than pyabc's ``ABCSMC``: pyabc's samplers simulate one particle at a time
inside their own loop, where segmark needs each batch as one resumable, content-addressed sweep.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from segmark.pipeline.calibration.priors import Priors

# (population, batch, points (n, d)) -> statistics (n, s); a row of NaN for a failed run
Simulate = Callable[[int, int, np.ndarray], np.ndarray]

# the algorithm's version, part of a calibration's identity: a posterior made by another
# version is not resumed (2: log-uniform parameters move in log space; scale floors)
VERSION = "2"


@dataclass(frozen=True)
class Settings:
    particles: int = 1000
    populations: int = 5
    quantile: float = 0.5  # epsilon: this quantile of the last population's distances
    min_acceptance: float = 0.01  # stop when a population would accept fewer proposals
    root_seed: int = 0
    # per statistic, the least scale of the distance: the observed value's own standard error
    # (none: 0), so a statistic the model reproduces more tightly than the data knows it
    # cannot drown the others
    scale_floors: tuple[float, ...] = ()


@dataclass(frozen=True, eq=False)
class Population:
    """One population: its accepted particles and how they were found."""

    number: int
    points: np.ndarray  # (N, d)
    weights: np.ndarray  # (N,), summing to 1
    distances: np.ndarray  # (N,), under ``scales``
    statistics: np.ndarray  # (N, s)
    epsilon: float  # inf for population 0
    scales: np.ndarray  # (s,) the distance's scales in this population
    next_scales: np.ndarray  # (s,) from all of this population's simulations: the next one's
    proposals: int  # proposals up to the last one accepted
    simulations: int  # simulations made (the last batch may overshoot)

    @property
    def acceptance_rate(self) -> float:
        return len(self.weights) / self.proposals


class Exhausted(RuntimeError):
    """A population would need more proposals than ``particles / min_acceptance``."""


def calibrate(
    settings: Settings,
    priors: Priors,
    observed: np.ndarray,
    simulate: Simulate,
    done: tuple[Population, ...] = (),
) -> Iterator[Population]:
    """The populations after ``done`` (those already stored), each as soon as it is complete;
    stops after ``settings.populations`` in all, or early when a population's acceptance
    would fall below ``min_acceptance`` (the last complete population is then the posterior)."""
    history = list(done)
    while len(history) < settings.populations:
        try:
            population = _population(settings, priors, observed, simulate, history)
        except Exhausted:
            return
        history.append(population)
        yield population


def _population(settings, priors, observed, simulate, history) -> Population:
    """Population ``len(history)``: batches of proposals until ``particles`` are accepted."""
    number = len(history)
    last = history[-1] if history else None
    if last is None:
        scales, epsilon = None, np.inf
    else:
        scales = last.next_scales
        epsilon = weighted_quantile(
            distances(last.statistics, observed, scales), last.weights, settings.quantile
        )
    cap = int(np.ceil(settings.particles / settings.min_acceptance))
    points, stats = [], []
    accepted, proposed, batch = 0, 0, 0
    rate = last.acceptance_rate if last is not None else 1.0
    while accepted < settings.particles:
        if proposed >= cap:
            raise Exhausted(f"population {number}: {accepted} accepted of {proposed} proposals")
        size = _batch_size(settings.particles - accepted, rate, settings.min_acceptance)
        size = min(size, cap - proposed)
        rng = np.random.default_rng(
            np.random.SeedSequence(settings.root_seed, spawn_key=(number, batch))
        )
        new = priors.sample(rng, size) if last is None else propose(rng, priors, last, size)
        new_stats = np.asarray(simulate(number, batch, new), dtype=np.float64)
        if new_stats.shape != (size, observed.shape[0]):
            raise ValueError(f"simulate gave statistics of shape {new_stats.shape}, not "
                             f"{(size, observed.shape[0])}")  # fmt: skip
        points.append(new)
        stats.append(new_stats)
        proposed += size
        batch += 1
        if scales is None:  # population 0 accepts every run that succeeded
            accepted += int(np.isfinite(new_stats).all(axis=1).sum())
        else:
            accepted += int((distances(new_stats, observed, scales) <= epsilon).sum())
        rate = max(accepted / proposed, settings.min_acceptance)
    return _accept(
        settings, priors, observed, history, np.vstack(points), np.vstack(stats), scales, epsilon
    )


def _batch_size(needed: int, rate: float, floor: float) -> int:
    """Proposals for ``needed`` more acceptances at the rate seen so far, with 10% to spare."""
    return int(np.ceil(needed / max(rate, floor) * 1.1))


def _accept(settings, priors, observed, history, points, stats, scales, epsilon) -> Population:
    """The first ``particles`` proposals within epsilon, with their importance weights."""
    next_scales = mad_scales(stats)
    if settings.scale_floors:
        next_scales = np.maximum(next_scales, settings.scale_floors)
    scales = next_scales if scales is None else scales
    d = distances(stats, observed, scales)
    ok = np.isfinite(d) & (d <= epsilon)
    keep = np.flatnonzero(ok)[: settings.particles]
    chosen = points[keep]
    if history:
        log_w = priors.kernel_logpdf(chosen) - kernel_logpdf(chosen, history[-1], priors)
        weights = np.exp(log_w - logsumexp(log_w))
    else:
        weights = np.full(len(keep), 1.0 / len(keep))
    return Population(
        number=len(history),
        points=chosen,
        weights=weights,
        distances=d[keep],
        statistics=stats[keep],
        epsilon=float(epsilon),
        scales=scales,
        next_scales=next_scales,
        proposals=int(keep[-1]) + 1,
        simulations=len(points),
    )


def kernel_cholesky(z: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Cholesky factor of the perturbation kernel: twice the weighted covariance of a
    population's points ``z`` in the kernel's space (a tiny ridge keeps it positive definite
    when a parameter has collapsed)."""
    cov = 2.0 * np.atleast_2d(np.cov(z, rowvar=False, aweights=weights, ddof=0))
    ridge = 1e-12 * max(float(np.trace(cov)), 1e-300)
    return np.linalg.cholesky(cov + ridge * np.eye(cov.shape[0]))


def propose(rng: np.random.Generator, priors: Priors, last: Population, n: int) -> np.ndarray:
    """``n`` particles of ``last`` drawn by weight and perturbed in the kernel's space
    (``Priors.to_kernel``), each redrawn until its prior density is positive."""
    z = priors.to_kernel(last.points)
    chol = kernel_cholesky(z, last.weights)
    out = np.empty((n, last.points.shape[1]))
    todo = np.arange(n)
    while todo.size:
        parents = rng.choice(len(last.weights), size=todo.size, p=last.weights)
        moved = z[parents] + rng.standard_normal((todo.size, out.shape[1])) @ chol.T
        out[todo] = priors.from_kernel(moved)
        todo = todo[~np.isfinite(priors.logpdf(out[todo]))]
    return out


def kernel_logpdf(
    points: np.ndarray, last: Population, priors: Priors, chunk: int = 512
) -> np.ndarray:
    """(n,) log density, in the kernel's space, of the kernel mixture
    sum_j W_j N(z; z_j, 2 cov) at each point (given in the parameters' own space)."""
    z_last = priors.to_kernel(last.points)
    chol = kernel_cholesky(z_last, last.weights)
    z_new = priors.to_kernel(points)
    d = points.shape[1]
    log_norm = -0.5 * d * np.log(2 * np.pi) - np.log(np.diag(chol)).sum()
    log_w = np.log(last.weights)
    out = np.empty(points.shape[0])
    for start in range(0, points.shape[0], chunk):
        diff = z_new[start : start + chunk, None, :] - z_last[None, :, :]
        z = np.linalg.solve(chol, diff.reshape(-1, d).T).T.reshape(diff.shape)
        out[start : start + chunk] = logsumexp(log_w - 0.5 * (z**2).sum(axis=2), axis=1)
    return out + log_norm


def mad_scales(statistics: np.ndarray) -> np.ndarray:
    """Each statistic's median absolute deviation over the finite rows (mean absolute
    deviation where that is 0, then 1: a constant statistic then counts as is)."""
    finite = statistics[np.isfinite(statistics).all(axis=1)]
    centred = np.abs(finite - np.median(finite, axis=0))
    scales = np.median(centred, axis=0)
    scales = np.where(scales > 0, scales, centred.mean(axis=0))
    return np.where(scales > 0, scales, 1.0)


def distances(statistics: np.ndarray, observed: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """(n,) Euclidean distances of scaled statistics from the observed; inf for failed runs."""
    d = np.sqrt((((statistics - observed) / scales) ** 2).sum(axis=1))
    return np.where(np.isfinite(d), d, np.inf)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value whose cumulative weight reaches q."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, q * cumulative[-1])])

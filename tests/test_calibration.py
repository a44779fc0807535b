"""Calibration (ABC-SMC): coverage on a model with a known posterior, the engine path, resume,
and bad specs refused before any run."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import QUIET, make_config
from scipy import stats

from segmark.models import registry
from segmark.models.gauss import exact_posterior
from segmark.pipeline.calibration import (
    CalibrationSpec,
    calibrate,
    check,
    credible_interval,
    posterior,
    predictive,
    priors,
    report,
    run,
    smc,
)
from segmark.pipeline.calibration.spec import identity
from segmark.pipeline.calibration.spec import standard_errors as spec_standard_errors
from segmark.pipeline.config import ConfigError
from segmark.pipeline.sweep import params
from segmark.pipeline.sweep import plan as plan_runs

GAUSS = registry.get("gauss")
NORMAL = {"dist": "norm", "loc": 0.0, "scale": 1.0}
PRIORS = {"shock.mu_1": NORMAL, "shock.mu_2": NORMAL}
DRAWS, NOISE = 10, 1.0


def vectorised(key: int):
    """The gauss model's sample means drawn in one go: the algorithm's test, without the engine."""

    def simulate(population: int, batch: int, points: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng([key, population, batch])
        return points + NOISE / np.sqrt(DRAWS) * rng.standard_normal(points.shape)

    return simulate


def test_90_percent_intervals_cover_the_truth_at_the_nominal_rate():
    """Simulation-based calibration (Talts et al. 2018): truths drawn from the prior, data from
    the truths, 100 calibrations; the 90% intervals of 2 x 100 posteriors must cover their
    truth at 90% within the binomial 99% band, and the posterior means track the exact ones."""
    gauss_priors = priors.parse(GAUSS, PRIORS)
    covered, errors = [], []
    for k in range(100):
        rng = np.random.default_rng(10_000 + k)
        truth = rng.standard_normal(2)
        observed = truth + NOISE / np.sqrt(DRAWS) * rng.standard_normal(2)
        settings = smc.Settings(particles=400, populations=6, root_seed=k)
        last = list(smc.calibrate(settings, gauss_priors, observed, vectorised(k)))[-1]
        interval = credible_interval(last, 0.9)
        covered += list((interval[:, 0] <= truth) & (truth <= interval[:, 1]))
        for j in range(2):
            centre, sd = exact_posterior(0.0, 1.0, observed[j], DRAWS, NOISE)
            errors.append((np.average(last.points[:, j], weights=last.weights) - centre) / sd)
    low, high = stats.binom.interval(0.99, len(covered), 0.9)
    assert low <= sum(covered) <= high, f"{sum(covered)} of {len(covered)} covered"
    # measured 0.18 exact-posterior sds: Monte Carlo error and the last epsilon's blur
    assert np.mean(np.abs(errors)) < 0.3, "posterior means stray from the exact ones"


def test_populations_close_in_on_the_data_and_weights_are_a_distribution():
    """The accepted simulations' statistics come nearer the observed population by population
    (epsilons themselves are in each population's own scales, so they need not fall)."""
    gauss_priors = priors.parse(GAUSS, PRIORS)
    observed = np.array([0.5, -1.0])
    settings = smc.Settings(particles=200, populations=4, root_seed=3)
    pops = list(smc.calibrate(settings, gauss_priors, observed, vectorised(3)))
    assert [p.number for p in pops] == [0, 1, 2, 3] and pops[0].epsilon == np.inf
    spread = [np.average(np.abs(p.statistics - observed).sum(axis=1), weights=p.weights)
              for p in pops]  # fmt: skip
    assert all(a > b for a, b in itertools.pairwise(spread)), spread
    for p in pops:
        assert p.points.shape == (200, 2) and np.isclose(p.weights.sum(), 1.0)
        assert (p.distances <= p.epsilon).all() and 0 < p.acceptance_rate <= 1


def test_log_uniform_priors_give_the_exact_posterior_with_even_weights():
    """A log-uniform prior (0.05 to 20) on mu_1: the kernel moves in log space, and the
    weights carry the Jacobian. The ABC posterior's mean and 90% interval must match the exact
    one (prior x likelihood on a fine grid) at 10 truths (8 populations: with 5, a posterior a
    few percent wide at 8 or 20 is still 2-3x too wide), and the
    weights must stay even (a kernel in x gave nk's log-uniform calibration an ESS of 85 of
    1000 particles)."""
    log_priors = priors.parse(GAUSS, {"shock.mu_1": {"dist": "loguniform", "low": 0.05,
                                                     "high": 20.0}})  # fmt: skip
    grid = np.geomspace(0.05, 20.0, 200_001)
    sd = NOISE / np.sqrt(DRAWS)
    for k in range(10):
        rng = np.random.default_rng(500 + k)
        truth = float(log_priors.sample(rng, 1)[0, 0])
        observed = np.array([truth + sd * rng.standard_normal()])
        density = stats.norm.pdf(observed[0], grid, sd) / grid  # likelihood x prior
        cdf = np.cumsum(density * np.gradient(grid))
        cdf /= cdf[-1]
        exact = [np.interp(q, cdf, grid) for q in (0.05, 0.5, 0.95)]
        settings = smc.Settings(particles=400, populations=8, root_seed=k)
        simulate = vectorised(k)
        last = list(smc.calibrate(settings, log_priors, observed, simulate))[-1]
        low, high = credible_interval(last, 0.9)[0]
        median = smc.weighted_quantile(last.points[:, 0], last.weights, 0.5)
        width = exact[2] - exact[0]
        assert abs(median - exact[1]) < 0.15 * width, (k, median, exact)
        # the last epsilon's blur widens the interval: by 0.41 of its width at the prior's edge
        assert abs(low - exact[0]) < 0.5 * width and abs(high - exact[2]) < 0.5 * width
        assert 1 / (last.weights**2).sum() > 0.5 * len(last.weights)


def test_a_statistic_the_model_cannot_move_does_not_drown_the_others():
    """The second statistic sits at 0 +- 0.001 whatever the parameters, 3 away from the data;
    its median absolute deviation alone would make it the whole distance, and mu_1 would stay
    at its prior. With the data's standard error of it as the scale's floor (0.5, as
    ``spec.standard_errors`` reads a 90% interval), mu_1 is estimated."""
    one = priors.parse(GAUSS, {"shock.mu_1": NORMAL})
    observed = np.array([0.5, 3.0])

    def simulate(population: int, batch: int, points: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng([7, population, batch])
        noise = rng.standard_normal((len(points), 2)) * [NOISE / np.sqrt(DRAWS), 1e-3]
        return np.column_stack([points[:, 0], np.zeros(len(points))]) + noise

    sd = {}
    for floors in ((), (0.0, 0.5)):
        settings = smc.Settings(particles=300, populations=5, root_seed=1, scale_floors=floors)
        last = list(smc.calibrate(settings, one, observed, simulate))[-1]
        mean = np.average(last.points[:, 0], weights=last.weights)
        sd[floors] = np.sqrt(np.average((last.points[:, 0] - mean) ** 2, weights=last.weights))
    exact_sd = exact_posterior(0.0, 1.0, 0.5, DRAWS, NOISE)[1]
    assert sd[()] > 2 * exact_sd and sd[(0.0, 0.5)] < 1.5 * exact_sd, sd
    intervals = {"a": (0.78, 0.70, float("nan")), "b": (1.0, 0.5, 2.0), "c": (1.0, np.nan, np.nan)}
    errors = spec_standard_errors(intervals, ("a", "b", "c"))
    assert errors == pytest.approx((0.08 / 1.6449, 0.75 / 1.6449, 0.0), rel=1e-4)


def in_process(base, model, statistics=("mean_1", "mean_2")):
    """The engine's numbers without the engine: each point's seed from the engine's own plan,
    the model run in this process."""

    def simulate(population: int, batch: int, points: np.ndarray) -> np.ndarray:
        from segmark.pipeline.calibration.engine import batch_config

        cfg = batch_config(base, Path("unused"), ("shock.mu_1", "shock.mu_2"), points, "x")
        fresh = population == predictive.POPULATION  # the engine's replicate 1
        cfg.sweep.replicates = 1 + fresh
        rows = plan_runs(cfg, model)[1].rows().iloc[1 if fresh else 0 :: 1 + fresh]
        out = [
            model.simulate(params(model, row), int(row["seed"])) for row in rows.to_dict("records")
        ]
        return pd.DataFrame(out)[list(statistics)].to_numpy()

    return simulate


SPEC = dict(priors=PRIORS, targets={"mean_1": 0.4, "mean_2": -0.3}, particles=60, populations=3)


def test_calibration_through_the_engine_matches_in_process_runs_and_resumes(tmp_path, client):
    """Every simulation goes through sweeps into the calibration's dataset; the posterior is
    the one the same seeds give in process; a calibration stopped after a population resumes
    to the same posterior, bit for bit, without rerunning what was stored."""
    base = make_config("model=gauss", f"storage.root={tmp_path / 'a'}", "sweep.root_seed=5")
    directory, pops = run(base, CalibrationSpec(name="toy", **SPEC), GAUSS, client, **QUIET)
    expected = pq_frame(directory)
    stored = pd.read_parquet(directory / "runs" / "summary")
    assert len(stored) == sum(p.simulations for p in pops) + SPEC["particles"]  # + predictive
    assert stored.run_id.is_unique

    other = make_config("model=gauss", f"storage.root={tmp_path / 'b'}", "sweep.root_seed=5")
    _, alone = run(
        other,
        CalibrationSpec(name="toy", **SPEC),
        GAUSS,
        simulate=in_process(other, GAUSS),
        **QUIET,
    )
    for a, b in zip(pops, alone, strict=True):
        np.testing.assert_array_equal(a.points, b.points)
        np.testing.assert_array_equal(a.weights, b.weights)

    # a crash after population 1: keep its posterior, lose population 2
    first = posterior.read(
        directory, ("shock_mu_1", "shock_mu_2"), ("mean_1", "mean_2"), _identity(base)
    )
    posterior.write(
        directory,
        list(first[:2]),
        ("shock_mu_1", "shock_mu_2"),
        ("mean_1", "mean_2"),
        _identity(base),
    )
    lines = []
    run(base, CalibrationSpec(name="toy", **SPEC), GAUSS, client, echo=lines.append)
    assert lines[0].startswith("resuming toy: 2 of 3 populations stored")
    pd.testing.assert_frame_equal(pq_frame(directory), expected)
    again = pd.read_parquet(directory / "runs" / "summary")
    assert len(again) == len(stored), "a resumed population ran stored runs again"


def _identity(base):
    spec = CalibrationSpec(name="toy", **SPEC)
    return identity(spec, check(spec, GAUSS, base.sweep.root_seed), GAUSS, base.sweep.root_seed)


def pq_frame(directory: Path) -> pd.DataFrame:
    return pd.read_parquet(directory / posterior.FILE)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"priors": {"shock.nope": NORMAL}}, "calibration.priors.shock.nope: gauss has no"),
        ({"priors": {"model.draws": NORMAL}}, "only float parameters"),
        ({"priors": {"shock.mu_1": {"dist": "uniform", "low": 1, "high": 1}}}, "low < high"),
        ({"priors": {"shock.mu_1": {"dist": "norm", "loc": 0, "scale": 60}}}, "outside the"),
        ({"priors": {"shock.mu_1": {"dist": "nonsense"}}}, "not a continuous scipy.stats"),
        ({"targets": {"mean_9": 1.0}}, "calibration.targets.mean_9: gauss has no"),
        ({"targets": {"mean_1": float("nan")}}, "calibration.targets.mean_1 = nan"),
        ({"particles": 1}, "calibration.particles = 1"),
        ({"quantile": 1.0}, "calibration.quantile = 1.0"),
        ({"data": "survey", "targets": {}}, "calibration.data = 'survey': gauss declares no"),
        ({"statistics": ["mean_1"]}, "calibration.statistics needs calibration.data"),
    ],
)
def test_bad_specs_are_refused_naming_the_key(change, message):
    spec = CalibrationSpec(**{**SPEC, **change})
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        check(spec, GAUSS)


def test_a_stored_calibration_with_other_settings_is_not_resumed(tmp_path):
    base = make_config("model=gauss", f"storage.root={tmp_path}")
    run(base, CalibrationSpec(name="toy", **SPEC), GAUSS, simulate=in_process(base, GAUSS), **QUIET)
    changed = CalibrationSpec(name="toy", **{**SPEC, "targets": {"mean_1": 0.0, "mean_2": 0.0}})
    with pytest.raises(ConfigError, match="other priors, targets or settings"):
        run(base, changed, GAUSS, simulate=in_process(base, GAUSS), **QUIET)


def test_prior_draws_stay_inside_the_range_and_densities_vanish_outside():
    bounded = priors.parse(GAUSS, {"shock.mu_1": {"dist": "uniform", "low": -1, "high": 2}})
    draws = bounded.sample(np.random.default_rng(0), 1000)
    assert draws.min() >= -1 and draws.max() <= 2
    assert np.isneginf(bounded.logpdf(np.array([[2.5]])))[0]
    assert calibrate is smc.calibrate


def test_the_report_names_a_parameter_the_data_does_not_identify(tmp_path):
    """Fitting mean_1 alone leaves mu_2 at its prior: the report says so; mu_1 is identified,
    and the fresh predictive runs put the data inside their 90% interval."""
    base = make_config("model=gauss", f"storage.root={tmp_path}")
    spec = CalibrationSpec(name="half", priors=PRIORS, targets={"mean_1": 0.4}, particles=150,
                           populations=4)  # fmt: skip
    simulate = in_process(base, GAUSS, ("mean_1",))
    directory, _ = run(base, spec, GAUSS, simulate=simulate, **QUIET)
    cal = report.read(directory)
    table = report.parameters(cal, GAUSS).set_index("parameter")
    assert table.loc["shock.mu_1", "identified"] == "yes"
    assert table.loc["shock.mu_2", "identified"] == "no", table
    check = report.predictive_check(cal)
    assert list(check.statistic) == ["mean_1"] and check.inside.tolist() == ["yes"]
    path = report.write(directory, GAUSS)
    text = path.read_text()
    assert "Not identified by the data" in text and "shock.mu_2." in text
    for figure in ("marginals", "pairs", "progress", "predictive"):
        assert (path.parent / f"{figure}.png").stat().st_size > 5_000


def test_a_calibration_that_cannot_accept_enough_stops_and_says_why(tmp_path):
    """An observed value the model cannot reach: population 1 would need more than
    particles / min_acceptance proposals; the calibration keeps population 0 and says so."""
    base = make_config("model=gauss", f"storage.root={tmp_path}")
    spec = CalibrationSpec(name="far", priors=PRIORS, targets={"mean_1": 0.0, "mean_2": 0.0},
                           particles=50, populations=3, quantile=0.01, min_acceptance=0.5,
                           predictive=False)  # fmt: skip
    lines = []
    _, pops = run(base, spec, GAUSS, simulate=in_process(base, GAUSS), echo=lines.append)
    assert len(pops) == 1
    assert lines[-1].startswith("stopped before population 1: it would accept fewer than 0.5")

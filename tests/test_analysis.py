"""The analysis estimators against data with known answers: a logistic threshold recovered
inside its bootstrap interval at the stated rate, Sobol' indices of the Ishigami function,
Morris effects of a known function; incomplete designs refused; a real sweep analysed."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_config

from segmark.pipeline.analysis.data import AnalysisError, Dataset, load
from segmark.pipeline.analysis.phase import contour_points, phase_diagram
from segmark.pipeline.analysis.sensitivity import (
    IncompleteDesign,
    morris_from_outcomes,
    sobol_from_outcomes,
    sobol_indices,
)
from segmark.pipeline.analysis.tipping import (
    estimate,
    first_crossing,
    fit_logistic,
    tipping_threshold,
    tipping_thresholds,
)
from segmark.pipeline.driver import run_sweep

AXIS = "policy.permit_strictness"
COLUMN = "policy_permit_strictness"
NK_STATE = {"state": "integrated", "order": "integration_index"}  # the nk model's


def synthetic(rng, x0=0.43, width=0.2, reps=20, values=11, shift_sd=0.0) -> pd.DataFrame:
    """Runs with P(integrated | x) a falling logistic of midpoint x0 and 10-90% width; with
    shift_sd, each replicate's threshold is shifted (correlated runs, as common random numbers
    make them)."""
    xs = np.linspace(0, 1, values)
    slope = 2 * np.log(9) / width
    rows = []
    for r in range(reps):
        shift = rng.normal(0, shift_sd) if shift_sd else 0.0
        for x in xs:
            p = 1 / (1 + np.exp(np.clip(slope * (x - x0 - shift), -500, 500)))
            rows.append((x, r, bool(rng.random() < p), rng.random(), "ok", r))
    return pd.DataFrame(
        rows,
        columns=[COLUMN, "replicate", "integrated", "integration_index", "status", "seed"],
    )


def test_firth_logistic_recovers_midpoint_and_stays_finite_under_separation() -> None:
    x = np.linspace(0, 1, 11)
    n = np.full(11, 1000.0)
    k = np.round(n / (1 + np.exp(20 * (x - 0.3))))
    x0, slope = fit_logistic(x, k, n)
    assert x0[0] == pytest.approx(0.3, abs=0.005) and slope[0] == pytest.approx(-20, rel=0.05)
    step = np.where(x < 0.35, 10.0, 0.0)  # perfectly separated between 0.3 and 0.4
    x0, slope = fit_logistic(x, step, np.full(11, 10.0))
    assert 0.3 < x0[0] < 0.4 and np.isfinite(slope[0]) and slope[0] < 0


def test_first_crossing_interpolates_and_reports_none() -> None:
    x = np.array([0.0, 0.5, 1.0])
    p = np.array([[1.0, 0.8, 0.2], [1.0, 0.5, 0.0], [1.0, 0.9, 0.6]])
    got = first_crossing(x, p)
    assert got[0] == pytest.approx(0.75) and got[1] == 0.5 and np.isnan(got[2])


def test_threshold_interval_covers_the_true_threshold_at_its_nominal_rate() -> None:
    """100 synthetic sweeps: the 95% bootstrap interval of the logistic midpoint holds the
    true threshold in 86-100 of them (binomial(100, 0.95) falls below 86 with p < 1e-4), and
    the intervals are narrow (so covering is not trivial); the width is recovered."""
    rng = np.random.default_rng(7)
    covered, sizes, widths = 0, [], []
    for i in range(100):
        t = estimate(synthetic(rng), AXIS, **NK_STATE, n_boot=400, seed=i, crn=False)
        covered += t.crossing_ci[0] <= 0.43 <= t.crossing_ci[1]
        sizes.append(t.ci_width)
        widths.append(t.width)
    assert covered >= 86, covered
    assert np.median(sizes) < 0.1
    assert np.median(widths) == pytest.approx(0.2, rel=0.2)


def test_common_random_numbers_resample_whole_replicates() -> None:
    """Replicates with their own threshold shift: resampling them jointly across points gives
    an interval that reflects the between-replicate spread (wider than independent
    resampling within points would), and covers the mean threshold."""
    rng = np.random.default_rng(3)
    runs = synthetic(rng, reps=30, width=0.02, values=41, shift_sd=0.05)
    joint = estimate(runs, AXIS, **NK_STATE, n_boot=1000, crn=True)
    within = estimate(runs, AXIS, **NK_STATE, n_boot=1000, crn=False)
    assert "jointly" in joint.resampling and "within" in within.resampling
    assert joint.ci_width > within.ci_width
    assert joint.crossing_ci[0] <= 0.43 <= joint.crossing_ci[1]


def test_separated_runs_give_the_grid_cell_as_interval() -> None:
    runs = synthetic(np.random.default_rng(1), width=1e-4, x0=0.45, values=11)
    t = estimate(runs, AXIS, **NK_STATE, n_boot=200)
    assert t.crossing_ci[0] <= 0.4 and t.crossing_ci[1] >= 0.5
    assert any("narrower than the grid spacing" in note for note in t.notes)


def test_no_crossing_in_range_is_said_not_invented() -> None:
    runs = synthetic(np.random.default_rng(1), x0=2.0)
    t = estimate(runs, AXIS, **NK_STATE, n_boot=100)
    assert not t.found and np.isnan(t.crossing_ci[0])
    assert "outside the swept range" in t.describe()


def test_failed_runs_are_counted_and_left_out() -> None:
    runs = synthetic(np.random.default_rng(2), reps=10)
    runs["integrated"] = runs["integrated"].astype(object)
    runs.loc[:4, "status"] = "failed"
    runs.loc[:4, "integrated"] = None
    runs.loc[:4, "integration_index"] = np.nan
    runs["run_id"] = [f"{i:016x}" for i in range(len(runs))]
    t = tipping_threshold(runs, AXIS, n_boot=100)
    assert t.n_failed == 5 and t.n_runs == len(runs) - 5
    assert "5 failed runs left out." in t.notes
    assert t.curve["runs"].sum() == len(runs) - 5


def test_unknown_or_unswept_axis_is_refused() -> None:
    runs = synthetic(np.random.default_rng(2), reps=3)
    with pytest.raises(AnalysisError, match="not a parameter"):
        tipping_threshold(runs, "policy.permits", n_boot=10)
    runs["policy_crackdown"] = 0.0
    with pytest.raises(AnalysisError, match="not swept"):
        tipping_threshold(runs, "policy.crackdown", n_boot=10)


def test_sobol_indices_of_the_ishigami_function() -> None:
    """Analytic: S1 = (0.314, 0.442, 0), ST = (0.558, 0.442, 0.244)."""
    from SALib.sample import sobol as saltelli

    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0, 1]] * 3}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unit = saltelli.sample(problem, 1024, calc_second_order=True, seed=3)
    x = -np.pi + 2 * np.pi * unit
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    t = sobol_from_outcomes(["a", "b", "c"], y, "ishigami").table
    for key, truth in (("S1", [0.314, 0.442, 0.0]), ("ST", [0.558, 0.442, 0.244])):
        assert np.all(t[f"{key}_low"] <= np.array(truth) + 0.01), key
        assert np.all(t[f"{key}_high"] >= np.array(truth) - 0.01), key
        assert t[key].to_numpy() == pytest.approx(truth, abs=0.05)


def test_morris_effects_of_a_known_function() -> None:
    """y = 3 a + c^2: mu*(a) = 3 with sigma 0 (linear), b has no effect, c has sigma > 0."""
    from SALib.sample import morris

    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0, 1]] * 3}
    unit = morris.sample(problem, 40, num_levels=4, seed=1)
    y = 3 * unit[:, 0] + unit[:, 2] ** 2
    t = morris_from_outcomes(["a", "b", "c"], unit, y, "y").table.set_index("parameter")
    assert t.loc["a", "mu_star"] == pytest.approx(3.0) and t.loc["a", "sigma"] < 1e-9
    assert t.loc["b", "mu_star"] == 0.0
    assert t.loc["c", "sigma_low"] > 0 and t.loc["c", "sigma_low"] <= t.loc["c", "sigma"]
    assert t.loc["c", "sigma"] <= t.loc["c", "sigma_high"]


@pytest.fixture(scope="module")
def saltelli_dataset(tmp_path_factory: pytest.TempPathFactory, client) -> Path:
    cfg = make_config(
        "sweep=sensitivity",
        "+preset=small",
        "model.n_steps=52",
        "sweep.samples=4",
        "sweep.replicates=2",
        "~sweep.parameters.policy.crackdown",
        "~sweep.parameters.shock",
        f"storage.root={tmp_path_factory.mktemp('saltelli')}",
        "storage.dataset=s",
        "progress=false",
    )
    return run_sweep(cfg, client=client, echo=lambda _: None).directory


def test_sobol_from_a_real_saltelli_sweep_and_incomplete_designs_refused(
    saltelli_dataset: Path,
) -> None:
    ds = load(saltelli_dataset)
    result = sobol_indices(ds)
    assert result.parameters == ["policy.permit_strictness", "policy.phone_penetration"]
    assert result.n_points == 4 * (2 * 2 + 2) and result.replicates == 2
    assert np.isfinite(result.table["ST"]).all()
    failed = ds.summary.copy()
    failed["integrated"] = failed["integrated"].astype(object)
    failed.loc[3, ["status", "integrated", "integration_index"]] = ["failed", None, np.nan]
    broken = Dataset(ds.path, failed, ds.model, ds.manifest, ds.config)
    message = r"of 24 design points have failed runs \(1 failed runs in all\)"
    with pytest.raises(IncompleteDesign, match=message):
        sobol_indices(broken)
    missing = Dataset(ds.path, ds.summary.drop(index=[0, 1]), ds.model, ds.manifest, ds.config)
    with pytest.raises(IncompleteDesign, match="lack stored runs"):
        sobol_indices(missing)
    with pytest.raises(AnalysisError, match="needs a morris design"):
        from segmark.pipeline.analysis.sensitivity import morris_effects

        morris_effects(ds)


def test_phase_diagram_and_conditional_thresholds_on_a_grid() -> None:
    """Two axes, the threshold along x moving with y: one threshold per row, each near the
    truth, and the 0.5 contour through the same places."""
    rng = np.random.default_rng(5)
    frames = []
    for y, x0 in ((0.0, 0.3), (1.0, 0.6)):
        runs = synthetic(rng, x0=x0, width=0.15, reps=30)
        runs["policy_trader_capital"] = y
        frames.append(runs)
    runs = pd.concat(frames, ignore_index=True)
    runs["run_id"] = [f"{i:016x}" for i in range(len(runs))]
    rows = tipping_thresholds(runs, AXIS, n_boot=300)
    assert [r.where for r in rows] == [
        {"policy.trader_capital": 0.0},
        {"policy.trader_capital": 1.0},
    ]
    for r, truth in zip(rows, (0.3, 0.6), strict=True):
        assert r.crossing_ci[0] - 0.02 <= truth <= r.crossing_ci[1] + 0.02
    pooled = tipping_threshold(runs, AXIS, n_boot=100)
    assert "pooled over policy.trader_capital." in pooled.notes
    diagram = phase_diagram(runs, AXIS, "policy.trader_capital", n_boot=100)
    assert diagram.mean.shape == (2, 11)
    line = contour_points(diagram)
    assert line[:, 0] == pytest.approx([0.3, 0.6], abs=0.07)
    with pytest.raises(AnalysisError, match="not swept"):
        phase_diagram(runs, AXIS, "policy.crackdown")

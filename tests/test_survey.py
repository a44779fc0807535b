"""The survey moments (models/nk/survey.py): the packaged Daily NK data, the moments the model is
calibrated against, the AR(1) half-life estimator, sampling a weekly series like the survey and
the block bootstrap."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from segmark.models.nk import survey

ROOT = Path(__file__).parents[1]
PACKAGED = ROOT / "kernels" / "data" / survey.DATA
SHARED = [p / "shared" / "data" / "calibration" / survey.DATA for p in (Path("/work"), ROOT.parent)]


@pytest.fixture(scope="module")
def data() -> survey.Survey:
    return survey.load()


def ou_gap(days: np.ndarray, halflife: float, mu: float, seed: int) -> np.ndarray:
    """An Ornstein-Uhlenbeck gap sampled exactly at ``days`` (stationary sd 0.05)."""
    rng = np.random.default_rng(seed)
    rho = 0.5 ** (np.diff(days) / halflife)
    gap = np.empty(len(days))
    gap[0] = mu + 0.05 * rng.standard_normal()
    for t, r in enumerate(rho):
        gap[t + 1] = mu + r * (gap[t] - mu) + 0.05 * np.sqrt(1 - r**2) * rng.standard_normal()
    return gap


def repeated_survey_days(data: survey.Survey, times: int) -> np.ndarray:
    """The survey's irregular spacing, ``times`` over end to end."""
    step = np.diff(data.days)
    lags = np.concatenate([np.tile(np.append(step, step.mean()), times - 1), step])
    return np.concatenate([[0.0], np.cumsum(lags)])


def test_packaged_file_is_the_shared_one() -> None:
    shared = next((p for p in SHARED if p.exists()), None)
    if shared is None:
        pytest.skip("no shared data folder here")
    assert PACKAGED.read_bytes() == shared.read_bytes()


def test_load_gives_103_dates_of_three_hubs_in_2013_2019(data: survey.Survey) -> None:
    assert data.rice.shape == data.usd.shape == (103, 3)
    assert data.dates[0] == survey.START and data.days[0] == 0
    assert np.all(np.diff(data.days) > 0)
    assert np.array_equal(data.days, (data.dates - data.dates[0]).astype(float))
    years = data.dates.astype("datetime64[Y]").astype(int) + 1970
    assert years.min() == 2013 and years.max() == 2019
    assert data.rice[0].tolist() == [6700, 7000, 6600]  # 2013-01-09, columns in HUBS order
    missing = np.isnan(data.usd).any(axis=1)
    assert data.dates[missing].tolist() == [np.datetime64("2019-03-12", "D").item()]


def test_survey_moments_are_those_of_the_brief(data: survey.Survey) -> None:
    m = survey.moments(data.days, data.rice, data.usd)
    assert 0.01 < m["hub_cv"] < 0.06
    assert 0 < m["gap_hyesan"] < 0.1 and abs(m["gap_sinuiju"]) < 0.05
    assert 0.4 < m["within5_ph"] < 0.9 and m["within5_ps"] > m["within5_ph"]
    for pair in survey.PAIRS:
        assert 3 < m[f"halflife_{pair}"] < 60
    assert m["usd_cv"] < m["hub_cv"] / 2
    assert 4000 < m["rice_kpw"] < 6000 and 7000 < m["kpw_per_usd"] < 9000
    assert m["rice_usd"] == pytest.approx(m["rice_kpw"] / m["kpw_per_usd"], rel=0.05)
    assert np.isfinite(m["lean_season_rise"])
    assert "usd_cv" not in survey.moments(data.days, data.rice)


def test_halflife_recovers_a_known_ou_process_at_the_survey_spacing(data) -> None:
    days = repeated_survey_days(data, 20)
    estimates = [survey.halflife(days, ou_gap(days, 17.0, 0.04, seed)) for seed in range(3)]
    assert np.mean(estimates) == pytest.approx(17.0, rel=0.1)  # sd of one: ~5%


def test_halflife_edges() -> None:
    days = np.arange(60) * 14.0
    assert survey.halflife(days, 0.001 * days) == survey.HALFLIFE_CAP  # a trend never reverts
    alternating = np.where(np.arange(60) % 2, 0.05, -0.05)  # overshoots: no positive rho fits
    assert survey.halflife(days, alternating) == survey.HALFLIFE_FLOOR
    assert np.isnan(survey.halflife(days[:3], alternating[:3]))  # 2 pairs only
    with_nan = np.where(np.arange(60) == 30, np.nan, 0.001 * days)
    assert survey.halflife(days, with_nan) == survey.HALFLIFE_CAP  # pairs with a NaN left out


def test_segments_keep_pairs_apart(data: survey.Survey) -> None:
    days = repeated_survey_days(data, 3)
    gap = ou_gap(days, 17.0, 0.0, seed=4)
    n = len(days)
    alone = survey.halflife(days, gap)
    # the series twice, glued 14 days apart: the value jumps from its end back to its start
    glued_days = np.concatenate([days, days + days[-1] + 14.0])
    glued_gap = np.concatenate([gap, gap])
    segments = [np.arange(n), np.arange(n, 2 * n)]
    # within the segments each pair counts twice: the same least squares minimum
    assert survey.halflife(glued_days, glued_gap, segments) == pytest.approx(alone, rel=1e-9)
    # without them the jump at the seam is one more pair
    assert survey.halflife(glued_days, glued_gap) != pytest.approx(alone, rel=1e-6)
    assert survey.halflife(days, gap, [np.arange(n)]) == alone


def test_sample_like_survey_reads_the_nearest_weeks() -> None:
    steps = np.arange(1, 21)
    values = steps[:, None] * np.array([1, 10, 100])
    # day 13 is 1.86 weeks after the start, day 30 4.29, day 45 6.43
    days, rows = survey.sample_like_survey(steps, values, np.array([0, 13, 30, 45]), 3)
    assert days.tolist() == [0.0, 14.0, 28.0, 42.0]
    assert rows[:, 0].tolist() == [3, 5, 7, 9] and rows[1].tolist() == [5, 50, 500]
    with pytest.raises(ValueError, match="too short"):
        survey.sample_like_survey(steps, values, np.array([0, 13, 200]), 3)
    with pytest.raises(ValueError, match="too short"):
        survey.sample_like_survey(steps, values, np.array([0, 13]), 0)


def test_model_series_sampled_like_the_survey_gives_its_moments(data: survey.Survey) -> None:
    steps = np.arange(1, 400)
    rice = 5000 * np.exp(0.02 * np.random.default_rng(2).standard_normal((len(steps), 3)))
    days, rows = survey.sample_like_survey(steps, rice, data.days, start_step=10)
    assert len(days) == len(data.days) and np.max(np.abs(days - data.days)) <= 3.5
    m = survey.moments(days, rows)
    assert 0.01 < m["hub_cv"] < 0.03 and m["halflife_ps"] < 7  # white noise: no memory


def test_bootstrap_intervals_are_deterministic_and_hold_the_estimate(data) -> None:
    intervals = survey.bootstrap(data, n=300, seed=5)
    assert intervals == survey.bootstrap(data, n=300, seed=5)
    assert intervals != survey.bootstrap(data, n=300, seed=6)
    assert intervals.keys() == survey.moments(data.days, data.rice, data.usd).keys()
    for name, (estimate, lower, upper) in intervals.items():
        assert lower < upper, name
        assert lower <= estimate <= upper, name
    frame = survey.table(intervals)
    assert frame.columns.tolist() == ["estimate", "lower", "upper"] and len(frame) == 14

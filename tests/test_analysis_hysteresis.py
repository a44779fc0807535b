"""Ramps within a run (model.ramp_*), the hysteresis loop and bistability estimators against
known answers, early-warning tests on series with and without rising memory, and the report
and notebook on a small ramp sweep."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import make_config

from segmark.models.nk import MODEL as NK
from segmark.models.nk.scenarios import ramp_events
from segmark.models.ramps import Ramp
from segmark.models.ramps import values as ramp_values
from segmark.pipeline import sweep as sweeps
from segmark.pipeline.analysis.data import load
from segmark.pipeline.analysis.early_warnings import early_warnings, kendall_tau, warning_test
from segmark.pipeline.analysis.hysteresis import bistability, loop_area_of, loops
from segmark.pipeline.analysis.report import write_report
from segmark.pipeline.config import ConfigError
from segmark.pipeline.driver import run_sweep
from segmark.pipeline.run import run_one


def test_ramp_values_follow_the_kernel_event_rule() -> None:
    t = np.arange(12)
    x = ramp_values("cycle", 0.0, 1.0, 2, 4, t)
    assert x.tolist() == [0, 0, 0.25, 0.5, 0.75, 1.0, 0.75, 0.5, 0.25, 0.0, 0, 0]
    assert ramp_values("step", 0.2, 0.7, 3, 1, t[:5]).tolist() == [0.2, 0.2, 0.2, 0.7, 0.7]
    events = ramp_events(Ramp("policy.crackdown", "cycle", 0.0, 1.0, 2, 4))
    assert events[:, 0].tolist() == [0, 2, 6] and events[:, 3].tolist() == [1, 4, 4]


def test_a_step_at_week_zero_is_the_plain_run_and_a_cycle_carries_state() -> None:
    cfg = make_config("+preset=small", "model.n_steps=60", "policy.permit_strictness=0.25")
    row = sweeps.plan(cfg, NK)[1].rows().iloc[0].to_dict()
    row["policy_permit_strictness"] = 0.25  # the default sweep's axis set it
    plain = run_one(NK, row)
    step = dict(
        row,
        policy_permit_strictness=0.5,
        model_ramp_parameter="policy.permit_strictness",
        model_ramp_shape="step",
        model_ramp_from=0.5,
        model_ramp_to=0.25,
        model_ramp_hold=0,
    )
    assert np.array_equal(run_one(NK, step).outcomes, plain.outcomes)
    cycle = dict(
        step,
        model_ramp_shape="cycle",
        model_ramp_from=0.25,
        model_ramp_to=1.0,
        model_ramp_hold=5,
        model_ramp_weeks=20,
    )
    assert not np.array_equal(run_one(NK, cycle).series, plain.series)


def test_ramps_are_checked_before_any_run() -> None:
    base = ("+preset=small", "model.ramp_parameter=policy.permit_strictness")
    with pytest.raises(ConfigError, match=r"exceeds model\.n_steps"):
        sweeps.plan(make_config(*base, "model.ramp_hold=50", "model.ramp_weeks=40"), NK)
    with pytest.raises(ConfigError, match=r"model.ramp_to \(for policy.permit_strictness\)"):
        sweeps.plan(make_config(*base, "model.ramp_to=2.0"), NK)
    with pytest.raises(ConfigError, match="also sets it"):
        sweeps.plan(
            make_config(
                "model.ramp_parameter=policy.crackdown",
                "model.ramp_weeks=10",
                "model.scenario=crackdown_2009",
            ),
            NK,
        )


def test_loop_area_of_a_known_loop() -> None:
    """Outbound the state switches at 0.6, on return at 0.4: the area is 0.2 (height 1)."""
    x_out = np.linspace(0, 1, 401)
    x = np.concatenate([x_out, x_out[::-1]])
    m = np.concatenate([(x_out < 0.6).astype(float), (x_out[::-1] < 0.4).astype(float)])
    out = np.arange(x.size) < x_out.size
    _, _, _, area = loop_area_of(x, m, out, ~out, 0.0, 1.0, bins=50)
    assert area == pytest.approx(0.2, abs=0.01)
    _, _, _, none = loop_area_of(x, np.concatenate([m[:401], m[:401][::-1]]), out, ~out, 0, 1)
    assert none == pytest.approx(0.0, abs=1e-12)


def test_kendall_tau_and_early_warnings_fire_on_rising_memory_not_on_white_noise() -> None:
    assert kendall_tau(np.arange(10.0))[0] == 1.0
    assert kendall_tau(np.arange(10.0)[::-1])[0] == -1.0
    rng = np.random.default_rng(4)
    fired_rising, fired_noise = 0, 0
    for _ in range(20):
        n = 200
        phi = np.linspace(0.0, 0.95, n)  # critical slowing down: memory and variance rise
        y = np.zeros(n)
        for t in range(1, n):
            y[t] = phi[t] * y[t - 1] + rng.normal()
        fired_rising += warning_test(y, rng, 100)["autocorrelation"][1] < 0.05
        fired_noise += warning_test(rng.normal(size=n), rng, 100)["autocorrelation"][1] < 0.05
    assert fired_rising >= 14 and fired_noise <= 4


def test_spatial_correlation_indicator_fires_on_a_rising_series_not_on_a_stationary_one() -> None:
    rng = np.random.default_rng(9)
    fired_rising, fired_flat = 0, 0
    n = 200
    for _ in range(20):
        noise = np.zeros(n)
        for t in range(1, n):  # weekly Moran's I has memory: AR(1) noise around its level
            noise[t] = 0.5 * noise[t - 1] + rng.normal(0.0, 0.05)
        dispersion = rng.normal(size=n)
        rising = warning_test(dispersion, rng, 100, spatial=0.2 + np.linspace(0, 0.3, n) + noise)
        flat = warning_test(dispersion, rng, 100, spatial=0.2 + noise)
        fired_rising += rising["spatial"][1] < 0.05
        fired_flat += flat["spatial"][1] < 0.05
        assert set(rising) == {"variance", "autocorrelation", "spatial"}
    assert fired_rising >= 18 and fired_flat <= 4


@pytest.fixture(scope="session")
def ramp_dataset(tmp_path_factory: pytest.TempPathFactory, client) -> Path:
    """sweep=ramp shrunk: the small model, ramps of 60 weeks a leg, 3 replicates."""
    cfg = make_config(
        "sweep=ramp",
        "+preset=small",
        "model.n_steps=160",
        "model.sample_every=1",
        "model.ramp_parameter=policy.permit_strictness",
        "model.ramp_hold=20",
        "model.ramp_weeks=60",
        "sweep.replicates=3",
        f"storage.root={tmp_path_factory.mktemp('ramp')}",
        "storage.dataset=ramp",
        "progress=false",
    )
    return run_sweep(cfg, client=client, echo=lambda _: None).directory


def test_report_on_a_ramp_sweep(ramp_dataset: Path) -> None:
    ds = load(ramp_dataset)
    report = write_report(ds, n_boot=100)
    numbers = json.loads(report.with_name("report.json").read_text())
    assert "hysteresis_loops.png" in numbers["figures"]
    assert [lp["to"] for lp in numbers["hysteresis"]["loops"]] == [0.02, 0.15]
    api = loops(ds)
    assert [lp["area"] for lp in numbers["hysteresis"]["loops"]] == pytest.approx(
        [lp.area for lp in api]
    )
    table = bistability(ds)
    assert sorted(table["x"]) == [0.03, 0.04, 0.05, 0.06, 0.07] and (table["runs"] == 6).all()
    text = report.read_text()
    assert numbers["hysteresis"]["verdict"] in text and "## Early-warning signals" in text
    ews = early_warnings(ds)
    assert len(ews.table) == 6
    tested = ews.table.dropna(subset=["variance_p"])
    assert tested["spatial_p"].notna().all() and tested["spatial_tau"].between(-1, 1).all()

"""segmark-report on real sweeps (the smoke sweep, a two-parameter grid, a Morris design) and on
a synthetic dataset with a known threshold: every figure written, the numbers those of the API."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import make_config

from segmark.models.nk import MODEL as NK
from segmark.pipeline.analysis.data import load
from segmark.pipeline.analysis.phase import phase_diagram
from segmark.pipeline.analysis.report import write_report
from segmark.pipeline.analysis.sensitivity import morris_effects
from segmark.pipeline.analysis.tipping import fmt, tipping_threshold
from segmark.pipeline.driver import run_sweep
from segmark.pipeline.store import schemas

AXIS = "policy.permit_strictness"
REPORT = str(Path(sys.executable).with_name("segmark-report"))


def small_sweep(root: Path, name: str, client, *overrides: str) -> Path:
    small = [] if "sweep=smoke" in overrides else ["+preset=small"]  # smoke takes it itself
    cfg = make_config(
        *small,
        "model.n_steps=52",
        f"storage.root={root}",
        f"storage.dataset={name}",
        "progress=false",
        *overrides,
    )
    return run_sweep(cfg, client=client, echo=lambda _: None).directory


@pytest.fixture(scope="session")
def grid2_dataset(tmp_path_factory: pytest.TempPathFactory, client) -> Path:
    """Permit strictness (5 values) x trader capital (2) x 3 replicates on the small model."""
    return small_sweep(
        tmp_path_factory.mktemp("grid2"),
        "grid2",
        client,
        "sweep=smoke",
        "sweep.axes.policy.permit_strictness=[0.0,0.02,0.04,0.1,0.3]",
        "+sweep.axes.policy.trader_capital=[0.5,2.0]",
        "sweep.replicates=3",
    )


@pytest.fixture(scope="session")
def morris_dataset(tmp_path_factory: pytest.TempPathFactory, client) -> Path:
    return small_sweep(
        tmp_path_factory.mktemp("morris"),
        "morris",
        client,
        "sweep=screening",
        "sweep.samples=4",
        "sweep.replicates=1",
        "~sweep.parameters.shock",
    )


def test_report_on_the_smoke_sweep_by_the_command(smoke_dataset: Path, tmp_path: Path) -> None:
    data = tmp_path / "smoke"
    shutil.copytree(smoke_dataset, data)
    done = subprocess.run(
        [REPORT, str(data), "--n-boot", "300"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = data / "report"
    assert done.stdout.strip().endswith(f"report: {out / 'report.md'}")
    text = (out / "report.md").read_text()
    numbers = json.loads((out / "report.json").read_text())
    assert numbers["figures"] == ["tipping_policy_permit_strictness.png", "places.png"]
    for name in numbers["figures"]:
        assert (out / name).stat().st_size > 10_000
        assert f"({name})" in text
    api = tipping_threshold(load(data), AXIS, n_boot=300, seed=0)
    reported = numbers["thresholds"][0]
    assert reported["threshold"] == pytest.approx(api.crossing)
    assert [reported["ci_low"], reported["ci_high"]] == pytest.approx(list(api.crossing_ci))
    assert api.describe() in text
    assert f"crosses 0.5 at {fmt(api.crossing)}" in text
    assert "6 runs stored (6 ok, 0 failed)" in text
    bad = subprocess.run([REPORT, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "is not a segmark dataset" in bad.stderr


def test_report_on_a_two_parameter_grid_has_thresholds_per_slice_and_phase_diagrams(
    grid2_dataset: Path,
) -> None:
    report = write_report(grid2_dataset, n_boot=200)
    text = report.read_text()
    numbers = json.loads(report.with_name("report.json").read_text())
    assert set(numbers["figures"]) == {
        "tipping_policy_permit_strictness.png",
        "places.png",
        "phase_policy_permit_strictness__policy_trader_capital__integrated.png",
        "phase_policy_permit_strictness__policy_trader_capital__integration_index.png",
    }
    for name in numbers["figures"]:
        assert report.with_name(name).stat().st_size > 10_000
    assert "Conditional on policy.trader_capital (one threshold per slice)" in text
    per_slice = [t for t in numbers["thresholds"] if "at policy.trader_capital" in t]
    assert sorted(t["at policy.trader_capital"] for t in per_slice) == [0.5, 2.0]
    diagram = phase_diagram(load(grid2_dataset), AXIS, "policy.trader_capital", n_boot=200)
    boundary = numbers["phase"][0]["boundary"]
    assert [b["threshold"] for b in boundary] == pytest.approx(
        list(diagram.boundary_table()["threshold"])
    )


def test_report_on_a_morris_design(morris_dataset: Path) -> None:
    report = write_report(morris_dataset, n_boot=100)
    numbers = json.loads(report.with_name("report.json").read_text())
    assert numbers["figures"] == ["morris_integration_index.png", "morris_integrated.png"]
    api = morris_effects(load(morris_dataset))
    got = numbers["sensitivity"][0]["table"]
    assert [row["mu_star"] for row in got] == pytest.approx(list(api.table["mu_star"]))
    assert "## Sensitivity: Morris elementary effects" in report.read_text()


def test_synthetic_dataset_with_a_known_threshold(smoke_dataset: Path, tmp_path: Path) -> None:
    """A dataset written like a sweep's, with P(integrated | x) a logistic of midpoint 0.137:
    the report's interval holds it, and says failed runs were left out."""
    template = pq.read_table(smoke_dataset / "summary").to_pandas().iloc[[0]]
    rng = np.random.default_rng(11)
    xs = np.round(np.linspace(0.0, 0.3, 13), 6)
    rows = []
    for r in range(40):
        for x in xs:
            p = 1 / (1 + np.exp((x - 0.137) / 0.02))
            row = template.iloc[0].to_dict()
            integrated = bool(rng.random() < p)
            row.update(
                run_id=f"{len(rows):016x}",
                message=None,
                replicate=r,
                seed=r,
                policy_permit_strictness=float(x),
                integrated=integrated,
                integration_index=0.7 if integrated else 0.2,
            )
            rows.append(row)
    rows[5].update(status="failed", message="ValueError: synthetic", integrated=None)
    data = tmp_path / "synthetic"
    (data / "summary").mkdir(parents=True)
    table = pa.Table.from_pylist(rows, schema=schemas(NK).summary)
    pq.write_table(table, data / "summary" / "part-0.parquet")
    shutil.copy(smoke_dataset / "manifest.json", data)
    report = write_report(data, n_boot=1000)
    numbers = json.loads(report.with_name("report.json").read_text())
    t = numbers["thresholds"][0]
    assert t["ci_low"] <= 0.137 <= t["ci_high"] and t["ci_high"] - t["ci_low"] < 0.03
    assert t["width"] == pytest.approx(2 * np.log(9) * 0.02, rel=0.35)
    text = report.read_text()
    assert "**1 failed runs are left out of every analysis below**" in text
    assert "ValueError: synthetic" in text


@pytest.fixture(scope="session")
def scenarios_dataset(tmp_path_factory: pytest.TempPathFactory, client) -> Path:
    """The six scenarios x 2 replicates on the North Korea network (they flood named units)."""
    cfg = make_config(
        "sweep=scenarios",
        "sweep.replicates=2",
        f"storage.root={tmp_path_factory.mktemp('scenarios')}",
        "storage.dataset=scenarios",
        "progress=false",
    )
    return run_sweep(cfg, client=client, echo=lambda _: None).directory


def test_report_on_the_scenarios_sweep(scenarios_dataset: Path) -> None:
    from segmark.pipeline.analysis.historical import scenario_table

    report = write_report(scenarios_dataset, n_boot=100)
    numbers = json.loads(report.with_name("report.json").read_text())
    assert numbers["figures"] == ["scenarios.png"]
    table = scenario_table(load(scenarios_dataset))
    assert len(table) == 6 and (table["runs"] == 2).all()
    assert [row["scenario"] for row in numbers["scenarios"]] == list(table["scenario"])
    assert "## Historical scenarios" in report.read_text()

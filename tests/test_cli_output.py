"""What ``segmark`` prints: progress, the dashboard, a finding, and the results path last."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from conftest import run_cli


def test_cli_prints_dashboard_finding_and_results_last(tmp_path: Path) -> None:
    done = run_cli(
        "sweep=smoke",
        f"storage.root={tmp_path}",
        "storage.dataset=printed",
        "cluster.dashboard_address=127.0.0.1:0",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout.strip().splitlines()
    assert out[0] == (
        "sweep smoke: 3 policy points x 1 shock/model points x 2 replicates = 6 runs "
        "(grid design); axes: policy.permit_strictness (3)"
    )
    assert any(line.startswith("dask dashboard: http://127.0.0.1:") for line in out)
    assert any("P(integrated national market) goes from 100% to 0%" in line for line in out)
    assert out[-1] == f"results: {tmp_path / 'printed'}"
    assert "6/6" in done.stderr  # the progress bar reached the end
    assert (tmp_path / "printed" / "tipping.png").stat().st_size > 10_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["printed"]  # no Hydra output dirs


def test_hydra_multirun_makes_one_dataset_per_variant(tmp_path: Path) -> None:
    done = run_cli(
        "-m",
        "sweep=smoke",
        "policy.crackdown=0.05,0.1",
        f"storage.root={tmp_path}/runs",
        "cluster.dashboard_address=127.0.0.1:0",
        "progress=false",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = [line.removeprefix("results: ") for line in done.stdout.splitlines()]
    datasets = [Path(line) for line in results if line.startswith(str(tmp_path))]
    assert len(datasets) == 2 and datasets[0] != datasets[1]
    costs = [set(pd.read_parquet(d / "summary")["policy_crackdown"]) for d in datasets]
    assert costs == [{0.05}, {0.1}]

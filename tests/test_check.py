"""segmark-check: a fresh sweep of an unchanged model passes against a baseline made with another
root seed (seed noise does not fail); the same sweep with a model parameter changed fails; the
committed baseline agrees with today's model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import make_config
from distributed import Client

from segmark.pipeline import check
from segmark.pipeline.driver import run_sweep

SEGMARK_CHECK = str(Path(sys.executable).with_name("segmark-check"))
COMMITTED = Path(__file__).parent / "baselines" / "check.json"
BASELINE_SEED = 1001  # as docs/CHECKS.md makes tests/baselines/check.json
BASELINE_REPLICATES = 100
CHECK_SEED = 7  # any other seed: new draws of the same model


def sweep(root: Path, name: str, *overrides: str, client: Client) -> Path:
    cfg = make_config(
        "sweep=check",
        "progress=false",
        f"storage.root={root}",
        f"storage.dataset={name}",
        *overrides,
    )
    return run_sweep(cfg, client=client, echo=lambda _: None).directory


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory, client: Client) -> dict[str, Path]:
    """The check sweep made as the baseline is (seed 1001, 100 replicates), again with another
    root seed (20 replicates), and with that seed and the permit bribe tripled."""
    root = tmp_path_factory.mktemp("check")
    return {
        "baseline": sweep(
            root,
            "baseline",
            f"sweep.root_seed={BASELINE_SEED}",
            f"sweep.replicates={BASELINE_REPLICATES}",
            client=client,
        ),
        "fresh": sweep(root, "fresh", f"sweep.root_seed={CHECK_SEED}", client=client),
        "perturbed": sweep(
            root,
            "perturbed",
            f"sweep.root_seed={CHECK_SEED}",
            "model.permit_bribe=60.0",
            client=client,
        ),
    }


def segmark_check(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SEGMARK_CHECK, *map(str, args)], capture_output=True, text=True, timeout=120
    )


def test_seed_noise_passes_and_a_changed_parameter_fails(
    datasets: dict[str, Path], tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    written = segmark_check(datasets["baseline"], "--baseline", baseline, "--write-baseline")
    assert written.returncode == 0, written.stderr
    assert "400 runs at 4 points (root seed 1001" in written.stdout

    unchanged = segmark_check(datasets["fresh"], "--baseline", baseline, "--report", tmp_path / "r")
    assert unchanged.returncode == 0, unchanged.stdout + unchanged.stderr
    assert "PASS" in unchanged.stdout.splitlines()[-1]
    result = json.loads((tmp_path / "r").read_text())
    assert result["passed"] and result["alpha"] == 0.01 and result["correction"] == "holm"
    assert len(result["tests"]) >= 40  # 4 points x (15 outcomes + failed share), less constants

    perturbed = segmark_check(datasets["perturbed"], "--baseline", baseline)
    assert perturbed.returncode == 1, perturbed.stdout + perturbed.stderr
    lines = perturbed.stdout.splitlines()
    assert lines[-1].startswith("FAIL: ") and "tests reject" in lines[-1]
    assert any("model.permit_bribe 20.0 -> 60.0" in line for line in lines)  # the note says why
    # no permits enforced, no bribe: the unpermitted point agrees, the others do not
    failing = check.compare(check.read_baseline(baseline), datasets["perturbed"]).rejected
    strictness = {t.at["policy.permit_strictness"] for t in failing}
    assert strictness and 0.0 not in strictness
    assert {"trade_share", "crossing_trade_share"} <= {t.outcome for t in failing}


def test_the_committed_baseline_agrees_with_todays_model(datasets: dict[str, Path]) -> None:
    """A model change that moves any outcome distribution fails here; refresh the baseline on
    purpose (docs/CHECKS.md) when the change is meant."""
    baseline = check.read_baseline(COMMITTED)
    made = check.summarize(datasets["baseline"])
    # made from the check sweep as the docs say: same axes and points, every other parameter
    assert baseline["axes"] == made["axes"] == ["policy.permit_strictness"]
    assert [p["at"] for p in baseline["points"]] == [p["at"] for p in made["points"]]
    assert baseline["fixed"] == made["fixed"]
    assert baseline["root_seed"] == BASELINE_SEED != make_config("sweep=check").sweep.root_seed
    assert {p["runs"] for p in baseline["points"]} == {BASELINE_REPLICATES}
    result = check.compare(baseline, datasets["fresh"])
    if not result.passed:
        pytest.fail(
            f"{check.report(result)}\nIf this change of behaviour is meant, refresh "
            f"{COMMITTED} on purpose (docs/CHECKS.md).",
            pytrace=False,
        )
    assert not result.notes  # same parameters, other seed, same model version


def test_a_baseline_needs_replicates_and_a_check_needs_the_same_sweep(
    datasets: dict[str, Path], tmp_path: Path, client: Client
) -> None:
    thin = sweep(tmp_path, "smoke", "sweep.replicates=3", client=client)
    refused = segmark_check(thin, "--baseline", tmp_path / "b.json", "--write-baseline")
    assert refused.returncode == 2
    assert "fewer than 10 runs" in refused.stderr and not (tmp_path / "b.json").exists()

    other = sweep(tmp_path, "other", "sweep.axes.policy.crackdown=[0.0,0.1]", client=client)
    with pytest.raises(check.CheckError, match=r"sweeps policy\.crackdown, which the baseline"):
        check.compare(check.read_baseline(COMMITTED), other)
    missing = segmark_check(tmp_path / "nothing-here", "--baseline", COMMITTED)
    assert missing.returncode == 2 and "not a segmark dataset" in missing.stderr


def test_holm_adjusts_step_down() -> None:
    adjusted = check.holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02])

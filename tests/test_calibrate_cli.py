"""``segmark-calibrate``: a calibration from the model's config, resumed after SIGKILL to the
same posterior bit for bit, and bad input refused with exit 2 before any run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pytest
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from segmark.models.nk import MODEL as NK
from segmark.pipeline.cli.compose import compose_overrides

CALIBRATE = str(Path(sys.executable).with_name("segmark-calibrate"))
TOY = ("model=gauss", "calibration=toy", "calibration.particles=60", "cluster.n_workers=2")


def calibrate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [CALIBRATE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )


def test_toy_calibration_from_its_config_and_resumed_after_sigkill(tmp_path: Path) -> None:
    """The whole calibration once; then again in another root, killed with its cluster once a
    population is stored and the next one's runs are being written, and rerun: the posterior
    files are equal, and every store reader reads them."""
    done = calibrate(*TOY, f"storage.root={tmp_path / 'whole'}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "population 3: epsilon" in done.stdout and "shock.mu_1" in done.stdout
    whole = tmp_path / "whole" / "toy" / "posterior.parquet"
    report = tmp_path / "whole" / "toy" / "report" / "report.md"
    assert f"report: {report}" in done.stdout
    assert "## Posterior predictive check (60 fresh runs)" in report.read_text()

    root = tmp_path / "killed"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [CALIBRATE, *TOY, f"storage.root={root}"], cwd=tmp_path, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    posterior = root / "toy" / "posterior.parquet"
    summary = root / "toy" / "runs" / "summary"
    deadline = time.monotonic() + 120
    while not posterior.exists() or len(list(summary.glob("part-*.parquet"))) < 3:
        assert time.monotonic() < deadline and process.poll() is None, "no population stored"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    stored = pd.read_parquet(posterior).population.max()
    assert stored < 3, "killed too late: the calibration had finished"

    again = calibrate(*TOY, f"storage.root={root}", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"resuming toy: {stored + 1} of 4 populations stored" in again.stdout
    pd.testing.assert_frame_equal(pd.read_parquet(posterior), pd.read_parquet(whole))
    pd.testing.assert_frame_equal(
        pd.read_parquet(posterior.with_name("predictive.parquet")),
        pd.read_parquet(whole.with_name("predictive.parquet")),
    )
    per_population = duckdb.sql(
        f"SELECT population, sum(weight) AS w FROM '{posterior}' GROUP BY population"
    ).df()
    assert len(per_population) == 4 and per_population.w.between(0.999, 1.001).all()
    assert pl.read_parquet(posterior).height == 4 * 60


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("calibration.particles=1",), "calibration.particles = 1: it takes an integer >= 2"),
        (("calibration.quantile=1.5",), "calibration.quantile = 1.5"),
        (("calibration.bogus=1",), "calibration.bogus is not a setting"),
        (("calibration.priors.shock.nope={dist:norm}",), "calibration.priors.shock.nope: gauss"),
        (("calibration.targets.mean_9=1",), "calibration.targets.mean_9: gauss has no"),
        (("calibration.data=survey",), "give calibration.data (the model's data) or calibration"),
        (("shock.mu_1=500",), "shock.mu_1 = 500.0 is out of range"),
    ],
)
def test_bad_input_is_refused_before_any_run(tmp_path: Path, args, message) -> None:
    done = calibrate("model=gauss", "calibration=toy", *args, f"storage.root={tmp_path}",
                     cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    assert message in done.stderr, done.stderr[-2000:]
    assert not (tmp_path / "toy").exists(), "something was written before the refusal"


def test_without_a_calibration_the_command_says_how_to_choose_one(tmp_path: Path) -> None:
    done = calibrate("model=gauss", f"storage.root={tmp_path}", cwd=tmp_path)
    assert done.returncode == 2
    assert "choose one with calibration=<name>" in done.stderr


def test_the_runs_use_the_models_defaults_not_a_sweeps() -> None:
    """nk's default sweep sets phones everywhere and no crackdowns (@package _global_); a
    calibration composes none of it: every parameter it does not estimate is the default."""
    with initialize_config_module(config_module="segmark.conf", version_base="1.3"):
        composed = compose(
            config_name="calibrate", overrides=compose_overrides(["calibration=nk_2013_2019"])
        )
    cfg = OmegaConf.to_object(composed)
    for parameter in NK.parameters:
        assert getattr(cfg, parameter.group)[parameter.name] == parameter.default, parameter.path
    assert cfg.calibration.data == "survey_and_facts" and len(cfg.calibration.priors) == 9

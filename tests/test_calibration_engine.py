"""The calibration's simulations through the engine: statistics made on the workers, where a
batch's tables already are, equal those read back from the dataset (a resume reads them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from segmark.models.nk import MODEL as NK
from segmark.pipeline.calibration.engine import EngineSimulator, with_settings
from segmark.pipeline.calibration.spec import check
from segmark.pipeline.cli.compose import compose_overrides


def test_worker_statistics_equal_those_read_back(tmp_path: Path, client) -> None:
    """nk's survey moments and facts, estimated from each run's series on its worker, then the
    same batch again: every run is found stored and its statistics read back, bit for bit."""
    overrides = ["calibration=nk_2013_2019", f"storage.root={tmp_path}", "progress=false"]
    with initialize_config_module(config_module="segmark.conf", version_base="1.3"):
        base = OmegaConf.to_object(
            compose(config_name="calibrate", overrides=compose_overrides(overrides))
        )
    checked = check(base.calibration, NK)
    base = with_settings(base, checked.targets)
    points = checked.priors.sample(np.random.default_rng(3), 4)
    simulate = EngineSimulator(base, NK, tmp_path / "cal", checked.priors.paths,
                               checked.statistics, checked.targets, client)  # fmt: skip
    read_back, read = [], simulate.read
    simulate.read = lambda ids: read_back.append(ids) or read(ids)
    made = simulate(0, 0, points)
    assert read_back == []  # every statistic came with its batch's receipt
    again = simulate(0, 0, points)
    assert [len(ids) for ids in read_back] == [4]  # nothing ran: all read from the dataset
    assert made.shape == (4, len(checked.statistics)) and np.isfinite(made).all()
    np.testing.assert_array_equal(made, again)
    np.testing.assert_array_equal(read(read_back[0], chunk=3), made)  # two reads of 3 + 1

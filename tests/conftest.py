"""Shared fixtures: configs composed through Hydra exactly as the CLI does, and one smoke sweep
made by the real ``segmark`` command for the tests that read a dataset back."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf
from pandas.testing import assert_frame_equal

from segmark.kernels import market
from segmark.kernels.parameters import (
    EVENT_CAPITAL_LOSS,
    EVENT_FLOOD,
    EVENT_HARVEST,
    EVENT_REDENOMINATION,
    P,
)
from segmark.models.nk import MODEL as NK
from segmark.pipeline.cli.compose import compose_overrides
from segmark.pipeline.config import Config
from segmark.pipeline.driver import run_sweep
from segmark.pipeline.store import read_places, read_series, read_summary

DEFAULTS = {p.name: p.default for p in NK.parameters}
# every friction off: no permits, crackdowns, self-reliance or rail outages; phones everywhere;
# capital never binds
FREE = {
    "permit_strictness": 0.0,
    "crackdown": 0.0,
    "self_reliance": 0.0,
    "rail_outage_rate": 0.0,
    "phone_penetration": 1.0,
    "trader_capital": 10.0,
}
# and deep markets (the law-of-one-price checks): a week's stock sells over ten weeks
SETTLED = {"turnover": 0.1}


def vector(**changes: float) -> np.ndarray:
    """The kernel's parameter vector at the config defaults, with ``changes``."""
    values = {**DEFAULTS, **changes}
    return np.array([float(values[name]) for name in market.PARAMS])


# (week, code, value, over): a ramp, a set, a harvest cut, a flood and a capital loss
EVENTS = np.array(
    [
        [2.0, P.permit_strictness, 0.1, 5.0],
        [4.0, P.pds_level, 0.9, 1.0],
        [6.0, EVENT_HARVEST, 0.5, 1.0],
        [7.0, EVENT_FLOOD, 1.0, 1.0],
        [9.0, EVENT_CAPITAL_LOSS, 0.7, 1.0],
        [10.0, EVENT_REDENOMINATION, 0.4, 1.0],
        [11.0, P.money_growth, 1.5, 4.0],
        [12.0, P.dollarization, 0.8, 1.0],
    ]
)

SEGMARK = str(Path(sys.executable).with_name("segmark"))


def make_config(*overrides: str, config_name: str = "config") -> Config:
    """A typed Config from the shipped YAML tree plus overrides, composed as the CLI does
    (``config_name="calibrate"``: as segmark-calibrate does)."""
    with initialize_config_module(config_module="segmark.conf", version_base="1.3"):
        cfg = compose(config_name=config_name, overrides=compose_overrides(list(overrides)))
    return OmegaConf.to_object(cfg)  # type: ignore[return-value]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [SEGMARK, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )


def run_cli_background(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """``segmark`` in its own process group, so a test can kill it with all its children."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [SEGMARK, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def lock(directory: Path, locked: bool) -> None:
    """Make a directory unwritable (or writable again) for this user: file modes for an ordinary
    user; for root, whom modes do not stop, the immutable attribute (chattr +i)."""
    if os.geteuid() != 0:
        directory.chmod(0o555 if locked else 0o755)
    else:
        flag = "+i" if locked else "-i"
        subprocess.run(["chattr", flag, str(directory)], check=True, capture_output=True)


def can_lock(tmp: Path) -> bool:
    probe = tmp / "probe"
    probe.mkdir()
    try:
        lock(probe, True)
    except (OSError, subprocess.CalledProcessError):
        return False
    try:
        (probe / "file").touch()
        return False  # the lock does not hold
    except OSError:
        return True
    finally:
        lock(probe, False)


@contextmanager
def local_client(log_level: int = logging.WARNING) -> Iterator[Client]:
    """A client on a fresh two-worker LocalCluster bound to 127.0.0.1."""
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            silence_logs=log_level,
        ) as cluster,
        Client(cluster) as dask_client,
    ):
        yield dask_client


@pytest.fixture(scope="session")
def client() -> Iterator[Client]:
    """One two-worker LocalCluster shared by the tests that do not vary workers."""
    with local_client() as dask_client:
        yield dask_client


def frames(directory: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A dataset's summary (without the timing column), series and places, in a canonical row
    order."""
    summary = read_summary(directory).to_pandas().drop(columns="elapsed_s")
    series = read_series(directory).to_pandas()
    places = read_places(directory).to_pandas()
    return (
        summary.sort_values("run_id", ignore_index=True),
        series.sort_values(["run_id", "step"], ignore_index=True),
        places.sort_values(["run_id", "unit"], ignore_index=True),
    )


@pytest.fixture(scope="session")
def smoke_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The smoke sweep run by the real CLI on a LocalCluster; returns its dataset directory."""
    root = tmp_path_factory.mktemp("smoke")
    done = run_cli(
        "sweep=smoke",
        f"storage.root={root}",
        "cluster.dashboard_address=127.0.0.1:0",
        "progress=false",
        cwd=root,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("results: "), done.stdout
    return Path(last.removeprefix("results: "))


# the small sweep of the pipeline and compaction tests: every way of running it must give
# the same tables as `reference`
SWEEP = (
    "+preset=small",
    "model.n_steps=60",
    "sweep.axes.policy.permit_strictness=[0.0,0.4,0.8]",
    "sweep.replicates=3",
    "cluster.dashboard_address=127.0.0.1:0",
    "progress=false",
    "storage.compact_mb=0",  # these tests look at the part files batches write
)
QUIET = {"echo": lambda _: None}


def sweep(root: Path, name: str, *overrides: str, client: Client | None = None) -> Path:
    cfg = make_config(*SWEEP, f"storage.root={root}", f"storage.dataset={name}", *overrides)
    return run_sweep(cfg, client=client, **QUIET).directory


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, ...]:
    """The sweep on one worker, one run per task: what every other way of running must give."""
    root = tmp_path_factory.mktemp("reference")
    return frames(sweep(root, "w1b1", "cluster.n_workers=1", "sweep.batch_size=1"))


def assert_same(got: tuple[pd.DataFrame, ...], expected) -> None:
    for table, want in zip(got, expected, strict=True):  # summary, series, places
        assert_frame_equal(table, want)

"""cluster=address: a `dask scheduler` and a `dask worker` started as separate processes on
127.0.0.1 run a sweep, with the same numbers as the embedded LocalCluster."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_config
from pandas.testing import assert_frame_equal

from segmark.pipeline.driver import run_sweep
from segmark.pipeline.store import read_summary

DASK = str(Path(sys.executable).with_name("dask"))
SWEEP = (
    "model=small",
    "model.n_steps=52",
    "sweep.axes.policy.permit_strictness=[0.0,1.0]",
    "sweep.replicates=2",
    "progress=false",
)


@pytest.fixture
def scheduler_address(tmp_path: Path) -> Iterator[str]:
    scheduler_file = tmp_path / "scheduler.json"
    local = ["--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0"]
    procs = [
        subprocess.Popen(
            [DASK, "scheduler", "--port", "0", "--scheduler-file", str(scheduler_file), *local],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        worker = [DASK, "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1"]
        procs.append(
            subprocess.Popen(
                [*worker, *local, "--local-directory", str(tmp_path / "worker")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        yield json.loads(scheduler_file.read_text())["address"]
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


@pytest.mark.timeout(180)
def test_sweep_on_a_running_scheduler(scheduler_address: str, tmp_path: Path) -> None:
    assert scheduler_address.startswith("tcp://127.0.0.1:")
    remote = make_config(
        *SWEEP,
        "cluster=address",
        f"cluster.address={scheduler_address}",
        f"storage.root={tmp_path}",
        "storage.dataset=remote",
    )
    local = make_config(
        *SWEEP,
        "cluster.n_workers=1",
        "cluster.dashboard_address=127.0.0.1:0",
        f"storage.root={tmp_path}",
        "storage.dataset=local",
    )
    frames = []
    for cfg in (remote, local):
        result = run_sweep(cfg, echo=lambda _: None)
        summary = read_summary(result.directory).to_pandas().drop(columns="elapsed_s")
        frames.append(summary.sort_values("run_id", ignore_index=True))
    assert len(frames[0]) == 4 and frames[0]["status"].eq("ok").all()
    assert_frame_equal(frames[0], frames[1])

"""Faults: a worker killed mid-sweep and a driver killed mid-sweep lose no run and store none
twice; the numbers equal those of an undisturbed sweep."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import polars
import pyarrow.dataset as ds
import pytest
from conftest import SEGMARK, frames, local_client, make_config, run_cli, run_cli_background
from distributed import Client
from pandas.testing import assert_frame_equal

from segmark.models.nk import MODEL as NK
from segmark.pipeline.driver import run_sweep
from segmark.pipeline.store import read_manifest, scan, write_manifest

SWEEP = (
    "+preset=small",
    "model.n_steps=1500",
    "sweep.axes.policy.permit_strictness=${linspace:0,1,6}",
    "sweep.replicates=6",
    "sweep.batch_size=2",
    "progress=false",
)


@pytest.fixture(scope="module")
def undisturbed(tmp_path_factory: pytest.TempPathFactory, client: Client):
    root = tmp_path_factory.mktemp("undisturbed")
    cfg = make_config(*SWEEP, f"storage.root={root}", "storage.dataset=calm")
    return frames(run_sweep(cfg, echo=lambda _: None, client=client).directory)


def wait_for_parts(directory: Path, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(list((directory / "summary").glob("part-*.parquet"))) < count:
        assert time.monotonic() < deadline, "the sweep made no progress"
        time.sleep(0.05)


def read_while_running(directory: Path) -> None:
    """Mid-sweep, every reader sees one table of whole parts: no duplicates, no torn rows."""
    glob = f"{directory}/summary/*.parquet"
    counts = [
        len(pd.read_parquet(directory / "summary")),
        duckdb.sql(f"SELECT count(DISTINCT run_id) FROM read_parquet('{glob}')").fetchall()[0][0],
        polars.scan_parquet(glob).select(polars.col("run_id").n_unique()).collect().item(),
        ds.dataset(directory / "summary").count_rows(),
    ]
    assert counts[0] > 0
    assert counts == sorted(counts)  # read one after the other: parts only ever get added
    rows = pd.read_parquet(directory / "summary")
    assert rows["run_id"].is_unique and rows["status"].eq("ok").all()


def assert_exactly_once_and_equal(directory: Path, undisturbed) -> None:
    stored = scan(directory)
    assert stored.duplicates == 0 and not stored.corrupt
    assert len(stored) == len(undisturbed[0]) == 36
    for table, want in zip(frames(directory), undisturbed, strict=True):
        assert_frame_equal(table, want)  # summary, series, places
    assert read_manifest(directory)["status"] == "complete"


@pytest.mark.timeout(240)
def test_worker_killed_mid_sweep(tmp_path: Path, undisturbed) -> None:
    """SIGKILL a worker process twice while it runs batches; its nanny restarts it and Dask
    reruns the lost tasks, which rewrite the same part files."""
    directory = tmp_path / "killed"
    cfg = make_config(*SWEEP, f"storage.root={tmp_path}", "storage.dataset=killed")
    killed: list[int] = []
    with local_client(logging.CRITICAL) as own_client:

        def killer() -> None:
            for wave in (2, 10):
                wait_for_parts(directory, wave)
                read_while_running(directory)
                pid = sorted(own_client.run(os.getpid).values())[0]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        result = run_sweep(cfg, echo=lambda _: None, client=own_client)
        thread.join(timeout=5)
    assert len(killed) == 2, "the sweep ended before both kills"
    assert result.n_runs == 36
    assert_exactly_once_and_equal(directory, undisturbed)


@pytest.mark.timeout(300)
def test_driver_killed_then_resumed(tmp_path: Path, undisturbed) -> None:
    args = (*SWEEP, f"storage.root={tmp_path}", "storage.dataset=resumed")
    directory = tmp_path / "resumed"
    process = run_cli_background(*args, "cluster.dashboard_address=127.0.0.1:0", cwd=tmp_path)
    wait_for_parts(directory, 3)
    os.killpg(process.pid, signal.SIGKILL)  # the driver and its local cluster, mid-sweep
    process.wait(timeout=30)
    stored_before = len(scan(directory))
    assert 0 < stored_before < 36
    assert read_manifest(directory)["status"] == "running"  # killed: it never got to say more

    done = run_cli(*args, "cluster.dashboard_address=127.0.0.1:0", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "already stored" in done.stdout
    assert_exactly_once_and_equal(directory, undisturbed)


def test_no_temporary_files_are_left_behind(tmp_path: Path, client: Client) -> None:
    directory = tmp_path / "clean"
    (directory / "summary").mkdir(parents=True)
    (directory / "timeseries").mkdir()
    (directory / "summary" / ".part-0123.parquet.999.tmp").write_bytes(b"half")
    (directory / "timeseries" / "part-dead.parquet").write_bytes(b"orphan")
    cfg = make_config(
        *SWEEP,
        "sweep.replicates=1",
        "model.n_steps=20",
        f"storage.root={tmp_path}",
        "storage.dataset=clean",
    )

    write_manifest(directory, status="incomplete", model_version=NK.tag)
    run_sweep(cfg, echo=lambda _: None, client=client)
    leftovers = [p.name for p in directory.rglob("*") if p.name.startswith(".") or "dead" in p.name]
    assert leftovers == []


@pytest.mark.timeout(180)
def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path: Path) -> None:
    args = (*SWEEP, "sweep.replicates=40", f"storage.root={tmp_path}", "storage.dataset=stopped")
    directory = tmp_path / "stopped"
    process = subprocess.Popen(
        [SEGMARK, *args, "cluster.dashboard_address=127.0.0.1:0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    wait_for_parts(directory, 2)
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 130
    assert (
        f"To resume, run the same command with storage.root={tmp_path} storage.dataset=stopped"
        in out
    )
    manifest = read_manifest(directory)
    assert manifest["status"] == "incomplete" and manifest["error"].startswith("KeyboardInterrupt")
    stored = scan(directory)
    assert 0 < len(stored) < 240 and stored.duplicates == 0


@pytest.mark.timeout(300)
def test_scheduler_killed_then_resumed_on_a_new_one(tmp_path: Path, undisturbed) -> None:
    """cluster=address: the scheduler dies mid-sweep. The driver says so in one line (exit 4),
    marks the dataset incomplete; the same command on a fresh scheduler finishes it, every run
    exactly once with the undisturbed numbers."""
    from test_address_cluster import start_cluster, stop

    directory = tmp_path / "orphaned"

    def command(address: str) -> tuple[str, ...]:
        return (*SWEEP, "cluster=address", f"cluster.address={address}")

    storage = (f"storage.root={tmp_path}", "storage.dataset=orphaned")
    (tmp_path / "first").mkdir()
    address, procs = start_cluster(tmp_path / "first")
    try:
        process = subprocess.Popen(
            [SEGMARK, *command(address), *storage],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for_parts(directory, 2)
        procs[0].send_signal(signal.SIGKILL)  # the scheduler
        _, err = process.communicate(timeout=120)
    finally:
        stop(procs)
    assert process.returncode == 4
    assert "lost the connection to the Dask scheduler" in err and "to resume" in err
    assert "Traceback" not in err
    assert read_manifest(directory)["status"] == "incomplete"
    assert 0 < len(scan(directory)) < 36

    (tmp_path / "second").mkdir()
    address, procs = start_cluster(tmp_path / "second")
    try:
        done = run_cli(*command(address), *storage, cwd=tmp_path)
    finally:
        stop(procs)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "already stored" in done.stdout
    assert_exactly_once_and_equal(directory, undisturbed)


@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    ("limit_kb", "sweep", "runs"),
    [
        # the manifest (39.4 KB at nk-9, with the code's file digests) lands, a worker's
        # first part (series 91 KB) fails
        (42, ("sweep=smoke", "sweep.replicates=20"), 60),
        # the manifest and one-run parts (<= 30 KB, mostly the footer's provenance) land;
        # compaction's merged series part (~80 KB) fails
        (
            42,
            (
                "sweep=smoke",
                "sweep.replicates=30",
                "sweep.batch_size=1",
                "storage.compact_min_parts=2",
            ),
            90,
        ),
    ],
    ids=["worker-write", "compaction"],
)
def test_a_full_disk_stops_cleanly_and_the_rerun_finishes(
    tmp_path: Path, limit_kb: int, sweep: tuple[str, ...], runs: int
) -> None:
    """A file-size limit (as a full disk would) makes a write fail mid-sweep: one clear line,
    exit 5, no half-written file left, only whole parts readable; lifted, the same command
    finishes the sweep with every run exactly once."""
    args = (*sweep, f"storage.root={tmp_path}", "storage.dataset=full", "progress=false")
    limited = subprocess.run(
        ["bash", "-c", f'ulimit -f {limit_kb}; exec "$0" "$@"', SEGMARK, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert limited.returncode == 5, limited.stderr[-2000:]
    checkout = Path(__file__).resolve().parents[1] / ".git"
    assert not (checkout / "index.lock").exists()  # provenance's git never takes the lock
    assert "cannot write the dataset" in limited.stderr and "File too large" in limited.stderr
    assert "Traceback" not in limited.stderr
    directory = tmp_path / "full"
    assert not [p for p in directory.rglob("*") if p.name.endswith(".tmp")]
    if list(directory.glob("summary/part-*.parquet")):
        visible = pd.read_parquet(directory / "summary")  # whatever landed is whole
        assert visible["run_id"].is_unique and len(visible) <= runs

    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    stored = scan(directory)
    assert len(stored) == runs and stored.duplicates == 0 and not stored.corrupt
    assert read_manifest(directory)["status"] == "complete"

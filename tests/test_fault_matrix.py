"""The fault matrix (slow; run by .ci/run): a sweep of 2,000 short runs on a real LocalCluster
survives repeated faults of every kind, injected at random moments (a seeded generator picks
them), and ends with every planned run stored exactly once with the numbers of an undisturbed
sweep. The tallies (faults per kind, runs checked, lost, duplicated) are printed and written to
``fault-matrix.json`` in the test's temporary directory (``pytest -s`` shows them)."""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from conftest import (
    SEGMARK,
    can_lock,
    frames,
    local_client,
    lock,
    make_config,
    run_cli,
    run_cli_background,
)
from distributed import Client
from pandas.testing import assert_frame_equal
from test_faults import read_while_running, wait_for_parts
from test_pipeline import flip_bytes

from segmark.kernels import market
from segmark.pipeline.driver import SET_ASIDE, run_sweep
from segmark.pipeline.store import read_manifest, scan

pytestmark = pytest.mark.slow

N_RUNS = 2000
SWEEP = (
    "+preset=small",
    "model.n_steps=100",
    "sweep.axes.policy.permit_strictness=${linspace:0,1,25}",
    "sweep.replicates=80",
    "sweep.batch_size=10",  # 200 parts before compaction
    "progress=false",
)
LOOPBACK = "cluster.dashboard_address=127.0.0.1:0"
RNG = random.Random(20261129)
TALLY: Counter[str] = Counter()


@pytest.fixture(scope="module")
def undisturbed(tmp_path_factory: pytest.TempPathFactory, client: Client):
    root = tmp_path_factory.mktemp("undisturbed")
    cfg = make_config(*SWEEP, f"storage.root={root}", "storage.dataset=calm")
    yield frames(run_sweep(cfg, echo=lambda _: None, client=client).directory)
    report = tmp_path_factory.getbasetemp() / "fault-matrix.json"
    report.write_text(json.dumps(dict(TALLY), indent=2, sort_keys=True))
    print(f"\nfault matrix: {dict(sorted(TALLY.items()))} ({report})")


def check_exactly_once(directory: Path, undisturbed) -> None:
    stored = scan(directory)
    TALLY["runs checked"] += N_RUNS
    TALLY["runs lost"] += max(N_RUNS - len(stored), 0)
    TALLY["runs duplicated"] += stored.duplicates
    assert stored.duplicates == 0 and not stored.corrupt
    assert len(stored) == N_RUNS
    for table, want in zip(frames(directory), undisturbed, strict=True):
        assert_frame_equal(table, want)  # summary, series, places
    assert read_manifest(directory)["status"] == "complete"


def parts_now(directory: Path) -> int:
    return len(list((directory / "summary").glob("part-*.parquet")))


def kill_points(count: int) -> list[int]:
    """Part counts (of 200) at which to strike, sorted, spread over the sweep."""
    return sorted(RNG.sample(range(5, 150), count))


@pytest.mark.timeout(400)
def test_workers_killed_five_times(tmp_path: Path, undisturbed) -> None:
    """SIGKILL a worker process five times mid-batch, readers checking the dataset each time;
    nannies restart the workers and Dask reruns the lost tasks."""
    directory = tmp_path / "workers"
    cfg = make_config(*SWEEP, f"storage.root={tmp_path}", "storage.dataset=workers")
    killed: list[int] = []
    with local_client(logging.CRITICAL) as own_client:

        def killer() -> None:
            for wave in kill_points(5):
                wait_for_parts(directory, wave)
                time.sleep(RNG.uniform(0.0, 0.2))
                read_while_running(directory)
                pid = RNG.choice(sorted(own_client.run(os.getpid).values()))
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        run_sweep(cfg, echo=lambda _: None, client=own_client)
        thread.join(timeout=5)
    TALLY["worker SIGKILL"] += len(killed)
    assert len(killed) == 5, "the sweep ended before all kills"
    check_exactly_once(directory, undisturbed)


@pytest.mark.timeout(500)
def test_driver_killed_three_times_then_parts_corrupted_then_resumed(
    tmp_path: Path, undisturbed
) -> None:
    """SIGKILL the driver with its cluster at three random moments, each time rerunning the same
    command; then truncate one stored part and flip bytes inside another; the final rerun moves
    both aside, redoes their runs and completes."""
    args = (*SWEEP, f"storage.root={tmp_path}", "storage.dataset=driver", LOOPBACK)
    directory = tmp_path / "driver"
    for _ in range(3):
        process = run_cli_background(*args, cwd=tmp_path)
        wait_for_parts(directory, parts_now(directory) + RNG.randint(3, 30))
        time.sleep(RNG.uniform(0.0, 0.3))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        TALLY["driver SIGKILL"] += 1
        assert read_manifest(directory)["status"] == "running"
        assert 0 < len(scan(directory)) < N_RUNS
    first, second = RNG.sample(sorted((directory / "summary").glob("part-*.parquet")), 2)
    first.write_bytes(first.read_bytes()[: first.stat().st_size // 2])  # truncated
    flip_bytes(second, RNG.choice(market.OUTCOMES))  # bit rot inside a data page
    TALLY["part truncated"] += 1
    TALLY["part bytes flipped"] += 1

    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count(f"{SET_ASIDE}: summary/") == 2
    check_exactly_once(directory, undisturbed)


@pytest.mark.timeout(400)
def test_ctrl_c_twice_then_resumed(tmp_path: Path, undisturbed) -> None:
    args = (*SWEEP, f"storage.root={tmp_path}", "storage.dataset=interrupted", LOOPBACK)
    directory = tmp_path / "interrupted"
    for _ in range(2):
        process = subprocess.Popen(
            [SEGMARK, *args],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for_parts(directory, parts_now(directory) + RNG.randint(3, 40))
        time.sleep(RNG.uniform(0.0, 0.3))
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
        TALLY["SIGINT"] += 1
        assert process.returncode == 130, err[-2000:]
        assert "To resume, run the same command" in out and "Traceback" not in err
        assert read_manifest(directory)["status"] == "incomplete"
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    check_exactly_once(directory, undisturbed)


@pytest.mark.timeout(500)
def test_scheduler_killed_then_resumed_on_a_new_one(tmp_path: Path, undisturbed) -> None:
    from test_address_cluster import start_cluster, stop

    directory = tmp_path / "orphaned"
    storage = (f"storage.root={tmp_path}", "storage.dataset=orphaned")
    (tmp_path / "first").mkdir()
    address, procs = start_cluster(tmp_path / "first")
    try:
        process = subprocess.Popen(
            [SEGMARK, *SWEEP, "cluster=address", f"cluster.address={address}", *storage],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for_parts(directory, RNG.randint(5, 100))
        procs[0].send_signal(signal.SIGKILL)
        _, err = process.communicate(timeout=120)
    finally:
        stop(procs)
    TALLY["scheduler SIGKILL"] += 1
    assert process.returncode == 4 and "lost the connection to the Dask scheduler" in err
    (tmp_path / "second").mkdir()
    address, procs = start_cluster(tmp_path / "second")
    try:
        done = run_cli(
            *SWEEP, "cluster=address", f"cluster.address={address}", *storage, cwd=tmp_path
        )
    finally:
        stop(procs)
    assert done.returncode == 0, done.stderr[-2000:]
    check_exactly_once(directory, undisturbed)


@pytest.mark.timeout(400)
def test_disk_full_during_compaction_then_resumed(tmp_path: Path, undisturbed) -> None:
    """A 1 MB file-size limit: the batch parts fit, the compacted files (several MB) do not. One
    clear line, exit 5, nothing half-written; the rerun without the limit completes."""
    args = (*SWEEP, f"storage.root={tmp_path}", "storage.dataset=full", LOOPBACK)
    limited = subprocess.run(
        ["bash", "-c", 'ulimit -f 1000; exec "$0" "$@"', SEGMARK, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    TALLY["disk full"] += 1
    assert limited.returncode == 5, limited.stderr[-2000:]
    assert "cannot write the dataset" in limited.stderr and "Traceback" not in limited.stderr
    directory = tmp_path / "full"
    assert not [p for p in directory.rglob("*") if p.name.endswith(".tmp")]
    visible = pd.read_parquet(directory / "summary")
    assert visible["run_id"].is_unique
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    check_exactly_once(directory, undisturbed)


@pytest.mark.timeout(400)
def test_output_directory_made_unwritable_mid_sweep(tmp_path: Path, undisturbed) -> None:
    """Mid-sweep the dataset's part directories become unwritable. One clear line, exit 5, only
    whole parts visible; writable again, the same command completes."""
    if not can_lock(tmp_path):
        pytest.skip("cannot make a directory unwritable here (root without chattr +i)")
    args = (*SWEEP, f"storage.root={tmp_path}", "storage.dataset=locked", LOOPBACK)
    directory = tmp_path / "locked"
    process = subprocess.Popen(
        [SEGMARK, *args], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    locked = [directory / "summary", directory / "timeseries"]
    try:
        wait_for_parts(directory, RNG.randint(5, 100))
        for sub in locked:
            lock(sub, True)
        _, err = process.communicate(timeout=120)
    finally:
        for sub in locked:
            lock(sub, False)
    TALLY["directory unwritable"] += 1
    assert process.returncode == 5, err[-2000:]
    assert "cannot write the dataset" in err and "Traceback" not in err
    # A part being written when the lock landed keeps its temporary file: nobody can remove a
    # file from an immutable directory. It is hidden from every reader (a dot name not ending
    # in .parquet) and the next sweep removes it.
    leftovers = [p for p in directory.rglob("*") if p.name.endswith(".tmp")]
    assert all(p.name.startswith(".part-") and p.parent in locked for p in leftovers)
    assert pd.read_parquet(directory / "summary")["run_id"].is_unique
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not [p for p in directory.rglob("*") if p.name.endswith(".tmp")]
    check_exactly_once(directory, undisturbed)


@pytest.mark.timeout(400)
def test_second_sweeps_into_the_running_dataset_are_refused(tmp_path: Path) -> None:
    """Three more commands into one dataset while a first one writes it: each is refused (exit
    3, nothing written by it); the first completes every run exactly once."""
    longer = tuple("model.n_steps=1500" if a.startswith("model.n_steps=") else a for a in SWEEP)
    args = (*longer, f"storage.root={tmp_path}", "storage.dataset=shared", LOOPBACK)
    directory = tmp_path / "shared"
    first = run_cli_background(*args, cwd=tmp_path)  # long runs: a minute or more of work
    wait_for_parts(directory, RNG.randint(3, 10))
    others = [
        subprocess.Popen(
            [SEGMARK, *args],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for other in others:
        _, err = other.communicate(timeout=120)
        TALLY["second writer"] += 1
        assert other.returncode == 3, err[-2000:]
        assert "is being written by another sweep" in err
    assert first.wait(timeout=300) == 0
    stored = scan(directory)
    TALLY["runs checked"] += N_RUNS
    TALLY["runs duplicated"] += stored.duplicates
    TALLY["runs lost"] += max(N_RUNS - len(stored), 0)
    assert len(stored) == N_RUNS and stored.duplicates == 0 and not stored.corrupt
    assert read_manifest(directory)["status"] == "complete"

"""Scheduling and storage on a real Dask LocalCluster: results independent of workers and
batching, workers writing their own parts, resume, failures recorded as data."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from conftest import QUIET, SWEEP, assert_same, frames, make_config, sweep
from distributed import Client

from segmark.models.nk import MODEL as NK
from segmark.pipeline import driver, store
from segmark.pipeline import run as run_module
from segmark.pipeline import sweep as sweeps
from segmark.pipeline.cli.app import report
from segmark.pipeline.config import ConfigError
from segmark.pipeline.driver import SET_ASIDE, run_sweep
from segmark.pipeline.run import run_batch
from segmark.pipeline.store import (
    drop_duplicates,
    read_manifest,
    read_summary,
    scan,
    schemas,
    write_manifest,
)

TABLES = schemas(NK)


def test_results_do_not_depend_on_workers_or_batch_size(tmp_path: Path, reference) -> None:
    assert len(reference[0]) == 9 and reference[0]["status"].eq("ok").all()
    assert_same(
        frames(sweep(tmp_path, "w2b4", "cluster.n_workers=2", "sweep.batch_size=4")), reference
    )
    adaptive = sweep(tmp_path, "auto", "cluster.n_workers=2", "cluster.task_seconds=0.05")
    assert_same(frames(adaptive), reference)
    parts = sorted(p.name for p in (adaptive / "summary").iterdir())
    assert parts == sorted(p.name for p in (adaptive / "timeseries").iterdir())
    assert read_manifest(adaptive)["status"] == "complete"


def test_resume_runs_only_what_is_missing(tmp_path: Path, reference, client: Client) -> None:
    directory = sweep(tmp_path, "cut", "sweep.batch_size=2", client=client)
    parts = sorted((directory / "summary").glob("part-*.parquet"))
    lost = pq.read_table(parts[0], columns=["run_id"]).column("run_id").to_pylist()
    parts[0].unlink()  # as if the driver died before this batch landed
    write_manifest(directory, status="incomplete")
    lines: list[str] = []
    cfg = make_config(*SWEEP, f"storage.root={tmp_path}", "storage.dataset=cut")
    result = run_sweep(cfg, echo=lines.append, client=client)
    assert result.n_skipped == 9 - len(lost)
    assert f"resuming cut: {9 - len(lost)} of 9 runs already stored" in lines
    assert "removed 2 time-series or places parts whose summary never landed" in lines
    assert_same(frames(directory), reference)
    assert read_manifest(directory)["status"] == "complete"


def test_more_replicates_add_only_new_runs(tmp_path: Path, reference, client: Client) -> None:
    sweep(tmp_path, "grow", "sweep.replicates=1", client=client)
    cfg = make_config(*SWEEP, f"storage.root={tmp_path}", "storage.dataset=grow")
    result = run_sweep(cfg, client=client, **QUIET)
    assert (result.n_runs, result.n_skipped) == (9, 3)
    assert_same(frames(result.directory), reference)


def test_corrupt_part_is_moved_aside_and_redone(tmp_path: Path, reference, client: Client) -> None:
    directory = sweep(tmp_path, "bad", "sweep.batch_size=3", client=client)
    victim = sorted((directory / "summary").glob("part-*.parquet"))[1]
    victim.write_bytes(victim.read_bytes()[:200])  # truncated on disk
    lines: list[str] = []
    cfg = make_config(*SWEEP, f"storage.root={tmp_path}", "storage.dataset=bad")
    assert run_sweep(cfg, echo=lines.append, client=client).n_skipped == 6
    assert f"{SET_ASIDE}: summary/.{victim.name}.corrupt; its runs will be redone" in lines
    assert_same(frames(directory), reference)


def flip_bytes(path: Path, column: str) -> None:
    """Invert 4 bytes at the end of a column's data in a part (a bad sector, bit rot): the file
    still opens as Parquet, and the values read back differ unless something checks them."""
    chunk = pq.ParquetFile(path).metadata.row_group(0)
    columns = [chunk.column(i) for i in range(chunk.num_columns)]
    meta = next(c for c in columns if c.path_in_schema == column)
    at = meta.data_page_offset + meta.total_compressed_size - 6
    data = bytearray(path.read_bytes())
    data[at : at + 4] = bytes(b ^ 0xFF for b in data[at : at + 4])
    path.write_bytes(bytes(data))


def test_corrupted_bytes_inside_parts_are_detected_by_page_checksums(
    tmp_path: Path, reference, client: Client
) -> None:
    """Bytes flipped inside a data page of a summary part, and inside another batch's series
    part, leave files that still open as Parquet: the pages' CRC-32 checksums catch both, the
    pairs go aside and their runs are redone, never read as data. (The footer's free text, the
    provenance JSON, carries no checksum: a flip there changes only the provenance.)"""
    directory = sweep(tmp_path, "rot", "sweep.batch_size=3", client=client)
    parts = sorted((directory / "summary").glob("part-*.parquet"))
    flip_bytes(parts[0], "price_dispersion")
    flip_bytes(directory / "timeseries" / parts[1].name, "price_dispersion")
    lines: list[str] = []
    cfg = make_config(*SWEEP, f"storage.root={tmp_path}", "storage.dataset=rot")
    assert run_sweep(cfg, echo=lines.append, client=client).n_skipped == 3
    moved = [line for line in lines if line.startswith(SET_ASIDE)]
    assert len(moved) == 6  # both batches: summary, series and places
    assert f"{SET_ASIDE}: timeseries/.{parts[1].name}.corrupt; " in moved[-2]
    assert_same(frames(directory), reference)


def test_a_part_landing_late_is_deduplicated_on_resume(
    tmp_path: Path, reference, client: Client
) -> None:
    """A task of a dead driver, still running on an external cluster, renames its part after a
    resume stored the same runs in other batches: the runs are there twice. The next sweep into
    the dataset keeps one copy of each (they are identical) and finishes."""
    directory = sweep(tmp_path, "late", "sweep.batch_size=3", client=client)
    first = sorted((directory / "summary").glob("part-*.parquet"))[0]
    for sub in ("timeseries", "summary"):  # the late part: the same runs under another key
        (directory / sub / "part-late0000000000.parquet").write_bytes(
            (directory / sub / first.name).read_bytes()
        )
    assert scan(directory).duplicates == 3
    lines: list[str] = []
    cfg = make_config(*SWEEP, f"storage.root={tmp_path}", "storage.dataset=late")
    run_sweep(cfg, echo=lines.append, client=client)
    assert "removed 3 second copies of runs stored twice (identical numbers)" in lines
    assert scan(directory).duplicates == 0
    assert_same(frames(directory), reference)


def test_copies_that_differ_are_an_error(tmp_path: Path, client: Client) -> None:
    directory = sweep(tmp_path, "odd", "sweep.batch_size=3", client=client)
    first = sorted((directory / "summary").glob("part-*.parquet"))[0]
    table = pq.read_table(first)
    changed = table.set_column(
        table.schema.get_field_index("trade_share"),
        "trade_share",
        pc.add(table.column("trade_share"), 1.0),
    )
    pq.write_table(changed, directory / "summary" / "part-odd00000000000.parquet")
    with pytest.raises(RuntimeError, match="stored twice with different numbers"):
        drop_duplicates(directory, "zstd")


def test_model_version_change_is_refused(tmp_path: Path, client: Client) -> None:
    directory = sweep(tmp_path, "old", "sweep.replicates=1", client=client)
    write_manifest(directory, model_version="spine-0")
    cfg = make_config(*SWEEP, f"storage.root={tmp_path}", "storage.dataset=old")
    with pytest.raises(ConfigError, match=r"model version 'spine-0'.*never mixed"):
        run_sweep(cfg, **QUIET)


def test_failed_run_is_recorded_and_retry_failed_reruns_it(tmp_path: Path) -> None:
    cfg = make_config(*SWEEP)
    plan = sweeps.plan(cfg, NK)[1].rows(slice(0, 3))
    plan.loc[1, "model_network"] = "torus"  # the network builder raises for this run
    result = run_batch(NK, plan)
    summary = result.summary.to_pandas()
    assert summary["status"].tolist() == ["ok", "failed", "ok"]
    assert summary.loc[1, "message"].startswith("ValueError: network kind must be one of")
    assert pd.isna(summary.loc[1, "price_dispersion"]) and pd.isna(summary.loc[1, "integrated"])
    assert result.summary.column("price_dispersion").null_count == 1  # null, not NaN
    assert result.n_failed == 1
    assert set(result.series.column("run_id").to_pylist()) == {plan.run_id[0], plan.run_id[2]}
    assert set(result.places.column("run_id").to_pylist()) == {plan.run_id[0], plan.run_id[2]}


def test_non_finite_outcomes_and_series_are_failed_runs_with_their_series_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = make_config(*SWEEP)
    plan = sweeps.plan(cfg, NK)[1].rows(slice(0, 4))
    real_run = run_module.run_point
    # run 1: a NaN outcome; run 2: a series value finite in float64 but not in float32
    spoil = {1: ("outcomes", np.nan), 2: ("series", 1e39)}
    calls = iter(range(len(plan)))  # the batch runs its rows in order

    def spoiled(model, point: dict, seed: int, stop: np.ndarray | None = None):
        sim = real_run(model, point, seed, stop)
        if (i := next(calls)) in spoil:
            field, value = spoil[i]
            getattr(sim, field).flat[-1] = value
        return sim

    monkeypatch.setattr(run_module, "run_point", spoiled)
    result = run_batch(NK, plan)
    summary = result.summary.to_pandas()
    assert summary["status"].tolist() == ["ok", "failed", "failed", "ok"]
    assert summary["message"].tolist()[1:3] == ["non-finite outcome or series value"] * 2
    # every run's series is stored, each row under its own run's id, in run order
    ids = result.series.column("run_id").to_pylist()
    rows = len(ids) // 4
    assert ids == [run for run in plan.run_id for _ in range(rows)]
    steps = result.series.column("step").to_pylist()
    assert steps == sorted(set(steps)) * 4
    # places only for the runs that stand (a failed run's places are no data)
    assert set(result.places.column("run_id").to_pylist()) == {plan.run_id[0], plan.run_id[3]}


def test_retry_failed_reruns_failed_runs_with_their_seeds(tmp_path: Path, client: Client) -> None:
    directory = sweep(tmp_path, "retry", "sweep.replicates=1", client=client)
    good = frames(directory)
    part = sorted((directory / "summary").glob("part-*.parquet"))[0]
    table = pq.read_table(part).to_pandas()
    victim = table.run_id.iloc[0]
    table.loc[0, ["status", "message"]] = ["failed", "RuntimeError: injected"]
    table.loc[0, ["price_dispersion", "trade_share"]] = np.nan
    table.to_parquet(part, schema=TABLES.summary, index=False)
    assert scan(directory).failed == {victim}
    lines: list[str] = []
    rerun = make_config(
        *SWEEP,
        "sweep.replicates=1",
        f"storage.root={tmp_path}",
        "storage.dataset=retry",
        "retry_failed=true",
    )
    result = run_sweep(rerun, echo=lines.append, client=client)
    assert "retry_failed: rerunning 1 failed runs with their seeds" in lines
    assert result.n_skipped == 2 and result.n_failed == 0
    assert_same(frames(directory), good)


def test_an_interrupted_sweep_is_marked_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client: Client
) -> None:
    real = driver.map_batches

    def dies_after_first_batch(*args, **kwargs):
        batches = real(*args, **kwargs)
        yield next(batches)
        raise RuntimeError("scheduler lost")

    monkeypatch.setattr(driver, "map_batches", dies_after_first_batch)
    lines: list[str] = []
    cfg = make_config(
        *SWEEP, f"storage.root={tmp_path}", "storage.dataset=cut", "sweep.batch_size=2"
    )
    with pytest.raises(RuntimeError, match="scheduler lost"):
        run_sweep(cfg, echo=lines.append, client=client)
    manifest = read_manifest(tmp_path / "cut")
    assert manifest["status"] == "incomplete"
    assert manifest["error"] == "RuntimeError: scheduler lost"
    assert any("To resume, run the same command with" in line for line in lines)
    assert read_summary(tmp_path / "cut").num_rows >= 2  # finished batches stay stored


def test_categorical_axis_is_reported_without_a_curve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], client: Client
) -> None:
    cfg = make_config(
        *SWEEP,
        "~sweep.axes.policy",
        "sweep.axes.model.network=[grid,ring]",
        "sweep.replicates=1",
        f"storage.root={tmp_path}",
    )
    result = run_sweep(cfg, client=client, **QUIET)
    report(result, NK)
    out = capsys.readouterr().out
    assert "Across 2 values of model.network (grid, ring)" in out
    assert "figure:" not in out and not (result.directory / "tipping.png").exists()


def test_a_run_over_its_time_budget_is_stopped_and_recorded() -> None:
    cfg = make_config(*SWEEP, "sweep.replicates=1")
    plan = sweeps.plan(cfg, NK)[1].rows()
    plan.loc[1, "model_n_steps"] = 100_000  # seconds of work, not milliseconds
    started = time.perf_counter()
    result = run_batch(NK, plan, time_budget=0.3)
    assert time.perf_counter() - started < 5
    summary = result.summary.to_pandas()
    assert summary["status"].tolist() == ["ok", "failed", "ok"]
    assert summary.loc[1, "message"] == (
        "TimeBudgetExceeded: stopped after the time budget of 0.3 s"
    )
    assert 0.3 <= summary.loc[1, "elapsed_s"] < 1.5
    assert pd.isna(summary.loc[1, "integration_index"])
    assert set(result.places.column("run_id").to_pylist()) == {plan.run_id[0], plan.run_id[2]}
    # Without a budget the same short runs give the same numbers.
    free = run_batch(NK, plan.iloc[[0, 2]]).summary.to_pandas()
    assert free["price_dispersion"].tolist() == summary.loc[[0, 2], "price_dispersion"].tolist()


def test_two_sweeps_never_write_one_dataset_at_once(tmp_path: Path, client: Client) -> None:
    directory = sweep(tmp_path, "shared", "sweep.replicates=1", client=client)
    cfg = make_config(*SWEEP, f"storage.root={tmp_path}", "storage.dataset=shared")
    with store.writer_lock(directory):  # another sweep (this process) is writing it
        with pytest.raises(store.DatasetBusy, match="is being written by another sweep"):
            run_sweep(cfg, client=client, **QUIET)
    # A lock left by a sweep that died is taken over.
    child = subprocess.Popen(["true"])
    child.wait()
    (directory / ".lock").write_text(json.dumps({"pid": child.pid, "host": socket.gethostname()}))
    assert run_sweep(cfg, client=client, **QUIET).n_skipped == 3  # 3 stored, 6 added
    assert not (directory / ".lock").exists()


def _worker_timers(dask_worker) -> dict[str, float]:
    return {name: pc.callback_time for name, pc in dask_worker.periodic_callbacks.items()}


def test_dask_config_reaches_the_workers_segmark_starts() -> None:
    """cluster.dask_config (defaults: no worker profiler, ticks every second) is set in the
    workers' processes and only for the sweep's cluster."""
    import dask

    from segmark.pipeline.schedule import connect

    cfg = make_config(
        *SWEEP, "cluster.n_workers=1", "cluster.dask_config.distributed.admin.tick.interval=2s"
    )
    with connect(cfg.cluster) as client:
        (timers,) = client.run(_worker_timers).values()
        assert dask.config.get("distributed.admin.tick.interval") == "2s"
    assert "profile" not in timers and "profile-cycle" not in timers
    assert timers["tick"] == 2000
    assert timers["memory_monitor"] == 500
    assert dask.config.get("distributed.admin.tick.interval") == "20ms"  # Dask's own again


FAULTS_PER_RUN = f"""
import resource, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from conftest import vector
from segmark.kernels import market
from segmark.kernels.nk import north_korea
from segmark.pipeline import run

params = vector()
net = north_korea()


def faults_per_run():
    market.simulate(net, params, 0, 6, 2, 1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for seed in range(1, 4):
        market.simulate(net, params, seed, 6, 2, 1)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 3


print(faults_per_run())
assert run.keep_run_arrays_on_the_heap()
print(faults_per_run())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_run_arrays_stay_on_the_heap_in_dask_workers(client: Client) -> None:
    """Dask's nanny sets MALLOC_TRIM_THRESHOLD_, which pins glibc's mmap threshold at 128 KiB:
    without keep_run_arrays_on_the_heap every NK run maps and unmaps its price memory (about
    140 page faults); with it, a run's arrays are reused from the heap."""
    assert all(client.run(lambda: "MALLOC_TRIM_THRESHOLD_" in os.environ).values())
    assert all(client.run(run_module.keep_run_arrays_on_the_heap).values())
    done = subprocess.run(
        [sys.executable, "-c", FAULTS_PER_RUN],
        env={**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"},
        capture_output=True,
        text=True,
        check=True,
    )
    pinned, on_heap = map(float, done.stdout.split())
    assert pinned > 100  # the 455 KB price memory alone is 112 pages
    assert on_heap < 10

"""Scheduling and storage on a real Dask LocalCluster: results independent of workers and
batching, failures recorded as data, part files written atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import make_config
from pandas.testing import assert_frame_equal

from segmark.pipeline import driver
from segmark.pipeline.cli import report
from segmark.pipeline.config import validate
from segmark.pipeline.driver import run_sweep
from segmark.pipeline.run import run_batch
from segmark.pipeline.store import (
    SERIES_SCHEMA,
    SUMMARY_SCHEMA,
    DatasetWriter,
    read_manifest,
    read_series,
    read_summary,
)
from segmark.pipeline.sweep import expand

SWEEP = (
    "model=small",
    "model.n_steps=60",
    "sweep.axes.policy.permit_strictness=[0.0,0.4,0.8]",
    "sweep.replicates=3",
    "cluster.dashboard_address=127.0.0.1:0",
    "progress=false",
)


def sweep_frames(root: Path, name: str, *overrides: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    cfg = make_config(*SWEEP, f"storage.root={root}", f"storage.dataset={name}", *overrides)
    result = run_sweep(cfg, echo=lambda _: None)
    summary = read_summary(result.directory).to_pandas().drop(columns="elapsed_s")
    series = read_series(result.directory).to_pandas()
    return (
        summary.sort_values("run_id", ignore_index=True),
        series.sort_values(["run_id", "step"], ignore_index=True),
    )


def test_results_do_not_depend_on_workers_or_batch_size(tmp_path: Path) -> None:
    one_worker = sweep_frames(tmp_path, "w1b1", "cluster.n_workers=1", "sweep.batch_size=1")
    two_workers = sweep_frames(tmp_path, "w2b4", "cluster.n_workers=2", "sweep.batch_size=4")
    auto = sweep_frames(tmp_path, "w2auto", "cluster.n_workers=2", "storage.rows_per_part=2")
    for other in (two_workers, auto):
        assert_frame_equal(one_worker[0], other[0])
        assert_frame_equal(one_worker[1], other[1])
    assert len(one_worker[0]) == 9
    assert one_worker[0]["status"].eq("ok").all()
    assert len(list((tmp_path / "w2auto" / "summary").glob("part-*.parquet"))) == 5


def test_failed_run_is_recorded_and_the_batch_goes_on() -> None:
    cfg = make_config(*SWEEP)
    plan = expand(cfg, validate(cfg)).head(3).copy()
    plan.loc[1, "model_network"] = "torus"  # the network builder raises for this run
    result = run_batch(plan)
    summary = result.summary.to_pandas()
    assert summary["status"].tolist() == ["ok", "failed", "ok"]
    assert summary.loc[1, "message"].startswith("ValueError: network kind must be one of")
    assert np.isnan(summary.loc[1, "price_dispersion"]) and pd.isna(summary.loc[1, "integrated"])
    assert result.n_failed == 1
    assert set(result.series.column("run_id").to_pylist()) == {plan.run_id[0], plan.run_id[2]}


def test_parts_are_renamed_into_place_and_dropped_on_error(tmp_path: Path) -> None:
    cfg = make_config(*SWEEP)
    result = run_batch(expand(cfg, validate(cfg)).head(2))
    with DatasetWriter(tmp_path / "ok", rows_per_part=10) as writer:
        writer.write(result.summary, result.series)
        visible = sorted(p.name for p in (tmp_path / "ok" / "summary").iterdir())
        assert visible == [".part-000000.parquet.tmp"]  # hidden from readers while open
    assert sorted(p.name for p in (tmp_path / "ok" / "summary").iterdir()) == [
        "part-000000.parquet"
    ]
    assert read_summary(tmp_path / "ok").schema.equals(SUMMARY_SCHEMA)
    assert read_series(tmp_path / "ok").schema.equals(SERIES_SCHEMA)

    with pytest.raises(RuntimeError), DatasetWriter(tmp_path / "bad") as writer:
        writer.write(result.summary, result.series)
        raise RuntimeError("driver stopped")
    assert list((tmp_path / "bad" / "summary").iterdir()) == []
    assert read_summary(tmp_path / "bad").num_rows == 0


def test_writer_casts_to_the_declared_schema(tmp_path: Path) -> None:
    cfg = make_config(*SWEEP)
    result = run_batch(expand(cfg, validate(cfg)).head(1))
    loose = pa.Table.from_pandas(result.summary.to_pandas(), preserve_index=False)
    with DatasetWriter(tmp_path / "d") as writer:
        writer.write(loose, result.series)
    assert read_summary(tmp_path / "d").schema.equals(SUMMARY_SCHEMA)


def test_an_interrupted_sweep_is_marked_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = driver.map_batches

    def dies_after_first_batch(*args, **kwargs):
        batches = real(*args, **kwargs)
        yield next(batches)
        raise RuntimeError("scheduler lost")

    monkeypatch.setattr(driver, "map_batches", dies_after_first_batch)
    cfg = make_config(
        *SWEEP, f"storage.root={tmp_path}", "storage.dataset=cut", "sweep.batch_size=2"
    )
    with pytest.raises(RuntimeError, match="scheduler lost"):
        driver.run_sweep(cfg, echo=lambda _: None)
    manifest = read_manifest(tmp_path / "cut")
    assert manifest["status"] == "incomplete"
    assert manifest["runs_planned"] == 9 and manifest["runs_stored"] == 2
    assert manifest["error"] == "RuntimeError: scheduler lost"
    assert read_summary(tmp_path / "cut").num_rows == 0  # the open part was dropped, not shown


def test_categorical_axis_is_reported_without_a_curve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = make_config(
        *SWEEP,
        "~sweep.axes.policy",
        "sweep.axes.model.network=[grid,ring]",
        "sweep.replicates=1",
        f"storage.root={tmp_path}",
    )
    result = run_sweep(cfg, echo=lambda _: None)
    report(result)
    out = capsys.readouterr().out
    assert "Across 2 values of model.network (grid, ring)" in out
    assert "figure:" not in out and not (result.directory / "tipping.png").exists()

"""Compaction on a real Dask LocalCluster: small parts merged after a sweep into one file per
table, only once there are enough, and a merge cut short losing runs to redo, never doubling
them."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import QUIET, SWEEP, assert_same, frames, make_config, sweep
from distributed import Client

from segmark.pipeline import store
from segmark.pipeline.driver import run_sweep
from segmark.pipeline.store import read_provenance, scan


def test_small_parts_are_compacted_after_the_sweep(
    tmp_path: Path, reference, client: Client
) -> None:
    lines: list[str] = []
    cfg = make_config(
        *SWEEP,
        "sweep.batch_size=1",
        "storage.compact_mb=64",
        "storage.compact_min_parts=9",
        f"storage.root={tmp_path}",
        "storage.dataset=compact",
    )
    directory = run_sweep(cfg, echo=lines.append, client=client).directory
    assert "compacted 9 part files into 1" in lines
    assert len(list((directory / "summary").glob("part-*.parquet"))) == 1
    assert len(list((directory / "timeseries").glob("part-*.parquet"))) == 1
    assert not [p for p in directory.rglob(".*")]
    assert_same(frames(directory), reference)
    part = next((directory / "summary").glob("part-*.parquet"))
    assert read_provenance(part)["model_version"]
    for sub in ("summary", "timeseries"):  # the nine parts' rows in one row group, not nine
        assert pq.ParquetFile(next((directory / sub).glob("part-*.parquet"))).num_row_groups == 1
    # A later sweep into the compacted dataset finds every run stored.
    again = run_sweep(cfg, echo=lines.append, client=client)
    assert again.n_skipped == 9


def test_compaction_waits_for_enough_parts(tmp_path: Path, client: Client) -> None:
    directory = sweep(tmp_path, "few", "sweep.batch_size=3", client=client)
    parts = sorted((directory / "summary").glob("part-*.parquet"))
    assert len(parts) == 3
    assert store.compact(directory, "zstd", target_mb=64, min_parts=4) == (3, 3)
    assert sorted((directory / "summary").glob("part-*.parquet")) == parts
    assert store.compact(directory, "zstd", target_mb=64, min_parts=3) == (3, 1)
    assert len(scan(directory)) == 9


def test_a_compaction_cut_short_loses_runs_to_redo_never_doubles_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client: Client
) -> None:
    directory = sweep(tmp_path, "cut", "sweep.batch_size=3", client=client)
    assert len(scan(directory)) == 9
    real_replace = store.compaction.os.replace

    def crash_on_rename(src, dst):
        if ".tmp" in str(src) and "part-" in str(dst):
            raise OSError("power cut")
        return real_replace(src, dst)

    monkeypatch.setattr(store.compaction.os, "replace", crash_on_rename)
    with pytest.raises(OSError, match="power cut"):
        store.compact(directory, "zstd", target_mb=64)
    monkeypatch.undo()
    stored = scan(directory)
    assert stored.duplicates == 0 and len(stored) < 9  # runs missing, none doubled
    cfg = make_config(*SWEEP, f"storage.root={tmp_path}", "storage.dataset=cut")
    run_sweep(cfg, client=client, **QUIET)  # the resume redoes them
    stored = scan(directory)
    assert len(stored) == 9 and stored.duplicates == 0
    assert not [p for p in directory.rglob(".*tmp")]

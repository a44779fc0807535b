"""The store on its own: part files written once per batch and read once per version, locks,
empty datasets in the declared schema, and the run-id set operations resume relies on."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_config

from segmark.models.nk import MODEL as NK
from segmark.pipeline import store
from segmark.pipeline import sweep as sweeps
from segmark.pipeline.run import run_and_store
from segmark.pipeline.store import read_series, read_summary, scan, schemas


def small_plan() -> pd.DataFrame:
    """Rows of short runs of the small model (the default sweep's 21 points x 2 replicates)."""
    cfg = make_config("+preset=small", "model.n_steps=60", "sweep.replicates=2")
    return sweeps.plan(cfg, NK)[1].rows()


def test_a_retried_task_rewrites_its_part_instead_of_adding_one(tmp_path: Path) -> None:
    plan = small_plan()
    directory = tmp_path / "twice"
    for sub in ("summary", "timeseries"):
        (directory / sub).mkdir(parents=True)
    first = run_and_store(plan.head(3), str(directory), "zstd", NK)
    again = run_and_store(plan.head(3), str(directory), "zstd", NK)  # Dask reran the task
    assert first.part == again.part and first.n_runs == 3
    stored = scan(directory)
    assert len(stored) == 3 and stored.duplicates == 0


def test_the_part_index_reads_each_part_once_per_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = small_plan()
    for sub in ("summary", "timeseries"):
        (tmp_path / sub).mkdir()
    reads: list[str] = []
    real_read = store.index._read_ids
    monkeypatch.setattr(
        store.index,
        "_read_ids",
        lambda part, verify, **kw: reads.append(part.name) or real_read(part, verify, **kw),
    )
    index = store.PartIndex(tmp_path)
    first = run_and_store(plan.head(3), str(tmp_path), "zstd", NK)
    index.add(first.part)
    index.add(first.part)  # unchanged: not read again
    second = run_and_store(plan.iloc[3:5], str(tmp_path), "zstd", NK)
    index.update()  # finds the part no receipt named
    assert reads == [f"part-{first.part}.parquet", f"part-{second.part}.parquet"]
    assert len(index.stored()) == 5
    again = run_and_store(plan.head(3), str(tmp_path), "zstd", NK)  # a rerun rewrites the part
    assert again.part == first.part
    index.update()
    assert reads[-1] == f"part-{first.part}.parquet" and len(reads) == 3
    (tmp_path / "summary" / f"part-{second.part}.parquet").unlink()
    index.update()  # a part removed (merged, or dropped as a duplicate) is forgotten
    assert len(index.stored()) == 3 and index.stored().duplicates == 0
    stored, scanned = index.stored(), scan(tmp_path, verify=False)
    assert np.array_equal(stored.run_ids, scanned.run_ids) and len(reads) == 4
    # a part unreadable when its receipt arrives is left where it is, for the final update
    broken = tmp_path / "summary" / "part-00000000deadbeef.parquet"
    broken.write_bytes(b"not parquet")
    index.add("00000000deadbeef")
    assert broken.exists() and not index.corrupt
    index.update()
    assert not broken.exists() and [p.name for p in index.corrupt] == [f".{broken.name}.corrupt"]
    assert len(index.stored()) == 3


def test_empty_dataset_reads_with_the_declared_schema(tmp_path: Path) -> None:
    store.open_dataset(tmp_path, 0, model_version=NK.tag, model=NK.describe())
    assert read_summary(tmp_path).schema.equals(schemas(NK).summary)
    assert read_series(tmp_path).schema.equals(schemas(NK).series)


def test_a_stale_lock_is_taken_over_only_if_it_is_still_the_dead_sweeps(tmp_path: Path) -> None:
    """Two sweeps may find the same dead sweep's lock; the one that comes second must not
    remove the lock the first has written meanwhile."""
    lock = tmp_path / ".lock"
    dead = {"pid": 2**22 + 12345, "host": socket.gethostname()}
    lock.write_text(json.dumps(dead))
    store.dataset._take_over_stale(lock, dead)
    assert not lock.exists()
    live = {"pid": os.getpid(), "host": socket.gethostname()}
    lock.write_text(json.dumps(live))  # the other sweep's new lock, after we read the dead one
    store.dataset._take_over_stale(lock, dead)
    assert json.loads(lock.read_text()) == live
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock"]


def test_held_in_agrees_with_isin() -> None:
    rng = np.random.default_rng(3)
    pool = np.array([f"{value:016x}".encode() for value in rng.integers(0, 2**60, 400)], "S16")
    stored = np.unique(pool[:250])
    ids = np.concatenate([pool, np.array([b"0" * 16, b"f" * 16], dtype="S16")])
    assert (store.held_in(ids, stored) == np.isin(ids, stored)).all()
    assert store.held_in(ids, stored).sum() == 250
    assert not store.held_in(ids, stored[:0]).any()


def test_sorted_unique_is_numpy_unique_of_run_ids() -> None:
    rng = np.random.default_rng(3)
    ids = np.frombuffer(rng.bytes(8 * 500).hex().encode(), "S16")
    ids = np.concatenate([ids, ids[rng.integers(0, 500, 200)]])  # some stored twice
    assert np.array_equal(store.index.sorted_unique(ids), np.unique(ids))
    assert store.index.sorted_unique(np.empty(0, dtype="S16")).shape == (0,)

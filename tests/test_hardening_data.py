"""Hostile input, issue 27 ("Hardening"), data integrity: a dataset never loses what it cannot
prove orphaned, and a resume sets aside parts that are not of the dataset (another model
version's, a column of another type, no status column) as it sets aside corrupt ones, so the
sweep ends with exactly the planned runs and every reader can read them."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from conftest import SWEEP as SMALL
from conftest import make_config, run_cli, sweep

from segmark.pipeline.driver import SET_ASIDE, run_sweep
from segmark.pipeline.store import read_series, read_summary, scan


def test_a_dangling_summary_stops_the_sweep_and_deletes_nothing(tmp_path: Path, client) -> None:
    """summary/ turned into a dangling link (an unmounted disk): the rerun exits 5 in one line
    naming it, and every time-series part is still there; restored, the sweep resumes."""
    directory = sweep(tmp_path, "kept", client=client)
    series = sorted((directory / "timeseries").glob("part-*.parquet"))
    assert series
    summary = directory / "summary"
    summary.rename(tmp_path / "unmounted")
    summary.symlink_to(tmp_path / "nowhere")
    done = run_cli(*SMALL, f"storage.root={tmp_path}", "storage.dataset=kept", cwd=tmp_path)
    assert done.returncode == 5, done.stderr[-2000:]
    message = done.stderr.strip()
    assert message.startswith(f"segmark: cannot read the dataset's summary parts at {summary}")
    assert "nothing was deleted" in message and len(message.splitlines()) == 1
    assert sorted((directory / "timeseries").glob("part-*.parquet")) == series
    summary.unlink()
    (tmp_path / "unmounted").rename(summary)
    again = run_cli(*SMALL, f"storage.root={tmp_path}", "storage.dataset=kept", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "9 already stored" in again.stdout


def _foreign(table: pa.Table, case: str) -> pa.Table:
    """A copy of a stored table as another dataset's part: new run ids, and the case's flaw."""
    ids = pc.binary_join_element_wise(table.column("run_id"), pa.scalar("x"), "")
    table = table.set_column(table.schema.get_field_index("run_id"), "run_id", ids)
    if case == "other model version":
        meta = json.loads(table.schema.metadata[b"segmark"])
        meta["model_version"] = "nk-0"
        return table.replace_schema_metadata({b"segmark": json.dumps(meta).encode()})
    if case == "a column of another type" and "price_cv" in table.column_names:
        i = table.schema.get_field_index("price_cv")
        return table.set_column(i, "price_cv", table.column(i).cast(pa.string()))
    if case == "no status column" and "status" in table.column_names:
        return table.drop_columns(["status"])
    return table


@pytest.mark.parametrize("case", ["other model version", "a column of another type",
                                  "no status column"])  # fmt: skip
def test_a_part_not_of_the_dataset_is_set_aside_at_resume(tmp_path: Path, client, case) -> None:
    """Another dataset's part copied in (its own run ids): the resume moves it aside with the
    message corrupt parts get, and the dataset holds the planned runs, readable by pyarrow."""
    directory = sweep(tmp_path, "mixed", client=client)
    source = sorted((directory / "summary").glob("part-*.parquet"))[0]
    name = "part-" + "f" * 32 + ".parquet"
    for sub in ("summary", "timeseries"):
        pq.write_table(_foreign(pq.read_table(directory / sub / source.name), case),
                       directory / sub / name)  # fmt: skip
    lines: list[str] = []
    cfg = make_config(*SMALL, f"storage.root={tmp_path}", "storage.dataset=mixed")
    result = run_sweep(cfg, echo=lines.append, client=client)
    assert f"{SET_ASIDE}: summary/.{name}.corrupt; its runs will be redone" in lines, lines
    assert result.n_skipped == result.n_runs == 9
    stored = scan(directory)
    assert len(stored) == 9 and stored.duplicates == 0 and not stored.corrupt
    assert read_summary(directory).num_rows == 9
    assert set(read_series(directory, ["run_id"]).column("run_id").to_pylist()) == {
        i.decode() for i in stored.run_ids.tolist()
    }

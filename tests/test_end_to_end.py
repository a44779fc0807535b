"""The smoke sweep through the real ``segmark`` command on a LocalCluster, read back with
pyarrow, pandas and DuckDB and checked row by row against the run table."""

from __future__ import annotations

import re
import subprocess
from importlib import metadata
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pytest
from conftest import make_config
from omegaconf import OmegaConf

from segmark.kernels import market
from segmark.models.nk import MODEL as NK
from segmark.pipeline import provenance
from segmark.pipeline import sweep as sweeps
from segmark.pipeline.run import run_one
from segmark.pipeline.store import read_manifest, read_provenance, schemas

TABLES = schemas(NK)


@pytest.fixture(scope="module")
def plan() -> pd.DataFrame:
    cfg = make_config("sweep=smoke")
    return sweeps.plan(cfg, NK)[1].rows()


def test_dataset_layout(smoke_dataset: Path) -> None:
    names = sorted(p.name for p in smoke_dataset.iterdir())
    assert names == [
        "config.yaml",
        "manifest.json",
        "places",
        "plan.parquet",
        "summary",
        "timeseries",
        "tipping.png",
    ]
    assert not list(smoke_dataset.rglob(".*"))  # no temporary files left behind
    manifest = read_manifest(smoke_dataset)
    assert manifest["status"] == "complete"
    assert manifest["runs_planned"] == manifest["runs_stored"] == 6
    assert manifest["runs_failed"] == 0
    assert manifest["model_version"] == "nk-9" and manifest["model"] == NK.describe()
    config = OmegaConf.load(smoke_dataset / "config.yaml")
    assert config.sweep.name == "smoke" and config.model.n_regions == 40


def test_summary_matches_the_run_table_row_by_row(smoke_dataset: Path, plan: pd.DataFrame) -> None:
    table = ds.dataset(smoke_dataset / "summary", format="parquet").to_table()
    assert table.schema.equals(TABLES.summary)
    summary = table.to_pandas().set_index("run_id").loc[plan["run_id"]].reset_index()
    assert len(summary) == len(plan) == 6 and summary["run_id"].is_unique
    for column in [p.column for p in NK.parameters] + ["point", "replicate", "seed"]:
        assert summary[column].tolist() == plan[column].tolist(), column
    assert summary["status"].eq("ok").all() and summary["message"].isna().all()
    # Each stored outcome is what the kernel gives for that row's parameters and seed.
    for row in plan.to_dict("records"):
        expected = run_one(NK, row).outcomes
        stored = summary.loc[summary.run_id == row["run_id"], list(market.OUTCOMES)]
        assert np.allclose(stored.to_numpy(dtype=float)[0], expected, rtol=0, atol=0)


def test_plan_file_is_the_run_table(smoke_dataset: Path, plan: pd.DataFrame) -> None:
    stored = pd.read_parquet(smoke_dataset / "plan.parquet")
    assert ds.dataset(smoke_dataset / "plan.parquet").schema.equals(TABLES.plan)
    assert stored["run_id"].tolist() == plan["run_id"].tolist()
    assert stored["seed"].tolist() == plan["seed"].tolist()


def test_timeseries_read_back(smoke_dataset: Path, plan: pd.DataFrame) -> None:
    table = ds.dataset(smoke_dataset / "timeseries", format="parquet").to_table()
    assert table.schema.equals(TABLES.series)
    series = pd.read_parquet(smoke_dataset / "timeseries")
    per_run = series.groupby("run_id")["step"].apply(list)
    steps = list(range(4, 105, 4))  # small model: 104 weeks sampled every 4
    assert sorted(per_run.index) == sorted(plan["run_id"])
    assert all(s == steps for s in per_run)


def test_places_read_back(smoke_dataset: Path, plan: pd.DataFrame) -> None:
    """A row per run and unit, the unit's labels from the model's network and the kernel's
    window means, as float32."""
    table = ds.dataset(smoke_dataset / "places", format="parquet").to_table()
    assert table.schema.equals(TABLES.places)
    places = table.to_pandas()
    assert len(places) == 6 * 40 and not places.duplicated(["run_id", "unit"]).any()
    row = plan.to_dict("records")[0]
    run = places[places.run_id == row["run_id"]].sort_values("unit")
    expected = run_one(NK, row).places.astype(np.float32)
    assert np.array_equal(run[list(market.PLACES)].to_numpy(), expected)
    labels = NK.units({p.name: row[p.column] for p in NK.parameters})
    assert run["name"].tolist() == list(labels["name"])
    assert run["province"].tolist() == list(labels["province"])
    assert places["linked"].between(0, 1).all() and places["shortage"].between(0, 1).all()
    text = (Path(__file__).parents[1] / "docs" / "OUTPUT.md").read_text()
    query = next(q for q in re.findall(r"```sql\n(.*?)```", text, re.S) if "province" in q)
    query = re.sub(r"runs/default-[0-9-]+", str(smoke_dataset), query)  # docs/OUTPUT.md's
    by_province = duckdb.sql(query.replace("= 0.1", "= 0.5")).df()
    assert len(by_province) == 9 and by_province["shortage"].notna().all()
    assert by_province["shortage"].is_monotonic_decreasing


def test_duckdb_reads_the_dataset(smoke_dataset: Path) -> None:
    rows = duckdb.sql(
        f"""
        SELECT policy_permit_strictness AS strictness, count(*) AS runs,
               avg(CAST(integrated AS DOUBLE)) AS p_integrated
        FROM read_parquet('{smoke_dataset}/summary/*.parquet')
        GROUP BY 1 ORDER BY 1
        """
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [(0.0, 2), (0.5, 2), (1.0, 2)]
    assert rows[0][2] == 1.0 and rows[-1][2] == 0.0  # free trade integrates, full permits do not
    joined = duckdb.sql(
        f"""
        SELECT count(*) FROM read_parquet('{smoke_dataset}/timeseries/*.parquet') t
        JOIN read_parquet('{smoke_dataset}/summary/*.parquet') s USING (run_id)
        """
    ).fetchall()
    assert joined == [(6 * 26,)]


def test_the_output_docs_hub_query_reads_prices_and_dollar_rates(smoke_dataset: Path) -> None:
    """docs/OUTPUT.md's one DuckDB query for a run's hub series, on this dataset."""
    text = (Path(__file__).parents[1] / "docs" / "OUTPUT.md").read_text()
    query = next(q for q in re.findall(r"```sql\n(.*?)```", text, re.S) if "usd_hyesan" in q)
    query = re.sub(r"runs/default-[0-9-]+", str(smoke_dataset), query)
    rows = duckdb.sql(query.replace("= 0.1", "= 0.5")).df()
    assert len(rows) == 26 and rows["step"].is_monotonic_increasing
    rice, usd = rows.filter(like="rice_"), rows.filter(like="usd_")
    assert rice.shape[1] == usd.shape[1] == 3
    assert ((rice > 1000) & (rice < 30000)).all().all()  # won per kg, around the survey's 5,045
    spread = np.log(usd.max(axis=1) / usd.min(axis=1))
    assert (spread <= NK.parameter("model.remittance_cost").default + 1e-6).all()  # float32


def test_provenance_in_every_part_and_the_manifest(smoke_dataset: Path) -> None:
    parts = sorted(smoke_dataset.glob("*/part-*.parquet"))
    assert parts
    records = [read_provenance(part) for part in parts]
    assert all(record == records[0] for record in records)
    record = records[0]
    assert record["model_version"] == NK.tag
    assert record["root_seed"] == 1
    assert record["versions"]["numba"] and record["versions"]["segmark"]
    installed = {name: metadata.version(name) for name in provenance.PACKAGES}
    assert {name: record["versions"][name] for name in provenance.PACKAGES} == installed
    assert OmegaConf.create(record["config"]).sweep.name == "smoke"
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True
    )
    if head.returncode == 0:
        assert record["git"]["commit"] == head.stdout.strip()
    manifest = read_manifest(smoke_dataset)["provenance"]
    assert provenance.for_parts(manifest) == record  # the manifest adds each file's digest
    assert manifest["code"]["digest"] == provenance.code_record(NK)["digest"]

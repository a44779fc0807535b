"""Storage: Parquet write throughput and read-back time of typical aggregates, pyarrow vs DuckDB.

A realistic dataset: the run table of a 10 x 10 grid (permit strictness x transport investment)
x replicates, with segmark's declared schemas (every parameter, status, outcomes; 130 sampled
weeks of series per run as a 520-week run with sample_every 4 stores). Outcomes and series
values are random numbers (full-entropy floats compress like real ones, a little worse), so no
runs need computing. It is written as the workers write it (``store.write_batch``: zstd, page
checksums, atomic renames, one summary and one series part per batch), then compacted as a sweep
ends (``store.compact``), and read back with the pyarrow dataset API and with DuckDB:
  summary  mean of an outcome grouped by the two swept parameters
  series   the series joined to the summary, mean of a series grouped by a parameter and step
on the parts as written and after compaction (median of repeats).

    .venv/bin/python -m benchmarks.storage [--runs 10000] [--batch 100] [--repeats 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds

from benchmarks.common import compose_config, median_seconds, table, write_json
from segmark.models.nk import MODEL
from segmark.pipeline import sweep as sweeps
from segmark.pipeline.store import SERIES_DIR, SUMMARY_DIR, compact, schemas, write_batch

A, B = "policy_permit_strictness", "policy_transport_investment"
TABLES = schemas(MODEL)
OUTCOME = next(o.name for o in MODEL.outcomes if o.dtype is float)
SERIES = MODEL.series[0].name
SAMPLES = 130  # sampled weeks of a default run (520 weeks, every 4th)


def plan_rows(runs: int):
    cfg = compose_config(
        [
            "sweep.axes.policy.permit_strictness=${linspace:0,0.2,10}",
            "sweep.axes.policy.transport_investment=${linspace:0,0.5,10}",
            f"sweep.replicates={max(1, runs // 100)}",
        ]
    )
    return sweeps.plan(cfg, MODEL)[1].rows()


def _random(field: pa.Field, n: int, rng: np.random.Generator) -> pa.Array:
    if pa.types.is_boolean(field.type):
        return pa.array(rng.random(n) < 0.5)
    if pa.types.is_floating(field.type):
        return pa.array(rng.random(n).astype(field.type.to_pandas_dtype()))
    if pa.types.is_string(field.type):
        return pa.array(["ok"] * n if field.name == "status" else [None] * n, type=pa.string())
    return pa.array(rng.integers(0, 1000, n), type=field.type)


def batch_tables(rows, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    """A batch's summary and series tables in the declared schemas."""
    n = len(rows)
    plan = {f.name: pa.array(rows[f.name].to_numpy(), type=f.type) for f in TABLES.plan}
    summary = {
        f.name: plan[f.name] if f.name in plan else _random(f, n, rng) for f in TABLES.summary
    }
    ids = np.repeat(rows["run_id"].to_numpy(), SAMPLES)
    step = np.tile(np.arange(4, 4 * SAMPLES + 1, 4, dtype=np.int32), n)
    series = {"run_id": pa.array(ids, type=pa.string()), "step": pa.array(step)}
    for f in TABLES.series:
        series.setdefault(f.name, _random(f, n * SAMPLES, rng))
    return pa.table(summary, schema=TABLES.summary), pa.table(series, schema=TABLES.series)


def write(directory: Path, batches: list[tuple[pa.Table, pa.Table]]) -> float:
    for sub in (SUMMARY_DIR, SERIES_DIR):
        (directory / sub).mkdir(parents=True)
    start = time.perf_counter()
    for summary, series in batches:
        write_batch(directory, summary, series, "zstd", TABLES)
    return time.perf_counter() - start


def queries(directory: Path) -> dict[str, Callable[[], object]]:
    summary, series = directory / SUMMARY_DIR, directory / SERIES_DIR
    con = duckdb.connect()

    def arrow_summary():
        t = ds.dataset(summary, format="parquet").to_table(columns=[A, B, OUTCOME])
        return t.group_by([A, B]).aggregate([(OUTCOME, "mean")])

    def arrow_series():
        runs = ds.dataset(summary, format="parquet").to_table(columns=["run_id", A])
        values = ds.dataset(series, format="parquet").to_table(columns=["run_id", "step", SERIES])
        return values.join(runs, "run_id").group_by([A, "step"]).aggregate([(SERIES, "mean")])

    def duck_summary():
        return con.sql(
            f"SELECT {A}, {B}, avg({OUTCOME}) FROM read_parquet('{summary}/*.parquet') "
            f"GROUP BY {A}, {B}"
        ).fetchall()

    def duck_series():
        return con.sql(
            f"SELECT s.{A}, t.step, avg(t.{SERIES}) FROM read_parquet('{series}/*.parquet') t "
            f"JOIN read_parquet('{summary}/*.parquet') s USING (run_id) GROUP BY s.{A}, t.step"
        ).fetchall()

    return {
        "pyarrow summary": arrow_summary,
        "DuckDB summary": duck_summary,
        "pyarrow series": arrow_series,
        "DuckDB series": duck_series,
    }


def check_agree(fns: dict[str, Callable[[], object]]) -> None:
    """pyarrow and DuckDB give the same groups and means."""
    arrow = fns["pyarrow summary"]().to_pylist()
    duck = {(a, b): m for a, b, m in fns["DuckDB summary"]()}
    assert len(arrow) == len(duck)
    for row in arrow:
        assert abs(row[f"{OUTCOME}_mean"] - duck[(row[A], row[B])]) < 1e-9


def measure(runs: int, batch: int, repeats: int) -> dict:
    rows = plan_rows(runs)
    rng = np.random.default_rng(0)
    batches = [batch_tables(rows.iloc[i : i + batch], rng) for i in range(0, len(rows), batch)]
    n_rows = sum(s.num_rows + t.num_rows for s, t in batches)
    report: dict = {"runs": len(rows), "runs_per_part": batch, "series_rows_per_run": SAMPLES}
    with tempfile.TemporaryDirectory() as tmp:
        writes, size = [], 0
        for r in range(repeats if repeats < 3 else 3):
            directory = Path(tmp) / f"w{r}"
            writes.append(write(directory, batches))
            size = sum(p.stat().st_size for p in directory.rglob("*.parquet"))
        wall = float(np.median(writes))
        report["write"] = {
            "wall_s": wall,
            "mb_on_disk": size / 1e6,
            "mb_per_s": size / 1e6 / wall,
            "rows": n_rows,
            "rows_per_s": n_rows / wall,
            "parts": 2 * len(batches),
        }
        directory = Path(tmp) / "w0"
        reads = {}
        for stage in ("as written", "compacted"):
            if stage == "compacted":
                start = time.perf_counter()
                _, after = compact(directory, "zstd", 64.0)
                report["compact"] = {"wall_s": time.perf_counter() - start, "parts": after}
            fns = queries(directory)
            check_agree(fns)
            reads[stage] = {name: median_seconds(fn, repeats) for name, fn in fns.items()}
        report["read_s"] = reads
    return report


def show(report: dict) -> str:
    w = report["write"]
    lines = [
        f"storage: {report['runs']:,} runs ({w['rows']:,} summary + series rows) in parts of "
        f"{report['runs_per_part']} runs: written at {w['mb_per_s']:.3g} MB/s, "
        f"{w['rows_per_s']:,.0f} rows/s ({w['mb_on_disk']:.3g} MB, {w['parts']} files); "
        f"compacted to {report['compact']['parts']} pair(s) in {report['compact']['wall_s']:.2g} s"
    ]
    stages = list(report["read_s"])
    rows = [
        (query, *(report["read_s"][stage][query] * 1e3 for stage in stages))
        for query in report["read_s"][stages[0]]
    ]
    lines.append(table(rows, ("read-back (ms)", *stages)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=25, help="runs per part (a 2 s task)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    report = measure(args.runs, args.batch, args.repeats)
    print(show(report))
    write_json(args.json, report)
    return report


if __name__ == "__main__":
    main()

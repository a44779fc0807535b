"""The declared schemas of a model's datasets, and the names of a dataset's files.

Every model's runs are stored in the same layout: identity columns, then every parameter as
``<group>_<name>`` (its declared type), then status, message and run time, then every outcome
(float64, bool for bool outcomes); series rows are the run id, the step and every declared
series as float32. docs/OUTPUT.md describes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa

from segmark.models.interface import Model

SUMMARY_DIR = "summary"
SERIES_DIR = "timeseries"
PLAN_FILE = "plan.parquet"
CONFIG_FILE = "config.yaml"
MANIFEST_FILE = "manifest.json"
PROVENANCE_KEY = "segmark"
STATUS_OK = "ok"
STATUS_FAILED = "failed"
ID_COLUMNS = ("run_id", "point", "replicate", "seed")

ARROW_TYPES = {int: pa.int64(), float: pa.float64(), str: pa.string(), bool: pa.bool_()}


@dataclass(frozen=True)
class Schemas:
    """A model's three tables: the plan (one row per planned run), the summary (one row per
    stored run) and the series (one row per run and sampled step)."""

    plan: pa.Schema
    summary: pa.Schema
    series: pa.Schema

    @property
    def point(self) -> pa.Schema:
        """The parameter columns of the plan: one design point."""
        return pa.schema([f for f in self.plan if f.name not in ID_COLUMNS])


@lru_cache(maxsize=16)
def schemas(model: Model) -> Schemas:
    """The schemas of ``model``'s datasets, generated from its declarations."""
    plan = pa.schema(
        [
            pa.field("run_id", pa.string(), nullable=False),
            pa.field("point", pa.int64(), nullable=False),
            pa.field("replicate", pa.int32(), nullable=False),
            pa.field("seed", pa.int64(), nullable=False),
            *(pa.field(p.column, ARROW_TYPES[p.dtype], nullable=False) for p in model.columns()),
        ]
    )
    summary = pa.schema(
        [
            *plan,
            pa.field("status", pa.string(), nullable=False),
            pa.field("message", pa.string()),
            pa.field("elapsed_s", pa.float64(), nullable=False),
            *(pa.field(o.name, ARROW_TYPES[o.dtype]) for o in model.outcomes),
        ]
    )
    series = pa.schema(
        [
            pa.field("run_id", pa.string(), nullable=False),
            pa.field("step", pa.int32(), nullable=False),
            *(pa.field(s.name, pa.float32()) for s in model.series),
        ]
    )
    return Schemas(plan, summary, series)


def dictionary_columns(schema: pa.Schema) -> list[str]:
    """The columns worth dictionary encoding: the strings (run ids repeated on every series
    row, status, names). Numbers are stored plain: a float column of a sweep rarely repeats a
    value, and a dictionary page built to be thrown away costs write time and file size
    (a 40-run series part of the default model: 44% of the write time, 30% of the bytes)."""
    strings = (pa.types.is_string, pa.types.is_large_string)
    return [f.name for f in schema if any(is_string(f.type) for is_string in strings)]

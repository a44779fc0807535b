"""The declared schemas of a model's datasets, and the names of a dataset's files.

Every model's runs are stored in the same layout: identity columns, then every parameter as
``<group>_<name>`` (its declared type), then status, message and run time, then every outcome
(float64, bool for bool outcomes); series rows are the run id, the step and every declared
series as float32; places rows (models with places) the run id, the unit, its labels and every
declared place output as float32. docs/OUTPUT.md describes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa

from segmark.models.interface import PLACE_LABELS, Model

SUMMARY_DIR = "summary"
SERIES_DIR = "timeseries"
PLACES_DIR = "places"
# the tables with rows per run and something (a step, a unit): written before the summary part
# of their batch, under the same part name, and rewritten with it; with the key of a row
DETAIL_KEYS = {SERIES_DIR: ("run_id", "step"), PLACES_DIR: ("run_id", "unit")}
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
    """A model's tables: the plan (one row per planned run), the summary (one row per stored
    run), the series (one row per run and sampled step) and the places (one row per run and
    unit; no columns for a model without places)."""

    plan: pa.Schema
    summary: pa.Schema
    series: pa.Schema
    places: pa.Schema

    def detail(self, directory: str) -> pa.Schema:
        """The schema of the detail table stored under ``directory`` (DETAIL_KEYS)."""
        return self.series if directory == SERIES_DIR else self.places

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
    labels = [pa.field(name, pa.string()) for name in PLACE_LABELS[:2]]
    labels += [pa.field(name, pa.float32()) for name in PLACE_LABELS[2:]]
    places = pa.schema(
        [
            pa.field("run_id", pa.string(), nullable=False),
            pa.field("unit", pa.int32(), nullable=False),
            *labels,
            *(pa.field(p.name, pa.float32()) for p in model.places),
        ]
        if model.places
        else []
    )
    return Schemas(plan, summary, series, places)


def dictionary_columns(schema: pa.Schema) -> list[str]:
    """The columns worth dictionary encoding: the strings (run ids repeated on every series
    row, status, names). Numbers are stored plain: a float column of a sweep rarely repeats a
    value, and a dictionary page built to be thrown away costs write time and file size
    (a 40-run series part of the default model: 44% of the write time, 30% of the bytes)."""
    strings = (pa.types.is_string, pa.types.is_large_string)
    return [f.name for f in schema if any(is_string(f.type) for is_string in strings)]

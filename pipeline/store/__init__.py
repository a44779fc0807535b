"""Parquet storage: the declared schemas and the only writer of a sweep's dataset.

Layout of a dataset directory (see docs/OUTPUT.md):
  manifest.json        status (running, complete, incomplete), run counts, the model
  config.yaml          resolved config of the sweep
  plan.parquet         the run table (one row per planned run)
  summary/part-*.parquet     one row per run
  timeseries/part-*.parquet  one row per run and sampled step
The disk is the record of what is done: a run is stored when its summary row is in a part file,
and a rerun into the same dataset skips it. The modules: ``schemas`` (a model's tables),
``parts`` (writing a batch), ``index`` (what a dataset holds), ``compaction`` (rewrites of a
finished dataset), ``dataset`` (manifest, plan, lock, reading).
"""

from segmark.pipeline.store.compaction import compact, drop_duplicates, drop_runs
from segmark.pipeline.store.dataset import (
    DatasetBusy,
    open_dataset,
    read_file,
    read_manifest,
    read_model,
    read_places,
    read_plan_ids,
    read_series,
    read_summary,
    write_manifest,
    write_plan,
    writer_lock,
)
from segmark.pipeline.store.index import (
    Expected,
    PartIndex,
    StoredRuns,
    held_in,
    release_arrow_memory,
    scan,
    verify_part,
)
from segmark.pipeline.store.parts import (
    UnreadableDataset,
    parquet_bytes,
    part_key,
    read_provenance,
    remove_leftovers,
    staged_file,
    write_batch,
    write_table_atomic,
)
from segmark.pipeline.store.schemas import (
    CONFIG_FILE,
    MANIFEST_FILE,
    PLACES_DIR,
    PLAN_FILE,
    SERIES_DIR,
    STATUS_FAILED,
    STATUS_OK,
    SUMMARY_DIR,
    Schemas,
    dictionary_columns,
    schemas,
)

__all__ = [
    "CONFIG_FILE",
    "MANIFEST_FILE",
    "PLACES_DIR",
    "PLAN_FILE",
    "SERIES_DIR",
    "STATUS_FAILED",
    "STATUS_OK",
    "SUMMARY_DIR",
    "DatasetBusy",
    "Expected",
    "PartIndex",
    "Schemas",
    "StoredRuns",
    "UnreadableDataset",
    "compact",
    "dictionary_columns",
    "drop_duplicates",
    "drop_runs",
    "held_in",
    "open_dataset",
    "parquet_bytes",
    "part_key",
    "read_file",
    "read_manifest",
    "read_model",
    "read_places",
    "read_plan_ids",
    "read_provenance",
    "read_series",
    "read_summary",
    "release_arrow_memory",
    "remove_leftovers",
    "scan",
    "schemas",
    "staged_file",
    "verify_part",
    "write_batch",
    "write_manifest",
    "write_plan",
    "write_table_atomic",
    "writer_lock",
]

"""Run a sweep end to end: validate -> expand -> schedule on Dask -> workers write Parquet.

The dataset on disk is the record of what is done. A sweep into an existing dataset (resume, more
replicates, new points) runs only the runs it does not hold; workers write their own parts and
send back receipts; at the end every planned run must be stored exactly once.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import shlex
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from tqdm import tqdm

from segmark.models.interface import Model
from segmark.pipeline import estimates, provenance
from segmark.pipeline.batching import Batcher
from segmark.pipeline.config import Config, ConfigError, to_yaml
from segmark.pipeline.designs import Design
from segmark.pipeline.run import BatchResult, run_and_store
from segmark.pipeline.schedule import (
    Client,
    connect,
    dashboard_link,
    map_batches,
    total_threads,
)
from segmark.pipeline.store import (
    MANIFEST_FILE,
    Expected,
    PartIndex,
    StoredRuns,
    UnreadableDataset,
    compact,
    drop_duplicates,
    drop_runs,
    held_in,
    open_dataset,
    read_manifest,
    remove_leftovers,
    schemas,
    write_manifest,
    write_plan,
    writer_lock,
)
from segmark.pipeline.sweep import RunTable
from segmark.pipeline.sweep import plan as plan_runs
from segmark.pipeline.validate import installed_model

# what a resume says of each part it sets aside (its runs are redone)
SET_ASIDE = (
    "moved aside a part that is unreadable or not of this dataset (another model version or schema)"
)


@dataclass(frozen=True)
class SweepResult:
    directory: Path
    design: Design
    n_runs: int
    n_failed: int
    n_skipped: int
    wall_s: float
    dashboard: str
    derived: tuple[Any, ...] = ()  # each batch's ``derive`` result, of the runs this sweep ran


def dataset_directory(cfg: Config, now: datetime | None = None) -> Path:
    """``<root>/<storage.dataset>``, or ``<root>/<sweep name>-<timestamp>`` made unique with a
    ``-2``, ``-3``... suffix when two sweeps start in the same second."""
    root = Path(cfg.storage.root).expanduser().resolve()
    if cfg.storage.dataset:
        return root / cfg.storage.dataset
    stem = f"{cfg.sweep.name}-{(now or datetime.now()):%Y%m%d-%H%M%S}"
    candidate, n = root / stem, 1
    while candidate.exists():
        n += 1
        candidate = root / f"{stem}-{n}"
    return candidate


def model_of(cfg: Config) -> Model:
    """The installed model ``cfg`` names (``model.name``), or a ConfigError listing them."""
    return installed_model(cfg.model_name)


def plan_sweep(cfg: Config, model: Model) -> tuple[Design, RunTable, Path]:
    """Validate and expand; check that an existing dataset can take this sweep. Writes nothing."""
    design, plan = plan_runs(cfg, model)  # validates every setting (Dask's too)
    return design, plan, check_dataset(cfg, model)


def check_dataset(cfg: Config, model: Model) -> Path:
    """The sweep's dataset directory, once checked that it can take this sweep (a dataset of
    this model version, or none yet unless ``retry_failed``). Writes nothing."""
    directory = dataset_directory(cfg)
    if directory.exists():
        if not (directory / MANIFEST_FILE).exists():
            raise ConfigError(
                f"storage.dataset: {directory} exists but is not a segmark dataset (no "
                f"{MANIFEST_FILE}); choose another storage.dataset or storage.root."
            )
        try:
            manifest = read_manifest(directory)
        except UnreadableDataset as error:  # before any work: the sweep cannot use it
            raise ConfigError(f"storage.dataset: {error}") from None
        version = manifest.get("model_version")
        if version != model.tag:
            raise ConfigError(
                f"storage.dataset: {directory} holds runs of model version {version!r}, this is "
                f"{model.tag!r}; results of two models or model versions are never mixed: "
                "choose a new storage.dataset."
            )
        if not cfg.storage.allow_code_change:
            provenance.check_code(directory, manifest.get("provenance") or {}, model)
    elif cfg.retry_failed:
        raise ConfigError(
            f"retry_failed=true needs an existing dataset: storage.dataset names none under "
            f"{directory.parent}."
        )
    return directory


def describe_plan(cfg: Config, design: Design) -> str:
    """The log line "sweep NAME: N policy points x M shock/model points x R replicates = K runs"
    (for a grid, with its axes)."""
    line = f"sweep {cfg.sweep.name}: {design.describe(cfg.sweep.replicates)}"
    if design.grid:
        line += "; axes: " + ", ".join(f"{path} ({len(v)})" for path, v in design.grid.items())
    return line


def use_system_allocator() -> None:
    """Arrow allocations of this process through malloc (its buffers already made keep theirs)."""
    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


def run_sweep(
    cfg: Config,
    echo: Callable[[str], None] = print,
    client: Client | None = None,
    model: Model | None = None,
    derive: Callable[[BatchResult], Any] | None = None,
) -> SweepResult:
    """Run every planned run of ``cfg`` not yet stored and store it; returns where it is.

    ``client``: an open Dask client to use instead of the one ``cfg.cluster`` describes;
    ``model``: a model object instead of the installed model ``cfg`` names; ``derive``: a
    reduction of each batch's result made on its worker (``run.run_and_store``), returned in
    ``SweepResult.derived`` (runs found stored are not run, so not derived). The driver's
    process allocates Arrow memory with the system allocator, which hands freed memory back
    (Arrow's default, mimalloc, keeps it: 542 vs 451 MB peak at 10^6 runs).
    """
    use_system_allocator()
    model = model or model_of(cfg)
    design, plan, directory = plan_sweep(cfg, model)
    echo(describe_plan(cfg, design))
    started = time.perf_counter()
    with nullcontext(client) if client else connect(cfg.cluster) as client:
        workers = total_threads(client)
        echo(f"dask: {workers} worker threads")
        dashboard = dashboard_link(client)  # what it bound, printed before the first run
        echo(f"dask dashboard: {dashboard}")
        existing = directory.exists()
        if not existing:
            directory.parent.mkdir(parents=True, exist_ok=True)
            directory.mkdir()  # claims the name: a second sweep picking it at once fails here
        with writer_lock(directory):
            n_skipped, n_failed_total, derived = _sweep_into(
                cfg, model, plan, directory, existing, client, workers, echo, derive
            )
    wall = time.perf_counter() - started
    write_manifest(directory, wall_s=round(wall, 3))
    return SweepResult(
        directory, design, len(plan), n_failed_total, n_skipped, wall, dashboard, tuple(derived)
    )


def _sweep_into(
    cfg: Config,
    model: Model,
    plan: RunTable,
    directory: Path,
    existing: bool,
    client: Client,
    workers: int,
    echo: Callable[[str], None],
    derive: Callable[[BatchResult], Any] | None = None,
) -> tuple[int, int, list[Any]]:
    """Run what ``directory`` lacks of ``plan``, check it, compact it; the caller holds the
    dataset's lock. Returns (runs skipped as already stored, planned runs that failed, each
    batch's ``derive`` result)."""
    parts = _part_index(directory, existing, Expected(schemas(model), model.tag))
    todo = _runs_to_do(cfg, plan, parts, echo) if existing else np.arange(len(plan))
    config_yaml = to_yaml(cfg)
    record = provenance.collect(model, cfg.sweep.root_seed, *_recorded_config(cfg, config_yaml))
    open_dataset(
        directory, len(plan), model_version=model.tag, model=model.describe(), provenance=record
    )
    n_skipped = len(plan) - len(todo)
    if n_skipped:
        echo(f"resuming {directory.name}: {n_skipped} of {len(plan)} runs already stored")
    try:
        derived = _run_batches(
            cfg, model, plan, todo, directory, client, workers, parts, config_yaml, record, derive
        )
        stored = _check_stored(cfg, plan, directory, parts, echo)
    except BaseException as error:
        _mark_stopped(directory, error, echo)
        raise
    n_failed_total = int(held_in(plan.run_id, stored.failed_ids).sum())
    write_manifest(
        directory,
        status="complete",
        runs_stored=len(stored),
        runs_failed=n_failed_total,
        error=None,
    )
    return n_skipped, n_failed_total, derived


def _recorded_config(cfg: Config, config_yaml: str) -> tuple[str, str | None]:
    """The config a provenance record carries: a list design's points left out (provenance)."""
    if not cfg.sweep.points:
        return config_yaml, None
    short = copy.copy(cfg)
    short.sweep = dataclasses.replace(cfg.sweep, points=[])
    return to_yaml(short), config_yaml


def _run_batches(
    cfg: Config,
    model: Model,
    plan: RunTable,
    todo: np.ndarray,
    directory: Path,
    client: Client,
    workers: int,
    parts: PartIndex,
    config_yaml: str,
    record: dict[str, Any],
    derive: Callable[[BatchResult], Any] | None,
) -> list[Any]:
    """The runs at ``todo`` in batches on the cluster, each part read as its receipt arrives;
    the plan and config written while the first tasks run (the workers would wait). Returns
    each batch's ``derive`` result (none without ``derive``)."""
    derived: list[Any] = []
    prior = estimates.run_seconds(model, plan.points)[plan.point[todo]].mean() if len(todo) else 0
    batcher = Batcher(plan, todo, cfg.sweep.batch_size, cfg.cluster.task_seconds, workers, prior)
    task = partial(
        run_and_store,
        directory=str(directory),
        compression=cfg.storage.compression,
        model=model,
        provenance=provenance.for_parts(record),
        time_budget=cfg.sweep.time_budget_s,
        derive=derive,
    )
    in_flight = cfg.cluster.max_in_flight or 4 * workers
    n_failed = 0
    with (
        ThreadPoolExecutor(max_workers=1) as background,
        tqdm(
            total=len(plan),
            initial=len(plan) - len(todo),
            unit="run",
            disable=not cfg.progress,
            smoothing=0.1,
        ) as bar,
    ):
        planned = background.submit(
            write_plan,
            directory,
            plan.chunks(),
            config_yaml,
            cfg.storage.compression,
            schemas(model).plan,
        )
        for receipt in map_batches(client, task, batcher, in_flight):
            if planned.done():
                planned.result()  # its error (a full disk) ends the sweep now
            batcher.observe(receipt.n_runs, receipt.run_seconds)
            n_failed += receipt.n_failed
            bar.update(receipt.n_runs)
            bar.set_postfix(failed=n_failed, batch=batcher.size, refresh=False)
            parts.add(receipt.part, whole=True)  # read now, while the workers run
            if derive is not None:
                derived.append(receipt.derived)
    planned.result()
    return derived


def _check_stored(
    cfg: Config, plan: RunTable, directory: Path, parts: PartIndex, echo: Callable[[str], None]
) -> StoredRuns:
    """What the dataset holds after the sweep: every planned run once (second copies of runs
    landed by an earlier driver's tasks dropped), small parts compacted."""
    remove_leftovers(directory)  # temporary files of tasks that died with their worker
    parts.update()  # parts verified at the start or written since: read unverified
    stored = parts.stored()
    if stored.duplicates:  # a part landed late by a task of an earlier, dead driver
        dropped = drop_duplicates(directory, cfg.storage.compression)
        echo(f"removed {dropped} second copies of runs stored twice (identical numbers)")
        parts.update()  # the parts it rewrote or removed
        stored = parts.stored()
    missing = int((~held_in(plan.run_id, stored.run_ids)).sum())
    if missing or stored.duplicates:
        raise RuntimeError(
            f"{directory}: {missing} planned runs missing, {stored.duplicates} stored twice"
        )
    compact_parts(cfg, directory, echo)
    return stored


def compact_parts(cfg: Config, directory: Path, echo: Callable[[str], None]) -> None:
    """Merge ``directory``'s small parts as ``cfg.storage`` says (compact_mb 0: never); only
    while no task writes into it."""
    storage = cfg.storage
    if storage.compact_mb:
        before, after = compact(
            directory, storage.compression, storage.compact_mb, storage.compact_min_parts
        )
        if after < before:
            echo(f"compacted {before} part files into {after}")


def _mark_stopped(directory: Path, error: BaseException, echo: Callable[[str], None]) -> None:
    """The manifest says the sweep stopped and why; the user is told how to resume."""
    try:
        write_manifest(directory, status="incomplete", error=f"{type(error).__name__}: {error}")
    except OSError:  # the disk that failed the sweep may refuse this too: scans still work
        pass
    echo(
        f"stopped ({type(error).__name__}); runs finished so far are stored in "
        f"{directory}. To resume, run the same command with {resume_arguments(directory)}"
    )


def resume_arguments(directory: Path) -> str:
    """``storage.root=... storage.dataset=...`` naming ``directory``, each value quoted for
    Hydra where it needs it (a comma would make a sweep of it) and each argument for a POSIX
    shell (spaces, quotes), so the line can be pasted as it is printed."""

    def value(text: str) -> str:
        if re.fullmatch(r"[\w./~:+@%-]+", text):
            return text
        return "'" + text.replace("'", "\\'") + "'"

    pairs = (("storage.root", str(directory.parent)), ("storage.dataset", directory.name))
    return " ".join(shlex.quote(f"{key}={value(text)}") for key, text in pairs)


# the last dataset swept from this process and its part index: the next sweep into it (a
# calibration's batch, a refinement's round) reads only the parts that changed since, where
# a new index would verify every part again (quadratic in a calibration's batches)
_LAST_INDEX: list[PartIndex] = []


def _part_index(directory: Path, existing: bool, expected: Expected) -> PartIndex:
    """The parts of ``directory``: read at the start (a resume), then as tasks write them."""
    last = _LAST_INDEX[0] if _LAST_INDEX else None
    if existing and last and last.directory == directory and last.expected == expected:
        last.corrupt.clear()  # reported by the sweep that found them
    else:
        _LAST_INDEX[:] = [PartIndex(directory, expected)]
    return _LAST_INDEX[0]


def _runs_to_do(
    cfg: Config, plan: RunTable, parts: PartIndex, echo: Callable[[str], None]
) -> np.ndarray:
    """Positions in ``plan`` of the runs an existing dataset does not hold (after dropping its
    failed runs when ``retry_failed``); every part is verified (corrupt ones moved aside) and
    orphan series removed first."""
    directory = parts.directory
    parts.update(verify=True)
    stored = parts.stored()
    for path in stored.corrupt:
        echo(f"{SET_ASIDE}: {path.parent.name}/{path.name}; its runs will be redone")
    orphans = remove_leftovers(directory)
    if orphans:
        echo(f"removed {orphans} time-series or places parts whose summary never landed")
    done = stored.run_ids
    if cfg.retry_failed:
        failed = np.unique(plan.run_id[held_in(plan.run_id, stored.failed_ids)])
        ids = {run.decode() for run in failed.tolist()}
        dropped = drop_runs(directory, ids, cfg.storage.compression)
        echo(f"retry_failed: rerunning {dropped} failed runs with their seeds")
        done = np.setdiff1d(done, failed)
    return np.flatnonzero(~held_in(plan.run_id, done))

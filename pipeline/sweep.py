"""Sweep expansion: a validated config -> the run table, one row per run.

Pure and deterministic. Runs are the points of the sweep's design (``pipeline/designs.py``) times
``sweep.replicates``. A run's seed comes from ``numpy.random.SeedSequence`` keyed by the root seed
and its replicate number (common random numbers: replicate r sees the same landscape and shocks at
every point, so differences along an axis are the axis's effect), or, with
``sweep.common_random_numbers=false``, by the root seed, the full parameter point and the replicate.
Never by position in a batch: a run's numbers do not depend on batching, worker count or the other
points of the sweep.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from segmark.models.interface import Model
from segmark.pipeline import designs
from segmark.pipeline.config import Config, ConfigError
from segmark.pipeline.designs import Design
from segmark.pipeline.store import schemas
from segmark.pipeline.validate import validate_settings


def _digest(payload: Any, n_bytes: int) -> bytes:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.blake2b(text.encode(), digest_size=n_bytes).digest()


def point_digest(point: dict[str, Any]) -> bytes:
    """16 bytes naming a full parameter point (every column and value)."""
    return _digest(point, 16)


def run_seed(root_seed: int, replicate: int, point: bytes | None = None) -> int:
    """A 63-bit seed from the root seed and the replicate number, and the point's digest if
    given (independent streams per point)."""
    words = np.frombuffer(point, dtype=np.uint32).tolist() if point else []
    sequence = np.random.SeedSequence(root_seed, spawn_key=(*words, replicate))
    return int(sequence.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def run_id(point: bytes, replicate: int, seed: int, tag: str, repeat: int = 0) -> str:
    """16 hex characters naming the run by its content: the point's digest, replicate, seed and
    the model's name and version (``Model.tag``); ``repeat`` counts earlier occurrences of the
    same point in the design (Morris trajectories and lists can repeat a point), so every
    planned run has its own id."""
    head, tail = _id_ends(point, tag, repeat)
    return hashlib.blake2b(f"{head}{replicate}|{seed}{tail}".encode(), digest_size=8).hexdigest()


def _id_ends(point: bytes, tag: str, repeat: int) -> tuple[str, str]:
    """The parts of a run id's payload before and after ``replicate|seed``."""
    return f"{point.hex()}|", f"|{tag}" + (f"|{repeat}" if repeat else "")


@dataclass(frozen=True, eq=False)
class RunTable:
    """The run table, held compactly: the design's points once, and per run only its point,
    replicate, seed and id (about 40 bytes a run), so a million runs fit in tens of MB. Rows
    with every parameter column are made on demand for the runs a task needs."""

    points: pd.DataFrame  # one row per design point: every parameter column
    points_arrow: pa.Table  # the same in Arrow (Schemas.point)
    point: np.ndarray  # int64 (n_runs,)
    replicate: np.ndarray  # int32 (n_runs,)
    seed: np.ndarray  # int64 (n_runs,)
    run_id: np.ndarray  # bytes, dtype S16 (n_runs,)

    def __len__(self) -> int:
        return int(self.point.shape[0])

    def batch(self, index: np.ndarray | slice | None = None) -> pa.Table:
        """The runs at ``index`` (all by default) as an Arrow table: ``run_id, point, replicate,
        seed`` then every parameter column. Cheaper than a DataFrame to build and to turn into
        per-run records."""
        index = slice(None) if index is None else index
        point = self.point[index]
        return _rows(
            self.points_arrow,
            point,
            self.run_id[index],
            point,
            self.replicate[index],
            self.seed[index],
        )

    def shipment(self, index: np.ndarray | slice) -> Shipment:
        """The runs at ``index`` as a task ships them: the design points they use, once, and
        per run its point, replicate, seed and id. A grid point's replicates share one row:
        for 5,000 runs of 25 points, 0.2 MB to pickle instead of 2.4 MB."""
        point = self.point[index]
        used, local = np.unique(point, return_inverse=True)
        return Shipment(
            self.points_arrow.take(used).to_pylist(),
            local.astype(np.int32),
            point,
            self.replicate[index],
            self.seed[index],
            self.run_id[index],
        )

    def rows(self, index: np.ndarray | slice | None = None) -> pd.DataFrame:
        """``batch`` as a DataFrame."""
        return self.batch(index).to_pandas()

    def chunks(self, size: int = 10_000) -> Iterator[pa.Table]:
        for start in range(0, len(self), size):
            yield self.batch(slice(start, start + size))


@dataclass(frozen=True, eq=False)
class Shipment:
    """A task's runs (``RunTable.shipment``); ``table()``, where they run, gives the rows
    ``RunTable.batch`` would."""

    points: list[dict[str, Any]]  # the design points these runs use (plain values: cheap to
    # pickle, and the scheduler unpickles and pickles every task again on its way)
    local_point: np.ndarray  # int32 (n,): each run's row of ``points``
    point: np.ndarray  # int64 (n,): each run's point in the design
    replicate: np.ndarray
    seed: np.ndarray
    run_id: np.ndarray  # S16

    def __len__(self) -> int:
        return int(self.point.shape[0])

    def table(self, point_schema: pa.Schema) -> pa.Table:
        """The runs as ``RunTable.batch`` rows (``point_schema``: ``Schemas.point``)."""
        points = pa.Table.from_pylist(self.points, schema=point_schema)
        return _rows(points, self.local_point, self.run_id, self.point, self.replicate, self.seed)

    def runs(self) -> Iterator[tuple[dict[str, Any], int]]:
        """Each run's design point (its parameter values, as ``table().to_pylist()`` holds
        them; one dict per point, shared by its runs) and seed, in order."""
        for local, seed in zip(self.local_point.tolist(), self.seed.tolist(), strict=True):
            yield self.points[local], seed


def _rows(
    points: pa.Table,
    take: np.ndarray,
    run_id: np.ndarray,
    point: np.ndarray,
    replicate: np.ndarray,
    seed: np.ndarray,
) -> pa.Table:
    table = points.take(take)
    front = [
        ("run_id", pa.array(run_id).cast(pa.string())),
        ("point", pa.array(point)),
        ("replicate", pa.array(replicate)),
        ("seed", pa.array(seed)),
    ]
    for position, (name, values) in enumerate(front):
        table = table.add_column(position, name, values)
    return table


def expand(cfg: Config, model: Model, design: Design) -> RunTable:
    """The run table of ``design`` (over ``cfg``'s validated values for the parameters it does
    not set): its points in order, each repeated ``sweep.replicates`` times (replicate fastest).
    Each distinct point passes the model's own check first.

    Built column-wise: per point one digest, per replicate one seed (common random numbers),
    per run one short hash, so a million runs take seconds, not minutes. A point costs ~5 KB
    at peak, a run 40 bytes (``config.MAX_POINTS``, ``MAX_RUNS``).
    """
    records = list(point_rows(cfg, model, design.points))
    digests = [point_digest(row) for row in records]
    repeats = _check_points(model, records, design.points, digests)
    replicates = cfg.sweep.replicates
    n_runs = len(digests) * replicates
    replicate = np.tile(np.arange(replicates, dtype=np.int32), len(digests))
    point = np.repeat(np.arange(len(digests), dtype=np.int64), replicates)
    root = cfg.sweep.root_seed
    if cfg.sweep.common_random_numbers:
        shared = np.array([run_seed(root, r) for r in range(replicates)], dtype=np.int64)
        seed = shared[replicate]
    else:
        seed = np.fromiter(
            (run_seed(root, r, d) for d in digests for r in range(replicates)),
            dtype=np.int64,
            count=n_runs,
        )
    ids = _run_ids(digests, repeats, replicates, seed, model.tag)
    arrow = pa.Table.from_pylist(records, schema=schemas(model).point)
    points = pd.DataFrame(records, columns=[p.column for p in model.columns()])
    return RunTable(points, arrow, point, replicate, seed, ids)


def point_rows(cfg: Config, model: Model, points: Iterable[dict[str, Any]]) -> Iterator[dict]:
    """Each design point's full parameter row, by column in the model's column order (what
    ``RunTable.points`` holds and a point's digest hashes), made one at a time."""
    columns = model.columns()
    base = {p.column: canonical(getattr(cfg, p.group)[p.name]) for p in columns}
    by_path = {p.path: p.column for p in columns}
    for values in points:  # the swept values replace the base's in place: the order stays
        yield {**base, **{by_path[path]: canonical(v) for path, v in values.items()}}


def pilot(cfg: Config, model: Model, design: Design, runs: np.ndarray) -> pa.Table:
    """The rows ``expand(cfg, model, design).batch(runs)`` would give for the runs at positions
    ``runs``, made from those runs' points alone (a dry run's few timed runs of a sweep of any
    size). Their points pass the model's check as ``expand``'s do."""
    replicates = cfg.sweep.replicates
    point, replicate = np.divmod(np.asarray(runs, dtype=np.int64), replicates)
    used, local = np.unique(point, return_inverse=True)
    swept = [design.points[i] for i in used.tolist()]
    records = list(point_rows(cfg, model, swept))
    digests = [point_digest(row) for row in records]
    _check_points(model, records, swept, digests)
    root, crn = cfg.sweep.root_seed, cfg.sweep.common_random_numbers
    seeds, ids = [], []
    for p, r in zip(local.tolist(), replicate.tolist(), strict=True):
        digest = digests[p]
        seeds.append(run_seed(root, r, None if crn else digest))
        repeat = _repeat(design, int(used[p]))
        ids.append(run_id(digest, r, seeds[-1], model.tag, repeat))
    arrow = pa.Table.from_pylist(records, schema=schemas(model).point)
    seed = np.array(seeds, dtype=np.int64)
    return _rows(arrow, local, np.array(ids, dtype="S16"), point, replicate.astype(np.int32), seed)


def _repeat(design: Design, index: int) -> int:
    """How often the point at ``index`` occurs before it (only list and sampled designs can
    repeat a point; a grid's axes hold distinct values)."""
    if design.kind == "grid":
        return 0
    point = design.points[index]
    return sum(other == point for other in design.points[:index])


def check_points(cfg: Config, model: Model, design: Design) -> None:
    """Pass every point of ``design`` through the model's check, one row at a time (what
    ``expand`` refuses, without its memory)."""
    names = _names(model)
    for row, values in zip(point_rows(cfg, model, design.points), design.points, strict=True):
        _check_point(model, row, values, names)


def _check_points(
    model: Model, rows: list[dict], points: Sequence[dict[str, Any]], digests: list[bytes]
) -> list[int]:
    """Check each distinct point once; returns how often each point occurred before it."""
    names = _names(model)
    seen: dict[bytes, int] = {}
    repeats = []
    for row, values, digest in zip(rows, points, digests, strict=True):
        if digest not in seen:
            _check_point(model, row, values, names)
        repeats.append(seen.get(digest, 0))
        seen[digest] = repeats[-1] + 1
    return repeats


def canonical(value: Any) -> Any:
    """A parameter value as its run id hashes it: -0.0 as 0.0 (the same simulation; floats
    are hashed by repr, which keeps the sign). Types were already made the declared ones by
    validation, so 1 and 1.0 of a float parameter are both 1.0."""
    return value + 0.0 if isinstance(value, float) else value


def _run_ids(
    digests: list[bytes], repeats: list[int], replicates: int, seed: np.ndarray, tag: str
) -> np.ndarray:
    """``run_id`` of every run (S16). Each point's part of the payload is hashed once and the
    hash state copied for each of its runs (blake2b is streaming: the same digest as hashing
    the whole payload, 3x faster); the runs' parts are formatted once for points sharing seeds
    (common random numbers)."""
    ids = np.empty(seed.shape[0], dtype="S16")
    suffixes: list[bytes] = []
    formatted_for = None
    for p, (digest, repeat) in enumerate(zip(digests, repeats, strict=True)):
        head, tail = _id_ends(digest, tag, repeat)
        first = p * replicates
        seeds = seed[first : first + replicates]
        if formatted_for != (key := (tail, seeds.tobytes())):
            formatted_for = key
            suffixes = [f"{r}|{s}{tail}".encode() for r, s in enumerate(seeds.tolist())]
        point = hashlib.blake2b(head.encode(), digest_size=8)
        hashes = []
        for suffix in suffixes:
            run = point.copy()
            run.update(suffix)
            hashes.append(run.digest())
        ids[first : first + replicates] = np.frombuffer(b"".join(hashes).hex().encode(), "S16")
    return ids


def _check_point(
    model: Model, row: dict[str, Any], swept: dict[str, Any], names: list[tuple[str, str]]
) -> None:
    """The model's own check of a point, and that its swept values act: not all of them
    overridden by the model (a ConfigError naming the point's swept values)."""
    values = {name: row[column] for name, column in names}
    if model.check is not None:
        try:
            model.check(values)
        except ValueError as error:
            where = f" (at the design point {swept})" if swept else ""
            raise ConfigError(f"{str(error).rstrip('.')}{where}.") from None
    inert = set(model.overrides(values)) if model.overrides else set()
    if swept and inert.issuperset(swept):
        raise ConfigError(
            f"sweep: at the design point {swept} the model sets {', '.join(sorted(swept))} "
            "itself from the first week (nk: the scenario's opening events), so every point "
            "would be the same run; sweep other parameters, or change what sets these."
        )


def params(model: Model, row: dict[str, Any]) -> dict[str, Any]:
    """A run's parameters by name, as ``simulate`` takes them, from a run-table row."""
    return {name: row[column] for name, column in _names(model)}


def _names(model: Model) -> list[tuple[str, str]]:
    """(name, column) of each parameter: a point's check reads them 10^5 times."""
    return [(p.name, p.column) for p in model.parameters]


def plan(cfg: Config, model: Model) -> tuple[Design, RunTable]:
    """Validate ``cfg`` for ``model`` and expand its design into the run table. Writes
    nothing."""
    validate_settings(cfg, model)
    design = designs.build(cfg, model)
    return design, expand(cfg, model, design)

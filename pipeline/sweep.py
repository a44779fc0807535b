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
from typing import Any

import numpy as np
import pandas as pd

from segmark.kernels.market import MODEL_VERSION
from segmark.pipeline import designs
from segmark.pipeline.config import Config, ConfigError, validate_settings
from segmark.pipeline.designs import Design
from segmark.pipeline.params import BY_PATH, PARAMETER_COLUMNS, base_point

ID_COLUMNS = ("run_id", "point", "replicate", "seed")


def _digest(payload: Any, n_bytes: int) -> bytes:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.blake2b(text.encode(), digest_size=n_bytes).digest()


def run_seed(root_seed: int, replicate: int, point: dict[str, Any] | None = None) -> int:
    """A 63-bit seed from the root seed and the replicate number, and the parameter point if
    given (independent streams per point)."""
    words = np.frombuffer(_digest(point, 16), dtype=np.uint32).tolist() if point else []
    sequence = np.random.SeedSequence(root_seed, spawn_key=(*words, replicate))
    return int(sequence.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def run_id(point: dict[str, Any], replicate: int, seed: int) -> str:
    """16 hex characters naming the run by its content: parameters, replicate, seed and the
    model version."""
    payload = {"point": point, "replicate": replicate, "seed": seed, "model": MODEL_VERSION}
    return _digest(payload, 8).hex()


def expand(cfg: Config, design: Design) -> pd.DataFrame:
    """The run table: ``run_id, point, replicate, seed`` then every parameter column; the
    design's points in order, each repeated ``sweep.replicates`` times."""
    base = base_point(cfg)
    rows = []
    for point_index, values in enumerate(design.points):
        point = dict(base)
        for path, value in values.items():
            point[BY_PATH[path].column] = value
        _check_sampling(point, values)
        for replicate in range(cfg.sweep.replicates):
            seed = run_seed(
                cfg.sweep.root_seed,
                replicate,
                None if cfg.sweep.common_random_numbers else point,
            )
            rows.append(
                {
                    "run_id": run_id(point, replicate, seed),
                    "point": point_index,
                    "replicate": replicate,
                    "seed": seed,
                    **point,
                }
            )
    table = pd.DataFrame(rows, columns=[*ID_COLUMNS, *(c.column for c in PARAMETER_COLUMNS)])
    return table.astype({"point": "int64", "replicate": "int32", "seed": "int64"})


def _check_sampling(point: dict[str, Any], swept: dict[str, Any]) -> None:
    if point["model_sample_every"] > point["model_n_steps"]:
        raise ConfigError(
            f"model.sample_every = {point['model_sample_every']} exceeds model.n_steps = "
            f"{point['model_n_steps']} at the design point {swept}: no time-series sample would "
            "be taken; keep sample_every <= n_steps."
        )


def plan(cfg: Config) -> tuple[Design, pd.DataFrame]:
    """Validate ``cfg`` and expand its design into the run table. Writes nothing."""
    validate_settings(cfg)
    design = designs.build(cfg)
    return design, expand(cfg, design)

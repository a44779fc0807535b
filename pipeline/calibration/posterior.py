"""The posterior on disk: every population's particles in one Parquet file, rewritten whole
(write, then rename) after each population, so a crash leaves the last complete population.

Columns: ``population``, ``particle``, each calibrated parameter's column (``group_name``),
``weight``, ``distance``, ``epsilon``, ``acceptance_rate``, ``proposals``, ``simulations``,
and per statistic ``stat_<name>`` (the particle's), ``scale_<name>`` (the distance's scale in
that population) and ``next_scale_<name>``. The file's metadata holds the calibration's
identity (model, priors, observed statistics, settings): a resume checks it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from segmark.pipeline.calibration.smc import Population
from segmark.pipeline.config import ConfigError
from segmark.pipeline.store import read_file, write_table_atomic

FILE = "posterior.parquet"
IDENTITY = b"segmark.calibration"


def write(
    directory: Path,
    populations: list[Population],
    columns: tuple[str, ...],
    statistics: tuple[str, ...],
    identity: dict[str, Any],
) -> Path:
    """Every population of the calibration at ``directory``/posterior.parquet."""
    tables = [_table(p, columns, statistics) for p in populations]
    table = pa.concat_tables(tables).replace_schema_metadata(
        {IDENTITY: json.dumps(identity, sort_keys=True)}
    )
    path = Path(directory) / FILE
    write_table_atomic(table, path, "zstd")
    return path


def _table(p: Population, columns: tuple[str, ...], statistics: tuple[str, ...]) -> pa.Table:
    n = len(p.weights)
    data: dict[str, Any] = {
        "population": np.full(n, p.number, dtype=np.int32),
        "particle": np.arange(n, dtype=np.int32),
    }
    data.update({c: p.points[:, j] for j, c in enumerate(columns)})
    data.update(
        weight=p.weights,
        distance=p.distances,
        epsilon=np.full(n, p.epsilon),
        acceptance_rate=np.full(n, p.acceptance_rate),
        proposals=np.full(n, p.proposals, dtype=np.int64),
        simulations=np.full(n, p.simulations, dtype=np.int64),
    )
    for j, s in enumerate(statistics):
        data[f"stat_{s}"] = p.statistics[:, j]
        data[f"scale_{s}"] = np.full(n, p.scales[j])
        data[f"next_scale_{s}"] = np.full(n, p.next_scales[j])
    return pa.table(data)


def read(
    directory: Path, columns: tuple[str, ...], statistics: tuple[str, ...], identity: dict[str, Any]
) -> tuple[Population, ...]:
    """The populations stored at ``directory`` (none if there is no posterior yet); a
    ConfigError if they belong to a calibration with another identity."""
    path = Path(directory) / FILE
    if not path.exists():
        return ()
    table = read_file(path)
    stored = json.loads((table.schema.metadata or {}).get(IDENTITY, b"{}"))
    if stored != json.loads(json.dumps(identity, sort_keys=True)):
        raise ConfigError(
            f"calibration.name: {directory} holds a calibration with other priors, targets or "
            "settings; choose another calibration.name (or delete that directory)."
        )
    frame = table.to_pandas()
    return tuple(_population(g, columns, statistics) for _, g in frame.groupby("population"))


def _population(g, columns: tuple[str, ...], statistics: tuple[str, ...]) -> Population:
    first = g.iloc[0]
    return Population(
        number=int(first["population"]),
        # C order, as the run made them: BLAS may round a Fortran-ordered copy differently
        points=np.ascontiguousarray(g[list(columns)].to_numpy(dtype=np.float64)),
        weights=g["weight"].to_numpy(),
        distances=g["distance"].to_numpy(),
        statistics=np.ascontiguousarray(g[[f"stat_{s}" for s in statistics]].to_numpy(np.float64)),
        epsilon=float(first["epsilon"]),
        scales=np.array([first[f"scale_{s}"] for s in statistics], dtype=np.float64),
        next_scales=np.array([first[f"next_scale_{s}"] for s in statistics], dtype=np.float64),
        proposals=int(first["proposals"]),
        simulations=int(first["simulations"]),
    )

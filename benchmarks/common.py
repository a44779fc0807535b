"""What the benchmarks share: configs composed as the CLI does, timing, memory, JSON and tables."""

from __future__ import annotations

import json
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from segmark.kernels.parameters import PARAMETERS
from segmark.pipeline.cli.compose import compose_overrides
from segmark.pipeline.config import Config

HERE = Path(__file__).parent
# A one-step, two-region, one-good model: a run costs ~0.2 ms, so what is measured is the
# driver's own cost per run.
TRIVIAL = (
    "model.network=ring",
    "model.n_regions=2",
    "model.n_goods=1",
    "model.n_steps=1",
    "model.sample_every=1",
)


def default_params(**changes: float) -> np.ndarray:
    """The kernel's parameter vector at the declared defaults, with ``changes``."""
    values = {p.name: p.default for p in PARAMETERS}
    values.update(changes)
    return np.array([float(values[p.name]) for p in PARAMETERS])


def compose_config(overrides: list[str], name: str = "config") -> Config:
    """The typed config of the shipped YAML tree plus ``overrides``, composed as the CLI does
    (``name``: the primary config, ``calibrate`` for segmark-calibrate's)."""
    with initialize_config_module(config_module="segmark.conf", version_base="1.3"):
        cfg = compose(config_name=name, overrides=compose_overrides(overrides))
    return OmegaConf.to_object(cfg)  # type: ignore[return-value]


def sweep_config(runs: int, trivial: bool, root: Path) -> Config:
    """A grid sweep of about ``runs`` runs (100 permit-strictness points x replicates) into
    ``root``/bench, on a LocalCluster with the default settings."""
    points = min(100, runs)
    return compose_config(
        [
            f"sweep.axes.policy.permit_strictness=${{linspace:0,1,{points}}}",
            f"sweep.replicates={max(1, runs // points)}",
            "progress=false",
            "cluster.dashboard_address=127.0.0.1:0",
            f"storage.root={root}",
            "storage.dataset=bench",
            *(TRIVIAL if trivial else ()),
        ]
    )


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median wall seconds of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_mb() -> float:
    """High-water mark of this process's resident memory, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_json(path: Path | None, report: dict[str, Any]) -> None:
    text = json.dumps(report, indent=2) + "\n"
    if path is not None:
        Path(path).write_text(text)


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """A plain-text table, numbers to 3 significant digits."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
        if isinstance(value, int):
            return f"{value:,}"
        return "-" if value is None else str(value)

    cells = [list(header), *([cell(v) for v in row] for row in rows)]
    widths = [max(len(r[j]) for r in cells) for j in range(len(header))]
    lines = [
        "  ".join(
            c.ljust(w) if j == 0 else c.rjust(w)
            for j, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)

"""Runs added to an existing dataset (analyses that refine it), and list designs built from
parameter points (calibrations, refinements): both go through :func:`driver.run_sweep`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from segmark.pipeline.config import Config
from segmark.pipeline.driver import model_of, run_sweep
from segmark.pipeline.schedule import Client, connect
from segmark.pipeline.store import CONFIG_FILE
from segmark.pipeline.validate import validate_stored
from segmark.pipeline.yamlfile import load_config


@contextmanager
def extending(
    directory: Path, client: Client | None = None, trust_cluster: bool = False
) -> Iterator[Callable[[list[dict[str, Any]], int], int]]:
    """Runs added to the dataset at ``directory``, for analyses that refine it: yields
    ``extend(points, replicates)``, which runs each point (parameter path -> value) x
    ``replicates`` as a list design with the dataset's own config (base parameters, root seed,
    common-random-numbers rule, model), skipping what is stored, and returns the runs it
    stored. One Dask client serves every call: ``client``, or the dataset's cluster, started at
    the first call and closed at the end. The stored config is data: nothing in it resolved,
    all of it validated first (its cluster too, unless ``trust_cluster``: docs/SECURITY.md)."""
    directory = Path(directory)
    cfg = load_config(directory / CONFIG_FILE)
    model = model_of(cfg)
    cfg.storage.root, cfg.storage.dataset = str(directory.parent), directory.name
    cfg.progress = cfg.retry_failed = cfg.dry_run = False
    validate_stored(cfg, model, directory / CONFIG_FILE, trust_cluster)
    with ExitStack() as stack:

        def extend(points: list[dict[str, Any]], replicates: int) -> int:
            nonlocal client
            if client is None:
                client = stack.enter_context(connect(cfg.cluster))
            as_list_design(cfg, points, replicates)
            result = run_sweep(cfg, echo=lambda _: None, client=client, model=model)
            return result.n_runs - result.n_skipped

        yield extend


def as_list_design(cfg: Config, points: list[dict[str, Any]], replicates: int) -> None:
    """Make ``cfg``'s sweep a list design of ``points`` (parameter path -> value) x
    ``replicates``, in place."""
    cfg.sweep.design, cfg.sweep.axes, cfg.sweep.parameters = "list", {}, {}
    cfg.sweep.samples, cfg.sweep.replicates = 0, replicates
    cfg.sweep.points = [_nested(point) for point in points]


def _nested(point: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"policy.x": 1}`` as a list design's point, ``{"policy": {"x": 1}}``."""
    out: dict[str, dict[str, Any]] = {}
    for path, value in point.items():
        group, name = path.split(".", 1)
        out.setdefault(group, {})[name] = value
    return out

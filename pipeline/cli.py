"""The ``segmark`` command: a Hydra app that runs one sweep and reports where its data is."""

from __future__ import annotations

import sys

import hydra
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from segmark.pipeline.config import Config, ConfigError
from segmark.pipeline.driver import run_sweep
from segmark.pipeline.finding import describe
from segmark.pipeline.plots import tipping_curve
from segmark.pipeline.store import read_summary

ConfigStore.instance().store(name="segmark_schema", node=Config)


@hydra.main(version_base="1.3", config_path="pkg://segmark.conf", config_name="config")
def _app(cfg: DictConfig) -> None:
    config: Config = OmegaConf.to_object(cfg)  # type: ignore[assignment]
    try:
        result = run_sweep(config)
    except ConfigError as error:
        print(f"segmark: invalid config: {error}", file=sys.stderr)
        sys.exit(2)
    summary = read_summary(result.directory).to_pandas()
    print()
    print(describe(summary, result.axes))
    if result.axes:
        figure = tipping_curve(summary, next(iter(result.axes)), result.directory / "tipping.png")
        print(f"figure: {figure}")
    print(f"{result.n_runs} runs ({result.n_failed} failed) in {result.wall_s:.1f} s")
    print(f"results: {result.directory}")


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    _app()

"""``segmark-calibrate``: a calibration (``calibration=<name>`` from the model's config, or
``calibration.*`` settings) run or resumed through the engine; prints each population, the
posterior and where it is stored."""

from __future__ import annotations

import logging
import sys

import hydra
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from segmark.pipeline.calibration import credible_interval, posterior_mean, run
from segmark.pipeline.cli.app import _refuse, interrupted, launch
from segmark.pipeline.cli.compose import config_error
from segmark.pipeline.config import Config, ConfigError
from segmark.pipeline.driver import model_of
from segmark.pipeline.schedule import SchedulerLost, WorkersDied
from segmark.pipeline.store import DatasetBusy


@hydra.main(version_base="1.3", config_path="pkg://segmark.conf", config_name="calibrate")
def _app(cfg: DictConfig) -> None:
    try:
        config: Config = OmegaConf.to_object(cfg)  # type: ignore[assignment]
    except OmegaConfBaseException as error:
        cause = config_error(error)
        _refuse(f"{error.full_key}: {cause or error.msg}".replace("\n", " "))
    try:
        model = model_of(config)
        if config.calibration is None:
            raise ConfigError(
                "calibration: choose one with calibration=<name> (from the model's config "
                "package, e.g. calibration=nk_2013_2019) or set calibration.priors and "
                "calibration.targets."
            )
        for noisy in ("distributed.client", "distributed.comm", "distributed.core"):
            logging.getLogger(noisy).setLevel(logging.CRITICAL)
        directory, populations = run(config, config.calibration, model)
    except ConfigError as error:
        _refuse(str(error))
    except DatasetBusy as error:
        print(f"segmark-calibrate: {error}", file=sys.stderr)
        sys.exit(3)
    except SchedulerLost as error:
        print(f"segmark-calibrate: {error}; run the same command to resume.", file=sys.stderr)
        sys.exit(4)
    except WorkersDied as error:
        print(f"segmark-calibrate: {error}; run the same command to resume.", file=sys.stderr)
        sys.exit(5)
    except KeyboardInterrupt as error:
        interrupted(error)
    if populations:
        last = populations[-1]
        print(f"\nposterior (population {last.number}, weighted mean and 90% interval):")
        intervals = credible_interval(last, 0.9)
        for path, mean, (low, high) in zip(
            config.calibration.priors, posterior_mean(last), intervals, strict=True
        ):
            print(f"  {path:<34} {mean:10.4g}  [{low:.4g}, {high:.4g}]")
    if populations:
        from segmark.pipeline.calibration import report  # matplotlib once results exist

        print(f"report: {report.write(directory, model)}")
    print(f"results: {directory}")


def main() -> None:
    launch(_app, config_name="calibrate")

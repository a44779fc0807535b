"""A multirun (``-m``) checked whole before its first job runs: Hydra composes and runs the jobs
one after another, so a bad value in a later job would be found only after the earlier ones
had written their datasets."""

from __future__ import annotations

import itertools

from hydra import compose, initialize_config_module
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from segmark.models.interface import Model
from segmark.pipeline import designs
from segmark.pipeline.cli.compose import config_error
from segmark.pipeline.config import Config, ConfigError
from segmark.pipeline.validate import validate_settings

MULTIRUN_FLAGS = ("-m", "--multirun")
_VALUED_FLAGS = ("-cn", "--config-name", "-cd", "--config-dir", "-cp", "--config-path")


def is_multirun(args: list[str]) -> bool:
    return any(arg in MULTIRUN_FLAGS for arg in args)


def jobs(overrides: list[str]) -> list[list[str]]:
    """The jobs of a multirun, as Hydra's basic sweeper makes them: every combination of the
    swept overrides' values, the others as given."""
    choices = []
    for override in OverridesParser.create().parse_overrides(overrides):
        key = override.get_key_element()
        if override.is_sweep_override():
            choices.append([f"{key}={value}" for value in override.sweep_string_iterator()])
        else:
            choices.append([f"{key}={override.get_value_element_as_str()}"])
    return [list(job) for job in itertools.product(*choices)]


def _swept_keys(overrides: list[str]) -> set[str]:
    parsed = OverridesParser.create().parse_overrides(overrides)
    return {o.get_key_element() for o in parsed if o.is_sweep_override()}


def check_jobs(args: list[str], config_name: str, model: Model) -> None:
    """Compose and validate every job of the multirun ``args`` (the command line as Hydra will
    see it); the first bad one is refused, naming the job, before any runs."""
    overrides, name = [], config_name
    flags = iter(args)
    for arg in flags:
        if arg in _VALUED_FLAGS:
            value = next(flags, "")
            name = value if arg in ("-cn", "--config-name") else name
        elif arg.startswith("--config-name="):
            name = arg.partition("=")[2]
        elif "=" in arg and not arg.startswith("-"):
            overrides.append(arg)
    if any(arg.startswith(("-cd", "--config-dir", "-cp", "--config-path")) for arg in args):
        return  # jobs composed from a config directory are checked one by one as they run
    every = jobs(overrides)
    for number, job in enumerate(every, 1):
        try:
            _check_job(job, name, model)
        except ConfigError as error:
            swept = [o for o in job if o.partition("=")[0] in _swept_keys(overrides)]
            raise ConfigError(
                f"job {number} of {len(every)} of the multirun ({' '.join(swept)}): {error} "
                "(no job was run)"
            ) from None


def _check_job(job: list[str], config_name: str, model: Model) -> None:
    with initialize_config_module(config_module="segmark.conf", version_base="1.3"):
        try:
            cfg = compose(config_name=config_name, overrides=job)
            config: Config = OmegaConf.to_object(cfg)  # type: ignore[assignment]
        except (HydraException, OmegaConfBaseException) as error:
            raise ConfigError(str(config_error(error) or error).splitlines()[0]) from None
    validate_settings(config, model)
    if config_name == "config":  # segmark's own runs: the design too (a calibration makes its own)
        designs.build(config, model)

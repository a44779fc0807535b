"""The ``segmark`` command: a Hydra app that runs one sweep and reports where its data is."""

from __future__ import annotations

import errno
import logging
import sys
from dataclasses import fields, is_dataclass
from typing import Any, get_type_hints

import hydra
import pandas as pd
import yaml
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from segmark.pipeline.config import (
    GROUPS,
    Config,
    ConfigError,
    check_value,
    parameter_fields,
    register_resolvers,
)
from segmark.pipeline.driver import SweepResult, dry_run, run_sweep
from segmark.pipeline.finding import FINDING_OUTCOMES, describe, describe_sampled
from segmark.pipeline.params import BY_PATH
from segmark.pipeline.schedule import SchedulerLost
from segmark.pipeline.store import STATUS_OK, DatasetBusy, read_summary

ConfigStore.instance().store(name="segmark_schema", node=Config)
register_resolvers()

_SECTIONS = get_type_hints(Config)


def check_overrides(args: list[str]) -> None:
    """Refuse unknown keys and bad parameter values on the command line with a message that
    names the key and what is allowed, before Hydra composes anything. Interpolations
    (``${...}``) are left to validation after composition; multirun lists are checked value by
    value."""
    candidates = [a for a in args if "=" in a and not a.startswith("-")]
    try:
        overrides = OverridesParser.create().parse_overrides(candidates)
    except Exception:  # malformed syntax: Hydra's own message is the better one
        return
    for override in overrides:
        key = override.key_or_group
        if key.startswith("hydra") or override.is_delete():
            continue
        if "." not in key:
            _check_top_level(key, override)
            continue
        section, _, rest = key.partition(".")
        if section not in _SECTIONS:
            raise ConfigError(
                f"{key}: there is no config section {section!r}; sections are "
                f"{', '.join(_SECTIONS)}."
            )
        if section == "sweep" and rest.split(".")[0] in ("axes", "parameters") and "." in rest:
            kind, _, path = rest.partition(".")
            _check_axis_key(key, ".".join(path.split(".")[:2]), kind)
            continue
        if section == "cluster" and rest.startswith("dask_config."):
            continue  # Dask's own keys: validation checks them against Dask's settings
        known = {f.name: f for f in fields(_SECTIONS[section])}
        head, _, tail = rest.partition(".")
        nested = get_type_hints(_SECTIONS[section]).get(head) if tail else None
        if nested is not None and is_dataclass(nested):  # e.g. cluster.jobqueue.cores
            _check_nested(key, f"{section}.{head}", tail, nested, override)
            continue
        if rest not in known:
            raise ConfigError(f"{key} is not a setting: {section} has {', '.join(known)}.")
        for value in _values(override):
            if section in GROUPS:
                check_value(key, value, known[rest])
            else:
                _check_type(key, value, known[rest].type)


def _check_nested(key: str, section: str, name: str, schema: type, override: Override) -> None:
    """A setting of a nested section such as ``cluster.jobqueue``."""
    known = {f.name: f for f in fields(schema)}
    if name not in known:
        raise ConfigError(f"{key} is not a setting: {section} has {', '.join(known)}.")
    for value in _values(override):
        _check_type(key, value, known[name].type)


def _check_top_level(key: str, override: Override) -> None:
    """``group=option`` (Hydra lists the options if the option is unknown) or a flag."""
    if key not in _SECTIONS:
        groups = [name for name, kind in _SECTIONS.items() if kind is not bool]
        flags = [name for name, kind in _SECTIONS.items() if kind is bool]
        raise ConfigError(
            f"{key} is neither a config group nor a setting: groups are {', '.join(groups)}; "
            f"top-level settings are {', '.join(flags)}."
        )
    if _SECTIONS[key] is bool:
        for value in _values(override):
            _check_type(key, value, "bool")


def _check_axis_key(key: str, path: str, kind: str) -> None:
    group, _, name = path.partition(".")
    if group in GROUPS and (not name or name in parameter_fields(group)):
        return
    hint = (
        f"{group} has {', '.join(parameter_fields(group))}."
        if group in GROUPS
        else f"for example sweep.{kind}.policy.permit_strictness."
    )
    raise ConfigError(
        f"{key}: {kind} are sweep.{kind}.<group>.<parameter> with group one of "
        f"{', '.join(GROUPS)}; {hint}"
    )


def _values(override: Override) -> list[Any]:
    """The plain values an override sets (each of a multirun list); interpolations and
    continuous sweeps are left out."""
    if override.is_sweep_override():
        if not override.is_discrete_sweep():
            return []
        values = list(override.sweep_iterator())
    else:
        values = [override.value()]
    return [v for v in values if not (isinstance(v, str) and "${" in v)]


def _check_type(key: str, value: object, annotation: object) -> None:
    kind = str(annotation)
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return
    if kind == "bool" and isinstance(value, bool):
        return
    if kind in ("int", "bool"):
        allowed = "an integer" if kind == "int" else "true or false"
        raise ConfigError(f"{key} = {value!r} is not allowed: it takes {allowed}.")


def with_axis_additions(args: list[str]) -> list[str]:
    """Let ``sweep.axes.<group>.<parameter>=...`` (and ``sweep.parameters...``) add a new
    entry as well as replace one."""
    adds = ("sweep.axes.", "sweep.parameters.")
    return [f"++{a}" if a.startswith(adds) and "=" in a else a for a in args]


def _config_error(error: BaseException) -> ConfigError | None:
    while error is not None:
        if isinstance(error, ConfigError):
            return error
        error = error.__cause__ or error.__context__
    return None


@hydra.main(version_base="1.3", config_path="pkg://segmark.conf", config_name="config")
def _app(cfg: DictConfig) -> None:
    try:
        config: Config = OmegaConf.to_object(cfg)  # type: ignore[assignment]
    except OmegaConfBaseException as error:
        cause = _config_error(error)
        _refuse(f"{error.full_key}: {cause or error.msg}".replace("\n", " "))
    try:
        if config.dry_run:
            dry_run(config)
            return
        for noisy in ("distributed.client", "distributed.comm", "distributed.core"):
            # connection failures are reported by segmark in one line, not as Dask tracebacks
            logging.getLogger(noisy).setLevel(logging.CRITICAL)
        result = run_sweep(config)
    except ConfigError as error:
        _refuse(str(error))
    except DatasetBusy as error:
        print(f"segmark: {error}", file=sys.stderr)
        sys.exit(3)
    except SchedulerLost as error:
        print(
            f"segmark: {error}. Runs finished so far are stored; restart the scheduler and its "
            "workers, then run the same command (same storage.root and storage.dataset) to resume.",
            file=sys.stderr,
        )
        sys.exit(4)
    except KeyboardInterrupt:
        sys.exit(130)
    except OSError as error:
        if error.errno not in WRITE_ERRORS:
            raise
        where = f" ({error.filename})" if error.filename else ""
        print(
            f"segmark: cannot write the dataset: {error.strerror or error}{where}. Runs finished "
            "so far are stored and no half-written file is left; free disk space, lift the "
            "file-size limit or fix permissions, then run the same command with the same "
            "storage.dataset to resume.",
            file=sys.stderr,
        )
        sys.exit(5)
    print()
    try:
        report(result)
    except Exception as error:  # the data is stored; a failed summary must not hide where
        print(f"(no summary of the results: {type(error).__name__}: {error})")
    skipped = f", {result.n_skipped} already stored" if result.n_skipped else ""
    print(f"{result.n_runs} runs ({result.n_failed} failed{skipped}) in {result.wall_s:.1f} s")
    print(f"results: {result.directory}")


def report(result: SweepResult) -> None:
    """Print the finding and save the tipping curve along the first axis, if it is numeric."""
    grid = result.design.grid
    paths = list(grid) if grid is not None else list(result.design.paths)
    columns = ["point", "status", *FINDING_OUTCOMES, *(BY_PATH[p].column for p in paths)]
    # only what the finding needs: a million runs' full summary would not fit a small driver
    table = read_summary(result.directory, list(dict.fromkeys(columns)))
    summary = table.to_pandas(strings_to_categorical=True)
    del table
    if grid is None:
        print(describe_sampled(summary, result.design.paths))
        return
    print(describe(summary, grid))
    if not grid or (summary["status"] != STATUS_OK).all():
        return
    axis = next(iter(grid))
    if pd.api.types.is_numeric_dtype(summary[BY_PATH[axis].column]):
        from segmark.pipeline.plots import tipping_curve  # matplotlib only once results exist

        figure = tipping_curve(summary, axis, result.directory / "tipping.png")
        print(f"figure: {figure}")


WRITE_ERRORS = {errno.EFBIG, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS, errno.EPERM}


def _refuse(message: str) -> None:
    print(f"segmark: invalid config: {message}", file=sys.stderr)
    sys.exit(2)


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    try:
        check_overrides(sys.argv[1:])
    except ConfigError as error:
        _refuse(str(error))
    for directory in _config_dirs(sys.argv[1:]):
        try:
            check_yaml_files(directory)
        except ConfigError as error:
            _refuse(str(error))
    sys.argv[1:] = with_axis_additions(sys.argv[1:])
    _app()


def _config_dirs(args: list[str]) -> list[str]:
    """Directories added with -cd/--config-dir."""
    found = []
    for i, arg in enumerate(args):
        if arg in ("-cd", "--config-dir") and i + 1 < len(args):
            found.append(args[i + 1])
        elif arg.startswith("--config-dir="):
            found.append(arg.split("=", 1)[1])
    return found


def check_yaml_files(directory: str) -> None:
    """Read every YAML file under ``directory`` as plain YAML (OmegaConf's safe loader) before
    Hydra does: a tag that would build a Python object is refused with one clear line."""
    from pathlib import Path

    from omegaconf._utils import get_yaml_loader

    for path in sorted(Path(directory).rglob("*.yaml")):
        try:
            yaml.load(path.read_text(encoding="utf-8"), Loader=get_yaml_loader())
        except yaml.YAMLError as error:
            problem = getattr(error, "problem", None) or str(error).splitlines()[0]
            mark = getattr(error, "problem_mark", None)
            line = f", line {mark.line + 1}" if mark else ""
            raise ConfigError(
                f"{path}{line}: {problem}. Config files hold plain values; YAML tags that "
                "would build Python objects are refused."
            ) from None

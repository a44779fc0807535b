"""From a command line to a composed config: the model it names (``model=<name>``, found among
the installed models), that model's config tree made visible to Hydra (its parameter defaults
as the ``model/<name>`` option, its config package on the search path) and every override
checked against the model's parameter table before Hydra composes anything."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from importlib import resources
from typing import Any, get_args, get_type_hints

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from omegaconf import OmegaConf

from segmark.models import registry
from segmark.models.interface import GROUPS, Model, ParameterError
from segmark.pipeline.config import DEFAULT_MODEL, Config, ConfigError, register_resolvers
from segmark.pipeline.designs import example_path
from segmark.pipeline.validate import installed_model
from segmark.pipeline.yamlfile import check_config_dir, check_hydra_setting

SCHEMA = "segmark_schema"
CALIBRATION_SWEEP = "_calibration"  # conf/calibrate.yaml names it
ENGINE_GROUPS = ("model", "sweep", "cluster", "storage", "calibration")
_SECTIONS = get_type_hints(Config)

ConfigStore.instance().store(name=SCHEMA, node=Config)
register_resolvers()


def _parse(args: list[str]) -> list[Override]:
    candidates = [a for a in args if "=" in a and not a.startswith("-")]
    try:
        return OverridesParser.create().parse_overrides(candidates)
    except Exception:  # malformed syntax: Hydra's own message is the better one
        return []


def config_error(error: BaseException | None) -> ConfigError | None:
    """The ConfigError behind ``error`` (OmegaConf and Hydra wrap the one validation raised)."""
    while error is not None and not isinstance(error, ConfigError):
        error = error.__cause__ or error.__context__
    return error


def chosen_model(args: list[str]) -> str:
    """The name ``model=<name>`` gives on the command line, or the default model."""
    for override in _parse(args):
        if override.key_or_group == "model" and not override.is_delete():
            if override.is_sweep_override():
                raise ConfigError(
                    "model: one model per invocation; run segmark once for each model "
                    f"(installed: {', '.join(registry.names())})."
                )
            return str(override.value())
    return DEFAULT_MODEL


def prepare(args: list[str]) -> tuple[Model, list[str]]:
    """The model the command line names, its config registered with Hydra, and the command
    line Hydra should see (the model chosen explicitly, its config package searched)."""
    model = installed_model(chosen_model(args))
    store = ConfigStore.instance()
    node: dict[str, Any] = {group: {} for group in GROUPS}
    node["model"]["name"] = model.name
    for parameter in model.parameters:
        node[parameter.group][parameter.name] = parameter.default
    store.store(group="model", name=model.name, node=node, package="_global_")
    # segmark-calibrate's sweep section: the model's defaults, none of a sweep's settings
    store.store(group="sweep", name=CALIBRATION_SWEEP, node={"name": "calibration"})
    if not _package_has(model, "sweep/default.yaml"):  # a single run at the defaults
        store.store(group="sweep", name="default", node={"name": model.name})
    else:  # one composed earlier in this process for a model without one must not shadow it
        store.repo.get("sweep", {}).pop("default.yaml", None)
    keys = {o.key_or_group for o in _parse(args)}
    out = [a for a in args if not a.startswith("hydra.searchpath=")]
    if "model" not in keys:
        out.append(f"model={model.name}")
    paths = _user_searchpath(args) + _package_paths(model)
    if paths:
        out.append(f"hydra.searchpath=[{','.join(paths)}]")
    return model, with_axis_additions(out)


def _package_has(model: Model, name: str) -> bool:
    if not model.config_package:
        return False
    return resources.files(model.config_package).joinpath(name).is_file()


def _package_paths(model: Model) -> list[str]:
    return [f"pkg://{model.config_package}"] if model.config_package else []


def _package_groups(model: Model) -> list[str]:
    """The config groups of the model's config package (its folders)."""
    if not model.config_package:
        return []
    root = resources.files(model.config_package)
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("_"))


def _user_searchpath(args: list[str]) -> list[str]:
    for override in _parse(args):
        if override.key_or_group == "hydra.searchpath":
            return [str(v) for v in override.value()]
    return []


def compose_overrides(overrides: list[str]) -> list[str]:
    """What ``hydra.compose`` needs for ``overrides`` as the command line gives them (tests,
    notebooks and benchmarks compose configs this way)."""
    return prepare(list(overrides))[1]


def with_axis_additions(args: list[str]) -> list[str]:
    """Let ``sweep.axes.<group>.<parameter>=...`` (and ``sweep.parameters...``,
    ``calibration.priors...``, ``calibration.targets...``) add a new entry as well as replace
    one."""
    adds = ("sweep.axes.", "sweep.parameters.", "calibration.priors.", "calibration.targets.")
    return [f"++{a}" if a.startswith(adds) and "=" in a else a for a in args]


def check_overrides(args: list[str], model: Model) -> None:
    """Refuse unknown keys and bad parameter values on the command line with a message that
    names the key and what is allowed, before Hydra composes anything. Interpolations
    (``${...}``) are left to validation after composition; multirun lists are checked value by
    value."""
    for override in _parse(args):
        key = override.key_or_group
        if key == "hydra" or key.startswith("hydra."):
            check_hydra_setting(key)  # hydra/<group>=<option> picks among installed options
            continue
        if key.startswith("hydra/") or override.is_delete():
            continue
        if "." not in key:
            _check_top_level(key, override, model)
            continue
        section, _, rest = key.partition(".")
        if section not in _SECTIONS:
            raise ConfigError(
                f"{key}: there is no config section {section!r}; sections are "
                f"{', '.join(_SECTIONS)}."
            )
        if section in GROUPS:
            _check_parameter(key, override, model)
        elif section == "sweep" and rest.split(".")[0] in ("axes", "parameters") and "." in rest:
            kind, _, path = rest.partition(".")
            _check_axis_key(key, ".".join(path.split(".")[:2]), kind, model)
        elif section == "calibration" and rest.partition(".")[0] in ("priors", "targets"):
            continue  # checked against the model's table once composed (calibration.spec)
        elif not (section == "cluster" and rest.startswith("dask_config.")):
            _check_engine(key, section, rest, override)  # Dask's keys: checked against Dask


def _check_parameter(key: str, override: Override, model: Model) -> None:
    if key == "model.name":
        raise ConfigError(
            f"model.name: choose the model with model=<name>; installed are "
            f"{', '.join(registry.names())}."
        )
    if key not in model.paths:
        group = key.partition(".")[0]
        names = ", ".join(p.name for p in model.group(group)) or "no parameters"
        raise ConfigError(f"{key} is not a parameter of model {model.name}: {group} has {names}.")
    for value in _values(override):
        try:
            model.parameter(key).check(value, key)
        except ParameterError as error:
            raise ConfigError(str(error)) from None


def _check_engine(key: str, section: str, rest: str, override: Override) -> None:
    """A setting of an engine section (or of a nested one, such as ``cluster.jobqueue``)."""
    schema, name, where = _SECTIONS[section], rest, section
    schema = next((a for a in get_args(schema) if is_dataclass(a)), schema)  # X | None -> X
    head, _, tail = rest.partition(".")
    nested = get_type_hints(schema).get(head) if tail else None
    if nested is not None and is_dataclass(nested):  # e.g. cluster.jobqueue.cores
        schema, name, where = nested, tail, f"{section}.{head}"
    known = {f.name: f for f in fields(schema)}
    if name not in known:
        raise ConfigError(f"{key} is not a setting: {where} has {', '.join(known)}.")
    for value in _values(override):
        _check_type(key, value, known[name].type)


def _check_top_level(key: str, override: Override, model: Model) -> None:
    """``group=option`` (Hydra lists the options if the option is unknown) or a flag."""
    groups = [*ENGINE_GROUPS, *_package_groups(model)]
    if key in groups:
        return
    flags = [name for name, kind in _SECTIONS.items() if kind is bool]
    if key not in flags:
        raise ConfigError(
            f"{key} is neither a config group nor a setting: groups are "
            f"{', '.join(dict.fromkeys(groups))}; top-level settings are {', '.join(flags)}."
        )
    for value in _values(override):
        _check_type(key, value, "bool")


def _check_axis_key(key: str, path: str, kind: str, model: Model) -> None:
    group, _, name = path.partition(".")
    names = [p.name for p in model.group(group)]
    if group in GROUPS and (not name or name in names or any(c in name for c in "*?[")):
        return
    hint = (
        f"{group} has {', '.join(names)}."
        if group in GROUPS
        else f"for example sweep.{kind}.{example_path(model)}."
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


def config_dirs(args: list[str]) -> list[str]:
    """Directories of config files the command line adds: -cd/--config-dir, -cp/--config-path
    and the file:// entries of hydra.searchpath."""
    found = []
    for i, arg in enumerate(args):
        if arg in ("-cd", "--config-dir", "-cp", "--config-path") and i + 1 < len(args):
            found.append(args[i + 1])
        elif arg.startswith(("--config-dir=", "--config-path=")):
            found.append(arg.split("=", 1)[1])
    for entry in _user_searchpath(args):
        if entry.startswith("file://"):
            found.append(entry.removeprefix("file://"))
    return found


def check_command_line(args: list[str]) -> None:
    """What the command line makes Hydra read, before Hydra reads it: no pickled config, and
    every YAML file of a config directory it adds checked (``yamlfile.check_config_dir``)."""
    if any(arg.split("=", 1)[0] == "--experimental-rerun" for arg in args):
        raise ConfigError(
            "--experimental-rerun loads a pickled config, which can run code: segmark reads "
            "configs as YAML only; give the overrides again instead."
        )
    for directory in config_dirs(args):
        check_config_dir(directory)


def _no_environment(name: str, default: Any = None) -> Any:
    raise ConfigError(
        f"${{oc.env:{name}}}: configs do not read environment variables (the value would be "
        f'recorded in the dataset); give the value itself, e.g. from the shell: key="${name}".'
    )


# ${oc.env:...} is refused wherever a config holds it (command line, sweep files): a sweep file
# from elsewhere must not copy this machine's secrets into a dataset (docs/SECURITY.md)
OmegaConf.register_new_resolver("oc.env", _no_environment, replace=True)

"""YAML in: the one way segmark reads a YAML file that a user or a dataset gives it.

``read_yaml`` caps what a file may cost before anything is built from it (its size, its values
once aliases are expanded, its depth); ``check_config_dir`` adds what the files of a user's
config directory may not hold (``_target_``, Hydra's own settings: both build Python objects);
``load_config`` reads a dataset's stored ``config.yaml`` as data, never resolving an
interpolation in it. Hydra reads the files of a config directory itself, after these checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from segmark.pipeline.config import Config, ConfigError

# What a YAML file may hold: the largest shipped config is a few kB; OmegaConf takes ~0.1 ms per
# value, so 200,000 values is the most a file may cost before any check of its contents.
MAX_YAML_BYTES = 4 * 2**20
MAX_YAML_NODES = 200_000
MAX_YAML_DEPTH = 50
# Hydra settings a command line or config file may set: where Hydra looks and writes, values
# only. The rest (callbacks, launcher, sweeper, job_logging, hydra_logging, job.env_set) name
# classes Hydra builds, logging factories it calls or the environment the workers inherit.
HYDRA_SETTINGS = (
    "hydra.searchpath",
    "hydra.run.dir",
    "hydra.sweep.dir",
    "hydra.sweep.subdir",
    "hydra.job.chdir",
    "hydra.job.name",
    "hydra.output_subdir",
    "hydra.verbose",
    "hydra.mode",
)
_PACKAGE = re.compile(r"^#\s*@package\s+(\S+)", re.M)


def read_yaml(path: Path | str) -> Any:
    """The plain data of the YAML file at ``path``, read with OmegaConf's safe loader (no Python
    tags). Refused with a one-line ConfigError naming the file, before anything is built from
    it: a path that is not a regular file (a FIFO or /dev/zero would block or never end), a
    file over MAX_YAML_BYTES, a document that anchors and aliases expand to more than
    MAX_YAML_NODES values (a billion-laughs file is a few hundred bytes: values are counted on
    the parsed node graph, where an alias is shared), nests deeper than MAX_YAML_DEPTH or that
    refers to itself."""
    path = Path(path)
    return _parse(path, _read_capped(path))


def _parse(path: Path, text: str) -> Any:
    from omegaconf._utils import get_yaml_loader

    loader = get_yaml_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(path, node, {}, set(), 0)
        return loader.construct_document(node)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        mark = getattr(error, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark else ""
        raise ConfigError(
            f"{path}{line}: {problem}. Config files hold plain values; YAML tags that would "
            "build Python objects are refused."
        ) from None
    except RecursionError:  # the composer recurses: thousands of nested brackets
        raise ConfigError(f"{path}: nested deeper than {MAX_YAML_DEPTH} levels.") from None
    finally:
        loader.dispose()


def _read_capped(path: Path) -> str:
    try:
        if not path.is_file():
            raise ConfigError(f"{path}: not a regular file; a config is a YAML file.")
        with path.open("rb") as stream:
            data = stream.read(MAX_YAML_BYTES + 1)
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror or error}).") from None
    if len(data) > MAX_YAML_BYTES:
        raise ConfigError(f"{path}: over {MAX_YAML_BYTES // 2**20} MiB; a config is smaller.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; a config is a YAML file.") from None


def _expanded_size(path: Path, node: yaml.Node, sizes: dict, open_: set, depth: int) -> int:
    """The values ``node`` stands for once every alias is expanded (memoised per node: an alias
    is the node its anchor names)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_:
        raise ConfigError(f"{path}, line {node.start_mark.line + 1}: an alias refers to itself.")
    if depth > MAX_YAML_DEPTH:
        raise ConfigError(f"{path}: nested deeper than {MAX_YAML_DEPTH} levels.")
    open_.add(key)
    if isinstance(node, yaml.MappingNode):
        children = [child for pair in node.value for child in pair]
    else:
        children = node.value if isinstance(node, yaml.SequenceNode) else []
    total = 1
    for child in children:
        total += _expanded_size(path, child, sizes, open_, depth + 1)
        if total > MAX_YAML_NODES:
            raise ConfigError(
                f"{path}: expands to over {MAX_YAML_NODES:,} values (aliases expanded); a "
                "config is smaller."
            )
    open_.discard(key)
    sizes[key] = total
    return total


def check_config_dir(directory: Path | str) -> None:
    """Every YAML file under a user's config directory (``-cd``, ``-cp``, a ``file://`` entry
    of ``hydra.searchpath``) read with :func:`read_yaml`'s caps before Hydra reads any, and
    refused if it would make Hydra build objects: a ``_target_`` key, a file in the ``hydra/``
    group folder (logging configs call factories, launchers and callbacks are classes), a
    ``# @package hydra...`` file, a ``hydra`` section outside HYDRA_SETTINGS."""
    directory = Path(directory)
    for path in sorted(directory.rglob("*.yaml")):
        if path.relative_to(directory).parts[0] == "hydra":
            raise ConfigError(
                f"{path}: a config directory may not configure Hydra itself (its hydra/ group "
                "names classes and factories that Hydra would build)."
            )
        text = _read_capped(path)
        package = _PACKAGE.search(text)
        if package and package.group(1).removeprefix("_global_.").split(".")[0] == "hydra":
            raise ConfigError(f"{path}: '# @package {package.group(1)}' is refused: {_ALLOWED}")
        data = _parse(path, text)
        found = next((where for where, key, _ in _entries(data) if key == "_target_"), None)
        if found is not None:
            raise ConfigError(
                f"{path}: {found} is refused: segmark never builds objects from a config "
                "(_target_ is not a setting)."
            )
        for setting in _flat(data.get("hydra") if isinstance(data, dict) else None, "hydra"):
            check_hydra_setting(setting, where=f"{path}: ")


_ALLOWED = f"configs may set only {', '.join(HYDRA_SETTINGS)} of Hydra's settings."


def check_hydra_setting(key: str, where: str = "") -> None:
    """Refuse a Hydra setting outside HYDRA_SETTINGS (``hydra.callbacks.x._target_``...)."""
    if not any(key == ok or key.startswith(f"{ok}.") for ok in HYDRA_SETTINGS):
        raise ConfigError(f"{where}{key} is refused: {_ALLOWED}")


def _entries(value: Any, where: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(path, key, item) of every mapping entry and list item in ``value``, depth first."""
    if isinstance(value, dict):
        items: Any = ((f"{where}.{key}" if where else str(key), key, v) for key, v in value.items())
    elif isinstance(value, list):
        items = ((f"{where}[{i}]", i, v) for i, v in enumerate(value))
    else:
        return
    for path, key, item in items:
        yield path, key, item
        yield from _entries(item, path)


def _flat(value: Any, prefix: str) -> list[str]:
    if not isinstance(value, dict):
        return [prefix] if value is not None else []
    return [key for name, item in value.items() for key in _flat(item, f"{prefix}.{name}")]


def load_config(path: Path | str) -> Config:
    """The config a dataset stored (its ``config.yaml``) as a typed :class:`Config`. A stored
    config is data, maybe someone else's: read with :func:`read_yaml`'s caps, and a value
    holding ``${`` is refused, never resolved (``${oc.env:...}`` would copy this machine's
    secrets into the dataset). The caller validates its values (``pipeline.validate``)."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a stored config is a mapping of sections, not {data!r:.40}.")
    where = interpolation_in(data)
    if where is not None:
        raise ConfigError(
            f"{path}: {where} holds an interpolation ('${{'): a dataset's stored config is data "
            "and is never resolved; write the value itself."
        )
    try:
        merged = OmegaConf.merge(OmegaConf.structured(Config), OmegaConf.create(data))
        return OmegaConf.to_object(merged)  # type: ignore[return-value]
    except OmegaConfBaseException as error:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConfigError(f"{path}: {text}") from None


def interpolation_in(value: Any) -> str | None:
    """The path of the first key or string value in ``value`` holding ``${``, or None."""
    for path, key, item in _entries(value):
        if "${" in str(key) or (isinstance(item, str) and "${" in item):
            return path
    return None

"""Where a dataset's numbers came from: code, versions, model and seed.

Recorded in the manifest and in every Parquet part's key-value metadata (key ``segmark``), so a
single file copied elsewhere still says what made it. Nothing from the environment (no
variables, user or host names) is recorded. A list design's points are left out of the record
(each run's values are in its rows, all of them in the dataset's config.yaml, whose digest is
recorded): at 19,270 points they made every task ship, and every part hold, about 8 MB.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import platform
import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from segmark.models.interface import Model
from segmark.pipeline.config import ConfigError

PACKAGES = ("segmark", "numpy", "numba", "dask", "distributed", "pyarrow", "hydra-core", "pandas")
MODULES = {"hydra-core": "hydra"}  # import names that differ from the package's
NUMERIC = ("numpy", "numba")  # packages whose versions can change a model's numbers


def git_commit(path: Path | None = None) -> dict[str, Any] | None:
    """The commit of the source tree segmark runs from (and whether it has uncommitted changes),
    or None when it is not a git checkout."""
    where = path or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10
        )
        if commit.returncode != 0:
            return None
        status = subprocess.run(
            # never take the index lock: a git killed mid-refresh (a timeout, a file-size
            # limit) would otherwise leave .git/index.lock behind in the user's checkout
            ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}


def versions() -> dict[str, str | None]:
    """Python's and each package's version: ``__version__`` of a module already imported (the
    same string; reading the installed metadata costs about 1 ms a package), else the
    package's metadata."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        module = sys.modules.get(MODULES.get(name, name))
        version = getattr(module, "__version__", None)
        if isinstance(version, str) and version[:1].isdigit():  # not "unknown" (a broken build)
            found[name] = version
            continue
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def collect(
    model: Model, root_seed: int, config_yaml: str, full_config: str | None = None
) -> dict[str, Any]:
    """The provenance record of one sweep invocation. ``full_config``: the config as written
    to the dataset's config.yaml where ``config_yaml`` is a shortened copy (a list design's
    points left out): its digest is recorded."""
    record = {
        "model_version": model.tag,
        "root_seed": root_seed,
        "git": git_commit(),
        "versions": versions(),
        "config": config_yaml,
    }
    if full_config is not None:
        record["config_sha256"] = hashlib.sha256(full_config.encode()).hexdigest()
    record["code"] = code_record(model)
    return record


def for_parts(record: dict[str, Any]) -> dict[str, Any]:
    """The record each part carries: the code's digest and versions without the digest of
    every file (the manifest keeps those; a part names its code by the one digest)."""
    code = {k: v for k, v in record.get("code", {}).items() if k != "files"}
    return {**record, "code": code} if code else record


def code_record(model: Model) -> dict[str, Any]:
    """What determines ``model``'s numbers: a digest of each file of its ``sources`` and the
    versions of numpy and numba, with one digest of them all."""
    default = (model.simulate.__module__,) if model.simulate else ()
    return _code_record(model.sources or default, model.config_package)


@lru_cache(maxsize=16)
def _code_record(sources: tuple[str, ...], config_package: str | None) -> dict[str, Any]:
    configs = _folder(config_package) if config_package else None
    files = {}
    for source in sources:
        named_configs = source.startswith(str(config_package))  # e.g. nk's scenarios
        for name, path in _files(source):
            if configs and path.is_relative_to(configs) and not named_configs:
                continue  # configs set parameter values, which each run records
            files[name] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    found = versions()
    record: dict[str, Any] = {"files": files, **{name: found.get(name) for name in NUMERIC}}
    text = json.dumps(record, sort_keys=True)
    return {"digest": hashlib.sha256(text.encode()).hexdigest()[:16], **record}


def _folder(package: str) -> Path | None:
    """A package's folder (the first, for a namespace package); None for a plain module."""
    spec = importlib.util.find_spec(package)
    if spec is None:
        raise ModuleNotFoundError(f"model source {package!r} is not importable")
    locations = list(spec.submodule_search_locations or [])
    return Path(locations[0]) if locations else None


def _files(source: str) -> list[tuple[str, Path]]:
    """(name, path) of each file a source names: a module's file, or every file of a package
    or ``package/folder`` (byte-code caches left out), named ``source/relative path``."""
    package, _, folder = source.partition("/")
    root = _folder(package)
    if root is None:
        return [(source, Path(str(importlib.util.find_spec(package).origin)))]  # type: ignore[union-attr]
    root = root / folder
    paths = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return [(f"{source}/{p.relative_to(root).as_posix()}", p) for p in paths]


def code_changes(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """The files and versions that differ between two code records, as short phrases."""
    old, new = recorded.get("files", {}), current.get("files", {})
    changed = [
        f"{name} changed" for name in sorted(old.keys() & new.keys()) if old[name] != new[name]
    ]
    changed += [f"{name} added" for name in sorted(new.keys() - old.keys())]
    changed += [f"{name} removed" for name in sorted(old.keys() - new.keys())]
    changed += [
        f"{name} {recorded.get(name)} -> {current.get(name)}"
        for name in NUMERIC
        if recorded.get(name) != current.get(name)
    ]
    return changed


def check_code(directory: Path, recorded: dict[str, Any], model: Model) -> None:
    """Refuse to resume a dataset whose provenance (``recorded``) names other code of the model
    (its sources' files, numpy's and numba's versions): old and new runs could differ."""
    code = recorded.get("code")
    current = code_record(model)
    if not isinstance(code, dict) or code.get("digest") == current["digest"]:
        return  # datasets from before code records cannot be compared
    changes = code_changes(code, current)
    listed = ", ".join(changes[:3]) + (f" and {len(changes) - 3} more" if len(changes) > 3 else "")
    raise ConfigError(
        f"storage.dataset: {directory} was made by other code of model {model.tag} ({listed}); "
        "its runs and new ones could differ: choose a new storage.dataset, or set "
        "storage.allow_code_change=true if the change cannot alter the numbers."
    )

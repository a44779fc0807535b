"""Where a dataset's numbers came from: code, versions, model and seed.

Recorded in the manifest and in every Parquet part's key-value metadata (key ``segmark``), so a
single file copied elsewhere still says what made it. Nothing from the environment (no
variables, user or host names) is recorded. A list design's points are left out of the record
(each run's values are in its rows, all of them in the dataset's config.yaml, whose digest is
recorded): at 19,270 points they made every task ship, and every part hold, about 8 MB.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from segmark.models.interface import Model

PACKAGES = ("segmark", "numpy", "numba", "dask", "distributed", "pyarrow", "hydra-core", "pandas")
MODULES = {"hydra-core": "hydra"}  # import names that differ from the package's


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
    return record

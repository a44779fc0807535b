"""Validation of a config before any compute: the model's sections against its parameter table,
the engine's sections against what segmark accepts. Every refusal is a :class:`ConfigError` whose
message names the key and what is allowed. The sweep's design is checked by
``pipeline.designs``; Dask's own settings and the dashboard address by ``pipeline.schedule``,
called from here."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path
from typing import Any

from segmark.models import registry
from segmark.models.interface import GROUPS, Model, ParameterError
from segmark.pipeline.clusterchecks import check_address, check_worker_memory, dashboard_bind
from segmark.pipeline.config import MAX_RUNS, ClusterConfig, Config, ConfigError
from segmark.pipeline.schedule import check_dask_config
from segmark.pipeline.yamlfile import interpolation_in

NAME = ("model", "name")  # the model's name, in its section but not a parameter
CLUSTER_KINDS = ("local", "address", "slurm", "pbs")
COMPRESSIONS = ("zstd", "snappy", "gzip", "none")
LOOPBACK = ("127.0.0.1", "localhost")


def installed_model(name: str) -> Model:
    """The installed model called ``name``, or a ConfigError listing the installed ones."""
    try:
        return registry.get(name)
    except registry.UnknownModel as error:
        raise ConfigError(str(error)) from None


def validate_settings(cfg: Config, model: Model) -> None:
    """Check every value of ``cfg`` except the sweep's design. Fills each parameter section
    with the model's defaults for the keys it lacks and converts its values to their declared
    types, in place."""
    check_sections(cfg, model)
    _check_sweep(cfg)
    _check_cluster(cfg.cluster)
    _check_storage(cfg)
    where = interpolation_in(dataclasses.asdict(cfg))
    if where is not None:  # config.yaml must read back as these values, not as an interpolation
        raise ConfigError(
            f"{where}: a value may not hold '${{' once resolved (the stored config would read "
            "it as an interpolation); write it without '${'."
        )


def validate_stored(cfg: Config, model: Model, path: Path, trust_cluster: bool = False) -> None:
    """A dataset's stored config (read from ``path``) checked in full before it is used: every
    value as :func:`validate_settings` does, and its cluster by :func:`check_stored_cluster`
    unless ``trust_cluster``."""
    validate_settings(cfg, model)
    if not trust_cluster:
        check_stored_cluster(cfg.cluster, path)


def check_stored_cluster(cluster: ClusterConfig, path: Path) -> None:
    """Refuse the cluster settings of a dataset's stored config (at ``path``) that say where to
    connect, what to expose or what to run: a cluster other than the local one (a scheduler
    address; a batch system's job-script lines), a dashboard off loopback, a numba cache
    (numba loads pickles from it). A dataset may come from someone else: its values are data.
    ``segmark-refine --trust-cluster`` skips this for a dataset of one's own."""
    host = dashboard_bind(cluster.dashboard_address).rpartition(":")[0]
    settings = {
        "cluster.kind": "" if cluster.kind == "local" else cluster.kind,
        "cluster.dashboard_address": "" if host in LOOPBACK else cluster.dashboard_address,
        "cluster.numba_cache_dir": cluster.numba_cache_dir,
    }
    for key, value in settings.items():
        if value:
            raise ConfigError(
                f"{path}: {key} = {value!r}: a dataset's stored config is data, and this "
                "setting says where to connect, what to expose or what to run; if you wrote "
                "this dataset, pass --trust-cluster to use its cluster settings as stored."
            )


def check_sections(cfg: Config, model: Model) -> None:
    """The model's sections: known keys only, values in range (see :func:`validate_settings`)."""
    if cfg.model_name != model.name:
        raise ConfigError(
            f"model.name = {cfg.model_name!r} but the model is {model.name!r}: choose a model "
            "with model=<name>, not model.name."
        )
    for group in GROUPS:
        section = {k: v for k, v in (getattr(cfg, group) or {}).items() if (group, k) != NAME}
        known = {p.name: p for p in model.group(group)}
        for key in section:
            if key not in known:
                raise ConfigError(
                    f"{group}.{key} is not a parameter of model {model.name}: {group} has "
                    f"{', '.join(known) or 'no parameters'}."
                )
        try:
            values = {name: p.check(section.get(name, p.default)) for name, p in known.items()}
        except ParameterError as error:
            raise ConfigError(str(error)) from None
        setattr(cfg, group, {"name": model.name, **values} if group == "model" else values)


def _check_sweep(cfg: Config) -> None:
    if not plain_name(cfg.sweep.name):
        raise ConfigError(
            f"sweep.name = {cfg.sweep.name!r}: a sweep name becomes a directory name; use "
            "letters, digits, '-', '_' and '.' (not starting with '.')."
        )
    check_int("sweep.replicates", cfg.sweep.replicates, 1, MAX_RUNS)
    check_int("sweep.root_seed", cfg.sweep.root_seed, 0, 2**63 - 1)
    check_int("sweep.batch_size", cfg.sweep.batch_size, 0, 1_000_000)
    check_number(
        "sweep.time_budget_s", cfg.sweep.time_budget_s, 0, 1e7,
        "a number of seconds in [0, 1e7] (0: no budget)",
    )  # fmt: skip


def _check_cluster(cluster: ClusterConfig) -> None:
    if cluster.kind not in CLUSTER_KINDS:
        raise ConfigError(
            f"cluster.kind = {cluster.kind!r} is not known: choose one of "
            f"{', '.join(CLUSTER_KINDS)}."
        )
    if cluster.kind == "address" and not cluster.address:
        raise ConfigError(
            "cluster.address is empty: cluster=address needs the scheduler address, "
            "e.g. cluster.address=tcp://127.0.0.1:8786."
        )
    if cluster.kind == "address":
        check_address(cluster.address)
    _check_tls(cluster)
    dashboard_bind(cluster.dashboard_address)
    check_dask_config(cluster.dask_config)
    check_int("cluster.n_workers", cluster.n_workers, 0, 4096)
    queue = cluster.jobqueue
    check_int("cluster.jobqueue.cores", queue.cores, 1, 4096)
    check_int("cluster.jobqueue.processes", queue.processes, 1, queue.cores)
    check_int("cluster.jobqueue.jobs", queue.jobs, 1, 100_000)
    check_int("cluster.jobqueue.adaptive_max_jobs", queue.adaptive_max_jobs, 0, 100_000)
    if not re.fullmatch(r"\d+(\.\d+)?\s*[kKmMgGtT]i?[bB]", queue.memory):
        raise ConfigError(
            f"cluster.jobqueue.memory = {queue.memory!r}: give a size such as 4GB or 3500MiB."
        )
    if not re.fullmatch(r"(\d+-)?\d{1,3}:\d{2}(:\d{2})?", queue.walltime):
        raise ConfigError(
            f"cluster.jobqueue.walltime = {queue.walltime!r}: give HH:MM:SS (or D-HH:MM:SS)."
        )
    check_int("cluster.threads_per_worker", cluster.threads_per_worker, 1, 1024)
    if cluster.kind == "local" and cluster.memory_limit != "auto":  # auto: Dask's share
        check_worker_memory("cluster.memory_limit", cluster.memory_limit)
    elif cluster.kind in ("slurm", "pbs"):  # a job's memory is split among its processes
        check_worker_memory("cluster.jobqueue.memory", queue.memory, queue.processes)
    check_int("cluster.max_in_flight", cluster.max_in_flight, 0, 1_000_000)
    check_number(
        "cluster.task_seconds", cluster.task_seconds, 0.01, 3600,
        "a number of seconds in [0.01, 3600]",
    )  # fmt: skip
    submit = {"slurm": "sbatch", "pbs": "qsub"}.get(cluster.kind)
    if submit and shutil.which(submit) is None:
        raise ConfigError(
            f"cluster.kind = {cluster.kind!r} submits worker jobs with {submit}, which is not "
            "on this machine's PATH: run segmark on a login node of that cluster, or use "
            "cluster=local or cluster=address."
        )


def _check_storage(cfg: Config) -> None:
    storage = cfg.storage
    if not storage.root:
        raise ConfigError("storage.root is empty: give the directory datasets are written under.")
    _check_root(storage.root)
    if storage.dataset and not plain_name(storage.dataset):
        raise ConfigError(
            f"storage.dataset = {storage.dataset!r}: a dataset is a plain directory name "
            "under storage.root: letters, digits, '-', '_' and '.' (not starting with '.')."
        )
    check_number(
        "storage.compact_mb", storage.compact_mb, 0, 1e6, "a size in MB in [0, 1e6] (0: never)"
    )
    check_int("storage.compact_min_parts", storage.compact_min_parts, 1, 1_000_000_000)
    if storage.compression not in COMPRESSIONS:
        raise ConfigError(
            f"storage.compression = {storage.compression!r}: choose one of "
            f"{', '.join(COMPRESSIONS)}."
        )


# the kernel's virtual file systems: nothing written there is data on a disk
VIRTUAL_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))


def _check_root(root: str) -> None:
    """storage.root is, or can become, a directory on a disk."""
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*)://", root)
    if scheme:  # Path would make s3://bucket/runs a local folder named "s3:"
        raise ConfigError(
            f"storage.root = {root!r} is a URL ({scheme[1]}://): datasets are written to a "
            "directory of a local or shared file system (object storage is not supported "
            "yet); give a path, e.g. storage.root=/shared/runs."
        )
    path = Path(root).expanduser().resolve()  # through links, as the driver resolves it
    if any(path == v or v in path.parents for v in VIRTUAL_ROOTS):
        raise ConfigError(
            f"storage.root = {root!r} is in /{path.parts[1]}, a virtual "
            "file system of the kernel: give a directory on a disk."
        )
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        where = "is" if existing == path else f"is under {existing}, which is"
        raise ConfigError(
            f"storage.root = {root!r} {where} a file, not a directory: give a directory "
            "(it is made if missing)."
        )


def _check_tls(cluster: ClusterConfig) -> None:
    files = {key: getattr(cluster, key) for key in ("tls_ca_file", "tls_cert", "tls_key")}
    given = [key for key, value in files.items() if value]
    if not given:
        return
    if cluster.kind == "local":
        raise ConfigError(
            f"cluster.{given[0]} is set but cluster.kind = 'local': the embedded cluster listens "
            "on 127.0.0.1 only; TLS settings apply to cluster=address, slurm and pbs."
        )
    if len(given) != 3:
        missing = ", ".join(f"cluster.{key}" for key in files if key not in given)
        raise ConfigError(
            f"TLS needs all of cluster.tls_ca_file, tls_cert, tls_key: {missing} unset."
        )
    for key, path in files.items():
        if not Path(path).is_file():
            raise ConfigError(f"cluster.{key} = {path!r}: no such file (a PEM file is expected).")
    if cluster.kind == "address" and not cluster.address.startswith("tls://"):
        raise ConfigError(
            f"cluster.address = {cluster.address!r}: with TLS settings the scheduler address "
            "starts with tls://, e.g. tls://127.0.0.1:8786."
        )


def plain_name(name: str) -> bool:
    """A name usable as one directory name."""
    return bool(re.fullmatch(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]{0,199}", name))


def check_number(path: str, value: Any, low: float, high: float, allowed: str) -> None:
    """Refuse anything but an int or float in [low, high]; ``allowed`` says so in words."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"{path} = {value!r}: allowed is {allowed}.")


def check_int(path: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{path} = {value!r}: allowed is an integer in [{low}, {high}].")

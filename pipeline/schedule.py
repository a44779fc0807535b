"""Scheduling on Dask: the only module that imports distributed.

``connect`` opens a client on an embedded LocalCluster (bound to 127.0.0.1), on a running
scheduler or on worker jobs of SLURM or PBS; ``map_batches`` keeps a bounded number of batches
in flight and yields their results as they complete, so the driver never holds more than
``max_in_flight`` results; ``check_dask_config`` refuses what is not a plain Dask setting, before
any cluster starts.
"""

from __future__ import annotations

import logging
import os
import shlex
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import dask
from distributed import Client, LocalCluster, Security, as_completed
from distributed.comm.core import CommClosedError

from segmark.pipeline.config import ClusterConfig, ConfigError

T = TypeVar("T")
R = TypeVar("R")


@contextmanager
def connect(cluster: ClusterConfig) -> Iterator[Client]:
    """A Dask client for ``cluster``, with ``cluster.dask_config`` set for it, the scheduler
    and the workers started here; a cluster started here is closed (its jobs cancelled) on
    exit."""
    with dask.config.set(dask_settings(cluster.dask_config)):
        with _connect(cluster) as client:
            yield client


@contextmanager
def _connect(cluster: ClusterConfig) -> Iterator[Client]:
    if cluster.numba_cache_dir:
        # LocalCluster workers inherit the driver's environment; jobs get it in their script
        os.environ["NUMBA_CACHE_DIR"] = cluster.numba_cache_dir
    security = tls_security(cluster)
    if cluster.kind == "address":
        with Client(cluster.address, timeout="30s", security=security) as client:
            client.wait_for_workers(1, timeout=120)
            yield client
        return
    if cluster.kind in ("slurm", "pbs"):
        with jobqueue_cluster(cluster) as jobs, Client(jobs, security=security) as client:
            queue = cluster.jobqueue
            if queue.adaptive_max_jobs:
                jobs.adapt(minimum_jobs=1, maximum_jobs=queue.adaptive_max_jobs)
            else:
                jobs.scale(jobs=queue.jobs)
            client.wait_for_workers(1, timeout=600)
            yield client
        return
    with (
        LocalCluster(
            n_workers=cluster.n_workers or os.cpu_count() or 1,
            threads_per_worker=cluster.threads_per_worker,
            processes=True,
            host="127.0.0.1",
            dashboard_address=cluster.dashboard_address,
            memory_limit=cluster.memory_limit,
            # the driver reports every failure itself (runs as data, a task's error as one
            # line); workers' own error logs would repeat it as a traceback dump
            silence_logs=logging.CRITICAL,
        ) as local,
        Client(local) as client,
    ):
        yield client


def tls_security(cluster: ClusterConfig) -> Security | None:
    """Dask TLS settings from cluster.tls_* (None without them): encryption required, the
    certificate used by the client and, for jobqueue, by the scheduler and the workers."""
    if not cluster.tls_ca_file:
        return None
    files = {"tls_ca_file": cluster.tls_ca_file}
    for role in ("client", "scheduler", "worker"):
        files[f"tls_{role}_cert"] = cluster.tls_cert
        files[f"tls_{role}_key"] = cluster.tls_key
    return Security(require_encryption=True, **files)


def jobqueue_cluster(cluster: ClusterConfig) -> Any:
    """An unstarted dask-jobqueue SLURMCluster or PBSCluster from ``cluster.jobqueue``."""
    from dask_jobqueue import PBSCluster, SLURMCluster

    queue = cluster.jobqueue
    prologue = list(queue.job_script_prologue)
    if cluster.numba_cache_dir:
        prologue.append(f"export NUMBA_CACHE_DIR={cluster.numba_cache_dir}")
    prologue += dask_exports(cluster.dask_config)
    worker_args: list[str] = []  # threads per worker process: cores / processes
    if queue.lifetime:
        worker_args += ["--lifetime", queue.lifetime, "--lifetime-stagger", queue.lifetime_stagger]
    worker_args += list(queue.worker_extra_args)
    options: dict[str, Any] = {
        "cores": queue.cores,
        "processes": queue.processes,
        "memory": queue.memory,
        "walltime": queue.walltime,
        "job_extra_directives": list(queue.job_extra_directives),
        "job_script_prologue": prologue,
        "worker_extra_args": worker_args,
        "scheduler_options": {"dashboard_address": cluster.dashboard_address or ":0"},
    }
    optional = {
        "queue": queue.queue,
        "account": queue.account,
        "interface": queue.interface,
        "local_directory": queue.local_directory,
        "log_directory": queue.log_directory,
    }
    options.update({key: value for key, value in optional.items() if value})
    security = tls_security(cluster)
    if security is not None:  # the cert files must be readable on the compute nodes
        options.update(security=security, protocol="tls://")
    kind = SLURMCluster if cluster.kind == "slurm" else PBSCluster
    return kind(**options)


def dask_exports(nested: dict[str, Any]) -> list[str]:
    """Shell lines giving a job's workers ``cluster.dask_config`` as DASK_* variables (Dask
    reads them at start-up, parsing values as Python literals)."""
    lines = []
    for key, value in dask_settings(nested).items():
        name = "DASK_" + "__".join(part.upper().replace("-", "_") for part in key.split("."))
        text = repr(value) if isinstance(value, bool | int | float | type(None)) else str(value)
        lines.append(f"export {name}={shlex.quote(text)}")
    return lines


def dask_settings(nested: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``cluster.dask_config`` as Dask's dotted keys (``dask.config.set`` replaces a whole
    subtree when given a nested mapping; dotted keys change only the leaves)."""
    flat: dict[str, Any] = {}
    for key, value in nested.items():
        if isinstance(value, dict):
            flat.update(dask_settings(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def check_dask_config(nested: dict[str, Any]) -> None:
    """Every key of cluster.dask_config is a Dask setting and every value a plain one."""
    for key, value in dask_settings(nested).items():
        try:
            default = dask.config.get(key)
        except KeyError:
            raise ConfigError(
                f"cluster.dask_config.{key} is not a Dask setting: use the nested keys of "
                "Dask's configuration reference (https://docs.dask.org/en/stable/configuration"
                ".html), e.g. cluster.dask_config.distributed.worker.profile.enabled=true."
            ) from None
        if isinstance(default, dict):
            raise ConfigError(
                f"cluster.dask_config.{key} is a group of Dask settings ({', '.join(default)}), "
                "not one: set its settings one by one."
            )
        if not isinstance(value, str | int | float | bool | type(None)):
            raise ConfigError(
                f"cluster.dask_config.{key} = {value!r}: give a plain value (text, number, "
                "true/false or null)."
            )


class SchedulerLost(RuntimeError):
    """The Dask scheduler went away in the middle of a sweep."""


def _scheduler_gone(client: Client, error: Exception) -> bool:
    """Whether ``error`` means the scheduler went away. Not any OSError: a task's own failure
    to write its part (a full disk, an unwritable directory) reaches the driver as the task's
    OSError and must be reported as what it is."""
    return (
        isinstance(error, CommClosedError | ConnectionError)
        or "scheduler-connection-lost" in str(error)
        or client.status != "running"
    )


def total_threads(client: Client) -> int:
    return max(1, sum(client.nthreads().values()))


def map_batches(
    client: Client,
    fn: Callable[[T], R],
    batches: Iterable[T],
    max_in_flight: int,
) -> Iterator[R]:
    """Yield ``fn(batch)`` for every batch, in completion order, with at most ``max_in_flight``
    tasks submitted at any time. A task lost with its worker is retried by Dask."""
    pending = iter(batches)
    futures = as_completed()
    submitted = set()

    def fill() -> None:
        for batch in _take(pending, max_in_flight - len(submitted)):
            future = client.submit(fn, batch, pure=False)
            submitted.add(future)
            futures.add(future)

    try:
        fill()
        for future in futures:
            try:
                result = future.result()
            except Exception as error:
                if _scheduler_gone(client, error):
                    raise SchedulerLost(
                        f"lost the connection to the Dask scheduler at {client.scheduler.address} "
                        f"({type(error).__name__})"
                    ) from error
                raise
            submitted.discard(future)
            future.release()
            yield result
            fill()
    finally:
        if submitted and client.status == "running":  # stopped early: tasks still queued or
            client.cancel(list(submitted), force=True)  # running must not land later


def _take(items: Iterator[Any], n: int) -> Iterator[Any]:
    for _ in range(n):
        try:
            yield next(items)
        except StopIteration:
            return

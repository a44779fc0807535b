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
import socket
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import dask
from distributed import Client, LocalCluster, Security, as_completed
from distributed.comm.core import CommClosedError
from distributed.scheduler import KilledWorker

from segmark.pipeline.clusterchecks import dashboard_bind
from segmark.pipeline.config import ClusterConfig, ConfigError

T = TypeVar("T")
R = TypeVar("R")


@contextmanager
def connect(cluster: ClusterConfig) -> Iterator[Client]:
    """A Dask client for ``cluster``, with ``cluster.dask_config`` set for it, the scheduler
    and the workers started here; a cluster started here is closed (its jobs cancelled) on
    exit. The Dask settings and the dashboard address are checked here too, whoever calls:
    nothing starts with a setting that loads code."""
    check_dask_config(cluster.dask_config)
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
        with _client_at(cluster.address, security) as client:
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
            dashboard_address=dashboard_bind(cluster.dashboard_address),
            memory_limit=cluster.memory_limit,
            # the driver reports every failure itself (runs as data, a task's error as one
            # line); workers' own error logs would repeat it as a traceback dump
            silence_logs=logging.CRITICAL,
        ) as local,
        Client(local) as client,
    ):
        yield client


@contextmanager
def _client_at(address: str, security: Security | None) -> Iterator[Client]:
    """A client of the scheduler at ``address``; none answering is refused in one line."""
    timeout = dask.config.get("distributed.comm.timeouts.connect")
    try:
        client = Client(address, timeout=timeout, security=security)
    except OSError as error:
        raise ConfigError(
            f"cluster.address = {address!r}: no Dask scheduler answered there within {timeout} "
            f"({type(error).__name__}); start one (dask scheduler) or fix the address."
        ) from None
    with client:
        yield client


def dashboard_link(client: Client) -> str:
    """The dashboard's address as bound: for a scheduler in this process (local, slurm, pbs),
    the host and port its HTTP server listens on; for one elsewhere, what Dask reports."""
    server = getattr(getattr(client.cluster, "scheduler", None), "http_server", None)
    host, port = getattr(server, "address", None), getattr(server, "port", None)
    if not port:
        return str(client.dashboard_link)
    if host in ("0.0.0.0", "::", ""):
        return f"http://{socket.gethostname()}:{port}/status (listening on every interface)"
    return f"http://{host}:{port}/status"


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
        "scheduler_options": {"dashboard_address": dashboard_bind(cluster.dashboard_address)},
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


# The Dask settings a config may change, and nothing else: timings, memory thresholds, log
# lengths, the scheduler's heuristics; values, never the names of code. A key ending in "." stands
# for its subtree. Left out on purpose: every preload and preload-argv (run a file or module in
# the client, scheduler, nanny or workers), http.routes, allowed-imports, active-memory-manager
# policies and client.security-loader (import what they name), nanny.environ and
# pre-spawn-environ (LD_PRELOAD for the workers), dashboard.link (formatted with the
# environment: it would print secrets), TLS files (cluster.tls_*), temporary-directory.
DASK_ALLOWED = (
    "distributed.worker.profile.",
    "distributed.worker.memory.",
    "distributed.worker.lifetime.",
    "distributed.worker.connections.",
    "distributed.worker.transfer.message-bytes-limit",
    "distributed.admin.tick.",
    "distributed.admin.system-monitor.",
    "distributed.admin.low-level-log-length",
    "distributed.admin.log-length",
    "distributed.admin.max-error-length",
    "distributed.admin.large-graph-warning-threshold",
    "distributed.scheduler.work-stealing",
    "distributed.scheduler.work-stealing-interval",
    "distributed.scheduler.worker-saturation",
    "distributed.scheduler.allowed-failures",
    "distributed.scheduler.worker-ttl",
    "distributed.scheduler.bandwidth",
    "distributed.scheduler.unknown-task-duration",
    "distributed.scheduler.default-data-size",
    "distributed.scheduler.idle-timeout",
    "distributed.scheduler.no-workers-timeout",
    "distributed.scheduler.events-cleanup-delay",
    "distributed.scheduler.active-memory-manager.start",
    "distributed.scheduler.active-memory-manager.interval",
    "distributed.comm.timeouts.",
    "distributed.comm.retry.",
    "distributed.comm.compression",
    "distributed.comm.shard",
    "distributed.comm.offload",
    "distributed.client.heartbeat",
    "distributed.client.scheduler-info-interval",
    "distributed.deploy.lost-worker-timeout",
    "distributed.adaptive.",
)


def dask_allowed(key: str) -> bool:
    """Whether a config may set the Dask setting ``key`` (DASK_ALLOWED). Compared as Dask reads
    keys: case-blind (DASK_* variables) and with "_" for "-"."""
    key = key.lower().replace("_", "-")
    return any(key.startswith(ok) if ok.endswith(".") else key == ok for ok in DASK_ALLOWED)


def _allowed_text() -> str:
    """DASK_ALLOWED for a message: distributed.worker.{profile.*, memory.*, ...}; ..."""
    groups: dict[str, list[str]] = {}
    for ok in DASK_ALLOWED:
        head = ".".join(ok.split(".")[:2])
        tail = ok[len(head) + 1 :]
        groups.setdefault(head, []).append(tail + "*" if ok.endswith(".") else tail)
    return "; ".join(
        f"{head}.{tails[0]}" if len(tails) == 1 else f"{head}.{{{', '.join(tails)}}}"
        for head, tails in groups.items()
    )


def check_dask_config(nested: dict[str, Any]) -> None:
    """Every key of cluster.dask_config is a Dask setting a config may change (DASK_ALLOWED) and
    every value a plain one."""
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
        if not dask_allowed(key):
            raise ConfigError(
                f"cluster.dask_config.{key} is refused: a config may set only Dask settings that "
                f"hold values, never ones that load code, files or environment variables "
                f"(docs/SECURITY.md); allowed are {_allowed_text()}."
            )
        if not isinstance(value, str | int | float | bool | type(None)):
            raise ConfigError(
                f"cluster.dask_config.{key} = {value!r}: give a plain value (text, number, "
                "true/false or null)."
            )


class SchedulerLost(RuntimeError):
    """The Dask scheduler went away in the middle of a sweep."""


class WorkersDied(RuntimeError):
    """A task killed every worker that ran it (Dask's allowed failures), most often by
    growing past the worker's memory limit."""


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
            except KilledWorker as error:
                raise WorkersDied(_killed_message(error)) from None
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


def _killed_message(error: KilledWorker) -> str:
    tries = getattr(error, "allowed_failures", None)
    count = f"each of the {tries + 1} workers" if isinstance(tries, int) else "every worker"
    return (
        f"a batch of runs killed {count} that ran it; a worker dies like this when it outgrows "
        "its memory limit: raise cluster.memory_limit (cluster.jobqueue.memory on SLURM/PBS) "
        "or lower sweep.batch_size"
    )


def _take(items: Iterator[Any], n: int) -> Iterator[Any]:
    for _ in range(n):
        try:
            yield next(items)
        except StopIteration:
            return

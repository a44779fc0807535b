"""Scheduling on Dask: the only module that imports distributed.

``connect`` opens a client on an embedded LocalCluster (bound to 127.0.0.1) or on a running
scheduler; ``map_batches`` keeps a bounded number of batches in flight and yields their results
as they complete, so the driver never holds more than ``max_in_flight`` results.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from distributed import Client, LocalCluster, as_completed

from segmark.pipeline.config import ClusterConfig

T = TypeVar("T")
R = TypeVar("R")


@contextmanager
def connect(cluster: ClusterConfig) -> Iterator[Client]:
    """A Dask client for ``cluster``; an embedded LocalCluster is closed on exit."""
    if cluster.kind == "address":
        with Client(cluster.address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=120)
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
            silence_logs=logging.WARNING,
        ) as local,
        Client(local) as client,
    ):
        yield client


def total_threads(client: Client) -> int:
    return max(1, sum(client.nthreads().values()))


def map_batches(
    client: Client, fn: Callable[[T], R], batches: Sequence[T], max_in_flight: int
) -> Iterator[R]:
    """Yield ``fn(batch)`` for every batch, in completion order, with at most ``max_in_flight``
    tasks submitted at any time. A task lost with its worker is retried by Dask."""
    pending = iter(batches)
    futures = as_completed()
    for batch in _take(pending, max_in_flight):
        futures.add(client.submit(fn, batch, pure=False))
    for future in futures:
        result = future.result()
        future.release()
        for batch in _take(pending, 1):
            futures.add(client.submit(fn, batch, pure=False))
        yield result


def _take(items: Iterator[Any], n: int) -> Iterator[Any]:
    for _ in range(n):
        try:
            yield next(items)
        except StopIteration:
            return

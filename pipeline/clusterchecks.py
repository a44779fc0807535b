"""Cluster settings checked before any cluster starts: the scheduler's address, the dashboard's
bind address and the memory a worker gets. Each refusal is a ConfigError naming the key."""

from __future__ import annotations

import re

import psutil
from dask.utils import parse_bytes

from segmark.pipeline.config import ConfigError

LOOPBACK = "127.0.0.1"
# empty, PORT, :PORT or HOST:PORT (a host name or IPv4 address; Dask's parser takes no IPv6)
_DASHBOARD = re.compile(r"(?:(?P<host>[A-Za-z0-9][A-Za-z0-9.\-]{0,252})?:)?(?P<port>\d{1,5})|")
# [PROTOCOL://]HOST:PORT as Dask's client takes it (tcp:// when left out); IPv6 in brackets
_SCHEDULER = re.compile(
    r"(?:(?P<scheme>[a-z]+)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.\-]{0,252})"
    r":(?P<port>\d{1,5})"
)
PROTOCOLS = ("tcp", "tls", "ucx", "ws", "wss")
# a worker holds about 360 MB after its first nk run (measured) and Dask pauses a worker at
# 80% of its limit, so a worker under this would hang paused or be killed before any run
WORKER_MEMORY_FLOOR = 512_000_000


def check_address(address: str) -> None:
    """Refuse a scheduler address the Dask client cannot use, before anything connects."""
    match = _SCHEDULER.fullmatch(address)
    if match and (match["scheme"] or "tcp") in PROTOCOLS and 0 < int(match["port"]) <= 65535:
        return
    raise ConfigError(
        f"cluster.address = {address!r} is not a scheduler address: give tcp://HOST:PORT or "
        f"tls://HOST:PORT (protocols: {', '.join(PROTOCOLS)}), e.g. tcp://127.0.0.1:8786."
    )


def dashboard_bind(address: str) -> str:
    """``cluster.dashboard_address`` as the address the dashboard binds: HOST:PORT as given; a
    bare :PORT or PORT, or nothing, on 127.0.0.1 (Dask would listen on every interface: the
    dashboard shows tasks and lets anyone who reaches it inspect the cluster). A malformed
    address is refused (ConfigError) before any cluster starts."""
    match = _DASHBOARD.fullmatch(str(address))
    if match is None or int(match["port"] or 0) > 65535:
        raise ConfigError(
            f"cluster.dashboard_address = {address!r}: give HOST:PORT or :PORT (a bare :PORT "
            "listens on 127.0.0.1 only; PORT 0 picks a free one), e.g. 127.0.0.1:8787."
        )
    return f"{match['host'] or LOOPBACK}:{int(match['port'] or 0)}"


def worker_bytes(key: str, limit: str) -> int | None:
    """A memory limit as Dask reads it: "auto" or a fraction (at most 1) of this machine's
    memory, a size (4GB, 3500MiB, bytes), or 0 for none (None)."""
    text = str(limit).strip()
    total = psutil.virtual_memory().total
    try:
        if text == "auto":
            return total
        if re.fullmatch(r"0?\.\d+|1(\.0*)?|0", text):
            return int(float(text) * total) or None
        size = parse_bytes(text)
    except ValueError as error:
        raise ConfigError(
            f"{key} = {limit!r}: {error}; give a size such as 4GB or 3500MiB, a fraction of "
            "this machine's memory such as 0.5, auto, or 0 (no limit)."
        ) from None
    if size <= 0:
        raise ConfigError(f"{key} = {limit!r}: a memory limit is positive (or 0: no limit).")
    return size


def check_worker_memory(key: str, limit: str, workers_sharing: int = 1) -> None:
    """Refuse a memory limit Dask cannot read or one that leaves a worker less than it needs;
    ``limit`` is shared by ``workers_sharing`` workers (a job's memory by its processes)."""
    whole = worker_bytes(key, limit)
    if whole is None:
        return
    each = whole // max(1, workers_sharing)
    if each < WORKER_MEMORY_FLOOR:
        raise ConfigError(
            f"{key} = {limit!r} leaves each worker {each / 1e6:.0f} MB; a worker needs at "
            f"least {WORKER_MEMORY_FLOOR / 1e6:.0f} MB (it holds about 360 MB after its first "
            "run, and Dask pauses a worker at 80% of its limit): raise it or use fewer workers."
        )

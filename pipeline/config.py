"""Structured-config schemas of segmark: the sections of one invocation.

The dataclasses below are the schemas Hydra composes the YAML tree in ``conf/`` (and the chosen
model's config package) against: wrong types and unknown engine keys fail there. The model's
sections (``model``, ``policy``, ``shock``) are mappings whose keys and values the model's
parameter table checks (``pipeline.validate``), before any cluster starts or any file is
written. Library code takes these plain dataclasses, never Hydra objects.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
from dataclasses import dataclass, field
from typing import Any

import yaml
from omegaconf import OmegaConf

DEFAULT_MODEL = "nk"  # the model of `segmark` without model=<name>
MAX_RUNS = 10_000_000
# The driver plans each design point's full parameter row (every column, a digest, the
# model's check): ~3.5 KB and 60 us at peak (nk: 63 columns) where a run costs 40 bytes, so
# 10^5 points plan in 0.35 GB and 6 s, and 10^5 x 100 replicates = MAX_RUNS in 0.7 GB and 9 s.
MAX_POINTS = 100_000
# Dask's periodic work, made rarer: its statistical profiler (every 10 ms in each worker) and
# event-loop ticks (every 20 ms in each process) took ~9% of a 2-core machine's CPU and made
# runs ~15% slower (docs/CLUSTERS.md); the dashboard still works, without its profile page.
# Each process's debugging log of its last 1,000 messages under 1 MB is cut to 10: it held
# every task the driver submitted, arguments and all (170 MB more at 10^6 runs).
QUIET_DASK: dict[str, Any] = {
    "distributed": {
        "worker": {"profile": {"enabled": False}, "memory": {"monitor-interval": "500ms"}},
        "admin": {
            "tick": {"interval": "1s"},
            "system-monitor": {"interval": "2s"},
            "low-level-log-length": 10,
        },
    }
}


class ConfigError(ValueError):
    """A config value outside what segmark accepts; the message is one paragraph for the user."""


@dataclass
class SweepConfig:
    """A sweep: the points of its design x replicates.

    ``axes`` (grid design) maps group -> parameter -> a list of values;
    ``${linspace:start,stop,num}`` and ``${geomspace:start,stop,num}`` write ranges as lists.
    """

    name: str = "default"
    description: str = ""
    design: str = "grid"  # grid, list, random, lhs, sobol, saltelli, morris (pipeline/designs.py)
    axes: dict[str, Any] = field(default_factory=dict)  # grid: group -> parameter -> values
    points: list[Any] = field(default_factory=list)  # list: group -> parameter -> value, each
    parameters: dict[str, Any] = field(default_factory=dict)  # sampled: group -> name -> spec
    samples: int = 0  # sampled designs: points (saltelli: base N; morris: trajectories)
    combine: str = "joint"  # joint, or factorial: policy points x shock/model points
    replicates: int = 1
    root_seed: int = 0
    # true: replicate r draws the same random numbers at every point (common random numbers);
    # false: every (point, replicate) gets an independent stream
    common_random_numbers: bool = True
    batch_size: int = 0  # runs per Dask task; 0: sized from estimated, then measured run times
    time_budget_s: float = 0.0  # a run taking longer is stopped and stored as failed; 0: none


@dataclass
class JobqueueConfig:
    """Worker jobs on an HPC scheduler (cluster.kind slurm or pbs) through dask-jobqueue."""

    cores: int = 1  # cores per job
    processes: int = 1  # worker processes per job (cores are split between them)
    memory: str = "2GB"  # memory per job
    walltime: str = "01:00:00"
    queue: str = ""  # partition (SLURM) or queue (PBS); empty = the site default
    account: str = ""  # project to charge; empty = none
    interface: str = ""  # network interface workers and scheduler use, e.g. ib0; empty = default
    jobs: int = 1  # worker jobs to start (fixed size)
    adaptive_max_jobs: int = 0  # > 0: adapt between 1 and this many jobs instead
    lifetime: str = ""  # worker lifetime, e.g. 55m for a 1 h walltime: leave before being killed
    lifetime_stagger: str = "4m"  # spread lifetimes so workers do not all leave at once
    local_directory: str = ""  # node-local scratch for workers, e.g. $TMPDIR
    log_directory: str = ""  # where job stdout/stderr go; empty = the submit directory
    job_extra_directives: list[str] = field(default_factory=list)  # extra #SBATCH/#PBS lines
    job_script_prologue: list[str] = field(default_factory=list)  # shell lines before the worker
    # more `dask worker` options, e.g. ["--dashboard-address", "127.0.0.1:0"] or ["--no-dashboard"]
    worker_extra_args: list[str] = field(default_factory=list)


@dataclass
class ClusterConfig:
    """Where runs execute: an embedded LocalCluster, a running scheduler at ``address``, or
    worker jobs on SLURM or PBS (``jobqueue``)."""

    kind: str = "local"
    n_workers: int = 0  # local: worker processes; 0 = one per core
    threads_per_worker: int = 1
    memory_limit: str = "auto"
    dashboard_address: str = "127.0.0.1:8787"
    address: str = ""  # kind=address: e.g. tcp://127.0.0.1:8786
    max_in_flight: int = 0  # batches submitted at once; 0 = 4 per worker
    task_seconds: float = 5.0  # target work per task when sweep.batch_size is 0 (adaptive)
    # numba's compiled-kernel cache for the workers; empty = numba's default (beside the code,
    # or a per-user cache when that is read-only). Point it at node-local disk on clusters.
    numba_cache_dir: str = ""
    # TLS to the scheduler (kind address, slurm, pbs): PEM files of the CA and of this client's
    # certificate and key; all three or none. With them, cluster.address starts with tls://.
    tls_ca_file: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    jobqueue: JobqueueConfig = field(default_factory=JobqueueConfig)
    # Dask settings for the client, the scheduler and the workers segmark starts, as Dask's
    # nested keys (distributed: {worker: {profile: {enabled: true}}}); merged over QUIET_DASK
    dask_config: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(QUIET_DASK))


@dataclass
class StorageConfig:
    """Where and how results are written."""

    root: str = "runs"
    # directory name under root; empty = <sweep name>-<timestamp>; an existing dataset is
    # resumed: runs already stored are skipped
    dataset: str = ""
    compression: str = "zstd"
    compact_mb: float = 64.0  # after a sweep, merge small parts into files of about this size
    # ... once the dataset holds at least this many parts (fewer are no burden to readers)
    compact_min_parts: int = 50
    # resume a dataset made by other code of the model (its sources' files, numpy or numba):
    # only where the change cannot alter the numbers (docs/OUTPUT.md)
    allow_code_change: bool = False


@dataclass
class HeadlineConfig:
    """A calibration's headline under parameter uncertainty (docs/CALIBRATION.md): the tipping
    threshold along ``axis`` over ``values``, with ``fixed`` parameter values, at ``draws``
    draws from the posterior x ``replicates``; each of ``scenarios`` (values of
    model.scenario) at the same draws."""

    axis: str = ""
    values: list[float] = field(default_factory=list)
    fixed: dict[str, Any] = field(default_factory=dict)  # path -> value, e.g. a counterfactual
    draws: int = 100
    replicates: int = 4
    scenarios: list[str] = field(default_factory=list)


@dataclass
class CalibrationConfig:
    """A calibration (``segmark-calibrate``; docs/CALIBRATION.md): priors by parameter path,
    the statistics to fit (the model's declared ``data``, or observed outcomes in
    ``targets``) and the ABC-SMC settings."""

    name: str = "calibration"  # its directory under storage.root
    priors: dict[str, Any] = field(default_factory=dict)  # path -> {dist: ..., ...}
    data: str = ""  # the model's declared targets (Model.targets) to fit, by name
    statistics: list[str] = field(default_factory=list)  # some of the data's; empty: all
    targets: dict[str, float] = field(default_factory=dict)  # without data: outcome -> value
    # a CSV of the data's statistics observed elsewhere (statistic, estimate[, lower, upper]:
    # its 90% interval), fitted instead of the model's packaged data; "": the packaged data
    observed_file: str = ""
    particles: int = 1000
    populations: int = 5
    quantile: float = 0.5  # epsilon: this quantile of the last population's distances
    min_acceptance: float = 0.01  # stop when a population would accept fewer proposals
    predictive: bool = True  # rerun the posterior's particles with fresh noise (the check)
    headline: HeadlineConfig | None = None  # the threshold and scenarios at posterior draws


@dataclass
class Config:
    """One invocation: the model's parameter sections (``model`` also names the model), a
    sweep, where it runs and where it is stored."""

    model: dict[str, Any] = field(default_factory=lambda: {"name": DEFAULT_MODEL})
    policy: dict[str, Any] = field(default_factory=dict)
    shock: dict[str, Any] = field(default_factory=dict)
    sweep: SweepConfig = field(default_factory=SweepConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    progress: bool = True
    dry_run: bool = False  # print runs, estimated core-hours and output size; run nothing
    retry_failed: bool = False  # with an existing storage.dataset: rerun its failed runs
    calibration: CalibrationConfig | None = None  # segmark-calibrate's (calibration=<name>)

    @property
    def model_name(self) -> str:
        return str(self.model.get("name", DEFAULT_MODEL))


def to_yaml(cfg: Config) -> str:
    """The resolved config as YAML, the text ``OmegaConf.to_yaml(OmegaConf.structured(cfg))``
    gives, written from the plain dataclasses with OmegaConf's representers on libyaml's
    emitter (3 ms instead of 70: the sweep waits for it before its first task). Falls back to
    OmegaConf if a value is not plain data."""
    data = dataclasses.asdict(cfg)
    if _plain_data(data):
        try:
            return yaml.dump(
                data,
                Dumper=_yaml_dumper(),
                default_flow_style=False,
                allow_unicode=True,
                sort_keys=False,
            )
        except ImportError:  # a later OmegaConf that moved its dumper
            pass
    return OmegaConf.to_yaml(OmegaConf.structured(cfg))


@functools.cache
def _yaml_dumper() -> type:
    """OmegaConf's YAML dumper (its string quoting) on libyaml's C emitter where PyYAML has it."""
    from omegaconf._utils import get_omega_conf_dumper

    omega = get_omega_conf_dumper()

    class Dumper(getattr(yaml, "CDumper", yaml.Dumper)):  # type: ignore[misc]
        pass

    for kind, represent in omega.yaml_representers.items():
        if represent is not yaml.Dumper.yaml_representers.get(kind):
            Dumper.add_representer(kind, represent)
    return Dumper


def _plain_data(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_data(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_data(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


def linspace(start: float, stop: float, num: int) -> list[float]:
    """``${linspace:start,stop,num}`` in a sweep axis: num evenly spaced values, both ends in."""
    start, stop, num = _range_args("linspace", start, stop, num)
    if num == 1:
        return [start]
    return [round(start + (stop - start) * i / (num - 1), 12) for i in range(num)]


def geomspace(start: float, stop: float, num: int) -> list[float]:
    """``${geomspace:start,stop,num}``: num values evenly spaced on a log scale, both ends in."""
    start, stop, num = _range_args("geomspace", start, stop, num)
    if start <= 0:
        raise ConfigError(f"geomspace({start}, {stop}, {num}): a log-spaced range needs start > 0.")
    if num == 1:
        return [start]
    ratio = (stop / start) ** (1.0 / (num - 1))
    return [round(start * ratio**i, 12) for i in range(num)]


def _range_args(name: str, start: Any, stop: Any, num: Any) -> tuple[float, float, int]:
    call = f"{name}({start}, {stop}, {num})"
    for value in (start, stop):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ConfigError(f"{call}: start and stop must be finite numbers.")
    if isinstance(num, bool) or not isinstance(num, int) or not 1 <= num <= MAX_POINTS:
        raise ConfigError(f"{call}: num must be an integer in [1, {MAX_POINTS:,}] (a sweep's "
                          "most design points).")  # fmt: skip
    if stop < start:
        raise ConfigError(f"{call}: the range runs downwards; it needs start <= stop.")
    return float(start), float(stop), num


def register_resolvers() -> None:
    """Make ``${linspace:..}`` and ``${geomspace:..}`` available to configs (idempotent)."""
    for name, fn in (("linspace", linspace), ("geomspace", geomspace)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn)

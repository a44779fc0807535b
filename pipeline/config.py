"""Structured-config schemas of segmark and their validation.

The dataclasses below are the schemas Hydra composes the YAML tree in ``conf/`` against (wrong types
and unknown keys fail there); :func:`validate_settings` adds what types cannot say (ranges,
choices, cluster and storage settings) and ``pipeline.designs`` checks the sweep's design, both
before any cluster starts or any file is written. Library code takes these plain dataclasses,
never Hydra objects.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import re
import shutil
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf

from segmark.kernels.network import NETWORK_KINDS
from segmark.pipeline import scenarios

GROUPS = ("model", "policy", "shock")
CLUSTER_KINDS = ("local", "address", "slurm", "pbs")
COMPRESSIONS = ("zstd", "snappy", "gzip", "none")
MAX_RUNS = 10_000_000
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


def param(
    default: Any,
    low: float,
    high: float,
    unit: str,
    doc: str,
    *,
    open_low: bool = False,
    source: str = "assumption",
) -> Any:
    """A dataclass field with its allowed closed range [low, high] (or (low, high] with
    ``open_low``), unit, one-line description and the source of its default ("assumption"
    where none) in the field's metadata."""
    meta = {
        "low": low,
        "high": high,
        "unit": unit,
        "doc": doc,
        "open_low": open_low,
        "source": source,
    }
    return field(default=default, metadata=meta)


@dataclass
class ModelConfig:
    """Structure of the market model (held fixed within a sweep unless swept as an axis)."""

    network: str = field(
        default="nk",
        metadata={"choices": NETWORK_KINDS, "doc": "region graph: nk or a synthetic generator"},
    )
    n_regions: int = param(200, 2, 5000, "regions", "regions of a synthetic network")
    neighbours: int = param(4, 1, 20, "edges", "nearest neighbours linked (geometric network)")
    extent_km: float = param(500.0, 1.0, 5000.0, "km", "side of a synthetic network's square")
    network_seed: int = param(0, 0, 2**32 - 1, "-", "seed of a synthetic network's layout")
    n_goods: int = param(6, 1, 6, "goods", "goods modelled (the first n of kernels.goods.GOODS)")
    n_steps: int = param(520, 1, 100_000, "weeks", "simulated weeks (week 0 = 1 January)")
    sample_every: int = param(4, 1, 100_000, "weeks", "weeks between time-series samples")
    scenario: str = field(
        default="none",
        metadata={
            "choices": scenarios.names(),
            "doc": "historical scenario: a time path of policies and shocks (conf/scenario)",
        },
    )
    permit_cost: float = param(
        1.5,
        0.0,
        10.0,
        "log price",
        "permit and bribe cost of a permit hop at full enforcement",
        source="assumption; bribes of US$20-30 (~50x a monthly wage) per permit, RFA 2011",
    )
    rail_cost: float = param(
        0.02,
        0.0,
        5.0,
        "log price / 100 km",
        "rail freight cost",
        source="assumption; state rail >=100x cheaper a trip than private haulage (Daily NK 2017)",
    )
    road_cost: float = param(
        0.12,
        0.0,
        5.0,
        "log price / 100 km",
        "private road haulage (servi-cha) cost",
        source="assumption; servi-cha ~100 CNY Pyongsong-Chongjin (Daily NK c. 2013)",
    )
    rail_days: float = param(
        1.0,
        0.0,
        50.0,
        "days / 100 km",
        "rail travel time incl. waiting for trains",
        source="Pyongyang-Hyesan ~24 h running, 2-3 trains a week (Asia Press 2016, Daily NK)",
    )
    road_days: float = param(
        0.3,
        0.0,
        50.0,
        "days / 100 km",
        "road travel time",
        source="servi-cha ~1 day where the train takes up to a week (Daily NK)",
    )
    confiscation_max: float = param(
        0.3, 0.0, 0.99, "-", "share of a shipment confiscated under a full crackdown"
    )
    demand_elasticity: float = param(0.7, 0.1, 10.0, "-", "price elasticity of local demand")
    specialization: float = param(
        0.2, 0.0, 3.0, "log-sd", "random regional dispersion of production on top of specialties"
    )
    specialty_strength: float = param(
        1.0, 0.0, 3.0, "-", "power on the regional specialty factors (0: no specialties)"
    )
    spoilage_scale: float = param(
        1.0, 0.0, 10.0, "-", "multiplier on every good's weekly spoilage rate (0: no spoilage)"
    )
    turnover: float = param(
        0.3, 0.0, 1.0, "1/week", "share of the stock a local market sells each week", open_low=True
    )
    arbitrage_speed: float = param(
        0.5, 0.0, 1.0, "-", "share of the excess price gap traders close each week"
    )
    arbitrage_rounds: int = param(
        4, 1, 50, "rounds", "passes of link-by-link arbitrage per week (more: nearer equilibrium)"
    )
    info_lag: int = param(
        4, 0, 52, "weeks", "age of the prices traders without phones at both ends see"
    )
    production_noise: float = param(0.05, 0.0, 2.0, "log-sd", "weekly production noise")
    seasonal_amplitude: float = param(
        0.05,
        0.0,
        0.9,
        "-",
        "seasonal swing of staple output (lowest in April)",
        source="set so the lean-season (Apr-Jun vs Oct-Nov) rice price rise is 10-20% (V20, "
        "SERI 2007): 0.16 log points on average at the baseline",
    )
    flood_weeks: int = param(4, 0, 52, "weeks", "weeks a flood closes a unit's links")
    flood_loss: float = param(
        0.5, 0.0, 0.95, "-", "share of staple stocks and output a flood destroys"
    )
    capital_pds: float = param(
        0.7,
        0.0,
        1.0,
        "-",
        "ration level the PDS keeps in the capital (at least pds_level)",
        source="assumption; after 1995 the PDS kept serving Pyongyang and core classes [brief]",
    )
    reinvest: float = param(0.5, 0.0, 10.0, "-", "share of trading margins added to capital")
    capital_recovery: float = param(
        0.02, 0.0, 1.0, "1/week", "rate at which traders' capital returns to its norm"
    )
    active_trade_share: float = param(
        0.25,
        0.0,
        1.0,
        "-",
        "share of window weeks a link must carry a good to count as active",
        open_low=True,
    )
    linked_share: float = param(
        0.5,
        0.0,
        1.0,
        "-",
        "share of window weeks a link's price gap must stay within its transport cost",
        open_low=True,
    )
    integration_threshold: float = param(
        0.5,
        0.0,
        1.0,
        "-",
        "population share of the largest price-linked component that makes a run integrated",
        open_low=True,
    )
    window_share: float = param(
        0.25,
        0.0,
        1.0,
        "-",
        "final share of the run over which outcomes are averaged",
        open_low=True,
    )
    ramp_parameter: str = field(
        default="none",
        metadata={
            "choices": ("none", *scenarios.RAMPABLE),
            "doc": "parameter a ramp moves within each run (none: no ramp; pipeline/scenarios.py)",
        },
    )
    ramp_shape: str = field(
        default="cycle",
        metadata={
            "choices": scenarios.RAMP_SHAPES,
            "doc": "cycle: from -> to -> from; one_way: from -> to; step: from, then to at once",
        },
    )
    ramp_from: float = param(
        0.0, 0.0, 100.0, "as the parameter", "ramped parameter's value from week 0 (start state)"
    )
    ramp_to: float = param(
        0.0, 0.0, 100.0, "as the parameter", "far end of the ramp (a step's target value)"
    )
    ramp_hold: int = param(0, 0, 100_000, "weeks", "weeks held at ramp_from before the ramp")
    ramp_weeks: int = param(1, 1, 100_000, "weeks", "weeks of each leg of the ramp")


@dataclass
class PolicyConfig:
    """Policy levers."""

    permit_strictness: float = param(
        0.7, 0.0, 1.0, "-", "enforcement of travel permits (0 none, 1 full)"
    )
    crackdown: float = param(
        0.2, 0.0, 1.0, "-", "intensity of crackdowns on merchants (confiscation risk)"
    )
    state_import_share: float = param(
        0.5, 0.0, 1.0, "-", "share of China imports the state channels to the capital"
    )
    transport_investment: float = param(
        0.0, 0.0, 0.9, "-", "cut in transport costs and rail outages from investment"
    )
    phone_penetration: float = param(
        0.5,
        0.0,
        1.0,
        "-",
        "share of markets whose merchants have mobile phones",
        source="assumption; 12.7 subscriptions per 100 people in 2015, mostly merchants (ITU, V17)",
    )
    self_reliance: float = param(
        0.5, 0.0, 1.0, "-", "cut in the staple outflow a unit allows (regional self-reliance)"
    )
    trader_capital: float = param(
        0.5, 0.0, 100.0, "x mean weekly demand", "most traders ship per link and good in a week"
    )


@dataclass
class ShockConfig:
    """Shocks (uncertainties)."""

    harvest_sd: float = param(0.15, 0.0, 2.0, "log-sd", "yearly harvest shock of staples")
    harvest_correlation: float = param(
        0.5, 0.0, 1.0, "-", "share of harvest variance common to a province"
    )
    flood_rate: float = param(
        0.01, 0.0, 1.0, "1/week", "probability that some unit floods in a week"
    )
    rail_outage_rate: float = param(
        0.3,
        0.0,
        1.0,
        "1/week",
        "probability that a rail link is down in a week (power)",
        source="assumption; electric rail, hydro-dependent, frequent outages (Daily NK 2013)",
    )
    china_trade: float = param(
        1.0,
        0.0,
        10.0,
        "x 2013 level",
        "volume of China trade",
        source="2013 DPRK-China trade US$6.54bn (KOTRA, V14) is 1",
    )
    pds_level: float = param(
        0.3, 0.0, 1.0, "-", "share of staple needs the PDS rations outside the capital"
    )
    market_ban: float = param(
        0.0, 0.0, 0.95, "-", "share of market sales suppressed by bans (e.g. after Nov 2009)"
    )


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


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    shock: ShockConfig = field(default_factory=ShockConfig)
    sweep: SweepConfig = field(default_factory=SweepConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    progress: bool = True
    dry_run: bool = False  # print runs, estimated core-hours and output size; run nothing
    retry_failed: bool = False  # with an existing storage.dataset: rerun its failed runs


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


def parameter_fields(group: str) -> dict[str, Any]:
    """The dataclass fields of a parameter group (model, policy or shock), by name."""
    schema = {"model": ModelConfig, "policy": PolicyConfig, "shock": ShockConfig}[group]
    return {f.name: f for f in fields(schema)}


def _describe_range(meta: dict[str, Any]) -> str:
    left = "(" if meta["open_low"] else "["
    return f"{left}{meta['low']:g}, {meta['high']:g}]"


def check_value(path: str, value: Any, spec: Any) -> Any:
    """Check one parameter value against its field; return it as the field's type."""
    meta = spec.metadata
    if "choices" in meta:
        if value not in meta["choices"]:
            raise ConfigError(
                f"{path} = {value!r} is not allowed: choose one of {', '.join(meta['choices'])} "
                f"({meta['doc']})."
            )
        return value
    expected = spec.type if isinstance(spec.type, type) else {"int": int, "float": float}[spec.type]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(
            f"{path} = {value!r} is not a number: it takes a {expected.__name__} in "
            f"{_describe_range(meta)} ({meta['unit']}; {meta['doc']})."
        )
    if expected is int:
        if not float(value).is_integer():
            raise ConfigError(
                f"{path} = {value!r} is not an integer: it takes an int in "
                f"{_describe_range(meta)} ({meta['doc']})."
            )
        value = int(value)
    else:
        value = float(value)
    low_ok = value > meta["low"] if meta["open_low"] else value >= meta["low"]
    if not math.isfinite(value) or not low_ok or value > meta["high"]:
        raise ConfigError(
            f"{path} = {value!r} is out of range: allowed is {_describe_range(meta)} "
            f"({meta['unit']}; {meta['doc']})."
        )
    return value


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
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        raise ConfigError(f"{call}: num must be an integer >= 1.")
    if stop < start:
        raise ConfigError(f"{call}: the range runs downwards; it needs start <= stop.")
    return float(start), float(stop), num


def register_resolvers() -> None:
    """Make ``${linspace:..}`` and ``${geomspace:..}`` available to configs (idempotent)."""
    for name, fn in (("linspace", linspace), ("geomspace", geomspace)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn)


def validate_settings(cfg: Config) -> None:
    """Check every value of ``cfg`` except the sweep's design (``pipeline.designs`` checks that).
    Raises :class:`ConfigError`; converts parameter values to their field types in place."""
    for group in GROUPS:
        section = getattr(cfg, group)
        for name, spec in parameter_fields(group).items():
            setattr(section, name, check_value(f"{group}.{name}", getattr(section, name), spec))
    _check_scenario(cfg)
    _check_ramp(cfg)
    if not _plain_name(cfg.sweep.name):
        raise ConfigError(
            f"sweep.name = {cfg.sweep.name!r}: a sweep name becomes a directory name; use "
            "letters, digits, '-', '_' and '.' (not starting with '.')."
        )
    _check_int("sweep.replicates", cfg.sweep.replicates, 1, MAX_RUNS)
    _check_int("sweep.root_seed", cfg.sweep.root_seed, 0, 2**63 - 1)
    _check_int("sweep.batch_size", cfg.sweep.batch_size, 0, 1_000_000)
    budget = cfg.sweep.time_budget_s
    if isinstance(budget, bool) or not isinstance(budget, int | float) or not 0 <= budget <= 1e7:
        raise ConfigError(
            f"sweep.time_budget_s = {budget!r}: allowed is a number of seconds in [0, 1e7] "
            "(0: no budget)."
        )
    if cfg.cluster.kind not in CLUSTER_KINDS:
        raise ConfigError(
            f"cluster.kind = {cfg.cluster.kind!r} is not known: choose one of "
            f"{', '.join(CLUSTER_KINDS)}."
        )
    if cfg.cluster.kind == "address" and not cfg.cluster.address:
        raise ConfigError(
            "cluster.address is empty: cluster=address needs the scheduler address, "
            "e.g. cluster.address=tcp://127.0.0.1:8786."
        )
    _check_tls(cfg.cluster)
    _check_int("cluster.n_workers", cfg.cluster.n_workers, 0, 4096)
    queue = cfg.cluster.jobqueue
    _check_int("cluster.jobqueue.cores", queue.cores, 1, 4096)
    _check_int("cluster.jobqueue.processes", queue.processes, 1, queue.cores)
    _check_int("cluster.jobqueue.jobs", queue.jobs, 1, 100_000)
    _check_int("cluster.jobqueue.adaptive_max_jobs", queue.adaptive_max_jobs, 0, 100_000)
    if not re.fullmatch(r"\d+(\.\d+)?\s*[kKmMgGtT]i?[bB]", queue.memory):
        raise ConfigError(
            f"cluster.jobqueue.memory = {queue.memory!r}: give a size such as 4GB or 3500MiB."
        )
    if not re.fullmatch(r"(\d+-)?\d{1,3}:\d{2}(:\d{2})?", queue.walltime):
        raise ConfigError(
            f"cluster.jobqueue.walltime = {queue.walltime!r}: give HH:MM:SS (or D-HH:MM:SS)."
        )
    _check_int("cluster.threads_per_worker", cfg.cluster.threads_per_worker, 1, 1024)
    _check_dask_config(cfg.cluster.dask_config)
    _check_int("cluster.max_in_flight", cfg.cluster.max_in_flight, 0, 1_000_000)
    seconds = cfg.cluster.task_seconds
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not 0.01 <= seconds <= 3600
    ):
        raise ConfigError(
            f"cluster.task_seconds = {seconds!r}: allowed is a number of seconds in [0.01, 3600]."
        )
    if not cfg.storage.root:
        raise ConfigError("storage.root is empty: give the directory datasets are written under.")
    if cfg.storage.dataset and not _plain_name(cfg.storage.dataset):
        raise ConfigError(
            f"storage.dataset = {cfg.storage.dataset!r}: a dataset is a plain directory name "
            "under storage.root: letters, digits, '-', '_' and '.' (not starting with '.')."
        )
    compact = cfg.storage.compact_mb
    if isinstance(compact, bool) or not isinstance(compact, int | float) or not 0 <= compact <= 1e6:
        raise ConfigError(
            f"storage.compact_mb = {compact!r}: allowed is a size in MB in [0, 1e6] (0: never)."
        )
    _check_int("storage.compact_min_parts", cfg.storage.compact_min_parts, 1, 1_000_000_000)
    if cfg.storage.compression not in COMPRESSIONS:
        raise ConfigError(
            f"storage.compression = {cfg.storage.compression!r}: choose one of "
            f"{', '.join(COMPRESSIONS)}."
        )
    submit = {"slurm": "sbatch", "pbs": "qsub"}.get(cfg.cluster.kind)
    if submit and shutil.which(submit) is None:
        raise ConfigError(
            f"cluster.kind = {cfg.cluster.kind!r} submits worker jobs with {submit}, which is not "
            "on this machine's PATH: run segmark on a login node of that cluster, or use "
            "cluster=local or cluster=address."
        )


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


def _check_dask_config(nested: dict[str, Any]) -> None:
    """Every key of cluster.dask_config is a Dask setting and every value a plain one."""
    import dask
    import distributed  # noqa: F401  (registers the distributed.* settings and defaults)

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


def _check_scenario(cfg: Config) -> None:
    """The scenario's events are valid and its flood units exist on the chosen network."""
    if cfg.model.scenario == scenarios.NONE:
        return
    from segmark.kernels import network

    net = network.build(
        cfg.model.network,
        cfg.model.n_regions,
        cfg.model.neighbours,
        cfg.model.extent_km,
        cfg.model.network_seed,
    )
    scenarios.events(cfg.model.scenario, net)


def _swept_values(cfg: Config, name: str) -> list[Any]:
    """Values of model.<name> in the config and in the sweep's grid axes or list points."""
    values = [getattr(cfg.model, name)]
    axes = cfg.sweep.axes if isinstance(cfg.sweep.axes, dict) else {}
    values += list((axes.get("model") or {}).get(name) or [])
    for point in cfg.sweep.points if isinstance(cfg.sweep.points, list | tuple) else []:
        if isinstance(point, dict) and name in (point.get("model") or {}):
            values.append(point["model"][name])
    return values


def _check_ramp(cfg: Config) -> None:
    """A ramp's values are in the ramped parameter's range, its legs fit in the run, and no
    scenario event sets the same parameter."""
    ramped = set(_swept_values(cfg, "ramp_parameter")) - {scenarios.NONE}
    for path in ramped:
        group, _, name = path.partition(".")
        spec = parameter_fields(group)[name]
        for key in ("ramp_from", "ramp_to"):
            for value in _swept_values(cfg, key):
                if isinstance(value, int | float) and not isinstance(value, bool):
                    check_value(f"model.{key} (for {path})", value, spec)
        for scenario in set(_swept_values(cfg, "scenario")) - {scenarios.NONE}:
            if scenarios.sets_parameter(scenario, path):
                raise ConfigError(
                    f"model.ramp_parameter = {path}: scenario {scenario!r} also sets it; ramp "
                    "another parameter or use model.scenario=none."
                )
    if not ramped:
        return
    for hold in _swept_values(cfg, "ramp_hold"):
        for weeks in _swept_values(cfg, "ramp_weeks"):
            for shape in _swept_values(cfg, "ramp_shape"):
                legs = {"cycle": 2, "one_way": 1, "step": 0}.get(shape, 0)
                if not all(isinstance(v, int) for v in (hold, weeks)):
                    continue  # not integers: the design's check refuses them by name
                need = hold + legs * weeks + (1 if shape == "step" else 0)
                for steps in _swept_values(cfg, "n_steps"):
                    if isinstance(steps, int) and need > steps:
                        raise ConfigError(
                            f"model.ramp_hold = {hold} + {legs} x model.ramp_weeks = {weeks} "
                            f"exceeds model.n_steps = {steps}: the {shape} ramp does not fit in "
                            "the run; lengthen the run or shorten the ramp."
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


def _plain_name(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]{0,199}", name))


def _check_int(path: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{path} = {value!r}: allowed is an integer in [{low}, {high}].")

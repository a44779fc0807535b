"""Configs: every shipped option composes and validates; bad input is refused, naming the key,
before anything is written."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import pytest
from conftest import make_config, run_cli
from hydra import compose, initialize_config_module
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from segmark.kernels.parameters import PARAMETERS
from segmark.models.nk import MODEL as NK
from segmark.pipeline import cli
from segmark.pipeline import sweep as sweeps
from segmark.pipeline.cli.compose import compose_overrides
from segmark.pipeline.config import ConfigError, geomspace, linspace, to_yaml
from segmark.pipeline.driver import plan_sweep

ROOT = Path(__file__).parents[1]
CONF = ROOT / "conf"  # the engine's groups
NK_CONF = ROOT / "models" / "nk" / "conf"  # the nk model's own groups


def _options(group: str) -> list[str]:
    root = (CONF if group in ("cluster", "storage") else NK_CONF) / group
    return sorted(p.stem for p in root.glob("*.yaml"))


@pytest.mark.parametrize(
    ("group", "option"),
    [(g, o) for g in ("preset", "sweep", "cluster", "storage") for o in _options(g)],
)
def test_every_shipped_option_composes(
    group: str, option: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")  # sbatch, qsub
    overrides = [f"{'+' if group == 'preset' else ''}{group}={option}"]
    if group == "cluster" and option == "address":
        overrides.append("cluster.address=tcp://127.0.0.1:8786")
    cfg = make_config(*overrides)
    sweeps.plan(cfg, NK)


def test_shipped_sweeps_have_the_promised_sizes() -> None:
    default = make_config()
    design, runs = sweeps.plan(default, NK)
    assert list(design.grid) == ["policy.permit_strictness"]
    assert default.policy["phone_penetration"] == 1.0  # the default sweep's informed market
    assert len(runs) >= 500
    smoke = make_config("sweep=smoke")
    design, runs = sweeps.plan(smoke, NK)
    assert smoke.model["n_regions"] == 40  # the smoke sweep picks the small preset
    assert len(design.grid["policy.permit_strictness"]) == 3 and len(runs) == 6
    sizes = make_config("sweep=finite_size")
    design, runs = sweeps.plan(sizes, NK)
    assert sizes.model["network"] == "geometric" and sizes.model["extent_km"] == 500.0
    assert design.grid["model.n_regions"] == [200, 400, 800] and len(runs) == 540
    assert sizes.model["hubs"] == "province"


def test_every_kernel_parameter_is_a_parameter_of_the_model() -> None:
    assert all(NK.parameter(p.path) is p for p in PARAMETERS)
    columns = [p.column for p in NK.parameters]
    assert len(columns) == len(set(columns))
    assert NK.tag == "nk-9"


def test_ranges_expand_to_lists() -> None:
    assert linspace(0, 1, 5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert linspace(0.3, 0.3, 1) == [0.3]
    assert geomspace(0.01, 1, 3) == [0.01, 0.1, 1.0]
    cfg = make_config("sweep.axes.policy.permit_strictness=${linspace:0,1,3}")
    assert sweeps.plan(cfg, NK)[0].grid == {"policy.permit_strictness": [0.0, 0.5, 1.0]}


# (command-line overrides, text the error must contain). Each is refused before any work.
BAD_INPUTS = [
    (["policy.foo=1"], "policy.foo is not a parameter of model nk: policy has permit_strictness"),
    (["shock.harvest=0.1"], "shock.harvest is not a parameter of model nk"),
    (["model.name=lake"], "model.name: choose the model with model=<name>"),
    (["model=nosuch"], "model='nosuch' is not an installed model: choose one of"),
    (["sweep.axis=1"], "sweep.axis is not a setting"),
    (["policy.permit_strictness=abc"], "policy.permit_strictness = 'abc' is not a number"),
    (["policy.permit_strictness=1.5"], "policy.permit_strictness = 1.5 is out of range: allowed"),
    (["policy.permit_strictness=-0.1"], "allowed is [0, 1]"),
    (["policy.permit_strictness=nan"], "policy.permit_strictness = nan is out of range"),
    (["shock.rail_outage_rate=inf"], "shock.rail_outage_rate = inf is out of range"),
    (["model.scenario=famine_1996"], "model.scenario = 'famine_1996' is not allowed: choose one"),
    (["model.n_goods=7"], "model.n_goods = 7 is out of range: allowed is [1, 6]"),
    (["model.n_regions=1.5"], "model.n_regions = 1.5 is not an integer"),
    (["model.n_regions=1"], "model.n_regions = 1 is out of range: allowed is [2, 5000]"),
    (["model.turnover=0"], "model.turnover = 0.0 is out of range: allowed is (0, 1]"),
    (
        ["model.network=torus"],
        "model.network = 'torus' is not allowed: choose one of nk, geometric",
    ),
    (["model.sample_every=600"], "model.sample_every = 600 exceeds model.n_steps = 520"),
    (
        ["shock.rail_outage_rate=0.9", "shock.outage_weeks=2"],
        "shock.rail_outage_rate = 0.9 with shock.outage_weeks = 2.0: outages that long",
    ),
    (["model.arbitrage_tolerance=0"], "model.arbitrage_tolerance = 0.0 is out of range"),
    (["sweep.replicates=0"], "sweep.replicates = 0: allowed is an integer in [1,"),
    (["sweep.replicates=abc"], "sweep.replicates = 'abc' is not allowed: it takes an integer"),
    (["sweep.replicates=1000000"], "would make 21,000,000 runs"),
    (["sweep.axes.policy.permit_strictness=[]"], "sweep.axes.policy.permit_strictness is empty"),
    (["sweep.axes.policy.permit_strictness=[0,2]"], "policy.permit_strictness = 2.0 is out of"),
    (["sweep.axes.policy.permit_strictness=[0.1,0.1]"], "repeats a value"),
    (["sweep.axes.policy.permit_strictness=${linspace:1,0,3}"], "it needs start <= stop"),
    (["sweep.axes.policy.permit_strictness=${linspace:0,1,0}"], "num must be an integer in [1,"),
    (["sweep.axes.policy.bogus=[1]"], "policy has permit_strictness, crackdown"),
    (["sweep.axes.economy.x=[1]"], "group one of model, policy, shock"),
    (["sweep.axes.policy.permit_strictness=0.5"], "an axis is a list of values"),
    (["cluster.kind=kubernetes"], "cluster.kind = 'kubernetes' is not known: choose one of"),
    (["cluster=address"], "cluster.address is empty"),
    (["storage.compression=lzma"], "storage.compression = 'lzma': choose one of"),
    (["storage.dataset=../elsewhere"], "storage.dataset = '../elsewhere'"),
    (
        ["storage.compact_min_parts=0"],
        "storage.compact_min_parts = 0: allowed is an integer in [1,",
    ),
    (["progress=maybe"], "progress = 'maybe' is not allowed: it takes true or false"),
    (["nosuch.key=1"], "there is no config section 'nosuch'"),
    (["cluster.jobqueue.bogus=1"], "cluster.jobqueue.bogus is not a setting: cluster.jobqueue has"),
    (["cluster.jobqueue.cores=many"], "cluster.jobqueue.cores = 'many' is not allowed"),
    (["nosuch=1"], "nosuch is neither a config group nor a setting"),
    (
        ["+cluster.dask_config.distributed.worker.profil=true"],
        "cluster.dask_config.distributed.worker.profil is not a Dask setting",
    ),
    (
        ["cluster.dask_config.distributed.worker=off"],
        "cluster.dask_config.distributed.worker is a group of Dask settings",
    ),
    (["sweep.time_budget_s=-1"], "sweep.time_budget_s = -1.0: allowed is a number of seconds"),
    (["model.demand_elasticity=0.01"], "model.demand_elasticity = 0.01 is out of range"),
    (["sweep.name=../../elsewhere"], "sweep.name = '../../elsewhere': a sweep name becomes"),
    (["sweep.axes.model.n_steps=[2,3]"], "model.sample_every = 4 exceeds model.n_steps = 2"),
    (["-m", "model=nk,nk"], "model: one model per invocation"),
    (["-m", "policy.permit_strictness=0.1,1.5"], "policy.permit_strictness = 1.5 is out of"),
    (["policy.trader_capital=${model.n_regions}"], "policy.trader_capital = 200.0 is out of"),
]


def _refusal(stderr: str, stdout: str, expected: str, tmp_path: Path) -> None:
    message = stderr.strip()
    assert message.startswith("segmark: invalid config: "), message
    assert expected in message
    assert len(message.splitlines()) == 1
    assert "dask" not in stdout  # no cluster was started
    assert sorted(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize(("overrides", "expected"), BAD_INPUTS, ids=[b[0][0] for b in BAD_INPUTS])
def test_bad_input_is_refused_before_any_work(
    overrides: list[str],
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The CLI entry point in-process (the same code path as the command, without start-up)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["segmark", *overrides, f"storage.root={tmp_path}/runs"])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    assert stop.value.code == 2
    captured = capsys.readouterr()
    _refusal(captured.err, captured.out, expected, tmp_path)


@pytest.mark.parametrize(("overrides", "expected"), [BAD_INPUTS[0], BAD_INPUTS[6], BAD_INPUTS[18]])
def test_the_command_refuses_bad_input(overrides: list[str], expected: str, tmp_path: Path) -> None:
    done = run_cli(*overrides, f"storage.root={tmp_path}/runs", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    _refusal(done.stderr, done.stdout, expected, tmp_path)


def test_a_foreign_directory_is_never_written_into(tmp_path: Path) -> None:
    cfg = make_config("sweep=smoke", f"storage.root={tmp_path}", "storage.dataset=mine")
    (tmp_path / "mine").mkdir()
    with pytest.raises(ConfigError, match="exists but is not a segmark dataset"):
        plan_sweep(cfg, NK)


def test_validation_refuses_what_the_preflight_refuses() -> None:
    """Below the CLI's preflight, validation of a composed config refuses the same inputs by the
    model's table; Hydra's structured schema refuses unknown engine keys."""
    with pytest.raises(ConfigError, match=r"policy\.foo is not a parameter of model nk"):
        sweeps.plan(make_config("+policy.foo=1"), NK)
    with pytest.raises(ConfigError, match=r"policy\.permit_strictness = .abc. is not a number"):
        sweeps.plan(make_config("policy.permit_strictness=abc"), NK)
    with initialize_config_module(config_module="segmark.conf", version_base="1.3"):
        with pytest.raises(ConfigCompositionException) as unknown:
            compose(config_name="config", overrides=compose_overrides(["sweep.foo=1"]))
        assert "Key 'foo' not in 'SweepConfig'" in str(unknown.value.__cause__)


def test_interpolations_are_checked_after_composition() -> None:
    cfg = make_config("policy.crackdown=${policy.permit_strictness}")
    sweeps.plan(cfg, NK)
    assert cfg.policy["crackdown"] == cfg.policy["permit_strictness"] == 0.7


def test_every_config_group_is_packaged() -> None:
    """A config group folder missing from pyproject's packages would not install."""
    import tomllib

    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    groups = {p.name for p in CONF.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert {f"segmark.conf.{g}" for g in groups} <= set(packages["packages"])
    assert all(packages["package-data"][f"segmark.conf.{g}"] == ["*.yaml"] for g in groups)
    assert "segmark.models.nk.conf" in packages["packages"]  # its groups: package data
    assert packages["package-data"]["segmark.models.nk.conf"] == ["*/*.yaml"]
    assert not list(NK_CONF.glob("*/*/*.yaml"))  # nothing deeper than the pattern reaches


@pytest.mark.parametrize(
    "overrides",
    [
        *([f"sweep={p.stem}"] for p in sorted(NK_CONF.glob("sweep/*.yaml"))),
        *([f"cluster={p.stem}"] for p in sorted(CONF.glob("cluster/*.yaml"))),
        ["sweep.name=yes", "policy.crackdown=1e-3", "storage.dataset=x"],
        ["sweep.axes.model.network=[grid,ring]", "model.scenario=crackdown_2009"],
    ],
)
def test_fast_config_yaml_is_what_omegaconf_writes(overrides: list[str]) -> None:
    cfg = make_config(*overrides)
    assert to_yaml(cfg) == OmegaConf.to_yaml(OmegaConf.structured(cfg))


def test_fast_config_yaml_quotes_strings_as_omegaconf_does() -> None:
    cfg = make_config()
    cfg.storage.root = "~/odd: path 'quoted' ü"
    cfg.storage.dataset = "1e3"
    cfg.sweep.name = "off"
    cfg.cluster.address = "null"
    assert to_yaml(cfg) == OmegaConf.to_yaml(OmegaConf.structured(cfg))
    assert OmegaConf.load(io.StringIO(to_yaml(cfg))).storage.dataset == "1e3"

"""Hostile input, issue 27 ("Hardening"): configs that would run code (Dask's settings, Hydra's
own settings, a pickled config) and a dataset's stored config that would read this machine's
secrets or start what it names. Each refusal is one line, exit 2, before any work; every case
also checks that the code did not run (a marker file) or that no secret reached any file.
test_hardening_limits.py has the rest of the issue's cases (dashboard, YAML caps, signals);
docs/SECURITY.md states the rules these tests hold the code to."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import SEGMARK, make_config

from segmark.pipeline import cli
from segmark.pipeline.cli.commands import refine_main
from segmark.pipeline.config import ClusterConfig, ConfigError

SECRET = "s3cr3t-9d1f0c77-hardening"


def refused(argv: list[str], tmp_path: Path, monkeypatch, capsys, expected: str) -> str:
    """``segmark *argv`` in-process: exit 2 with one line holding ``expected``, no cluster,
    nothing under ``tmp_path/runs``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["segmark", *argv, f"storage.root={tmp_path}/runs"])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    captured = capsys.readouterr()
    message = captured.err.strip()
    assert stop.value.code == 2, message
    assert message.startswith("segmark: invalid config: "), message
    assert expected in message and len(message.splitlines()) == 1, message
    assert "dask" not in captured.out and "Traceback" not in message
    assert not (tmp_path / "runs").exists()
    return message


def evil_python(tmp_path: Path) -> tuple[Path, Path]:
    """A Python file that, if anything runs it, writes a marker file."""
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.py"
    evil.write_text(f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n")
    return evil, marker


def assert_secret_nowhere(directory: Path) -> None:
    files = [p for p in directory.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path


# ---------------------------------------------------------------------------------------------
# 1. Configs hold values, not code: Dask's settings (an allow-list), Hydra's own settings


@pytest.mark.parametrize(
    "key",
    [
        "distributed.scheduler.preload",  # the case: runs in the driver
        "distributed.worker.preload",  # runs in every worker
        "distributed.client.preload",
        "distributed.nanny.preload",
        "distributed.scheduler.preload_argv",  # Dask reads "_" as "-"
        "distributed.scheduler.allowed-imports",
        "distributed.client.security-loader",  # imports the function it names
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_",  # the workers' environment
        "distributed.worker.multiprocessing-method",
    ],
)
def test_a_dask_setting_that_loads_code_is_refused(
    key: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    evil, marker = evil_python(tmp_path)
    message = refused(
        ["sweep=smoke", f"+cluster.dask_config.{key}={evil}"],
        tmp_path,
        monkeypatch,
        capsys,
        f"cluster.dask_config.{key} is refused",
    )
    assert "allowed are distributed.worker.{profile.*" in message
    assert not marker.exists()


def test_a_dashboard_link_cannot_print_the_environment(tmp_path: Path, monkeypatch, capsys) -> None:
    """Dask formats distributed.dashboard.link with os.environ: it would print any variable."""
    monkeypatch.setenv("SEGMARK_TEST_SECRET", SECRET)
    key = "distributed.dashboard.link"
    message = refused(
        ["sweep=smoke", f"+cluster.dask_config.{key}='{{SEGMARK_TEST_SECRET}}'"],
        tmp_path,
        monkeypatch,
        capsys,
        f"cluster.dask_config.{key} is refused",
    )
    assert SECRET not in message


def sweep_file(tmp_path: Path, name: str, text: str) -> None:
    """``<tmp_path>/conf/sweep/<name>.yaml``, for ``-cd <tmp_path>/conf sweep=<name>``."""
    path = tmp_path / "conf" / "sweep" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_sweep_file_cannot_preload_code(tmp_path: Path, monkeypatch, capsys) -> None:
    """The same from a -cd sweep file (a shared config): validation, not the file, decides."""
    evil, marker = evil_python(tmp_path)
    sweep_file(
        tmp_path,
        "shared",
        "# @package _global_\nsweep:\n  name: shared\n  axes: {policy: {crackdown: [0.0]}}\n"
        f"cluster:\n  dask_config:\n    distributed:\n      worker:\n        preload: [{evil}]\n",
    )
    refused(
        ["-cd", str(tmp_path / "conf"), "sweep=shared"],
        tmp_path,
        monkeypatch,
        capsys,
        "cluster.dask_config.distributed.worker.preload is refused",
    )
    assert not marker.exists()


def test_every_cluster_start_checks_the_dask_settings(tmp_path: Path) -> None:
    """schedule.connect itself refuses, whoever calls it (a calibration, a refinement)."""
    from segmark.pipeline.schedule import connect

    evil, marker = evil_python(tmp_path)
    preload = {"distributed": {"scheduler": {"preload": [str(evil)]}}}
    with pytest.raises(ConfigError, match=r"distributed\.scheduler\.preload is refused"):
        with connect(ClusterConfig(n_workers=1, dask_config=preload)):
            pass
    assert not marker.exists()


def test_the_settings_the_project_uses_stay_allowed() -> None:
    """QUIET_DASK and the docs' examples (docs/CLUSTERS.md, tests/test_pipeline.py)."""
    from segmark.pipeline.config import QUIET_DASK
    from segmark.pipeline.schedule import check_dask_config

    check_dask_config(QUIET_DASK)
    for key in (
        "distributed.worker.profile.enabled",
        "distributed.scheduler.work-stealing",
        "distributed.admin.tick.interval",
        "distributed.worker.memory.target",
        "distributed.comm.timeouts.connect",
    ):
        *path, leaf = key.split(".")
        nested: dict = {}
        node = nested
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = "1s"
        check_dask_config(nested)


def test_a_calibration_refuses_a_preload_too(tmp_path: Path) -> None:
    evil, marker = evil_python(tmp_path)
    done = subprocess.run(
        [
            str(Path(SEGMARK).with_name("segmark-calibrate")),
            "model=gauss",
            "calibration=toy",
            f"+cluster.dask_config.distributed.worker.preload=[{evil}]",
            f"storage.root={tmp_path}/runs",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "distributed.worker.preload is refused" in done.stderr
    assert not marker.exists() and not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "override",
    [
        "+hydra.callbacks.evil._target_=os.mkdir",  # Hydra builds callbacks
        "+hydra.job.env_set.LD_PRELOAD=/tmp/evil.so",  # the workers inherit the environment
        "hydra.job_logging.root.level=DEBUG",  # logging configs call factories
    ],
)
def test_hydra_settings_that_build_objects_are_refused(
    override: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    refused(["sweep=smoke", override], tmp_path, monkeypatch, capsys, "of Hydra's settings")


def test_a_config_directory_cannot_configure_hydras_logging(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """A logging config calls the factory its '()' key names: os.mkdir(path=marker)."""
    marker = tmp_path / "ran"
    logging_config = tmp_path / "conf" / "hydra" / "job_logging" / "evil.yaml"
    logging_config.parent.mkdir(parents=True)
    logging_config.write_text(
        f"version: 1\nhandlers:\n  x:\n    (): os.mkdir\n    path: {marker}\n"
        "root:\n  handlers: [x]\n"
    )
    refused(
        ["-cd", str(tmp_path / "conf"), "hydra/job_logging=evil", "sweep=smoke"],
        tmp_path,
        monkeypatch,
        capsys,
        "may not configure Hydra itself",
    )
    assert not marker.exists()


def test_a_sweep_file_cannot_reach_hydra_through_its_package(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    marker = tmp_path / "ran"
    sweep_file(
        tmp_path,
        "evil",
        "# @package hydra\njob_logging:\n  version: 1\n  handlers:\n    x:\n"
        f"      (): os.mkdir\n      path: {marker}\n  root:\n    handlers: [x]\n",
    )
    refused(
        ["-cd", str(tmp_path / "conf"), "sweep=evil"],
        tmp_path,
        monkeypatch,
        capsys,
        "'# @package hydra' is refused",
    )
    assert not marker.exists()


def test_target_in_a_users_sweep_file_is_refused(tmp_path: Path, monkeypatch, capsys) -> None:
    sweep = tmp_path / "conf" / "sweep" / "evil.yaml"
    sweep.parent.mkdir(parents=True)
    sweep.write_text("name: evil\naxes:\n  policy:\n    _target_: os.system\n")
    refused(
        ["-cd", str(tmp_path / "conf"), "sweep=evil"],
        tmp_path,
        monkeypatch,
        capsys,
        "axes.policy._target_ is refused",
    )


class _Mkdir:
    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_a_pickled_config_is_never_loaded(tmp_path: Path, monkeypatch, capsys) -> None:
    marker = tmp_path / "ran"
    rerun = tmp_path / "config.pickle"
    rerun.write_bytes(pickle.dumps(_Mkdir(marker)))
    refused([f"--experimental-rerun={rerun}"], tmp_path, monkeypatch, capsys, "pickled config")
    assert not marker.exists()


# ---------------------------------------------------------------------------------------------
# 2. Environment interpolations; a dataset's stored config is data


def test_a_config_never_reads_the_environment(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SEGMARK_TEST_SECRET", SECRET)
    message = refused(
        ["sweep=smoke", "sweep.description=${oc.env:SEGMARK_TEST_SECRET}"],
        tmp_path,
        monkeypatch,
        capsys,
        "sweep.description: ${oc.env:SEGMARK_TEST_SECRET}: configs do not read environment",
    )
    assert SECRET not in message


def test_a_sweep_file_never_reads_the_environment(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SEGMARK_TEST_SECRET", SECRET)
    sweep = tmp_path / "conf" / "sweep" / "leak.yaml"
    sweep.parent.mkdir(parents=True)
    sweep.write_text(
        "# @package _global_\nsweep:\n  name: leak\n"
        "  description: 'token ${oc.decode:${oc.env:SEGMARK_TEST_SECRET}}'\n"
        "  axes: {policy: {crackdown: [0.0]}}\n"
    )
    refused(
        ["-cd", str(tmp_path / "conf"), "sweep=leak"],
        tmp_path,
        monkeypatch,
        capsys,
        "configs do not read environment variables",
    )


def test_an_escaped_interpolation_is_not_stored(tmp_path: Path, monkeypatch, capsys) -> None:
    """The issue's sweep: its literal ${oc.env:...} would be read back as an interpolation."""
    monkeypatch.setenv("SEGMARK_TEST_SECRET", SECRET)
    refused(
        ["sweep=smoke", r"sweep.description=\${oc.env:SEGMARK_TEST_SECRET}"],
        tmp_path,
        monkeypatch,
        capsys,
        "sweep.description: a value may not hold '${' once resolved",
    )


@pytest.fixture
def shared(smoke_dataset: Path, tmp_path: Path) -> Path:
    """A copy of the smoke dataset, whose config.yaml a test makes hostile."""
    return Path(shutil.copytree(smoke_dataset, tmp_path / "shared"))


def edit_config(directory: Path, change) -> None:
    path = directory / "config.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))


def refine_refused(directory: Path, capsys, expected: str, *extra: str) -> None:
    before = {p: p.stat().st_mtime_ns for p in directory.rglob("*")}
    with pytest.raises(SystemExit) as stop:
        refine_main([str(directory), "--axis", "policy.permit_strictness", "--width", "1e-4",
                     "--max-rounds", "1", "--n-boot", "100", *extra])  # fmt: skip
    message = capsys.readouterr().err.strip()
    assert stop.value.code == 2, message
    assert message.startswith("segmark-refine: ") and expected in message, message
    assert len(message.splitlines()) == 1
    assert {p: p.stat().st_mtime_ns for p in directory.rglob("*")} == before  # nothing written


def test_refine_never_resolves_a_stored_interpolation(shared: Path, monkeypatch, capsys) -> None:
    """The issue's case: a stored ${oc.env:...}, refined with the variable set."""
    monkeypatch.setenv("SEGMARK_TEST_SECRET", SECRET)
    edit_config(shared, lambda c: c["sweep"].update(description="${oc.env:SEGMARK_TEST_SECRET}"))
    refine_refused(shared, capsys, "sweep.description holds an interpolation")
    assert_secret_nowhere(shared)


@pytest.mark.parametrize("role", ["scheduler", "worker"])
def test_refine_validates_the_stored_dask_settings_before_a_cluster_starts(
    role: str, shared: Path, tmp_path: Path, capsys
) -> None:
    evil, marker = evil_python(tmp_path)

    def preload(config: dict) -> None:
        dask_config = config["cluster"]["dask_config"]["distributed"]
        dask_config.setdefault(role, {})["preload"] = [str(evil)]

    edit_config(shared, preload)
    refine_refused(shared, capsys, f"distributed.{role}.preload is refused")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("kind", "address", "cluster.kind = 'address'"),  # connect where the data says
        ("numba_cache_dir", "/tmp/elsewhere", "cluster.numba_cache_dir"),  # pickles loaded
        ("dashboard_address", "0.0.0.0:8787", "cluster.dashboard_address"),  # exposed
    ],
)
def test_refine_does_not_trust_a_stored_cluster(
    setting: str, value: str, expected: str, shared: Path, capsys
) -> None:
    edit_config(shared, lambda c: c["cluster"].update({setting: value, "address": "tcp://x:1"}))
    refine_refused(shared, capsys, expected)


def test_trust_cluster_uses_the_stored_cluster_as_it_is(tmp_path: Path) -> None:
    """``segmark-refine --trust-cluster``: for a dataset one wrote, on one's own scheduler."""
    from segmark.models import registry
    from segmark.pipeline.validate import validate_stored

    cfg = make_config("sweep=smoke", "cluster=address", "cluster.address=tcp://127.0.0.1:8786")
    path = tmp_path / "config.yaml"
    with pytest.raises(ConfigError, match="pass --trust-cluster"):
        validate_stored(cfg, registry.get("nk"), path)
    validate_stored(cfg, registry.get("nk"), path, trust_cluster=True)


def test_refine_validates_every_stored_value(shared: Path, capsys) -> None:
    edit_config(shared, lambda c: c["policy"].update(permit_strictness=7.0))
    refine_refused(shared, capsys, "policy.permit_strictness = 7.0 is out of range")


def test_refine_refuses_a_stored_tag_or_unknown_key(shared: Path, capsys) -> None:
    path = shared / "config.yaml"
    text = path.read_text()
    path.write_text(text + "extra: !!python/object/apply:os.system ['true']\n")
    refine_refused(shared, capsys, "could not determine a constructor")
    path.write_text(text + "_target_: os.system\n")
    refine_refused(shared, capsys, "_target_")

"""Hostile input, issue 27 ("Hardening"), the command line's last classes: Hydra's own errors
(exit 1 with several lines before), storage roots that cannot hold a dataset, cluster settings
checked before any cluster starts, a worker that cannot hold its runs, a multirun refused whole
before its first job, scenario events past the run, and a resume with other model code. Each
refusal is one line, exit 2 (5 during a sweep), and leaves nothing behind."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from conftest import sweep
from test_hardening import refused

from segmark.models.interface import Model, Outcome, Parameter
from segmark.pipeline import cli, provenance
from segmark.pipeline.cli.multirun import jobs
from segmark.pipeline.clusterchecks import check_worker_memory
from segmark.pipeline.config import ConfigError
from segmark.pipeline.store import read_provenance


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["sweep=nope"], "Could not find 'sweep/nope'; the options in 'sweep' are check,"),
        (["--config-name", "nope"], "Cannot find primary config 'nope'"),
        (["storage.dataset=a\nb"], "cannot parse the command line"),
        (["sweep.axes=["], "cannot parse the command line"),
        (["sweep.axes=hello"], "sweep.axes=hello; Cannot assign str"),
    ],
)
def test_hydra_errors_are_one_line_refusals(argv, expected, tmp_path, monkeypatch, capsys) -> None:
    message = refused(argv, tmp_path, monkeypatch, capsys, expected)
    assert "HYDRA_FULL_ERROR" not in message and "_calibration" not in message
    assert "HYDRA_FULL_ERROR" not in os.environ  # the switch is the user's again


def storage_refused(root: str, tmp_path, monkeypatch, capsys, expected: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["segmark", "sweep=smoke", f"storage.root={root}"])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    message = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and len(message.splitlines()) == 1, message
    assert message.startswith("segmark: invalid config: storage.root = ") and expected in message


def test_storage_roots_that_cannot_hold_a_dataset(tmp_path, monkeypatch, capsys) -> None:
    afile = tmp_path / "afile"
    afile.write_text("not a directory")
    (tmp_path / "into_proc").symlink_to("/proc/self")
    cases = [
        (str(afile), "is a file, not a directory"),
        (f"{afile}/sub/runs", f"is under {afile}, which is a file"),
        ("/proc/segmark-runs", "is in /proc, a virtual file system"),
        ("/sys/runs", "is in /sys"),
        (f"{tmp_path}/into_proc/runs", "is in /proc"),
        ("s3://bucket/runs", "is a URL (s3://): datasets are written to a directory"),
        (f"file://{tmp_path}/runs", "is a URL (file://)"),
    ]
    for root, expected in cases:
        storage_refused(root, tmp_path, monkeypatch, capsys, expected)
    assert afile.read_text() == "not a directory" and not Path("/proc/segmark-runs").exists()
    assert not Path("s3:").exists() and not (tmp_path / "s3:").exists()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["cluster.memory_limit=abc"], "cluster.memory_limit = 'abc': Could not interpret"),
        (["cluster.memory_limit=60MB"], "leaves each worker 60 MB; a worker needs at least"),
        (["cluster.memory_limit=-1"], "a memory limit is positive"),
        (["cluster.memory_limit=0.001"], "leaves each worker"),
        (["cluster=address", "cluster.address=garbage"], "'garbage' is not a scheduler address"),
        (["cluster=address", "cluster.address=foo://h:1"], "is not a scheduler address"),
        (["cluster=address", "cluster.address=127.0.0.1:99999"], "is not a scheduler address"),
        (["cluster.dashboard_address=::x"], "cluster.dashboard_address = '::x'"),
    ],
)
def test_cluster_settings_are_checked_before_any_cluster(
    argv, expected, tmp_path, monkeypatch, capsys
) -> None:
    refused(["sweep=smoke", *argv], tmp_path, monkeypatch, capsys, expected)


def test_a_jobs_memory_is_shared_by_its_processes() -> None:
    check_worker_memory("cluster.jobqueue.memory", "2GB", 2)
    with pytest.raises(
        ConfigError, match=r"cluster.jobqueue.memory = .2GB. leaves each worker 500"
    ):
        check_worker_memory("cluster.jobqueue.memory", "2GB", 4)
    check_worker_memory("cluster.memory_limit", "0")  # no limit


def test_no_scheduler_at_the_address_is_refused_and_nothing_written(
    tmp_path, monkeypatch, capsys
) -> None:
    refused(
        ["sweep=smoke", "cluster=address", "cluster.address=tcp://127.0.0.1:1",
         "+cluster.dask_config.distributed.comm.timeouts.connect=1s"],
        tmp_path, monkeypatch, capsys, "no Dask scheduler answered there within 1s",
    )  # fmt: skip


def test_a_task_that_kills_its_workers_fails_the_sweep_naming_the_memory_setting() -> None:
    import dask
    from distributed import Client, LocalCluster

    from segmark.pipeline.schedule import WorkersDied, map_batches

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 1}),
        LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address=":0",
                     memory_limit="600MB") as local,
        Client(local) as client,
    ):  # fmt: skip
        with pytest.raises(WorkersDied, match=r"killed each of the 2 workers that ran it; .* "
                           "raise cluster.memory_limit"):  # fmt: skip
            list(map_batches(client, os._exit, [3], 1))


def test_a_multirun_is_refused_whole_before_its_first_job(tmp_path, monkeypatch, capsys) -> None:
    message = refused(
        ["-m", "sweep=smoke", "sweep.replicates=1,0"], tmp_path, monkeypatch, capsys,
        "job 2 of 2 of the multirun (sweep.replicates=0): sweep.replicates = 0: allowed",
    )  # fmt: skip
    assert message.endswith("(no job was run)")
    assert jobs(["a=1,2", "b=x", "c=3,4"]) == [
        ["a=1", "b=x", "c=3"], ["a=1", "b=x", "c=4"], ["a=2", "b=x", "c=3"], ["a=2", "b=x", "c=4"],
    ]  # fmt: skip


def test_scenario_events_past_the_run_are_refused(tmp_path, monkeypatch, capsys) -> None:
    refused(
        ["model.scenario=crackdown_2009", "model.n_steps=300",
         "sweep.axes.policy.permit_strictness=[0.1]", "sweep.replicates=1"],
        tmp_path, monkeypatch, capsys,
        "model.scenario = 'crackdown_2009' has events until week 412, past model.n_steps = 300",
    )  # fmt: skip


def test_a_resume_with_other_model_code_is_refused_unless_allowed(tmp_path, client) -> None:
    directory = sweep(tmp_path, "code", client=client)
    manifest = json.loads((directory / "manifest.json").read_text())
    code = manifest["provenance"]["code"]
    assert "segmark.kernels/market.py" in code["files"]
    part = next((directory / "summary").glob("part-*.parquet"))
    assert read_provenance(part)["code"] == {k: v for k, v in code.items() if k != "files"}
    code["files"]["segmark.kernels/market.py"] = "an older digest"
    code["digest"] = "an older digest"
    (directory / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ConfigError, match=r"segmark.kernels/market.py changed\); its runs and"):
        sweep(tmp_path, "code", client=client)
    again = sweep(tmp_path, "code", "storage.allow_code_change=true", client=client)
    recorded = json.loads((again / "manifest.json").read_text())["provenance"]["code"]
    assert recorded["digest"] == provenance.code_record(_nk())["digest"]


def _nk() -> Model:
    from segmark.models import registry

    return registry.get("nk")


def test_the_code_record_follows_every_file_of_the_sources(tmp_path, monkeypatch) -> None:
    package = tmp_path / "toymodel"
    (package / "conf" / "sweep").mkdir(parents=True)
    (package / "__init__.py").write_text("def simulate(params, seed):\n    return {'y': 1.0}\n")
    (package / "table.csv").write_text("a,b\n1,2\n")
    (package / "conf" / "sweep" / "default.yaml").write_text("sweep: {}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import toymodel

    model = Model(
        name="toy", version="1",
        parameters=(Parameter("x", "policy", 0.5, "x", low=0.0, high=1.0),),
        outcomes=(Outcome("y", "y"),), simulate=toymodel.simulate,
        config_package="toymodel.conf",
    )  # fmt: skip
    before = provenance.code_record(model)
    assert sorted(before["files"]) == ["toymodel/__init__.py", "toymodel/table.csv"]
    (package / "conf" / "sweep" / "default.yaml").write_text("sweep: {name: other}\n")
    provenance._code_record.cache_clear()
    assert provenance.code_record(model) == before  # a config sets values runs record anyway
    (package / "table.csv").write_text("a,b\n1,3\n")
    provenance._code_record.cache_clear()
    after = provenance.code_record(model)
    assert after["digest"] != before["digest"]
    assert provenance.code_changes(before, after) == ["toymodel/table.csv changed"]

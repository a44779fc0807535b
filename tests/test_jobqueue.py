"""cluster=slurm / cluster=pbs: the worker job scripts dask-jobqueue makes from our configs.
(Submitting them to a real SLURM is the cluster issue's test, behind its own marker.)"""

from __future__ import annotations

import shutil

import pytest
from conftest import make_config

from segmark.models.nk import MODEL as NK
from segmark.pipeline import sweep as sweeps
from segmark.pipeline.config import ConfigError
from segmark.pipeline.schedule import jobqueue_cluster

SITE = (
    "cluster.jobqueue.queue=compute",
    "cluster.jobqueue.account=nk-markets",
    "cluster.jobqueue.interface=lo",
    "cluster.jobqueue.walltime=02:00:00",
    "cluster.numba_cache_dir=/tmp/segmark-numba",
    "cluster.dashboard_address=127.0.0.1:0",
    "cluster.jobqueue.worker_extra_args=[--dashboard-address,127.0.0.1:0]",
)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            "slurm",
            [
                "#SBATCH -p compute",
                "#SBATCH -A nk-markets",
                "#SBATCH -t 02:00:00",
                "#SBATCH --cpus-per-task=4",
            ],
        ),
        ("pbs", ["#PBS -q compute", "#PBS -A nk-markets", "#PBS -l walltime=02:00:00"]),
    ],
)
def test_job_script_carries_the_site_settings(
    kind: str, expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    cfg = make_config(f"cluster={kind}", *SITE)
    sweeps.plan(cfg, NK)
    cluster = jobqueue_cluster(cfg.cluster)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for line in expected:
        assert line in script, script
    assert "export NUMBA_CACHE_DIR=/tmp/segmark-numba" in script
    assert "--lifetime 55m --lifetime-stagger 4m" in script
    assert "--nworkers 4" in script or "--nprocs 4" in script  # one worker process per core
    assert "--interface lo" in script
    assert "--dashboard-address 127.0.0.1:0" in script  # worker_extra_args
    # cluster.dask_config reaches the workers as DASK_* variables Dask reads at start-up
    assert "export DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False" in script
    assert "export DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL=1s" in script


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("cluster.jobqueue.memory=lots", "cluster.jobqueue.memory = 'lots': give a size"),
        ("cluster.jobqueue.walltime=1h", "cluster.jobqueue.walltime = '1h': give HH:MM:SS"),
        (
            "cluster.jobqueue.processes=8",
            "cluster.jobqueue.processes = 8: allowed is an integer in [1, 4]",
        ),
    ],
)
def test_bad_jobqueue_settings_are_refused(
    override: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    with pytest.raises(ConfigError) as refused:
        sweeps.plan(make_config("cluster=slurm", override), NK)
    assert expected in str(refused.value)


def test_a_machine_without_the_submit_command_is_told_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match="submits worker jobs with sbatch, which is not"):
        sweeps.plan(make_config("cluster=slurm"), NK)

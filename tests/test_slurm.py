"""cluster=slurm on a real SLURM: dask-jobqueue submits worker jobs with sbatch, the workers
connect back to the scheduler in the `segmark` process, and the dataset is the one LocalCluster
makes. Needs a running SLURM (``bash ci/slurm/start.sh``, one node on 127.0.0.1); skipped
without one, and failed instead when SEGMARK_REQUIRE_SLURM=1 (as .ci/run sets)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import frames, run_cli
from pandas.testing import assert_frame_equal

from segmark.pipeline.store import read_manifest

pytestmark = [pytest.mark.slurm, pytest.mark.timeout(300)]

# the smoke sweep (3 strictness levels x 2 replicates on the small model)
SWEEP = ("sweep=smoke", "progress=false", "cluster.dashboard_address=127.0.0.1:0")
READY = ("idle", "mixed", "allocated", "completing")


def slurm_down() -> str | None:
    """Why the slurm tests cannot run here, or None when sinfo shows a usable node."""
    for command in ("sinfo", "sbatch"):
        if shutil.which(command) is None:
            return f"no {command} on PATH: start a single-node SLURM with `bash ci/slurm/start.sh`"
    try:
        done = subprocess.run(
            ["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=15
        )
    except subprocess.TimeoutExpired:
        return "sinfo did not answer within 15 s (is slurmctld running? ci/slurm/start.sh)"
    if done.returncode != 0:
        return f"sinfo failed: {done.stderr.strip()[:200]} (start SLURM with ci/slurm/start.sh)"
    states = done.stdout.split()
    if not any(state.rstrip("*~#") in READY for state in states):
        return f"sinfo shows no usable node (states: {', '.join(states) or 'none'})"
    return None


@pytest.fixture(scope="module")
def slurm() -> None:
    reason = slurm_down()
    if reason is None:
        return
    if os.environ.get("SEGMARK_REQUIRE_SLURM") == "1":
        pytest.fail(f"SEGMARK_REQUIRE_SLURM=1 but {reason}")
    pytest.skip(reason)


def accounting(job_ids: list[str]) -> tuple[str, dict[str, tuple[str, str]]]:
    """Where SLURM accounts the jobs, and JobID -> (JobName, State) there: sacct on the
    accounting database if there is one, else sacct on the job completion log (ci/slurm/start.sh:
    jobcomp/filetxt, `sacct -c`), else the controller's job history (`scontrol show job`)."""
    fields = ["-n", "-P", "-j", ",".join(job_ids), "-o", "JobID,JobName,State"]
    for sacct in (["sacct"], ["sacct", "-c"]):
        done = subprocess.run([*sacct, *fields], capture_output=True, text=True, timeout=30)
        if done.returncode == 0:
            rows = [line.split("|") for line in done.stdout.splitlines() if line.count("|") == 2]
            return " ".join(sacct), {job: (n, s) for job, n, s in rows if job in job_ids}
    found = {}
    for job in job_ids:
        done = subprocess.run(
            ["scontrol", "-o", "show", "job", job], capture_output=True, text=True, timeout=30
        )
        name, state = (
            re.search(r"JobName=(\S+)", done.stdout),
            re.search(r"JobState=(\S+)", done.stdout),
        )
        if name and state:
            found[job] = (name[1], state[1])
    return "scontrol show job", found


def test_a_sweep_on_slurm_workers_matches_local_cluster(slurm: None, tmp_path: Path) -> None:
    jobs_dir = tmp_path / "jobs"
    started = time.monotonic()
    done = run_cli(
        *SWEEP,
        "cluster=slurm",
        "cluster.jobqueue.cores=1",
        "cluster.jobqueue.processes=1",
        "cluster.jobqueue.memory=1GB",
        "cluster.jobqueue.walltime=00:10:00",
        "cluster.jobqueue.jobs=2",
        "cluster.jobqueue.interface=lo",
        f"cluster.jobqueue.log_directory={jobs_dir}",
        f"cluster.jobqueue.local_directory={tmp_path / 'scratch'}",
        # the workers' dashboards on loopback too (they listen on every interface otherwise)
        "cluster.jobqueue.worker_extra_args=[--dashboard-address,127.0.0.1:0]",
        f"storage.root={tmp_path}",
        "storage.dataset=slurm",
        cwd=tmp_path,
    )
    slurm_s = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "6 runs (0 failed)" in done.stdout

    # the worker jobs: one log per job, named by its SLURM job id; each worker registered with
    # the scheduler in the segmark process, on loopback
    logs = sorted(jobs_dir.glob("dask-worker-*.err"))
    job_ids = [re.fullmatch(r"dask-worker-(\d+)\.err", log.name)[1] for log in logs]
    assert len(job_ids) == 2, [log.name for log in logs]
    for log in logs:
        text = log.read_text()
        assert re.search(r"Registered to:\s+tcp://127\.0\.0\.1:\d+", text), text[-2000:]

    # the same sweep on the embedded LocalCluster: the same runs, the same numbers
    local = run_cli(
        *SWEEP,
        "cluster.n_workers=1",
        f"storage.root={tmp_path}",
        "storage.dataset=local",
        cwd=tmp_path,
    )
    assert local.returncode == 0, local.stderr[-3000:]
    on_slurm, on_local = frames(tmp_path / "slurm"), frames(tmp_path / "local")
    assert len(on_slurm[0]) == 6 and on_slurm[0]["status"].eq("ok").all()
    assert_frame_equal(on_slurm[0], on_local[0])  # run ids, seeds, parameters, outcomes
    assert_frame_equal(on_slurm[1], on_local[1])  # time series
    manifest = read_manifest(tmp_path / "slurm")
    assert manifest["status"] == "complete" and manifest["runs_stored"] == 6

    # SLURM accounted the worker jobs (they end cancelled: segmark closes its cluster)
    deadline = time.monotonic() + 60
    while (found := accounting(job_ids))[1].keys() != set(job_ids):
        assert time.monotonic() < deadline, f"SLURM does not account jobs {job_ids}: {found}"
        time.sleep(1)
    source, jobs = found
    for job, (name, state) in jobs.items():
        assert name == "dask-worker", (job, name)
        assert state.split()[0] in ("COMPLETED", "CANCELLED"), (job, state)
    print(f"slurm sweep {slurm_s:.1f} s; {source}: {jobs}")

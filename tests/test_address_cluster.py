"""cluster=address: a `dask scheduler` and a `dask worker` started as separate processes on
127.0.0.1 run a sweep, with the same numbers as the embedded LocalCluster."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_config
from pandas.testing import assert_frame_equal

from segmark.models.nk import MODEL as NK
from segmark.pipeline.config import ConfigError
from segmark.pipeline.driver import run_sweep
from segmark.pipeline.store import read_summary
from segmark.pipeline.validate import validate_settings

DASK = str(Path(sys.executable).with_name("dask"))
SWEEP = (
    "+preset=small",
    "model.n_steps=52",
    "sweep.axes.policy.permit_strictness=[0.0,1.0]",
    "sweep.replicates=2",
    "progress=false",
)


def make_certificates(directory: Path) -> dict[str, Path]:
    """A throwaway CA and one certificate (client and server use, 127.0.0.1) signed by it."""
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    cert, key, csr = directory / "cert.pem", directory / "key.pem", directory / "req.csr"
    ext = directory / "ext.cnf"
    ext.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n"
    )
    openssl = ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    for command in (
        [*openssl, "-x509", "-keyout", ca_key, "-out", ca, "-subj", "/CN=segmark-test-ca"],
        [*openssl[:-2], "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        [
            *("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key),
            *("-CAcreateserial", "-out", cert, "-days", "1", "-extfile", ext),
        ],
    ):
        subprocess.run([str(c) for c in command], check=True, capture_output=True)
    return {"ca": ca, "cert": cert, "key": key}


def start_cluster(tmp_path: Path, tls: dict[str, Path] | None = None) -> tuple[str, list]:
    scheduler_file = tmp_path / "scheduler.json"
    local = ["--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0"]
    if tls:
        local += ["--tls-ca-file", str(tls["ca"]), "--tls-cert", str(tls["cert"])]
        local += ["--tls-key", str(tls["key"])]
    protocol = ["--protocol", "tls"] if tls else []
    procs = [
        subprocess.Popen(
            [
                DASK,
                "scheduler",
                "--port",
                "0",
                "--scheduler-file",
                str(scheduler_file),
                *local,
                *protocol,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        worker = [DASK, "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1"]
        procs.append(
            subprocess.Popen(
                [*worker, *local, "--local-directory", str(tmp_path / "worker")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    except BaseException:
        stop(procs)
        raise
    return json.loads(scheduler_file.read_text())["address"], procs


def stop(procs: list) -> None:
    for proc in reversed(procs):
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=30)


@pytest.fixture
def scheduler_address(tmp_path: Path) -> Iterator[str]:
    address, procs = start_cluster(tmp_path)
    try:
        yield address
    finally:
        stop(procs)


@pytest.mark.timeout(180)
def test_sweep_on_a_running_scheduler(scheduler_address: str, tmp_path: Path) -> None:
    assert scheduler_address.startswith("tcp://127.0.0.1:")
    remote = make_config(
        *SWEEP,
        "cluster=address",
        f"cluster.address={scheduler_address}",
        f"storage.root={tmp_path}",
        "storage.dataset=remote",
    )
    local = make_config(
        *SWEEP,
        "cluster.n_workers=1",
        "cluster.dashboard_address=127.0.0.1:0",
        f"storage.root={tmp_path}",
        "storage.dataset=local",
    )
    frames = []
    for cfg in (remote, local):
        result = run_sweep(cfg, echo=lambda _: None)
        summary = read_summary(result.directory).to_pandas().drop(columns="elapsed_s")
        frames.append(summary.sort_values("run_id", ignore_index=True))
    assert len(frames[0]) == 4 and frames[0]["status"].eq("ok").all()
    assert_frame_equal(frames[0], frames[1])


@pytest.mark.timeout(180)
def test_sweep_over_tls_with_generated_certificates(tmp_path: Path) -> None:
    """A scheduler and worker that speak only TLS; segmark connects with cluster.tls_*."""
    tls = make_certificates(tmp_path / "tls")
    address, procs = start_cluster(tmp_path, tls)
    try:
        assert address.startswith("tls://127.0.0.1:")
        cfg = make_config(
            *SWEEP,
            "cluster=address",
            f"cluster.address={address}",
            f"cluster.tls_ca_file={tls['ca']}",
            f"cluster.tls_cert={tls['cert']}",
            f"cluster.tls_key={tls['key']}",
            f"storage.root={tmp_path}",
            "storage.dataset=over-tls",
        )
        result = run_sweep(cfg, echo=lambda _: None)
        summary = read_summary(result.directory).to_pandas()
        assert len(summary) == 4 and summary["status"].eq("ok").all()
    finally:
        stop(procs)


def test_tls_settings_are_checked(tmp_path: Path) -> None:
    tls = make_certificates(tmp_path / "tls")
    files = [f"cluster.tls_ca_file={tls['ca']}", f"cluster.tls_cert={tls['cert']}"]
    with pytest.raises(ConfigError, match=r"cluster\.tls_key unset"):
        validate_settings(
            make_config("cluster=address", "cluster.address=tls://127.0.0.1:1", *files), NK
        )
    files.append(f"cluster.tls_key={tls['key']}")
    with pytest.raises(ConfigError, match=r"starts with tls://"):
        validate_settings(
            make_config("cluster=address", "cluster.address=tcp://127.0.0.1:1", *files), NK
        )
    with pytest.raises(ConfigError, match="apply to cluster=address"):
        validate_settings(make_config(*files), NK)
    with pytest.raises(ConfigError, match="no such file"):
        validate_settings(
            make_config(
                "cluster=address",
                "cluster.address=tls://127.0.0.1:1",
                *files[:2],
                "cluster.tls_key=/nonexistent.pem",
            ),
            NK,
        )

"""Security defaults: loopback-only local cluster, configs that cannot run code, no secrets
from the environment in the output (docs/SECURITY.md states the trust model)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import run_cli

from segmark.pipeline import schedule
from segmark.pipeline.config import ClusterConfig


def test_the_local_cluster_listens_on_loopback_only() -> None:
    with schedule.connect(ClusterConfig(n_workers=1, dashboard_address="127.0.0.1:0")) as client:
        assert urlparse(client.scheduler.address).hostname == "127.0.0.1"
        assert urlparse(client.dashboard_link).hostname == "127.0.0.1"
        workers = client.scheduler_info()["workers"]
        assert workers and all(urlparse(w).hostname == "127.0.0.1" for w in workers)


def test_a_yaml_tag_that_would_run_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "conf" / "sweep" / "evil.yaml"
    evil.parent.mkdir(parents=True)
    evil.write_text(f'name: evil\naxes: !!python/object/apply:os.system ["touch {marker}"]\n')
    done = run_cli("-cd", str(tmp_path / "conf"), "sweep=evil", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("segmark: invalid config:")
    assert "evil.yaml, line 2" in done.stderr and "refused" in done.stderr
    assert "Traceback" not in done.stderr
    assert not marker.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conf"]  # nothing written


@pytest.mark.parametrize("key", ["+sweep._target_=os.system", "+model._target_=builtins.eval"])
def test_instantiation_keys_are_not_settings(tmp_path: Path, key: str) -> None:
    """segmark never calls hydra.utils.instantiate; the schemas refuse _target_ anyway."""
    done = run_cli(key, cwd=tmp_path)
    assert done.returncode == 2
    assert "_target_ is not a" in done.stderr  # not a setting (sweep), nor a parameter (model)
    assert not any(tmp_path.iterdir())


def test_no_environment_secret_reaches_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "s3cr3t-token-9f2c61d0"
    monkeypatch.setenv("SEGMARK_TEST_API_TOKEN", secret)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    done = run_cli("sweep=smoke", f"storage.root={tmp_path}", "storage.dataset=out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files) and any(
        p.name == "manifest.json" for p in files
    )
    for path in files:
        assert secret.encode() not in path.read_bytes(), path
    assert secret not in done.stdout and secret not in done.stderr

"""Hostile input, issue 27 ("Hardening"), continued from test_hardening.py: the dashboard's bind
address, YAML that grows without bound or never ends, and SIGTERM/SIGHUP, which stop a sweep as
Ctrl-C does (incomplete manifest, lock released, resume hint, exit 128 + the signal)."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import SEGMARK, run_cli
from test_faults import wait_for_parts
from test_hardening import refused

from segmark.pipeline.config import ClusterConfig, ConfigError
from segmark.pipeline.store import read_manifest, scan

# ---------------------------------------------------------------------------------------------
# 3. The dashboard: loopback unless a host is named; what is printed is what is bound


@pytest.mark.parametrize(
    ("given", "bound"),
    [
        (":8799", "127.0.0.1:8799"),
        ("8799", "127.0.0.1:8799"),
        ("", "127.0.0.1:0"),
        ("127.0.0.1:0", "127.0.0.1:0"),
        ("localhost:8787", "localhost:8787"),
        ("0.0.0.0:8799", "0.0.0.0:8799"),  # named explicitly: the user's choice
    ],
)
def test_a_bare_port_binds_loopback(given: str, bound: str) -> None:
    from segmark.pipeline.clusterchecks import dashboard_bind

    assert dashboard_bind(given) == bound


@pytest.mark.parametrize(
    "address",
    ["abc", ":99999", "127.0.0.1:", "[::1]:8787", ":8787,:8788", "tcp://127.0.0.1:8787", " :1"],
)
def test_a_malformed_dashboard_address_is_refused(
    address: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    refused(
        ["sweep=smoke", f"cluster.dashboard_address='{address}'"],
        tmp_path,
        monkeypatch,
        capsys,
        f"cluster.dashboard_address = {address!r}: give HOST:PORT or :PORT",
    )


def test_the_dashboard_binds_and_reports_what_it_bound() -> None:
    from segmark.pipeline import schedule

    with schedule.connect(ClusterConfig(n_workers=1, dashboard_address=":0")) as client:
        server = client.cluster.scheduler.http_server
        assert server.address == "127.0.0.1" and server.port > 0
        link = schedule.dashboard_link(client)
        assert link == f"http://127.0.0.1:{server.port}/status"
    with schedule.connect(ClusterConfig(n_workers=1, dashboard_address="0.0.0.0:0")) as client:
        assert client.cluster.scheduler.http_server.address == "0.0.0.0"
        assert schedule.dashboard_link(client).endswith("(listening on every interface)")


# ---------------------------------------------------------------------------------------------
# 4. YAML that grows without bound, or never ends, is refused before it is built


def laughs(levels: int, item: str = "l{i}: &l{i} ") -> str:
    """A billion-laughs document: each level a list of ten aliases of the one before it, so
    its last holds 10^levels values in a few hundred bytes."""
    lines = [item.format(i=0) + "[lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [item.format(i=i) + f"[{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


LAUGHS = laughs(9)  # 10^9 values in 600 bytes: only for read_yaml itself
# 10^6 values in a list design's points, which the schema takes as they are: what the command
# line tests give, so that a regression costs a minute and about a GB, not all the memory
BOMB = "name: bomb\ndesign: list\npoints:\n" + laughs(6, "  - &l{i} ")


@pytest.mark.timeout(20)
def test_a_billion_laughs_is_refused_at_once(tmp_path: Path) -> None:
    from segmark.pipeline.yamlfile import read_yaml

    (tmp_path / "bomb.yaml").write_text(LAUGHS)
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="expands to over 200,000 values"):
        read_yaml(tmp_path / "bomb.yaml")
    assert time.perf_counter() - started < 1


@pytest.mark.timeout(60)
def test_an_alias_bomb_in_a_sweep_file_is_refused(tmp_path: Path, monkeypatch, capsys) -> None:
    """10^6 values: OmegaConf would take minutes and a GB before any check."""
    sweep = tmp_path / "conf" / "sweep" / "bomb.yaml"
    sweep.parent.mkdir(parents=True)
    sweep.write_text(BOMB)
    refused(
        ["-cd", str(tmp_path / "conf"), "sweep=bomb"],
        tmp_path,
        monkeypatch,
        capsys,
        "bomb.yaml: expands to over 200,000 values",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &a [1, *a]\n", "an alias refers to itself"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than 50 levels"),
        ("a: " + "{b: " * 60 + "1" + "}" * 60 + "\n", "nested deeper than 50 levels"),
        ("a: 1\n" + "#" * (5 * 2**20) + "\n", "over 4 MiB"),
        (b"a: \xff\xfe\n", "not UTF-8 text"),
    ],
    ids=["recursive", "deep-lists", "deep-maps", "huge", "binary"],
)
def test_yaml_that_would_not_end_is_refused(tmp_path: Path, text, expected: str) -> None:
    from segmark.pipeline.yamlfile import read_yaml

    path = tmp_path / "x.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ConfigError, match=expected):
        read_yaml(path)


def test_anchors_and_merge_keys_of_a_normal_size_are_read(tmp_path: Path) -> None:
    from segmark.pipeline.yamlfile import read_yaml

    path = tmp_path / "x.yaml"
    path.write_text("base: &b {replicates: 2, root_seed: 1}\nsweep:\n  <<: *b\n  name: s\n")
    assert read_yaml(path)["sweep"] == {"replicates": 2, "root_seed": 1, "name": "s"}


def test_dev_zero_is_not_read(tmp_path: Path) -> None:
    from segmark.pipeline.yamlfile import read_yaml

    (tmp_path / "x.yaml").symlink_to("/dev/zero")
    with pytest.raises(ConfigError, match="not a regular file"):
        read_yaml(tmp_path / "x.yaml")


@pytest.mark.timeout(30)
@pytest.mark.parametrize("kind", ["fifo", "dev-null"])
def test_a_config_file_that_is_no_file_is_refused(
    kind: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    """A FIFO would block Hydra (and the old check) for ever; a link to /dev/zero would fill
    the memory (tested on read_yaml alone above: here a device that ends, /dev/null)."""
    sweep = tmp_path / "conf" / "sweep" / "endless.yaml"
    sweep.parent.mkdir(parents=True)
    if kind == "fifo":
        os.mkfifo(sweep)
    else:
        sweep.symlink_to("/dev/null")
    refused(
        ["-cd", str(tmp_path / "conf"), "sweep=endless"],
        tmp_path,
        monkeypatch,
        capsys,
        "endless.yaml: not a regular file",
    )


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ["searchpath", "config-path"])
def test_every_config_folder_of_the_command_line_is_checked(
    how: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    folder = tmp_path / "site"
    (folder / "sweep").mkdir(parents=True)
    (folder / "sweep" / "bomb.yaml").write_text(BOMB)
    args = (
        [f"hydra.searchpath=[file://{folder}]", "sweep=bomb"]
        if how == "searchpath"
        else ["-cp", str(folder), "sweep=bomb"]
    )
    refused(args, tmp_path, monkeypatch, capsys, "expands to over 200,000 values")


@pytest.mark.timeout(60)
def test_report_refuses_an_alias_bomb_in_a_dataset(smoke_dataset: Path, tmp_path: Path) -> None:
    shared = Path(shutil.copytree(smoke_dataset, tmp_path / "shared"))
    (shared / "config.yaml").write_text(BOMB)
    done = subprocess.run(
        [str(Path(SEGMARK).with_name("segmark-report")), str(shared), "--n-boot", "100"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "config.yaml: expands to over 200,000 values" in done.stderr


# ---------------------------------------------------------------------------------------------
# 5. SIGTERM and SIGHUP stop a sweep as Ctrl-C does

SWEEP = (
    "+preset=small",
    "model.n_steps=1500",
    "sweep.axes.policy.permit_strictness=${linspace:0,1,6}",
    "sweep.replicates=8",
    "sweep.batch_size=1",
    "progress=false",
    "cluster.dashboard_address=:0",
)


def start_and_stop(tmp_path: Path, name: str, signals: list[int], group: bool):
    """Start a 48-run sweep, wait until it is running with runs stored, send ``signals``."""
    args = (*SWEEP, f"storage.root={tmp_path}", f"storage.dataset={name}")
    directory = tmp_path / name
    process = subprocess.Popen(
        [SEGMARK, *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    wait_for_parts(directory, 2)
    assert read_manifest(directory)["status"] == "running"
    for signum in signals:
        (os.killpg if group else os.kill)(process.pid, signum)
    out, err = process.communicate(timeout=90)
    return process.returncode, out, err, args, directory


def assert_stopped_cleanly(directory: Path, out: str, err: str, name: str) -> None:
    assert err.strip().splitlines()[-1] == f"segmark: stopped by {name}", err[-2000:]
    assert "Traceback" not in err
    assert f"To resume, run the same command with storage.root={directory.parent}" in out
    manifest = read_manifest(directory)
    assert manifest["status"] == "incomplete", manifest
    assert manifest["error"] == f"Stopped: {name}"
    assert not (directory / ".lock").exists()
    stored = scan(directory)
    assert 0 < len(stored) < 48 and stored.duplicates == 0


@pytest.mark.timeout(240)
def test_sigterm_stops_cleanly_and_the_sweep_resumes(tmp_path: Path) -> None:
    """What SLURM and container runtimes send, to the driver and its workers at once."""
    code, out, err, args, directory = start_and_stop(tmp_path, "term", [signal.SIGTERM], True)
    assert code == 143, err[-2000:]
    dashboard = next(line for line in out.splitlines() if line.startswith("dask dashboard:"))
    assert urlparse(dashboard.split()[-1]).hostname == "127.0.0.1"  # ":0": loopback
    assert_stopped_cleanly(directory, out, err, "SIGTERM")
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "already stored" in done.stdout
    stored = scan(directory)
    assert len(stored) == 48 and stored.duplicates == 0 and not stored.corrupt
    assert read_manifest(directory)["status"] == "complete"


@pytest.mark.timeout(180)
def test_sighup_then_sigterm_still_cleans_up(tmp_path: Path) -> None:
    """A closed terminal, then a second signal while the first one's clean-up runs."""
    code, out, err, _, directory = start_and_stop(
        tmp_path, "hup", [signal.SIGHUP, signal.SIGTERM], False
    )
    assert code == 129, err[-2000:]
    assert_stopped_cleanly(directory, out, err, "SIGHUP")


def test_the_stop_signals_exit_as_the_shell_reports_them() -> None:
    from segmark.pipeline.cli.app import Stopped, interrupted

    for signum, code in ((signal.SIGTERM, 143), (signal.SIGHUP, 129)):
        with pytest.raises(SystemExit) as stop:
            interrupted(Stopped(signum))
        assert stop.value.code == code
    with pytest.raises(SystemExit) as stop:
        interrupted(KeyboardInterrupt())
    assert stop.value.code == 130
    assert str(Stopped(signal.SIGTERM)) == "SIGTERM"  # the manifest's "Stopped: SIGTERM"


@pytest.mark.parametrize(
    ("command", "args", "message"),
    [
        ("segmark-report", ["--n-boot", "0"], "--n-boot: '0': give an integer >= 100"),
        ("segmark-report", ["--n-boot", "-5"], "--n-boot: '-5': give an integer >= 100"),
        ("segmark-report", ["--n-boot", "many"], "--n-boot: 'many': give an integer >= 100"),
        ("segmark-refine", ["--axis", "a", "--width", "0.1", "--max-rounds", "-1"],
         "--max-rounds: '-1': give an integer >= 1"),
        ("segmark-refine", ["--axis", "a", "--width", "0.1", "--max-runs", "0"],
         "--max-runs: '0': give an integer >= 1"),
        ("segmark-check", ["--show", "-2"], "--show: '-2': give an integer >= 0"),
    ],
)  # fmt: skip
def test_counts_out_of_range_are_refused_by_name(tmp_path: Path, command, args, message) -> None:
    """Bootstrap resamples, rounds and run limits: one line naming the option, exit 2, before
    the dataset is even read (issue 27: --n-boot 0 printed a "95% CI" of nothing)."""
    done = subprocess.run(
        [str(Path(SEGMARK).with_name(command)), str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and message in done.stderr, done.stderr


@pytest.mark.parametrize("text", ["", "garbage", "[]", '{"pid": 1}'])
def test_a_lock_file_without_an_owner_says_so(tmp_path: Path, text: str) -> None:
    """An empty, garbled or partial lock file: not "pid None on None" (issue 27), but what it
    may mean, and the way out."""
    from segmark.pipeline.store import DatasetBusy, writer_lock

    (tmp_path / ".lock").write_text(text)
    with pytest.raises(DatasetBusy) as caught, writer_lock(tmp_path):
        pass
    message = str(caught.value)
    assert "None" not in message and "names no owner" in message and ".lock" in message


def test_segmark_check_finds_its_baseline_from_any_folder(tmp_path: Path) -> None:
    """The default baseline is the checkout's, not tests/ under the current folder (issue 27):
    run from elsewhere, segmark-check gets as far as the dataset."""
    from segmark.pipeline.check import DEFAULT_BASELINE

    assert DEFAULT_BASELINE.is_absolute() and DEFAULT_BASELINE.is_file()
    done = subprocess.run(
        [str(Path(SEGMARK).with_name("segmark-check")), str(tmp_path / "nothing")],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode != 0 and "no baseline" not in done.stderr + done.stdout


# ---------------------------------------------------------------------------------------------
# 6. The resume hint can be pasted as printed


@pytest.mark.parametrize(
    "root", ["/data/plain", "/data/with space", "/data/a,b", "/data/it's here", "/data/[x]=y"]
)
def test_the_resume_hint_is_quoted_for_the_shell_and_for_hydra(root: str) -> None:
    """A root with spaces, commas (a Hydra sweep), quotes or brackets: the printed arguments,
    split as a shell splits them and parsed as Hydra parses overrides, name the dataset."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from segmark.pipeline.driver import resume_arguments

    directory = Path(root) / "sweep-1"
    hint = resume_arguments(directory)
    parsed = OverridesParser.create().parse_overrides(shlex.split(hint))
    assert {o.key_or_group: o.value() for o in parsed} == {
        "storage.root": root, "storage.dataset": "sweep-1"
    }  # fmt: skip
    if root == "/data/plain":
        assert hint == "storage.root=/data/plain storage.dataset=sweep-1"

"""Hostile input, issue 27 ("Hardening"), damaged datasets: a corrupt manifest.json (garbage,
empty, a JSON list, a key of the wrong type), a corrupt plan.parquet or config.yaml, a part that
is a link loop or dangling, a garbled part, ``--out`` at a file, a read-only dataset. The
readers (segmark-report, segmark-check, segmark-refine) answer each with exit 2 and one line
naming the file and the cause: never a traceback, never a run dropped without a word, never a
half-written file."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import can_lock, lock

from segmark.pipeline.analysis import figures, load
from segmark.pipeline.cli.commands import check_main, refine_main, report_main
from segmark.pipeline.store import UnreadableDataset

COMMANDS: dict[str, Callable[[], None]] = {
    "segmark-report": report_main,
    "segmark-check": check_main,
    "segmark-refine": refine_main,
}
# the options each command needs beside the dataset (few resamples: the refusals come first)
OPTIONS = {
    "segmark-report": ["--n-boot", "100"],
    "segmark-check": [],
    "segmark-refine": "--axis policy.permit_strictness --width 0.1 --n-boot 100".split(),
}
LOOP = "summary/part-0000000000000000.parquet"


@pytest.fixture
def dataset(smoke_dataset: Path, tmp_path: Path) -> Path:
    """A fresh copy of the one smoke dataset the session makes (links copied as links)."""
    return Path(shutil.copytree(smoke_dataset, tmp_path / "copy", symlinks=True))


def tree(directory: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``directory`` with its size and mtime (links not followed)."""
    out = {}
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            info = os.lstat(os.path.join(root, name))
            out[os.path.join(root, name)] = (info.st_size, info.st_mtime_ns)
    return out


def refused(command: str, *args: str, monkeypatch, capsys) -> str:
    """``command *args`` in-process: exit 2 and one line on stderr, no traceback."""
    monkeypatch.setattr(sys, "argv", [command, *args])
    with pytest.raises(SystemExit) as stop:
        COMMANDS[command]()
    message = capsys.readouterr().err.strip()
    assert stop.value.code == 2, message
    assert message.startswith(f"{command}: ") and len(message.splitlines()) == 1, message
    assert "Traceback" not in message
    return message


def refused_unchanged(command: str, directory: Path, monkeypatch, capsys) -> str:
    """:func:`refused` on ``directory`` with the command's options; nothing in it written."""
    before = tree(directory)
    message = refused(command, str(directory), *OPTIONS[command], **_io(monkeypatch, capsys))
    assert tree(directory) == before
    return message


def _io(monkeypatch, capsys) -> dict:
    return {"monkeypatch": monkeypatch, "capsys": capsys}


MANIFESTS = {
    "garbage": ("garbage{", "not JSON (Expecting value at line 1, column 1)"),
    "empty": ("", "the file is empty"),
    "a list": ("[1,2]", "it holds a list, not an object"),
    "model not an object": (None, "its 'model' is a list, not an object"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(MANIFESTS))
def test_a_corrupt_manifest_is_named(dataset: Path, case, command, monkeypatch, capsys) -> None:
    text, cause = MANIFESTS[case]
    manifest = dataset / "manifest.json"
    if text is None:
        text = json.dumps({**json.loads(manifest.read_text()), "model": []})
    manifest.write_text(text)
    message = refused_unchanged(command, dataset, monkeypatch, capsys)
    assert f"{manifest}: {cause}; restore it" in message


@pytest.mark.parametrize("command", ["segmark-report", "segmark-refine"])
def test_a_corrupt_plan_is_named(dataset: Path, command, monkeypatch, capsys) -> None:
    (dataset / "plan.parquet").write_bytes(b"garbage")
    message = refused_unchanged(command, dataset, monkeypatch, capsys)
    assert f"{dataset / 'plan.parquet'}: cannot be read (Parquet file size is 7 bytes" in message
    assert "run the sweep's command again" in message


@pytest.mark.parametrize("command", ["segmark-report", "segmark-refine"])
def test_a_corrupt_config_is_named(dataset: Path, command, monkeypatch, capsys) -> None:
    (dataset / "config.yaml").write_text("sweep: [1\n")
    message = refused_unchanged(command, dataset, monkeypatch, capsys)
    assert f"{dataset / 'config.yaml'}, line 2" in message


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("target", ["itself", "nowhere"])
def test_a_part_that_leads_nowhere_is_named(
    dataset: Path, target, command, monkeypatch, capsys
) -> None:
    """A link loop or a dangling link beside the good part: pyarrow would pass over it in
    silence (its runs missing from every result); every reader names it instead."""
    part = dataset / LOOP
    part.symlink_to(part.name if target == "itself" else "/nonexistent/part.parquet")
    cause = "Too many levels of symbolic links" if target == "itself" else "No such file"
    message = refused_unchanged(command, dataset, monkeypatch, capsys)
    assert f"{part}: cannot be read ({cause}" in message and "move it out of summary/" in message
    with pytest.raises(UnreadableDataset, match=str(part)):
        load(dataset)  # the Python API says the same


def test_a_garbled_part_is_named(dataset: Path, monkeypatch, capsys) -> None:
    """A part that is not Parquet beside the good one: the report names it, and the sweep
    that sets it aside."""
    part = dataset / "summary" / "part-1111111111111111.parquet"
    part.write_bytes(b"garbage")
    message = refused_unchanged("segmark-report", dataset, monkeypatch, capsys)
    assert str(part) in message and "sets damaged parts aside" in message


def test_check_names_a_corrupt_baseline(dataset: Path, tmp_path: Path, monkeypatch, capsys):
    baseline = tmp_path / "baseline.json"
    for text in ("garbage{", "", "[1,2]"):
        baseline.write_text(text)
        message = refused(
            "segmark-check", str(dataset), "--baseline", str(baseline), **_io(monkeypatch, capsys)
        )
        assert f"{baseline}: not a segmark-check-baseline/1 file" in message


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_report_out_at_a_file(dataset: Path, tmp_path: Path, where, monkeypatch, capsys) -> None:
    afile = tmp_path / "afile"
    afile.write_text("keep me\n")
    out = afile if where == "a file" else afile / "sub"
    message = refused("segmark-report", str(dataset), "--out", str(out), **_io(monkeypatch, capsys))
    assert f"cannot write the report into {out}" in message and "--out" in message
    assert afile.read_text() == "keep me\n"


@pytest.fixture
def read_only(dataset: Path, tmp_path: Path):
    """The dataset made unwritable (chattr +i for root), or the test skipped where impossible."""
    probe = tmp_path / "lockable"
    probe.mkdir()
    if not can_lock(probe):
        pytest.skip("cannot make a directory unwritable here (root without chattr +i)")
    lock(dataset, True)
    yield dataset
    lock(dataset, False)


def test_report_on_a_read_only_dataset(read_only: Path, tmp_path: Path, monkeypatch, capsys):
    """The default report folder cannot be made: one line suggesting --out, which works."""
    message = refused_unchanged("segmark-report", read_only, monkeypatch, capsys)
    assert f"cannot write the report into {read_only / 'report'} (Operation not permitted" in (
        message
    )
    assert "give --out DIR" in message and not (read_only / "report").exists()
    monkeypatch.setattr(
        sys,
        "argv",
        ["segmark-report", str(read_only), "--out", str(tmp_path / "elsewhere"), "--n-boot", "100"],
    )
    report_main()
    assert (tmp_path / "elsewhere" / "report.md").is_file()


def test_refine_on_a_read_only_dataset(read_only: Path, monkeypatch, capsys) -> None:
    """Refinement adds runs: refused before any bootstrap or cluster, in one line."""
    message = refused_unchanged("segmark-refine", read_only, monkeypatch, capsys)
    assert f"cannot write the dataset (Operation not permitted: {read_only})" in message


def test_a_report_cut_short_leaves_no_half_written_file(
    dataset: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    """The disk fills while a figure is written: one line, and neither the half-written
    figure nor a report.md is left."""

    def half_written(result, path):
        Path(path).write_bytes(b"\x89PNG half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(figures, "tipping_figure", half_written)
    out = tmp_path / "out"
    message = refused(
        "segmark-report",
        str(dataset),
        "--out",
        str(out),
        "--n-boot",
        "100",
        **_io(monkeypatch, capsys),
    )
    assert f"cannot write the report into {out} (No space left on device" in message
    assert sorted(p.name for p in out.iterdir()) == []


def test_check_report_at_a_directory(dataset: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    message = refused(
        "segmark-check", str(dataset), "--report", str(tmp_path), **_io(monkeypatch, capsys)
    )
    assert f"cannot write --report {tmp_path} (Is a directory)" in message


def test_a_sweep_into_a_dataset_with_a_corrupt_manifest_is_refused(dataset, monkeypatch, capsys):
    from segmark.pipeline import cli

    (dataset / "manifest.json").write_text("[1")
    before = tree(dataset)
    where = [f"storage.root={dataset.parent}", f"storage.dataset={dataset.name}"]
    monkeypatch.setattr(sys, "argv", ["segmark", "sweep=smoke", *where])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    message = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and len(message.splitlines()) == 1, message
    assert f"storage.dataset: {dataset}/manifest.json: not JSON" in message
    assert tree(dataset) == before


def test_a_resume_sets_a_link_loop_part_aside_and_redoes_nothing_it_holds(dataset, client):
    from conftest import make_config

    from segmark.pipeline.driver import run_sweep

    (dataset / LOOP).symlink_to(LOOP.rpartition("/")[2])
    cfg = make_config(
        "sweep=smoke", f"storage.root={dataset.parent}", f"storage.dataset={dataset.name}"
    )
    result = run_sweep(cfg, client=client, echo=lambda *_: None)
    assert result.n_skipped == result.n_runs == 6
    assert not os.path.lexists(dataset / LOOP)
    assert os.path.islink(dataset / "summary" / f".{LOOP.rpartition('/')[2]}.corrupt")
    assert len(load(dataset).summary) == 6

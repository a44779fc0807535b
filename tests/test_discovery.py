"""Scenario discovery in the report (issue 25): ``segmark-report`` on an explore sweep (a Latin
hypercube over levers and shocks) writes PRIM's boxes in words and as a table, the trade-off,
CART, feature scores and a map, in report.md, report.json and report.html; bad ``--where``,
``--over`` and ``--map`` options and too few runs are refused in one line before anything is
written. PRIM itself, against EMA Workbench: tests/test_prim.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def explore_dataset(tmp_path_factory: pytest.TempPathFactory, client) -> Path:
    """The explore sweep (a Latin hypercube over levers and shocks), small: 48 runs on the
    40-unit network."""
    from conftest import make_config

    from segmark.pipeline.driver import run_sweep

    cfg = make_config(
        "sweep=explore", "+preset=small", "sweep.samples=48", "sweep.replicates=1",
        f"storage.root={tmp_path_factory.mktemp('explore')}", "storage.dataset=explore",
        "progress=false",
    )  # fmt: skip
    return run_sweep(cfg, client=client, echo=lambda _: None).directory


WHERE = "integration_index > 0.14"


def test_the_explore_report_finds_boxes_in_words_tables_and_a_map(explore_dataset, tmp_path):
    from segmark.pipeline.analysis.report import write_report

    path = write_report(explore_dataset, tmp_path, n_boot=100, where=WHERE, map_outcome="rice_kpw")
    text = path.read_text()
    section = text.split("## Scenario discovery", 1)[1]
    assert f"Runs of interest: `{WHERE}`" in section
    assert f"- **Box 1**: {WHERE} in " in section and f"of all {WHERE} runs (mass" in section
    assert "| box | parameter | low | high |" in section and "Feature scores" in section
    assert "(discovery_tradeoff.png)" in section and "(discovery_map.png)" in section
    numbers = json.loads((tmp_path / "report.json").read_text())["discovery"]
    assert numbers["condition"] == WHERE and numbers["boxes"] and numbers["runs"] == 48
    page = (tmp_path / "report.html").read_text()
    assert "Scenario discovery</h2>" in page and page.count("<img ") == text.count("![")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--where", "nope > 1"], "'nope' is not an outcome of model nk; outcomes are"),
        (["--where", "integration_index >"], "does not parse: give OUTCOME"),
        (["--where", "__import__('os')"], "does not parse"),
        (["--where", "integration_index"], "is a number, not true/false"),
        (["--over", "policy.nope"], "--over policy.nope: not a swept parameter"),
        (["--map", "nope"], "--map nope: not a per-unit output of model nk; outputs are"),
    ],
)
def test_bad_discovery_options_are_refused_before_anything_is_written(
    explore_dataset, options, message, tmp_path, monkeypatch, capsys
) -> None:
    from segmark.pipeline.cli.commands import report_main

    out = tmp_path / "out"
    monkeypatch.setattr(
        sys, "argv", ["segmark-report", str(explore_dataset), "--out", str(out), *options]
    )
    with pytest.raises(SystemExit) as stop:
        report_main()
    error = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and len(error.splitlines()) == 1 and message in error, error
    assert not out.exists()


def test_discovery_on_too_few_runs_is_refused(smoke_dataset, tmp_path, monkeypatch, capsys):
    from segmark.pipeline.cli.commands import report_main

    argv = ["segmark-report", str(smoke_dataset), "--out", str(tmp_path / "o"), "--where", WHERE]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as stop:
        report_main()
    error = capsys.readouterr().err
    assert stop.value.code == 2 and "needs at least 20 ok runs; the dataset has 6" in error

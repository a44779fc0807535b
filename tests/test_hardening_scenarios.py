"""Hostile input, issue 27 ("Hardening"), scenarios: a sweep whose swept values a scenario
overrides from week 0 (every point the same run) is refused before any work, and a malformed
scenario file is refused with a one-line error naming the scenario, never a traceback."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import make_config
from test_hardening import refused

from segmark.models.nk import MODEL as NK
from segmark.models.nk import scenarios
from segmark.pipeline.sweep import plan


def test_a_sweep_the_scenario_overrides_is_refused(tmp_path, monkeypatch, capsys) -> None:
    refused(
        ["model.scenario=famine_1995", "sweep.axes.policy.permit_strictness=[0.1,0.5]"],
        tmp_path, monkeypatch, capsys,
        "sets policy.permit_strictness itself from the first week",
    )  # fmt: skip


@pytest.mark.parametrize(
    "axes",
    [
        ["sweep.axes.policy.permit_strictness=[0.1,0.5]", "sweep.axes.model.turnover=[0.2,0.4]"],
        ["sweep.axes.model.scenario=[famine_1995,none]"],
        ["sweep.axes.shock.harvest_sd=[0.1,0.2]"],  # famine does not set it
    ],
)
def test_a_sweep_with_some_value_that_acts_is_planned(axes) -> None:
    """An overridden axis beside one that acts, the scenario itself swept, or an axis the
    scenario leaves alone: the points differ, so the sweep is planned."""
    design, runs = plan(make_config("model.scenario=famine_1995", *axes), NK)
    assert len(runs) == len(design.points) * make_config().sweep.replicates


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("events: [week: 0", "is not valid YAML"),
        ("- week: 0\n", "must be a mapping with `events` (a list)"),
        ("events: {week: 0}\n", "must be a mapping with `events` (a list)"),
        ("start_year: nineteen\nevents: []\n", "`start_year` (a year)"),
        ("events:\n  - {week: true, harvest: 0.5}\n", "a whole week in [0, 100000], got"),
        ("events:\n  - {week: 100000000, harvest: 0.5}\n", "a whole week in [0, 100000]"),
        ("events:\n  - {week: 3, set: 5}\n", "set takes parameter path: value pairs, got 5"),
        ("events:\n  - {week: 3, set: {policy.crackdown: 0.5}, over: 1.5}\n", "over = 1.5"),
        ("events:\n  - {week: 3, flood: 3}\n", "flood takes a unit's name or a list of names"),
        ("events:\n  - {week: 3, harvest: true}\n", "harvest = True; allowed is [0, 10]"),
        ("events:\n  - {week: 3}\n", "exactly one of set, harvest, flood"),
        ("\\xff\\xfe", "is not valid YAML"),
    ],
)
def test_a_malformed_scenario_file_is_refused_in_one_line(
    tmp_path: Path, monkeypatch, text: str, message: str
) -> None:
    (tmp_path / "scenario").mkdir()
    data = text.encode("latin-1").decode("unicode_escape").encode("latin-1")
    (tmp_path / "scenario" / "bad.yaml").write_bytes(data)
    monkeypatch.setattr(scenarios, "resources", SimpleNamespace(files=lambda _: tmp_path))
    monkeypatch.setattr(scenarios, "scenario_names", lambda: ("none", "bad"))
    scenarios.load.cache_clear()
    try:
        with pytest.raises(ValueError, match="scenario 'bad'") as error:
            scenarios.load("bad")
    finally:
        scenarios.load.cache_clear()
    assert message in str(error.value) and "\n" not in str(error.value), str(error.value)

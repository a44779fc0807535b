"""Adaptive refinement on a real (small) sweep: the threshold's interval along permit strictness
shrinks round by round to the requested width, the new runs join the same dataset with every run
stored once, a second call adds nothing, a too-tight target stops at the round limit and says
so, and a dataset of another model version is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_config

from segmark.pipeline.analysis.data import load
from segmark.pipeline.analysis.refine import parse_where, refine
from segmark.pipeline.cli.commands import refine_main as cli
from segmark.pipeline.config import ConfigError
from segmark.pipeline.driver import run_sweep
from segmark.pipeline.extend import extending
from segmark.pipeline.store import MANIFEST_FILE, scan

AXIS = "policy.permit_strictness"
COLUMN = "policy_permit_strictness"
# the threshold's interval width asked for: at nk-7 the small model's integration rises over a
# wider range of strictness than at nk-6 (0.01 then), so 4 replicates a point narrow it to
# about 0.06 and no further
WIDTH = 0.07


def coarse_sweep(root: Path, client) -> Path:
    """The smoke sweep's settings (small model, informed market) on a coarse grid: 4 values of
    permit strictness x 4 replicates = 16 runs; its threshold (~0.09 at nk-7) lies in the
    first cell."""
    cfg = make_config(
        "sweep=smoke",
        "sweep.replicates=4",
        "sweep.axes.policy.permit_strictness=[0.0,0.2,0.4,0.6]",
        f"storage.root={root}",
        "storage.dataset=coarse",
        "progress=false",
    )
    return run_sweep(cfg, client=client, echo=lambda _: None).directory


def refined(directory: Path, *args, client, **options):
    """``refine`` with the engine's extension of the dataset on ``client``."""
    with extending(directory, client=client) as extend:
        return refine(directory, *args, extend=extend, **options)


def test_refinement_reaches_the_width_in_the_same_dataset(tmp_path: Path, client, capsys) -> None:
    directory = coarse_sweep(tmp_path, client)
    before = load(directory)
    lines: list[str] = []
    result = refined(
        directory, AXIS, WIDTH, max_rounds=5, n_boot=500, client=client, echo=lines.append
    )
    widths = [result.initial.ci_width] + [r.ci_width for r in result.rounds]
    print("CI widths by round:", [round(w, 5) for w in widths])
    assert result.reached and result.reason == "reached"
    assert len(result.rounds) >= 2  # more than one round was needed
    assert widths[0] >= 0.09  # most of the first grid cell (0 to 0.2)
    assert widths[-1] <= WIDTH < min(widths[:-1])  # reached only at the last round
    assert widths[-1] < widths[1] < widths[0]
    assert len(lines) == len(result.rounds) + 2  # start, one per round, final
    assert lines[-1].startswith("width reached")

    after = load(directory)
    stored = scan(directory)
    assert stored.duplicates == 0 and after.duplicates_dropped == 0
    assert len(stored.run_ids) == before.n_stored + result.runs_added == after.n_stored
    assert set(before.summary["run_id"]) <= set(after.summary["run_id"])
    # the engine's content addresses: a (point, replicate) is stored once, with its seed rule
    assert not after.summary.duplicated([COLUMN, "replicate"]).any()
    assert after.summary.groupby("replicate")["seed"].nunique().max() == 1
    added = {v for r in result.rounds for v in r.values_added}
    assert added <= set(after.summary[COLUMN]) and not added & set(before.summary[COLUMN])
    assert all(r.runs_added > 0 for r in result.rounds)
    assert (after.summary["status"] == "ok").all()
    manifest = json.loads((directory / MANIFEST_FILE).read_text())
    assert manifest["refinement"]["original_sweep"]["design"] == "grid"
    assert len(manifest["refinement"]["rounds"]) == len(result.rounds)

    # the target is met: a second call (the command) adds nothing
    with pytest.raises(SystemExit) as done:
        cli([str(directory), "--axis", AXIS, "--width", str(WIDTH), "--n-boot", "500"])
    assert done.value.code == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("width reached") and "after 0 rounds, 0 runs added" in out[-1]
    assert load(directory).n_stored == after.n_stored


def test_refinement_stops_at_max_rounds_and_refuses_another_model(tmp_path: Path, client) -> None:
    directory = coarse_sweep(tmp_path, client)
    lines: list[str] = []
    result = refined(
        directory, AXIS, 1e-4, max_rounds=1, n_boot=300, client=client, echo=lines.append
    )
    assert not result.reached and result.reason == "max_rounds"
    assert len(result.rounds) == 1 and result.rounds[0].ci_width > 1e-4
    assert lines[-1].startswith("width NOT reached (stopped at the maximum number of rounds)")
    assert scan(directory).duplicates == 0
    n = load(directory).n_stored
    manifest = json.loads((directory / MANIFEST_FILE).read_text())
    manifest["model_version"] = "an-older-model"
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ConfigError, match="model version"):
        refined(directory, AXIS, 1e-4, max_rounds=1, n_boot=300, client=client, echo=print)
    assert load(directory).n_stored == n


def test_refinement_where_refines_one_slice_and_leaves_the_others(
    tmp_path: Path, client, capsys
) -> None:
    cfg = make_config(
        "sweep=smoke",
        "sweep.replicates=4",
        "sweep.axes.policy.permit_strictness=[0.0,0.2,0.4,0.6]",
        "sweep.axes.policy.transport_investment=[0.0,0.3]",
        f"storage.root={tmp_path}",
        "storage.dataset=two-axes",
        "progress=false",
    )
    directory = run_sweep(cfg, client=client, echo=lambda _: None).directory
    before = load(directory).summary
    where = parse_where(["policy.transport_investment=0.3"])
    assert where == {"policy.transport_investment": 0.3}
    result = refined(
        directory, AXIS, 0.05, where=where, max_rounds=1, n_boot=200, client=client, echo=print
    )
    assert result.rounds and result.rounds[0].runs_added > 0
    after = load(directory).summary
    investment = "policy_transport_investment"
    new = after[~after["run_id"].isin(before["run_id"])]
    assert len(new) == result.runs_added and (new[investment] == 0.3).all()
    untouched = after[after[investment] == 0.0]
    assert set(untouched["run_id"]) == set(before.loc[before[investment] == 0.0, "run_id"])
    assert scan(directory).duplicates == 0

    for bad in ("policy.no_such_lever=1", "policy.transport_investment=0.9"):
        with pytest.raises(SystemExit) as refused:  # refused before any run
            cli([str(directory), "--axis", AXIS, "--width", "0.001", "--where", bad])
        assert refused.value.code == 2
        assert bad.split("=")[0] in capsys.readouterr().err
    assert load(directory).n_stored == len(after)

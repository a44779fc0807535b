"""Sweep size limits (hardening issue): a 10^7-run grid's dry run stays fast and small, a sweep
over the limits is refused by name before anything big is made, and the dry run's arithmetic
count and pilot rows are those of the full run table."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import SEGMARK, make_config

from segmark.models.nk import MODEL as NK
from segmark.pipeline import designs
from segmark.pipeline import sweep as sweeps
from segmark.pipeline.config import MAX_RUNS, ConfigError
from segmark.pipeline.driver import describe_plan, plan_sweep
from segmark.pipeline.dryrun import dry_run, plan_pilot

AS_CAP = 4 * 2**30  # address space, not memory used: numba and BLAS reserve much of it
# 10^5 strictness x 100 crackdown values x 1 replicate: 10^7 design points
TEN_MILLION_POINTS = (
    "sweep.axes.policy.permit_strictness=${linspace:0,1,100000}",
    "+sweep.axes.policy.crackdown=${linspace:0,1,100}",
    "sweep.replicates=1",
)


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (AS_CAP, AS_CAP))
    resource.setrlimit(resource.RLIMIT_CPU, (120, 120))  # never a runaway, whatever it does


def segmark_capped(tmp_path: Path, *args: str) -> tuple[int, str, float, float]:
    """``segmark sweep=smoke storage.root=tmp_path *args`` under a memory cap: (exit code,
    stderr, wall seconds, peak resident MB of that process alone, from its own rusage)."""
    err = tmp_path / "stderr.txt"
    command = [SEGMARK, "sweep=smoke", f"storage.root={tmp_path / 'runs'}", *args]
    started = time.perf_counter()
    with err.open("w") as stderr:
        process = subprocess.Popen(
            command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=stderr, preexec_fn=_capped
        )
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    return process.returncode, err.read_text(), wall, usage.ru_maxrss / 1024  # KB on Linux


@pytest.fixture(scope="module")
def smoke_rss(tmp_path_factory: pytest.TempPathFactory) -> float:
    """Peak resident MB of the 6-run smoke sweep's dry run: the process's own cost."""
    code, err, _, rss = segmark_capped(tmp_path_factory.mktemp("smoke"), "dry_run=true")
    assert code == 0, err[-2000:]
    return rss


def test_the_dry_run_of_a_ten_million_run_grid_is_as_small_as_a_tiny_ones(
    tmp_path: Path, smoke_rss: float
) -> None:
    """10^5 points x 100 replicates = 10^7 runs, both limits at once: its run table would
    take ~0.7 GB and ~10 s; the dry run counts it and makes only its three pilot runs."""
    code, err, wall, rss = segmark_capped(
        tmp_path,
        "dry_run=true",
        "sweep.axes.policy.permit_strictness=${linspace:0,1,1000}",
        "+sweep.axes.policy.crackdown=${linspace:0,1,100}",
        "sweep.replicates=100",
    )
    assert code == 0, err[-2000:]
    assert rss - smoke_rss < 100, (rss, smoke_rss)
    assert wall < 20
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("dry", "args", "expected"),
    [
        ("true", TEN_MILLION_POINTS, "has 10,000,000 design points (sweep.axes: "),
        ("false", TEN_MILLION_POINTS, "has 10,000,000 design points (sweep.axes: "),
        ("true", ("sweep.replicates=3333334",), "would make 10,000,002 runs (3 points x 3333334"),
    ],
)
def test_a_sweep_over_the_limits_is_refused_at_once_by_name(
    tmp_path: Path, dry: str, args: tuple[str, ...], expected: str
) -> None:
    """One line naming the keys, exit 2, nothing written, before any point is made: a 10^7
    point grid used to take 5 GB per 10^6 points and minutes before it could be refused."""
    code, err, wall, rss = segmark_capped(tmp_path, f"dry_run={dry}", *args)
    assert code == 2, err[-2000:]
    lines = err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], err
    assert "sweep.replicates" in lines[0] and "at most" in lines[0]
    assert rss < 1000 and wall < 20
    assert not (tmp_path / "runs").exists()


SMALL = {
    "grid": (
        "sweep.axes.policy.permit_strictness=[0.0,0.5,1.0]",
        "+sweep.axes.shock.harvest_sd=[0.1,0.2]",
        "+sweep.axes.model.n_goods=[2,3,4,5]",
        "sweep.replicates=5",
    ),
    "list": (
        "~sweep.axes.policy",
        "sweep.design=list",
        "sweep.replicates=3",
        "sweep.points=[{policy: {crackdown: 0.1}}, {policy: {crackdown: 0.9}},"
        "{policy: {crackdown: 0.1}}]",
    ),
    "lhs": (
        "~sweep.axes.policy",
        "sweep.design=lhs",
        "sweep.samples=7",
        "sweep.combine=factorial",
        "+sweep.parameters.policy.crackdown={low: 0.0, high: 1.0}",
        "+sweep.parameters.shock.harvest_sd={low: 0.1, high: 0.3}",
    ),
    "morris": (
        "~sweep.axes.policy",
        "sweep.design=morris",
        "sweep.samples=3",
        "sweep.common_random_numbers=false",
        "+sweep.parameters.policy.crackdown={values: [0.1, 0.5]}",
        "+sweep.parameters.model.n_goods={low: 2, high: 3}",
    ),
}


@pytest.mark.parametrize("kind", list(SMALL))
def test_the_dry_runs_count_and_pilot_rows_are_those_of_the_run_table(
    tmp_path: Path, kind: str
) -> None:
    """Counted arithmetically, made by index: the same count, describe line and rows (ids,
    seeds, repeats of a point included) as the full plan gives."""
    cfg = make_config("sweep=smoke", f"storage.root={tmp_path}", *SMALL[kind])
    design, plan, directory = plan_sweep(cfg, NK)
    got_design, n_runs, pilot, got_directory = plan_pilot(cfg, NK)
    assert n_runs == len(plan) == got_design.n_runs(cfg.sweep.replicates)
    assert describe_plan(cfg, got_design) == describe_plan(cfg, design)
    assert got_directory == directory
    positions = np.unique([0, n_runs // 2, n_runs - 1])
    assert pilot.equals(plan.batch(positions))
    every = sweeps.pilot(cfg, NK, got_design, np.arange(n_runs))
    assert every.equals(plan.batch())


def test_grid_points_by_index_are_the_grids_points_in_order() -> None:
    cfg = make_config("sweep=smoke", *SMALL["grid"])
    points = designs.build(cfg, NK).points
    assert isinstance(points, designs.GridPoints)
    listed = list(points)
    assert len(points) == len(listed) == 24
    assert [points[i] for i in range(-24, 24)] == listed + listed
    assert listed[1] == {
        "policy.permit_strictness": 0.0, "shock.harvest_sd": 0.1, "model.n_goods": 3
    }  # fmt: skip
    with pytest.raises(IndexError):
        points[24]


def test_the_dry_run_still_prints_the_same_numbers_for_a_small_sweep(tmp_path: Path) -> None:
    lines: list[str] = []
    estimate = dry_run(make_config("sweep=smoke", f"storage.root={tmp_path}"), lines.append)
    assert lines[0] == (
        "sweep smoke: 3 policy points x 1 shock/model points x 2 replicates = 6 runs (grid "
        "design); axes: policy.permit_strictness (3)"
    )
    assert lines[1].startswith("dry run: 6 runs x ") and "(timed here on 3 runs)" in lines[1]
    assert estimate["runs"] == 6 and not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            ("sweep.design=lhs", f"sweep.samples={designs.MAX_POINTS + 1}"),
            "has 100,001 design points (sweep.samples = 100,001 of a lhs design)",
        ),
        (("sweep.design=lhs", f"sweep.samples={MAX_RUNS}"), "sweep.samples = 10,000,000"),
    ],
)
def test_sampled_designs_over_the_limits_are_refused_before_sampling(
    overrides: tuple[str, ...], expected: str
) -> None:
    cfg = make_config(
        "~sweep.axes.policy",
        "+sweep.parameters.policy.crackdown={low: 0.0, high: 1.0}",
        "sweep.replicates=1",
        *overrides,
    )
    started = time.perf_counter()
    with pytest.raises(ConfigError) as refused:
        designs.build(cfg, NK)
    assert expected in str(refused.value) and time.perf_counter() - started < 1


def test_a_range_longer_than_a_sweep_can_hold_is_refused_before_it_is_built() -> None:
    """${linspace:0,1,1e8} would build its list (4 GB) while the config is composed."""
    from segmark.pipeline.config import MAX_POINTS, ConfigError, geomspace, linspace

    assert len(linspace(0, 1, MAX_POINTS)) == MAX_POINTS
    for fn in (linspace, geomspace):
        with pytest.raises(ConfigError, match=r"num must be an integer in \[1, 100,000\]"):
            fn(1, 2, 10**8)

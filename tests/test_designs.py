"""Every design's run table on a small space: sizes, bounds, kinds, determinism, refusals."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_config

from segmark.models.nk import MODEL as NK
from segmark.pipeline import sweep as sweeps
from segmark.pipeline.config import ConfigError

SAMPLED = (
    "~sweep.axes.policy",
    "sweep.replicates=2",
    "+sweep.parameters.policy.permit_strictness={low: 0.2, high: 0.6}",
    "+sweep.parameters.policy.trader_capital={low: 0.1, high: 10, log: true}",
    "+sweep.parameters.shock.harvest_sd={dist: truncnorm, a: -2, b: 2, loc: 0.3, scale: 0.05}",
    "+sweep.parameters.model.n_goods={low: 2, high: 4}",
    "+sweep.parameters.model.network={values: [grid, ring]}",
)


def run_table(*overrides: str):
    design, table = sweeps.plan(make_config(*overrides), NK)
    return design, table.rows()


def check_bounds(table) -> None:
    assert table["policy_permit_strictness"].between(0.2, 0.6).all()
    assert table["policy_trader_capital"].between(0.1, 10).all()
    assert table["shock_harvest_sd"].between(0.2, 0.4).all()  # truncated at 2 sd
    assert set(table["model_n_goods"]) <= {2, 3, 4}
    assert table["model_n_goods"].map(type).eq(int).all()
    assert set(table["model_network"]) <= {"grid", "ring"}


@pytest.mark.parametrize(
    ("design", "samples", "points"),
    [
        ("random", 16, 16),
        ("lhs", 16, 16),
        ("sobol", 16, 16),
        ("saltelli", 8, 8 * (2 * 5 + 2)),
        ("morris", 4, 4 * (5 + 1)),
    ],
)
def test_sampled_designs(design: str, samples: int, points: int) -> None:
    got, table = run_table(*SAMPLED, f"sweep.design={design}", f"sweep.samples={samples}")
    assert len(got.points) == points and len(table) == 2 * points
    assert got.paths == (
        "policy.permit_strictness",
        "policy.trader_capital",
        "shock.harvest_sd",
        "model.n_goods",
        "model.network",
    )
    check_bounds(table)
    assert table["point"].tolist() == sorted(list(range(points)) * 2)
    again = run_table(*SAMPLED, f"sweep.design={design}", f"sweep.samples={samples}")[1]
    assert table["run_id"].tolist() == again["run_id"].tolist()  # deterministic from root_seed
    other_seed = run_table(
        *SAMPLED, f"sweep.design={design}", f"sweep.samples={samples}", "sweep.root_seed=99"
    )[1]
    assert not np.array_equal(
        table["policy_permit_strictness"], other_seed["policy_permit_strictness"]
    )


def test_latin_hypercube_stratifies_each_parameter() -> None:
    _, table = run_table(*SAMPLED, "sweep.design=lhs", "sweep.samples=20", "sweep.replicates=1")
    strata = np.floor((table["policy_permit_strictness"] - 0.2) / 0.4 * 20).astype(int)
    assert sorted(strata) == list(range(20))


def test_factorial_combines_levers_and_uncertainties() -> None:
    design, table = run_table(
        *SAMPLED, "sweep.design=lhs", "sweep.samples=4", "sweep.combine=factorial"
    )
    assert (design.policy_points, design.other_points) == (4, 4)
    assert len(table) == 4 * 4 * 2
    assert table["policy_permit_strictness"].nunique() == 4
    assert table["shock_harvest_sd"].nunique() == 4
    assert design.describe(2) == (
        "4 policy points x 4 shock/model points x 2 replicates = 32 runs (lhs design)"
    )


def test_grid_counts_levers_and_uncertainties() -> None:
    design, table = run_table(
        "sweep.axes.policy.permit_strictness=[0.1,0.2,0.3]",
        "sweep.axes.shock.rail_outage_rate=[0.0,0.5]",
        "sweep.replicates=2",
    )
    assert design.describe(2) == (
        "3 policy points x 2 shock/model points x 2 replicates = 12 runs (grid design)"
    )
    assert len(table) == 12


def test_list_design() -> None:
    design, table = run_table(
        "~sweep.axes.policy",
        "sweep.design=list",
        "sweep.replicates=1",
        "sweep.points=[{policy: {permit_strictness: 0.1}, shock: {rail_outage_rate: 0.0}},"
        "{policy: {permit_strictness: 0.9}, shock: {rail_outage_rate: 0.3}}]",
    )
    assert design.paths == ("policy.permit_strictness", "shock.rail_outage_rate")
    assert table["policy_permit_strictness"].tolist() == [0.1, 0.9]
    assert table["shock_rail_outage_rate"].tolist() == [0.0, 0.3]


REFUSED = [
    (
        ("sweep.design=sobol", "sweep.samples=12"),
        "sweep.samples = 12: a sobol design needs a power of 2",
    ),
    (("sweep.design=saltelli", "sweep.samples=6"), "needs a power of 2 (e.g. 4 or 8)"),
    (("sweep.design=lhs", "sweep.samples=0"), "a lhs design needs sweep.samples"),
    (("sweep.design=latin",), "sweep.design = 'latin' is not known"),
    (("sweep.design=lhs", "sweep.samples=4", "sweep.combine=paired"), "sweep.combine = 'paired'"),
    (
        ("sweep.design=morris", "sweep.samples=4", "sweep.combine=factorial"),
        "factorial does not fit a morris design",
    ),
    (("sweep.design=lhs", "sweep.samples=10000000"), "would make 20,000,000 runs"),
]


@pytest.mark.parametrize(("overrides", "expected"), REFUSED)
def test_bad_designs_are_refused(overrides: tuple[str, ...], expected: str) -> None:
    with pytest.raises(ConfigError, match=None) as refused:
        run_table(*SAMPLED, *overrides)
    assert expected in str(refused.value)


BAD_PARAMETERS = [
    ("{low: 0.6, high: 0.2}", "low = 0.6 must be below high = 0.2"),
    ("{low: 0.0, high: 2.0}", "permit_strictness.high = 2.0 is out of range: allowed is [0, 1]"),
    ("{low: 0.0, high: 1.0, log: true}", "a log-uniform range needs low > 0"),
    ("{dist: nosuch}", "'nosuch' is not a continuous scipy.stats distribution"),
    ("{dist: norm, loc: 0.5, scale: 1.0}", "the design drew"),
    ("{dist: norm, shape: 3}", "bad arguments for norm"),
    ("{values: []}", "must list distinct values"),
    ("{values: [0.1, 3.0]}", "permit_strictness.values = 3.0 is out of range"),
    ("{mean: 1}", "has keys ['mean']"),
    ("0.5", "a sampled parameter is {low, high}"),
]


@pytest.mark.parametrize(("spec", "expected"), BAD_PARAMETERS)
def test_bad_parameter_specs_name_the_key(spec: str, expected: str) -> None:
    with pytest.raises(ConfigError) as refused:
        run_table(
            "~sweep.axes.policy",
            "sweep.design=random",
            "sweep.samples=64",
            f"+sweep.parameters.policy.permit_strictness={spec}",
        )
    assert "sweep.parameters.policy.permit_strictness" in str(refused.value)
    assert expected in str(refused.value)


def test_settings_a_design_does_not_use_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"sweep.axes is set but sweep.design = 'lhs'"):
        run_table("sweep.design=lhs", "sweep.samples=4")


def test_repeated_design_points_still_get_one_run_each() -> None:
    """Morris trajectories on a coarse grid revisit points; each visit is a run of its own."""
    design, table = run_table(
        "sweep=screening",
        "~sweep.parameters.shock",
        "~sweep.parameters.policy.crackdown",
        "sweep.samples=40",
    )
    assert len({tuple(sorted(p.items())) for p in design.points}) < len(design.points)
    assert table["run_id"].is_unique and len(table) == 240
    assert design.describe(2).startswith("120 points sampled jointly")


def test_the_first_declared_axis_varies_slowest_whatever_its_group() -> None:
    _, table = run_table(
        "~sweep.axes.policy",
        "sweep.axes.shock.rail_outage_rate=[0.1,0.2]",
        "sweep.axes.policy.permit_strictness=[0.0,0.5,1.0]",
        "sweep.replicates=1",
    )
    assert table["shock_rail_outage_rate"].tolist() == [0.1] * 3 + [0.2] * 3

"""Sweep expansion: the run table spelled out, and seeds that follow a run's identity."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pyarrow as pa
from conftest import make_config
from pandas.testing import assert_frame_equal

from segmark.models.nk import MODEL as NK
from segmark.pipeline import sweep as sweeps
from segmark.pipeline.store.schemas import ID_COLUMNS, schemas

SMALL = (
    "sweep.axes.policy.permit_strictness=[0.0,1.0]",
    "sweep.axes.shock.harvest_sd=[0.1]",
    "sweep.replicates=2",
    "sweep.root_seed=7",
)


def table(*overrides: str) -> pd.DataFrame:
    cfg = make_config(*overrides)
    return sweeps.plan(cfg, NK)[1].rows()


def test_small_sweep_run_table_literally() -> None:
    got = table(*SMALL)
    expected = pd.DataFrame(
        {
            "run_id": [
                "e10617436095db11",
                "f6937b4bfd447b42",
                "30e3b1becacaeae6",
                "967c334c9c3c7d75",
            ],
            "point": [0, 0, 1, 1],
            "replicate": [0, 1, 0, 1],
            "seed": [1693125408465869867, 2021251017632032385] * 2,
            "policy_permit_strictness": [0.0, 0.0, 1.0, 1.0],
            "shock_harvest_sd": [0.1, 0.1, 0.1, 0.1],
        }
    ).astype({"replicate": "int32"})
    assert_frame_equal(got[expected.columns], expected)
    # Unswept parameters carry the config's values on every row.
    assert (got["policy_crackdown"] == 0.0).all()  # the default sweep holds crackdowns off
    assert (got["model_n_regions"] == 200).all()
    assert (got["model_network"] == "nk").all()
    assert (got["shock_rail_outage_rate"] == 0.3).all()


def test_seeds_are_the_documented_seed_sequence() -> None:
    """Common random numbers: replicate r's seed is SeedSequence(root, spawn_key=(r,))."""
    for replicate, seed in enumerate(table(*SMALL)["seed"][:2]):
        state = np.random.SeedSequence(7, spawn_key=(replicate,)).generate_state(1, np.uint64)
        assert seed == int(state[0] >> np.uint64(1))


def test_independent_streams_per_point_on_request() -> None:
    got = table(*SMALL, "sweep.common_random_numbers=false")
    assert got["seed"].tolist() == [
        8953560606201678321,
        5442610634458073699,
        2825938046882774463,
        2095856520631385706,
    ]
    assert got["run_id"].tolist() != table(*SMALL)["run_id"].tolist()


def test_first_axis_varies_slowest() -> None:
    got = table(
        "sweep.axes.policy.permit_strictness=[0.0,0.5]",
        "sweep.axes.shock.rail_outage_rate=[0.1,0.2,0.3]",
        "sweep.replicates=1",
    )
    assert got["policy_permit_strictness"].tolist() == [0.0] * 3 + [0.5] * 3
    assert got["shock_rail_outage_rate"].tolist() == [0.1, 0.2, 0.3] * 2
    assert got["point"].tolist() == list(range(6))


def test_seeds_follow_run_identity_not_position() -> None:
    small = table(*SMALL).set_index("run_id")
    wider = table(
        "sweep.axes.policy.permit_strictness=[0.0,0.5,1.0]",
        "sweep.axes.shock.harvest_sd=[0.1]",
        "sweep.replicates=3",
        "sweep.root_seed=7",
    ).set_index("run_id")
    # Adding points and replicates leaves every existing run's id and seed unchanged.
    assert small.index.isin(wider.index).all()
    assert (wider.loc[small.index, "seed"] == small["seed"]).all()
    assert wider.index.is_unique
    assert wider.groupby("replicate")["seed"].nunique().eq(1).all()  # common random numbers


def test_root_seed_changes_every_seed() -> None:
    a = table(*SMALL)
    b = table(*SMALL[:-1], "sweep.root_seed=8")
    assert set(a["seed"]).isdisjoint(b["seed"])


def test_no_axes_is_one_point() -> None:
    got = table("~sweep.axes.policy", "sweep.replicates=3")
    assert len(got) == 3 and got["point"].eq(0).all()


def test_a_shipment_makes_the_rows_of_its_runs_and_ships_each_point_once() -> None:
    grid = sweeps.plan(make_config(*SMALL, "sweep.replicates=300"), NK)[1]
    index = np.arange(150, 450)  # point 0's last 150 runs, point 1's first 150
    shipment = grid.shipment(index)
    assert len(shipment.points) == 2 and len(shipment) == 300
    assert shipment.table(schemas(NK).point).equals(grid.batch(index))
    runs, rows = list(shipment.runs()), grid.batch(index).to_pylist()
    assert [seed for _, seed in runs] == [row["seed"] for row in rows]
    params = [{k: v for k, v in row.items() if k not in ID_COLUMNS} for row in rows]
    assert [point for point, _ in runs] == params
    assert [list(map(type, p.values())) for p, _ in runs] == [
        list(map(type, p.values())) for p in params
    ]
    assert len(pickle.dumps(shipment)) < len(pickle.dumps(grid.batch(index))) / 5
    everything = grid.shipment(slice(None))
    assert everything.table(schemas(NK).point).equals(grid.batch())
    sampled = sweeps.plan(make_config("sweep=screening", "sweep.replicates=1"), NK)[1]
    picked = np.array([7, 3, 3, 0])  # any order, a run twice
    assert sampled.shipment(picked).table(schemas(NK).point).equals(sampled.batch(picked))
    rows = sampled.batch(picked).to_pylist()
    assert [(p, seed) for p, seed in sampled.shipment(picked).runs()] == [
        ({k: v for k, v in row.items() if k not in ID_COLUMNS}, row["seed"]) for row in rows
    ]
    assert len(sampled.shipment(picked).points) == 3
    for table in (grid, sampled):  # the Arrow points are the DataFrame's, value for value
        pandas = pa.Table.from_pandas(table.points, schema=schemas(NK).point, preserve_index=False)
        assert table.points_arrow.equals(pandas)


def test_run_ids_of_the_table_are_run_id_of_each_run() -> None:
    digests = [bytes(range(16)), bytes(range(16)), bytes(range(1, 17))]
    repeats = [0, 1, 0]  # a point the design holds twice
    seed = np.array([11, 12, 11, 12, 11, 12], dtype=np.int64)
    got = sweeps._run_ids(digests, repeats, 2, seed, NK.tag).tolist()
    expected = [
        sweeps.run_id(digests[p], r, int(seed[2 * p + r]), NK.tag, repeats[p]).encode()
        for p in range(3)
        for r in range(2)
    ]
    assert got == expected and len(set(got)) == 6


def test_equal_points_written_differently_get_equal_run_ids() -> None:
    """-0.0 and 0.0, an integer for a float, a float in other spelling: the same simulation,
    so the same run id and seed (a resume must find it, never store it twice)."""
    written = [
        (
            "sweep.axes.policy.permit_strictness=[0.0,1.0]",
            "shock.harvest_sd=0.1",
            "model.n_goods=6",
        ),
        (
            "sweep.axes.policy.permit_strictness=[-0.0,1]",
            "shock.harvest_sd=1e-1",
            "model.n_goods=6.0",
        ),
        (
            "sweep.axes.policy.permit_strictness=[0,1.000]",
            "shock.harvest_sd=0.10",
            "model.n_goods=6",
        ),
    ]
    tables = [table(*spelling, "sweep.replicates=2", "sweep.common_random_numbers=false")
              for spelling in written]  # fmt: skip
    for other in tables[1:]:
        assert other.run_id.tolist() == tables[0].run_id.tolist()
        assert other.seed.tolist() == tables[0].seed.tolist()
    assert not np.signbit(tables[1].policy_permit_strictness).any()

"""The model interface: declarations checked, models found by entry point, and the engine
sweeping models other than nk: the lake problem, a plain function, and a throwaway package a
user installs, each dataset equal to direct calls of the model's own function."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SEGMARK, make_config

from segmark.models import Model, Outcome, Parameter, registry
from segmark.models.interface import ParameterError, from_description
from segmark.models.lake import MODEL as LAKE
from segmark.models.lake import critical_level
from segmark.pipeline.analysis.report import write_report
from segmark.pipeline.driver import run_sweep
from segmark.pipeline.store import read_summary

REPORT = str(Path(sys.executable).with_name("segmark-report"))


def test_the_installed_models_are_found_by_name() -> None:
    assert {"nk", "lake", "grazing"} <= set(registry.names())
    assert registry.get("lake") is LAKE and LAKE.tag == "lake-1"
    with pytest.raises(registry.UnknownModel, match="model='nope' is not an installed model"):
        registry.get("nope")


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda: Parameter("Bad", "policy", 1.0, "x", low=0, high=2), "snake_case"),
        (lambda: Parameter("x", "levers", 1.0, "x", low=0, high=2), "group 'levers'"),
        (lambda: Parameter("x", "policy", 1.0, "x"), "needs low and high"),
        (lambda: Parameter("x", "policy", "a", "x"), "needs its choices"),
        (lambda: Parameter("x", "policy", 3.0, "x", low=0, high=2), "out of range"),
    ],
)
def test_a_bad_parameter_declaration_is_refused(make, problem: str) -> None:
    with pytest.raises((ValueError, ParameterError), match=problem):
        make()


def test_a_bad_model_declaration_is_refused() -> None:
    x = Parameter("x", "policy", 0.5, "a lever", low=0.0, high=1.0)
    y = Outcome("y", "an outcome")
    with pytest.raises(ValueError, match="unique"):
        Model("m", "1", (x, x), (y,))
    with pytest.raises(ValueError, match="clashes"):
        Model("m", "1", (x,), (Outcome("status", "taken by the engine"),))
    with pytest.raises(ValueError, match="not a bool outcome"):
        Model("m", "1", (x,), (y,), state="y")
    model = Model("m", "1", (x,), (y, Outcome("z", "a flag", dtype=bool)), state="z", order="y")
    again = from_description(model.describe())
    assert again.describe() == model.describe() and again.simulate is None


def test_the_lake_follows_its_published_equations() -> None:
    """P_crit of the standard lake (b = 0.42, q = 2) is 0.5445 (Carpenter et al. 1999), and a
    run equals the equations written out here with NumPy on the same inflows."""
    assert critical_level(0.42, 2.0) == pytest.approx(
        (1 - math.sqrt(1 - 4 * 0.42**2)) / (2 * 0.42), rel=1e-9
    )
    params = {p.name: p.default for p in LAKE.parameters}
    params.update({f"release_{t:02d}": 0.03 * (t % 3 == 0) for t in range(100)}, samples=7, b=0.3)
    result = LAKE.simulate(params, 5)
    releases = np.array([params[f"release_{t:02d}"] for t in range(100)])
    sigma = math.sqrt(math.log(1 + params["stdev"] ** 2 / params["mean"] ** 2))
    inflows = np.random.default_rng(5).lognormal(
        math.log(params["mean"] ** 2 / math.sqrt(params["stdev"] ** 2 + params["mean"] ** 2)),
        sigma,
        (7, 100),
    )
    x = np.zeros((7, 100))
    for t in range(1, 100):
        last = x[:, t - 1]
        x[:, t] = 0.7 * last + last**2 / (1 + last**2) + releases[t - 1] + inflows[:, t - 1]
    p_crit = critical_level(0.3, 2.0)
    expected = {
        "max_p": x.mean(0).max(),
        "utility": (0.4 * releases * 0.98 ** np.arange(100)).sum(),
        "inertia": (np.abs(np.diff(releases)) < 0.02).mean(),
        "reliability": (x < p_crit).mean(),
    }
    for name, value in expected.items():
        assert result.outcomes[name] == pytest.approx(value, rel=1e-10), name
    assert result.outcomes["tipped"] == (expected["max_p"] > p_crit)
    assert np.allclose(result.series[:, 1], x.mean(0)) and result.series.shape == (100, 3)


@pytest.fixture(scope="module")
def lake_dataset(tmp_path_factory: pytest.TempPathFactory, client) -> Path:
    """The lake's tipping sweep, shrunk: 6 values of b x 3 replicates, 20 realisations."""
    cfg = make_config(
        "model=lake",
        "sweep=tipping",
        "sweep.axes.shock.b=${linspace:0.15,0.4,6}",
        "sweep.replicates=3",
        "model.samples=20",
        f"storage.root={tmp_path_factory.mktemp('lake')}",
        "storage.dataset=lake",
        "progress=false",
    )
    return run_sweep(cfg, client=client, echo=lambda _: None).directory


def direct(model: Model, summary: pd.DataFrame) -> pd.DataFrame:
    """Each stored run called directly: the model's function with the row's parameters."""
    rows = []
    for row in summary.to_dict("records"):
        params = {p.name: row[p.column] for p in model.parameters}
        result = model.simulate(params, int(row["seed"]))
        outcomes = getattr(result, "outcomes", result)
        rows.append({o.name: outcomes[o.name] for o in model.outcomes})
    return pd.DataFrame(rows)


def test_the_lake_swept_by_the_engine_equals_direct_calls(lake_dataset: Path) -> None:
    summary = read_summary(lake_dataset).to_pandas().sort_values("run_id", ignore_index=True)
    assert len(summary) == 18 and (summary["status"] == "ok").all()
    assert summary["model_samples"].eq(20).all() and summary["shock_b"].nunique() == 6
    names = [o.name for o in LAKE.outcomes]
    pd.testing.assert_frame_equal(summary[names], direct(LAKE, summary), check_dtype=False)
    series = pd.read_parquet(lake_dataset / "timeseries")
    assert set(series.columns) == {"run_id", "step", "phosphorus", "release"}
    assert len(series) == 18 * 100


def test_the_report_on_a_lake_sweep(lake_dataset: Path) -> None:
    report = write_report(lake_dataset, n_boot=200)
    text = report.read_text()
    assert "model `lake-1`" in text and "## Tipping thresholds" in text
    assert "P(tipped) is falling" in text  # more decay, less tipping
    assert "tipping_shock_b.png" in text and report.with_name("tipping_shock_b.png").exists()
    done = subprocess.run([REPORT, str(lake_dataset)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_plain_function_model_by_the_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            SEGMARK,
            "model=grazing",
            "sweep.axes.policy.grazing=[1.0,3.5]",
            "sweep.replicates=3",
            f"storage.root={tmp_path}",
            "storage.dataset=grazing",
            "cluster.dashboard_address=127.0.0.1:0",
            "progress=false",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "P(collapsed) goes from 0% to 100%" in done.stdout
    summary = read_summary(tmp_path / "grazing").to_pandas()
    model = registry.get("grazing")
    assert summary["collapsed"].tolist() == direct(model, summary)["collapsed"].tolist()
    assert summary["biomass"].tolist() == direct(model, summary)["biomass"].tolist()


GUIDE = Path(__file__).parents[1] / "docs" / "MODELS.md"


def guide_block(language: str) -> str:
    """The first ``language`` code block of docs/MODELS.md."""
    return re.search(rf"```{language}\n(.*?)```", GUIDE.read_text(), re.S)[1]


def install_guide_package(site: Path) -> None:
    """The package ``towns`` exactly as docs/MODELS.md writes it (module, entry point, sweep),
    with its distribution's metadata as pip installs it, into ``site`` (put on the path with
    PYTHONPATH)."""
    package = site / "towns"
    (package / "conf" / "sweep").mkdir(parents=True)
    (package / "__init__.py").write_text(guide_block("python"))
    (package / "conf" / "__init__.py").write_text("")
    (package / "conf" / "sweep" / "trip_cost.yaml").write_text(guide_block("yaml"))
    points = tomllib.loads(guide_block("toml"))["project"]["entry-points"]["segmark.models"]
    info = site / "towns-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: towns\nVersion: 0.1\n")
    lines = [f"{name} = {target}" for name, target in points.items()]
    (info / "entry_points.txt").write_text("\n".join(["[segmark.models]", *lines, ""]))


def test_the_guide_model_installed_by_another_package_is_swept_without_editing_segmark(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    install_guide_package(site)
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [
            SEGMARK,
            "model=towns",
            "sweep=trip_cost",
            f"storage.root={tmp_path}/runs",
            "storage.dataset=towns",
            "cluster.dashboard_address=127.0.0.1:0",
            "progress=false",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # the guide shows this output
    for line in (
        "11 policy points x 1 shock/model points x 20 replicates = 220 runs",
        "P(linked) goes from 100% to 0%; it crosses 50% near policy.trip_cost = 0.28",
    ):
        assert line in done.stdout and line in GUIDE.read_text()
    summary = read_summary(tmp_path / "runs" / "towns").to_pandas()
    assert len(summary) == 220 and summary["policy_trip_cost"].nunique() == 11
    # the stored numbers are the package's own function called directly
    check = (
        "import pandas as pd\n"
        "from segmark.models import registry\n"
        "model = registry.get('towns')\n"
        f"summary = pd.read_parquet({str(tmp_path / 'runs' / 'towns' / 'summary')!r})\n"
        "rows = summary.to_dict('records')\n"
        "got = [model.simulate({'trip_cost': r['policy_trip_cost'], 'harvest_sd':"
        " r['shock_harvest_sd'], 'weeks': r['model_weeks']}, int(r['seed'])) for r in rows]\n"
        "assert [g['price_gap'] for g in got] == summary['price_gap'].tolist()\n"
        "assert [g['linked'] for g in got] == summary['linked'].tolist()\n"
        "print('same', len(got))\n"
    )
    same = subprocess.run(
        [sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=60
    )
    assert same.returncode == 0 and same.stdout.strip() == "same 220", same.stderr
    refused = subprocess.run(
        [SEGMARK, "model=towns", "policy.trip_cost=3"], capture_output=True, text=True, env=env
    )
    assert refused.returncode == 2
    assert "policy.trip_cost = 3.0 is out of range: allowed is [0, 2]" in refused.stderr

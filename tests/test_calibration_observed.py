"""``calibration.observed_file``: a model's statistics observed elsewhere (another survey, a
later period) fitted with the model's own estimator, and a bad file refused naming the key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from segmark.models.gauss import MODEL as GAUSS
from segmark.models.nk import MODEL as NK
from segmark.pipeline.calibration.spec import CalibrationSpec, check, identity
from segmark.pipeline.config import ConfigError

CALIBRATE = str(Path(sys.executable).with_name("segmark-calibrate"))
DATA = next(t for t in NK.targets if t.name == "survey_and_facts")
PRIORS = {"model.turnover": {"dist": "uniform", "low": 0.15, "high": 0.9}}


def write(path: Path, rows: list[str], header: str = "statistic,estimate,lower,upper") -> str:
    path.write_text("\n".join([header, *rows]) + "\n")
    return str(path)


def every_statistic(shift: float = 0.0, fields: int = 4) -> list[str]:
    """A row per statistic: estimate 0.1 i (+ shift), lower 0.05 below, upper left empty."""
    rows = [[name, f"{0.1 * i + shift}", f"{0.1 * i + shift - 0.05}", ""]
            for i, name in enumerate(DATA.statistics)]  # fmt: skip
    return [",".join(row[:fields]) for row in rows]


def spec(path: str, **changes) -> CalibrationSpec:
    return CalibrationSpec(name="x", data=DATA.name, priors=PRIORS, observed_file=path, **changes)


def test_the_files_values_and_intervals_are_fitted_not_the_packaged_data(tmp_path: Path) -> None:
    """Its estimates are the observed values, its half-widths the scale floors (an upper bound
    left empty: the lower one alone); the identity holds the values, not the file's path."""
    checked = check(spec(write(tmp_path / "a.csv", every_statistic())), NK)
    assert checked.statistics == DATA.statistics
    np.testing.assert_allclose(checked.observed, 0.1 * np.arange(len(DATA.statistics)))
    np.testing.assert_allclose(checked.settings.scale_floors, 0.05 / 1.6448536, rtol=1e-6)
    same = check(spec(write(tmp_path / "b.csv", every_statistic())), NK)
    other = check(spec(write(tmp_path / "c.csv", every_statistic(shift=0.01))), NK)
    ident = [json.dumps(identity(spec(""), c, NK, 0)) for c in (checked, same, other)]
    assert ident[0] == ident[1] != ident[2]


def test_some_statistics_need_only_their_rows(tmp_path: Path) -> None:
    picked = list(DATA.statistics[:2])
    path = write(tmp_path / "two.csv", every_statistic(fields=2)[:2], header="statistic,estimate")
    checked = check(spec(path, statistics=picked), NK)
    assert checked.statistics == tuple(picked) and checked.settings.scale_floors == (0.0, 0.0)


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        (None, None, "cannot read it as CSV (FileNotFoundError"),
        ("statistic,value", ["hub_cv,0.1"], "no column estimate; it needs statistic, estimate"),
        ("statistic,estimate", ["nope,0.1"], "unknown statistic(s) nope; survey_and_facts has"),
        ("statistic,estimate", [*every_statistic(fields=2), every_statistic(fields=2)[0]],
         "repeated statistic(s) hub_cv"),
        ("statistic,estimate,lower,upper", every_statistic()[1:], "no row for statistic"),
        ("statistic,estimate", [f"{DATA.statistics[0]},nan", *every_statistic(fields=2)[1:]],
         "has estimate nan; give a finite number"),
        ("statistic,estimate,lower",
         [f"{DATA.statistics[0]},0.1,low", *every_statistic(fields=3)[1:]],
         "'s lower = 'low': give a number"),
        ("", [], "cannot read it as CSV (EmptyDataError"),
    ],
)  # fmt: skip
def test_a_bad_file_is_refused_naming_the_key(tmp_path: Path, header, rows, message) -> None:
    path = str(tmp_path / "missing.csv") if header is None else write(
        tmp_path / "o.csv", rows, header)  # fmt: skip
    if header == "":
        Path(path).write_text("")
    with pytest.raises(ConfigError, match=r"calibration\.observed_file = ") as refused:
        check(spec(path), NK)
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_a_file_too_large_to_be_statistics_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_bytes(b"statistic,estimate\n" + b"x" * (2 << 20))
    with pytest.raises(ConfigError, match="larger than 1 MB"):
        check(spec(str(path)), NK)


def test_a_file_needs_the_models_data_for_its_estimator(tmp_path: Path) -> None:
    prior = {"shock.mu_1": {"dist": "norm", "loc": 0, "scale": 1}}
    toy = CalibrationSpec(name="toy", priors=prior, targets={"mean_1": 0.4},
                          observed_file=str(tmp_path / "x.csv"))  # fmt: skip
    with pytest.raises(ConfigError, match=r"observed_file needs calibration\.data"):
        check(toy, GAUSS)


def test_the_command_refuses_a_bad_file_before_any_run(tmp_path: Path) -> None:
    path = write(tmp_path / "o.csv", ["hub_cv,0.1"], header="statistic,value")
    done = subprocess.run(
        [CALIBRATE, "calibration=nk_2013_2019", f"calibration.observed_file={path}",
         f"storage.root={tmp_path / 'out'}"],
        cwd=tmp_path, env=dict(os.environ), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    assert "calibration.observed_file = " in done.stderr and "no column estimate" in done.stderr
    assert not (tmp_path / "out").exists()

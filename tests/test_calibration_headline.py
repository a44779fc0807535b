"""The headline under parameter uncertainty (``calibration.headline``): the tipping threshold
along an axis at posterior draws, through the engine, with the scenarios, the report section
and bad settings refused before any run."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import QUIET, make_config
from scipy import stats

from segmark.models import registry
from segmark.pipeline.calibration import CalibrationSpec, headline, report, run
from segmark.pipeline.config import ConfigError, HeadlineConfig
from segmark.pipeline.store import read_summary

GRAZING = registry.get("grazing")
GROWTH = {"model.growth": {"dist": "uniform", "low": 0.5, "high": 2.0}}
AXIS = HeadlineConfig(axis="policy.grazing", values=np.linspace(1.0, 4.0, 13).tolist(),
                      draws=20, replicates=4)  # fmt: skip


def spec(**changes) -> CalibrationSpec:
    settings = dict(name="g", priors=GROWTH, targets={"biomass": 7.0}, particles=100,
                    populations=2, headline=AXIS)  # fmt: skip
    return CalibrationSpec(**{**settings, **changes})


def test_each_draw_gets_its_own_threshold_and_a_rerun_runs_nothing(tmp_path, client):
    """May's grazed vegetation collapses at a grazing rate that grows with the growth rate r:
    the draws' thresholds must rise with their r (the runs are matched to their draws), the
    interval must hold the thresholds of most draws, and the same calibration run again finds
    every headline run stored."""
    base = make_config("model=grazing", f"storage.root={tmp_path}", "sweep.root_seed=3")
    directory, pops = run(base, spec(), GRAZING, client, **QUIET)
    meta, about = headline.read(directory)
    summary = read_summary(directory / headline.DATASET).to_pandas()
    unique = meta["draw"].nunique()
    assert len(summary) == unique * len(AXIS.values) * AXIS.replicates
    assert about["spec"]["axis"] == "policy.grazing" and meta["weight"].groupby(
        meta["draw"]).first().sum() == pytest.approx(1.0)  # fmt: skip
    th = headline.draw_thresholds(meta, summary, GRAZING)
    growth = pops[-1].points[meta.groupby("draw")["particle"].first().to_numpy(), 0]
    finite = np.isfinite(th["threshold"].to_numpy())
    assert finite.mean() > 0.8
    rho = stats.spearmanr(growth[finite], th["threshold"][finite]).statistic
    assert rho > 0.8, rho
    mid, low, high = headline.interval(th["threshold"].to_numpy(), th["weight"].to_numpy())
    assert 1.0 < low < mid < high < 4.0
    assert (th["baseline"] == 1.0).all()  # grazing is not calibrated: its default

    (directory / headline.FILE).unlink()
    lines: list[str] = []
    run(base, spec(), GRAZING, client, echo=lines.append)
    assert len(read_summary(directory / headline.DATASET)) == len(summary)
    assert headline.read(directory)[0].equals(meta)

    text = report.write(directory, GRAZING).read_text()
    assert "## The headline under parameter uncertainty" in text
    assert f"crosses 50% at {mid:.3g}" in text
    assert (directory / "report" / "headline.png").stat().st_size > 5_000


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"axis": "policy.nope"}, "calibration.headline.axis = 'policy.nope'"),
        ({"values": [1.0, 2.0]}, "calibration.headline.values: give at least 3"),
        ({"values": [1.0, 3.0, 2.0]}, "calibration.headline.values: give at least 3 increasing"),
        ({"fixed": {"policy.grazing": 1.0}}, "calibration.headline.fixed sets policy.grazing"),
        ({"fixed": {"model.nope": 1.0}}, "model.nope"),
        ({"fixed": {"model.growth": -1.0}}, "model.growth"),
        ({"draws": 1}, "calibration.headline.draws = 1"),
        ({"replicates": 0}, "calibration.headline.replicates = 0"),
        ({"scenarios": ["famine_1995"]}, "calibration.headline.scenarios: model grazing has no"),
    ],
)
def test_bad_headline_settings_are_refused_before_any_run(tmp_path, change, message):
    base = make_config("model=grazing", f"storage.root={tmp_path}")
    bad = spec(headline=HeadlineConfig(**{**AXIS.__dict__, **change}))
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("(", r"\(")):
        run(base, bad, GRAZING, **QUIET)
    assert not any(tmp_path.iterdir())


def test_a_model_without_a_state_has_no_threshold(tmp_path):
    gauss = registry.get("gauss")
    base = make_config("model=gauss", f"storage.root={tmp_path}")
    bad = CalibrationSpec(priors={"shock.mu_1": {"dist": "norm", "loc": 0, "scale": 1}},
                          targets={"mean_1": 0.0}, headline=AXIS)  # fmt: skip
    with pytest.raises(ConfigError, match=r"calibration\.headline: model gauss declares no state"):
        run(base, bad, gauss, **QUIET)


def test_nk_tells_permit_strictness_in_dollars_a_trip():
    """Strictness 1 is the permit bribe (US$20, RFA 2011) plus the checkpoint fine (15,000 won
    at the survey's 8,162 won a dollar) on a trip across one province line."""
    nk = registry.get("nk")
    params = {p.name: p.default for p in nk.parameters}
    usd, unit = nk.real_units["policy.permit_strictness"](params)
    assert usd == pytest.approx(20 + 15000 / 8162) and unit.startswith("USD")

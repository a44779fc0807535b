"""PRIM, CART boxes and feature scores (pipeline/analysis/prim.py, scoring.py) on data with a
known answer, against EMA Workbench's PRIM where it is installed, and on bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from segmark.pipeline.analysis.prim import Box, describe_box, prim
from segmark.pipeline.analysis.scoring import cart_boxes, feature_scores, is_numeric

TOL = 0.05  # how far a recovered limit may be from the true one (in x's units, on [0, 1])


def uniform(seed: int, n: int = 2000, d: int = 3) -> tuple[pd.DataFrame, np.random.Generator]:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.uniform(size=(n, d)), columns=[f"x{i + 1}" for i in range(d)]), rng


def one_box(seed: int = 0, noise: float = 0.0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """y = x1 > 0.6 and x2 < 0.3, each label flipped with chance ``noise``; also the truth."""
    x, rng = uniform(seed)
    truth = ((x.x1 > 0.6) & (x.x2 < 0.3)).to_numpy()
    return x, truth ^ (rng.uniform(size=len(x)) < noise), truth


def two_boxes(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A = x1 > 0.5 and x2 < 0.5 (a quarter of the runs), B = x1 < 0.15 and x2 > 0.6 (6%)."""
    x, _ = uniform(seed)
    return x, (((x.x1 > 0.5) & (x.x2 < 0.5)) | ((x.x1 < 0.15) & (x.x2 > 0.6))).to_numpy()


def with_regime(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """y = regime is "b" and x1 > 0.5; x2 irrelevant."""
    x, rng = uniform(seed, d=2)
    x["regime"] = rng.choice(["a", "b", "c", "d"], len(x))
    return x, ((x.regime == "b") & (x.x1 > 0.5)).to_numpy()


def test_recovers_a_known_box():
    x, y, _ = one_box()
    box = prim(x, y).box
    assert list(box.limits) == ["x1", "x2"] and not box.categories  # x3 left free
    (x1_low, x1_high), (x2_low, x2_high) = box.limits["x1"], box.limits["x2"]
    assert x1_high is None and x2_low is None  # one-sided, on the right sides
    assert abs(x1_low - 0.6) < TOL and abs(x2_high - 0.3) < TOL
    assert box.coverage > 0.99 and box.density > 0.9
    assert box.mass == pytest.approx(box.inside.mean())
    assert box.density == pytest.approx(y[box.inside].mean())
    assert box.coverage == pytest.approx(y[box.inside].sum() / y.sum())
    assert max(box.quasi_p.values()) < 1e-20


def test_recovers_a_known_box_through_label_noise():
    x, y, truth = one_box(noise=0.05)
    box = prim(x, y, threshold=0.9).box
    assert "x3" not in box.limits
    assert abs(box.limits["x1"][0] - 0.6) < TOL and abs(box.limits["x2"][1] - 0.3) < TOL
    # against the noise-free box: most of it, and little else
    assert (box.inside & truth).sum() / truth.sum() > 0.9
    assert (box.inside & truth).sum() / box.inside.sum() > 0.9
    assert box.density >= 0.9


def test_quasi_p_is_the_one_sided_binomial_test_without_that_limit():
    x, y, _ = one_box(noise=0.05)
    box = prim(x, y, threshold=0.9).box
    low = box.limits["x1"][0]
    relaxed = (x.x2 <= box.limits["x2"][1]).to_numpy()  # the box, x1's limit removed
    expect = binomtest(box.k, box.n, y[relaxed].mean(), alternative="greater").pvalue
    assert box.quasi_p_sides["x1"] == (pytest.approx(expect, rel=1e-9), None)
    assert box.inside.sum() == ((x.x1 >= low) & relaxed).sum()


def test_an_irrelevant_restriction_has_a_large_quasi_p():
    # y depends on x1 alone; peeling to a small mass_min restricts x2 and x3 on noise only
    x, rng = uniform(3)
    y = (x.x1 > 0.5).to_numpy() ^ (rng.uniform(size=len(x)) < 0.2)
    box = prim(x, y, index=-1, mass_min=0.02).box
    assert "x1" in box.limits
    noise_dims = [d for d in box.quasi_p if d != "x1"]
    assert noise_dims, "the test needs a restriction on noise"
    assert box.quasi_p["x1"] < 1e-6
    assert min(box.quasi_p[d] for d in noise_dims) > 1e3 * box.quasi_p["x1"]


def test_trajectory_and_selection():
    x, y, _ = one_box(noise=0.05)
    result = prim(x, y, threshold=0.9)
    traj, search = result.trajectory, result.searches[0]
    assert list(traj.columns) == [
        "coverage", "density", "mass", "n", "k", "res_dim", "restricted",
    ]  # fmt: skip
    assert traj.iloc[0][["coverage", "mass", "res_dim"]].tolist() == [1, 1, 0]
    assert (np.diff(traj["mass"]) < 0).all() and traj["mass"].iloc[-1] >= 0.05
    assert traj["density"].iloc[-1] > traj["density"].iloc[0]
    # the chosen step: the most coverage at density >= 0.9
    ok = traj[traj.density >= 0.9]
    assert traj.coverage[search.chosen] == ok.coverage.max()
    assert search.steps[3].limits and len(search.steps) == len(traj)
    # by index: step 5 unpasted is that step; pasting only grows it, denser
    assert prim(x, y, index=5).searches[0].chosen == 5
    step5 = search.select(5, paste=False)
    assert (step5.n, step5.k) == (traj.n[5], traj.k[5])
    pasted = search.select(5)
    assert pasted.n >= step5.n and pasted.density >= step5.density
    assert prim(x, y, index=-1).searches[0].chosen == len(traj) - 1


def test_a_categorical_parameter_keeps_its_relevant_category():
    x, y = with_regime()
    box = prim(x, y).box
    assert box.categories == {"regime": frozenset({"b"})}
    assert list(box.limits) == ["x1"] and abs(box.limits["x1"][0] - 0.5) < TOL
    assert box.quasi_p_sides["regime"][0] < 1e-20
    assert "regime is b" in describe_box(box)


def test_covering_finds_a_second_disjoint_box():
    x, y = two_boxes()
    result = prim(x, y, n_boxes=3)
    assert len(result.boxes) == 2
    assert result.notes == ["covering stopped after box 2: no case of interest left"]
    first, second = result.boxes
    assert not (first.inside & second.inside).any()
    assert abs(first.limits["x1"][0] - 0.5) < TOL and abs(first.limits["x2"][1] - 0.5) < TOL
    assert abs(second.limits["x1"][1] - 0.15) < TOL and abs(second.limits["x2"][0] - 0.6) < TOL
    # coverage and mass are shares of all runs: the two boxes together hold every case
    assert first.coverage + second.coverage == pytest.approx(1, abs=0.02)
    assert second.mass == pytest.approx(second.inside.mean())
    assert "x3" not in {*first.limits, *second.limits}


def test_no_second_box_reaching_the_threshold_stops_covering():
    x, y, _ = one_box(noise=0.05)  # what the box leaves is noise: no dense region
    result = prim(x, y, n_boxes=2, threshold=0.9)
    assert len(result.boxes) == 1
    assert result.notes == ["box 2: no step reaches density 0.9; covering stopped"]


# ---- against EMA Workbench ----------------------------------------------------------------


def _ema():
    with warnings.catch_warnings():  # it warns on import (no altair) and on pandas idioms
        warnings.simplefilter("ignore")
        return pytest.importorskip(
            "ema_workbench.analysis.prim",
            reason="ema_workbench not installed (pip install -e '.[bench]')",
        )


def _ema_boxes(x: pd.DataFrame, y: np.ndarray, n: int, paste: bool = True) -> list:
    ep = _ema()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = ep.Prim(x, y.astype(int), threshold=0.8)
        if not paste:  # EMA 2.5.3 cannot paste int columns under pandas 3 (writes 5.5 into int64)
            p._paste = lambda box: box
        return [p.find_box() for _ in range(n)]


def _limits(box: Box, x: pd.DataFrame) -> dict:
    """Our box as EMA writes its limits: every column, open sides at the data's extremes."""
    out = {}
    for c in x.columns:
        if c in box.categories:
            out[c] = set(box.categories[c])
        elif c in box.limits:
            low, high = box.limits[c]
            out[c] = (x[c].min() if low is None else low, x[c].max() if high is None else high)
        else:
            out[c] = (x[c].min(), x[c].max()) if is_numeric(x[c]) else set(x[c])
    return out


def _assert_same(mine: Box, x: pd.DataFrame, limits: pd.DataFrame, stats: dict, qp=None):
    """Our box is EMA's: limits, coverage, density, mass (and quasi-p-values, given EMA's)."""
    for c, ours in _limits(mine, x).items():
        if isinstance(ours, set):
            assert ours == set(limits.loc[0, c]), c
        else:
            assert ours == pytest.approx(tuple(limits[c]), abs=1e-9), c
    for key in ["coverage", "density", "mass"]:
        assert getattr(mine, key) == pytest.approx(stats[key], abs=1e-9), key
    for c, sides in (mine.quasi_p_sides if qp is not None else {}).items():
        for side, their in zip(sides, qp[c], strict=True):  # EMA: -1 for an open side
            assert their == -1 if side is None else side == pytest.approx(their, rel=1e-6), c


def _with_int(seed: int = 0):
    x, rng = uniform(seed)
    x["k"] = rng.integers(0, 10, len(x))
    return x, ((x.x1 > 0.5) & (x.k >= 6)).to_numpy() ^ (rng.uniform(size=len(x)) < 0.03)


@pytest.mark.parametrize(
    "data, paste",
    [
        (lambda: one_box(seed=3, noise=0.05)[:2], True),  # EMA pastes 3 steps here
        (with_regime, True),
        (_with_int, False),
    ],
    ids=["noise", "categorical", "integer"],
)
def test_agrees_with_ema_workbench(data, paste):
    x, y = data()
    (theirs,) = _ema_boxes(x, y, 1, paste)
    search = prim(x, y, index=-1).searches[0]  # EMA pastes the last peel; we do too, here
    traj = theirs.peeling_trajectory
    ours = search.trajectory
    # every peeling step: same statistics, same limits
    assert len(traj) >= len(ours)
    for key in ["coverage", "density", "mass", "n", "k", "res_dim"]:
        np.testing.assert_allclose(ours[key], traj[key].iloc[: len(ours)].astype(float), atol=1e-9)
    for i, step in enumerate(search.steps):
        _assert_same(step, x, theirs.box_lims[i], traj.iloc[i].to_dict())
    # the pasted box and its quasi-p-values
    mine = search.select(len(ours) - 1, paste=paste)
    _assert_same(mine, x, theirs.box_lims[-1], traj.iloc[-1].to_dict(), theirs.qp[-1])


def test_covering_agrees_with_ema_workbench():
    x, y = two_boxes(seed=1)
    boxes = _ema_boxes(x, y, 2)
    ours = prim(x, y, n_boxes=2, index=[-1, -1]).boxes
    for mine, theirs in zip(ours, boxes, strict=True):
        stats = {k: getattr(theirs, k) for k in ["coverage", "density", "mass"]}
        _assert_same(mine, x, theirs.box_lim, stats, theirs.qp[-1])


# ---- CART and feature scores --------------------------------------------------------------


def _sklearn():
    pytest.importorskip("sklearn", reason="scikit-learn not installed (the test extra has it)")


def test_cart_boxes_recover_the_box():
    _sklearn()
    x, y, _ = one_box()
    boxes = cart_boxes(x, y, min_samples_leaf=20)
    top = boxes[0]
    assert top.density == 1 and top.coverage > 0.9
    assert set(top.limits) == {"x1", "x2"}
    assert abs(top.limits["x1"][0] - 0.6) < TOL and abs(top.limits["x2"][1] - 0.3) < TOL
    # the leaves partition the runs
    assert sum(b.n for b in boxes) == len(x) and sum(b.k for b in boxes) == y.sum()
    assert np.array_equal(np.sum([b.inside for b in boxes], axis=0), np.ones(len(x)))


def test_cart_boxes_on_a_categorical_parameter():
    _sklearn()
    x, y = with_regime()
    top = cart_boxes(x, y, min_samples_leaf=20)[0]
    assert top.categories == {"regime": frozenset({"b"})} and top.density == 1
    assert abs(top.limits["x1"][0] - 0.5) < TOL


def test_feature_scores_rank_the_relevant_parameters_first():
    _sklearn()
    x, y, _ = one_box(noise=0.05)
    rng = np.random.default_rng(1)
    outcomes = pd.DataFrame({"hit": y, "level": x.x1 + 2 * x.x2 + rng.normal(0, 0.1, len(x))})
    scores = feature_scores(x, outcomes)
    assert list(scores.columns) == ["hit", "level"] and list(scores.index) == ["x1", "x2", "x3"]
    assert np.allclose(scores.sum(), 1)
    for outcome in scores:
        assert min(scores.loc[["x1", "x2"], outcome]) > 2 * scores.loc["x3", outcome]
    assert scores.loc["x2", "level"] > scores.loc["x1", "level"]  # twice the slope
    pd.testing.assert_frame_equal(scores, feature_scores(x, outcomes))  # same seed, same scores
    assert not scores.equals(feature_scores(x, outcomes, seed=1))
    # outcomes named among the runs' columns; a constant outcome scores NaN
    runs = x.assign(hit=y, flat=1.0)
    named = feature_scores(runs, ["hit", "flat"])
    pd.testing.assert_series_equal(named["hit"], scores["hit"])
    assert named["flat"].isna().all()


# ---- bad input ----------------------------------------------------------------------------


def _refused(call, *words: str) -> None:
    with pytest.raises(ValueError) as err:
        call()
    message = str(err.value)
    assert "\n" not in message and all(w in message for w in words), message


def test_bad_input_is_refused_with_the_reason():
    x, y, _ = one_box()
    runs = x.assign(hit=y)
    _refused(lambda: prim(runs, "miss"), "outcome 'miss'", "not a column")
    _refused(lambda: prim(x, y, columns=["x1", "x9"]), "parameter 'x9'", "not a column")
    _refused(lambda: prim(x.head(19), y[:19]), "at least 20 runs", "19")
    _refused(lambda: prim(runs, np.zeros(len(x), dtype=bool)), "no cases of interest")
    _refused(lambda: prim(x, pd.Series(y, name="hit") & False), "'hit'", "no cases of interest")
    _refused(lambda: prim(x, np.ones(len(x), dtype=bool)), "every run")
    _refused(lambda: prim(x, np.linspace(0, 1, len(x))), "bool")
    _refused(lambda: prim(x, y[:-1]), "shape")
    _refused(lambda: prim(x.assign(x2=np.nan), y), "parameter 'x2'", "missing")
    _refused(lambda: prim(x[[]], y), "no parameters")
    _refused(lambda: prim(x.to_numpy(), y), "DataFrame")
    _refused(lambda: prim(x, y, index=999), "index 999")
    _refused(lambda: prim(x, y, peel_alpha=0.7), "peel_alpha")
    _sklearn()
    _refused(lambda: cart_boxes(x.head(10), y[:10]), "cart_boxes", "at least 20 runs")
    _refused(lambda: feature_scores(runs, ["hit", "gone"]), "outcome 'gone'")
    _refused(lambda: feature_scores(x, runs[["hit"]].head(5)), "5 outcome rows")


def test_a_single_parameter_still_runs_and_says_so():
    x, y, _ = one_box()
    result = prim(x[["x1"]], y)
    assert any("only one parameter (x1)" in n for n in result.notes)
    assert list(result.box.limits) == ["x1"] and abs(result.box.limits["x1"][0] - 0.6) < TOL
    constant = prim(x.assign(c=1.0), y)
    assert "c: constant, left out" in constant.notes and "c" not in constant.box.limits


def test_describe_box():
    box = Box(
        limits={"permit strictness": (None, 0.314), "phone penetration": (0.52, None)},
        categories={},
        coverage=0.62,
        density=0.87,
        mass=0.12,
        n=240,
        k=209,
        inside=np.zeros(2000, dtype=bool),
        outcome="integrated",
    )
    assert describe_box(box) == (
        "integrated in 87% of runs where permit strictness < 0.314 and phone penetration > 0.52;"
        " this box holds 62% of all integrated runs (mass 12%)"
    )
    two_sided = Box({"delay": (2.5, 180.0)}, {"regime": frozenset({"b", "a"})}, 0.5, 0.9, 0.1,
                    200, 180, np.zeros(2000, dtype=bool))  # fmt: skip
    assert describe_box(two_sided, {"delay": "days"}, outcome="collapse") == (
        "collapse in 90% of runs where 2.5 days < delay < 180 days and regime in {a, b};"
        " this box holds 50% of all collapse runs (mass 10%)"
    )

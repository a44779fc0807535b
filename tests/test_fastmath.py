"""The kernel's vectorisable exp and log: within 1 ulp of NumPy's, and exactly NumPy's answer
(inf, 0, nan) outside the fast path's range."""

from __future__ import annotations

import numpy as np
import pytest

from segmark.kernels import fastmath

RNG = np.random.default_rng(3)
SPECIAL = [0.0, -0.0, 1e-300, 5e-324, -1.0, np.inf, -np.inf, np.nan, 708.0, -708.0, 709.7, -745.2]


def ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    return np.abs(got - want) / np.spacing(np.abs(want))


@pytest.mark.parametrize("low, high", [(-3.0, 3.0), (-708.0, 708.0), (-1e-8, 1e-8)])
def test_exp_is_within_one_ulp(low: float, high: float) -> None:
    x = RNG.uniform(low, high, 200_000)
    out = np.empty_like(x)
    fastmath.exp_into(x, out)
    assert ulps(out, np.exp(x)).max() <= 1.0


@pytest.mark.parametrize("low, high", [(0.01, 100.0), (-700.0, 700.0), (-1e-6, 1e-6)])
def test_log_is_within_one_ulp(low: float, high: float) -> None:
    x = np.exp(RNG.uniform(low, high, 200_000)) if low < 0 else RNG.uniform(low, high, 200_000)
    out = np.empty_like(x)
    fastmath.log_into(x, out)
    want = np.log(x)
    assert ulps(out[want != 0], want[want != 0]).max() <= 1.0
    assert (out[want == 0] == 0).all()


def test_arguments_outside_the_fast_range_get_numpy_answers() -> None:
    x = np.array(SPECIAL)
    out = np.empty_like(x)
    with np.errstate(all="ignore"):
        fastmath.exp_into(x, out)
        np.testing.assert_array_equal(out, np.exp(x))
        fastmath.log_into(x, out)
        np.testing.assert_array_equal(out, np.log(x))

"""Counter-based draws: the kernel's numba functions and the twin's NumPy ones agree bit for bit,
and the draws have the distributions they claim."""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy import stats

from segmark.kernels import draws

KEY = draws.run_key(np.random.default_rng(5))


@njit(cache=True)
def _in_numba(key, stream, week, count):
    wkey = draws.week_key(key, stream, week)
    uniform = np.empty(count)
    normal = np.empty(count)
    index = np.empty(count, dtype=np.int64)
    for i in range(count):
        uniform[i] = draws.uniform(wkey, i)
        normal[i] = draws.normal(wkey, i)
        index[i] = draws.table_index(wkey, i)
    return wkey, uniform, normal, index


def test_numba_and_numpy_draws_are_identical() -> None:
    for stream, week in [(draws.PRODUCTION, 0), (draws.OUTAGE, 519), (draws.HARVEST_LOCAL, 38)]:
        wkey, uniform, normal, index = _in_numba(KEY, stream, week, 5000)
        assert int(wkey) == draws.week_key_np(int(KEY), stream, week)
        np.testing.assert_array_equal(uniform, draws.uniforms_np(int(wkey), 0, 5000))
        np.testing.assert_array_equal(index, draws.table_indices_np(int(wkey), 0, 5000))
        np.testing.assert_allclose(normal, draws.normals_np(int(wkey), 0, 5000), rtol=1e-14)
    # a slice of a stream is the same numbers as the whole stream's slice
    wkey = draws.week_key_np(int(KEY), draws.FLOOD, 3)
    np.testing.assert_array_equal(
        draws.uniforms_np(wkey, 100, 50), draws.uniforms_np(wkey, 0, 150)[100:]
    )


def test_uniform_and_normal_draws_have_their_distributions() -> None:
    """Kolmogorov-Smirnov at 1e-3 on 100,000 draws; streams and weeks uncorrelated."""
    wkey = draws.week_key_np(int(KEY), draws.PRODUCTION, 7)
    u = draws.uniforms_np(wkey, 0, 100_000)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    z = draws.normals_np(wkey, 0, 100_000)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    other_week = draws.uniforms_np(draws.week_key_np(int(KEY), draws.PRODUCTION, 8), 0, 100_000)
    other_stream = draws.uniforms_np(draws.week_key_np(int(KEY), draws.OUTAGE, 7), 0, 100_000)
    # |r| under 4.5 standard errors (1/sqrt(n) = 0.0032)
    assert abs(np.corrcoef(u, other_week)[0, 1]) < 0.014
    assert abs(np.corrcoef(u, other_stream)[0, 1]) < 0.014
    index = draws.table_indices_np(wkey, 0, 100_000)
    counts = np.bincount(index, minlength=draws.NORMAL_TABLE_SIZE)
    assert stats.chisquare(counts).pvalue > 1e-3


def test_the_normal_table_is_a_standardised_stratified_normal() -> None:
    table = draws.normal_table()
    assert table.shape == (draws.NORMAL_TABLE_SIZE,)
    assert np.all(np.diff(table) > 0)
    assert abs(table.mean()) < 1e-15 and abs(table.std() - 1.0) < 1e-12
    np.testing.assert_allclose(table, -table[::-1], atol=1e-12)  # symmetric
    # the bins' midpoints: within 1% of the exact quantiles inside the tails
    probs = (np.arange(draws.NORMAL_TABLE_SIZE) + 0.5) / draws.NORMAL_TABLE_SIZE
    np.testing.assert_allclose(table[100:-100], stats.norm.ppf(probs)[100:-100], rtol=0.01)

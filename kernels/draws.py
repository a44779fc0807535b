"""Counter-based random draws: each number is a pure function of (run key, stream, week, index).

The kernel's weekly shocks come from the SplitMix64 finaliser applied to a counter, not from a
sequential generator. A draw therefore never depends on how many other draws were made, the
loops that make them vectorise, and the NumPy twin reproduces every bit with array arithmetic.
SplitMix64 (Steele, Lea & Flood 2014, the seeding generator of xoshiro and of Java's
SplittableRandom) passes BigCrush; distinct counters give independent-looking 64-bit words.

Production noise uses a stratified table of standard-normal quantiles (NORMAL_TABLE_SIZE atoms
at the midpoints of equal-probability bins, standardised to mean 0 and variance 1) indexed by
the top bits of a draw: the log-normal factor costs a table lookup instead of a Gaussian draw
and an exponential every unit, good and week.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
from numba import njit

GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S32 = np.uint64(32)
_UNIT = 1.0 / 9007199254740992.0  # 2**-53
NORMAL_BITS = 12
NORMAL_TABLE_SIZE = 1 << NORMAL_BITS
_TABLE_SHIFT = np.uint64(64 - NORMAL_BITS)
_MASK = (1 << 64) - 1

# streams: one per kind of shock, so that adding a draw to one never moves another
HARVEST_PROVINCE = 1
HARVEST_LOCAL = 2
PRODUCTION = 3
FLOOD = 4
OUTAGE = 5


@njit(cache=True, nogil=True, inline="always")
def mix(z: np.uint64) -> np.uint64:
    """The SplitMix64 finaliser: a bijection of 64-bit words with full avalanche."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, nogil=True)
def week_key(key: np.uint64, stream: int, week: int) -> np.uint64:
    """The key of one stream in one week of a run."""
    return mix(key ^ mix(np.uint64(stream) << _S32 | np.uint64(week)))


@njit(cache=True, nogil=True, inline="always")
def word(wkey: np.uint64, index: int) -> np.uint64:
    """The index-th 64-bit word of a week's stream."""
    return mix(wkey + np.uint64(index + 1) * GAMMA)


@njit(cache=True, nogil=True, inline="always")
def uniform(wkey: np.uint64, index: int) -> float:
    """The index-th uniform draw in [0, 1) of a week's stream (53 random bits)."""
    return float(word(wkey, index) >> _S11) * _UNIT


@njit(cache=True, nogil=True, inline="always")
def normal(wkey: np.uint64, index: int) -> float:
    """An exact standard-normal draw (Box-Muller on words 2 index and 2 index + 1)."""
    u1 = 1.0 - uniform(wkey, 2 * index)  # in (0, 1]
    u2 = uniform(wkey, 2 * index + 1)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


@njit(cache=True, nogil=True, inline="always")
def table_index(wkey: np.uint64, index: int) -> int:
    """A uniform index into a NORMAL_TABLE_SIZE table (the top bits of a word)."""
    return int(word(wkey, index) >> _TABLE_SHIFT)


def normal_table() -> np.ndarray:
    """Standard-normal quantiles at the midpoints of NORMAL_TABLE_SIZE equal-probability bins,
    standardised to mean 0 and variance 1 (float64)."""
    dist = NormalDist()
    q = np.array([dist.inv_cdf((j + 0.5) / NORMAL_TABLE_SIZE) for j in range(NORMAL_TABLE_SIZE)])
    q -= q.mean()
    return q / np.sqrt((q * q).mean())


def run_key(rng: np.random.Generator) -> np.uint64:
    """A run's 64-bit key, the next raw word of the run's seeded generator."""
    return np.uint64(rng.bit_generator.random_raw())


# NumPy versions for the reference twin: the same bits, with Python ints for scalars (exact
# modular arithmetic, no overflow warnings) and uint64 arrays (which wrap) for vectors.


def mix_int(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def week_key_np(key: int, stream: int, week: int) -> int:
    return mix_int(int(key) ^ mix_int((stream << 32 | week) & _MASK))


def words_np(wkey: int, start: int, count: int) -> np.ndarray:
    """Words start .. start + count - 1 of a week's stream (uint64 array)."""
    index = np.arange(start + 1, start + count + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(wkey) + index * GAMMA
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def uniforms_np(wkey: int, start: int, count: int) -> np.ndarray:
    return (words_np(wkey, start, count) >> _S11).astype(np.float64) * _UNIT


def normals_np(wkey: int, start: int, count: int) -> np.ndarray:
    u = uniforms_np(wkey, 2 * start, 2 * count)
    return np.sqrt(-2.0 * np.log(1.0 - u[0::2])) * np.cos(2.0 * np.pi * u[1::2])


def table_indices_np(wkey: int, start: int, count: int) -> np.ndarray:
    return (words_np(wkey, start, count) >> _TABLE_SHIFT).astype(np.int64)

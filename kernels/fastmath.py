"""Branch-free exp and log that LLVM can inline and vectorise.

numba calls glibc's scalar exp and log (about 9 ns each here; llvmlite's wheels have no SVML),
and a weekly step needs several per unit and good. These are fdlibm's algorithms (the reference
libm of Sun, used by Java's StrictMath), within 1 ulp of the exact result, written with bit casts
instead of calls so that a loop over an array becomes SIMD code. Arguments outside the range
where the fast path is exact (non-finite, non-positive or subnormal for log; beyond +-708 for
exp) fall back to numpy's functions in a second, rarely-taken pass over the array.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_P1 = 1.66666666666666019037e-01
_P2 = -2.77777777770155933842e-03
_P3 = 6.61375632143793436117e-05
_P4 = -1.65339022054652515390e-06
_P5 = 4.13813679705723846039e-08
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_SQRT2 = 1.4142135623730951
_ROUND = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer kept in the low bits
_EXP_LIMIT = 708.0
_TINY = 2.2250738585072014e-308  # smallest normal double
_MANTISSA = np.uint64(0x000FFFFFFFFFFFFF)
_ONE_BITS = np.uint64(0x3FF0000000000000)
_BIAS = np.uint64(1023)
_S52 = np.uint64(52)


@intrinsic
def _as_bits(typingctx, x):
    """The IEEE-754 bits of a float64, as uint64."""
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.uint64(types.float64), codegen


@intrinsic
def _from_bits(typingctx, bits):
    """The float64 whose IEEE-754 bits are ``bits`` (uint64)."""
    if bits != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.uint64), codegen


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def exp_core(x: float) -> float:
    """exp(x) for |x| <= 708 (fdlibm e_exp.c); other arguments give wrong results."""
    shifted = x * _INV_LN2 + _ROUND
    k = shifted - _ROUND  # round(x / ln 2)
    hi = x - k * _LN2_HI
    lo = k * _LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    scale = _from_bits((_as_bits(shifted) + _BIAS) << _S52)  # 2**k
    return y * scale


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def log_core(x: float) -> float:
    """log(x) for normal positive finite x (fdlibm e_log.c); other arguments give wrong
    results."""
    bits = _as_bits(x)
    m = _from_bits((bits & _MANTISSA) | _ONE_BITS)  # x = m * 2**e, m in [1, 2)
    e = float(bits >> _S52) - 1023.0
    big = m > _SQRT2
    m = 0.5 * m if big else m  # now m in [sqrt(2)/2, sqrt(2))
    e = e + 1.0 if big else e
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    hfsq = 0.5 * f * f
    return e * _LN2_HI - ((hfsq - (s * (hfsq + t1 + t2) + e * _LN2_LO)) - f)


@njit(cache=True, nogil=True, error_model="numpy")
def exp_into(x: np.ndarray, out: np.ndarray) -> None:
    """out[:] = exp(x) over 1-D arrays of equal length (out must not be x)."""
    outside = 0
    for i in range(x.shape[0]):
        out[i] = exp_core(min(max(x[i], -_EXP_LIMIT), _EXP_LIMIT))
        outside += not abs(x[i]) <= _EXP_LIMIT
    if outside:
        for i in range(x.shape[0]):
            if not abs(x[i]) <= _EXP_LIMIT:
                out[i] = np.exp(x[i])


@njit(cache=True, nogil=True, error_model="numpy")
def log_into(x: np.ndarray, out: np.ndarray) -> None:
    """out[:] = log(x) over 1-D arrays of equal length (out must not be x)."""
    outside = 0
    for i in range(x.shape[0]):
        out[i] = log_core(max(x[i], _TINY))
        outside += not (_TINY <= x[i] < np.inf)
    if outside:
        for i in range(x.shape[0]):
            if not (_TINY <= x[i] < np.inf):
                out[i] = np.log(x[i])

"""float32 arithmetic that carries its own rounding errors, and the ELU family and exact GELU built
on it: written once against the array namespace, for JAX's float32 programs (``_kernels.jax``) and
for torch graphs of CPU float32 tensors (``_kernels.torch``: ELU_GRAPH, GELU_GRAPH), where
inductor fuses the operations into one loop (and its own expm1 is exp(x) - 1).

Only +, -, *, /, min, max, abs, selects, bit masks through ``view`` and the library's exp (within
1 ulp: XLA's, and SLEEF's or the C library's in inductor's code): every other operation rounds as
IEEE 754 says on any backend, and the pairs hold whether or not XLA contracts ``a*b + c`` into an
FMA (the products that must be exact are of 12-bit halves, split by bit masks in JAX and by
Veltkamp's product in torch, whose compiled loops do not contract: ``top_half``). Constants are NumPy float32
numbers (``_c``; Python floats in torch's minimum and maximum), so a float32 array stays float32.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from array_api_compat import array_namespace as _namespace
from array_api_compat import is_torch_array

from .._reference.rectifiers import SELU_SCALE, SELU_SCALE_ALPHA
from .._reference.rectifiers import two_sum as two_sum  # the pairs' TwoSum, shared with the reference

Array = Any


def _c(value: float | np.floating[Any]) -> np.float32:
    """value rounded to float32, as a NumPy float32: a typed constant in JAX (a Python float is a
    float64 one in a program with x64 on), and a number that torch's operators take."""
    return np.float32(value)


def _minimum(x: Array, value: float) -> Array:
    """min(x, value), NaN kept (XLA's and torch's minimum propagate it)."""
    return _namespace(x).minimum(x, _number(x, value))


def _maximum(x: Array, value: float) -> Array:
    """max(x, value), NaN kept."""
    return _namespace(x).maximum(x, _number(x, value))


def _number(x: Array, value: float) -> Any:
    """value as x's library takes it beside x in minimum and maximum: array_api_compat's torch
    namespace takes a Python float there, not a NumPy float32."""
    return float(_c(value)) if is_torch_array(x) else _c(value)


# Q(x) ~ (expm1(x) - x - x^2/2) / x^3 on [-0.6932, 0], fitted to the relative error of expm1
# (6e-12 before the coefficients are rounded to float32).
_EXPM1_Q = (0.1666666567325592, 0.04166654124855995, 0.008332423865795135, 0.0013856232399120927,
            0.00019215309293940663, 1.8553240806795657e-05)  # fmt: skip


def expm1_near(r: Array) -> tuple[Array, Array]:
    """expm1(r) for float32 -0.6932 <= r <= 0 as s + rest, unrounded (s is not the rounded sum).

    r + r^2/2 + r^3 Q(r), where the first two terms carry the value and are added without
    rounding error: r = h + l with h the top 12 bits of r (a bit mask, not Veltkamp's splitting,
    so that no compiler contraction of a*b+c into an FMA can change it), so h^2/2 and h l are
    exact; r + h^2/2 is Fast2Sum'd (h^2/2 <= 0.35 |r|; additions only: nothing to contract); the
    rest is 6% of the value at most. To 2^-25.6 of exp(r)."""
    h = top_half(r)
    low = r - h
    q = _expm1_q(r)
    half = (h * h) * _c(0.5)
    s = r + half  # s + error == r + half exactly (TwoSum's error, in 2 operations instead of 4)
    error = half - (s - r)
    return s, error + (h * low + ((low * low) * _c(0.5) + ((r * r) * r) * q))


_LN2_HI = _c(0.693145751953125)  # 16 significant bits: n * _LN2_HI is exact for |n| < 256


_LN2_LO = _c(math.log(2) - 0.693145751953125)


_FLUSH = -123.0  # exp_pair(flush=True): 2^n is 0 below 2^-123


def exp_pair(m: Array, flush: bool = False) -> tuple[Array, Array, Array, Array]:
    """exp(m) for float32 -170 <= m <= 0 (and NaN) as (big + lo) s1 s2, to about 2^-25.6 (XLA's
    own float32 exp is within 2^-23: too far for a 2-ulp result built on it).

    Cody and Waite's reduction: n = ceil(m / ln 2), r = m - n ln 2 in (-ln 2, 0] as r + r2 (n ln2_hi
    exact, m - n ln2_hi exact by Sterbenz); exp(r + r2) = 1 + expm1(r) + r2 exp(r), summed with
    Fast2Sum into big (in [1/2, 1]) + lo. s1 s2 = 2^n in two factors, each a normal number, so
    that a caller multiplies by them after the products that keep its result normal. The 1 in
    1 + expm1 is an array (m * 0 + 1): XLA folds (1 + s) - 1 into s, and the Fast2Sum's error
    with it. ``flush``: s1 = 2^max(n, _FLUSH) and s2 = 1, or 0 where n < _FLUSH = -123 (m <=
    -85.95), for a caller whose result is below 64 smallest normals there (the contract's underflow
    rule) and who multiplies by s2 first: then no product is subnormal where the result is not
    (x86 takes a slow path for each, and torch sets no flush-to-zero).

    The powers of two: in JAX from n's bits (a view as int32, free in XLA's loops); in torch by
    ``exp2`` of the integer n, which is 2^n exactly (SLEEF's exp2 in inductor's vector loops,
    the C library's in its scalar ones, and eager torch's: tested), as a view is a round trip
    through memory in inductor's loops (with flush, GELU and its derivative compiled alone took
    1.21 ms per 262144 elements on an AVX-512 Xeon, against 1.29 with two views; inside a
    compiled MLP step, 1.39-1.51 either way)."""
    xp = _namespace(m)
    n = xp.ceil(m * _c(1 / math.log(2)))
    r_hi = m - n * _LN2_HI
    n_lo = n * _LN2_LO
    r = r_hi - n_lo
    r2 = (r_hi - r) - n_lo
    s, rest = expm1_near(r)
    one = m * 0 + 1
    big = one + s
    lo = (s - (big - one)) + (rest + r2 * big)
    top = big + lo
    lo = lo - (top - big)
    if flush:
        return top, lo, _power_of_two(_maximum(n, _FLUSH)), xp.where(n >= _c(_FLUSH), one, _c(0))
    half = xp.floor(n * _c(0.5))
    return top, lo, _power_of_two(half), _power_of_two(n - half)


def _power_of_two(n: Array) -> Array:
    """2^n for float32 integers -126 <= n <= 127 (and NaN: NaN in torch), exactly."""
    if is_torch_array(n):
        return n.exp2()
    xp = _namespace(n)
    return ((xp.astype(n, xp.int32) + 127) << 23).view(xp.float32)


def product_error(a: Array, b: Array, p: Array) -> Array:
    """a b - p for p = fl(a b), exactly but for the last additions' roundings (2^-34 of p at
    worst): Dekker's product from 12-bit halves (``top_half``: no FMA contraction can change it)."""
    a_hi, b_hi = top_half(a), top_half(b)
    a_lo, b_lo = a - a_hi, b - b_hi
    return ((a_hi * b_hi - p) + (a_hi * b_lo + a_lo * b_hi)) + a_lo * b_lo


def top_half(x: Array) -> Array:
    """x rounded to 12 significant bits, so that products of two such halves, and of a half and
    x - half, are exact in float32. For |x| below 2^114 (Veltkamp's product must not overflow).

    JAX: x's top 11 stored bits, a bit mask, as XLA's CPU loops may contract Veltkamp's c - (c - x)
    with c = 4097 x into an FMA that breaks it. torch: Veltkamp's splitting, as eager torch
    rounds every operation and inductor compiles its C++ with -ffp-contract=off (tested), and a view
    as int32 is a round trip through memory per vector in inductor's loops (on an AVX-512 Xeon,
    0.8 ms per 10^6 elements each: compiled, GELU's value took 16.8 ms with them, 4.8-5.5 without)."""
    if is_torch_array(x):
        c = x * 4097.0  # a Python number: torch keeps x's dtype
        return c - (c - x)
    xp = _namespace(x)
    return (x.view(xp.int32) & -4096).view(xp.float32)


def top_bits_of(value: float) -> np.float32:
    """top_half of a number."""
    bits = np.array([value], np.float32).view(np.int32) & np.int32(-4096)
    return np.float32(bits.view(np.float32)[0])


def fast_two_sum(a: Array, b: Array) -> tuple[Array, Array]:
    """a + b as s + its rounding error, for |a| >= |b| (Dekker's Fast2Sum)."""
    s = a + b
    return s, b - (s - a)


def add(a: Array, a_lo: Array, b: Array, b_lo: Array) -> tuple[Array, Array]:
    """(a + a_lo) + (b + b_lo) as a float32 pair."""
    s, error = two_sum(a, b)
    return s, error + (a_lo + b_lo)


def mul(a: Array, a_lo: Array, b: Array, b_lo: Array) -> tuple[Array, Array]:
    """(a + a_lo) (b + b_lo) as a float32 pair."""
    p = a * b
    return p, product_error(a, b, p) + (a * b_lo + a_lo * b)


_HALF_POINT = -0.6932  # exp(x) < 1/2 below: exp(x) - 1 is then within 1 ulp (ulp(exp(x)) <= ulp(result))


def expm1_lower(x: Array) -> tuple[Array, Array]:
    """expm1(x) for float32 x <= 0 (and NaN) as hi + lo, unrounded: a caller rounds once at the end.

    Above -0.6932: ``expm1_near``. Below: t - 1 with t = exp(x) < 1/2 (XLA's float32 exp is
    within 0.99 ulp of t, half an ulp of the result) and the subtraction's error, exactly: (hi + 1)
    and t - (hi + 1) are exact (Sterbenz)."""
    xp = _namespace(x)
    r, t, far = _split_at_half(x)
    s, rest = expm1_near(r)
    one = t * 0 + 1  # an array: XLA folds (t - 1) + 1 into t, and t_lo into 0
    t_hi = t - one
    t_lo = t - (t_hi + one)
    return xp.where(far, t_hi, s), xp.where(far, t_lo, rest)


def _split_at_half(x: Array) -> tuple[Array, Array, Array]:
    """(r, t, far) for float32 x <= 0 (and NaN): r, x on the polynomial's interval [-0.6932, 0]
    (NaN stays NaN); t = exp(x) below it (< 1/2); far, where x is below it, so that t is taken."""
    return _maximum(x, _HALF_POINT), _namespace(x).exp(_minimum(x, _HALF_POINT)), x < _c(_HALF_POINT)


def times(value: float, hi: Array, lo: Array | float) -> Array:
    """value * (hi + lo) as v hi + (v lo + v_lo hi), value carried as float32 v + v_lo (v_lo = 0
    for a value rounded to float32 already): two roundings, one ulp with hi + lo's 0.35."""
    if value == 1:
        return hi + lo
    v = np.float32(value)
    return v * hi + (v * lo + np.float32(value - float(v)) * hi)


_TINY = 2.0**-30  # below, expm1(x) = x (1 + x/2 + ...) is x to 2^-31: the products are value * x


def elu(x: Array, alpha: float) -> Array:
    return scaled_expm1(float(np.float32(alpha)), x)


def selu(x: Array) -> Array:
    """λα expm1(x) for x < 0, λx elsewhere. λα is carried as v_hi + v_lo (v_hi its top 12 bits),
    and on [-0.6932, 0] expm1(r) = r + b, b = r^2 (1/2 + r Q(r)) (``expm1_rounded``'s polynomial,
    its coefficients scaled by λα before they are rounded), so that λα r = v_hi r_hi + (v_hi r_lo
    + v_lo r), r = r_hi + r_lo in 12-bit halves: the first product exact, the rest 2^-11 of it,
    and λα b at most 0.38 of the result; the sum rounds once. Below -0.6932, v t - v with t =
    exp(x) < 1/2 (v = fl(λα), 2^-26.2 off). λα x where |x| < 2^-30 (0.72 ulp): there r_lo may be
    subnormal, which XLA flushes. 1.53 ulps at worst over every float32 in [-20, 0] where a*b + c
    rounds twice (XLA's AVX path, inductor's loops; x = -0.6866867), 1.31 where XLA contracts it:
    0.70-0.73x jax.nn.selu under jit on an AMD EPYC with AVX-512, where ``expm1_lower``'s pair
    times v took 0.98x (1.49 and 1.30 ulps). λx rounds twice (1 ulp)."""
    xp = _namespace(x)
    r, t, far = _split_at_half(_minimum(x, 0.0))
    r_hi = top_half(r)
    b = (r * r) * (_c(SELU_SCALE_ALPHA / 2) + r * _expm1_q(r, SELU_SCALE_ALPHA))  # λα b
    near = _SELU_V_HI * r_hi + ((_SELU_V_HI * (r - r_hi) + _SELU_V_LO * r) + b)
    y = xp.where(far, _SELU_V * t - _SELU_V, near)
    small = xp.where(x < 0, _SELU_V * x, _c(SELU_SCALE) * x)  # x >= 0, NaN, and |x| < 2^-30
    return xp.where(x < _c(-_TINY), y, small)


_SELU_V = _c(SELU_SCALE_ALPHA)
_SELU_V_HI = top_bits_of(SELU_SCALE_ALPHA)
_SELU_V_LO = _c(SELU_SCALE_ALPHA - float(_SELU_V_HI))


def _expm1_q(r: Array, scale: float = 1.0) -> Array:
    """scale Q(r) of ``_EXPM1_Q`` by Horner's rule, the coefficients scaled before they are rounded."""
    q = _c(scale * _EXPM1_Q[-1])
    for coefficient in reversed(_EXPM1_Q[:-1]):
        q = q * r + _c(scale * coefficient)
    return q


def expm1_rounded(x: Array) -> Array:
    """expm1(x) for float32 x <= 0 (and NaN), rounded: ELU's and CELU's with alpha 1, which need
    no pair. On [-0.6932, 0] ``expm1_near``'s polynomial as written, r + r^2 (1/2 + r Q(r)): the
    second term is at most 0.38 of the result, so its three roundings weigh 0.38 ulp each at most,
    and the sum rounds once; below, exp(x) - 1 (``expm1_lower``: t's error is half an ulp of the
    result at most) rounds once. 1.31 ulps at worst over every float32 in [-20, 0] where a*b + c
    rounds twice (XLA's AVX path, inductor's loops), 1.02 where XLA contracts it into an FMA (the
    bound is 2). About 25 float32 operations where the pair took 40: 0.67x jax.nn.elu under jit
    on an AMD EPYC with AVX-512, where the pair, rounded, took 1.00x."""
    r, t, far = _split_at_half(x)
    return _namespace(x).where(far, t - 1, r + (r * r) * (_c(0.5) + r * _expm1_q(r)))


def scaled_expm1(value: float, x: Array) -> Array:
    """value * expm1(x) for x < 0, x elsewhere (NaN included)."""
    xp = _namespace(x)
    if value == 1:
        return xp.where(x < 0, expm1_rounded(_minimum(x, 0.0)), x)
    hi, lo = expm1_lower(_minimum(x, 0.0))
    y = times(value, hi, lo)
    if abs(value) > 64:  # expm1 of a subnormal x is flushed to 0; value * x is then a normal number
        y = xp.where(xp.abs(x) < _c(_TINY), times(value, x, 0.0), y)
    return xp.where(x < 0, y, x)


def celu(x: Array, alpha: float) -> Array:
    """alpha * expm1(u) with u = x / alpha carried as u + u_lo: a rounded u alone costs up to one
    ulp of the result where the binades of x / alpha and of the result do not line up (and XLA
    divides by a constant as a product with its reciprocal, rounding twice). u_lo = (x - alpha u) /
    alpha, with alpha u exact from 12-bit halves, and expm1(u + u_lo) = expm1(u) + exp(u) u_lo.
    x itself where |u| < 2^-30 (celu(x) = x (1 + u/2 + ...)). An alpha below 2^-40 is scaled, with
    x, by 2^64 (celu(x; alpha) = celu(s x; s alpha) / s), so that no partial product of alpha u is
    subnormal (XLA flushes those to zero)."""
    xp = _namespace(x)
    alpha = float(np.float32(alpha))
    if alpha == 1:
        return scaled_expm1(1.0, x)
    scale = 2.0**64 if alpha < 2.0**-40 else 1.0
    alpha *= scale
    a_hi = top_bits_of(alpha)
    a_lo = np.float32(alpha - float(a_hi))
    lower = _minimum(x, 0.0) * np.float32(scale)  # -inf stays -inf: u is clamped below
    u = _maximum(lower / _c(alpha), -1000)  # expm1 is -1 long before -1000
    u_hi = top_half(u)
    u_low = u - u_hi
    remainder = (((lower - a_hi * u_hi) - a_hi * u_low) - a_lo * u_hi) - a_lo * u_low
    u_lo = xp.where(u > _c(-100), remainder / _c(alpha), _c(0))  # x = -inf: no NaN
    hi, lo = expm1_lower(u)
    y = times(alpha, hi, lo + ((hi + 1) + lo) * u_lo)
    if scale != 1.0:
        y = y * np.float32(1 / scale)
    return xp.where(x < 0, xp.where(xp.abs(u) < _c(_TINY), x, y), x)


# Exact GELU: x Phi(x) and its derivative Phi(x) + x phi(x), from the Mills ratio M(z) = Phi(-z) /
# phi(z) (z = |x|): Phi(-z) = e(z) N(z) with e(z) = exp(-z^2/2) and N = M / sqrt(2 pi), and
# Phi(x) + x phi(x) = e(z) (N(z) - z / sqrt(2 pi)) for x < 0, 1 minus that for x >= 0.
#
# Below z = 2 the bound is 2 ulps, GELU's condition number at most 2.8 there and 1 where z < 1.3:
# N must be right to about 2^-28. It is a polynomial of degree 9 in z - c on each of [0, 0.5),
# [0.5, 1) and [1, 2), fitted (weighted least squares on 60 Chebyshev nodes) to mpmath's M, within
# 3e-10 relative with these coefficients rounded to float32 (the first two kept as pairs); z - c is
# exact (Sterbenz: each c is within a factor 2 of its interval, and the first c is 0). From z = 2 on
# the condition number is 3.75 or more, growing as z^2, and the bound with it: N is a float32
# polynomial of degree 8 in w = 1/(z + 1), fitted to mpmath's on [2, 16] within 2.4e-8: with w's and
# Horner's roundings GELU is 0.34 of the bound at worst for x < 0 (x = -2.2), where 9 intervals of the first
# kind took 104 selects, 4.2 of the kernel's 10.8 ms per 10^6. e(z) is ``exp_pair`` with z^2 exact;
# in a torch graph it flushes from z = 13.11 on (2^n < 2^-123), where GELU is below 1.9e-38 and its
# derivative below 2.5e-37 in magnitude, a third of the 64 smallest normals the contract allows
# there: they are 0 there (-0.0 below 0). The value's pair and the derivative's are each rounded
# to one float32 before 2^n scales it, so that no operand is subnormal where the result is not
# (tested): x86 takes a slow path for each (torch sets no flush-to-zero; XLA does), and the pairs'
# low parts, scaled apart, were subnormal from z = 11.8 on: GELU with its derivative compiled
# alone took 4.23 ms per 262144 elements of N(0, 10^2) against 1.35 on N(0, 1), now 1.33 and 1.38
# (AVX-512 Xeon; a compiled MLP step 1.207x F.gelu's against 1.192x, medians of six alternated
# runs). For x > 0 the value then rounds twice, p and max(x, 0) - p (p <= x / 2): 0.37 of the
# bound at worst (x = 0.0078, over 4 million points on both XLA paths and inductor's; 0.34 before,
# at x = -2.2); the derivative, 1 - g with |g| < 0.09 for x > 0, 0.19.
# XLA's float32 erf and erfc are 10^5 ulps off in erfc's tail.

_MILLS_STARTS = (0.5, 1.0)  # the intervals after [0, 0.5), up to _MILLS_FAR


_MILLS_FAR = 2.0


_MILLS_TOP = 16.0  # e(z) N(z) is below 2^-184 beyond: GELU and its derivative are 0 there in float32


_MILLS = (  # (c, M(c), M'(c), M''(c)/2, ...) per interval
    (
        0.0,
        1.2533141373151542,
        -0.9999999998659619,
        0.626657059981865,
        -0.3333331138514798,
        0.15666142662821086,
        -0.06664537536314023,
        0.02601248782282306,
        -0.009238556693501947,
        0.0027471980413554037,
        -0.0005007448653516408,
    ),
    (
        0.75,
        0.7525711790634687,
        -0.4355716157022107,
        0.21294623359437978,
        -0.09195398019705918,
        0.03599519340736898,
        -0.01299151653912796,
        0.0043749766434253365,
        -0.001387145099739479,
        0.00042200504342047087,
        -0.00012027575021692348,
    ),
    (
        1.5,
        0.5158156382259714,
        -0.22627654265142016,
        0.08820041048539758,
        -0.03132530905123441,
        0.010303164568072377,
        -0.0031741219635347986,
        0.0009230686209538428,
        -0.0002554806808448774,
        7.021178262028236e-05,
        -1.758808261621491e-05,
    ),
)


_MILLS_W = (3.4414748029121256e-07, 0.39891517162323, 0.3998619616031647, -0.01761683076620102,
            -0.5881537199020386, -2.3980438709259033, 10.059751510620117, -14.13820743560791,
            7.533533096313477)  # fmt: skip


_INVERSE_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


_N_ROWS = tuple((row[0], *(c * _INVERSE_SQRT_2PI for c in row[1:])) for row in _MILLS)  # N's, as M's over sqrt(2 pi)


def _pick(z: Array, values: list[Any]) -> Array:
    """The interval's value of a coefficient, by selects (no gather)."""
    xp = _namespace(z)
    picked = _c(values[0]) + z * 0
    for start, value in zip(_MILLS_STARTS, values[1:], strict=True):
        picked = xp.where(z >= _c(start), _c(value), picked)
    return picked


def float32_pair(value: float) -> tuple[np.float32, np.float32]:
    high = np.float32(value)
    return high, np.float32(value - float(high))


def _gelu_parts(x: Array) -> tuple[Array, tuple[Array, Array], tuple[Array, Array], Array, Array]:
    """z = |x| (clamped at _MILLS_TOP), e(z) / 2^n and N(z) as pairs, and 2^n as two factors,
    ``first`` and ``last`` (see ``_scaled``)."""
    xp = _namespace(x)
    z = _minimum(xp.abs(x), _MILLS_TOP)
    rows = _N_ROWS
    center = _pick(z, [row[0] for row in rows])
    h = z - center
    s = _pick(z, [row[-1] for row in rows])
    for j in range(len(rows[0]) - 2, 2, -1):
        s = s * h + _pick(z, [row[j] for row in rows])
    c1 = [float32_pair(row[2]) for row in rows]
    c0 = [float32_pair(row[1]) for row in rows]
    t = add(_pick(z, [c[0] for c in c1]), _pick(z, [c[1] for c in c1]), h * s, z * 0)
    near = add(_pick(z, [c[0] for c in c0]), _pick(z, [c[1] for c in c0]), *mul(h, z * 0, *t))
    w = 1 / (_maximum(z, _MILLS_FAR) + 1)
    far = _c(_MILLS_W[-1])
    for coefficient in reversed(_MILLS_W[:-1]):
        far = far * w + _c(coefficient)
    beyond = z >= _c(_MILLS_FAR)
    n = xp.where(beyond, far, near[0]), xp.where(beyond, _c(0), near[1])
    zz = z * z
    half = zz * _c(0.5)  # exact: e(z) = exp(-half) (1 - half_lo), half_lo = zz_lo / 2
    big, lo, s1, s2 = exp_pair(-half, flush=is_torch_array(x))
    lo = lo - big * (product_error(z, z, zz) * _c(0.5))
    return (z, (big, lo), n, s2, s1) if is_torch_array(x) else (z, (big, lo), n, s1, s2)


def _scaled(v: Array, first: Array, last: Array) -> Array:
    """v 2^n as (v first) last: in a torch graph ``first`` is 0 or 1, so that no product is
    subnormal where the result is not (x86 takes a slow path for each)."""
    return (v * first) * last


def gelu(x: Array) -> Array:
    """max(x, 0) - p with p = |x| e(z) N(z) (x - x Phi(-x) for x >= 0, x Phi(x) for x < 0), p's
    pair rounded to one float32 before 2^n scales it (see the comment above), the difference
    rounded once more for x > 0; the sign is x's, so that the zeros keep theirs and an underflow
    below 0 is -0.0. |x| is capped at 1000 in p (inf * 0 is NaN)."""
    return _gelu_from(x, *_gelu_parts(x))


def gelu_dash(x: Array) -> Array:
    """g = e(z) (N(z) - z / sqrt(2 pi)), a pair rounded to one float32 before 2^n scales it; g for
    x < 0 (+0 at -inf, as the contract), 1 - g for x >= 0."""
    return _gelu_dash_from(x, *_gelu_parts(x))


def gelu_with_slope(x: Array) -> tuple[Array, Array]:
    """``gelu(x)`` and ``gelu_dash(x)`` from one evaluation of their parts: the same bits."""
    parts = _gelu_parts(x)
    return _gelu_from(x, *parts), _gelu_dash_from(x, *parts)


def _gelu_from(x: Array, _: Array, e: tuple[Array, Array], n: tuple[Array, Array], first: Array, last: Array) -> Array:
    xp = _namespace(x)
    # N before e, here and in the derivative: inductor writes a fused loop's operations in the
    # order it meets them, operand by operand, and the C compiler's registers fare differently with
    # each order (measured, not derived; the same bits either way). On an AVX-512 Xeon, per 262144
    # elements: GELU 1.25 ms against 1.43 with e first; GELU with its derivative 1.18-1.22 against
    # 1.32-1.36, and 1.41 against 1.69 where inductor stores the derivative first; the derivative
    # alone 1.25 against 1.05 (the one order measured worse). In a compiled MLP step the loop took
    # 1.39-1.51 ms in every order.
    q = mul(*n, *e)
    a = _minimum(xp.abs(x), 1000)
    p = a * q[0]
    p = _scaled(p + (product_error(a, q[0], p) + a * q[1]), first, last)  # rounded once
    return xp.copysign(_maximum(x, 0) - p, x)


def _gelu_dash_from(
    x: Array, z: Array, e: tuple[Array, Array], n: tuple[Array, Array], first: Array, last: Array
) -> Array:
    xp = _namespace(x)
    k, k_lo = float32_pair(_INVERSE_SQRT_2PI)
    kz = k * z
    kz_lo = product_error(z * 0 + k, z, kz) + k_lo * z
    g = mul(*add(*n, -kz, -kz_lo), *e)  # N first: see _gelu_from
    g = _scaled(g[0] + g[1], first, last)
    return xp.where(x < 0, xp.where(x < _c(-1000), _c(0), g), 1 - g)

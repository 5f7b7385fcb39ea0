"""JAX kernels: each reference body jitted once per (function, parameters) and kept, so that an
eager call costs one compiled dispatch and a call under ``jit``/``vmap``/``grad`` inlines.

Each function is a ``jax.custom_jvp`` whose tangent is the reference's chain rule
(``_reference.CHAIN``), so ``jax.grad``, ``jvp``, ``vmap``, ``jacfwd``/``jacrev`` and ``hessian``
give the explicit derivative, bit for bit (autodiff through ``expm1`` or ``maximum`` would not).
An array leak (PReLU) is a second differentiable argument. Symbolic zero tangents are skipped,
not multiplied: 0 * -inf would be NaN.

XLA on the CPU treats float32, float64 and bfloat16 subnormals as zero (denormals-are-zero,
flush-to-zero); ``flushes`` tells validation, which then takes a subnormal number leak for the
zero slope.

float32 programs: every function and derivative computes float32 (and float16 and bfloat16,
rounded once at the end) in float32, with no float64 operation in the program (XLA's float64 runs
at a fraction of float32's speed on CPUs, 1/32-1/64 on GPUs, and not at all on TPUs): see
``_expm1_lower``, ``_exp_pair`` and the float32 pair arithmetic below them (``FLOAT32``). XLA's own
float32 exp, expm1, log1p and erfc leave too little room for the 2-ulp bound.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from types import ModuleType
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero

from .._checks import Array
from .._reference import CHAIN, REFERENCE, rectifiers
from .._reference import relu as reference
from .._reference.rectifiers import SELU_SCALE, SELU_SCALE_ALPHA

Number = float | int


def flushes(dtype: Any) -> bool:
    """Whether the default device compares this dtype's smallest subnormal as zero."""
    if not jnp.issubdtype(dtype, jnp.floating):
        return False
    with jax.ensure_compile_time_eval():
        return not bool(jnp.asarray(jnp.finfo(dtype).smallest_subnormal, dtype) > 0)


@functools.lru_cache(maxsize=512)
def compiled(name: str, parameters: tuple[Any, ...]) -> Callable[[Array], Array]:
    """jit(f) for a function with number parameters; f has the explicit derivative."""
    value = _body(name)
    if name.endswith("_dash"):  # derivatives of derivatives: plain autodiff of the formula
        return jax.jit(lambda x: value(x, *parameters, jnp))
    if name in CHAIN:
        chain = CHAIN[name]
    else:
        dash = _body(f"{name}_dash")

        def chain(x: Array, t: Array, *args: Any) -> Array:
            return t * dash(x, *args)

    @jax.custom_jvp
    def f(x: Array) -> Array:
        return value(x, *parameters, jnp)

    apart = name in APART

    def f_jvp(primals: tuple[Array], tangents: tuple[Any]) -> tuple[Array, Array]:
        (x,), (t,) = primals, tangents
        y = f(x)
        if isinstance(t, SymbolicZero):
            return y, jnp.zeros_like(y)
        return y, chain(jax.lax.optimization_barrier(x) if apart else x, t, *parameters, jnp)

    f.defjvp(f_jvp, symbolic_zeros=True)
    return jax.jit(f)


# The derivative computed from an x that XLA cannot identify with the value's (an optimization
# barrier): value and derivative then share no expression, and each fuses into one loop. Shared,
# XLA writes out every intermediate the two use (a division or an exp with two users is not fused
# twice): SiLU's value_and_grad was split into 11 loops, 4.5x jax.nn's; apart 2.5x (the tanh form
# 4.5x -> 4.1x, 13 loops -> 3). With today's kernels SiLU and both GELUs cost the same either way
# (medians of 30 alternated rounds: 2.15x and 2.16x, 2.83x and 2.88x, 2.49x and 2.60x), and softplus
# and squareplus are faster shared (0.68x and 0.86x jax.nn's value_and_grad, against 0.96x and
# 0.94x apart), as are Mish and ELU.
APART = frozenset(["silu", "gelu"])


def _body(name: str) -> Callable[..., Array]:
    """The body that computes ``name``: FLOAT32's for every dtype but float64, where it has one."""
    reference = REFERENCE[name]  # float64 (which exists only where 64-bit types are enabled), and
    # the functions with no float32 kernel, which compute float16 in float32 (rectifiers.in_wider_dtype)
    narrow = FLOAT32.get(name)
    if narrow is None:
        return reference

    def body(x: Array, *args: Any) -> Array:
        if x.dtype == jnp.float64:
            return reference(x, *args)
        return narrow(x.astype(jnp.float32), *args[:-1]).astype(x.dtype)

    return body


# ---------------------------------------------------------------- float32 programs in float32
#
# XLA's float32 expm1 is 5.2 ulp off in [-1, 0] on the CPU, and Kahan's (exp(x) - 1) x / log(exp(x))
# 3.3 ulp with its float32 exp and log (measured against long double): no room in ELU's 2-ulp
# bound. Its float32 exp is within 0.99 ulp: the derivatives alpha * exp(x) are the reference's
# bodies as they are.

# Q(x) ~ (expm1(x) - x - x^2/2) / x^3 on [-0.6932, 0], fitted to the relative error of expm1
# (6e-12 before the coefficients are rounded to float32).
_EXPM1_Q = (0.1666666567325592, 0.04166654124855995, 0.008332423865795135, 0.0013856232399120927,
            0.00019215309293940663, 1.8553240806795657e-05)  # fmt: skip
_HALF_POINT = -0.6932  # exp(x) < 1/2 below: exp(x) - 1 is then within 1 ulp (ulp(exp(x)) <= ulp(result))


def _expm1_lower(x: Array) -> tuple[Array, Array]:
    """expm1(x) for float32 x <= 0 (and NaN) as hi + lo, unrounded: a caller rounds once at the end.

    Above -0.6932: ``_expm1_near``. Below: t - 1 with t = exp(x) < 1/2 (XLA's float32 exp is
    within 0.99 ulp of t, half an ulp of the result) and the subtraction's error, exactly: (hi + 1)
    and t - (hi + 1) are exact (Sterbenz)."""
    near = jnp.maximum(x, jnp.float32(_HALF_POINT))  # the polynomial's interval; NaN stays NaN
    s, rest = _expm1_near(near)
    t = jnp.exp(jnp.minimum(x, jnp.float32(_HALF_POINT)))
    one = t * 0 + 1  # an array: XLA folds (t - 1) + 1 into t, and t_lo into 0
    t_hi = t - one
    t_lo = t - (t_hi + one)
    far = x < jnp.float32(_HALF_POINT)
    return jnp.where(far, t_hi, s), jnp.where(far, t_lo, rest)


def _expm1_near(r: Array) -> tuple[Array, Array]:
    """expm1(r) for float32 -0.6932 <= r <= 0 as s + rest, unrounded (s is not the rounded sum).

    r + r^2/2 + r^3 Q(r), where the first two terms carry the value and are added without
    rounding error: r = h + l with h the top 12 bits of r (a bit mask, not Veltkamp's splitting,
    so that no compiler contraction of a*b+c into an FMA can change it), so h^2/2 and h l are
    exact; r + h^2/2 is Fast2Sum'd (h^2/2 <= 0.35 |r|; additions only: nothing to contract); the
    rest is 6% of the value at most. To 2^-25.6 of exp(r)."""
    h = _top_half(r)
    low = r - h
    q = jnp.float32(_EXPM1_Q[-1])
    for coefficient in reversed(_EXPM1_Q[:-1]):
        q = q * r + jnp.float32(coefficient)
    half = (h * h) * jnp.float32(0.5)
    s = r + half  # s + error == r + half exactly (TwoSum's error, in 2 operations instead of 4)
    error = half - (s - r)
    return s, error + (h * low + ((low * low) * jnp.float32(0.5) + ((r * r) * r) * q))


_LN2_HI = np.float32(0.693145751953125)  # 16 significant bits: n * _LN2_HI is exact for |n| < 256
_LN2_LO = np.float32(math.log(2) - 0.693145751953125)
_EXP_FLOOR = -170.0  # softplus's exp(beta x) / beta underflows beyond for every float32 beta > 2^-126


def _exp_pair(m: Array) -> tuple[Array, Array, Array, Array]:
    """exp(m) for float32 -170 <= m <= 0 (and NaN) as (big + lo) s1 s2, to about 2^-25.6 (XLA's
    own float32 exp is within 2^-23: too far for a 2-ulp result built on it).

    Cody and Waite's reduction: n = ceil(m / ln 2), r = m - n ln 2 in (-ln 2, 0] as r + r2 (n ln2_hi
    exact, m - n ln2_hi exact by Sterbenz); exp(r + r2) = 1 + expm1(r) + r2 exp(r), summed with
    Fast2Sum into big (in [1/2, 1]) + lo. s1 s2 = 2^n in two factors, each a normal number, so
    that a caller multiplies by them after the products that keep its result normal. The 1 in
    1 + expm1 is an array (m * 0 + 1): XLA folds (1 + s) - 1 into s, and the Fast2Sum's error
    with it."""
    n = jnp.ceil(m * np.float32(1 / math.log(2)))
    r_hi = m - n * _LN2_HI
    n_lo = n * _LN2_LO
    r = r_hi - n_lo
    r2 = (r_hi - r) - n_lo
    s, rest = _expm1_near(r)
    one = m * 0 + 1
    big = one + s
    lo = (s - (big - one)) + (rest + r2 * big)
    top = big + lo
    lo = lo - (top - big)
    k = n.astype(jnp.int32)
    k1 = k >> 1
    s1 = jax.lax.bitcast_convert_type((k1 + 127) << 23, jnp.float32)
    s2 = jax.lax.bitcast_convert_type((k - k1 + 127) << 23, jnp.float32)
    return top, lo, s1, s2


def _product_error(a: Array, b: Array, p: Array) -> Array:
    """a b - p for p = fl(a b), exactly but for the last additions' roundings (2^-36 of p):
    Dekker's product from 12-bit halves (bit masks: no FMA contraction can change it)."""
    a_hi, b_hi = _top_half(a), _top_half(b)
    a_lo, b_lo = a - a_hi, b - b_hi
    return ((a_hi * b_hi - p) + (a_hi * b_lo + a_lo * b_hi)) + a_lo * b_lo


def _times(value: float, hi: Array, lo: Array | float) -> Array:
    """value * (hi + lo) as v hi + (v lo + v_lo hi), value carried as float32 v + v_lo (v_lo = 0
    for a value rounded to float32 already): two roundings, one ulp with hi + lo's 0.35."""
    if value == 1:
        return hi + lo
    v = np.float32(value)
    return v * hi + (v * lo + np.float32(value - float(v)) * hi)


_TINY = 2.0**-30  # below, expm1(x) = x (1 + x/2 + ...) is x to 2^-31: the products are value * x


# alpha is a parameter, rounded to x's dtype like x (float32 and float64 get a Python float as it
# is): float32 computes with float32(alpha), as every other float32 kernel does.


def _elu32(x: Array, alpha: float) -> Array:
    return _scaled_expm1(float(np.float32(alpha)), x)


def _selu32(x: Array) -> Array:
    """v hi + v lo with v = fl(scale * alpha) (2^-26.2 off: 0.22 ulp at most) for x < 0, 1.48
    ulps at worst (screened); scale * x rounds twice (1 ulp). With _times's v_lo term it was 1.14x
    jax.nn.selu under jit, 0.92-0.99x without; v (hi + lo) rounds once more (1.98 ulps)."""
    hi, lo = _expm1_lower(jnp.minimum(x, 0))
    v = np.float32(SELU_SCALE_ALPHA)
    return jnp.where(x < 0, v * hi + v * lo, np.float32(SELU_SCALE) * x)


def _scaled_expm1(value: float, x: Array) -> Array:
    """value * expm1(x) for x < 0, x elsewhere (NaN included)."""
    hi, lo = _expm1_lower(jnp.minimum(x, 0))
    y = _times(value, hi, lo)
    if abs(value) > 64:  # expm1 of a subnormal x is flushed to 0; value * x is then a normal number
        y = jnp.where(jnp.abs(x) < jnp.float32(_TINY), _times(value, x, 0.0), y)
    return jnp.where(x < 0, y, x)


def _celu32(x: Array, alpha: float) -> Array:
    """alpha * expm1(u) with u = x / alpha carried as u + u_lo: a rounded u alone costs up to one
    ulp of the result where the binades of x / alpha and of the result do not line up (and XLA
    divides by a constant as a product with its reciprocal, rounding twice). u_lo = (x - alpha u) /
    alpha, with alpha u exact from 12-bit halves, and expm1(u + u_lo) = expm1(u) + exp(u) u_lo.
    x itself where |u| < 2^-30 (celu(x) = x (1 + u/2 + ...)). An alpha below 2^-40 is scaled, with
    x, by 2^64 (celu(x; alpha) = celu(s x; s alpha) / s), so that no partial product of alpha u is
    subnormal (XLA flushes those to zero)."""
    alpha = float(np.float32(alpha))
    if alpha == 1:
        return _scaled_expm1(1.0, x)
    scale = 2.0**64 if alpha < 2.0**-40 else 1.0
    alpha *= scale
    a_hi = _top_bits_of(alpha)
    a_lo = np.float32(alpha - float(a_hi))
    lower = jnp.minimum(x, 0) * np.float32(scale)  # -inf stays -inf: u is clamped below
    u = jnp.maximum(lower / jnp.float32(alpha), jnp.float32(-1000))  # expm1 is -1 long before -1000
    u_hi = _top_half(u)
    u_low = u - u_hi
    remainder = (((lower - a_hi * u_hi) - a_hi * u_low) - a_lo * u_hi) - a_lo * u_low
    u_lo = jnp.where(u > jnp.float32(-100), remainder / jnp.float32(alpha), jnp.float32(0))  # x = -inf: no NaN
    hi, lo = _expm1_lower(u)
    y = _times(alpha, hi, lo + ((hi + 1) + lo) * u_lo)
    if scale != 1.0:
        y = y * np.float32(1 / scale)
    return jnp.where(x < 0, jnp.where(jnp.abs(u) < jnp.float32(_TINY), x, y), x)


def _top_half(x: Array) -> Array:
    """x's sign, exponent and top 11 stored bits (12 significant bits): products of two such
    halves are exact in float32."""
    return jax.lax.bitcast_convert_type(jax.lax.bitcast_convert_type(x, jnp.int32) & jnp.int32(-4096), jnp.float32)


def _top_bits_of(value: float) -> np.float32:
    """_top_half of a number."""
    bits = np.array([value], np.float32).view(np.int32) & np.int32(-4096)
    return np.float32(bits.view(np.float32)[0])


def _hard_swish32(x: Array) -> Array:
    """x (x + 3) / 6 between the kinks, rounded three times (1.9 ulp at worst): the / 6 must be a
    true division, which XLA makes a product with fl(1/6) (a fourth rounding, 2.2 ulp) unless the
    divisor is an array it cannot fold: small * 0 + 6 is 6 (NaN only where x is NaN). NumPy's
    select-free x ((-3 - x) / -6) took 1.09-1.13x jax.nn.hard_swish under jit against these
    selects' 1.22-1.41x, but under value_and_grad XLA moved it into the sum's YNNPACK reduction
    with arrays of its constants written out: 3.4-4.4x, where this form takes 0.73-0.83x."""
    small = jnp.clip(x, -3, 3)
    six = small * 0 + 6
    middle = small * (small + 3) / six
    return jnp.where(x <= -3, jnp.float32(0), jnp.where(x >= 3, x, middle))


def _hard_sigmoid32(x: Array) -> Array:
    """The reference's (x + 3) / 6 with its two selects made a clip: x <= -3 gives x + 3 <= 0 and
    x >= 3 gives x + 3 >= 6 (the same roundings, so the same bits; NaN stays NaN through XLA's
    maximum and minimum). 1.02x jax.nn.hard_sigmoid under jit, where the selects cost 1.16x."""
    return jnp.clip(x + 3, 0, 6) / 6


def _two_sum(a: Array, b: Array) -> tuple[Array, Array]:
    """a + b as s + its rounding error, exactly (Knuth's TwoSum: additions only)."""
    s = a + b
    b_virtual = s - a
    return s, (a - (s - b_virtual)) + (b - b_virtual)


def _fast_two_sum(a: Array, b: Array) -> tuple[Array, Array]:
    """a + b as s + its rounding error, for |a| >= |b| (Dekker's Fast2Sum)."""
    s = a + b
    return s, b - (s - a)


def _add(a: Array, a_lo: Array, b: Array, b_lo: Array) -> tuple[Array, Array]:
    """(a + a_lo) + (b + b_lo) as a float32 pair."""
    s, error = _two_sum(a, b)
    return s, error + (a_lo + b_lo)


def _mul(a: Array, a_lo: Array, b: Array, b_lo: Array) -> tuple[Array, Array]:
    """(a + a_lo) (b + b_lo) as a float32 pair."""
    p = a * b
    return p, _product_error(a, b, p) + (a * b_lo + a_lo * b)


def _quotient(a: Array, a_lo: Array, b: Array, b_lo: Array) -> Array:
    """(a + a_lo) / (b + b_lo), rounded about once: each division's result is used once (XLA
    does not fuse a division with two users, and writes it out instead)."""
    return a / b + (a_lo - a * (b_lo / b)) / b


def _reciprocal(d: Array, low: float) -> Array:
    """1/d for d in [low, 2 low], low a power of 2, without a division: a linear first guess (to
    1/17) and three Newton steps (1/17 -> 2^-8.2 -> 2^-16.4 -> r's own rounding). A division
    whose result is used twice is written out by XLA (see _quotient); products are fused. Where
    one division suffices, it is cheaper (SiLU: 1.8 ms with these, 1.5 ms with divisions)."""
    r = (jnp.float32(24 / 17) - jnp.float32(8 / 17 / low) * d) * jnp.float32(1 / low)
    for _ in range(3):
        r = r * (2 - d * r)
    return r


# SiLU and the tanh form of GELU, x sigmoid(a) with a = x and a = 2u = A x + B x^3, and their
# derivatives, from XLA's float32 exp with the roundings of 1 + e carried (a pair exp, first used
# here, cost 2-3x as much: with XLA's exp alone, x e / (1 + e) is 2.9 ulps off near x = -2, where
# the bound is 2). ``_exp_minus_abs`` is the pair exp for Mish, exact GELU and softplus.


def _exp_minus_abs(a: Array, a_lo: Array | float) -> tuple[Array, Array, Array, Array]:
    """exp(-|a + a_lo|) = (big + lo) s1 s2 (see _exp_pair): exp(m + m_lo) = exp(m) (1 + m_lo), with
    m_lo = 0 where m is clamped at the floor (a = +-inf, where a_lo may be NaN)."""
    m = jnp.maximum(jnp.where(a >= 0, -a, a), jnp.float32(_EXP_FLOOR))
    big, lo, s1, s2 = _exp_pair(m)
    if not isinstance(a_lo, float):
        m_lo = jnp.where(m > jnp.float32(_EXP_FLOOR), jnp.where(a >= 0, -a_lo, a_lo), jnp.float32(0))
        lo = lo + big * m_lo
    return big, lo, s1, s2


def _silu32(x: Array) -> Array:
    return _over_one_plus_exp(x, x, None, 80.0)


def _silu_dash32(x: Array) -> Array:
    return _sigmoid_slope_of(x, x, None, x, None)


def _over_one_plus_exp(x: Array, a: Array, a_lo: Array | None, limit: float) -> Array:
    """x sigmoid(a + a_lo) = x / D with D = 1 + E, E = e^-a (1 - a_lo) from XLA's float32 exp
    (within 1 ulp), and D's own rounding put back: d = fl(1 + e) is D - d_lo, d_lo exact by TwoSum
    (plus -e a_lo), so x / D = x / d - (x / d) (d_lo / d) to first order. Without it, d's
    rounding, e's and the division's add up to 1.97 ulps for SiLU (x = -1.5e-5); with it 1.32 at
    worst (x = -2.217), with and without FMA. The correction divides by no d: x d_lo r^2, with r a
    reciprocal of d to 12% from its bits (its error moves the result by 0.1 ulp at most), so that
    the loop holds one division: SiLU 1.5x jax.nn.silu, where x sigmoid(x) built on the pair exp
    of ``_exp_pair`` took 3.4x. Below a = -80 the correction is 0 (e and d overflow; x / inf is
    the limit -0.0); x itself above ``limit``."""
    small = jnp.maximum(x, jnp.float32(-1000))  # -inf / inf would be NaN
    e = jnp.exp(-a)
    d = e + 1
    virtual = d - e
    minus_lo = ((d - virtual) - e) + (virtual - 1)  # -d_lo; +0 (not -0) where d is exact
    if a_lo is not None:
        minus_lo = minus_lo + e * a_lo
    minus_lo = jnp.where(a > jnp.float32(-80), minus_lo, jnp.float32(0))  # inf - inf
    r = _rough_reciprocal(jnp.minimum(d, jnp.float32(1e30)))
    y = small / d + small * (minus_lo * (r * r))  # the zeros keep their signs: -0.0 + -0.0
    return jnp.where(x > jnp.float32(limit), x, y)


def _rough_reciprocal(d: Array) -> Array:
    """1/d to 12% for a positive normal d, from its bits (the exponent negated, the significand
    folded): no division."""
    bits = jnp.int32(0x7EF311C3) - jax.lax.bitcast_convert_type(d, jnp.int32)
    return jax.lax.bitcast_convert_type(bits, jnp.float32)


# exp(m) for m < -40 as exp(m + c) k: c = 64 ln 2 rounded to float32 (m + c is exact: both are
# multiples of 2^-18 below 64 in magnitude), k = 2^-64 e^(64 ln 2 - c). XLA's exp flushes e^m to 0
# below -87.3, where SiLU's derivative e^m (1 + x) is still normal, and Dekker's partial products
# of a small e are flushed long before.
_SHIFT = np.float32(64 * math.log(2))
_SHIFT_BACK = np.float32(2.0**-64 * math.exp(64 * math.log(2) - float(_SHIFT)))


def _shifted_exp(m: Array) -> tuple[Array, Array]:
    """e^m for m <= 0 as e_far * scale: e_far = exp(m + c) and scale = k below -40 (normal where
    e^m is flushed), e_far = exp(m) and scale = 1 above. Products with e_far stay normal; the
    caller scales last."""
    far = m < jnp.float32(-40)
    return jnp.exp(jnp.where(far, m + _SHIFT, m)), jnp.where(far, _SHIFT_BACK, jnp.float32(1))


def _near_reciprocal(d: Array) -> Array:
    """1/d to 1.5%: ``_rough_reciprocal`` and one Newton step, for a first-order correction."""
    r = _rough_reciprocal(d)
    return r * (2 - d * r)


def _sigmoid_slope_of(x: Array, a: Array, a_lo: Array | None, k: Array, k_lo: Array | None) -> Array:
    """sigmoid(a) + k sigmoid(a) (1 - sigmoid(a)), with a and k = x a' of x's sign (SiLU: a = k =
    x): with E = e^-|a| and D = 1 + E, it is q = E (D - |k|) / D^2 for x < 0 and 1 - q for x >= 0
    (q <= 0.1 there: no cancellation). D - |k| is 0 where the derivative is (SiLU: x = -1.278):
    its rounding and d's (d_lo, exact by Fast2Sum), and a's and k's low parts, are carried into q
    to first order, d_lo / d^2 through a 12% reciprocal and one Newton step; the products e v and
    d d round. E is XLA's float32 exp. SiLU: 2.70 ulps at worst (bound 4; x = -0.54), with and
    without FMA, 2.2x jax.nn's derivative, where a pair exp (``_exp_pair``) took 3.8x; carrying
    the products' errors too (Dekker) gave 1.70 ulps at 2.9x, dropping v's 3.39 ulps."""
    e_far, scale = _shifted_exp(-jnp.abs(a))
    e = e_far * scale
    d, d_lo = _fast_two_sum(e * 0 + 1, e)  # an array 1: XLA folds (e + 1) - 1 into e, and d_lo with it
    m_lo = None if a_lo is None else jnp.where(a >= 0, -a_lo, a_lo)  # E = e (1 + m_lo)
    if m_lo is not None:
        d_lo = d_lo + e * m_lo
    v, v_lo = _two_sum(d, -jnp.minimum(jnp.abs(k), jnp.float32(1e30)))  # +-inf: e = 0, v finite
    low = v_lo + d_lo  # D - |k| = v + low
    if k_lo is not None:
        low = low - jnp.where(k >= 0, k_lo, -k_lo)
    n = e_far * v
    if m_lo is not None:
        low = low + v * m_lo
    dd = d * d
    r = _near_reciprocal(dd)
    q = (n / dd + (e_far * low - n * ((2 * d * d_lo) * r)) * r) * scale
    return jnp.where(x < 0, q, 1 - q)


# 2 sqrt(2/pi) as a float32 pair, and 2 sqrt(2/pi) 0.044715: a = 2u = A x + B x^3 = x (A + B x^2),
# and the derivative's k = x a' = x (A + 3B x^2).
_GELU_A = np.float32(2 * math.sqrt(2 / math.pi))
_GELU_A_LO = np.float32(2 * math.sqrt(2 / math.pi) - float(_GELU_A))
_GELU_B = np.float32(2 * math.sqrt(2 / math.pi) * 0.044715)
_GELU_B_LO = np.float32(2 * math.sqrt(2 / math.pi) * 0.044715 - float(_GELU_B))
_GELU_3B = np.float32(6 * math.sqrt(2 / math.pi) * 0.044715)
_GELU_3B_LO = np.float32(6 * math.sqrt(2 / math.pi) * 0.044715 - float(_GELU_3B))


def _gelu_tanh_polynomial(x: Array, b: np.float32, b_lo: np.float32) -> tuple[Array, Array]:
    """x (A + b x^2) as a float32 pair from x clipped to +-1e4 (x^3 cannot overflow; sigmoid(2u)
    is 0 or 1 there): x^2, b x^2, A + b x^2 and the last product carried (Dekker, TwoSum), to
    2^-34 relative. exp(-|a|) has condition number |a| (up to about 100 before the value
    underflows), so a must be right to 2^-31 or so."""
    small = jnp.clip(x, jnp.float32(-1e4), jnp.float32(1e4))
    square = small * small
    square_lo = _product_error(small, small, square)
    scaled = b * square
    scaled_lo = _product_error(jnp.float32(b), square, scaled) + (b * square_lo + b_lo * square)
    w, w_lo = _two_sum(small * 0 + _GELU_A, scaled)  # an array A: see _exp_pair
    w_lo = w_lo + (_GELU_A_LO + scaled_lo)
    a = small * w
    return a, _product_error(small, w, a) + small * w_lo


def _gelu_tanh32(x: Array) -> Array:
    a, a_lo = _gelu_tanh_polynomial(x, _GELU_B, _GELU_B_LO)
    return _over_one_plus_exp(x, a, a_lo, 30.0)  # sigmoid(a) is 1 from x = 8.2 on


def _gelu_tanh_dash32(x: Array) -> Array:
    a, a_lo = _gelu_tanh_polynomial(x, _GELU_B, _GELU_B_LO)
    k, k_lo = _gelu_tanh_polynomial(x, _GELU_3B, _GELU_3B_LO)
    return _sigmoid_slope_of(x, a, a_lo, k, k_lo)


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
# Horner's roundings GELU is 0.36 of the bound at worst (x = -2.2), where 9 intervals of the first
# kind took 104 selects, 4.2 of the kernel's 10.8 ms per 10^6. e(z) is ``_exp_pair`` with z^2 exact.
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


def _pick(z: Array, values: list[float] | list[np.float32]) -> Array:
    """The interval's value of a coefficient, by selects (no gather)."""
    picked = jnp.float32(values[0]) + z * 0
    for start, value in zip(_MILLS_STARTS, values[1:], strict=True):
        picked = jnp.where(z >= jnp.float32(start), jnp.float32(value), picked)
    return picked


def _float32_pair(value: float) -> tuple[np.float32, np.float32]:
    high = np.float32(value)
    return high, np.float32(value - float(high))


def _gelu_parts(x: Array) -> tuple[Array, tuple[Array, Array], tuple[Array, Array], Array, Array]:
    """z = |x| (clamped at _MILLS_TOP), e(z) / (s1 s2) and N(z) as pairs, s1 and s2."""
    z = jnp.minimum(jnp.abs(x), jnp.float32(_MILLS_TOP))
    rows = _N_ROWS
    center = _pick(z, [row[0] for row in rows])
    h = z - center
    s = _pick(z, [row[-1] for row in rows])
    for j in range(len(rows[0]) - 2, 2, -1):
        s = s * h + _pick(z, [row[j] for row in rows])
    c1 = [_float32_pair(row[2]) for row in rows]
    c0 = [_float32_pair(row[1]) for row in rows]
    t = _add(_pick(z, [c[0] for c in c1]), _pick(z, [c[1] for c in c1]), h * s, z * 0)
    near = _add(_pick(z, [c[0] for c in c0]), _pick(z, [c[1] for c in c0]), *_mul(h, z * 0, *t))
    w = 1 / (jnp.maximum(z, jnp.float32(_MILLS_FAR)) + 1)
    far = jnp.float32(_MILLS_W[-1])
    for coefficient in reversed(_MILLS_W[:-1]):
        far = far * w + jnp.float32(coefficient)
    beyond = z >= jnp.float32(_MILLS_FAR)
    n = jnp.where(beyond, far, near[0]), jnp.where(beyond, jnp.float32(0), near[1])
    zz = z * z
    half = zz * jnp.float32(0.5)  # exact: e(z) = exp(-half) (1 - half_lo), half_lo = zz_lo / 2
    big, lo, s1, s2 = _exp_pair(-half)
    lo = lo - big * (_product_error(z, z, zz) * jnp.float32(0.5))
    return z, (big, lo), n, s1, s2


def _gelu32(x: Array) -> Array:
    """max(x, 0) - p with p = |x| e(z) N(z) (x - x Phi(-x) for x >= 0, x Phi(x) for x < 0), p a
    pair scaled by s1 s2 last, and the difference rounded once (Fast2Sum from max(x, 0) capped at
    10^4, so that inf - inf is not formed: p is 0 from 16 on); the sign is x's, so that the zeros
    keep theirs and an underflow below 0 is -0.0. |x| is capped at 1000 in p (inf * 0 is NaN)."""
    _, e, n, s1, s2 = _gelu_parts(x)
    q = _mul(*e, *n)
    a = jnp.minimum(jnp.abs(x), jnp.float32(1000))
    p = a * q[0]
    p_lo = (_product_error(a, q[0], p) + a * q[1]) * s1 * s2
    p = p * s1 * s2
    m = jnp.maximum(x, jnp.float32(0))
    _, y_lo = _fast_two_sum(jnp.minimum(m, jnp.float32(1e4)), -p)
    return jnp.copysign((m - p) + (y_lo - p_lo), x)


def _gelu_dash32(x: Array) -> Array:
    """g = e(z) (N(z) - z / sqrt(2 pi)), a pair; g for x < 0 (+0 at -inf, as the contract), 1 - g
    for x >= 0."""
    z, e, n, s1, s2 = _gelu_parts(x)
    k, k_lo = _float32_pair(_INVERSE_SQRT_2PI)
    kz = k * z
    kz_lo = _product_error(z * 0 + k, z, kz) + k_lo * z
    g = _mul(*e, *_add(*n, -kz, -kz_lo))
    below = jnp.where(x < jnp.float32(-1000), jnp.float32(0), (g[0] + g[1]) * s1 * s2)
    above = (1 - g[0] * s1 * s2) - g[1] * s1 * s2
    return jnp.where(x < 0, below, above)


# Softplus: max(x, 0) + log1p(e) / beta with e = exp(-|beta x|) as a pair (``_exp_pair``) and
# log1p(e) = 2 atanh(e / (2 + e)): with XLA's float32 exp and log1p it is 2.8 ulps off near
# x = -0.7, where the bound is 2.

_ATANH = (1 / 3, 1 / 5, 1 / 7, 1 / 9, 1 / 11, 1 / 13, 1 / 15, 1 / 17)  # atanh(t)/t - 1 in t^2; t <= 1/3


def _softplus32(x: Array, beta: float) -> Array:
    """z = beta x carried as z + z_lo (its product error), so that e = exp(-|z|) (1 -+ z_lo)
    is right where |z| is large; t = e / (2 + e) with its error as t_lo (Dekker),
    log1p(e) = 2 t + 2 (t_lo + t^3 P(t^2)); divided by beta as a product with 1/beta carried as a
    float32 pair (XLA turns a division by a constant into a product with its rounded reciprocal).
    Below z = -20, log1p(e) = e to 2^-30.

    e is XLA's float32 exp (within 1 ulp; log1p(e) has condition number at most 1 in e) for beta
    >= 1: 1.48 ulps at most, 0.94x jax.nn.softplus under jit (with the pair exp of ``_exp_pair``,
    1.2 ulps and 1.2x). XLA flushes a subnormal e to 0, which costs nothing there: e / beta <= e;
    but Dekker's partial products of e / beta are flushed long before (beta = 10 was 10^4 ulps off
    at x = -7.7), so e is lifted by 2^64 for the division. For beta < 1, e / beta may be normal
    where e is not: the pair exp, scaled by s1 s2 last."""
    beta = float(np.float32(beta))
    z, z_lo = x, 0.0
    if beta != 1:
        z = x * np.float32(beta)
        z_lo = _product_error(x, jnp.float32(beta), z)
    if beta >= 1:
        e = jnp.exp(-jnp.abs(z))
        m_lo = 0.0 if beta == 1 else jnp.where(jnp.abs(z) < jnp.float32(100), jnp.where(z >= 0, -z_lo, z_lo), 0)
        e_lo = e * m_lo
        s1 = s2 = None
    else:
        big, lo, s1, s2 = _exp_minus_abs(z, z_lo)
        e, e_lo = (big * s1) * s2, (lo * s1) * s2
    two = e * 0 + 2  # an array: see _exp_pair
    d = two + e
    d_lo = (e - (d - two)) + e_lo
    r = _reciprocal(d, 2.0)  # no division: t is used five times (see _reciprocal)
    t = e * r
    p = t * d
    t_lo = (((e - p) - _product_error(t, d, p)) + (e_lo - t * d_lo)) * r
    t2 = t * t
    q = jnp.float32(_ATANH[-1])
    for coefficient in reversed(_ATANH[:-1]):
        q = q * t2 + jnp.float32(coefficient)
    hi, low = 2 * t, 2 * (t_lo + t * t2 * q)
    far = jnp.abs(z) > jnp.float32(20)
    inverse, inverse_lo = _float32_pair(1 / beta)

    def over_beta(hi: Array, low: Array) -> Array:
        """(hi + low) / beta: two roundings and 1/beta's own, carried."""
        if beta == 1:
            return hi + low
        product = hi * inverse
        return product + ((_product_error(hi, jnp.float32(inverse), product) + hi * inverse_lo) + low * inverse)

    if s1 is None and beta == 1:
        y = jnp.where(far, e, hi + low)
    elif s1 is None:  # e / beta from e 2^64: Dekker's partial products of a tiny e would be flushed
        lifted = e * jnp.float32(2.0**64)
        lifted_y = over_beta(jnp.where(far, lifted, hi), jnp.where(far, lifted * m_lo, low))
        y = lifted_y * jnp.where(far, jnp.float32(2.0**-64), jnp.float32(1))
    else:
        y = jnp.where(far, (((big + lo) * inverse) * s1) * s2, over_beta(hi, low))
    # a select, not max(x, 0) + y: XLA moves max and add into value_and_grad's sum, and writes an
    # array of zeros for it (1.24x jax.nn's value_and_grad; 0.94-1.0x as a select)
    return jnp.where(x > 0, x + y, y)


def _softplus_dash32(x: Array, beta: float) -> Array:
    """The reference's sigmoid(beta x), 1/(1 + e) or e/(1 + e), as one division of a selected
    numerator (the same bits; a division costs 20 products here). From XLA's float32 exp: 2 ulps
    at worst (measured), the bound 4 ulps."""
    z = rectifiers._scaled(x, beta, jnp)
    e = jnp.exp(-jnp.abs(z))
    return jnp.where(z >= 0, 1, e) / (1 + e)


# Mish: x tanh(softplus(x)) = x n / (n + 2) with n = e^x (e^x + 2), from e = exp(-|x|) as a pair,
# every sum and product carried as a pair: with float32 roundings the value is about 3 ulps off
# (bound 2) and the derivative 5 (bound 4).


def _mish_parts(x: Array) -> tuple[Array, Array, Array, Array, Array, Array, Array]:
    """e = exp(-|x|) = (big + lo) s1 s2, e and e_lo scaled, and an array 0 (see _exp_pair)."""
    big, lo, s1, s2 = _exp_minus_abs(x, 0.0)
    return big, lo, s1, s2, (big * s1) * s2, (lo * s1) * s2, big * 0


def _mish32(x: Array) -> Array:
    """x N / D: for x < 0 N = e (e + 2), D = N + 2 (e = exp(x)); for x >= 0 N = 1 + 2e,
    D = N + 2 e^2 (e = exp(-x), the same over e^-2). For x < 0, N is kept as big (e + 2) and scaled
    by s1 s2 last, so that it rounds once where it is subnormal. 1.2 ulps at most, measured."""
    big, lo, s1, s2, e, e_lo, zero = _mish_parts(x)
    negative = x < 0
    two = zero + 2
    below = _mul(big, lo, *_add(two, zero, e, e_lo))
    d_below = _add(two, zero, below[0] * s1 * s2, below[1] * s1 * s2)
    above = _add(zero + 1, zero, 2 * e, 2 * e_lo)
    d_above = _add(*above, *_mul(2 * e, 2 * e_lo, e, e_lo))
    w = jnp.where(negative, below[0], above[0])
    w_lo = jnp.where(negative, below[1], above[1])
    d = jnp.where(negative, d_below[0], d_above[0])
    d_lo = jnp.where(negative, d_below[1], d_above[1])
    small = jnp.maximum(x, jnp.float32(-1000))  # -inf: -1000 e is 0 as well
    n = small * w
    y = _quotient(n, _product_error(small, w, n) + small * w_lo, d, d_lo)
    y = jnp.where(negative, (y * s1) * s2, y)
    return jnp.where(x > jnp.float32(87), x, y)  # x itself beyond (inf included: inf * 0 is NaN)


def _mish_dash32(x: Array) -> Array:
    """The reference's one-denominator form from E = e^-|x| (XLA's float32 exp, within 1 ulp).
    For x < 0 (e = E): e ((e + 2) d + 4x (e + 1)) / d^2 with d = n + 2, n = e (e + 2), every sum and
    product carried as a float32 pair (the sum cancels where the derivative is 0, x = -1.19);
    below -40 from exp(-|x| + 64 ln 2), scaled back last (see _SHIFT), so that nothing normal is
    flushed. For x >= 0 the same over e^-4 as 1 minus a small term, 1 - E^2 (2 - 4x + 4E (1 - x +
    E)) / (1 + 2E + 2E^2)^2, with float32 roundings (the term is at most 0.4), whose autodiff
    (mish'') stays accurate: as a quotient of two near-1 pairs, mish''(8) came out 2^-15 off and
    mish''(20) with the wrong sign. 0.43 of the bound for x < 0 and 0.64 (2.6 ulps, x = 0.0096)
    for x >= 0 at most, with and without FMA: 0.8-0.9x the autodiff of jax.nn.mish, where the
    pair exp of ``_mish_parts`` took 1.2x."""
    e_far, scale = _shifted_exp(-jnp.abs(x))
    e = e_far * scale
    small = jnp.clip(x, jnp.float32(-1000), jnp.float32(1000))
    two = e * 0 + 2  # arrays: XLA folds (e + 2) - 2 into e (see _exp_pair)
    one = two - 1
    p, p_lo = _fast_two_sum(two, e)  # e + 2
    n = e * p
    n_lo = _product_error(e, p, n) + e * p_lo
    d, d_lo = _fast_two_sum(two, n)
    d_lo = d_lo + n_lo
    a = p * d
    a_lo = _product_error(p, d, a) + (p * d_lo + p_lo * d)
    q, q_lo = _fast_two_sum(one, e)  # e + 1
    b = small * q
    b_lo = 4 * (_product_error(small, q, b) + small * q_lo)
    total, total_lo = _two_sum(a, 4 * b)
    total_lo = total_lo + (a_lo + b_lo)
    top = e_far * total
    top_lo = _product_error(e_far, total, top) + e_far * total_lo
    dd = d * d
    dd_lo = _product_error(d, d, dd) + 2 * d * d_lo
    r = _near_reciprocal(dd)
    lower = (top / dd + (top_lo - top * (dd_lo * r)) * r) * scale
    u = 1 + 2 * e + 2 * (e * e)
    upper = (e * e) * (2 - 4 * small + 4 * e * ((1 - small) + e)) / (u * u)
    return jnp.where(x < 0, lower, 1 - upper)


# Squareplus: (x + s) / 2 with s = sqrt(x^2 + b), and (b/2) / (s + |x|) for x < 0 (the same
# quantity without the cancellation), both from P = s + |x|. A float32 s is within one ulp, and the
# contract's bound (2 ulps; the condition number is at most 1) has no room for that plus the
# additions and the division: s's rounding and P's are carried. A division costs as much as 20
# products here (each one 0.29 ms per 10^6 under jit, sqrt alike): the value has one, its
# corrections take a reciprocal to 12% from the bits or one from the quotient itself (3.1-3.6x
# jax.nn.squareplus with three divisions, 1.9-2.1x with one).


def _squareplus_scale(b: float) -> tuple[float, float]:
    """k, a power of 2 near sqrt(b), and b / k^2 (exact): squareplus(x; b) = k squareplus(x/k; b/k^2),
    so that u = x / k squared neither overflows nor underflows where b matters."""
    k = 2.0 ** round(math.log2(b) / 2)
    return k, float(np.float32(b / (k * k)))


_SQUAREPLUS_BIG = 2.0**40  # |u| beyond: s = |u| (1 + b'/(2u^2)) with b'/(2u^2) below 2^-79


def _squareplus_sum(x: Array, b: float) -> tuple[float, float, Array, Array, Array, Array, Array]:
    """k, b', u = x / k, s0 and ds with s = s0 + ds, and P = s + |u| as p + lo.

    s0 = sqrt(w), w = fl(c^2 + b') (c = |u| clamped at 2^40, where u^2 cannot overflow), and its
    rounding w - s0^2 from 12-bit halves of s0: w - sh^2 is exact (Sterbenz: sh^2 is within 2^-10
    of w, and a product of halves is exact), the rest is 2^-11 of it. ds = (w - s0^2) / (2 s0) to
    12% (ds is half an ulp of s0 at most). w's own roundings (c^2's and the sum's) move s by half of
    theirs: left (the value 0.74 of the bound at worst, screened; 0.71 with them carried). P:
    Fast2Sum of s0 >= c (sqrt(fl(c^2)) is c), its error plus ds as lo."""
    k, b_scaled = _squareplus_scale(b)
    u = x * np.float32(1 / k)
    a = jnp.abs(u)
    big = a > jnp.float32(_SQUAREPLUS_BIG)
    c = jnp.minimum(a, jnp.float32(_SQUAREPLUS_BIG))
    w = c * c + np.float32(b_scaled)
    s0 = jnp.sqrt(w)
    sh = _top_half(s0)
    sl = s0 - sh
    ds = (((w - sh * sh) - 2 * sh * sl) - sl * sl) * (_rough_reciprocal(s0) * jnp.float32(0.5))
    p = s0 + c
    lo = (c - (p - s0)) + ds
    return k, b_scaled, u, jnp.where(big, a, s0), ds, jnp.where(big, a + a, p), jnp.where(big, jnp.float32(0), lo)


def _squareplus32(x: Array, b: float) -> Array:
    """k P / 2 for x >= 0 (rounded once), k (b'/2) / P = y0 (1 - lo/p) for x < 0, 1/p taken as
    y0 (2/(k b')) (k is a power of 2: the products by it are exact): 1.48 ulps at most, screened."""
    k, b_scaled, u, _, _, p, lo = _squareplus_sum(x, b)
    y0 = np.float32(k * b_scaled / 2) / p
    y = jnp.where(u >= 0, (p + lo) * np.float32(k / 2), y0 - y0 * (y0 * np.float32(2 / (k * b_scaled)) * lo))
    if k >= 2:  # beyond 2^40 k, p = 2|u| = 2x/k is finite (inf at inf), and y = p k/2 = x exactly
        return y
    return jnp.where(x > np.float32(_SQUAREPLUS_BIG * k), x, y)  # x itself beyond, inf included


def _squareplus_dash32(x: Array, b: float) -> Array:
    """q = squareplus(-|x|) / s = (b'/2) / (P s) for x < 0, 1 - q for x >= 0 (q <= 1/2: no
    cancellation): 2.84 ulps at most (0.71 of the bound), screened."""
    _, b_scaled, _, s0, ds, p, lo = _squareplus_sum(x, b)
    t = (np.float32(b_scaled / 2) / p) / s0
    q = t - t * (lo / p + ds / s0)
    return jnp.where(x >= 0, 1 - q, q)


FLOAT32: dict[str, Callable[..., Array]] = {
    "hard_swish": _hard_swish32,
    "hard_sigmoid": _hard_sigmoid32,
    "softplus": _softplus32,
    "silu": _silu32,
    "mish": _mish32,
    "gelu": lambda x, approximate: _gelu_tanh32(x) if approximate else _gelu32(x),
    "gelu_dash": lambda x, approximate: _gelu_tanh_dash32(x) if approximate else _gelu_dash32(x),
    "mish_dash": _mish_dash32,
    "silu_dash": _silu_dash32,
    "squareplus": _squareplus32,
    "squareplus_dash": _squareplus_dash32,
    "elu": _elu32,
    "selu": _selu32,
    "celu": _celu32,
    "elu_dash": lambda x, alpha: rectifiers.elu_dash(x, alpha, jnp),
    "selu_dash": lambda x: rectifiers.selu_dash(x, jnp),
    "celu_dash": lambda x, alpha: rectifiers.celu_dash(x, alpha, jnp),
    "softplus_dash": _softplus_dash32,
}


@functools.lru_cache(maxsize=64)
def _compiled_prelu(name: str, max_value: Number | None, threshold: Number) -> Callable[[Array, Array], Array]:
    """jit(relu or relu_dash) of (x, leak) for an array leak, differentiable in both."""
    if name == "relu_dash":
        return jax.jit(lambda x, leak: reference.relu_dash(x, leak, max_value, threshold, jnp))

    @jax.custom_jvp
    def f(x: Array, leak: Array) -> Array:
        return reference.relu(x, leak, max_value, threshold, jnp)

    def f_jvp(primals: tuple[Array, Array], tangents: tuple[Any, Any]) -> tuple[Array, Array]:
        (x, leak), (tx, tleak) = primals, tangents
        y = f(x, leak)
        parts = [] if isinstance(tx, SymbolicZero) else [_prelu_chain(x, tx, leak, max_value, threshold)]
        if not isinstance(tleak, SymbolicZero):
            parts.append(reference.relu_leak_chain(x, tleak, leak, max_value, threshold, jnp))
        return y, sum(parts[1:], parts[0]) if parts else jnp.zeros_like(y)

    f.defjvp(f_jvp, symbolic_zeros=True)
    return jax.jit(f)


def _prelu_chain(x: Array, t: Array, leak: Array, max_value: Number | None, threshold: Number) -> Array:
    """relu_chain(x, t, leak) for an array leak, plus a term that is 0 in value and whose derivative
    in leak is relu_chain's own (t on the leak side): relu_chain holds a zero slope at +0.0 with a
    where, through which autodiff would give 0 (PReLU's d2y/dx dleak at leak = 0)."""
    held = leak - jax.lax.stop_gradient(leak)  # 0, with derivative 1 in leak
    return reference.relu_chain(x, t, leak, max_value, threshold, jnp) + reference.relu_chain_leak_chain(
        x, t, held, max_value, threshold, jnp
    )


def _relu_kernel(name: str) -> Callable[..., Array]:
    def kernel(x: Array, leak: Any, max_value: Any, threshold: Any, xp: ModuleType) -> Array:
        if isinstance(leak, (int, float)):
            return compiled(name, (leak, max_value, threshold))(x)
        return _compiled_prelu(name, max_value, threshold)(x, leak)

    return kernel


def _kernel(name: str) -> Callable[..., Array]:
    def kernel(x: Array, *args: Any) -> Array:
        return compiled(name, tuple(args[:-1]))(x)

    return kernel


KERNELS = {
    **{name: _kernel(name) for name in REFERENCE},
    "relu": _relu_kernel("relu"),
    "relu_dash": _relu_kernel("relu_dash"),
}

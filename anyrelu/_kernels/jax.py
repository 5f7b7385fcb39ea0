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
at a fraction of float32's speed on CPUs, 1/32-1/64 on GPUs, and not at all on TPUs): the
``FLOAT32`` kernels below, on the float32 pair arithmetic of ``_kernels/float32.py`` (which also
holds the ELU family and exact GELU, shared with torch graphs). XLA's own float32 exp, expm1,
log1p and erfc leave too little room for the 2-ulp bound.
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
from . import float32 as f32

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

    apart = (name, parameters) in APART

    def f_jvp(primals: tuple[Array], tangents: tuple[Any]) -> tuple[Array, Array]:
        (x,), (t,) = primals, tangents
        y = f(x)
        if isinstance(t, SymbolicZero):
            return y, jnp.zeros_like(y)
        return y, chain(jax.lax.optimization_barrier(x) if apart else x, t, *parameters, jnp)

    f.defjvp(f_jvp, symbolic_zeros=True)
    return jax.jit(f)


# Exact GELU's derivative is computed from an x that XLA cannot identify with the value's (an
# optimization barrier): value and derivative then share no expression, and each fuses into one
# loop. Shared, XLA writes out every intermediate the two use (a division or an exp with two users
# is not fused twice): SiLU's value_and_grad was split into 11 loops, 4.5x jax.nn's; apart 2.5x.
# With exact GELU's kernels it costs the same either way (medians of 30 alternated rounds: 2.83x and
# 2.88x), and softplus and squareplus are faster shared (0.68x and 0.86x jax.nn's value_and_grad,
# against 0.96x and 0.94x apart), as are Mish and ELU. SiLU's and tanh-GELU's derivatives are
# written on the value itself (``_silu_dash32``), which shares the one exp and one division with it.
APART = frozenset([("gelu", (False,))])


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


_EXP_FLOOR = -170.0  # softplus's exp(beta x) / beta underflows beyond for every float32 beta > 2^-126


# alpha is a parameter, rounded to x's dtype like x (float32 and float64 get a Python float as it
# is): float32 computes with float32(alpha), as every other float32 kernel does.


def _hard_swish32(x: Array) -> Array:
    """x h with h = clip(x/6 + 1/2, 0, 1) and x/6 as x fl(1/6): no division. Three roundings and
    fl(1/6)'s 2^-25, 1.83 ulps at worst over every float32 in [-3, 3] where XLA rounds x fl(1/6)
    + 1/2 twice, 1.50 where it contracts the two into an FMA (the bound is 2). The true division
    of NumPy's form, x (clip(-3 - x, -6, 0) / -6) (1.82 ulps), kept this loop at 1.12-1.13x
    jax.nn.hard_swish under jit on an AMD EPYC with AVX-512, where this one takes 0.98x (medians
    of 40 alternated rounds of the best of three 20-call runs; 1.11 against 1.02-1.04 in the
    bench's rounds). The division is what differs: the same form with a product by fl(-1/6) took
    1.00x, and is 2.48 ulps off. For x >= 3, h is exactly 1 (3 fl(1/6) rounds to 1/2, a larger x
    gives more, and the clip caps it), so the result is x; for x <= -3 h is 0, and one select,
    the last operation, gives +0.0 (x * 0 is -0.0 there, and NaN at -inf): under
    ``value_and_grad`` XLA moves a trailing chain of arithmetic into the sum's YNNPACK reduction,
    with arrays of its constants written out (2.7-3.4x jax.nn's; a select or a clamp stops it).
    NaN stays NaN (XLA's maximum and minimum keep it, and NaN <= -3 is false)."""
    h = jnp.clip(x * jnp.float32(1 / 6) + jnp.float32(0.5), jnp.float32(0), jnp.float32(1))
    return jnp.where(x <= jnp.float32(-3), jnp.float32(0), x * h)


def _hard_sigmoid32(x: Array) -> Array:
    """The reference's (x + 3) / 6 with its two selects made a clip: x <= -3 gives x + 3 <= 0 and
    x >= 3 gives x + 3 >= 6 (the same roundings, so the same bits; NaN stays NaN through XLA's
    maximum and minimum). 1.02x jax.nn.hard_sigmoid under jit, where the selects cost 1.16x."""
    return jnp.clip(x + 3, 0, 6) / 6


def _reciprocal(d: Array, low: float) -> Array:
    """1/d for d in [low, 2 low], low a power of 2, without a division: a linear first guess (to
    1/17) and three Newton steps (1/17 -> 2^-8.2 -> 2^-16.4 -> r's own rounding). A division
    whose result is used twice is written out by XLA (it does not fuse an expensive operation into
    several users); products are fused. Where
    one division suffices, it is cheaper (SiLU: 1.8 ms with these, 1.5 ms with divisions)."""
    r = (jnp.float32(24 / 17) - jnp.float32(8 / 17 / low) * d) * jnp.float32(1 / low)
    for _ in range(3):
        r = r * (2 - d * r)
    return r


# SiLU and the tanh form of GELU, x sigmoid(a) with a = x and a = 2u = A x + B x^3, and their
# derivatives, from XLA's float32 exp with the roundings of 1 + e carried (a pair exp, first used
# here, cost 2-3x as much: with XLA's exp alone, x e / (1 + e) is 2.9 ulps off near x = -2, where
# the bound is 2). ``_exp_minus_abs`` is the pair exp for softplus with beta < 1.


def _exp_minus_abs(a: Array, a_lo: Array | float) -> tuple[Array, Array, Array, Array]:
    """exp(-|a + a_lo|) = (big + lo) s1 s2 (see f32.exp_pair): exp(m + m_lo) = exp(m) (1 + m_lo), with
    m_lo = 0 where m is clamped at the floor (a = +-inf, where a_lo may be NaN)."""
    m = jnp.maximum(jnp.where(a >= 0, -a, a), jnp.float32(_EXP_FLOOR))
    big, lo, s1, s2 = f32.exp_pair(m)
    if not isinstance(a_lo, float):
        m_lo = jnp.where(m > jnp.float32(_EXP_FLOOR), jnp.where(a >= 0, -a_lo, a_lo), jnp.float32(0))
        lo = lo + big * m_lo
    return big, lo, s1, s2


def _silu32(x: Array) -> Array:
    return _over_one_plus_exp(x, x, None, 80.0)


def _second_from(slope: Callable[[Array], Array]) -> Callable[[Callable[[Array], Array]], Callable[[Array], Array]]:
    """A derivative kernel as a ``custom_jvp`` whose tangent is autodiff of ``slope``, the same
    derivative in a form that autodiff can go through (f'' by autodiff of f' written on the value
    would be NaN at -inf: exp's rule multiplies a zero cotangent by exp(inf))."""

    def wrap(dash: Callable[[Array], Array]) -> Callable[[Array], Array]:
        kernel = jax.custom_jvp(dash)
        kernel.defjvp(lambda primals, tangents: (kernel(*primals), jax.jvp(slope, primals, tangents)[1]))
        return kernel

    return wrap


def _silu_slope(x: Array) -> Array:
    """SiLU' from exp(-|x|), finite everywhere: autodiff of it is SiLU''."""
    return _sigmoid_slope_of(x, x, None, x, None)


@_second_from(_silu_slope)
def _silu_dash32(x: Array) -> Array:
    """SiLU' = s (1 + x (1 - s)) with s = 1/D, D = 1 + e^-x: written on the value y = x s, it is
    ((1 + x) - y) / D, and (1 + y e) / D for x >= 0, where 1 + x - y would lose y's rounding
    (y is about x). For x < 0 the numerator cancels at its zero (x = -1.278) with no rounding in the
    difference (1 + x and y are within a factor 2 there: exact) and y's own error only (y is 0.28
    there). 2.90 ulps at most (bound 4; x = -0.0231: every float32 in [-16, 16] outside
    (-1e-4, 1e-4), and in [-16, -1e-4] without FMA too); putting
    d = fl(1 + e)'s rounding back (as the value does) gave 2.56 at 1.26-1.29x jax.nn's
    ``value_and_grad`` against 1.06-1.15x without.

    The value's e, d and y are this loop's own: XLA computes the value's operations once for both
    (e = exp(-x) is written out once, and y, which the sum reads anyway), so that
    ``value_and_grad`` is three loops and one exp, where a derivative apart (its own exp(-|x|),
    D^2 and a Newton reciprocal) cost 2.3-2.8x. For x < -88.7, e and d are inf and the quotient is
    0 (the exact value is below 64 smallest normals); + capped^2 * 0 makes -inf's -0.0 the limit
    +0.0 (XLA drops a plain + 0)."""
    y = _silu32(x)
    small, e, d, _, _ = _one_plus_exp(x, x, None)
    capped = jnp.minimum(y, jnp.float32(1000))  # y = x = inf above: inf * 0 would be NaN
    n = jnp.where(x < 0, (1 + small) - y, 1 + capped * e)
    return n / d + (capped * capped) * 0


def _one_plus_exp(x: Array, a: Array, a_lo: Array | None) -> tuple[Array, Array, Array, Array, Array]:
    """x floored at -1000, e = exp(-a), d = fl(1 + e), -d_lo (D = d + d_lo = 1 + e^-(a + a_lo) to
    first order) and a 12% reciprocal of d: see _over_one_plus_exp."""
    small = jnp.maximum(x, jnp.float32(-1000))  # -inf / inf would be NaN
    e = jnp.exp(-a)
    d = e + 1
    virtual = d - e
    minus_lo = ((d - virtual) - e) + (virtual - 1)  # -d_lo; +0 (not -0) where d is exact
    if a_lo is not None:
        minus_lo = minus_lo + e * a_lo
    minus_lo = jnp.where(a > jnp.float32(-80), minus_lo, jnp.float32(0))  # inf - inf
    return small, e, d, minus_lo, _rough_reciprocal(jnp.minimum(d, jnp.float32(2.0**125)))


def _over_one_plus_exp(x: Array, a: Array, a_lo: Array | None, limit: float) -> Array:
    """x sigmoid(a + a_lo) = x / D with D = 1 + E, E = e^-a (1 - a_lo) from XLA's float32 exp
    (within 1 ulp), and D's own rounding put back: d = fl(1 + e) is D - d_lo, d_lo exact by TwoSum
    (plus -e a_lo), so x / D = x / d - (x / d) (d_lo / d) to first order. Without it, d's
    rounding, e's and the division's add up to 1.97 ulps for SiLU (x = -1.5e-5); with it 1.32 at
    worst (x = -2.217), with and without FMA. The correction divides by no d: x d_lo r^2, with r a
    reciprocal of d to 12% from its bits (its error moves the result by 0.1 ulp at most), so that
    the loop holds one division: SiLU 1.5x jax.nn.silu, where x sigmoid(x) built on the pair exp
    of ``f32.exp_pair`` took 3.4x. Below a = -80 the correction is 0 (e and d overflow; x / inf is
    the limit -0.0); x itself above ``limit``."""
    small, _, d, minus_lo, r = _one_plus_exp(x, a, a_lo)
    y = small / d + small * (minus_lo * (r * r))  # the zeros keep their signs: -0.0 + -0.0
    return jnp.where(x > jnp.float32(limit), x, y)


def _rough_reciprocal(d: Array, scale: float = 1.0) -> Array:
    """scale/d to 12% for a positive normal d, from its bits (the exponent negated, the significand
    folded): no division. ``scale``, a power of 2, goes into the exponent (the same bits as the
    product by it where that is normal)."""
    magic = 0x7EF311C3 + round(math.log2(scale)) * (1 << 23)
    bits = jnp.int32(magic) - jax.lax.bitcast_convert_type(d, jnp.int32)
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


def _near_reciprocal(d: Array, steps: int = 1) -> Array:
    """1/d from ``_rough_reciprocal`` (12%) and Newton steps: 1.5% after one (for a first-order
    correction), 2^-24 after three."""
    r = _rough_reciprocal(d)
    for _ in range(steps):
        r = r * (2 - d * r)
    return r


def _sigmoid_slope_of(x: Array, a: Array, a_lo: Array | None, k: Array, k_lo: Array | None) -> Array:
    """sigmoid(a) + k sigmoid(a) (1 - sigmoid(a)), with a and k = x a' of x's sign (SiLU: a = k =
    x): with E = e^-|a| and D = 1 + E, it is q = E (D - |k|) / D^2 for x < 0 and 1 - q for x >= 0
    (q <= 0.1 there: no cancellation). D - |k| is 0 where the derivative is (SiLU: x = -1.278):
    its rounding and d's (d_lo, exact by Fast2Sum), and a's and k's low parts, are carried into q
    to first order, d_lo / d^2 through a 12% reciprocal and one Newton step; the products e v and
    d d round. E is XLA's float32 exp. SiLU: 2.70 ulps at worst (bound 4; x = -0.54), with and
    without FMA, 2.2x jax.nn's derivative, where a pair exp (``f32.exp_pair``) took 3.8x; carrying
    the products' errors too (Dekker) gave 1.70 ulps at 2.9x, dropping v's 3.39 ulps. The
    derivatives themselves are now written on the value (``_silu_dash32``); this form, finite
    everywhere, is what their second derivatives differentiate (``_second_from``)."""
    e_far, scale = _shifted_exp(-jnp.abs(a))
    e = e_far * scale
    d, d_lo = f32.fast_two_sum(e * 0 + 1, e)  # an array 1: XLA folds (e + 1) - 1 into e, and d_lo with it
    m_lo = None if a_lo is None else jnp.where(a >= 0, -a_lo, a_lo)  # E = e (1 + m_lo)
    if m_lo is not None:
        d_lo = d_lo + e * m_lo
    v, v_lo = f32.two_sum(d, -jnp.minimum(jnp.abs(k), jnp.float32(1e30)))  # +-inf: e = 0, v finite
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
_GELU_3B = np.float32(6 * math.sqrt(2 / math.pi) * 0.044715)


def _gelu_tanh_polynomial(x: Array, b: np.float32) -> tuple[Array, Array, Array, Array]:
    """x (A + b x^2) and A + b x^2, each as a float32 pair, from x clipped to +-1e4 (x^3 cannot
    overflow; sigmoid(2u) is 0 or 1 there): A's low part, the rounding of A + b x^2 (TwoSum) and
    that of the last product (Dekker) carried; b x^2 itself rounds (b and x^2 too: within an ulp
    and a half of b x^2). exp(-a) has condition number |a| in a, but b x^2 is at most 0.15 of
    A + b x^2 where |x| < 2 and the value's condition number is small, and from there on that
    number grows as |k| = |x a'| >= |a|: over every float32 in [-8, 8] outside (-1e-4, 1e-4), on
    both XLA paths, the value is 0.85 of its bound at most (2.44 ulps at x = -1.3472, where the
    condition number makes the bound 2.87) and the derivative 0.73 (2.91 ulps at x = 0.6821, bound
    4), where carrying x^2's and b x^2's roundings too (two Dekker products more: 1.25x the time
    under jit) gave 0.78 and 0.63 on 7 million points."""
    small = jnp.clip(x, jnp.float32(-1e4), jnp.float32(1e4))
    # |b x^2| is b x^2: the abs keeps LLVM from contracting A + b x^2 into an FMA in a loop that
    # needs only w (the exp's, where XLA writes e out for a value and a derivative that share it)
    # while the loops that compute w_lo round it: e would be off by |a| ulps of a (4e-6 at x = -7.5)
    scaled = jnp.abs(b * (small * small))
    w, w_lo = f32.two_sum(small * 0 + _GELU_A, scaled)  # an array A: see f32.exp_pair
    w_lo = w_lo + _GELU_A_LO
    a = small * w
    return a, f32.product_error(small, w, a) + small * w_lo, w, w_lo


def _gelu_tanh32(x: Array) -> Array:
    a, a_lo, _, _ = _gelu_tanh_polynomial(x, _GELU_B)
    return _over_one_plus_exp(x, a, a_lo, 30.0)  # sigmoid(a) is 1 from x = 8.2 on


def _gelu_tanh_slope(x: Array) -> Array:
    """tanh-GELU' apart from the value, finite everywhere: autodiff of it is GELU''."""
    a, a_lo, _, _ = _gelu_tanh_polynomial(x, _GELU_B)
    k, k_lo, _, _ = _gelu_tanh_polynomial(x, _GELU_3B)
    return _sigmoid_slope_of(x, a, a_lo, k, k_lo)


@_second_from(_gelu_tanh_slope)
def _gelu_tanh_dash32(x: Array) -> Array:
    """sigmoid(a) + k sigmoid(a) (1 - sigmoid(a)) with a = 2u and k = x a', on the value y as
    ``_silu_dash32`` is: ((1 + k) - a' y) / D for x < 0, (1 + a' y e) / D for x >= 0. 1 + k and
    its difference with a' y are carried (TwoSum), with k's and a''s low parts, into the one
    rounding before the division: the difference lies in [2, 4) where the result is just below 1/8
    (x = -1.59), so that a rounding there costs a whole ulp of the result. 2.91 ulps at most (bound
    4; x = 0.6821; see _gelu_tanh_polynomial), measured with and without FMA, where the form apart
    from the value (``_gelu_tanh_slope``) has 3.09; ``value_and_grad`` 1.9-2.2x jax.nn's, where
    apart it cost 3.3-4.0x.
    Beyond a = -88.7 the quotient is 0: the exact value is below 0.93 of 64 smallest normals."""
    y = _gelu_tanh32(x)
    a, a_lo, _, _ = _gelu_tanh_polynomial(x, _GELU_B)
    _, e, d, minus_lo, r = _one_plus_exp(x, a, a_lo)
    k, k_lo, w, w_lo = _gelu_tanh_polynomial(x, _GELU_3B)
    p = w * y
    h, h_lo = f32.two_sum(k * 0 + 1, k)
    n, n_lo = f32.two_sum(h, -p)
    below_lo = n_lo + ((h_lo + k_lo) - w_lo * y)
    above = 1 + (w * jnp.minimum(y, jnp.float32(1e4))) * e
    negative = x < 0
    n = jnp.where(negative, n, above)
    n_lo = jnp.where(negative, below_lo, 0)
    return (n + (n_lo + n * (minus_lo * r))) / d + r * 0


# Softplus: max(x, 0) + log1p(e) / beta with e = exp(-|beta x|) as a pair (``f32.exp_pair``) and
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
    >= 1: 1.48 ulps at most, 0.94x jax.nn.softplus under jit (with the pair exp of ``f32.exp_pair``,
    1.2 ulps and 1.2x). XLA flushes a subnormal e to 0, which costs nothing there: e / beta <= e;
    but Dekker's partial products of e / beta are flushed long before (beta = 10 was 10^4 ulps off
    at x = -7.7), so e is lifted by 2^64 for the division. For beta < 1, e / beta may be normal
    where e is not: the pair exp, scaled by s1 s2 last."""
    beta = float(np.float32(beta))
    z, z_lo = x, 0.0
    if beta != 1:
        z = x * np.float32(beta)
        z_lo = f32.product_error(x, jnp.float32(beta), z)
    if beta >= 1:
        e = jnp.exp(-jnp.abs(z))
        m_lo = 0.0 if beta == 1 else jnp.where(jnp.abs(z) < jnp.float32(100), jnp.where(z >= 0, -z_lo, z_lo), 0)
        e_lo = e * m_lo
        s1 = s2 = None
    else:
        big, lo, s1, s2 = _exp_minus_abs(z, z_lo)
        e, e_lo = (big * s1) * s2, (lo * s1) * s2
    two = e * 0 + 2  # an array: see f32.exp_pair
    d = two + e
    d_lo = (e - (d - two)) + e_lo
    r = _reciprocal(d, 2.0)  # no division: t is used five times (see _reciprocal)
    t = e * r
    p = t * d
    t_lo = (((e - p) - f32.product_error(t, d, p)) + (e_lo - t * d_lo)) * r
    t2 = t * t
    q = jnp.float32(_ATANH[-1])
    for coefficient in reversed(_ATANH[:-1]):
        q = q * t2 + jnp.float32(coefficient)
    hi, low = 2 * t, 2 * (t_lo + t * t2 * q)
    far = jnp.abs(z) > jnp.float32(20)
    inverse, inverse_lo = f32.float32_pair(1 / beta)

    def over_beta(hi: Array, low: Array) -> Array:
        """(hi + low) / beta: two roundings and 1/beta's own, carried."""
        if beta == 1:
            return hi + low
        product = hi * inverse
        return product + ((f32.product_error(hi, jnp.float32(inverse), product) + hi * inverse_lo) + low * inverse)

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


# Mish: x tanh(softplus(x)) = x n / (n + 2) with n = e^x (e^x + 2), from XLA's e = exp(-|x|), every
# sum and product carried as a pair: with float32 roundings the value is about 3 ulps off (bound 2)
# and the derivative 5 (bound 4).


def _mish32(x: Array) -> Array:
    """x N / D: for x < 0 N = e (e + 2), D = N + 2 (e = exp(x)); for x >= 0 N = 1 + 2e,
    D = N + 2 e^2 (e = exp(-x), the same over e^-2), every sum and product carried as a float32
    pair. e = exp(-|x|) is XLA's (within 1 ulp), from ``_shifted_exp`` as the derivative's: the
    same expression, which XLA computes once for both (value_and_grad 0.98-1.17x jax.nn's, where
    the pair exp of ``f32.exp_pair`` here, 2.3x the time of XLA's, took 1.6-1.9x; jit 0.85-0.98x,
    1.02x before). t = N / D is rounded once: a reciprocal from d's bits and three Newton steps (no
    division, whose result XLA would write out for its several users), t's residual by Dekker's
    product; then x t, carried, rounds once. e's error reaches the value times N/D's condition
    number in e (at most 1): 1.44 ulps at most (x = -2.0461; bound 2), with and without FMA, over
    every float32 in [-16, 16] outside (-1e-4, 1e-4); with a / b + (a_lo - a b_lo / b) / b, two
    roundings, it was 1.90 (x = -2.0625). For
    x < 0, N is kept as e_far (e + 2) and scaled last, so that it rounds once where it is subnormal
    (below -40, where the scale is not a power of 2, the condition number is |x|)."""
    e_far, scale = _shifted_exp(-jnp.abs(x))
    e = e_far * scale
    zero = e * 0
    negative = x < 0
    two = zero + 2
    below = f32.mul(e_far, zero, *f32.fast_two_sum(two, e))
    d_below = f32.add(two, zero, below[0] * scale, below[1] * scale)
    above = f32.fast_two_sum(zero + 1, 2 * e)
    d_above = f32.add(*above, 2 * (e * e), 2 * f32.product_error(e, e, e * e))
    w = jnp.where(negative, below[0], above[0])
    w_lo = jnp.where(negative, below[1], above[1])
    d = jnp.where(negative, d_below[0], d_above[0])
    d_lo = jnp.where(negative, d_below[1], d_above[1])
    r = _near_reciprocal(d, steps=3)  # d is in [1, 5]
    t = w * r  # (w + w_lo) / (d + d_lo) = t + t_lo, every term moderate
    td = t * d
    t_lo = (((w - td) - f32.product_error(t, d, td)) + (w_lo - t * d_lo)) * r
    # x 2^32 (exact): the halves of a tiny x would be flushed, and Dekker's product with them
    lifted = jnp.maximum(x, jnp.float32(-1000)) * jnp.float32(2.0**32)  # -inf: -1000 e is 0 as well
    n = lifted * t
    y = (n + (f32.product_error(lifted, t, n) + lifted * t_lo)) * jnp.float32(2.0**-32)
    # x < 0 gives y <= 0; -|y| keeps the sign where y is a zero (n + its +0.0 correction is +0.0)
    y = jnp.where(negative, -jnp.abs(y) * scale, y)
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
    two = e * 0 + 2  # arrays: XLA folds (e + 2) - 2 into e (see f32.exp_pair)
    one = two - 1
    p, p_lo = f32.fast_two_sum(two, e)  # e + 2
    n = e * p
    n_lo = f32.product_error(e, p, n) + e * p_lo
    d, d_lo = f32.fast_two_sum(two, n)
    d_lo = d_lo + n_lo
    a = p * d
    a_lo = f32.product_error(p, d, a) + (p * d_lo + p_lo * d)
    q, q_lo = f32.fast_two_sum(one, e)  # e + 1
    b = small * q
    b_lo = 4 * (f32.product_error(small, q, b) + small * q_lo)
    total, total_lo = f32.two_sum(a, 4 * b)
    total_lo = total_lo + (a_lo + b_lo)
    top = e_far * total
    top_lo = f32.product_error(e_far, total, top) + e_far * total_lo
    dd = d * d
    dd_lo = f32.product_error(d, d, dd) + 2 * d * d_lo
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
    rounding w - s0^2 from 12-bit halves of s0 = sh + sl: w - sh^2 is exact (Sterbenz: sh^2 is
    within 2^-10 of w, and a product of halves is exact), the rest sl (sh + s0) is 2^-11 of it and
    rounds once (2^-35 of w; 2 sh sl + sl^2, exact, took one operation more). ds = (w - s0^2) /
    (2 s0) to 12% (ds is half an ulp of s0 at most), 1/(2 s0) from the bits with the halving in
    the exponent. w's own roundings (c^2's and the sum's) move s by half of theirs: left (the
    value 0.74 of the bound at worst, screened; 0.71 with them carried). P: Fast2Sum of s0 >= c
    (sqrt(fl(c^2)) is c), its error plus ds as lo. Beyond 2^40 (big) s = |u| and P = 2|u| by a
    select; lo is 0 there as it is (c = s0 = 2^40, w = s0^2), so it takes none."""
    k, b_scaled = _squareplus_scale(b)
    u = x * np.float32(1 / k)
    a = jnp.abs(u)
    big = a > jnp.float32(_SQUAREPLUS_BIG)
    c = jnp.minimum(a, jnp.float32(_SQUAREPLUS_BIG))
    w = c * c + np.float32(b_scaled)
    s0 = jnp.sqrt(w)
    sh = f32.top_half(s0)
    ds = ((w - sh * sh) - (s0 - sh) * (sh + s0)) * _rough_reciprocal(s0, 0.5)
    p = s0 + c
    lo = (c - (p - s0)) + ds
    return k, b_scaled, u, jnp.where(big, a, s0), ds, jnp.where(big, a + a, p), lo


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
    "gelu": lambda x, approximate: _gelu_tanh32(x) if approximate else f32.gelu(x),
    "gelu_dash": lambda x, approximate: _gelu_tanh_dash32(x) if approximate else f32.gelu_dash(x),
    "mish_dash": _mish_dash32,
    "silu_dash": _silu_dash32,
    "squareplus": _squareplus32,
    "squareplus_dash": _squareplus_dash32,
    "elu": f32.elu,
    "selu": f32.selu,
    "celu": f32.celu,
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

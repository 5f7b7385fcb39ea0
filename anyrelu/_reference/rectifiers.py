"""The rest of the rectifier family in array-API code (see ``anyrelu/_rectifiers.py`` for the
contract): ELU, SELU, CELU, GELU, SiLU, softplus, Mish, hard sigmoid, hard swish, squareplus,
and their derivatives.

Working precision (``in_wider_dtype``): float16, bfloat16 and float32 are computed in float64 and
rounded once, because the libraries' own float32 exp, expm1, log1p and tanh are 1-5 ulp off,
which leaves no room for the formula's own roundings in a 2-ulp bound; float64 is computed as it
is. hard_sigmoid and hard_swish need no transcendental function: float32 and float64 run as they
are, float16 and bfloat16 in float32. Parameters arrive as numbers rounded to x's dtype.

Each formula says why it cannot lose accuracy. The branch a ``where`` does not take still gets
computed, so it gets a harmless argument: nothing overflows, warns, or turns a derivative into NaN.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from types import ModuleType
from typing import Any

from .._checks import Array
from .relu import constant
from .special import erfc, exp, expm1

# SELU's constants (Klambauer et al. 2017); the negative side uses their product, rounded once.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
SELU_SCALE_ALPHA = 1.7580993408473768599402175208123

# Beyond these, the functions' values are settled in every working dtype (see each use).
_TAIL = 1000.0  # x * sigmoid(x), x * Phi(x), mish: |value| < 1e-400 below -_TAIL
_MISH_TOP = 40.0  # tanh(softplus(x)) rounds to 1 above 20 (float64), 9 (float32)


def _lower(x: Array, xp: ModuleType) -> Array:
    """x on the lower piece (x <= 0), and a harmless 0 elsewhere (NaN included)."""
    return xp.where(x <= 0, x, xp.zeros_like(x))


# The values of elu, selu and celu test x < 0, not x <= 0: both pieces are 0 at 0, and x itself
# keeps the zero's sign there (alpha * expm1(+0.0) would be -0.0 for a negative alpha).
# Their derivatives test x <= 0, the lesson's rule: elu_dash(0) == alpha.


def _floored(x: Array, floor: float, xp: ModuleType) -> Array:
    """x, with values below floor replaced by floor (NaN kept): a factor that must not be -inf
    where the other factor underflows to 0 (-inf * 0 is NaN; the true product is -0.0)."""
    bottom = constant(-floor, x, xp)
    return xp.where(x < bottom, bottom, x)


def _clipped(x: Array, size: float, xp: ModuleType) -> Array:
    """x in [-size, size] (NaN kept): an argument that must not overflow when cubed or squared.
    The bounds are arrays of x's dtype: a Python float would be a float64 constant in a JAX
    program with 64-bit types enabled."""
    return xp.clip(x, min=constant(-size, x, xp), max=constant(size, x, xp))


def _minus_abs(z: Array, xp: ModuleType) -> Array:
    """-|z| as a where, not -abs(z): autodiff of abs gives slope 0 at z = 0, which would make
    every second derivative built on exp(-|z|) wrong there (silu''(0) would be 1/4, not 1/2)."""
    return xp.where(z >= 0, -z, z)


def _sigmoid(z: Array, xp: ModuleType) -> Array:
    """sigmoid(z) with no overflow and no cancellation: e = exp(-|z|) <= 1, so sigmoid(z) is
    1/(1+e) or e/(1+e)."""
    e = xp.exp(_minus_abs(z, xp))
    one_plus = 1 + e
    return xp.where(z >= 0, 1 / one_plus, e / one_plus)


# ---------------------------------------------------------------- ELU, SELU, CELU


def elu(x: Array, alpha: float, xp: ModuleType) -> Array:
    """x for x > 0; alpha * expm1(x) for x <= 0 (expm1: no cancellation near 0)."""
    return xp.where(x < 0, constant(alpha, x, xp) * expm1(_lower(x, xp), xp), x)


def elu_dash(x: Array, alpha: float, xp: ModuleType) -> Array:
    """1 for x > 0 (and NaN); alpha * exp(x) for x <= 0 -- not expm1(x) + 1, which loses the tail."""
    return xp.where(x <= 0, _times_exp(alpha, _lower(x, xp), xp), constant(1, x, xp))


def _times_exp(alpha: float, x: Array, xp: ModuleType) -> Array:
    """alpha * exp(x); for |alpha| > 1 as exp(x/2) * (alpha * exp(x/2)), so that a product that is
    a normal number is not built from an exp(x) that has underflowed (x < -708 in float64)."""
    if abs(alpha) <= 1:
        return constant(alpha, x, xp) * xp.exp(x)
    half = xp.exp(x / 2)
    return half * (constant(alpha, x, xp) * half)


def selu(x: Array, xp: ModuleType) -> Array:
    """scale * x for x > 0; scale*alpha * expm1(x) for x <= 0, with scale*alpha one constant."""
    lower = constant(SELU_SCALE_ALPHA, x, xp) * expm1(_lower(x, xp), xp)
    return xp.where(x < 0, lower, constant(SELU_SCALE, x, xp) * x)


def selu_dash(x: Array, xp: ModuleType) -> Array:
    lower = constant(SELU_SCALE_ALPHA, x, xp) * xp.exp(_lower(x, xp))
    return xp.where(x <= 0, lower, constant(SELU_SCALE, x, xp))


def celu(x: Array, alpha: float, xp: ModuleType) -> Array:
    """x for x > 0; alpha * expm1(x / alpha) for x <= 0 (x / alpha, not x * (1/alpha): one rounding).
    For alpha > 1, x / alpha may underflow where the value is x itself: below |x / alpha| = 2^-60,
    alpha * expm1(x / alpha) = x (1 + x / (2 alpha)) rounds to x."""
    u = _celu_argument(x, alpha, xp)
    y = constant(alpha, x, xp) * expm1(u, xp)
    if alpha > 1:
        y = xp.where(xp.abs(u) < constant(2.0**-60, x, xp), x, y)
    return xp.where(x < 0, y, x)


def celu_dash(x: Array, alpha: float, xp: ModuleType) -> Array:
    return xp.where(x <= 0, xp.exp(_celu_argument(x, alpha, xp)), constant(1, x, xp))


def _celu_argument(x: Array, alpha: float, xp: ModuleType) -> Array:
    """x / alpha on the lower piece, 0 elsewhere; for alpha < 1 from x floored at -1000 alpha (x / alpha
    could overflow; expm1 is -1 and exp is 0 long before). No floor for alpha >= 1: -1000 alpha
    itself overflows for alpha > 1.8e305."""
    lower = _lower(x, xp)
    if alpha < 1:
        lower = xp.clip(lower, min=-1000 * alpha)
    return lower / constant(alpha, x, xp)


# ---------------------------------------------------------------- GELU, SiLU


def gelu(x: Array, approximate: bool, xp: ModuleType) -> Array:
    """Exact: x * Phi(x) = x/2 * erfc(-x/sqrt(2)), not x/2 * (1 + erf(x/sqrt(2))), which cancels
    for x < 0. Tanh form: x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3), which is
    0.5 x (1 + tanh(u)) without the cancellation of 1 + tanh(u) for x < 0."""
    factor = _floored(x, _TAIL, xp)  # Phi underflows there: -inf * 0 would be NaN
    if approximate:
        a, e, _ = _tanh_exponent(*_times_a(x, xp), xp)
        one_plus = 1 + e
        return factor * xp.where(a >= 0, 1 / one_plus, e / one_plus)
    return (factor / 2) * erfc(x * constant(-1 / math.sqrt(2), x, xp), xp)


def gelu_dash(x: Array, approximate: bool, xp: ModuleType) -> Array:
    """Exact: Phi(x) + x phi(x). Tanh form: s + 2x u' s(1-s), s = sigmoid(2u), s(1-s) without
    cancellation (see _sigmoid)."""
    if approximate:
        # With a = 2u, E = exp(-|a|) and x a' = x (A + 3B x^2): s + x a' s (1 - s) is
        # E ((1 + x a') + E) / (1 + E)^2 for a < 0 and (1 + E (1 + x a')) / (1 + E)^2 for a >= 0.
        # For x < 0 the sum cancels only in 1 + x a' + E (at f''s zero, x = -0.75), whose terms
        # carry no rounded transcendental but E: it is summed as (1 + p) + (r + E) with A x = p + its
        # exact error (1 + p is exact where the sum cancels: Sterbenz) and r = x a' - p, 5.5 ulp at
        # worst (0.69 of the bound). 1 + x a' rounded four times gave 8.07 ulp at x =
        # -1.2505448189887904 (bound 8: 300000 float64 drawn near the screen's worst point).
        small, cube, p, error = _times_a(x, xp)  # x^3 cannot overflow; sigmoid(2u) is settled there
        a, e, h = _tanh_exponent(small, cube, p, error, xp)  # h = exp(-|a|/2): e / (1 + e) as h h / (1 + e)
        m = _minus_abs(a, xp)
        xa = small * (constant(_GELU_A, x, xp) + constant(3 * _GELU_B, x, xp) * (small * small))
        r = error + (constant(_GELU_A_LO, x, xp) * small + constant(3 * _GELU_B, x, xp) * cube)
        top = (1 + p) + (r + e)  # 1 + x a' + E
        one_plus = 1 + e
        deep = (h / one_plus) * ((h * top) / one_plus)
        negative = xp.where(m > _DEEP, (e / one_plus) * (top / one_plus), _zero_below_tail(x, deep, xp))
        return xp.where(a < 0, negative, (1 + e * (1 + xa)) / (one_plus * one_plus))
    small = _clipped(x, 64.0, xp)  # exp(-x^2/2) underflows beyond 38.6: x * phi(x) is 0 there
    density = xp.exp(-(small * small) / 2) * constant(1 / math.sqrt(2 * math.pi), x, xp)
    near = erfc(x * constant(-1 / math.sqrt(2), x, xp), xp) / 2 + small * density
    # Below -30, phi(x) (x + Phi(x)/phi(x)) with Mills' ratio Phi/phi from its asymptotic series
    # (1 - 1/x^2 + 3/x^4 - 15/x^6 + 105/x^8 - 945/x^10) / |x| (next term 1e-14 relative at 30,
    # diluted 1000-fold by x + ...): Phi(x) is subnormal from x = -37.5 on, while the derivative is
    # a normal number down to -37.6 (XLA flushes Phi there).
    tail = xp.where(x < -30, small, constant(-30.0, x, xp))  # a harmless -30 off the tail
    v = 1 / (tail * tail)
    mills = (1 + v * (-1 + v * (3 + v * (-15 + v * (105 - 945 * v))))) / -tail
    return xp.where(x < -30, _zero_below_tail(x, density * (small + mills), xp), near)


# 2 sqrt(2/pi) as a double-double (hi + lo), and 2 sqrt(2/pi) * 0.044715: a = 2u = A x + B x^3.
_GELU_A, _GELU_A_LO, _GELU_B = 1.5957691216057308, -9.96930880911092e-17, 0.07135481627260025
_SPLIT = 134217729.0  # 2^27 + 1: Veltkamp's splitting of a float64 into two 26-bit halves
_GELU_A_HALVES = (
    _SPLIT * _GELU_A - (_SPLIT * _GELU_A - _GELU_A),
    _GELU_A - (_SPLIT * _GELU_A - (_SPLIT * _GELU_A - _GELU_A)),
)


def _times_a(x: Array, xp: ModuleType) -> tuple[Array, Array, Array, Array]:
    """x clipped to ±1e4 (x^3 cannot overflow; sigmoid(2u) is 0 or 1 there), its cube, and A times
    it as p + error, exactly (Dekker's product, Veltkamp's splitting)."""
    small = _clipped(x, 1e4, xp)
    big = constant(_SPLIT, x, xp) * small
    hi = big - (big - small)
    lo = small - hi
    a_hi, a_lo = constant(_GELU_A_HALVES[0], x, xp), constant(_GELU_A_HALVES[1], x, xp)
    p = constant(_GELU_A, x, xp) * small
    return small, small * small * small, p, ((a_hi * hi - p) + a_hi * lo + a_lo * hi) + a_lo * lo  # A x - p, exactly


def _tanh_exponent(small: Array, cube: Array, p: Array, error: Array, xp: ModuleType) -> tuple[Array, Array, Array]:
    """a = 2u = 2 sqrt(2/pi) (x + 0.044715 x^3), e = exp(-|a|) and h = exp(-|a|/2), from _times_a's
    clipped x, its cube and A x = p + error. exp(-|a|) has condition number |a|, so a rounded
    three times (3 ulp) made e 10 ulp off near x = -1.4; here A x is exact and a is carried as
    a + a_lo, which e takes as exp(-|a|) (1 - |a_lo|): float64 tanh-GELU within 2.6 ulp where it
    was 5.6."""
    tail = error + (constant(_GELU_A_LO, small, xp) * small + constant(_GELU_B, small, xp) * cube)
    a = p + tail
    a_tail = tail - (a - p)  # |p| >= |tail|: Fast2Sum
    m, m_lo = _minus_abs(a, xp), xp.where(a >= 0, -a_tail, a_tail)
    return a, xp.exp(m) * (1 + m_lo), xp.exp(m / 2) * (1 + m_lo / 2)


# Underflow in the tails: where a result is x e (large |x| times e = exp(-|x|), subnormal), it is
# built as (x h) h with h = exp(-|x|/2), a normal number: silu(-709.4) is -5.5e-306, which a
# subnormal e would lose (XLA on the CPU flushes it to 0). Only below _DEEP, where exp(x) nears
# float64's subnormals: above it, e itself is one rounding fewer.
_DEEP = -690.0


def silu(x: Array, xp: ModuleType) -> Array:
    """x * sigmoid(x), sigmoid from e = exp(-|x|): never overflows, no 1 - sigmoid; for x < 0
    ((x h) h) / (1 + e) with h = exp(-|x|/2)."""
    m = _minus_abs(x, xp)
    e, h = xp.exp(m), xp.exp(m / 2)
    factor = _floored(x, _TAIL, xp)
    one_plus = 1 + e
    s = xp.where(x >= 0, 1 / one_plus, e / one_plus)
    low = xp.clip(factor, max=0.0)  # the deep branch at +inf would be inf * 0
    return xp.where(x > _DEEP, factor * s, ((low * h) * h) / one_plus)


def silu_dash(x: Array, xp: ModuleType) -> Array:
    """sigmoid(x) (1 + x (1 - sigmoid(x))): (1 + x e / (1 + e)) / (1 + e) for x >= 0, and
    (h / (1 + e)) (h (1 + x / (1 + e))) for x < 0 (h as in silu)."""
    m = _minus_abs(x, xp)
    e, h = xp.exp(m), xp.exp(m / 2)
    small = _clipped(x, _TAIL, xp)  # e is 0 beyond: inf * 0 would be NaN
    one_plus = 1 + e
    upper = (1 + small * e / one_plus) / one_plus
    lower = (e / one_plus) * (1 + small / one_plus)
    deep = _zero_below_tail(x, (h / one_plus) * (h * (1 + small / one_plus)), xp)
    return xp.where(x >= 0, upper, xp.where(m > _DEEP, lower, deep))


def _zero_below_tail(x: Array, y: Array, xp: ModuleType) -> Array:
    """y, and +0.0 below -_TAIL: the derivatives approach 0 from below, but the contract's
    f'(-inf) is +0.0 (a product with a zero factor would keep the negative sign)."""
    return xp.where(x < -_TAIL, xp.zeros_like(y), y)


# ---------------------------------------------------------------- softplus, Mish


def softplus(x: Array, beta: float, xp: ModuleType) -> Array:
    """log(1 + exp(beta x)) / beta as max(x, 0) + log1p(exp(-|beta x|)) / beta: no overflow, no
    threshold switch, and both terms >= 0 (no cancellation)."""
    z = -xp.abs(_scaled(x, beta, xp))
    e = exp(z, xp)  # JAX's own, corrected: see special.exp
    positive = xp.where(x > 0, x, xp.zeros_like(x))
    tail = xp.log1p(e) / constant(beta, x, xp)
    if beta < 1:  # e may underflow where e / beta is normal: there log1p(e) = e = exp(z/2)^2
        half = xp.exp(z / 2)
        tail = xp.where(e < constant(2.0**-60, x, xp), half * (half / constant(beta, x, xp)), tail)
    return positive + tail


def softplus_dash(x: Array, beta: float, xp: ModuleType) -> Array:
    """sigmoid(beta x)."""
    return _sigmoid(_scaled(x, beta, xp), xp)


def _scaled(x: Array, beta: float, xp: ModuleType) -> Array:
    """beta * x; for beta > 1, from x clipped where beta x would overflow (exp(-|beta x|) is 0
    long before)."""
    if beta > 1:
        x = _clipped(x, float(xp.finfo(x.dtype).max) / beta, xp)
    return constant(beta, x, xp) * x


def _mish_t(x: Array, xp: ModuleType) -> Array:
    """tanh(softplus(x)) = n / (n + 2) with n = e^2 + 2e, e = exp(x): one exp, no cancellation,
    and the roundings of the two sums carried (TwoSum: additions only, which no contraction into
    an FMA changes) into a first-order correction, t + (n_lo - t D_lo) / d. Rounded five times,
    n / (n + 2) left mish 4.1 ulps off in float64 at x = -2.0721322067682775, where the bound is 4
    (the condition number is 0.94 there): found among 10^6 float64 drawn near the screen's worst
    point. Now exp's error, the division's and the product's remain (0.62 of the bound at worst
    there, 0.66 over 6 million points in [-3, 1]). x is capped at _MISH_TOP, where t is 1 in every
    working dtype and e^2 cannot overflow."""
    e = xp.exp(xp.where(x < _MISH_TOP, x, constant(_MISH_TOP, x, xp)))
    n, n_lo = two_sum(e * e, 2 * e)
    d, d_lo = two_sum(n, e * 0 + 2)  # an array 2: XLA folds a sum's constant out of (n + 2) - 2
    t = n / d
    return t + (n_lo - t * (d_lo + n_lo)) / d


def two_sum(a: Array, b: Array) -> tuple[Array, Array]:
    """a + b as s + its rounding error, exactly (Knuth's TwoSum: additions only), in any floating
    dtype (``_kernels.float32``'s pairs take it too)."""
    s = a + b
    b_virtual = s - a
    return s, (a - (s - b_virtual)) + (b - b_virtual)


def mish(x: Array, xp: ModuleType) -> Array:
    """x * tanh(softplus(x)); for x < 0 ((x h) h) (e + 2) / (n + 2) with h = exp(x/2)."""
    t = _mish_t(x, xp)
    factor = _floored(x, _TAIL, xp)
    e = xp.exp(_lower(factor, xp))
    h = xp.exp(_lower(factor, xp) / 2)
    return xp.where(x > _DEEP, factor * t, ((factor * h) * h) * ((e + 2) / (e * (e + 2) + 2)))


def mish_dash(x: Array, xp: ModuleType) -> Array:
    """tanh(softplus(x)) + x sech^2(softplus(x)) sigmoid(x), over one denominator: with e = exp(x)
    and d = e (e + 2) + 2 it is e (4 (1 + x) + e ((6 + 4x) + e (4 + e))) / d^2, whose only
    cancellation (x near -1.9) is between terms that carry no rounded exp: 6.2 ulp at worst in
    float64, where t + x slope gives 9.2 (and 3/5 exactly at 0). x is clipped to [-1000, 40]: the derivative is 0 and 1
    beyond, and nothing overflows (e^4 at 40 is 1e69)."""
    small = xp.clip(x, min=-_TAIL, max=_MISH_TOP)
    e = xp.exp(small)
    d = e * (e + 2) + 2
    inner = 4 * (1 + small) + e * ((6 + 4 * small) + e * (4 + e))
    h = xp.exp(_lower(small, xp) / 2)  # x < 0: e as h h, e / d as (h / d) h (see silu)
    upper = xp.where(x < _MISH_TOP, (e * inner) / (d * d), xp.ones_like(x))  # 1 there, and exactly
    return xp.where(x > _DEEP, upper, _zero_below_tail(x, (h / d) * ((h * inner) / d), xp))


# ---------------------------------------------------------------- hard sigmoid, hard swish


def hard_sigmoid(x: Array, xp: ModuleType) -> Array:
    """0 for x <= -3, 1 for x >= 3, (x + 3) / 6 between (and at NaN): x itself is tested."""
    middle = (x + 3) / 6
    return xp.where(x <= -3, xp.zeros_like(x), xp.where(x >= 3, xp.ones_like(x), middle))


def hard_sigmoid_dash(x: Array, xp: ModuleType) -> Array:
    """0 for x <= -3 or x >= 3, 1/6 (in x's dtype) between and at NaN."""
    flat = (x <= -3) | (x >= 3)
    return xp.where(flat, xp.zeros_like(x), constant(1 / 6, x, xp))


def hard_swish(x: Array, xp: ModuleType) -> Array:
    """0 for x <= -3, x for x >= 3, x (x + 3) / 6 between (from x clipped to [-3, 3], so that
    x (x + 3) never overflows)."""
    small = _clipped(x, 3.0, xp)
    return xp.where(x <= -3, xp.zeros_like(x), xp.where(x >= 3, x, small * (small + 3) / 6))


def hard_swish_dash(x: Array, xp: ModuleType) -> Array:
    """0 for x <= -3, 1 for x >= 3, (2x + 3) / 6 between (NaN at NaN)."""
    small = _clipped(x, 3.0, xp)
    return xp.where(x <= -3, xp.zeros_like(x), xp.where(x >= 3, xp.ones_like(x), (2 * small + 3) / 6))


# ---------------------------------------------------------------- squareplus


def squareplus(x: Array, b: float, xp: ModuleType) -> Array:
    """(x + sqrt(x^2 + b)) / 2 with s = hypot(x, sqrt(b)) (no overflow): x/2 + s/2 for x >= 0,
    (b/4) / (s/2 + |x|/2) for x < 0, where x + s would cancel (halves: s + |x| may overflow)."""
    s = _hypot(x, b, xp)
    upper = xp.where(x >= 0, x, xp.zeros_like(x)) / 2 + s / 2  # -inf/2 + inf/2 would be NaN
    return xp.where(x >= 0, upper, _squareplus_tail(x, s, b, xp))


def squareplus_dash(x: Array, b: float, xp: ModuleType) -> Array:
    """(1 + x/s) / 2 as q = squareplus(-|x|) / s for x < 0 and 1 - q for x >= 0: without
    1 + x/s cancelling (q <= 1/2, so 1 - q cannot cancel either)."""
    small = _clipped(x, 1e170, xp)  # q underflows long before; and inf / inf in autodiff would be NaN
    s = xp.hypot(small, constant(math.sqrt(b), x, xp))  # far from overflow; autodiff of this is f''
    q = _squareplus_tail(small, s, b, xp, exact_b=False) / s
    return xp.where(x >= 0, 1 - q, q)


def _hypot(x: Array, b: float, xp: ModuleType) -> Array:
    """sqrt(x^2 + b) as hypot(x, sqrt(b)), at most |x| + sqrt(b) rounded: CUDA's hypot (CuPy's,
    torch's) is within 2 ulp, and above the largest float64 it rounds up to inf (hypot(max, 1) was
    inf on an H200). The minimum only ever lowers a result that is above the correctly rounded one.
    For the value only: its autodiff is never taken, and the minimum's ties (at x = 0) would halve
    the second derivative that autodiff of squareplus_dash gives."""
    root = constant(math.sqrt(b), x, xp)
    return xp.minimum(xp.hypot(x, root), xp.abs(x) + root)


def _squareplus_tail(x: Array, s: Array, b: float, xp: ModuleType, exact_b: bool = True) -> Array:
    """squareplus(-|x|) = (b/4) / (s/2 + |x|/2); b/4 is exact unless it is subnormal, and then
    ((b 2^600) / 4) / (...) 2^-600, both scalings exact (b/4 would lose bits; h (h / ...) with h =
    sqrt(b)/2, rounded three times, was 3.95 ulps off for b = 1e-310, bound 4: 10^6 float64 drawn
    near the screen's worst point). Not ``exact_b``: h (h / ...) still, for the derivative's
    q = tail / s, where h's rounding is s's (s = 2h at x = 0: q is 1/2 exactly, and below it for
    x < 0, where b/4 exactly could put it an ulp above)."""
    den = s / 2 - _minus_abs(x, xp) / 2
    if b / 4 >= 2.2250738585072014e-308:
        return constant(b / 4, x, xp) / den
    if not exact_b:
        h = constant(math.sqrt(b) / 2, x, xp)
        return h * (h / den)
    return (constant(b * 2.0**600 / 4, x, xp) / den) * constant(2.0**-600, x, xp)


FUNCTIONS = (
    "elu", "selu", "celu", "gelu", "silu", "softplus", "mish", "hard_sigmoid", "hard_swish", "squareplus",
)  # fmt: skip
IN_FLOAT64 = frozenset(
    [name for base in FUNCTIONS if not base.startswith("hard_") for name in (base, f"{base}_dash")] + ["hard_swish"]
)  # the functions computed in float64 (hard_swish: x (x + 3) / 6 rounds three times, 2.2 ulp in
# float32 where XLA turns / 6 into * (1/6)); hard_sigmoid and hard_swish_dash compute half types in float32


def in_wider_dtype(name: str, body: Callable[..., Array]) -> Callable[..., Array]:
    """body computed in float64 (IN_FLOAT64) or float32 (the others) for the narrower dtypes,
    the result rounded once to x's dtype."""
    narrower = ("float16", "float32") if name in IN_FLOAT64 else ("float16",)  # bfloat16 ends in float16

    @functools.wraps(body)
    def wide(x: Array, *args: Any) -> Array:
        xp = args[-1]
        if not str(x.dtype).endswith(narrower):
            return body(x, *args)
        work = xp.float64 if name in IN_FLOAT64 else xp.float32
        return xp.astype(body(xp.astype(x, work), *args), x.dtype)

    return wide

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
from .special import erfc, expm1

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
    """x in [-size, size] (NaN kept): an argument that must not overflow when cubed or squared."""
    return xp.clip(x, min=-size, max=size)


def _sigmoid_parts(z: Array, xp: ModuleType) -> tuple[Array, Array]:
    """sigmoid(z) and sigmoid(z) * (1 - sigmoid(z)), with no overflow and no cancellation:
    e = exp(-|z|) <= 1, so sigmoid(z) = 1/(1+e) or e/(1+e), and s(1-s) = e/(1+e)^2."""
    e = xp.exp(-xp.abs(z))
    one_plus = 1 + e
    s = xp.where(z >= 0, 1 / one_plus, e / one_plus)
    return s, e / (one_plus * one_plus)


# ---------------------------------------------------------------- ELU, SELU, CELU


def elu(x: Array, alpha: float, xp: ModuleType) -> Array:
    """x for x > 0; alpha * expm1(x) for x <= 0 (expm1: no cancellation near 0)."""
    return xp.where(x < 0, constant(alpha, x, xp) * expm1(_lower(x, xp), xp), x)


def elu_dash(x: Array, alpha: float, xp: ModuleType) -> Array:
    """1 for x > 0 (and NaN); alpha * exp(x) for x <= 0 -- not expm1(x) + 1, which loses the tail."""
    return xp.where(x <= 0, constant(alpha, x, xp) * xp.exp(_lower(x, xp)), constant(1, x, xp))


def selu(x: Array, xp: ModuleType) -> Array:
    """scale * x for x > 0; scale*alpha * expm1(x) for x <= 0, with scale*alpha one constant."""
    lower = constant(SELU_SCALE_ALPHA, x, xp) * expm1(_lower(x, xp), xp)
    return xp.where(x < 0, lower, constant(SELU_SCALE, x, xp) * x)


def selu_dash(x: Array, xp: ModuleType) -> Array:
    lower = constant(SELU_SCALE_ALPHA, x, xp) * xp.exp(_lower(x, xp))
    return xp.where(x <= 0, lower, constant(SELU_SCALE, x, xp))


def celu(x: Array, alpha: float, xp: ModuleType) -> Array:
    """x for x > 0; alpha * expm1(x / alpha) for x <= 0 (x / alpha, not x * (1/alpha): one rounding)."""
    return xp.where(x < 0, constant(alpha, x, xp) * expm1(_celu_argument(x, alpha, xp), xp), x)


def celu_dash(x: Array, alpha: float, xp: ModuleType) -> Array:
    return xp.where(x <= 0, xp.exp(_celu_argument(x, alpha, xp)), constant(1, x, xp))


def _celu_argument(x: Array, alpha: float, xp: ModuleType) -> Array:
    """x / alpha on the lower piece, from x floored at -1000 alpha (x / alpha could overflow for
    alpha < 1; expm1 is -1 and exp is 0 long before), 0 elsewhere."""
    return xp.clip(_lower(x, xp), min=-1000 * alpha) / constant(alpha, x, xp)


# ---------------------------------------------------------------- GELU, SiLU


def gelu(x: Array, approximate: bool, xp: ModuleType) -> Array:
    """Exact: x * Phi(x) = x/2 * erfc(-x/sqrt(2)), not x/2 * (1 + erf(x/sqrt(2))), which cancels
    for x < 0. Tanh form: x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3), which is
    0.5 x (1 + tanh(u)) without the cancellation of 1 + tanh(u) for x < 0."""
    factor = _floored(x, _TAIL, xp)  # Phi underflows there: -inf * 0 would be NaN
    if approximate:
        s, _ = _sigmoid_parts(2 * _tanh_argument(x, xp), xp)
        return factor * s
    return (factor / 2) * erfc(x * constant(-1 / math.sqrt(2), x, xp), xp)


def gelu_dash(x: Array, approximate: bool, xp: ModuleType) -> Array:
    """Exact: Phi(x) + x phi(x). Tanh form: s + 2x u' s(1-s), s = sigmoid(2u), s(1-s) without
    cancellation (see _sigmoid_parts)."""
    if approximate:
        small = _clipped(x, 1e4, xp)  # x^3 must not overflow; sigmoid(2u) is settled there
        s, spread = _sigmoid_parts(2 * _tanh_argument(small, xp), xp)
        slope = constant(math.sqrt(2 / math.pi), x, xp) * (1 + constant(3 * 0.044715, x, xp) * small * small)
        return s + 2 * small * slope * spread
    small = _clipped(x, 64.0, xp)  # exp(-x^2/2) underflows beyond 38.6: x * phi(x) is 0 there
    density = xp.exp(-(small * small) / 2) * constant(1 / math.sqrt(2 * math.pi), x, xp)
    return erfc(x * constant(-1 / math.sqrt(2), x, xp), xp) / 2 + small * density


def _tanh_argument(x: Array, xp: ModuleType) -> Array:
    """u = sqrt(2/pi) * (x + 0.044715 x^3), from x clipped so that x^3 cannot overflow: beyond
    1e4, sigmoid(2u) is 0 or 1 in every working dtype."""
    small = _clipped(x, 1e4, xp)
    return constant(math.sqrt(2 / math.pi), x, xp) * (small + constant(0.044715, x, xp) * small * small * small)


def silu(x: Array, xp: ModuleType) -> Array:
    """x * sigmoid(x), sigmoid from exp(-|x|): never overflows, no 1 - sigmoid."""
    s, _ = _sigmoid_parts(x, xp)
    return _floored(x, _TAIL, xp) * s


def silu_dash(x: Array, xp: ModuleType) -> Array:
    """sigmoid(x) + x sigmoid(x) (1 - sigmoid(x)), the last factor as e/(1+e)^2."""
    s, spread = _sigmoid_parts(x, xp)
    return s + _clipped(x, _TAIL, xp) * spread  # spread is 0 beyond: inf * 0 would be NaN


# ---------------------------------------------------------------- softplus, Mish


def softplus(x: Array, beta: float, xp: ModuleType) -> Array:
    """log(1 + exp(beta x)) / beta as max(x, 0) + log1p(exp(-|beta x|)) / beta: no overflow, no
    threshold switch, and both terms >= 0 (no cancellation)."""
    e = xp.exp(-xp.abs(_scaled(x, beta, xp)))
    positive = xp.where(x > 0, x, xp.zeros_like(x))
    return positive + xp.log1p(e) / constant(beta, x, xp)


def softplus_dash(x: Array, beta: float, xp: ModuleType) -> Array:
    """sigmoid(beta x)."""
    s, _ = _sigmoid_parts(_scaled(x, beta, xp), xp)
    return s


def _scaled(x: Array, beta: float, xp: ModuleType) -> Array:
    """beta * x; for beta > 1, from x clipped where beta x would overflow (exp(-|beta x|) is 0
    long before)."""
    if beta > 1:
        x = _clipped(x, float(xp.finfo(x.dtype).max) / beta, xp)
    return constant(beta, x, xp) * x


def _mish_parts(x: Array, xp: ModuleType) -> tuple[Array, Array]:
    """tanh(softplus(x)) = n / (n + 2) with n = e (e + 2), e = exp(x): one exp, no cancellation;
    and 1 - tanh(softplus(x))^2 = (2 / (n + 2)) (1 + t), without 1 - t^2. x is capped at
    _MISH_TOP, where t is 1 in every working dtype and e^2 cannot overflow."""
    e = xp.exp(xp.where(x < _MISH_TOP, x, constant(_MISH_TOP, x, xp)))
    n = e * (e + 2)
    t = n / (n + 2)
    return t, (2 / (n + 2)) * (1 + t) * (e / (1 + e))


def mish(x: Array, xp: ModuleType) -> Array:
    """x * tanh(softplus(x))."""
    t, _ = _mish_parts(x, xp)
    return _floored(x, _TAIL, xp) * t


def mish_dash(x: Array, xp: ModuleType) -> Array:
    """tanh(softplus(x)) + x sech^2(softplus(x)) sigmoid(x)."""
    t, slope = _mish_parts(x, xp)
    return t + _clipped(x, _TAIL, xp) * slope  # slope is 0 beyond: inf * 0 would be NaN


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
    s = xp.hypot(x, constant(math.sqrt(b), x, xp))
    upper = xp.where(x >= 0, x, xp.zeros_like(x)) / 2 + s / 2  # -inf/2 + inf/2 would be NaN
    return xp.where(x >= 0, upper, _squareplus_tail(x, s, b, xp))


def squareplus_dash(x: Array, b: float, xp: ModuleType) -> Array:
    """(1 + x/s) / 2 as q = squareplus(-|x|) / s for x < 0 and 1 - q for x >= 0: without
    1 + x/s cancelling (q <= 1/2, so 1 - q cannot cancel either)."""
    s = xp.hypot(x, constant(math.sqrt(b), x, xp))
    q = _squareplus_tail(x, s, b, xp) / s
    return xp.where(x >= 0, 1 - q, q)


def _squareplus_tail(x: Array, s: Array, b: float, xp: ModuleType) -> Array:
    """squareplus(-|x|) = (b/4) / (s/2 + |x|/2)."""
    return constant(b / 4, x, xp) / (s / 2 + xp.abs(x) / 2)


FUNCTIONS = (
    "elu", "selu", "celu", "gelu", "silu", "softplus", "mish", "hard_sigmoid", "hard_swish", "squareplus",
)  # fmt: skip
IN_FLOAT64 = frozenset(
    name for base in FUNCTIONS if not base.startswith("hard_") for name in (base, f"{base}_dash")
)  # the functions computed in float64; hard_sigmoid and hard_swish compute half types in float32


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

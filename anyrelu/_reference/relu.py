"""The ReLU family's contract in array-API code (see ``anyrelu/_relu.py`` for the table).

``leak``, ``max_value`` and ``threshold`` arrive validated: numbers rounded to x's dtype (0.0 for
the zero slope, never -0.0), or an array leak in x's dtype and library that broadcasts to x.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from array_api_compat import device

from .._checks import Array

Number = float | int


def relu(x: Array, leak: Number | Array, max_value: Number | None, threshold: Number, xp: ModuleType) -> Array:
    """leak*(x - threshold) where x <= threshold (+0.0 for a zero slope), max_value where
    x >= max_value, x elsewhere (NaN included)."""
    zero, kink = _zero_and_kink(x, threshold, xp)
    shifted = x if threshold == 0 else x - kink
    y = xp.where(x <= kink, _times_leak(leak, shifted, zero, xp), x)
    if max_value is not None:
        cap = constant(max_value, x, xp)
        y = xp.where(x >= cap, cap, y)
    return y


def relu_dash(x: Array, leak: Number | Array, max_value: Number | None, threshold: Number, xp: ModuleType) -> Array:
    """leak where x <= threshold (+0.0 for a zero slope), 0 where x >= max_value, 1 elsewhere (NaN included)."""
    return relu_chain(x, constant(1, x, xp), leak, max_value, threshold, xp)


def relu_chain(
    x: Array, t: Array, leak: Number | Array, max_value: Number | None, threshold: Number, xp: ModuleType
) -> Array:
    """relu's derivative applied to t: leak*t on the leak side, 0 on the flat side, t elsewhere.
    The sides select, as in ``where``: a zero slope gives +0.0 whatever t is (inf and NaN included)."""
    zero, kink = _zero_and_kink(x, threshold, xp)
    d = xp.where(x <= kink, _times_leak(leak, t, zero, xp), t)
    if max_value is not None:
        d = xp.where(x >= constant(max_value, x, xp), zero, d)
    return d


def relu_leak_chain(
    x: Array, t: Array, leak: Array, max_value: Number | None, threshold: Number, xp: ModuleType
) -> Array:
    """relu's derivative with respect to an array leak, applied to t (leak's shape, broadcast):
    (x - threshold) * t on the leak side, 0 * t elsewhere. Where a zero slope meets x = -inf the
    value is held at +0.0 (not 0 * -inf), so the derivative there is 0 too."""
    zero, kink = _zero_and_kink(x, threshold, xp)
    shifted = x if threshold == 0 else x - kink
    moves = (x <= kink) & ~((leak == zero) & xp.isinf(x))
    # Mask the coefficient, not the product: the transpose (a gradient) multiplies it by the
    # cotangent, and 0 * NaN from an unused x would be NaN.
    return xp.where(moves, shifted, zero) * t


def relu_chain_leak_chain(
    x: Array, t: Array, s: Array, max_value: Number | None, threshold: Number, xp: ModuleType
) -> Array:
    """The derivative of relu_chain(x, t, leak) with respect to an array leak, applied to s: t * s
    on the leak side (not on the flat side), 0 elsewhere -- also at a zero leak, where relu_chain's
    value is held at +0.0 (autodiff through that where would give 0: PReLU's mixed second
    derivative d2y/dx dleak would be 0 instead of 1 at leak = 0)."""
    zero, kink = _zero_and_kink(x, threshold, xp)
    side = x <= kink
    if max_value is not None:
        side = side & ~(x >= constant(max_value, x, xp))
    return xp.where(side, t, zero) * s


def _zero_and_kink(x: Array, threshold: Number, xp: ModuleType) -> tuple[Array, Array]:
    zero = constant(0, x, xp)
    return zero, zero if threshold == 0 else constant(threshold, x, xp)


def _times_leak(leak: Number | Array, v: Array, zero: Array, xp: ModuleType) -> Array:
    """leak * v, and exactly +0.0 for a zero slope: a zero leak, or a zero entry (of either sign)
    of an array leak. 0 * v would give -0.0, and NaN at -inf. For an array leak a where, not
    "product + 0": XLA rewrites p + 0 to p once the leak is a constant."""
    if isinstance(leak, (int, float)):
        return zero if leak == 0 else constant(leak, zero, xp) * v
    return xp.where(leak == zero, zero, leak * v)


def constant(value: Any, x: Array, xp: ModuleType) -> Array:
    """A 0-d array of x's dtype on x's device: no backend gets to promote a Python scalar."""
    return xp.asarray(value, dtype=x.dtype, device=device(x))

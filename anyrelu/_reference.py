"""The reference definitions: the contract, written once in pure array-API code.

Every fast path in ``_fast.py`` must give the same bits as these bodies; the test suite
checks that. ``leak`` and ``max_value`` arrive validated (``_checks.py``): a Python number
already known to fit x's dtype (0 for the zero slope), or an array leak in x's dtype that
broadcasts to x.
"""

from __future__ import annotations

from types import ModuleType

from array_api_compat import device

from ._checks import Array


def relu(x: Array, leak: float | int | Array, max_value: float | int | None, xp: ModuleType) -> Array:
    """leak*x where x <= 0, max_value where x >= max_value, x elsewhere (NaN included)."""
    zero = _constant(0, x, xp)
    if isinstance(leak, (int, float)):
        # The zero slope is a constant +0.0: 0 * x would give -0.0, and NaN at -inf.
        leak_side = zero if leak == 0 else _constant(leak, x, xp) * x
    else:
        leak_side = _prelu_leak_side(x, leak, zero, xp)
    y = xp.where(x <= zero, leak_side, x)
    if max_value is not None:
        cap = _constant(max_value, x, xp)
        y = xp.where(x >= cap, cap, y)
    return y


def relu_dash(x: Array, leak: float | int | Array, max_value: float | int | None, xp: ModuleType) -> Array:
    """leak where x <= 0, 0 where x >= max_value, 1 elsewhere (NaN included)."""
    zero = _constant(0, x, xp)
    slope = _constant(leak, x, xp) if isinstance(leak, (int, float)) else leak
    d = xp.where(x <= zero, slope, _constant(1, x, xp))
    if max_value is not None:
        d = xp.where(x >= _constant(max_value, x, xp), zero, d)
    return d


def _prelu_leak_side(x: Array, leak: Array, zero: Array, xp: ModuleType) -> Array:
    """leak * x for an array leak, with the zero-slope promise kept element by element.

    Only leak-side values of x enter the product, so d/dleak is x there and 0 elsewhere
    (never 0 * NaN). Where leak == 0 the value must be +0.0: not -0.0, not 0 * -inf = NaN.
    The product stays a product there, so that PReLU training from a zero leak gets d/dleak = x.
    """
    zero_slope = leak == zero
    usable = (x <= zero) & ~(zero_slope & xp.isinf(x))
    product = leak * xp.where(usable, x, zero)
    # -0.0 + (+0.0) is +0.0. A literal "+ 0" would be folded away by XLA; leak * 0 is not.
    return xp.where(zero_slope, product + leak * zero, product)


def _constant(value: float | int, x: Array, xp: ModuleType) -> Array:
    """A 0-d array of x's dtype on x's device: no backend gets to promote a Python scalar."""
    return xp.asarray(value, dtype=x.dtype, device=device(x))

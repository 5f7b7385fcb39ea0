"""The reference definitions: each function's contract in pure array-API code.

Every body takes validated parameters (``_checks.py``: numbers rounded to x's dtype, arrays in
x's library and dtype) and x's namespace last. Backends may run faster kernels, which the test
suite proves equal to these bodies.

``CHAIN[f](x, t, *parameters, xp)`` is f's derivative applied to a tangent or cotangent ``t``,
where it is not simply ``t * f_dash(x)``: what ``jax.grad``, ``jax.jvp`` and torch autograd
return (with t = 1, exactly ``f_dash(x)``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import rectifiers, relu

REFERENCE: dict[str, Callable[..., Any]] = {
    "relu": relu.relu,
    "relu_dash": relu.relu_dash,
    **{
        name: rectifiers.in_wider_dtype(name, getattr(rectifiers, name))
        for base in rectifiers.FUNCTIONS
        for name in (base, f"{base}_dash")
    },
}

CHAIN: dict[str, Callable[..., Any]] = {
    "relu": relu.relu_chain,
}

"""The reference definitions: each function's contract in pure array-API code.

Every body takes validated parameters (``_checks.py``: numbers rounded to x's dtype, arrays in
x's library and dtype) and x's namespace last. Backends may run faster kernels, which the test
suite proves equal to these bodies.

``CHAIN[f](x, t, *parameters, xp)`` is f's derivative applied to a tangent or cotangent ``t``:
what ``jax.grad``, ``jax.jvp`` and torch autograd return (with t = 1, exactly ``f_dash(x)``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import relu

REFERENCE: dict[str, Callable[..., Any]] = {
    "relu": relu.relu,
    "relu_dash": relu.relu_dash,
}

CHAIN: dict[str, Callable[..., Any]] = {
    "relu": relu.relu_chain,
}

"""High-precision references for the rectifier family (mpmath), and the accuracy measure.

Each function is written here from its mathematical definition, in 120-bit arithmetic, with the
parameters as x's working dtype holds them. ``ulps`` measures an answer against the correctly
rounded value; ``bound`` is the contract's tolerance (docs/conventions.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
from helpers import finfo, round_once

mpmath.mp.prec = 120
mpf = mpmath.mpf

SELU_ALPHA = mpf("1.6732632423543772848170429916717")
SELU_SCALE = mpf("1.0507009873554804934193349852946")
SQRT_2_OVER_PI = mpmath.sqrt(2 / mpmath.pi)
GELU_CUBIC = mpf("0.044715")


def _erfc(z: Any) -> Any:
    """mpmath's erfc, which cannot take |z| beyond ~1e150; erfc is 0 or 2 far before that."""
    return mpf(0) if z > 1e6 else mpf(2) if z < -1e6 else mpmath.erfc(z)


def _sigmoid(z: Any) -> Any:
    return 1 / (1 + mpmath.exp(-z))


def _gelu_tanh_parts(x: Any) -> tuple[Any, Any]:
    u = SQRT_2_OVER_PI * (x + GELU_CUBIC * x**3)
    return _sigmoid(2 * u), SQRT_2_OVER_PI * (1 + 3 * GELU_CUBIC * x**2)


def _mish_t(x: Any) -> Any:
    return mpmath.tanh(mpmath.log1p(mpmath.exp(x)))


# name -> (f, f'), each taking (x, parameter) as mpf; the parameter is None where there is none.
FUNCTIONS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "elu": (lambda x, a: x if x > 0 else a * mpmath.expm1(x), lambda x, a: 1 if x > 0 else a * mpmath.exp(x)),
    "selu": (
        lambda x, _: SELU_SCALE * x if x > 0 else SELU_SCALE * SELU_ALPHA * mpmath.expm1(x),
        lambda x, _: SELU_SCALE if x > 0 else SELU_SCALE * SELU_ALPHA * mpmath.exp(x),
    ),
    "celu": (lambda x, a: x if x > 0 else a * mpmath.expm1(x / a), lambda x, a: 1 if x > 0 else mpmath.exp(x / a)),
    "gelu": (
        lambda x, approximate: x * _gelu_tanh_parts(x)[0] if approximate else x / 2 * _erfc(-x / mpmath.sqrt(2)),
        lambda x, approximate: (
            (lambda s, du: s + 2 * x * du * s * (1 - s))(*_gelu_tanh_parts(x))
            if approximate
            else _erfc(-x / mpmath.sqrt(2)) / 2 + x * mpmath.npdf(x)
        ),
    ),
    "silu": (lambda x, _: x * _sigmoid(x), lambda x, _: _sigmoid(x) * (1 + x * (1 - _sigmoid(x)))),
    "softplus": (lambda x, beta: mpmath.log1p(mpmath.exp(beta * x)) / beta, lambda x, beta: _sigmoid(beta * x)),
    "mish": (
        lambda x, _: x * _mish_t(x),
        lambda x, _: _mish_t(x) + x * (1 - _mish_t(x) ** 2) * _sigmoid(x),
    ),
    "hard_sigmoid": (
        lambda x, _: 0 if x <= -3 else 1 if x >= 3 else (x + 3) / 6,
        lambda x, _: 0 if x <= -3 or x >= 3 else mpf(1) / 6,
    ),
    "hard_swish": (
        lambda x, _: 0 if x <= -3 else x if x >= 3 else x * (x + 3) / 6,
        lambda x, _: 0 if x <= -3 else 1 if x >= 3 else (2 * x + 3) / 6,
    ),
    # the same functions, written so that 120 bits do not cancel away for large negative x
    "squareplus": (
        lambda x, b: (x + mpmath.sqrt(x * x + b)) / 2 if x >= 0 else b / (2 * (mpmath.sqrt(x * x + b) - x)),
        lambda x, b: (
            (1 + x / mpmath.sqrt(x * x + b)) / 2
            if x >= 0
            else b / (2 * mpmath.sqrt(x * x + b) * (mpmath.sqrt(x * x + b) - x))
        ),
    ),
}

PARAMETER = {"elu": "alpha", "celu": "alpha", "gelu": "approximate", "softplus": "beta", "squareplus": "b"}
PIECEWISE = {"hard_sigmoid", "hard_swish"}


def exact(name: str, x: float, parameter: Any = None, dash: bool = False) -> Any:
    """f(x) or f'(x) in 120-bit arithmetic; x and the parameter as the working dtype holds them."""
    return FUNCTIONS[name][dash](mpf(x), None if parameter is None else _parameter(parameter))


def _parameter(value: Any) -> Any:
    return value if isinstance(value, bool) else mpf(value)


def condition(name: str, x: float, parameter: Any = None, dash: bool = False) -> float:
    """|x g'(x) / g(x)| for g = f (or f'), at x: how much rounding x itself moves the answer."""
    if x == 0:
        return 0.0
    g = lambda v: FUNCTIONS[name][dash](v, None if parameter is None else _parameter(parameter))  # noqa: E731
    value = g(mpf(x))
    if value == 0:
        return math.inf
    if name in PIECEWISE and dash:
        slope = 0 if not -3 < x < 3 else (mpf(1) / 3 if name == "hard_swish" else 0)
    else:
        slope = mpmath.diff(g, mpf(x))
    return float(abs(mpf(x) * slope / value))


def correctly_rounded(value: Any, dtype: np.dtype) -> float:
    """The exact value rounded once to dtype."""
    info = finfo(np.dtype(dtype))
    if abs(value) < mpf(float(info.smallest_subnormal)) / 4:  # rounds to a zero
        return 0.0 if value >= 0 else -0.0
    if abs(value) > 2 * mpf(float(info.max)):  # rounds to an infinity
        return math.inf if value > 0 else -math.inf
    return round_once(_fraction(value), dtype)


def _fraction(value: Any) -> Fraction:
    sign, mantissa, exponent, _ = mpf(value)._mpf_  # man_exp drops the sign
    return (-1) ** sign * Fraction(int(mantissa)) * Fraction(2) ** int(exponent)


def ulps(got: float, value: Any, dtype: np.dtype) -> float:
    """|got - value| in ulps of the correctly rounded value; results within 6 binades of underflow
    are measured in ulps of 64 x the smallest normal number (a subnormal intermediate may lose
    bits there, and hardware that flushes subnormals gives 0)."""
    if math.isnan(got):
        return math.inf
    if mpmath.isinf(value):
        return 0.0 if got == value else math.inf
    info = finfo(np.dtype(dtype))
    rounded = correctly_rounded(value, dtype)
    if math.isinf(rounded):  # the exact value overflows: the answer is that infinity
        return 0.0 if got == rounded else math.inf
    floor = 64 * float(info.smallest_normal)
    scale = max(abs(rounded), floor)
    ulp = math.ldexp(1.0, math.frexp(scale)[1] - 1 - int(info.nmant))
    return float(abs(mpf(got) - value)) / ulp


def bound(dtype: np.dtype, dash: bool) -> float:
    """The contract's tolerance in ulps, before the condition number: 2 (float32) and 4 (float64)
    for values, twice that for derivatives; 1 for float16 and bfloat16 (float32, rounded once)."""
    name = np.dtype(dtype).name
    base = {"float32": 2.0, "float64": 4.0}.get(name, 1.0)
    return base * (2 if dash and name in ("float32", "float64") else 1)

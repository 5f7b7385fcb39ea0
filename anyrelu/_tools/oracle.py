"""The accuracy screen's oracle: every function and derivative of the family, written from its
mathematical definition in ``np.longdouble`` (x86's 80-bit extended type: 11 bits more than
float64, 40 more than float32), sharing no code with anyrelu's reference bodies.

Each formula is the textbook one, rearranged only where the textbook form would cancel (a
sigmoid's ``1 - s`` is ``sigmoid(-x)``; squareplus for x < 0 is ``b / (2 (s - x))``). GELU's erfc
is the one thing ``np.longdouble`` lacks: ``math.erfc`` (float64, within 1 ulp) serves the float32
and narrower screens, where its error is 2^-29 of a float32 ulp; the float64 screen of GELU uses
mpmath (``exact_mpmath``) on a sample. tests/test_accuracy.py checks this module against mpmath.

``bound`` and ``excess`` are the contract's measure (docs/conventions.md, "Accuracy"): an error in
ulps of the correctly rounded value, allowed ``bound x max(1, condition number)``; where the exact
value is below 64 x the smallest normal number, an absolute error up to that amount is allowed
(the result underflows; XLA and GPUs flush subnormals).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

LD = np.longdouble
# 63 fraction bits on x86 (80-bit), 112 with quad precision; float64's 52 elsewhere (then the
# oracle is no more precise than float64 and the float64 screen uses mpmath only).
EXTENDED = np.finfo(LD).nmant > 60

SELU_ALPHA = "1.6732632423543772848170429916717"
SELU_SCALE = "1.0507009873554804934193349852946"
PI = 4 * np.arctan(LD(1))  # np.pi is a float64: 1e-16 off
HUGE = LD(2) ** 13000  # stands in for ±inf: beyond every float64, inside np.longdouble's range

Formula = Callable[[Any, Any], Any]  # (x as np.longdouble array, parameter) -> f(x)


def _c(text: str) -> Any:
    return LD(text)


def _sigmoid(z: Any) -> Any:
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-z))


def _erfc(z: Any) -> Any:
    return np.vectorize(math.erfc, otypes=[np.float64])(z.astype(np.float64)).astype(LD)


def _gelu(x: Any, approximate: bool) -> Any:
    if approximate:
        return x * _sigmoid(2 * _tanh_u(x)[0])
    return x / 2 * _erfc(-x / np.sqrt(LD(2)))


def _gelu_dash(x: Any, approximate: bool) -> Any:
    if approximate:
        u, du = _tanh_u(x)
        return _sigmoid(2 * u) + 2 * x * du * _sigmoid(2 * u) * _sigmoid(-2 * u)
    with np.errstate(under="ignore"):
        density = np.exp(-x * x / 2) / np.sqrt(2 * PI)
    return _erfc(-x / np.sqrt(LD(2))) / 2 + x * density


def _tanh_u(x: Any) -> tuple[Any, Any]:
    k, c = np.sqrt(2 / PI), _c("0.044715")
    x = np.clip(x, -1e30, 1e30)  # x^3 stays finite; sigmoid(2u) is 0 or 1 long before
    return k * (x + c * x**3), k * (1 + 3 * c * x * x)


def _softplus(x: Any, beta: Any) -> Any:
    with np.errstate(under="ignore"):
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(beta * x))) / beta


def _mish(x: Any) -> Any:
    return np.tanh(_softplus(x, LD(1)))


def _mish_dash(x: Any) -> Any:
    with np.errstate(over="ignore"):
        sech = 1 / np.cosh(_softplus(x, LD(1)))
    return _mish(x) + x * sech * sech * _sigmoid(x)


def _squareplus(x: Any, b: Any) -> Any:
    s = np.hypot(x, np.sqrt(b))
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where(x >= 0, (x + s) / 2, b / (2 * (s - x)))


def _squareplus_dash(x: Any, b: Any) -> Any:
    s = np.hypot(x, np.sqrt(b))
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where(x >= 0, (1 + x / s) / 2, b / (2 * s * (s - x)))


def _piece(lower: Callable[[Any], Any], upper: Callable[[Any], Any], closed: bool = True) -> Callable[[Any], Any]:
    """lower(x) for x <= 0 (x < 0 where not closed), upper(x) elsewhere."""

    def f(x: Any) -> Any:
        on_lower = x <= 0 if closed else x < 0
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            return np.where(on_lower, lower(np.minimum(x, 0)), upper(x))

    return f


def _elu(x: Any, a: Any) -> Any:
    return _piece(lambda v: a * np.expm1(v), lambda v: v, closed=False)(x)


def _elu_dash(x: Any, a: Any) -> Any:
    return _piece(lambda v: a * np.exp(v), lambda v: np.ones_like(v))(x)


def _selu(x: Any, _: Any) -> Any:
    return _piece(lambda v: _c(SELU_SCALE) * _c(SELU_ALPHA) * np.expm1(v), lambda v: _c(SELU_SCALE) * v, False)(x)


def _selu_dash(x: Any, _: Any) -> Any:
    return _piece(lambda v: _c(SELU_SCALE) * _c(SELU_ALPHA) * np.exp(v), lambda v: np.full_like(v, _c(SELU_SCALE)))(x)


def _celu(x: Any, a: Any) -> Any:
    return _piece(lambda v: a * np.expm1(v / a), lambda v: v, closed=False)(x)


def _celu_dash(x: Any, a: Any) -> Any:
    return _piece(lambda v: np.exp(v / a), lambda v: np.ones_like(v))(x)


def _hard_sigmoid(x: Any, _: Any) -> Any:
    return np.clip((x + 3) / 6, 0, 1)


def _hard_sigmoid_dash(x: Any, _: Any) -> Any:
    return np.where((x > -3) & (x < 3), 1 / LD(6), LD(0))


def _hard_swish(x: Any, _: Any) -> Any:
    return np.where(x <= -3, LD(0), np.where(x >= 3, x, x * (np.clip(x, -3, 3) + 3) / 6))


def _hard_swish_dash(x: Any, _: Any) -> Any:
    return np.where(x <= -3, LD(0), np.where(x >= 3, LD(1), (2 * np.clip(x, -3, 3) + 3) / 6))


# name -> (f, f'), each (x, parameter) -> value, x a finite np.longdouble array
FORMULAS: dict[str, tuple[Formula, Formula]] = {
    "elu": (_elu, _elu_dash),
    "selu": (_selu, _selu_dash),
    "celu": (_celu, _celu_dash),
    "gelu": (_gelu, _gelu_dash),
    "silu": (lambda x, _: x * _sigmoid(x), lambda x, _: _sigmoid(x) + x * _sigmoid(x) * _sigmoid(-x)),
    "softplus": (_softplus, lambda x, beta: _sigmoid(beta * x)),
    "mish": (lambda x, _: x * _mish(x), lambda x, _: _mish_dash(x)),
    "hard_sigmoid": (_hard_sigmoid, _hard_sigmoid_dash),
    "hard_swish": (_hard_swish, _hard_swish_dash),
    "squareplus": (_squareplus, _squareplus_dash),
}
PIECEWISE_LINEAR = {"hard_sigmoid", "hard_swish"}  # exact rational values: no condition number


def evaluate(name: str, dash: bool, x: np.ndarray, parameter: Any) -> tuple[np.ndarray, np.ndarray]:
    """(exact value, condition number) of f or f' at each x (NaN at NaN; ±inf means the limit)."""
    p = parameter if isinstance(parameter, bool) or parameter is None else LD(parameter)
    g = FORMULAS[name][dash]
    wide = np.clip(np.nan_to_num(x.astype(LD), nan=0.0, posinf=float(HUGE), neginf=-float(HUGE)), -HUGE, HUGE)
    with np.errstate(all="ignore"):
        value = g(wide, p)
        value = np.where(np.isnan(x.astype(np.float64)), LD(np.nan), value)
        if name in PIECEWISE_LINEAR:
            slope = np.where(np.abs(wide) < 3, LD(1) / 3 if (dash and name == "hard_swish") else LD(0), LD(0))
            if not dash:
                slope = FORMULAS[name][1](wide, p)
        elif not dash:
            slope = FORMULAS[name][1](wide, p)
        else:  # f'' by one-sided differences, the smaller: right on both sides of a kink
            h = np.maximum(np.abs(wide), LD(1e-300)) * LD(2) ** -24
            right, left = (g(wide + h, p) - value) / h, (value - g(wide - h, p)) / h
            slope = np.where(np.abs(right) < np.abs(left), right, left)
        condition = np.abs(wide * slope / value)
    condition = np.where((wide == 0) | ~np.isfinite(wide) | (np.abs(wide) >= HUGE), LD(0), condition)
    return value, np.nan_to_num(condition.astype(np.float64), nan=0.0, posinf=np.inf)


def exact_mpmath(name: str, dash: bool, x: np.ndarray, parameter: Any) -> np.ndarray:
    """f or f' in 120-bit mpmath, returned as np.longdouble (for float64 GELU, and for machines
    whose np.longdouble is float64): slower, for samples."""
    import mpmath  # type: ignore[import-untyped]

    mpmath.mp.prec = 120
    sqrt2 = mpmath.sqrt(2)

    def one(v: float) -> Any:
        if math.isnan(v):
            return math.nan
        t = mpmath.mpf(max(min(v, 1e300), -1e300))
        if name == "gelu" and not parameter:
            if dash:
                return mpmath.erfc(-t / sqrt2) / 2 + t * mpmath.npdf(t) if abs(v) < 1e6 else (1.0 if v > 0 else 0.0)
            return t / 2 * mpmath.erfc(-t / sqrt2) if abs(v) < 1e6 else (v if v > 0 else -0.0)
        return evaluate(name, dash, np.array([v]), parameter)[0][0]

    # below half of np.longdouble's smallest subnormal a value rounds to a zero: made one here, as
    # np.longdouble() of such a string warns (overflow, np.errstate does not reach it)
    tiny = mpmath.mpf(2) ** (int(np.finfo(LD).minexp) - int(np.finfo(LD).nmant) - 1)

    def long(v: Any) -> Any:
        if not isinstance(v, mpmath.mpf):
            return LD(v)
        if abs(v) < tiny:
            return LD(-0.0) if v < 0 else LD(0.0)
        return LD(mpmath.nstr(v, 30))

    out = np.array([one(float(v)) for v in x.astype(np.float64)], dtype=object)
    return np.array([long(v) for v in out], dtype=LD)


# ---------------------------------------------------------------- the contract's measure


def bound(dtype_name: str, dash: bool) -> float:
    """The contract's tolerance in ulps before the condition number: 2 (float32) and 4 (float64)
    for values, twice that for derivatives; 1 for float16 and bfloat16 (float32, rounded once)."""
    base = {"float32": 2.0, "float64": 4.0}.get(dtype_name, 1.0)
    return base * (2 if dash and dtype_name in ("float32", "float64") else 1)


def finfo(dtype: np.dtype) -> Any:
    if dtype.name == "bfloat16":
        import ml_dtypes

        return ml_dtypes.finfo(dtype)
    return np.finfo(dtype)


def excess(
    got: np.ndarray, value: np.ndarray, condition: np.ndarray, dtype: np.dtype, dash: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(error in ulps, error / what the contract allows) at each point: a ratio above 1 is a break.

    NaN must meet NaN; where the exact value overflows the dtype the answer is that infinity; where
    it is below 64 x the smallest normal number, the allowance is that amount, absolute.
    """
    info = finfo(dtype)
    tiny = LD(float(info.smallest_normal))
    largest = LD(float(info.max))
    got_ld = got.astype(np.float64).astype(LD)
    with np.errstate(over="ignore", invalid="ignore"):  # the ulp of the correctly rounded value
        rounded = np.abs(value).astype(np.float64).astype(dtype).astype(np.float64)
    ulp = np.ldexp(LD(1), np.frexp(np.clip(rounded, float(tiny), float(largest)))[1] - 1 - int(info.nmant))
    overflows = np.abs(value) >= largest + np.ldexp(LD(1), np.frexp(float(largest))[1] - 2 - int(info.nmant))
    with np.errstate(invalid="ignore", over="ignore"):
        error = np.abs(got_ld - value)
        ulps = (error / ulp).astype(np.float64)
        allowed = bound(dtype.name, dash) * np.maximum(1.0, condition)
        ratio = ulps / allowed
        under = np.abs(value) < 64 * tiny
        ratio = np.where(under, (error / (64 * tiny)).astype(np.float64), ratio)
        ulps = np.where(under, 0.0, ulps)
        right_inf = got_ld == np.sign(value) * LD(np.inf)
        ratio = np.where(overflows, np.where(right_inf, 0.0, np.inf), ratio)
        ulps = np.where(overflows, np.where(right_inf, 0.0, np.inf), ulps)
        nan_exact, nan_got = np.isnan(value), np.isnan(got_ld)
        ratio = np.where(nan_exact | nan_got, np.where(nan_exact & nan_got, 0.0, np.inf), ratio)
        ulps = np.where(nan_exact | nan_got, np.where(nan_exact & nan_got, 0.0, np.inf), ulps)
    return ulps, ratio

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

float32 programs: ELU, SELU and CELU and their derivatives, hard swish and softplus's derivative
compute float32 (and float16 and bfloat16, rounded once at the end) in float32, with no float64
operation in the program (XLA's float64 runs at a fraction of float32's speed on CPUs, 1/32-1/64
on GPUs, and not at all on TPUs): see ``_expm1_lower``. The others of
``_reference.rectifiers.IN_FLOAT64`` still compute float32 in float64, traced with 64-bit types
enabled (``jax.enable_x64``) also where the user has not enabled them: their float32 results are float32 either way.
"""

from __future__ import annotations

import functools
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
from .._reference.rectifiers import IN_FLOAT64, SELU_SCALE, SELU_SCALE_ALPHA

# jax.enable_x64 since JAX 0.7; jax.experimental.enable_x64 before.
_enable_x64 = jax.enable_x64 if hasattr(jax, "enable_x64") else jax.experimental.enable_x64  # type: ignore[attr-defined]

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
        chain = _with_x64(CHAIN[name]) if name in IN_FLOAT64 else CHAIN[name]
    else:
        dash = _body(f"{name}_dash")

        def chain(x: Array, t: Array, *args: Any) -> Array:
            return t * dash(x, *args)

    @jax.custom_jvp
    def f(x: Array) -> Array:
        return value(x, *parameters, jnp)

    def f_jvp(primals: tuple[Array], tangents: tuple[Any]) -> tuple[Array, Array]:
        (x,), (t,) = primals, tangents
        y = f(x)
        return y, jnp.zeros_like(y) if isinstance(t, SymbolicZero) else chain(x, t, *parameters, jnp)

    f.defjvp(f_jvp, symbolic_zeros=True)
    return jax.jit(f)


def _with_x64(body: Callable[..., Array]) -> Callable[..., Array]:
    def traced_with_x64(*args: Any) -> Array:
        with _enable_x64(True):
            return body(*args)

    return traced_with_x64


def _body(name: str) -> Callable[..., Array]:
    """The body that computes ``name``: FLOAT32's for every dtype but float64, where it has one."""
    reference = _with_x64(REFERENCE[name]) if name in IN_FLOAT64 else REFERENCE[name]
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

    Above -0.6932: x + x^2/2 + x^3 Q(x), where the first two terms carry the value and are added
    without rounding error: x = h + l with h the top 12 bits of x (a bit mask, not Veltkamp's
    splitting, so that no compiler contraction of a*b+c into an FMA can change it), so h^2/2 and
    h l are exact; x + h^2/2 is TwoSum'd (additions only: nothing to contract); the rest is 6% of
    the value at most. Below: t - 1 with t = exp(x) < 1/2 (XLA's float32 exp is within 0.99 ulp of
    t, half an ulp of the result) and the subtraction's error, exactly: (hi + 1) and t - (hi + 1)
    are exact (Sterbenz)."""
    near = jnp.maximum(x, jnp.float32(_HALF_POINT))  # the polynomial's interval; NaN stays NaN
    h = _top_half(near)
    low = near - h
    q = jnp.float32(_EXPM1_Q[-1])
    for coefficient in reversed(_EXPM1_Q[:-1]):
        q = q * near + jnp.float32(coefficient)
    half = (h * h) * jnp.float32(0.5)
    s = near + half  # TwoSum: s + error == near + half exactly
    b = s - near
    error = (near - (s - b)) + (half - b)
    rest = error + (h * low + ((low * low) * jnp.float32(0.5) + ((near * near) * near) * q))
    t = jnp.exp(jnp.minimum(x, jnp.float32(_HALF_POINT)))
    t_hi = t - 1
    t_lo = t - (t_hi + 1)
    far = x < jnp.float32(_HALF_POINT)
    return jnp.where(far, t_hi, s), jnp.where(far, t_lo, rest)


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
    """SELU's scale * alpha is an exact constant, carried as float32 hi + lo; scale * x rounds
    twice (1 ulp)."""
    return jnp.where(x < 0, _scaled_expm1(SELU_SCALE_ALPHA, x), np.float32(SELU_SCALE) * x)


def _scaled_expm1(value: float, x: Array) -> Array:
    """value * expm1(x) for x < 0, x elsewhere (NaN included)."""
    hi, lo = _expm1_lower(jnp.minimum(x, 0))
    tiny = jnp.abs(x) < jnp.float32(_TINY)
    return jnp.where(x < 0, jnp.where(tiny, _times(value, x, 0.0), _times(value, hi, lo)), x)


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
    divisor is an array it cannot fold: small * 0 + 6 is 6 (NaN only where x is NaN)."""
    small = jnp.clip(x, -3, 3)
    six = small * 0 + 6
    middle = small * (small + 3) / six
    return jnp.where(x <= -3, jnp.float32(0), jnp.where(x >= 3, x, middle))


FLOAT32: dict[str, Callable[..., Array]] = {
    "hard_swish": _hard_swish32,
    "elu": _elu32,
    "selu": _selu32,
    "celu": _celu32,
    "elu_dash": lambda x, alpha: rectifiers.elu_dash(x, alpha, jnp),
    "selu_dash": lambda x: rectifiers.selu_dash(x, jnp),
    "celu_dash": lambda x, alpha: rectifiers.celu_dash(x, alpha, jnp),
    # sigmoid(beta x) from XLA's float32 exp: 2 ulp at worst, the bound is 8 (measured)
    "softplus_dash": lambda x, beta: rectifiers.softplus_dash(x, beta, jnp),
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

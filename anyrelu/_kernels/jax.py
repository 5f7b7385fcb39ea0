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

The functions that compute float32 in float64 (``_reference.rectifiers.in_float64``) are traced
with 64-bit types enabled (``jax.enable_x64``), also where the user has not enabled them: their
float32 results are float32 either way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import ModuleType
from typing import Any

import jax
import jax.numpy as jnp
from jax.custom_derivatives import SymbolicZero

from .._checks import Array
from .._reference import CHAIN, REFERENCE
from .._reference import relu as reference
from .._reference.rectifiers import IN_FLOAT64

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
    value = _with_x64(REFERENCE[name]) if name in IN_FLOAT64 else REFERENCE[name]
    if name.endswith("_dash"):  # derivatives of derivatives: plain autodiff of the formula
        return jax.jit(lambda x: value(x, *parameters, jnp))
    chain = CHAIN.get(name) or _times_dash(name)
    if name in IN_FLOAT64:
        chain = _with_x64(chain)

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


def _times_dash(name: str) -> Callable[..., Array]:
    dash = REFERENCE[f"{name}_dash"]
    return lambda x, t, *parameters: t * dash(x, *parameters)


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

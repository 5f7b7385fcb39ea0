"""Backends: which kernel computes each function for each kind of array.

Every backend is special-cased here and nowhere else. A fast path is only taken where the test
suite proves it gives the same bits as ``_reference.py`` (tests/test_fast_paths.py); anything
else falls back to the reference body.

- NumPy: branch-free ``maximum``/``minimum`` forms, against a cached block of the number on large
  contiguous arrays (NumPy's fast loops want contiguous operands) and a cached 0-d array of it
  elsewhere (cheaper per call than a Python number), the product buffer reused as the output,
  and relu_dash built from the mask's bits (``heaviside`` on tiny arrays). ``maximum`` has no
  fixed answer at the tie ``maximum(-0.0, +0.0)``: SIMD and scalar loops differ by dtype and
  CPU, so the zero-slope form probes its argument order once per dtype.
- torch: ``threshold`` (+ ``clamp_max_``) / ``leaky_relu`` (float32/float64), and under autograd
  the fused backward kernels with NaN moved to the identity side (``_torch_autograd.py``);
  ``torch.relu`` returns -0.0 at -0.0, and leaky_relu's gradient at NaN is the slope, not 1.
- JAX: the reference body, jitted once per (function, leak, max_value) and cached, so an eager
  call costs one compiled dispatch; under ``jit``/``grad``/``vmap`` it inlines.
- Dask: each chunk is handed to its own backend with ``map_blocks``: one task per chunk.
- CuPy: one-pass ``ElementwiseKernel``s.
- array-api-strict and anything else: the reference body.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import ModuleType
from typing import Any, NamedTuple

import array_api_compat as compat
import numpy as np

from . import _reference
from ._checks import Array, DtypeInfo, dtype_info, namespace

Kernel = Callable[[Array, Any, Any, ModuleType], Array]


class Backend(NamedTuple):
    xp: ModuleType
    relu: Kernel
    relu_dash: Kernel
    dtypes: dict[Any, DtypeInfo]  # this library's dtypes seen so far -> dtype_info(); only grows

    def add_dtype(self, func: str, dtype: Any) -> DtypeInfo:
        """A dtype's first call: _checks.dtype_info(dtype), kept in dtypes (or its TypeError)."""
        info = self.dtypes[dtype] = dtype_info(func, dtype, self.xp)
        return info


_BACKENDS: dict[type, Backend] = {}  # array type -> Backend; only ever grows


def backend(func: str, x: Array) -> Backend:
    """The namespace and kernels for x's array type (a TypeError for anything not an array)."""
    try:
        return _BACKENDS[type(x)]
    except KeyError:
        pass
    xp = namespace(func, x)
    if compat.is_numpy_namespace(xp):
        found = Backend(xp, _numpy_relu, _numpy_relu_dash, {})
    elif compat.is_torch_namespace(xp):
        found = Backend(xp, _torch_relu_kernel(), _reference.relu_dash, {})
    elif compat.is_jax_namespace(xp):
        found = Backend(xp, _jax_kernel(_reference.relu), _jax_kernel(_reference.relu_dash), {})
    elif compat.is_dask_namespace(xp):
        found = Backend(xp, _dask_kernel("relu"), _dask_kernel("relu_dash"), {})
    elif compat.is_cupy_namespace(xp):
        found = Backend(xp, _cupy_relu, _cupy_relu_dash, {})
    else:  # array-api-strict wraps NumPy, so NumPy's overflow warnings are silenced there too
        found = Backend(xp, _quiet_reference_relu, _reference.relu_dash, {})
    _BACKENDS[type(x)] = found
    return found


_NUMBERS = (float, int)  # the types of a validated number leak (_checks.leak); an array otherwise


def _quiet_reference_relu(x: Array, leak: Any, max_value: Any, xp: ModuleType) -> Array:
    """The reference relu with NumPy's overflow warning off (NumPy and the libraries that wrap
    it): leak*x may overflow to ±inf, the IEEE answer the contract asks for, not a mistake."""
    with np.errstate(over="ignore"):
        return _reference.relu(x, leak, max_value, xp)


# ---------------------------------------------------------------- NumPy


def _numpy_relu(x: Array, leak: Any, max_value: Any, xp: ModuleType) -> Array:
    # Numbers reach the ufuncs as 0-d arrays of x's dtype (_constant) or blocks of it (_block):
    # the value NEP 50 would cast a Python number to, so leak * x is the reference's, in x's dtype.
    if x.ndim == 0 or type(leak) not in _NUMBERS or leak < 0 or (leak > 1 and x.dtype.kind != "f"):
        # 0-d (ufuncs return scalars), PReLU, negative leaks (maximum would tie at ±0.0 with
        # opposite signs), integer leaks > 1 (wrapping products break the minimum form).
        return _quiet_reference_relu(x, leak, max_value, xp)
    if leak == 0:
        facts = _FACTS.get(x.dtype) or _numpy_facts(x.dtype)
        if facts.zero_first is _NO_ORDER:
            return _reference.relu(x, leak, max_value, xp)
        if x.size < _BLOCK:  # _against's first branch, inline: the call is 5% of a small relu
            y = np.maximum(facts.zero, x) if facts.zero_first else np.maximum(x, facts.zero)
        else:
            y = _against(np.maximum, x, 0, facts.zero_first is True)
    elif leak <= 1:  # leak*x lies between x and 0: the larger of the two is the answer
        y = np.multiply(x, _constant(x.dtype, leak))
        np.maximum(x, y, out=y)  # x first: a NaN comes back with x's own payload
    else:  # leak > 1: the smaller of the two; leak*x may overflow to -inf or +inf (then unused)
        with np.errstate(over="ignore"):
            y = np.multiply(x, _constant(x.dtype, leak))
        np.minimum(x, y, out=y)
    if max_value is not None:
        _against(np.minimum, y, max_value, out=y)
    return y


_BLOCK = 16384  # elements in a row of the blocked form; 64 KiB of float32 stays in cache
_TINY = 32  # up to this size, relu_dash takes two non-SIMD calls (faster up to about 64 elements)


def _against(ufunc: np.ufunc, x: Array, value: float | int, value_first: bool = False, out: Array = None) -> Array:
    """ufunc(x, value) in x's dtype, into out (None, or x itself). NumPy's SIMD loops for maximum
    and minimum need contiguous operands; against a broadcast number they take a loop 4x slower
    per element (1.5-2x at 10^6 elements). So a large C-contiguous x meets a cached contiguous
    block of the value instead: one call over x's rows of _BLOCK elements, one for the short rest."""
    if x.size < _BLOCK or not x.flags.c_contiguous or not x.dtype.isnative:
        constant = _constant(x.dtype, value)
        return ufunc(constant, x, out=out) if value_first else ufunc(x, constant, out=out)
    if out is None:
        out = np.empty(x.shape, x.dtype)
    flat_x, flat_out, block = x.reshape(-1), out.reshape(-1), _block(x.dtype, value)
    rows = flat_x.size - flat_x.size % _BLOCK
    for part, result, values in (
        (flat_x[:rows].reshape(-1, _BLOCK), flat_out[:rows].reshape(-1, _BLOCK), block),
        (flat_x[rows:], flat_out[rows:], block[: flat_x.size - rows]),
    ):
        ufunc(*((values, part) if value_first else (part, values)), out=result)
    return out


@functools.lru_cache(maxsize=256)
def _constant(dtype: np.dtype, value: float | int) -> np.ndarray:
    """value as a read-only 0-d array of dtype. A ufunc takes it 0.4 us faster than the Python
    number, with the same result: NEP 50 casts a number to x's dtype first. (Never -0.0: a
    validated leak that rounds to zero is 0, and caps are > 0.)"""
    constant = np.asarray(value, dtype=dtype)
    constant.flags.writeable = False
    return constant


@functools.lru_cache(maxsize=64)
def _block(dtype: np.dtype, value: float | int) -> np.ndarray:
    block = np.full(_BLOCK, value, dtype=dtype)
    block.flags.writeable = False
    return block


def _numpy_relu_dash(x: Array, leak: Any, max_value: Any, xp: ModuleType) -> Array:
    if x.ndim == 0 or type(leak) not in _NUMBERS:
        return _reference.relu_dash(x, leak, max_value, xp)
    facts = _FACTS.get(x.dtype) or _numpy_facts(x.dtype)
    if leak == 0 and max_value is None and x.size <= _TINY and x.dtype.kind == "f":
        # Two calls beat the three below where NumPy's per-call cost dominates: heaviside gives
        # 0 for x < 0, its second argument (+0.0) at ±0.0, 1 for x > 0 and NaN at NaN; fmin
        # turns NaN into 1.
        y = np.heaviside(x, facts.zero)
        return np.fmin(y, facts.one, out=y)
    dtype = facts.native
    leak_side = np.less_equal(x, facts.zero)
    if leak == 0 and max_value is None:
        return np.logical_not(leak_side, out=leak_side).astype(dtype)
    # Each output is one of two bit patterns, so build it in the integers of the same width:
    # bits(1) + leak_side * (bits(leak) - bits(1)) is exact, branch-free and one temporary.
    ints, one_bits, step = _dash_bits(dtype, leak)
    out = np.multiply(leak_side, step, dtype=ints)
    out += one_bits
    if max_value is not None:  # x >= max_value > 0 was on the identity side: 1 -> 0
        flat_side = np.greater_equal(x, max_value, out=leak_side)
        np.subtract(out, one_bits, out=out, where=flat_side)
    return out.view(dtype)


@functools.lru_cache(maxsize=256)
def _dash_bits(dtype: np.dtype, leak: float | int) -> tuple[np.dtype, Any, Any]:
    ints = np.dtype(f"i{dtype.itemsize}")
    one_bits, leak_bits = (int(np.asarray(v, dtype=dtype).view(ints)) for v in (1, leak))
    width = 8 * dtype.itemsize
    step = (leak_bits - one_bits + 2 ** (width - 1)) % 2**width - 2 ** (width - 1)
    return ints, ints.type(one_bits), ints.type(step)


_NO_ORDER = "neither"


class _Facts(NamedTuple):
    """What the NumPy kernels need to know about one dtype, found on its first call."""

    native: np.dtype  # the dtype in native byte order, which results have
    zero: np.ndarray  # _constant(dtype, 0)
    one: np.ndarray  # _constant(dtype, 1)
    zero_first: bool | str  # _zero_first_order(dtype)


_FACTS: dict[np.dtype, _Facts] = {}  # dtype -> _numpy_facts(dtype); only ever grows


def _numpy_facts(dtype: np.dtype) -> _Facts:
    order = _zero_first_order(dtype)
    facts = _FACTS[dtype] = _Facts(dtype.newbyteorder("="), _constant(dtype, 0), _constant(dtype, 1), order)
    return facts


def _zero_first_order(dtype: np.dtype) -> bool | str:
    """Which argument order of np.maximum gives +0.0 at x = -0.0 for this dtype on this CPU:
    False for maximum(x, 0), True for maximum(0, x), _NO_ORDER if neither does in every loop."""
    if dtype.kind != "f":
        return False
    base = np.full(96, -0.0, dtype=dtype)
    # contiguous (SIMD body, scalar head and tail at every alignment), strided and reversed;
    # against the two zeros the kernels pass: a 0-d zero, and zeros (a row, or rows of one block)
    probes = [base[start:stop] for start in range(16) for stop in range(start + 1, start + 40)]
    probes += [base[::2], base[::3], base[::-1], base, base.reshape(4, 24)]
    for order in (False, True):
        if not any(
            np.signbit(np.maximum(zero, p) if order else np.maximum(p, zero)).any()
            for p in probes
            for zero in (_constant(dtype, 0), np.zeros(p.shape[-1], dtype))
        ):
            return order
    return _NO_ORDER


# ---------------------------------------------------------------- torch


def _torch_relu_kernel() -> Kernel:
    """torch's own kernels, where they give the reference's bits (float32/float64, a number leak):
    ``threshold`` (x <= 0 -> +0.0, NaN kept; ``relu`` would give -0.0) and ``leaky_relu``.
    Under autograd, a Function pairs them with torch's fused backward kernels."""
    import torch

    from ._torch_autograd import NativeRelu

    def kernel(x: Array, leak: Any, max_value: Any, xp: ModuleType) -> Array:
        if (
            type(leak) not in _NUMBERS
            or x.dtype not in (torch.float32, torch.float64)  # half types compute in float32
            or (max_value is not None and leak != 0)  # leak*x may pass the cap on the leak side
        ):
            return _reference.relu(x, leak, max_value, xp)
        if x.requires_grad and torch.is_grad_enabled():
            return NativeRelu.apply(x, float(leak), max_value)
        return NativeRelu.forward(x, float(leak), max_value)

    return kernel


# ---------------------------------------------------------------- JAX


def _jax_kernel(body: Kernel) -> Kernel:
    def kernel(x: Array, leak: Any, max_value: Any, xp: ModuleType) -> Array:
        if type(leak) in _NUMBERS:
            return _jitted(body, leak, max_value)(x)
        return _jitted(body, None, max_value)(x, leak)

    return kernel


@functools.lru_cache(maxsize=512)
def _jitted(body: Kernel, leak: float | int | None, max_value: float | int | None) -> Callable[..., Array]:
    import jax
    import jax.numpy as jnp

    if leak is None:
        return jax.jit(lambda x, leak: body(x, leak, max_value, jnp))
    return jax.jit(lambda x: body(x, leak, max_value, jnp))


# ---------------------------------------------------------------- Dask


def _dask_kernel(name: str) -> Kernel:
    def kernel(x: Array, leak: Any, max_value: Any, xp: ModuleType) -> Array:
        import dask.array as da

        if type(leak) in _NUMBERS:
            return x.map_blocks(_dask_block, name, leak, max_value, dtype=x.dtype, meta=x._meta)
        # The leak's chunks must line up with x's before it can be broadcast blockwise.
        offset = x.ndim - leak.ndim
        aligned = tuple((1,) if n == 1 else x.chunks[offset + i] for i, n in enumerate(leak.shape))
        leak = da.broadcast_to(leak.rechunk(aligned), x.shape, chunks=x.chunks)
        return da.map_blocks(_dask_block, x, name, leak, max_value, dtype=x.dtype, meta=x._meta)

    return kernel


def _dask_block(block: Array, name: str, leak: Any, max_value: Any) -> Array:
    """One chunk, by its own backend (a chunk of an array leak arrives as ``leak``)."""
    found = backend(name, block)
    return getattr(found, name)(block, leak, max_value, found.xp)


# ---------------------------------------------------------------- CuPy


def _cupy_relu(x: Array, leak: Any, max_value: Any, xp: ModuleType) -> Array:
    if type(leak) not in _NUMBERS:
        return _reference.relu(x, leak, max_value, xp)
    return _cupy_kernels()[0](x, leak, _cupy_cap(max_value), leak == 0, max_value is not None)


def _cupy_relu_dash(x: Array, leak: Any, max_value: Any, xp: ModuleType) -> Array:
    if type(leak) not in _NUMBERS:
        return _reference.relu_dash(x, leak, max_value, xp)
    return _cupy_kernels()[1](x, leak, _cupy_cap(max_value), max_value is not None)


def _cupy_cap(max_value: Any) -> Any:
    return 0 if max_value is None else max_value


@functools.cache
def _cupy_kernels() -> tuple[Any, Any]:
    """One pass each; constants go through float ((T)0.0f), which CuPy's float16 accepts.
    Compiled without fast-math, so NaN, -0.0 and subnormals follow IEEE."""
    import cupy

    relu = cupy.ElementwiseKernel(
        "T x, T leak, T cap, bool zero_slope, bool capped",
        "T y",
        """
        if (capped && x >= cap) { y = cap; }
        else if (x <= (T)0.0f) { y = zero_slope ? (T)0.0f : (T)(leak * x); }
        else { y = x; }
        """,
        "anyrelu_relu",
    )
    relu_dash = cupy.ElementwiseKernel(
        "T x, T leak, T cap, bool capped",
        "T y",
        "y = (capped && x >= cap) ? (T)0.0f : ((x <= (T)0.0f) ? leak : (T)1.0f);",
        "anyrelu_relu_dash",
    )
    return relu, relu_dash

"""Special functions that the array API standard lacks, or that a library gets wrong.

``expm1(x, xp)`` is the library's own, except on JAX, whose expm1 is 4.5 ulp off in float64
(measured against long double; ELU's bound is 4 with two more roundings), and in a torch.compile or
torch.export graph of a CPU tensor, where inductor's loops make it exp(x) - 1: there, for |x| < 1,
Taylor's series to x^20 (1.1-1.4 ulp).
``exp(x, xp)`` corrects JAX's float64 exp near 0 by one Newton step on its log.

``erfc(x, xp)`` takes torch's own (``torch.special.erfc``, within 1 ulp in float64) and otherwise
``agnostic_erfc``, written here in array-API code, so that the runtime dependencies stay NumPy and
array-api-compat (on NumPy, ``numpy_erfc``: the same operations in NumPy's terms, the same
bits). The other libraries' own erfc were measured against mpmath and are not accurate enough
for GELU's bound in float64: ``scipy.special.erfc`` and ``jax.scipy.special.erfc`` put gelu 5.7
ulp off near x = -1.35, where the bound is 4; JAX's float32 erfc is off by 10^5 ulp in its tail.

``agnostic_erfc`` computes in float64: a Taylor polynomial of degree 16 around the nearest of the
points 0, 1/32, 2/32, ..., 27.25 (|h| <= 1/64), whose coefficients come from the differential
equation y'' = -2x y' (a_0 = erfc(x0), a_1 = -2/sqrt(pi) exp(-x0^2)); erfc(-x) = 2 - erfc(x);
0 beyond 27.25, where erfc underflows. The series has positive and negative terms only where
erfc itself is ill-conditioned (large x), so it stays within a few ulps of the correctly rounded
value times erfc's condition number.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from types import ModuleType
from typing import Any

import array_api_compat

from .._checks import Array

SPACING = 1 / 32
DEGREE = 16
LARGEST = 27.25  # erfc(27.25) is below half the smallest float64 subnormal


def expm1(x: Array, xp: ModuleType) -> Array:
    """exp(x) - 1 without cancellation near 0."""
    if not (array_api_compat.is_jax_namespace(xp) or _torch_cpu_graph(x, xp)):
        return xp.expm1(x)
    small = xp.abs(x) < 1  # NaN is not: it takes the library's own
    u = xp.where(small, x, xp.zeros_like(x))
    near_0 = xp.where(xp.abs(u) < 2.0**-54, u, _expm1_series(u))  # ±0, subnormals: u (below)
    return xp.where(small, near_0, xp.expm1(x))


# 1/k! for k = 3 ... 20: Taylor's remainder beyond x^20 is below 2^-60 of expm1(x) for |x| < 1.
_EXPM1_TAYLOR = tuple(1 / math.factorial(k) for k in range(3, 21))


def _expm1_series(u: Array) -> Array:
    """expm1(u) for |u| < 1: u + u (u (1/2 + u q(u))), Taylor's series in Horner's form. The rest
    after u is positive and at most 0.58 of |expm1(u)| (at u = -1), so its roundings weigh less
    than the sum's own, and the sum cancels less than one bit (-1 + 0.37 at u = -1): measured
    within 1.1 ulp (XLA's FMA path) and 1.4 (its AVX path) against long double, where Kahan's
    (exp(u) - 1) u / log(exp(u)) gave 2.6 and XLA's float64 expm1 4.5.
    Below 2^-54 expm1(u) rounds to u, which the caller takes as it is: the sum would make -0.0
    +0.0 (u (u c) is +0.0), and XLA's CPU code flushes a subnormal u to 0."""
    q = _EXPM1_TAYLOR[-1]
    for c in reversed(_EXPM1_TAYLOR[:-1]):
        q = q * u + c
    return u + u * (u * (0.5 + u * q))


def exp(x: Array, xp: ModuleType) -> Array:
    """e^x: the library's own, except on JAX, whose float64 exp is 1.66 ulp off (on both XLA code
    paths, against long double): there, for |x| < 4, one Newton step on XLA's log (0.52 ulp),
    e (1 + (x - log(e))), whose error is log's, 0.52 ulp of x, below exp's own there (beyond, it
    grows with |x|, and XLA's exp is kept). softplus(beta=1e-30) with XLA's exp was 4.2 ulps off
    at x = -1.0138271857782378e30 (bound 4)."""
    e = xp.exp(x)
    if not array_api_compat.is_jax_namespace(xp):
        return e
    near = xp.abs(x) < 4  # NaN is not
    inside = xp.where(near, e, xp.ones_like(e))
    return xp.where(near, inside * (1 + (x - xp.log(inside))), e)


def _torch_cpu_graph(x: Array, xp: ModuleType) -> bool:
    """Whether torch.compile or torch.export traces this call on a CPU tensor: inductor's
    vectorized CPU loops compute expm1 as exp(x) - 1 (0 for |x| < 2^-53 in float64, 2^-53/|x| off
    elsewhere); its GPU code calls libdevice's expm1."""
    if not array_api_compat.is_torch_namespace(xp):
        return False
    import torch

    return bool(torch.compiler.is_compiling()) and x.device.type == "cpu"


def erfc(x: Array, xp: ModuleType) -> Array:
    """erfc of a real floating array, in x's dtype."""
    return _erfc_of(xp)(x, xp)


@functools.cache
def _erfc_of(xp: ModuleType) -> Callable[[Array, ModuleType], Array]:
    if array_api_compat.is_torch_namespace(xp):
        import torch

        return lambda x, xp: torch.special.erfc(x)
    if array_api_compat.is_numpy_namespace(xp):
        return numpy_erfc
    return agnostic_erfc


def agnostic_erfc(x: Array, xp: ModuleType) -> Array:
    """erfc in array-API code (computed in float64, returned in x's dtype)."""
    wide = xp.reshape(xp.astype(x, xp.float64), (-1,))  # take wants 1-d indices
    size = xp.abs(wide)
    inside = xp.where(size < LARGEST, size, xp.zeros_like(size))  # a harmless point beyond the table
    index = xp.astype(xp.round(inside / SPACING), xp.int64)
    h = inside - xp.astype(index, xp.float64) * SPACING
    device = array_api_compat.device(x)
    columns = [xp.asarray(column, dtype=xp.float64, device=device) for column in _taylor_table()]
    y = xp.take(columns[DEGREE], index)
    for column in reversed(columns[:DEGREE]):
        y = y * h + xp.take(column, index)
    y = xp.where(size < LARGEST, y, xp.zeros_like(y))
    y = xp.where(wide < 0, 2 - y, y)
    y = xp.where(xp.isnan(wide), wide, y)
    return xp.astype(xp.reshape(y, x.shape), x.dtype)


def numpy_erfc(x: Array, xp: ModuleType, degree: int = DEGREE) -> Array:
    """agnostic_erfc in NumPy's own terms, bit for bit at the full degree: the same Horner steps,
    each column gathered with ``take`` into one buffer, the pieces chosen without a where (each
    costs about 10 ns an element on random signs, a Horner step 0.5 ns): the table's edge by a
    factor of 0 or 1, erfc(-x) = 2 - erfc(x) as (1 - sign) + sign erfc(|x|) (sign 0 at ±0, where
    erfc is 1; NaN at NaN). 3x agnostic_erfc's speed. A lower ``degree`` cuts the polynomial
    there (NumPy's float32 GELU: 9)."""
    import numpy as np

    wide = np.asarray(x, dtype=np.float64).reshape(-1)
    out = np.empty(wide.shape, np.float64)
    columns = _column_array()
    for start in range(0, wide.size, _NUMPY_BLOCK):  # a block's temporaries stay in cache
        w = wide[start : start + _NUMPY_BLOCK]
        size = np.fmin(np.abs(w), 2 * LARGEST)  # NaN and inf: beyond the table
        keep = size < LARGEST
        size *= keep  # 0 beyond the table, as agnostic_erfc's where
        index = np.rint(size / SPACING)  # half to even, as round()
        h = np.subtract(size, index * SPACING, out=size)
        rows = index.astype(np.intp)  # 0 to LARGEST / SPACING: every row is in the table
        # mode="clip": with out=, take's default mode ("raise") gathers through a temporary
        # buffer, and a block's Horner loop at degree 9 took 1.37 ms that way against 0.44 on an
        # AVX2 machine; the rows are in range, so clipping changes no index.
        y = np.take(columns[degree], rows, mode="clip")
        term = np.empty_like(y)
        for n in range(degree - 1, -1, -1):
            y *= h
            y += np.take(columns[n], rows, out=term, mode="clip")
        y *= keep
        sign = np.sign(w)
        y *= sign
        np.add(1.0 - sign, y, out=out[start : start + _NUMPY_BLOCK])
    return out.reshape(np.shape(x)).astype(x.dtype, copy=False)


_NUMPY_BLOCK = 1 << 15  # elements: each float64 temporary takes 256 kB


@functools.cache
def _column_array() -> Any:
    import numpy as np

    return np.array(_taylor_table(), dtype=np.float64)


@functools.cache
def _taylor_table() -> tuple[tuple[float, ...], ...]:
    """Column n holds the n-th Taylor coefficient of erfc at each point k * SPACING."""
    rows = []
    for k in range(round(LARGEST / SPACING) + 1):
        x0 = k * SPACING
        a = [math.erfc(x0), -2 / math.sqrt(math.pi) * math.exp(-x0 * x0)]
        for n in range(DEGREE - 1):  # y'' = -2x y' at x0 + h, coefficient of h**n
            a.append(-2 * (x0 * (n + 1) * a[n + 1] + n * a[n]) / ((n + 2) * (n + 1)))
        rows.append(a)
    return tuple(zip(*rows, strict=True))

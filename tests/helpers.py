"""The test oracle and the bit-for-bit assertion.

The oracle is the contract table evaluated element by element in plain Python floats, an
independent source from the library's array code: a product of two floats of x's dtype is exact
in float64, so rounding it once to x's dtype gives the dtype's own product.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from array_api_extra.testing import assert_equal

FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")


def numpy_dtype(name: str) -> np.dtype:
    """NumPy's dtype of that name; bfloat16 is ml_dtypes' (it comes with JAX)."""
    if name == "bfloat16":
        ml_dtypes = pytest.importorskip("ml_dtypes", reason="bfloat16 oracle needs ml_dtypes")
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def finfo(dtype: np.dtype) -> Any:
    if dtype.name == "bfloat16":
        import ml_dtypes

        return ml_dtypes.finfo(dtype)
    return np.finfo(dtype)


def special_values(dtype: str) -> np.ndarray:
    """±0, ±inf, NaN, ±subnormals, ±tiny normals, ±1, the cap 6 and its neighbours, extremes."""
    np_dtype = numpy_dtype(dtype)
    info = finfo(np_dtype)
    cap = np_dtype.type(6)
    positives = [
        info.smallest_subnormal, info.smallest_normal / 2, info.smallest_normal, 0.5, 1.0,
        np.nextafter(cap, np_dtype.type(0)), cap, np.nextafter(cap, np_dtype.type(np.inf)),
        100.0, info.max, np.inf,
    ]  # fmt: skip
    values = [0.0, -0.0, np.nan] + positives + [-v for v in positives]
    return np.array(values, dtype=np_dtype)


def _in_dtype(max_value: Any, dtype: np.dtype) -> Any:
    """leak and max_value take part rounded to x's dtype, as the contract says."""
    return None if max_value is None else float(np.asarray(max_value, dtype=dtype))


def _by_side(x: np.ndarray, leak: Any, max_value: Any, value: Any) -> np.ndarray:
    """value(side, x_i, slope_i, cap) for each element, the side decided by the contract's rule."""
    cap = _in_dtype(max_value, x.dtype)
    leaks = np.broadcast_to(np.asarray(leak, dtype=np.float64), x.shape)
    out = np.empty(x.shape, dtype=x.dtype)
    for i in np.ndindex(x.shape):
        v = float(x[i])
        slope = float(np.asarray(leaks[i], dtype=x.dtype))
        side = "flat" if cap is not None and v >= cap else "leak" if v <= 0 else "identity"
        out[i] = value(side, x[i], slope, cap)
    return out


def expected_relu(x: np.ndarray, leak: Any = 0.0, max_value: Any = None) -> np.ndarray:
    """The contract's relu, element by element, in x's (NumPy) dtype."""

    def value(side: str, xi: Any, slope: float, cap: Any) -> Any:
        if side == "flat":
            return cap
        if side == "leak":
            return 0.0 if slope == 0 else _product(slope, float(xi), x.dtype)
        return xi

    return _by_side(x, leak, max_value, value)


def expected_relu_dash(x: np.ndarray, leak: Any = 0.0, max_value: Any = None) -> np.ndarray:
    """The contract's derivative, element by element, in x's (NumPy) dtype."""

    def value(side: str, xi: Any, slope: float, cap: Any) -> Any:
        if side == "leak":
            return 0.0 if slope == 0 else slope  # the zero slope is +0.0, also for leak=-0.0
        return 0 if side == "flat" else 1

    return _by_side(x, leak, max_value, value)


def _product(slope: float, v: float, dtype: np.dtype) -> Any:
    if np.dtype(dtype).kind in "iu":
        return np.asarray(int(slope) * int(v)).astype(dtype)  # wraps like the dtype does
    with np.errstate(over="ignore"):
        return np.asarray(slope * v).astype(dtype) if math.isfinite(v) else np.asarray(slope * v)


def is_subnormal(values: np.ndarray) -> np.ndarray:
    wide = np.abs(values.astype(np.float64))
    return (wide > 0) & (wide < float(finfo(values.dtype).smallest_normal))


def flush_subnormals(values: np.ndarray) -> np.ndarray:
    """values with subnormals replaced by zeros of their sign (what DAZ/FTZ hardware sees)."""
    if values.dtype.kind not in "fV":  # V: ml_dtypes' bfloat16
        return values
    wide = values.astype(np.float64)
    return np.where(is_subnormal(values), np.copysign(0.0, wide), wide).astype(values.dtype)


def assert_same_bits(actual: Any, desired: Any, xp: Any) -> None:
    """Same namespace, dtype, shape, device and values, with NaN == NaN and -0.0 != +0.0."""
    __tracebackhide__ = True
    if "bfloat16" in str(actual.dtype):  # NumPy cannot hold it; float32 holds it exactly
        assert actual.dtype == desired.dtype, f"dtypes differ: {actual.dtype} != {desired.dtype}"
        actual, desired = xp.astype(actual, xp.float32), xp.astype(desired, xp.float32)
    assert_equal(actual, desired, xp=xp)
    if xp.isdtype(actual.dtype, "real floating"):
        assert_equal(xp.signbit(actual), xp.signbit(desired), xp=xp, err_msg="sign bits differ")

"""The test oracle and the bit-for-bit assertion.

The oracle is the contract table evaluated element by element in plain Python floats, an
independent source from the library's array code: a product of two floats of x's dtype is exact
in float64, so rounding it once to x's dtype gives the dtype's own product.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from array_api_extra.testing import assert_equal

FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")

# torch's own deprecation of torch.jit.script, which torch raises as it loads its forward-mode AD
# decompositions and inductor: a DeprecationWarning in torch 2.13, a FutureWarning in 2.15. Ignored
# only where a module of torch's raises it; any other warning is still an error (-W error).
TORCH_JIT_DEPRECATED = pytest.mark.filterwarnings("ignore:`torch.jit.script:Warning:torch")

# torch's warning that its guards on an nn.Module run slower on Python 3.13.0 (a CPython bug fixed
# in 3.13.1), raised where torch.compile guards a module's attributes: about the interpreter, not
# about anyrelu.
TORCH_GUARDS_ON_PYTHON_3_13_0 = pytest.mark.filterwarnings(
    "ignore:Guards may run slower on Python 3.13.0:RuntimeWarning:torch"
)


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


def round_once(value: Any, dtype: np.dtype) -> float:
    """value (a float or a Fraction) rounded once, to nearest even, to dtype: exact rational
    arithmetic, independent of NumPy's and ml_dtypes' casts (ml_dtypes rounds a float64 to
    bfloat16 through float32, twice)."""
    info = finfo(np.dtype(dtype))
    if isinstance(value, float) and (value == 0 or not math.isfinite(value)):
        return value
    exact = Fraction(value)
    if exact == 0:
        return 0.0
    numerator, denominator = abs(exact.numerator), exact.denominator
    exponent = numerator.bit_length() - denominator.bit_length()  # 2**exponent <= |exact| < 2**(exponent+1)
    if numerator << max(-exponent, 0) < denominator << max(exponent, 0):
        exponent -= 1
    quantum = Fraction(2) ** (max(exponent, int(info.minexp)) - int(info.nmant))
    rounded = round(exact / quantum) * quantum  # Fraction.__round__ rounds half to even
    if rounded == 0:  # underflow keeps the sign
        return 0.0 if exact > 0 else -0.0
    if abs(rounded) > Fraction(float(info.max)):
        return math.inf if rounded > 0 else -math.inf
    return float(rounded)


def _in_dtype(value: Any, dtype: np.dtype) -> Any:
    """A number as x's dtype holds it: leak, max_value and threshold are rounded once to it."""
    if value is None or np.dtype(dtype).kind in "iu":
        return value
    return round_once(float(value), dtype)


def _by_side(x: np.ndarray, leak: Any, max_value: Any, threshold: Any, value: Any) -> np.ndarray:
    """value(side, x_i, slope_i, cap, kink) for each element, the side decided by the contract's rule."""
    cap, kink = _in_dtype(max_value, x.dtype), _in_dtype(threshold, x.dtype)
    leaks = np.broadcast_to(np.asarray(leak, dtype=np.float64), x.shape)
    out = np.empty(x.shape, dtype=x.dtype)
    for i in np.ndindex(x.shape):
        v = float(x[i])
        slope = _in_dtype(float(leaks[i]), x.dtype)
        side = "flat" if cap is not None and v >= cap else "leak" if v <= kink else "identity"
        out[i] = value(side, x[i], slope, cap, kink)
    return out


def expected_relu(x: np.ndarray, leak: Any = 0.0, max_value: Any = None, threshold: Any = 0.0) -> np.ndarray:
    """The contract's relu, element by element, in x's (NumPy) dtype."""

    def value(side: str, xi: Any, slope: float, cap: Any, kink: Any) -> Any:
        if side == "flat":
            return cap
        if side == "leak":
            return 0.0 if slope == 0 else _leak_product(slope, xi, kink, x.dtype)
        return xi

    return _by_side(x, leak, max_value, threshold, value)


def expected_relu_dash(x: np.ndarray, leak: Any = 0.0, max_value: Any = None, threshold: Any = 0.0) -> np.ndarray:
    """The contract's derivative, element by element, in x's (NumPy) dtype."""

    def value(side: str, xi: Any, slope: float, cap: Any, kink: Any) -> Any:
        if side == "leak":
            return 0.0 if slope == 0 else slope  # the zero slope is +0.0, also for leak=-0.0
        return 0 if side == "flat" else 1

    return _by_side(x, leak, max_value, threshold, value)


def _leak_product(slope: Any, xi: Any, kink: Any, dtype: np.dtype) -> Any:
    """slope * (x - kink), each operation rounded once to dtype (integers wrap like the dtype)."""
    if np.dtype(dtype).kind in "iu":
        shifted = np.asarray(int(xi) - int(kink)).astype(dtype)
        return np.asarray(int(slope) * int(shifted)).astype(dtype)
    v = float(xi)
    if not math.isfinite(v):  # -inf (NaN is never on the leak side)
        return slope * v
    shifted = v if kink == 0 else round_once(Fraction(v) - Fraction(kink), dtype)
    if math.isinf(shifted) or shifted == 0:  # IEEE: signed zeros and infinities
        return slope * shifted
    return round_once(Fraction(slope) * Fraction(shifted), dtype)


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
    """Same namespace, dtype, shape, device and values, with NaN == NaN and -0.0 != +0.0 (the sign
    of a NaN is not compared: IEEE leaves it to the hardware)."""
    __tracebackhide__ = True
    if "bfloat16" in str(actual.dtype):  # NumPy cannot hold it; float32 holds it exactly
        assert actual.dtype == desired.dtype, f"dtypes differ: {actual.dtype} != {desired.dtype}"
        actual, desired = xp.astype(actual, xp.float32), xp.astype(desired, xp.float32)
    assert_equal(actual, desired, xp=xp)
    if xp.isdtype(actual.dtype, "real floating"):
        signs = [xp.where(xp.isnan(a), False, xp.signbit(a)) for a in (actual, desired)]
        assert_equal(*signs, xp=xp, err_msg="sign bits differ")

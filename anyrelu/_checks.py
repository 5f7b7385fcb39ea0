"""Namespace lookup and argument validation, shared by every public function.

Everything here runs on every call, so it works on Python objects only (types, dtypes, shapes):
it never looks at array data, which keeps the functions jit-, lazy- and sync-free.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np

Array = Any
"""Any array the array API standard describes (NumPy, CuPy, JAX, torch, Dask, array-api-strict)."""


@dataclass(frozen=True)
class DtypeInfo:
    """What validation needs to know about one dtype."""

    is_float: bool
    lowest: float  # the smallest finite value
    highest: float  # the largest finite value
    rounds_to_zero: float  # a float magnitude at or below this rounds to 0 in the dtype


_REJECTED_NUMPY_TYPES = (np.ma.MaskedArray, np.matrix)


def namespace(func: str, x: Array) -> ModuleType:
    """The array namespace of x, or a TypeError that says what to pass.
    (Not cached here: _fast.backend() caches it with the kernels, by array type.)"""
    if isinstance(x, _REJECTED_NUMPY_TYPES):
        raise TypeError(
            f"{func}() does not accept {type(x).__module__}.{type(x).__name__}: its "
            f"{'mask' if isinstance(x, np.ma.MaskedArray) else 'matrix semantics'} would be "
            f"silently dropped. Pass a plain array, e.g. np.asarray(x)"
            f"{' and handle the mask yourself' if isinstance(x, np.ma.MaskedArray) else ''}."
        )
    if not array_api_compat.is_array_api_obj(x):
        raise TypeError(
            f"{func}() expects x to be an array (NumPy, CuPy, JAX, PyTorch, Dask, "
            f"array-api-strict), got {type(x).__name__} {_short_repr(x)}. "
            f"Convert it first, e.g. np.asarray(x, dtype=np.float64)."
        )
    return array_api_compat.array_namespace(x)


def dtype_info(func: str, dtype: Any, xp: ModuleType, name: str = "x") -> DtypeInfo:
    """Facts about a real floating or integer dtype, or a TypeError for any other dtype.
    (Not cached here: _fast.Backend caches it per library, so that dtypes of different libraries,
    such as array-api-strict's float32 and NumPy's, are never compared.)"""
    try:
        is_float = xp.isdtype(dtype, "real floating")
        is_int = xp.isdtype(dtype, "integral")
    except TypeError:  # a dtype the namespace does not know, e.g. ml_dtypes' bfloat16 in NumPy
        is_float = is_int = False
    if is_float:
        finfo = xp.finfo(dtype)
        # Half the smallest subnormal (smallest_normal * eps) rounds to zero.
        info = DtypeInfo(True, -float(finfo.max), float(finfo.max), float(finfo.smallest_normal * finfo.eps) / 2)
    elif is_int:
        iinfo = xp.iinfo(dtype)
        info = DtypeInfo(False, iinfo.min, iinfo.max, 0.0)
    else:
        raise TypeError(
            f"{func}() needs {name} of a real floating or integer dtype, got dtype {dtype}. "
            f"Convert {name} first, e.g. {name}.astype(float32); bool, complex, object and "
            f"string arrays have no ReLU."
        )
    return info


def leak(func: str, leak: Any, x: Array, xp: ModuleType, info: DtypeInfo) -> float | int | Array:
    """A validated leak: a Python number (see scalar_leak) or an array (see array_leak)."""
    if type(leak) is float and info.is_float and info.lowest <= leak <= info.highest:
        return leak if abs(leak) > info.rounds_to_zero else 0  # the common cases, kept short
    if type(leak) is int and info.lowest <= leak <= info.highest:
        return leak  # what scalar_leak returns for an int that x's dtype holds
    if type(leak) is float or type(leak) is int or _is_real_number(leak):
        return scalar_leak(func, leak, info, x.dtype)
    if array_api_compat.is_array_api_obj(leak) and not isinstance(leak, np.bool_):
        return array_leak(func, leak, x, xp, info)
    raise TypeError(
        f"{func}() needs leak to be a real number or an array from x's library, got "
        f"{type(leak).__name__} {_short_repr(leak)}."
    )


def scalar_leak(func: str, leak: Any, info: DtypeInfo, dtype: Any) -> float | int:
    """A validated number leak, as it is used in x's dtype.

    A leak that rounds to zero in x's dtype is the zero slope, returned as 0 (never -0.0),
    so that relu keeps its +0.0 for x <= 0. On integer x the leak is returned as an int.
    """
    number = _number_for_dtype(func, "leak", leak, info, dtype)
    return 0 if abs(number) <= info.rounds_to_zero else number


def array_leak(func: str, leak: Array, x: Array, xp: ModuleType, info: DtypeInfo) -> Array:
    """A validated array leak (PReLU) from x's library, cast to x's dtype."""
    if isinstance(leak, _REJECTED_NUMPY_TYPES) or namespace(func, leak) is not xp:
        raise TypeError(
            f"{func}() needs an array leak from x's library ({xp.__name__}), got "
            f"{type(leak).__module__}.{type(leak).__name__}. Convert it with {xp.__name__}.asarray()."
        )
    leak_info = info if leak.dtype == x.dtype else dtype_info(func, leak.dtype, xp, name="leak")
    if leak_info.is_float and not info.is_float:
        raise TypeError(
            f"{func}() got integer x (dtype {x.dtype}) with a floating leak array (dtype "
            f"{leak.dtype}). Convert x to a floating dtype first, e.g. x.astype(float32)."
        )
    if not _broadcasts_to(leak.shape, x.shape):
        raise ValueError(
            f"{func}() needs a leak that broadcasts to x's shape {tuple(x.shape)} without "
            f"widening it, got leak of shape {tuple(leak.shape)}."
        )
    return leak if leak.dtype == x.dtype else xp.astype(leak, x.dtype)


def max_value(func: str, value: Any, info: DtypeInfo, dtype: Any) -> float | int:
    """A validated cap: a finite number > 0 that x's dtype holds (an int on integer x)."""
    if not _is_real_number(value):
        raise TypeError(
            f"{func}() needs max_value to be a real number or None, got {type(value).__name__} {_short_repr(value)}."
        )
    if not value > info.rounds_to_zero:  # NaN included; a cap that x's dtype rounds to 0 too
        raise ValueError(f"{func}() needs max_value to be a finite number > 0 in x's dtype {dtype}, got {value!r}.")
    return _number_for_dtype(func, "max_value", value, info, dtype)


def _number_for_dtype(func: str, name: str, value: Any, info: DtypeInfo, dtype: Any) -> float | int:
    """value as a Python float (an int on integer x) that x's dtype holds."""
    number: float | int = int(value) if isinstance(value, numbers.Integral) else float(value)
    if isinstance(number, float) and not math.isfinite(number):  # ints are finite (and may not fit a float)
        raise ValueError(f"{func}() needs a finite {name}, got {name}={number!r}.")
    if not info.is_float:
        if number != int(number):
            raise TypeError(
                f"{func}() got integer x (dtype {dtype}) with a non-integer {name}={number!r}. "
                f"Convert x to a floating dtype first, e.g. x.astype(float32)."
            )
        number = int(number)
    if not info.lowest <= number <= info.highest:
        raise ValueError(f"{func}() got {name}={number!r}, which does not fit x's dtype {dtype}.")
    return number


def _is_real_number(value: Any) -> bool:
    """Python and NumPy real scalars; bools are not numbers here."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _broadcasts_to(small: tuple[int | None, ...], big: tuple[int | None, ...]) -> bool:
    if len(small) > len(big):
        return False
    return all(s == 1 or s == b for s, b in zip(reversed(small), reversed(big), strict=False))


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."

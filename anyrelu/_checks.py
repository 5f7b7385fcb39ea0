"""Argument validation shared by every public function, and the error messages' advice.

Everything here runs on Python objects only (types, dtypes, shapes, numbers): it never looks at
array data, which keeps every function jit-, lazy- and sync-free. Numbers (leak, max_value,
threshold, alpha, ...) come out rounded once to the dtype they are used in, so that no backend
rounds them twice (torch casts a Python float to float16 through float32).
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np

Array = Any
"""Any array the array API standard describes (NumPy, CuPy, JAX, torch, Dask, array-api-strict)."""

# How each library says "convert the dtype", "make an array of it" and "move it to x's device",
# so that an error message tells the user what to type in their own framework.
_ADVICE = {
    "numpy": ("{name}.astype(np.{dtype})", "np.asarray({name})", "np.asarray({name})"),
    "torch": ("{name}.to(torch.{dtype})", "torch.as_tensor({name})", "{name}.to(x.device)"),
    "jax": ("{name}.astype(jnp.{dtype})", "jnp.asarray({name})", "jax.device_put({name}, x.device)"),
    "cupy": ("{name}.astype(cupy.{dtype})", "cupy.asarray({name})", "cupy.asarray({name}) inside `with x.device:`"),
    "dask": ("{name}.astype(np.{dtype})", "da.asarray({name})", "da.asarray({name})"),
    "array_api_strict": ("xp.astype({name}, xp.{dtype})", "xp.asarray({name})", "xp.asarray({name}, device=x.device)"),
}
_GENERIC_ADVICE = ("xp.astype({name}, xp.{dtype})", "xp.asarray({name})", "xp.asarray({name}, device=x.device)")


def convert_advice(library: str, dtype: str = "float32", name: str = "x") -> str:
    return _ADVICE.get(library, _GENERIC_ADVICE)[0].format(dtype=dtype, name=name)


def asarray_advice(library: str, name: str) -> str:
    return _ADVICE.get(library, _GENERIC_ADVICE)[1].format(name=name)


def device_advice(library: str, name: str) -> str:
    return _ADVICE.get(library, _GENERIC_ADVICE)[2].format(name=name)


def library_name(xp: Any) -> str | None:
    """'numpy', 'torch', 'jax', 'cupy', 'dask', 'array_api_strict' for a namespace of that library
    (the plain module or array-api-compat's wrapper alike), its module name for another array
    namespace, None for anything that is not a module."""
    if not isinstance(xp, ModuleType):
        return None
    for name in ("numpy", "cupy", "torch", "dask", "jax", "array_api_strict"):
        if getattr(array_api_compat, f"is_{name}_namespace")(xp):
            return name
    return xp.__name__


@dataclass(frozen=True, eq=False)  # one per dtype and library (kept by _dispatch): identity is equality
class DtypeInfo:
    """What validation needs to know about one dtype of one library."""

    library: str
    name: str  # the dtype's name, for messages
    is_float: bool
    lowest: float  # the smallest finite value
    highest: float  # the largest finite value
    mantissa_bits: int  # stored fraction bits (52 for float64); 0 for integers
    min_exponent: int  # the smallest normal number is 2**min_exponent
    flushes: bool  # the backend treats this dtype's subnormals as zero (XLA on the CPU)
    smallest_normal: float = 0.0
    # float16 and bfloat16: some backends round a Python float to them through float32, so
    # validation rounds numbers for them itself; float32 and float64 take a Python float as is.
    narrow: bool = False

    def round(self, value: float) -> float:
        """value rounded once, to nearest even, to this dtype (±inf beyond its range)."""
        if value == 0 or not math.isfinite(value):
            return value
        exponent = math.frexp(value)[1] - 1  # value = 1.f * 2**exponent
        quantum = max(exponent, self.min_exponent) - self.mantissa_bits  # the dtype's ulp there
        rounded = math.ldexp(round(math.ldexp(value, -quantum)), quantum)
        return rounded if abs(rounded) <= self.highest else math.copysign(math.inf, value)


def dtype_info(func: str, dtype: Any, xp: ModuleType, library: str, flushes: bool, name: str = "x") -> DtypeInfo:
    """Facts about a real floating or integer dtype that the library computes with, or a TypeError."""
    info = _finfo_or_iinfo(dtype, xp, library)
    if info is None:
        note = _STORAGE_ONLY_NOTE if _storage_only(dtype, library) else ""
        if func.startswith(_RELU_FAMILY):
            advice = convert_advice(library, "int64" if "uint" in str(dtype) else "float32", name)
            raise TypeError(
                f"{func}() needs {name} of a real floating or integer dtype, got dtype {dtype}{note}. "
                f"Convert {name} first, e.g. {advice}; bool, complex, object and string arrays have no ReLU."
            )
        raise TypeError(  # the rest of the family takes floating x only
            f"{func}() needs {name} of a real floating dtype, got dtype {dtype}{note}. "
            f"Convert {name} first, e.g. {convert_advice(library, 'float32', name)}."
        )
    is_float, finfo = info
    if is_float:
        # np.log2, not math.log2: long double's smallest normal is 0 as a Python float
        bits, exponent = (int(np.round(np.log2(v))) for v in (1 / finfo.eps, finfo.smallest_normal))
        highest = float(finfo.max)
        return DtypeInfo(
            library, str(dtype), True, -highest, highest, bits, exponent, flushes, 2.0**exponent, bits < 23
        )
    return DtypeInfo(library, str(dtype), False, finfo.min, finfo.max, 0, 0, False)


_STORAGE_ONLY_NOTE = ", which torch stores but has no comparison kernels for"
_RELU_FAMILY = ("relu", "leaky_relu")  # integer x works for these (and relu6, relu_dash, ...)


def _storage_only(dtype: Any, library: str) -> bool:
    """torch's uint16/32/64 and float8 dtypes: no `<=` on the CPU."""
    return library == "torch" and any(kind in str(dtype) for kind in ("uint16", "uint32", "uint64", "float8"))


def _finfo_or_iinfo(dtype: Any, xp: ModuleType, library: str) -> tuple[bool, Any] | None:
    if _storage_only(dtype, library):
        return None
    if library in ("numpy", "dask") and getattr(dtype, "name", None) == "bfloat16":  # ml_dtypes' (with JAX)
        import ml_dtypes

        return True, ml_dtypes.finfo(dtype)  # type: ignore[no-untyped-call]
    try:
        if xp.isdtype(dtype, "real floating"):
            return True, xp.finfo(dtype)
        if xp.isdtype(dtype, "integral"):
            return False, xp.iinfo(dtype)
    except TypeError:  # a dtype the namespace does not know, e.g. ml_dtypes' float8 in NumPy
        pass
    return None


def namespace(func: str, x: Array) -> ModuleType:
    """The array namespace of x, or a TypeError that says what to pass."""
    if isinstance(x, _REJECTED_NUMPY_TYPES):
        masked = isinstance(x, np.ma.MaskedArray)
        raise TypeError(
            f"{func}() does not accept {type(x).__module__}.{type(x).__name__}: its "
            f"{'mask' if masked else 'matrix semantics'} would be silently dropped. Pass a plain array, "
            f"e.g. np.asarray(x){' and handle the mask yourself' if masked else ''}."
        )
    if not array_api_compat.is_array_api_obj(x):
        raise TypeError(
            f"{func}() expects x to be an array (NumPy, CuPy, JAX, PyTorch, Dask, "
            f"array-api-strict), got {type(x).__name__} {_short_repr(x)}. "
            f"Convert it first, e.g. np.asarray(x, dtype=np.float64)."
        )
    return array_api_compat.array_namespace(x)


_REJECTED_NUMPY_TYPES = (np.ma.MaskedArray, np.matrix)


def check_xp(func: str, xp: Any, library: str) -> None:
    """xp= must be x's namespace: the library's plain module or array-api-compat's wrapper of it."""
    given = library_name(xp)
    if given != library:
        what = f"the {given} namespace" if given else f"{type(xp).__name__} {_short_repr(xp)}"
        raise TypeError(
            f"{func}() got xp={what}, but x is a {library} array. Pass x's namespace "
            f"(the module itself or array_api_compat.array_namespace(x)), or leave xp out."
        )


def number(func: str, name: str, value: Any, info: DtypeInfo) -> float | int:
    """A finite real number as it is used with x: rounded once to a float dtype (a subnormal
    becomes 0 where the backend flushes subnormals), or an int that an integer dtype holds."""
    if not _is_real_number(value):
        hint = ""
        if "Tracer" in type(value).__name__:  # a jax.jit argument: its value is not known when tracing
            hint = (
                f" Under jax.jit, {name} must be a Python number known when the function is traced: close over it, "
                f"or mark it static, e.g. jax.jit(f, static_argnames='{name}')."
            )
        raise TypeError(
            f"{func}() needs {name} to be a real number, got {type(value).__name__} {_short_repr(value)}.{hint}"
        )
    return _number(func, name, value, info)


@functools.lru_cache(maxsize=1024)  # caps and thresholds repeat call after call
def _number(func: str, name: str, value: Any, info: DtypeInfo) -> float | int:
    if not info.is_float:
        return _integer(func, name, value, info)
    try:
        wide = float(value)
    except OverflowError:  # an int beyond float64
        wide = math.inf if value > 0 else -math.inf
    else:
        if not math.isfinite(wide):
            raise ValueError(f"{func}() needs a finite {name}, got {name}={wide!r}.")
    rounded = info.round(wide)
    if math.isinf(rounded):
        raise ValueError(f"{func}() got {name}={value!r}, which does not fit x's dtype {info.name}.")
    if rounded == 0 or (info.flushes and abs(rounded) < info.smallest_normal):
        return 0.0  # also -0.0: a zero is a zero
    return rounded


def _integer(func: str, name: str, value: Any, info: DtypeInfo) -> int:
    if isinstance(value, numbers.Integral):
        whole = int(value)
    else:
        wide = float(value)
        if not math.isfinite(wide):
            raise ValueError(f"{func}() needs a finite {name}, got {name}={wide!r}.")
        if not wide.is_integer():
            raise TypeError(
                f"{func}() got integer x (dtype {info.name}) with a non-integer {name}={wide!r}. "
                f"Convert x to a floating dtype first, e.g. {convert_advice(info.library)}."
            )
        whole = int(wide)
    if not info.lowest <= whole <= info.highest:
        raise ValueError(f"{func}() got {name}={whole!r}, which does not fit x's dtype {info.name}.")
    return whole


def max_value(func: str, value: Any, info: DtypeInfo) -> float | int:
    """A validated cap: a finite number > 0 in x's dtype."""
    if value.__class__ is int or value.__class__ is float:  # relu6's 6, kept short (2 us of 10 on 8 elements)
        cap = _number(func, "max_value", value, info)
        if cap > 0:
            return cap
    if not _is_real_number(value):
        raise TypeError(
            f"{func}() needs max_value to be a real number or None, got {type(value).__name__} {_short_repr(value)}."
        )
    cap = number(func, "max_value", value, info)
    if not cap > 0:
        raise ValueError(f"{func}() needs max_value to be a finite number > 0 in x's dtype {info.name}, got {value!r}.")
    return cap


def threshold(func: str, value: Any, info: DtypeInfo, cap: float | int | None) -> float | int:
    """A validated kink: a finite number in x's dtype, below the cap."""
    kink = number(func, "threshold", value, info)
    if cap is not None and not kink < cap:
        raise ValueError(f"{func}() needs threshold below max_value, got threshold={value!r}, max_value={cap!r}.")
    return kink


def leak(func: str, leak: Any, x: Array, xp: ModuleType, info: DtypeInfo) -> float | int | Array:
    """A validated leak: a number (see number()) or an array leak (see array_leak())."""
    if type(leak) is float and info.is_float and not info.narrow:  # the common cases, kept short
        if leak == 0.0:
            return 0.0  # also -0.0: a zero slope is a zero slope
        if info.smallest_normal <= abs(leak) <= info.highest:
            return leak  # float32 and float64 round a Python float once themselves
    if _is_real_number(leak):
        return number(func, "leak", leak, info)
    if array_api_compat.is_array_api_obj(leak) and not isinstance(leak, np.bool_):
        return array_leak(func, leak, x, xp, info)
    raise TypeError(
        f"{func}() needs leak to be a real number or an array from x's library, got "
        f"{type(leak).__name__} {_short_repr(leak)}."
    )


def array_leak(func: str, leak: Array, x: Array, xp: ModuleType, info: DtypeInfo) -> Array:
    """A validated array leak (PReLU): x's library and device, a real dtype, broadcasting to x's
    shape without widening it; cast to x's dtype."""
    library = info.library
    if isinstance(leak, _REJECTED_NUMPY_TYPES) or array_api_compat.array_namespace(leak) is not xp:
        raise TypeError(
            f"{func}() needs an array leak from x's library ({library}), got "
            f"{type(leak).__module__}.{type(leak).__name__}. Convert it with {asarray_advice(library, 'leak')}."
        )
    leak_kind = (info.is_float, None) if leak.dtype == x.dtype else _finfo_or_iinfo(leak.dtype, xp, library)
    if leak_kind is None:
        raise TypeError(
            f"{func}() needs leak of a real floating or integer dtype, got dtype {leak.dtype}. "
            f"Convert it first, e.g. {convert_advice(library, name='leak')}."
        )
    if leak_kind[0] and not info.is_float:
        raise TypeError(
            f"{func}() got integer x (dtype {x.dtype}) with a floating leak array (dtype "
            f"{leak.dtype}). Convert x to a floating dtype first, e.g. {convert_advice(library)}."
        )
    x_device, leak_device = array_api_compat.device(x), array_api_compat.device(leak)
    if x_device is not None and leak_device is not None and x_device != leak_device:  # None: a JAX tracer
        raise ValueError(
            f"{func}() needs leak on x's device ({x_device}), got leak on {leak_device}. "
            f"Move it first, e.g. {device_advice(library, 'leak')}."
        )
    if not _broadcasts_to(leak.shape, x.shape):
        raise ValueError(
            f"{func}() needs a leak that broadcasts to x's shape {tuple(x.shape)} without "
            f"widening it, got leak of shape {tuple(leak.shape)}."
        )
    return leak if leak.dtype == x.dtype else xp.astype(leak, x.dtype)


def _is_real_number(value: Any) -> bool:
    """Python and NumPy real scalars; bools are not numbers here."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _broadcasts_to(small: tuple[Any, ...], big: tuple[Any, ...]) -> bool:
    """Whether small broadcasts to big; a size Dask does not know yet (NaN, or None) may match."""
    if len(small) > len(big):
        return False
    return all(
        s == 1 or s == b or _unknown(s) or _unknown(b) for s, b in zip(reversed(small), reversed(big), strict=False)
    )


def _unknown(size: Any) -> bool:
    return size is None or (isinstance(size, float) and math.isnan(size))


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."

"""CuPy kernels: one-pass ``ElementwiseKernel``s for relu and relu_dash with a number leak; the
reference bodies otherwise. Compiled without fast-math, so NaN and -0.0 follow IEEE."""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

from .._checks import Array
from .._reference import relu as reference


def relu(x: Array, leak: Any, max_value: Any, threshold: Any, xp: ModuleType) -> Array:
    if type(leak) not in (float, int) or threshold != 0:
        return reference.relu(x, leak, max_value, threshold, xp)
    return _compiled()[0](x, leak, _cap(max_value), leak == 0, max_value is not None)


def relu_dash(x: Array, leak: Any, max_value: Any, threshold: Any, xp: ModuleType) -> Array:
    if type(leak) not in (float, int) or threshold != 0:
        return reference.relu_dash(x, leak, max_value, threshold, xp)
    return _compiled()[1](x, leak, _cap(max_value), max_value is not None)


def _cap(max_value: Any) -> Any:
    return 0 if max_value is None else max_value


@functools.cache
def _compiled() -> tuple[Any, Any]:
    """Constants go through float ((T)0.0f), which CuPy's float16 accepts."""
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


KERNELS = {"relu": relu, "relu_dash": relu_dash}

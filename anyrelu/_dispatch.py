"""Which kernel computes each function for each kind of array.

Every function has a reference body in ``_reference/`` (pure array-API code, the contract).
A backend module in ``_kernels/`` may replace some of them with native kernels, which the test
suite proves equal to the reference (bit for bit for the ReLU family, within the accuracy bound
for the others). Backends are found once per array type and kept.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from . import _checks
from ._checks import Array, DtypeInfo
from ._reference import REFERENCE

Kernel = Callable[..., Array]

# Libraries with a module in _kernels/; any other array library runs the reference bodies.
_KERNEL_MODULES = ("numpy", "torch", "jax", "dask", "cupy", "array_api_strict")


@dataclass
class Backend:
    xp: ModuleType  # array-api-compat's namespace of the library
    library: str
    kernels: dict[str, Kernel]  # function name -> kernel(x, *parameters, xp)
    flushes: Callable[[Any], bool]  # dtype -> whether the backend treats its subnormals as zero
    # relu (cap None) or relu6 (cap 6.0) of x with every other parameter at its default, or None
    # where the backend's own operations do not answer without validation (torch: plain_relu)
    plain_relu: Callable[[Array, float | None], Array | None] | None = None
    dtypes: dict[Any, DtypeInfo] = field(default_factory=dict)  # only grows

    def add_dtype(self, func: str, dtype: Any) -> DtypeInfo:
        """A dtype's first call: its facts, kept (or a TypeError for a dtype with no ReLU)."""
        info = self.dtypes[dtype] = _checks.dtype_info(func, dtype, self.xp, self.library, self.flushes(dtype))
        return info


_BACKENDS: dict[type, Backend] = {}  # array type -> Backend; only grows


def backend(func: str, x: Array) -> Backend:
    """The backend of x's array type, found on its first call (a TypeError for a non-array)."""
    found = _BACKENDS.get(type(x))
    if found is not None:
        return found
    xp = _checks.namespace(func, x)
    library = _checks.library_name(xp) or xp.__name__
    kernels = dict(REFERENCE)
    flushes: Callable[[Any], bool] = _never
    plain_relu = None
    if library in _KERNEL_MODULES:
        module = importlib.import_module(f"{__package__}._kernels.{library}")
        kernels.update(module.KERNELS)
        flushes = getattr(module, "flushes", _never)
        plain_relu = getattr(module, "plain_relu", None)
    found = _BACKENDS[type(x)] = Backend(xp, library, kernels, flushes, plain_relu)
    return found


def _never(dtype: Any) -> bool:
    return False


def lookup(func: str, x: Array, xp: Any) -> tuple[Backend, DtypeInfo]:
    """x's backend and dtype facts, with xp= checked against x's library."""
    found = _BACKENDS.get(type(x)) or backend(func, x)
    if xp is not None and xp is not found.xp:
        _checks.check_xp(func, xp, found.library)
    return found, found.dtypes.get(x.dtype) or found.add_dtype(func, x.dtype)


def traced_by_torch(x: Any) -> bool:
    """Whether torch.compile or torch.export is tracing this call. Then the public function hands
    x to ``_kernels.torch_graph.in_graph``, which Dynamo puts in its graph as one call that AOTAutograd
    traces into torch operations (the kernel and its explicit derivative), so that validation,
    with its caches, never runs under Dynamo and inductor fuses the operations with their
    neighbours. Costs a type check for a NumPy array, one dictionary look-up where torch is not
    imported."""
    global _torch_is_compiling  # kept from the first eager call, never while Dynamo traces: 0.1 us a call
    if type(x) is np.ndarray:
        return False
    if _torch_is_compiling is not None:
        return _torch_is_compiling()
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    if torch.compiler.is_compiling():
        return True
    _torch_is_compiling = torch.compiler.is_compiling
    return False


_torch_is_compiling: Callable[[], bool] | None = None

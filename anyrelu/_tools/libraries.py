"""The array libraries anyrelu knows, which of them are usable here, and why not if not.

Used by the command line (the demo, the benchmark); the library itself needs none of this.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Library:
    name: str
    extra: str  # the pip extra that installs it
    to_array: Callable[[Any], Any]  # NumPy data -> this library's array


def _jax_array(values: Any) -> Any:
    import jax.numpy as jnp

    return jnp.asarray(values)


def _torch_array(values: Any) -> Any:
    import torch

    return torch.from_numpy(values.copy())


def _dask_array(values: Any) -> Any:
    import dask.array as da

    return da.from_array(values, chunks=max(1, len(values) // 2))


def _cupy_array(values: Any) -> Any:
    import cupy

    return cupy.asarray(values)


def _strict_array(values: Any) -> Any:
    import array_api_strict

    return array_api_strict.asarray(values)


def to_numpy(x: Any) -> Any:
    """A NumPy copy of an array of any of the libraries."""
    import numpy as np

    if hasattr(x, "compute"):
        x = x.compute()
    if hasattr(x, "get"):
        x = x.get()
    if hasattr(x, "detach"):
        x = x.detach().cpu()
    return np.from_dlpack(x) if type(x).__module__.startswith("array_api_strict") else np.asarray(x)


LIBRARIES = [
    Library("numpy", "", lambda v: v),
    Library("array_api_strict", "test", _strict_array),
    Library("jax", "jax", _jax_array),
    Library("torch", "torch", _torch_array),
    Library("dask", "dask", _dask_array),
    Library("cupy", "cupy", _cupy_array),
]


def why_missing(library: Library) -> str | None:
    """None if the library can run here, else the reason in a few words."""
    module = {"dask": "dask.array"}.get(library.name, library.name)
    try:
        imported = importlib.import_module(module)
    except ImportError:
        return f"not installed (pip install 'anyrelu[{library.extra}]')"
    if library.name == "cupy":
        try:
            if imported.cuda.runtime.getDeviceCount() == 0:
                return "no CUDA device"
        except Exception as error:  # cupy without a driver raises CUDARuntimeError
            return f"no CUDA device ({type(error).__name__})"
    return None


def available() -> tuple[list[Library], dict[str, str]]:
    """The libraries usable here, and the others with the reason each is missing."""
    found, missing = [], {}
    for library in LIBRARIES:
        reason = why_missing(library)
        if reason is None:
            found.append(library)
        else:
            missing[library.name] = reason
    return found, missing

"""Dask kernels: each chunk is handed to its own backend with ``map_blocks`` -- one task per
chunk, nothing computed. An array leak's chunks are lined up with x's first; a chunk size Dask
does not know yet (after boolean indexing) is fine where the leak was built from x."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import dask.array as da

from .._checks import Array
from .._dispatch import backend
from .._reference import REFERENCE


def _kernel(name: str) -> Callable[..., Array]:
    def kernel(x: Array, *args: Any) -> Array:
        parameters = args[:-1]
        if name.startswith("relu") and not isinstance(parameters[0], (int, float)):
            leak = _aligned(parameters[0], x)
            return da.map_blocks(_block, x, name, leak, *parameters[1:], dtype=x.dtype, meta=x._meta)
        return x.map_blocks(_block, name, *parameters, dtype=x.dtype, meta=x._meta)

    return kernel


def _aligned(leak: Array, x: Array) -> Array:
    """leak with x's number of dimensions, chunked as x along every dimension it does not broadcast."""
    leak = leak[(None,) * (x.ndim - leak.ndim)]
    if all(n == 1 or _same_chunks(c, xc) for n, c, xc in zip(leak.shape, leak.chunks, x.chunks, strict=True)):
        return leak
    return leak.rechunk(tuple((1,) if n == 1 else xc for n, xc in zip(leak.shape, x.chunks, strict=True)))


def _same_chunks(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Equal chunk sizes; two unknown (NaN) sizes count as equal: Dask checks them when it computes."""
    return len(a) == len(b) and all(p == q or (math.isnan(p) and math.isnan(q)) for p, q in zip(a, b, strict=True))


def _block(block: Array, name: str, *parameters: Any) -> Array:
    """One chunk, by its own backend (a chunk of an array leak arrives among the parameters)."""
    found = backend(name, block)
    return found.kernels[name](block, *parameters, found.xp)


KERNELS = {name: _kernel(name) for name in REFERENCE}

"""The call that torch.compile and torch.export put in their graph for any anyrelu function.

This module is imported only while they trace (``_dispatch.traced_by_torch``), when Dynamo is
loaded already: registering ``in_graph`` with Dynamo imports it, two seconds that a plain call on
a tensor need not pay. Dynamo runs an import it meets for real, so the registration below is done
before it looks the function up.
"""

from __future__ import annotations

from typing import Any

import torch

from .._checks import Array


@torch.compiler.allow_in_graph  # type: ignore[untyped-decorator]
def in_graph(module: str, func: str, x: torch.Tensor, parameters: tuple[Any, ...]) -> Array:
    """``func(x, ...)`` as one call in a Dynamo graph (see ``_dispatch.traced_by_torch``).
    AOTAutograd runs it on its traced tensors: validation happens then, once per compilation, and
    the graph gets the kernel's torch operations and, through ``_kernels.torch.Explicit``, the
    explicit derivative. ``module`` says whose run(): "relu" (leak, max_value, threshold) or
    "rectifiers" ((name, value) pairs)."""
    from .. import _rectifiers, _relu

    if module == "relu":
        leak, max_value, threshold = parameters
        return _relu.run(func, x, leak, max_value, threshold, None)
    return _rectifiers.run(func, x, None, **dict(parameters))

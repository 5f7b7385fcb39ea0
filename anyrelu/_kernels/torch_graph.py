"""The call that torch.compile and torch.export put in their graph for any anyrelu function, and
the custom ops that exact GELU of other than a CPU float32 tensor runs as under torch.compile.

This module is imported only while they trace (``_dispatch.traced_by_torch``), when Dynamo is
loaded already: registering ``in_graph`` with Dynamo imports it, two seconds that a plain call on
a tensor need not pay. Dynamo runs an import it meets for real, so the registration below is done
before it looks the function up.
"""

from __future__ import annotations

from typing import Any

import torch

from .._checks import Array
from . import float32 as f32
from . import torch as kernels


@torch.compiler.allow_in_graph  # type: ignore[untyped-decorator]
def in_graph(module: str, func: str, x: torch.Tensor, parameters: tuple[Any, ...]) -> Array:
    """``func(x, ...)`` as one call in a Dynamo graph (see ``_dispatch.traced_by_torch``).
    AOTAutograd runs it on its traced tensors: validation happens then, once per compilation, and
    the graph gets the kernel's torch operations and, through ``_kernels.torch.Explicit``, the
    explicit derivative. ``module`` says whose run(): "relu" (leak, max_value, threshold) or
    "rectifiers" ((name, value) pairs)."""
    from .. import _rectifiers, _relu

    parameters = concrete(parameters)
    if module == "relu":
        leak, max_value, threshold = parameters
        return _relu.run(func, x, leak, max_value, threshold, None)
    return _rectifiers.run(func, x, None, **dict(parameters))


def concrete(parameters: tuple[Any, ...]) -> tuple[Any, ...]:
    """The parameters with each number that Dynamo made symbolic (``dynamic=True``, or a number
    that changed between calls) as the number it is: Dynamo then guards on its value and compiles
    again for another, as for a shape it specializes. (Validation refuses a SymFloat: it is no
    real number the kernels could take.)"""
    return tuple(_concrete(p) for p in parameters)


def _concrete(value: Any) -> Any:
    if isinstance(value, tuple):  # a (name, value) pair
        return tuple(_concrete(v) for v in value)
    if isinstance(value, torch.SymBool):
        return bool(value)
    if isinstance(value, torch.SymInt):
        return int(value)
    if isinstance(value, torch.SymFloat):
        return float(value)
    return value


# ---- exact GELU in a compiled graph of other than a CPU float32 tensor (that one runs the float32
# kernel of ``float32.py``: ``_kernels.torch.GELU_GRAPH``): torch's eager erfc behind two custom ops.
#
# Inductor's float64 erfc (SLEEF's) takes 2-7x eager torch's, and (on an AVX-512 Xeon) float64
# arithmetic fused with float32 loads and stores runs at about scalar speed: traced as plain
# operations, GELU's value and derivative cost 4.3 and 5.0 ms per 262144 float32 elements, a
# compiled training step of an MLP 1.9x the step with F.gelu. As two opaque calls of eager's
# chunked kernels it is 1.4x: the forward computes the value and the derivative with one erfc
# (``gelu_with_slope``), and the backward is the derivative times the incoming gradient, which
# inductor fuses with its neighbours (the graph keeps the derivative for the backward, not x: one
# tensor, as with F.gelu). Not under torch.export (an exported program would need anyrelu
# imported to run), forward-mode AD or a torch.func transform (the ops have no rules for them):
# there the plain operations stay.


@torch.library.custom_op("anyrelu::gelu", mutates_args=())
def _gelu(x: torch.Tensor) -> torch.Tensor:
    value: torch.Tensor = kernels.gelu_value(x.contiguous())
    return value


@_gelu.register_fake
def _(x: torch.Tensor) -> torch.Tensor:
    return torch.empty_like(x, memory_format=torch.contiguous_format)


@torch.library.custom_op("anyrelu::gelu_with_slope", mutates_args=())
def _gelu_with_slope(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    value, slope = kernels.gelu_with_slope(x.contiguous())  # the fake's layout
    return value, slope


@_gelu_with_slope.register_fake
def _(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return (torch.empty_like(x, memory_format=torch.contiguous_format),
            torch.empty_like(x, memory_format=torch.contiguous_format))  # fmt: skip


def compiled_gelu(x: torch.Tensor, xp: Any) -> Array:
    """Exact GELU inside a torch.compile graph: a CPU float32 tensor's from ``float32.py``'s
    plain operations, which inductor fuses (``_kernels.torch.GELU_GRAPH``), other tensors' from
    the custom ops above. With x requiring grad the forward computes the derivative too, in the
    same loop, and keeps it for the backward instead of x (``kept``): on an AVX-512 Xeon the
    loop compiled alone takes 1.18-1.22 ms per 262144 elements (1.39-1.51 inside a compiled MLP
    step, whose loop inductor orders its own way), and the step 1.15-1.23x the step with F.gelu,
    against 1.20x with the derivative computed again in the backward."""
    float32_cpu = kernels._float32_cpu(x)
    if x.requires_grad and torch.is_grad_enabled():
        if float32_cpu:
            return kernels.GeluWithSlope.apply(x, _gelu_with_kept_slope, kernels.GELU_GRAPH[2])[0]
        return kernels.GeluWithSlope.apply(x, _gelu_with_slope, kernels.gelu_chain)[0]
    return kernels.GELU_GRAPH[0](x, xp) if float32_cpu else _gelu(x)


def _gelu_with_kept_slope(x: torch.Tensor) -> tuple[Array, Array]:
    """``float32.gelu_with_slope`` with the derivative passed through ``kept``."""
    value, slope = f32.gelu_with_slope(x)
    return value, kept(slope)


def kept(t: torch.Tensor) -> torch.Tensor:
    """t, unchanged (t + -0.0 is t for every float, -0.0 and NaN too), as the output of an
    operation that AOTAutograd's partitioner never recomputes in the backward: prims.add, which
    inductor fuses into its loop as it does aten.add, is not on the partitioner's list of
    recomputable operations (aten's pointwise operations and a few more). So the graph keeps the
    derivative the forward computed. Left to itself the partitioner, which counts recomputing any
    pointwise operation as free, may keep x instead and compute GELU's whole derivative again in
    the backward: torch 2.15 does (2.13 keeps the derivative, but only because a heuristic bans
    recomputing chains of over 100 operations), and a compiled MLP step took 1.22-1.24x the step
    with F.gelu on an AVX2 EPYC, against 1.07-1.09x with the derivative kept (the derivative's
    loop 1.73 ms a step in the backward, against 0.2 for the product of the kept one)."""
    kept_t: torch.Tensor = torch.ops.prims.add.default(t, -0.0)
    return kept_t

"""torch kernels, and the autograd Function that gives every transform the explicit derivative.

Values: torch's own kernels where they give the reference's bits -- ``threshold`` (x <= 0 ->
+0.0, NaN kept; ``torch.relu`` gives -0.0 at -0.0) then ``clamp_max_`` for a cap, and
``leaky_relu`` -- on float32/float64 with a number leak; the reference body otherwise. On a CUDA
device with CuPy installed, relu, relu_dash and relu's backward run anyrelu's one-pass CuPy
kernels on the tensor's memory instead (the "CUDA, through CuPy" section below).

Derivatives: whenever autograd can see the call (x or an array leak requires grad, a
``torch.func`` transform wraps x, or a forward-mode dual level is open), the value goes through
``Explicit``, an autograd Function whose ``backward`` and ``jvp`` are the reference's chain rule
(``_reference.CHAIN``). It has ``setup_context`` and ``generate_vmap_rule``, so backward, double
backward, forward mode and every ``torch.func`` transform (grad, vjp, jvp, jacrev, jacfwd, hessian,
vmap) give the explicit derivative's values, with no host read of GPU data. For relu on
float32/float64 the chain rule is torch's fused backward kernel where one tests the contract's
sides: ``threshold_backward`` tests ``x <= 0`` (NaN included); ``leaky_relu_backward`` and
``hardtanh_backward`` put NaN on the wrong side, so they get x with NaN moved to a point of the
identity side (``nan_to_num``, one pass), unless a read of x's largest element on the host shows
that x holds no NaN (``_known_free_of_nan``: a large CPU tensor, in eager mode). Where the kernel's
own autograd node is that chain rule at every order -- ``threshold`` (a zero leak, no cap, on
the CPU), ``leaky_relu`` where x is known to hold no NaN -- the call records that node and no
Function at all (``_own_autograd_is_the_contract``). tests/test_autodiff.py and
tests/test_fast_paths.py check all of them, bit for bit.

The rest of the family: torch's own kernels where the accuracy tests hold them to the bound
(``elu`` for ELU, SELU and CELU(alpha=1) with ``elu_backward``; ``hardsigmoid`` with
``hardsigmoid_backward``, ``hardtanh_backward`` in float64 and under double backward;
``softplus`` with its switch moved to where it is exact, with ``softplus_backward``; the ``silu``
value; hard swish's value as ``threshold * hardsigmoid`` and its derivative as
``hardswish_backward`` where torch's takes the contract's sides at the kinks (the reference's
operations fused by ``hardtanh_backward`` otherwise); float64 torch operations rounded once for
SiLU's derivative, both GELUs, Mish and Mish's derivative), the reference
bodies (float32 in float64) otherwise; derivatives through ``Explicit`` alike. The kernels of
several passes run a large CPU tensor in cache-sized chunks (``_chunked``). Under
torch.compile and torch.export a call is one node of the graph: ``torch_graph.in_graph``; there
the ELU family and exact GELU have kernels of their own (``ELU_GRAPH``, ``GELU_GRAPH``: the
float32 kernels of ``float32.py`` for a CPU float32 tensor, as inductor's expm1 is exp(x) - 1,
and exact GELU of other tensors anyrelu's custom ops around the eager kernels, ``torch_graph``).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from types import ModuleType
from typing import Any, NamedTuple

import array_api_compat.torch as _TORCH_XP
import numpy as np
import torch
import torch.autograd.forward_ad as forward_ad

from .._checks import Array
from .._reference import CHAIN, REFERENCE, rectifiers
from .._reference import relu as reference
from .._reference.rectifiers import SELU_ALPHA, SELU_SCALE
from . import cupy as cupy_kernels
from . import float32 as f32

_NATIVE_DTYPES = (torch.float32, torch.float64)  # half types compute in float32: rounding twice


class Rule(NamedTuple):
    """One call's value and derivatives, for ``Explicit``."""

    value: Callable[[Array, Array | None], Array]  # (x, array leak or None) -> y
    chain: Callable[[Array, Array, Array | None], Array]  # (x, t, leak) -> dy/dx applied to t
    leak_chain: Callable[[Array, Array, Array], Array] | None  # (x, t, leak) -> dy/dleak applied to t


class Explicit(torch.autograd.Function):
    """y = rule.value(x, leak) with the rule's explicit derivatives, for every autograd transform."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: torch.Tensor, leak: torch.Tensor | None, rule: Rule) -> Any:
        return rule.value(x, leak)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        x, leak, ctx.rule = inputs
        ctx.save_for_backward(x, leak)
        ctx.save_for_forward(x, leak)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None, None]:
        x, leak = ctx.saved_tensors
        rule: Rule = ctx.rule
        dx = rule.chain(x, grad, leak) if ctx.needs_input_grad[0] else None
        dleak = None
        if leak is not None and ctx.needs_input_grad[1] and rule.leak_chain is not None:
            dleak = rule.leak_chain(x, grad, leak).sum_to_size(leak.shape)
        return dx, dleak, None

    @staticmethod
    def jvp(ctx: Any, dx: torch.Tensor | None, dleak: torch.Tensor | None, _: None) -> torch.Tensor:
        x, leak = ctx.saved_tensors
        rule: Rule = ctx.rule
        parts = [rule.chain(x, dx, leak)] if dx is not None else []
        if dleak is not None and rule.leak_chain is not None:
            parts.append(rule.leak_chain(x, dleak, leak))
        return sum(parts[1:], parts[0]) if parts else torch.zeros_like(x)


def _explicit(x: torch.Tensor, leak: torch.Tensor | None, rule: Rule) -> Any:
    """``Explicit.apply(x, leak, rule)``. Outside torch.func transforms Function.apply binds its
    arguments to forward's signature with ``inspect`` (50 us a call here, 15 times the kernel of
    relu on 8 elements) and then calls torch's own apply: forward takes positional arguments
    without defaults, so this calls torch's apply itself, after the same unwrapping."""
    if _transforms_active():
        return Explicit.apply(x, leak, rule)
    return _torch_apply(*_unwrap_dead_wrappers((x, leak, rule)))


_torch_apply = super(torch.autograd.Function, Explicit).apply  # torch._C._FunctionBase.apply, bound to Explicit
_unwrap_dead_wrappers = torch._functorch.utils.unwrap_dead_wrappers


def tracked(x: torch.Tensor, leak: Any = None) -> bool:
    """Whether autograd can see this call: then it must go through Explicit."""
    if (x.requires_grad or (leak is not None and isinstance(leak, torch.Tensor) and leak.requires_grad)) and (
        _grad_enabled()
    ):
        return True
    # forward mode records while a dual level is open; torch.func wraps its inputs.
    return forward_ad._current_level >= 0 or _wrapped(x)


_grad_enabled = torch.is_grad_enabled
_wrapped = torch._C._functorch.is_functorch_wrapped_tensor
_transforms_active = torch._C._are_functorch_transforms_active  # any torch.func transform running


def with_derivative(name: str, value: Callable[..., Array]) -> Callable[..., Array]:
    """A kernel for ``name`` whose values come from ``value`` and whose derivative is explicit."""

    def kernel(x: torch.Tensor, *args: Any) -> Array:
        *params, xp = args
        if not (x.is_floating_point() and tracked(x)):
            return value(x, *params, xp)
        rule = Rule(
            lambda v, _: value(v, *params, xp),
            lambda v, t, _: CHAIN.get(name, _times_dash(name))(v, t, *params, xp),
            None,
        )
        return _explicit(x, None, rule)

    return kernel


def _times_dash(name: str) -> Callable[..., Array]:
    dash = REFERENCE[f"{name}_dash"]
    return lambda x, t, *params: t * dash(x, *params)


# ---------------------------------------------------------------- the ReLU family


def _host_plain(x: torch.Tensor) -> bool:
    """Whether torch's own host kernels answer for x: float32 or float64, on the host, outside
    autograd, forward-mode AD and the torch.func transforms."""
    return (
        not x.requires_grad
        and x.dtype in _NATIVE_DTYPES
        and not x.is_cuda
        and forward_ad._current_level < 0
        and not _transforms_active()
    )


def plain_relu(x: torch.Tensor, max_value: float | None) -> Array | None:
    """relu(x) (max_value None) or relu6(x) (6.0) with every other parameter at its default, the
    common call: ``_relu._apply`` hands it here before any other check (validation has nothing to
    say about a zero leak and threshold on a float tensor). None where torch's own kernels do not
    answer (``_host_plain``): then the call takes the general way. relu6 at n = 8 on an AVX2
    machine: 5.5 us through validation and ``relu`` below, 4.7 this way, 3.5 of it the two
    operations (F.relu6: 2.2)."""
    if _host_plain(x):
        y = torch.threshold(x, 0, 0)  # Python ints: torch parses them faster than floats (0.5-1.5 us)
        return y if max_value is None else y.clamp_max_(6)  # relu6's cap as an int
    return None


def relu(x: torch.Tensor, leak: Any, max_value: Any, threshold: Any, xp: ModuleType) -> Array:
    if leak.__class__ is float and threshold == 0 and _host_plain(x):  # the common calls, kept short
        native = _host_native(leak, max_value)
        if native is not None:
            return native(x)
    native = _native(x, leak, max_value, threshold)
    if native is not None and not tracked(x):
        return native(x)
    array_leak = isinstance(leak, torch.Tensor)
    if not (x.is_floating_point() and tracked(x, leak)):
        return native(x) if native else reference.relu(x, leak, max_value, threshold, xp)
    if native and _own_autograd_is_the_contract(x, leak, max_value):
        return native(x)
    if native:
        rule = Rule(lambda v, _: native(v), _native_chain(leak, max_value), None)
    else:

        def chain(v: torch.Tensor, t: torch.Tensor, lk: Any) -> Array:
            if array_leak and torch.is_grad_enabled():  # create_graph: d(chain)/d(leak) explicit
                return PReluChain.apply(v, t, lk, max_value, threshold)
            return reference.relu_chain(v, t, lk if array_leak else leak, max_value, threshold, xp)

        rule = Rule(
            lambda v, lk: reference.relu(v, lk if array_leak else leak, max_value, threshold, xp),
            chain,
            lambda v, t, lk: reference.relu_leak_chain(v, t, lk, max_value, threshold, xp),
        )
    return _explicit(x, leak if array_leak else None, rule)


class PReluChain(torch.autograd.Function):
    """relu_chain(x, t, leak) for an array leak, differentiable in t and leak (in x it is 0), so
    that PReLU's second derivatives are right also at a zero leak."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: torch.Tensor, t: torch.Tensor, leak: torch.Tensor, max_value: Any, threshold: Any) -> Any:
        return reference.relu_chain(x, t, leak, max_value, threshold, _TORCH_XP)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        x, t, leak, ctx.max_value, ctx.threshold = inputs
        ctx.save_for_backward(x, t, leak)
        ctx.save_for_forward(x, t, leak)

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, ...]:
        x, t, leak = ctx.saved_tensors
        dt = reference.relu_chain(x, g, leak, ctx.max_value, ctx.threshold, _TORCH_XP)
        dleak = reference.relu_chain_leak_chain(x, t, g, ctx.max_value, ctx.threshold, _TORCH_XP)
        return torch.zeros_like(x), dt, dleak.sum_to_size(leak.shape), None, None

    @staticmethod
    def jvp(ctx: Any, dx: Any, dt: Any, dleak: Any, *_: Any) -> torch.Tensor:
        x, t, leak = ctx.saved_tensors
        parts = [] if dt is None else [reference.relu_chain(x, dt, leak, ctx.max_value, ctx.threshold, _TORCH_XP)]
        if dleak is not None:
            parts.append(reference.relu_chain_leak_chain(x, t, dleak, ctx.max_value, ctx.threshold, _TORCH_XP))
        return sum(parts[1:], parts[0]) if parts else torch.zeros_like(x)


def _own_autograd_is_the_contract(x: torch.Tensor, leak: Any, max_value: Any) -> bool:
    """Whether the host kernel's own autograd gives relu_dash at every order (backward, double
    backward, forward mode, torch.func), so that the call needs no Function: ``threshold`` (a zero
    leak, no cap) everywhere, its backward taking NaN to the identity side; ``leaky_relu`` where x
    is known to hold no NaN (its backward puts NaN on the leak side). Not with a cap: clamp_max
    passes the gradient at the cap. tests/test_fast_paths.py checks both, bit for bit."""
    if max_value is not None or x.is_cuda:
        return False
    return leak == 0 or _known_free_of_nan(x)


def _native(x: torch.Tensor, leak: Any, max_value: Any, threshold: Any) -> Callable[[Array], Array] | None:
    """torch's own kernel for this call, where it gives the reference's bits; else None. On a CUDA
    device with CuPy installed, anyrelu's one-pass CuPy kernel instead (see ``_on_cupy``)."""
    if type(leak) not in (float, int) or threshold != 0 or x.dtype not in _NATIVE_DTYPES:
        return None
    if x.is_cuda and _on_cupy(x):
        return lambda v: _wide_on_cuda(
            "anyrelu_relu_wide", (v,), leak, max_value,
            lambda: _via_cupy(lambda xp, c: cupy_kernels.relu(c, leak, max_value, 0, xp), v),
        )  # fmt: skip
    return _host_native(leak, max_value)


@functools.lru_cache(maxsize=256)  # a call on 8 elements takes 10 us: building this is 1 us of it
def _host_native(leak: float | int, max_value: float | int | None) -> Callable[[Array], Array] | None:
    if leak == 0:  # x <= 0 -> +0.0, NaN is not <= 0 and stays (clamp and relu give -0.0 at -0.0)
        if max_value is None:
            return _zero_below
        cap = float(max_value)
        return functools.partial(_zero_below_capped, cap=int(cap) if cap.is_integer() and abs(cap) < 2**53 else cap)
    if max_value is None:
        slope = float(leak)
        return lambda v: torch._C._nn.leaky_relu(v, slope)
    return None  # leak * x may pass the cap on the leak side: the reference


def _zero_below(x: torch.Tensor) -> Array:
    return torch.threshold(x, 0, 0)  # Python ints: torch parses them faster than floats (0.5-1.5 us)


def _zero_below_capped(x: torch.Tensor, cap: float) -> Array:
    return torch.threshold(x, 0, 0).clamp_max_(cap)  # NaN stays


def _native_chain(leak: float, max_value: float | None) -> Callable[[Array, Array, Any], Array]:
    """torch's fused backward kernel for relu's chain rule (see the module's docstring); on CUDA
    with CuPy, anyrelu's one-pass chain kernel."""
    host = _host_chain(leak, max_value)

    def chain(x: torch.Tensor, t: torch.Tensor, lk: Any) -> Array:
        if _on_cupy(x) and _on_cupy(t):
            return _wide_on_cuda(
                "anyrelu_relu_chain_wide", (x, t), leak, max_value,
                lambda: _via_cupy(lambda _, cx, ct: cupy_kernels.relu_chain(cx, ct, leak, max_value), x, t),
            )  # fmt: skip
        return host(x, t, lk)

    return chain


def _host_chain(leak: float, max_value: float | None) -> Callable[[Array, Array, Any], Array]:
    if max_value is not None:
        inside = min(1.0, max_value / 2)  # a point strictly between 0 and the cap
        cap = float(max_value)
        return lambda x, t, _: _fused_backward(torch.ops.aten.hardtanh_backward, t, x, inside, 0.0, cap)
    if leak == 0:
        return lambda x, t, _: torch.ops.aten.threshold_backward(t, x, 0.0)
    slope = float(leak)
    return lambda x, t, _: _fused_backward(torch.ops.aten.leaky_relu_backward, t, x, 1.0, slope, False)


def _nan_to(x: torch.Tensor, inside: float) -> torch.Tensor:
    return torch.nan_to_num(x, nan=inside, posinf=float("inf"), neginf=float("-inf"))


def _known_free_of_nan(x: torch.Tensor) -> bool:
    """Whether x is known to hold no NaN: its largest element (NaN if any is), read on the host
    (see ``_readable``) -- half a pass, where moving NaN away costs a pass and a fresh tensor."""
    return _readable(x) and bool(x.amax() <= math.inf)


def _known_above(x: torch.Tensor, floor: float) -> bool:
    """Whether every element of x is known to be above ``floor`` (NaN is not): its smallest
    element, read on the host (see ``_readable``)."""
    return _readable(x) and bool(x.amin() > floor)


def _readable(x: torch.Tensor) -> bool:
    """Whether a kernel may choose its form by x's data -- read a reduction of x on the host, or
    run x in chunks (``_chunk``): a plain tensor in CPU memory of 65536 elements or more, outside
    any trace or torch.func transform. Not otherwise: a GPU would wait for the read, a trace
    cannot branch on data, and on a small x the read costs more than the pass it saves. Both
    forms give the same bits (tests/test_fast_paths.py)."""
    return type(x) is torch.Tensor and x.is_cpu and not _wrapped(x) and x.numel() >= 65536


_CHUNK = 1 << 18  # bytes of a temporary per thread: a chunk's temporaries stay in a core's cache
# e^v as 2^(v log2(e)): torch's exp (like its erfc, log, log1p, tanh and sqrt) runs MKL's vector
# functions where torch is built with MKL, whose code on an AMD EPYC with AVX-512 took 2.7x torch's
# own exp2 (27 against 10 us per 32768 float32, 53 against 28 in float64); the exp2 kernels cost
# 17-24% less time there. The product's rounding adds |v| 2^-53 (float64) or |v| 2^-24 (float32)
# to e^v's relative error: each kernel's docstring says why it stays within the bound.
_LOG2E = 1 / math.log(2)


def _exp(v: torch.Tensor) -> Array:
    """e^v as exp2(v log2(e)) (see _LOG2E), out of place."""
    return torch.mul(v, _LOG2E).exp2_()


# Added before a narrow derivative's rounding: below half an ulp of every float32 result above
# 9e-45, it makes a negative tail's -0.0 the limit +0.0 (the contract's f'(-inf)).
_PLUS_ZERO = 1e-60


def _over_square(top: torch.Tensor, d: torch.Tensor, dtype: torch.dtype, out: torch.Tensor | None) -> Array:
    """_PLUS_ZERO + top / d² in float64, rounded once to dtype (d is overwritten)."""
    return _rounded(torch.addcdiv(top.new_full((), _PLUS_ZERO), top, d.mul_(d)), dtype, out)


def _chunk(x: torch.Tensor, itemsize: int = 8, chunk: int = _CHUNK) -> int:
    """The chunk size for x, 0 where x runs whole: temporaries of ``chunk`` bytes (of ``itemsize``)
    for each of torch's threads -- 32768 float64 elements, which torch splits among its threads in
    pieces of 32768, or 65536 float32 -- on a large contiguous CPU tensor outside any trace or
    transform (``_readable``). On one thread, 32768-element chunks were 5-16% faster than 65536
    for the float64 kernels (GELU's, Mish's: more temporaries in a 2 MB cache)."""
    size = chunk // itemsize * torch.get_num_threads()
    return size if x.numel() > size and _readable(x) and x.is_contiguous() else 0


def _chunked(
    kernel: Callable[..., Any], itemsize: int = 8, outputs: int = 1, chunk: int = _CHUNK
) -> Callable[[torch.Tensor], Any]:
    """An element-wise kernel that makes several temporaries, run on a large CPU tensor in chunks
    (``_chunk``) into one output: each chunk's temporaries stay in the cache and are reused from
    the allocator's free list, where the whole tensor's are fresh memory and one pass each over it
    (float64 GELU, its tanh form and Mish at 10^6 elements on one thread: 2-2.5x faster).
    Element-wise, so the same bits (tests/test_fast_paths.py). Autograd never differentiates
    these kernels (Explicit's forward and plain backward run them). The kernel takes ``out``, its
    chunk of the output, and writes its last operation or its rounding (``_rounded``) into it.
    ``itemsize``: its temporaries' (4 for a float32 kernel), which sizes
    its chunks; ``chunk``: their bytes per thread. A kernel of several ``outputs`` returns a tuple
    and takes a tuple of chunks."""

    @functools.wraps(kernel)
    def run(x: torch.Tensor) -> Any:
        size = _chunk(x, itemsize, chunk)
        if not size:
            return kernel(x)
        flat = x.view(-1)
        outs = [torch.empty_like(flat) for _ in range(outputs)]
        for part, *into in zip(flat.split(size), *(out.split(size) for out in outs), strict=True):
            kernel(part, out=into[0] if outputs == 1 else tuple(into))
        return outs[0].view(x.shape) if outputs == 1 else tuple(out.view(x.shape) for out in outs)

    run.chunk_size = functools.partial(_chunk, itemsize=itemsize, chunk=chunk)  # type: ignore[attr-defined]
    return run


def _rounded(y: torch.Tensor, dtype: torch.dtype, out: torch.Tensor | None) -> Array:
    """A wider result rounded once to dtype: into ``out`` (a chunk of the output: the rounding and
    the chunk's copy in one pass), or as a fresh tensor."""
    return y.to(dtype) if out is None else out.copy_(y)


def _fused_backward(kernel: Any, t: torch.Tensor, x: torch.Tensor, inside: float, *args: Any) -> Array:
    """``kernel(t, x, *args)`` -- torch's fused backward kernel, given as its overload packet --
    with x's NaN moved to ``inside``. In a plain backward the kernel writes its result over the
    moved copy (its ``grad_input=`` form): one allocation, not two, which is a third of the
    chain rule's time at 10^6 elements. Not where autograd records the chain rule (double
    backward, torch.func), which out= forms refuse. Where x is known to hold no NaN
    (``_known_free_of_nan``), the kernel runs on x itself: half a pass instead of one."""
    if _known_free_of_nan(x):
        return kernel(t, x, *args)
    moved = _nan_to(x, inside)
    if _writes_over(t, x):
        return kernel.grad_input(t, moved, *args, grad_input=moved)
    return kernel(t, moved, *args)


def _writes_over(t: torch.Tensor, x: torch.Tensor) -> bool:
    """Whether a fused backward kernel may write its result over a copy of x: a plain backward
    (nothing records the operations run on t and x) whose result has x's shape and dtype."""
    return t.shape == x.shape and t.dtype == x.dtype and _plain(t, x)


def _plain(*tensors: torch.Tensor) -> bool:
    """Whether this is a plain backward: nothing records the operations run on ``tensors``."""
    return not (_grad_enabled() or any(_wrapped(t) for t in tensors))


def relu_dash(x: torch.Tensor, leak: Any, max_value: Any, threshold: Any, xp: ModuleType) -> Array:
    if type(leak) in (float, int) and threshold == 0 and x.dtype in _NATIVE_DTYPES and _on_cupy(x):
        return _wide_on_cuda(
            "anyrelu_relu_dash_wide", (x,), leak, max_value,
            lambda: _via_cupy(lambda xp, c: cupy_kernels.relu_dash(c, leak, max_value, 0, xp), x),
        )  # fmt: skip
    return reference.relu_dash(x, leak, max_value, threshold, xp)


# ---------------------------------------------------------------- CUDA, through CuPy
#
# torch has no single-pass kernel for relu6's contract (+0.0 at -0.0) nor for relu_dash; on a CUDA
# device anyrelu runs its CuPy kernels (_kernels/cupy.py) on the tensor's memory with no copy, on
# torch's current stream: the wide kernels by the tensors' addresses into a tensor from torch's
# allocator (``_wide_on_cuda``), the ElementwiseKernel (float16, other layouts) on arrays shared
# through DLPack (``_via_cupy``). Inside a torch.func transform the tensors are wrapped (batched,
# dual) and have no memory of their own: torch's own kernels run there.


@functools.cache
def _cupy_ready() -> bool:
    try:
        import cupy

        return bool(cupy.cuda.runtime.getDeviceCount() > 0)
    except Exception:  # not installed, or no driver (CUDARuntimeError)
        return False


def _on_cupy(x: torch.Tensor) -> bool:
    return bool(x.is_cuda and _cupy_ready() and not torch._C._functorch.is_functorch_wrapped_tensor(x))


_WIDE_DTYPES: dict[torch.dtype, np.dtype[Any]] = {
    torch.float32: np.dtype(np.float32),
    torch.float64: np.dtype(np.float64),
}


def _wide_on_cuda(
    name: str,
    tensors: tuple[torch.Tensor, ...],
    leak: Any,
    max_value: Any,
    otherwise: Callable[[], torch.Tensor],
) -> torch.Tensor:
    """A wide CuPy kernel run on the tensors' memory by address, into y from torch's allocator,
    on torch's current stream; ``otherwise()`` where it does not apply (float16, a layout that is
    not C-contiguous and 16-byte aligned, no element, x and t of different shapes or dtypes).
    Sharing the tensors through DLPack instead (``_via_cupy``) cost 50-110 us of host time per
    kernel on an H200's host (exchange, CuPy's allocator, stream context): the GPU waited on it."""
    x = tensors[0]
    dtype = _WIDE_DTYPES.get(x.dtype)
    if dtype is None or not all(_wide_layout(t, x) for t in tensors):
        return otherwise()
    import cupy

    device = x.device.index
    with cupy.cuda.Device(device):
        if cupy_kernels.wide_function(name, dtype.name) is None:
            return otherwise()
        y = torch.empty_like(x, memory_format=torch.contiguous_format)
        addresses = tuple(t.data_ptr() for t in (*tensors, y))
        cupy_kernels.run_wide(name, addresses, x.numel(), dtype, leak, max_value, _cupy_stream(x.device))
    return y


def _wide_layout(t: torch.Tensor, x: torch.Tensor) -> bool:
    """t (x or the cotangent; neither wrapped: see ``_on_cupy``) has x's shape and dtype and is
    C-contiguous, 16-byte aligned and not empty."""
    return (
        t.shape == x.shape and t.dtype == x.dtype and t.is_contiguous() and t.data_ptr() % 16 == 0
        and t.numel() > 0
    )  # fmt: skip


def _via_cupy(run: Callable[..., Any], *tensors: torch.Tensor) -> torch.Tensor:
    import array_api_compat.cupy as xp
    import cupy

    device = tensors[0].device
    with cupy.cuda.Device(device.index), _cupy_stream(device):
        result = run(xp, *(cupy.from_dlpack(t.detach()) for t in tensors))
    return torch.utils.dlpack.from_dlpack(result)


class _StreamHandle:
    """A raw CUDA stream in the CUDA stream protocol: ``__cuda_stream__`` gives (version 0, handle)."""

    def __init__(self, handle: int) -> None:
        self.handle = handle

    def __cuda_stream__(self) -> tuple[int, int]:
        return (0, self.handle)


def _cupy_stream(device: torch.device) -> Any:
    """torch's current stream on that device as a CuPy stream, so that CuPy's kernels queue behind
    torch's."""
    return _cupy_stream_for(torch.cuda.current_stream(device).cuda_stream, device.index)


@functools.lru_cache(maxsize=64)
def _cupy_stream_for(handle: int, device: int) -> Any:
    """A CuPy view of torch's CUDA stream ``handle`` (the object holds only the handle, so it is
    made once): ``Stream.from_external`` (CuPy 14 deprecates ``ExternalStream``, a warning under
    -W error), ``ExternalStream`` before it."""
    import cupy

    with cupy.cuda.Device(device):
        from_external = getattr(cupy.cuda.Stream, "from_external", None)
        if from_external is None:
            return cupy.cuda.ExternalStream(handle, device)
        return from_external(_StreamHandle(handle))


# ---------------------------------------------------------------- the rest of the family
#
# torch's own kernel where it meets the contract, with its fused backward kernel as the chain rule
# and f_dash = the chain rule applied to ones (so autograd gives f_dash bit for bit). The test
# suite holds them to the accuracy bound (elu) or to the reference's bits (hard_sigmoid).


def _native_with_derivative(
    value: Callable[[Array], Array], chain: Callable[[Array, Array], Array]
) -> Callable[..., Array]:
    rule = Rule(lambda v, _: value(v), lambda v, t, _: chain(v, t), None)

    def kernel(x: torch.Tensor) -> Array:
        return _explicit(x, None, rule) if tracked(x) else value(x)

    return kernel


def _ones_like(x: torch.Tensor) -> torch.Tensor:
    return torch.ones((), dtype=x.dtype, device=x.device).expand_as(x)


@functools.lru_cache(maxsize=64)
def _elu_kernels(alpha: float, scale: float, input_scale: float) -> tuple[Callable[..., Array], Callable[..., Array]]:
    """torch's elu(x, alpha, scale, input_scale) -- scale * x for x > 0, alpha * scale *
    expm1(input_scale * x) otherwise -- and its derivative: elu_backward, with NaN moved to the
    identity side (elu_backward's vectorized loop gives NaN there)."""

    def native_chain(x: torch.Tensor, t: torch.Tensor) -> Array:
        if _known_free_of_nan(x):  # as _fused_backward
            return torch.ops.aten.elu_backward(t, alpha, scale, input_scale, False, x)
        moved = _nan_to(x, 1.0)
        if _writes_over(t, x):  # _fused_backward, with x last
            return torch.ops.aten.elu_backward.grad_input(t, alpha, scale, input_scale, False, moved, grad_input=moved)
        return torch.ops.aten.elu_backward(t, alpha, scale, input_scale, False, moved)

    # f'' = alpha scale input_scale^2 exp(input_scale x) on the lower piece (x <= 0, the lesson's
    # rule), 0 elsewhere and at NaN; written in torch's operations, so its own derivative is right.
    curvature = alpha * scale * input_scale * input_scale

    def second(x: torch.Tensor, t: torch.Tensor, _: Any) -> Array:
        lower = torch.where(x <= 0, x, torch.zeros_like(x))
        return t * torch.where(x <= 0, torch.exp(lower * input_scale) * curvature, torch.zeros_like(x))

    slope = Rule(lambda v, _: native_chain(v, _ones_like(v)), second, None)

    def chain(x: torch.Tensor, t: torch.Tensor) -> Array:
        if not torch.is_grad_enabled():  # a plain backward: torch's fused kernel
            return native_chain(x, t)
        # create_graph (or forward mode): the same values, through a Function whose derivative is f''
        # (elu_backward's own derivative puts 0 at the kink, the upper piece's)
        return t * _explicit(x, None, slope)

    def dash(x: torch.Tensor) -> Array:
        return _explicit(x, None, slope) if tracked(x) else native_chain(x, _ones_like(x))

    value = _native_with_derivative(lambda v: torch.ops.aten.elu(v, alpha, scale, input_scale), chain)
    return value, dash


def _elu_family(
    name: str, parameters: Callable[..., tuple[float, float, float] | None]
) -> tuple[Callable[..., Array], Callable[..., Array]]:
    """Kernels for elu, selu or celu: torch's where ``parameters(x, *args)`` gives its
    (alpha, scale, input_scale), the reference's where it gives None."""

    def value(x: torch.Tensor, *args: Any) -> Array:
        if _cpu_graph(x):
            return ELU_GRAPH[name][0](x, *args)
        found = parameters(x, *args[:-1]) if x.is_floating_point() else None
        return KERNELS_BY_REFERENCE[name](x, *args) if found is None else _elu_kernels(*found)[0](x)

    def dash(x: torch.Tensor, *args: Any) -> Array:
        if _cpu_graph(x):
            return ELU_GRAPH[name][1](x, *args)
        found = parameters(x, *args[:-1]) if x.is_floating_point() else None
        return REFERENCE[f"{name}_dash"](x, *args) if found is None else _elu_kernels(*found)[1](x)

    return value, dash


# In a torch.compile or torch.export graph of a CPU tensor: inductor's vectorized CPU loops compute
# expm1 as exp(x) - 1, which makes F.elu (and the reference's expm1) 0 for -6e-8 < x < 0 and 1.3%
# off at x = -1e-6 in float32. There float32 (and the half types, rounded once) takes
# ``float32``'s ELU family -- JAX's float32 kernels: a float32 polynomial expm1 carried as a pair,
# and exp(x) - 1 with its exact error below -0.6932 -- with alpha exp(x) in float32 for the
# derivative, and float64 the reference, whose expm1 is Taylor's series there for |x| < 1
# (``_reference.special.expm1``). On a GPU inductor calls libdevice's expm1: torch's kernels stay.


def _cpu_graph(x: torch.Tensor) -> bool:
    """Whether torch.compile or torch.export traces this call on a floating CPU tensor."""
    return torch.compiler.is_compiling() and x.is_floating_point() and x.device.type == "cpu"


def _graph_elu(name: str) -> tuple[Callable[..., Array], Callable[..., Array]]:
    """(value, dash) kernels of elu, selu or celu in a graph; the value's derivative is dash's."""
    body, dash_body = getattr(f32, name), getattr(rectifiers, f"{name}_dash")

    def own(x: torch.Tensor) -> bool:
        return x.dtype in (torch.float32, torch.float16, torch.bfloat16)

    def value(x: torch.Tensor, *params: Any) -> Array:
        return body(x.float(), *params[:-1]).to(x.dtype) if own(x) else REFERENCE[name](x, *params)

    def dash(x: torch.Tensor, *params: Any) -> Array:
        # alpha exp(x) in float32: the JAX float32 programs' derivative too (exp within 1 ulp)
        return dash_body(x.float(), *params).to(x.dtype) if own(x) else REFERENCE[f"{name}_dash"](x, *params)

    def kernel(x: torch.Tensor, *params: Any) -> Array:
        if not tracked(x):
            return value(x, *params)
        return _explicit(x, None, Rule(lambda v, _: value(v, *params), lambda v, t, _: t * dash(v, *params), None))

    return kernel, dash


ELU_GRAPH = {name: _graph_elu(name) for name in ("elu", "selu", "celu")}


# elu and celu with a positive alpha only: elu(+0.0) would be -0.0 for a negative one. selu not in
# float64: torch multiplies its two constants there, one ulp off the product rounded once (in
# float32 that product is float32's lambda*alpha, so the half types and float32 are right).
# elu for alpha in (0, 1] only: for a larger alpha, alpha * exp(x) is normal where torch's exp(x)
# has underflowed (elu_backward gives 0 at x = -104.4 in float32 for alpha = 1e30).
ELU = _elu_family("elu", lambda x, alpha: (alpha, 1.0, 1.0) if 0 < alpha <= 1 else None)
# celu: torch's elu for alpha = 1 (the default), where celu is elu; the reference otherwise. torch's
# celu is elu with input_scale = 1/alpha, which rounds 1/alpha first: celu_dash(0) is 0.99999994 for
# alpha = 0.21, celu 2.25 ulp off for alpha = 3, x/alpha underflows for a large alpha.
CELU = _elu_family("celu", lambda x, alpha: (1.0, 1.0, 1.0) if alpha == 1 else None)
SELU = _elu_family("selu", lambda x: None if x.dtype == torch.float64 else (SELU_ALPHA, SELU_SCALE, 1.0))


def _hard_sigmoid_chain(x: torch.Tensor, t: torch.Tensor) -> Array:
    """t/6 strictly between -3 and 3 and at NaN (moved to 0: torch's backward kernels send it to
    the flat side), 0 elsewhere: hardsigmoid_backward, one pass, which multiplies by 1/6 rounded
    to x's dtype, in a plain backward. In float64 it rounds 1/6 to float32 first, and autograd
    cannot differentiate it (double backward, torch.func): there t * (1/6), then
    hardtanh_backward."""
    if x.dtype == torch.float64 or not _plain(t, x):
        return torch.ops.aten.hardtanh_backward(t * (1 / 6), _nan_to(x, 0.0), -3.0, 3.0)
    return _fused_backward(torch.ops.aten.hardsigmoid_backward, t, x, 0.0)


def _hardsigmoid(x: torch.Tensor) -> Array:
    """min(max(x + 3, 0), 6) / 6, the reference's bits: x + 3 is exact near -3, and where it rounds
    to 6 just below 3, (x + 3) / 6 is 1 on both pieces. F.hardsigmoid computes exactly that, except
    in float64 on CUDA, where it multiplies by 1/6 rounded to float32 (hard_sigmoid(3) was
    1.0000000298 on an H200): there, the same operations spelled out."""
    if x.dtype == torch.float64 and x.device.type != "cpu":
        return torch.clamp(x + 3.0, 0.0, 6.0) / 6.0
    return torch.nn.functional.hardsigmoid(x)


# Not F.hardsigmoid's own autograd, even where x holds no NaN: torch has no derivative for
# hardsigmoid_backward (double backward fails).
_hard_sigmoid = _native_with_derivative(_hardsigmoid, _hard_sigmoid_chain)


def hard_sigmoid(x: torch.Tensor, xp: ModuleType) -> Array:
    return _hard_sigmoid(x)


def hard_sigmoid_dash(x: torch.Tensor, xp: ModuleType) -> Array:
    return _hard_sigmoid_chain(x, _ones_like(x))


def _value_only(name: str, value: Callable[[Array], Array]) -> Callable[..., Array]:
    """torch's own kernel for the value, the reference's derivative for every transform."""
    chain = _times_dash(name)

    def kernel(x: torch.Tensor, *args: Any) -> Array:
        if not x.is_floating_point():
            return KERNELS_BY_REFERENCE[name](x, *args)
        if not tracked(x):
            return value(x)
        rule = Rule(lambda v, _: value(v), lambda v, t, _: chain(v, t, *args), None)
        return _explicit(x, None, rule)

    return kernel


def _with_slope(
    value: Callable[[Array], Array],
    dash: Callable[[Array], Array],
    second: Callable[[Array], Array],
    dtypes: tuple[torch.dtype, ...],
    fallback: tuple[Callable[..., Array], Callable[..., Array]],
    plain: Callable[[Array, Array], Array] | None = None,
) -> tuple[Callable[..., Array], Callable[..., Array], Callable[[Array, Array], Array]]:
    """Kernels for x of ``dtypes`` from torch's own operations -- ``value(x)``, ``dash(x)`` (f')
    and ``second(x)`` (f''), each in x's dtype -- and ``fallback``'s (value, dash) kernels for
    other x, and the chain rule (x, t) -> f'(x) t. f'' is the derivative's chain rule, so that
    double backward, forward mode and torch.func give f_dash's own derivative; a plain backward is
    ``plain(x, t)``, by default ``f'(x) * t`` (a fused kernel given as ``plain`` must round f'(x) t
    once, as that does)."""
    slope = Rule(lambda v, _: dash(v), lambda v, t, _: t * second(v), None)

    def chain(x: torch.Tensor, t: torch.Tensor) -> Array:
        if not (_grad_enabled() or _wrapped(x) or _wrapped(t)):  # a plain backward
            return dash(x).mul_(t) if plain is None else plain(x, t)
        return t * _explicit(x, None, slope)  # its derivative: f''

    native = _native_with_derivative(value, chain)

    def value_kernel(x: torch.Tensor, xp: ModuleType) -> Array:
        return native(x) if x.dtype in dtypes else fallback[0](x, xp)

    def dash_kernel(x: torch.Tensor, xp: ModuleType) -> Array:
        if x.dtype not in dtypes:
            return fallback[1](x, xp)
        return _explicit(x, None, slope) if tracked(x) else dash(x)

    return value_kernel, dash_kernel, chain


@_chunked
def _silu_dash(x: torch.Tensor, out: torch.Tensor | None = None) -> Array:
    """silu'(x) = s (1 + x (1 - s)), s = sigmoid(x): torch's fused ``silu_backward`` (with dy = 1)
    in float64, rounded once to x's dtype (0.5 ulp). In float64 the rounded x (1 - s) cancels
    against 1 only near silu's minimum (x = -1.28), where the condition number allows it; in
    float32 it cancels for every x < -1 (torch's float32 silu_backward: 5 ulp at x = -2.03, 2x the
    bound at x = 16.6). Not in float32 from other operations either: s(x) (x + d) / d with torch's
    exp and sigmoid, d = 1 + e^x, was 4.02 ulp off at x = -0.5527069 on the default ATen
    capability (3.88 at -0.5405617 on avx512; the bound is 4), found by checking every float32 in
    [-4, 4], and its error depends on the exp and sigmoid of each CPU path. One float64 pass
    where e (x + d) / d² took six: 2.5 against 3.2 ms per 10^6 on one thread. x clipped to
    [-200, 40]: -inf and inf would give 0 * inf, and e^200 is a normal float64 number (x86 takes
    a slow path for a subnormal one); the narrow derivative is 0 from x = -104 on, where adding
    +0.0 after the rounding makes it the limit +0.0, not -0.0."""
    w = torch.clamp(x, -200.0, 40.0).double()
    slope = torch.ops.aten.silu_backward(_ones_like(w), w)
    return _rounded(slope, x.dtype, out).add_(0.0)


def _silu_second(w: torch.Tensor) -> Array:
    """silu''(w) = s(w) s(-w) (2 + w (s(-w) - s(w))), in float64 and rounded once to w's dtype, w
    clipped to ±1000 in the factor (s(w) s(-w) is 0 beyond, 0 * inf would be NaN)."""
    w64 = w.double()
    s, s_minus = torch.sigmoid(w64), torch.sigmoid(-w64)
    return (s * s_minus * (torch.clamp(w64, -1000.0, 1000.0) * (s_minus - s) + 2)).to(w.dtype)


# silu: torch's kernel is within the bound in float32 and the half types, but NaN at -inf (-inf *
# 0); from x floored at -1000 it gives -0.0 there, as the true value is below every subnormal. Not
# float64: it gives -0.0 at x = -710, where silu is -2.4e-306, a normal number. The value is
# computed in place on the clipped copy (one allocation).
def _silu(x: torch.Tensor) -> Array:
    """torch's silu, on x itself where x is known to be above -inf (one fresh tensor and half a
    pass), else on x floored at -1000 in place: the same bits, as silu underflows to -0.0 from -104
    in float32 on."""
    if _known_above(x, -math.inf):
        return torch.nn.functional.silu(x)
    return torch.nn.functional.silu(torch.clamp(x, min=-1000.0), inplace=True)


SILU = _with_slope(
    _silu,
    _silu_dash,
    _silu_second,
    (torch.float32, torch.float16, torch.bfloat16),
    (lambda x, xp: KERNELS_BY_REFERENCE["silu"](x, xp), REFERENCE["silu_dash"]),  # defined below
)


@_chunked
def _mish_value(x: torch.Tensor, out: torch.Tensor | None = None) -> Array:
    """x tanh(log1p(e^x)) = x n / (n + 2), n = e^x (e^x + 2), in float64, rounded once to x's
    dtype (0.5 ulp): one exp where log1p and tanh cost 7x as much (torch's float32 mish is 3.4
    ulp off on its scalar path, ATEN_CPU_CAPABILITY=default, and 2.2 on avx2 and avx512). From x
    floored at -1000: mish(-inf) is -0.0 (-inf * 0 would be NaN); e^x from x capped at 300, where
    n is finite and n / (n + 2) already 1."""
    w = torch.clamp(x, min=-1000.0).double()  # clamp_ has no vmap rule
    e = w.clamp(max=300.0).mul_(_LOG2E).exp2_()  # e^x as _exp does, in place on the clipped copy
    n = (e + 2).mul_(e)
    return _rounded(n.div_(n + 2).mul_(w), x.dtype, out)


@_chunked
def _mish_dash(x: torch.Tensor, out: torch.Tensor | None = None) -> Array:
    """mish'(x) = e (4 (1 + x) + e ((6 + 4x) + e (4 + e))) / d² + b, e = e^x, d = e (e + 2) + 2: the
    reference's one denominator, in float64 rounded once to x's dtype (0.5 ulp), with one exp and
    no tanh or log1p (torch's exp, log1p and tanh run MKL's code, which on an AMD EPYC took 2.3x
    the time of this form against 1.0x of torch's sigmoid). Its one cancellation (near x = -1.9)
    is between terms that carry no rounded exp, where the condition number is large. x clipped to
    [-200, 40]: e^-200 is a normal float64 number (x86 takes a slow path for a subnormal one), the
    narrow derivative is 0 from x = -104 on, and at 40 the quotient is 1 and e^4 finite. b is
    _PLUS_ZERO."""
    w = torch.clamp(x, -200.0, 40.0).double()
    e = _exp(w)
    p = e + 2
    d = torch.addcmul(p.new_full((), 2.0), e, p)  # e (e + 2) + 2
    h = torch.add(w.new_full((), 6.0), w, alpha=4.0)  # 6 + 4x
    r = torch.addcmul(h, p.add_(2.0), e)  # (6 + 4x) + e (e + 4)
    return _over_square(torch.addcmul(h.sub_(2.0), r, e).mul_(e), d, x.dtype, out)  # e (4 (1 + x) + e r) / d²


def _mish_second(x: torch.Tensor) -> Array:
    """mish''(x) = (1 - t²) s(x) (2 + x (s(-x) - 2 t s(x))), with 1 - t² = 4 (n + 1)/(n + 2)²
    and t = n/(n + 2), n = e^x (e^x + 2), from x clipped to [-1000, 300] (n finite), in float64
    rounded once, out of place: autograd differentiates it (third derivatives)."""
    w = torch.clamp(x.double(), -1000.0, 300.0)
    e = torch.exp(w)
    n = e * (e + 2)
    t, sech2, s = n / (n + 2), 4 * (n + 1) / ((n + 2) * (n + 2)), torch.sigmoid(w)
    return (sech2 * s * (w * (torch.sigmoid(-w) - 2 * t * s) + 2)).to(x.dtype)


MISH = _with_slope(
    _mish_value,
    _mish_dash,
    _mish_second,
    (torch.float32, torch.float16, torch.bfloat16),
    (lambda x, xp: KERNELS_BY_REFERENCE["mish"](x, xp), REFERENCE["mish_dash"]),  # defined below
)


# ---- exact GELU: x Phi(x) = x/2 erfc(-x/sqrt(2)) with torch's erfc (within 1 ulp), in float64 and
# rounded once (float32's argument x * fl(1/sqrt(2)) would be rounded before erfc sees it: 4 ulp
# off near x = -1.5, where erfc's condition number is 3). F.gelu's 1 + erf cancels for x < 0.
#
# x is clipped to +-_gelu_limit(x): 20 for float32 and the half types, where erfc(20/sqrt(2)) and
# e^-200 are normal float64 numbers. An exp or erfc whose result is subnormal or underflows takes
# a slow path on x86 (per element, torch's float64 erfc 7x slower, exp 18x where it overflows or
# gives 0 and 150x where its result is subnormal; torch sets no flush-to-zero), and GELU and its
# derivative round to 0 in float32 below x = -14.6 either way; float64 keeps 64 (GELU is 1e-306 at
# x = -37.5, not 0). The derivative's last operations are one addcmul and one add, where
# (erfc + c x e^(-a^2)) / 2 took three: 5% less time.
_GELU_SQRT_HALF = -1 / math.sqrt(2)  # a = -x/sqrt(2), erfc's argument
_GELU_DENSITY = 1 / math.sqrt(2 * math.pi)  # phi(x) = e^(-x^2/2) / sqrt(2 pi)


def _gelu_limit(x: torch.Tensor) -> float:
    return 64.0 if x.dtype == torch.float64 else 20.0


@_chunked
def _gelu_value(x: torch.Tensor, out: torch.Tensor | None = None) -> Array:
    """x/2 erfc(-x/sqrt(2)) in place on one float64 copy of x floored at -_gelu_limit (-inf * 0
    would be NaN)."""
    w = torch.clamp(x, min=-_gelu_limit(x)).double()
    return _rounded((w * _GELU_SQRT_HALF).erfc_().mul_(w.mul_(0.5)), x.dtype, out)  # x/2 first: 2 x overflows


@_chunked
def _gelu_dash(x: torch.Tensor, out: torch.Tensor | None = None) -> Array:
    e, g = _gelu_slope_parts(x)
    return _rounded(_gelu_slope(e, g), x.dtype, out)


def _gelu_slope_parts(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """erfc(a), a = -x/sqrt(2), and b + x phi(x) = b + x e^(-x^2/2) / sqrt(2 pi), in float64 from x
    clipped to +-_gelu_limit. x^2 log2(e)/2 rounds twice (with its constant, 2.5 2^-53 relative),
    which e^(-x^2/2) = 2^(-x^2 log2(e)/2) turns into 1.25 x^2 2^-53 (float64: the bound there is 8
    ulps times the condition number, which grows as x^2); from a = -x/sqrt(2), rounded, it was
    twice that, and float64 GELU' 0.92 of the bound at x = -1.227 (10^6 float64 drawn there). b is
    _PLUS_ZERO where the result is rounded to a narrower type, 0 in float64: GELU' is negative
    below x = -0.75, and its float64 value from x = -20 is -1.1e-86, so that -inf's float32 result
    would be -0.0, not the limit +0.0; with b every x below -16.7 gives +0.0 (GELU' rounds to 0 in
    float32 below x = -14.6)."""
    limit = _gelu_limit(x)
    w = torch.clamp(x, -limit, limit).double()
    g = torch.addcmul(w.new_zeros(()), w, w, value=-_LOG2E / 2).exp2_()  # e^(-x^2/2), its exponent in one pass
    g = torch.addcmul(w.new_full((), 0.0 if x.dtype == torch.float64 else _PLUS_ZERO), g, w, value=_GELU_DENSITY)
    return w.mul_(_GELU_SQRT_HALF).erfc_(), g


def _gelu_slope(e: torch.Tensor, g: torch.Tensor) -> Array:
    """Phi(x) + x phi(x) = erfc(a) / 2 + g, in place on g: -inf gives +0.0 (b, or 0 + -0.0 in
    float64)."""
    return g.add_(e, alpha=0.5)


def _gelu_with_slope(x: torch.Tensor, out: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[Array, Array]:
    """GELU and its derivative at once, one erfc for both, with _gelu_value's and _gelu_dash's
    operations, so their bits (erfc's argument from x clipped to +-_gelu_limit is erfc's from x
    floored there: erfc is 2 above the limit in float64). For torch.compile (``torch_graph``)."""
    value, slope = (None, None) if out is None else out
    e, g = _gelu_slope_parts(x)
    slope = _rounded(_gelu_slope(e, g), x.dtype, slope)
    half = torch.clamp(x, min=-_gelu_limit(x)).double().mul_(0.5)
    return _rounded(e.mul_(half), x.dtype, value), slope


gelu_with_slope = _chunked(_gelu_with_slope, outputs=2)


def _gelu_second(x: torch.Tensor) -> Array:
    """GELU'' = phi(x) (2 - x^2), x clipped to ±64 (0 beyond), out of place (third derivatives)."""
    w = torch.clamp(x.double(), -64.0, 64.0)
    return (torch.exp(w * w * -0.5) * (1 / math.sqrt(2 * math.pi)) * (2 - w * w)).to(x.dtype)


def _softplus(x: torch.Tensor) -> Array:
    """torch's softplus with its switch to x moved to where log1p(exp(-x)) is below half an ulp
    of x: 20 in float32 (and the half types, computed in float32), 40 in float64 (torch's 20
    leaves 2e-9 there)."""
    return torch.nn.functional.softplus(x, 1.0, _softplus_switch(x))


def _softplus_chain(x: torch.Tensor, t: torch.Tensor) -> Array:
    """torch's fused softplus_backward, t * sigmoid(x) in one pass, 1 above the switch (where
    sigmoid(x) rounds to 1)."""
    return torch.ops.aten.softplus_backward(t, x, 1.0, _softplus_switch(x))


def _softplus_switch(x: torch.Tensor) -> float:
    return 40.0 if x.dtype == torch.float64 else 20.0


def _native_kernels(name: str, kernels: Callable[..., Any]) -> tuple[Callable[..., Array], Callable[..., Array]]:
    """Kernels for a function whose value and chain rule are torch's own operations (chosen by
    ``kernels(*parameters)``: (value, chain), or None for the reference); f_dash is the chain rule
    applied to ones, so autograd gives f_dash bit for bit."""

    def value(x: torch.Tensor, *args: Any) -> Array:
        found = kernels(*args[:-1]) if x.is_floating_point() else None
        if found is None:
            return KERNELS_BY_REFERENCE[name](x, *args)
        f, chain = found
        if not tracked(x):
            return f(x)
        return _explicit(x, None, Rule(lambda v, _: f(v), lambda v, t, _: chain(v, t), None))

    def dash(x: torch.Tensor, *args: Any) -> Array:
        found = kernels(*args[:-1]) if x.is_floating_point() else None
        return REFERENCE[f"{name}_dash"](x, *args) if found is None else found[1](x, _ones_like(x))

    return value, dash


# ---- GELU's tanh form: x s(z), s the logistic function, z = 2 u = 2 sqrt(2/pi) (x + 0.044715 x^3).
# In float32 z carries 2 ulp and s(z) magnifies it 2x near x = -1.35 (5 ulp; the derivative 7.5
# ulp at -1.6): float32 and the half types compute in float64 with torch's operations, rounded
# once (0.5 ulp at worst on every ATen capability), in place on one float64 copy of x.
_Z1 = 2 * math.sqrt(2 / math.pi)  # z = x (_Z1 + _Z3 x^2)
_Z3 = _Z1 * 0.044715


def _gelu_tanh_floor(x: torch.Tensor) -> float:
    """Where x is floored: 21 below float64, where z(-21) = -694.3 keeps e^-z and e^z normal
    float64 numbers (an exp that overflows or underflows takes a slow path on x86: 18x and 150x
    per element, see _gelu_limit), where the float32 value and derivative are 0 (from x = -10.9
    on); 1000 in float64, where both are normal numbers down to x = -21.1 (e^-z is inf below, and
    x / inf -0.0)."""
    return 1000.0 if x.dtype == torch.float64 else 21.0


@_chunked
def _gelu_tanh_value(x: torch.Tensor, out: torch.Tensor | None = None) -> Array:
    """x s(z) = x / (1 + e^-z), from x floored at -_gelu_tanh_floor (x s(z) would be -inf * 0 at
    -inf): float64's exp and a division cost less than its sigmoid. -z is x (-_Z3 x^2 - _Z1), z's
    own roundings negated, and e^-z is 2^(-z log2(e)) with log2(e) in the constants (``_LOG2E``)."""
    w = torch.clamp(x, min=-_gelu_tanh_floor(x)).double()  # clamp_ has no vmap rule
    minus_z = torch.addcmul(w.new_full((), -_Z1 * _LOG2E), w, w, value=-_Z3 * _LOG2E).mul_(w)  # one pass for three
    return _rounded(w.div_(minus_z.exp2_().add_(1)), x.dtype, out)


@_chunked
def _gelu_tanh_dash(x: torch.Tensor, out: torch.Tensor | None = None) -> Array:
    """f' = s(z) + x z' s(z) s(-z) = e (x z' + d) / d^2 with e = e^z, d = 1 + e: as SiLU's, the
    sum cancels only near f''s zero (x = -0.75), not for every x < -1 as 1 + x z' s(-z) does. x z'
    = 3 z - 2 _Z1 x; x clipped to [-_gelu_tanh_floor, 10] (f' is 1 above 10 in float32, and e^z
    finite), +0.0 added for f'(-inf) = +0.0 (not 0 * -inf). e is 2^(z log2(e)), log2(e) in the
    constants (``_LOG2E``); in float64 its product adds |z| 2^-53 to e's error, where the bound
    grows as the condition number, about 3 |z|."""
    w = torch.clamp(x, -_gelu_tanh_floor(x), 10.0).double()
    z = torch.addcmul(w.new_full((), _Z1 * _LOG2E), w, w, value=_Z3 * _LOG2E).mul_(w)  # z log2(e)
    slope = w.mul_(-2 * _Z1).add_(z, alpha=3.0 / _LOG2E)  # x z'
    e = z.exp2_()
    d = e + 1
    return _rounded(slope.add_(d).mul_(e).div_(d).div_(d), x.dtype, out).add_(0.0)


def _gelu_tanh_second(x: torch.Tensor) -> Array:
    """f'' = s(z) s(-z) (2 z' + x z'' + x z'^2 (s(-z) - s(z))), z'' = 6 _Z3 x, x clipped to ±1000
    (f'' is 0 beyond), in float64 rounded once, out of place: autograd differentiates it (third
    derivatives)."""
    w = torch.clamp(x.double(), -1000.0, 1000.0)
    z1 = w * w * (3 * _Z3) + _Z1  # z'
    z = w * (w * w * _Z3 + _Z1)
    s, s_minus = torch.sigmoid(z), torch.sigmoid(-z)
    return (s * s_minus * (2 * z1 + w * w * (6 * _Z3) + w * z1 * z1 * (s_minus - s))).to(x.dtype)


GELU_TANH = _with_slope(
    _gelu_tanh_value,
    _gelu_tanh_dash,
    _gelu_tanh_second,
    (torch.float32, torch.float16, torch.bfloat16),
    (lambda x, xp: KERNELS_BY_REFERENCE["gelu"](x, True, xp), lambda x, xp: REFERENCE["gelu_dash"](x, True, xp)),
)
GELU_EXACT = _with_slope(
    _gelu_value,
    _gelu_dash,
    _gelu_second,
    (torch.float32, torch.float64, torch.float16, torch.bfloat16),
    (lambda x, xp: KERNELS_BY_REFERENCE["gelu"](x, False, xp), lambda x, xp: REFERENCE["gelu_dash"](x, False, xp)),
)


gelu_value, gelu_chain = _gelu_value, GELU_EXACT[2]  # for torch_graph and GeluWithSlope's eager use


class GeluWithSlope(torch.autograd.Function):
    """GELU whose backward multiplies by the derivative its forward computed (``with_slope(x)``
    gives both); under double backward ``chain(x, t)``, the chain rule above (its derivative is
    GELU''). Eager calls with x requiring grad (``_keeps_slope``) and compiled graphs
    (``torch_graph.compiled_gelu``) take it."""

    @staticmethod
    def forward(x: torch.Tensor, with_slope: Any, chain: Any) -> Any:
        return with_slope(x)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        ctx.mark_non_differentiable(output[1])
        ctx.set_materialize_grads(False)  # no zeros for the derivative's gradient: a pass of fresh memory
        ctx.save_for_backward(inputs[0], output[1])
        ctx.chain = inputs[2]

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor, _: Any) -> tuple[torch.Tensor, None, None]:
        x, slope = ctx.saved_tensors
        # create_graph: f'' through the chain rule; else dash(x).mul_(t)'s product
        chain: torch.Tensor = ctx.chain(x, grad) if torch.is_grad_enabled() else slope * grad
        return chain, None, None


_apply_with_slope = super(torch.autograd.Function, GeluWithSlope).apply  # as _torch_apply: no inspect


def _keeps_slope(x: torch.Tensor) -> bool:
    """Whether an eager exact GELU computes its derivative in the forward's chunk loop, with the
    value, and keeps it for the backward: x requires grad where autograd records (a backward will
    want the derivative), outside forward-mode AD, torch.func and any trace (GeluWithSlope has no
    jvp or vmap rule). Its erfc is then computed once for both, where a backward from x took it
    again: forward+backward 0.71-0.74x the time (docs/benchmarks.md), for one tensor of x's
    size kept until the backward (F.gelu keeps x alone; x is kept here too, for double backward)."""
    return x.requires_grad and _grad_enabled() and not torch.compiler.is_compiling() and _reverse_mode_only(x)


def _reverse_mode_only(x: torch.Tensor) -> bool:
    """Whether only reverse-mode autograd can see this call of x: no forward-mode dual level, no
    torch.func transform (GeluWithSlope and the custom ops have no jvp or vmap rule)."""
    return forward_ad._current_level < 0 and not _transforms_active() and not _wrapped(x)


# Exact GELU of a float32 CPU tensor in a torch.compile graph: ``float32``'s GELU (JAX's float32
# kernel: the Mills ratio and an exp pair; 0.32 of the bound under inductor), plain float32 operations that
# inductor fuses into one vectorized loop with its neighbours; a compiled MLP training step with it
# takes 1.06-1.1x the step with F.gelu on an AVX2 EPYC and 1.15-1.23x on an AVX-512 Xeon (with the
# forward's derivative kept: ``torch_graph.compiled_gelu``), where the float64 erfc behind custom
# ops took 1.4-1.5x.
# Not eager (a few hundred of torch's operations a call) nor CUDA (not yet measured there).
GELU_GRAPH = _with_slope(f32.gelu, f32.gelu_dash, _gelu_second, (torch.float32,), GELU_EXACT[:2])


def gelu(x: torch.Tensor, approximate: bool, xp: ModuleType) -> Array:
    if approximate:
        return GELU_TANH[0](x, xp)
    if _compiled(x):
        from .torch_graph import compiled_gelu

        return compiled_gelu(x, xp)
    if _keeps_slope(x):
        return _apply_with_slope(x, gelu_with_slope, gelu_chain)[0]
    return GELU_EXACT[0](x, xp)


def _float32_cpu(x: torch.Tensor) -> bool:
    return x.dtype == torch.float32 and x.device.type == "cpu"


def _compiled(x: torch.Tensor) -> bool:
    """Whether torch.compile (not torch.export) traces this call, outside forward-mode AD and the
    torch.func transforms, on x of a floating dtype: then exact GELU runs as custom ops
    (``torch_graph``)."""
    return (
        torch.compiler.is_compiling()  # first: False on every eager call
        and x.is_floating_point()
        and not torch.compiler.is_exporting()
        and _reverse_mode_only(x)
    )


def gelu_dash(x: torch.Tensor, approximate: bool, xp: ModuleType) -> Array:
    if approximate:
        return GELU_TANH[1](x, xp)
    return (GELU_GRAPH if _compiled(x) and _float32_cpu(x) else GELU_EXACT)[1](x, xp)


# softplus with beta = 1 only: log1p(e) / beta is 2.2 ulp off for other betas in float32, and e
# underflows where e / beta is normal for a small beta; the reference handles both.
SOFTPLUS = _native_kernels("softplus", lambda beta: (_softplus, _softplus_chain) if beta == 1 else None)


def _level_two_cache(base: str = "/sys/devices/system/cpu/cpu0/cache") -> int:
    """The bytes of a core's level-2 cache as Linux's sysfs gives them (``base``: a folder of
    ``index*`` entries, each with a ``level`` and a ``size`` such as ``2048K``); 0 where it does not
    (another system, an unreadable or unexpected entry)."""
    try:
        for index in sorted(name for name in os.listdir(base) if name.startswith("index")):
            with open(f"{base}/{index}/level") as level:
                if level.read().strip() != "2":
                    continue
            with open(f"{base}/{index}/size") as size:
                text = size.read().strip()
            return int(text.rstrip("KM")) * {"K": 1 << 10, "M": 1 << 20}.get(text[-1:], 1)
    except (OSError, ValueError):
        pass
    return 0


# Hard swish's chunk, in bytes of each of its three arrays (x's part, hardsigmoid's, the output's)
# per thread: the kernels' own ``_CHUNK`` (2^16 float32 elements) where the three fit in 3/8 of a
# core's level-2 cache, else 2^18 elements. At 10^6 elements on one thread, alternated in one
# process: on an AVX-512 Xeon (2 MB of L2) 2.0-2.2x F.hardswish in chunks of 2^16, 2.4 in 2^17
# and 2.8-2.9 in 2^18, where a binary operation on 2^18 elements took 14x its time on 2^16 (its
# 3 MB spill the L2); on an AVX2 AMD EPYC, whose torch operations cost 3-7 us a call, 2^16's
# chunks measured 3.8-4.9x and 2^18's 3.2-3.5x (4.3-5.2x for the whole tensor: its temporaries'
# fresh pages).
_HARD_SWISH_CHUNK = _CHUNK if _level_two_cache() >= 8 * _CHUNK else 1 << 20


@functools.partial(_chunked, itemsize=4, chunk=_HARD_SWISH_CHUNK)
def _hard_swish(x: torch.Tensor, out: torch.Tensor | None = None) -> Array:
    """x * hard_sigmoid(x), 0 (+0.0) for x <= -3 through threshold: F.hardswish gives -0.0 there
    and NaN at -inf, and its x * 6 / 6 is x only to an ulp above 3 (and inf above max / 6). Three
    roundings: 1.8 ulp at worst in float32 on every ATen capability. hardsigmoid first, the one
    operation that reads x from memory (its division hides behind the read; 2.4x F.hardswish with
    threshold first in the Xeon's chunks, see _HARD_SWISH_CHUNK); threshold writes into the output
    and the product goes over it: one temporary."""
    if x.dtype not in _NATIVE_DTYPES:  # the half types: in float32, rounded once
        return _rounded(_hard_swish(x.float()), x.dtype, out)
    h = _hardsigmoid(x)
    lower = torch.threshold(x, -3.0, 0.0) if out is None else torch.threshold(x, -3.0, 0.0, out=out)
    return lower.mul_(h)


KERNELS_BY_REFERENCE: dict[str, Callable[..., Array]] = {
    name: with_derivative(name, body) for name, body in REFERENCE.items() if "_dash" not in name
}


def _hard_swish_chain(x: torch.Tensor, t: torch.Tensor | None) -> Array:
    """t (x/3 + 1/2) strictly between -3 and 3, t from 3 up, 0 below -3, NaN at NaN:
    hardswish_backward, one pass, where ``_HARDSWISH_BACKWARD_MEETS`` (0.17 of the bound at worst
    on every ATen capability). Its scalar loop gives t at NaN, and so does its decomposition under
    torch.compile: unless x is known to hold no NaN (``_known_free_of_nan``), it is given t times
    threshold(x, inf, 1), which is 1 for every x but NaN. The reference's operations fused by
    hardtanh_backward where torch's kernel takes other sides. t None: f'(x)."""
    if not _HARDSWISH_BACKWARD_MEETS:
        dash = _hard_swish_reference_dash(x)
        return dash if t is None else dash.mul_(t)
    if _known_free_of_nan(x):
        return torch.ops.aten.hardswish_backward(_ones_like(x) if t is None else t, x)
    factor = torch.threshold(x, math.inf, 1.0)  # x <= inf: 1; NaN stays
    if t is not None:
        factor = factor * t if t.shape != x.shape or _wrapped(t) else factor.mul_(t)
    return torch.ops.aten.hardswish_backward(factor, x)  # its out= form copies: no gain


def _hard_swish_dash(x: torch.Tensor) -> Array:
    return _hard_swish_chain(x, None)


def _hard_swish_reference_dash(x: torch.Tensor) -> Array:
    """The reference's (2 clip(x, -3, 3) + 3) / 6, the same operations (in place), kept strictly
    between -3 and 3 and at NaN (moved to 0) by hardtanh_backward, plus 1 where x >= 3: one fused
    selection where the reference has two where() and their zeros and ones."""
    middle = torch.clamp(x, -3.0, 3.0).mul_(2).add_(3).div_(6)
    return torch.ops.aten.hardtanh_backward(middle, _nan_to(x, 0.0), -3.0, 3.0).add_(x >= 3)


def _hardswish_backward_meets() -> bool:
    """Whether this torch's hardswish_backward takes the contract's sides at the kinks (0 at -3, 1
    at 3, as torch 2.13 does; versions before the fix of pytorch/pytorch#147801 give -0.5 and 1.5),
    in its vector and scalar loops. On real tensors also when this module is first imported while torch.compile traces
    (under its fake-tensor modes, torch.equal has no answer)."""
    from torch.utils._python_dispatch import _disable_current_modes

    with _disable_current_modes():
        for dtype in _NATIVE_DTYPES:
            x = torch.tensor([-3.0, 3.0, -math.inf, math.inf, -1.5, 0.0] * 11, dtype=dtype)
            got = torch.ops.aten.hardswish_backward(torch.ones_like(x), x)
            if not torch.equal(got, torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0, 0.5] * 11, dtype=dtype)):
                return False
    return True


_HARDSWISH_BACKWARD_MEETS = _hardswish_backward_meets()


def _hard_swish_second(x: torch.Tensor) -> Array:
    """1/3 strictly between -3 and 3, 0 elsewhere and at NaN (where clip's derivative is 0)."""
    return torch.ops.aten.hardtanh_backward(torch.full_like(x, 1 / 3), x, -3.0, 3.0)


# hard swish in float32 and float64: the value as _hard_swish, the derivative above; the half types
# compute the value in float32 (_hard_swish) and take the reference's derivative.
HARD_SWISH = _with_slope(
    _hard_swish,
    _hard_swish_dash,
    _hard_swish_second,
    _NATIVE_DTYPES,
    (_value_only("hard_swish", _hard_swish), REFERENCE["hard_swish_dash"]),
    _hard_swish_chain,
)

KERNELS: dict[str, Callable[..., Array]] = {
    **KERNELS_BY_REFERENCE,
    "relu": relu,
    "relu_dash": relu_dash,
    "elu": ELU[0],
    "elu_dash": ELU[1],
    "selu": SELU[0],
    "selu_dash": SELU[1],
    "celu": CELU[0],
    "celu_dash": CELU[1],
    "gelu": gelu,
    "gelu_dash": gelu_dash,
    "softplus": SOFTPLUS[0],
    "softplus_dash": SOFTPLUS[1],
    "silu": SILU[0],
    "silu_dash": SILU[1],
    "mish": MISH[0],
    "mish_dash": MISH[1],
    "hard_swish": HARD_SWISH[0],
    "hard_swish_dash": HARD_SWISH[1],
    "hard_sigmoid": hard_sigmoid,
    "hard_sigmoid_dash": hard_sigmoid_dash,
}

"""torch kernels, and the autograd Function that gives every transform the explicit derivative.

Values: torch's own kernels where they give the reference's bits -- ``threshold`` (x <= 0 ->
+0.0, NaN kept; ``torch.relu`` gives -0.0 at -0.0) then ``clamp_max_`` for a cap, and
``leaky_relu`` -- on float32/float64 with a number leak; the reference body otherwise.

Derivatives: whenever autograd can see the call (x or an array leak requires grad, a
``torch.func`` transform wraps x, or a forward-mode dual level is open), the value goes through
``Explicit``, an autograd Function whose ``backward`` and ``jvp`` are the reference's chain rule
(``_reference.CHAIN``). It has ``setup_context`` and ``generate_vmap_rule``, so backward, double
backward, forward mode and every ``torch.func`` transform (grad, vjp, jvp, jacrev, jacfwd, hessian,
vmap) give the explicit derivative's values, with no host read of the data. For relu on
float32/float64 the chain rule is torch's fused backward kernel where one tests the contract's
sides: ``threshold_backward`` tests ``x <= 0`` (NaN included); ``leaky_relu_backward`` and
``hardtanh_backward`` put NaN on the wrong side, so they get x with NaN moved to a point of the
identity side (``nan_to_num``, one pass). tests/test_autodiff.py checks all of them, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any, NamedTuple

import torch
import torch.autograd.forward_ad as forward_ad

from .._checks import Array
from .._reference import CHAIN, REFERENCE
from .._reference import relu as reference

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


def tracked(x: torch.Tensor, leak: Any = None) -> bool:
    """Whether autograd can see this call: then it must go through Explicit."""
    if torch.is_grad_enabled() and (x.requires_grad or (isinstance(leak, torch.Tensor) and leak.requires_grad)):
        return True
    # torch.func wraps its inputs; forward mode records while a dual level is open.
    return torch._C._functorch.is_functorch_wrapped_tensor(x) or forward_ad._current_level >= 0


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
        return Explicit.apply(x, None, rule)

    return kernel


def _times_dash(name: str) -> Callable[..., Array]:
    dash = REFERENCE[f"{name}_dash"]
    return lambda x, t, *params: t * dash(x, *params)


# ---------------------------------------------------------------- the ReLU family


def relu(x: torch.Tensor, leak: Any, max_value: Any, threshold: Any, xp: ModuleType) -> Array:
    native = _native(x, leak, max_value, threshold)
    array_leak = isinstance(leak, torch.Tensor)
    if not (x.is_floating_point() and tracked(x, leak)):
        return native(x) if native else reference.relu(x, leak, max_value, threshold, xp)
    if native:
        rule = Rule(lambda v, _: native(v), _native_chain(leak, max_value), None)
    else:
        rule = Rule(
            lambda v, lk: reference.relu(v, lk if array_leak else leak, max_value, threshold, xp),
            lambda v, t, lk: reference.relu_chain(v, t, lk if array_leak else leak, max_value, threshold, xp),
            lambda v, t, lk: reference.relu_leak_chain(v, t, lk, max_value, threshold, xp),
        )
    return Explicit.apply(x, leak if array_leak else None, rule)


def _native(x: torch.Tensor, leak: Any, max_value: Any, threshold: Any) -> Callable[[Array], Array] | None:
    """torch's own kernel for this call, where it gives the reference's bits; else None."""
    if type(leak) not in (float, int) or x.dtype not in _NATIVE_DTYPES or threshold != 0:
        return None
    if leak == 0:  # x <= 0 -> +0.0, NaN is not <= 0 and stays (clamp and relu give -0.0 at -0.0)
        if max_value is None:
            return lambda v: torch.threshold(v, 0.0, 0.0)
        cap = float(max_value)
        return lambda v: torch.threshold(v, 0.0, 0.0).clamp_max_(cap)  # NaN stays
    if max_value is None:
        slope = float(leak)
        return lambda v: torch._C._nn.leaky_relu(v, slope)
    return None  # leak * x may pass the cap on the leak side: the reference


def _native_chain(leak: float, max_value: float | None) -> Callable[[Array, Array, Any], Array]:
    """torch's fused backward kernel for relu's chain rule (see the module's docstring)."""
    if max_value is not None:
        inside = min(1.0, max_value / 2)  # a point strictly between 0 and the cap
        return lambda x, t, _: torch.ops.aten.hardtanh_backward(t, _nan_to(x, inside), 0.0, float(max_value))
    if leak == 0:
        return lambda x, t, _: torch.ops.aten.threshold_backward(t, x, 0.0)
    return lambda x, t, _: torch.ops.aten.leaky_relu_backward(t, _nan_to(x, 1.0), float(leak), False)


def _nan_to(x: torch.Tensor, inside: float) -> torch.Tensor:
    return torch.nan_to_num(x, nan=inside, posinf=float("inf"), neginf=float("-inf"))


def relu_dash(x: torch.Tensor, leak: Any, max_value: Any, threshold: Any, xp: ModuleType) -> Array:
    return reference.relu_dash(x, leak, max_value, threshold, xp)


KERNELS: dict[str, Callable[..., Array]] = {
    **{name: with_derivative(name, body) for name, body in REFERENCE.items() if not name.endswith("_dash")},
    "relu": relu,
    "relu_dash": relu_dash,
}

"""torch's native ReLU kernels as one autograd Function that keeps anyrelu's contract.

torch's fused backward kernels: ``threshold_backward`` tests ``x <= 0``, exactly the contract's
leak side, NaN included. ``leaky_relu_backward`` tests ``x > 0`` and ``hardtanh_backward``'s
vectorized loop also sends NaN to 0, both putting NaN on the leak side; the contract puts it on
the identity side (derivative 1), so those get x with NaN replaced by a point of that side
wherever x may hold NaN (on the CPU, a sum of x says whether it does).
tests/test_autodiff.py checks the results against relu_dash, bit for bit.
"""

from __future__ import annotations

from typing import Any

import torch


class NativeRelu(torch.autograd.Function):
    """relu(x, leak) for a number leak, or relu(x, 0, max_value=cap), on float32/float64."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: torch.Tensor, leak: float, max_value: float | None) -> torch.Tensor:
        if leak == 0:  # x <= 0 -> +0.0, NaN is not <= 0 and stays (clamp and relu give -0.0 at -0.0)
            y = torch.threshold(x, 0.0, 0.0)
            return y if max_value is None else y.clamp_max_(max_value)  # NaN stays
        return torch._C._nn.leaky_relu(x, leak)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        x, ctx.leak, ctx.max_value = inputs
        ctx.save_for_backward(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        (x,) = ctx.saved_tensors
        if ctx.max_value is None and ctx.leak == 0:  # x <= 0 ? 0 : grad -- NaN compares false
            return torch.ops.aten.threshold_backward(grad, x, 0.0), None, None
        # The others put NaN on the leak side (and hardtanh_backward's vectorized loop too):
        # where x may hold NaN, move NaN to a point of the identity side, strictly between 0 and
        # the cap, first. On the CPU one read finds out: a sum is NaN if any entry is.
        copied = x.device.type != "cpu" or bool(torch.isnan(x.sum()))
        if copied:
            inside = 1.0 if ctx.max_value is None else min(1.0, ctx.max_value / 2)
            x = torch.nan_to_num(x, nan=inside, posinf=float("inf"), neginf=float("-inf"))
        if ctx.max_value is not None:
            kernel, args = torch.ops.aten.hardtanh_backward, (grad, x, 0.0, ctx.max_value)
        else:
            kernel, args = torch.ops.aten.leaky_relu_backward, (grad, x, ctx.leak, False)
        if copied and not torch.is_grad_enabled():  # into the copy; out= is not differentiable
            return kernel.grad_input(*args, grad_input=x), None, None
        return kernel(*args), None, None

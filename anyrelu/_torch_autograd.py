"""torch's native ReLU kernels as one autograd Function that keeps anyrelu's contract.

torch's own backward kernels give ``grad * leak`` for ``not x > 0`` and ``grad`` otherwise; the
contract puts NaN on the identity side (derivative 1), so the backward hands them x with NaN
replaced by a point of the identity side. Every other x gets the reference's derivative bits;
tests/test_autodiff.py and tests/test_fast_paths.py check both directions.
"""

from __future__ import annotations

from typing import Any

import torch


class NativeRelu(torch.autograd.Function):
    """relu(x, leak) for a number leak, or relu(x, 0, max_value=cap), on float32/float64."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: torch.Tensor, leak: float, max_value: float | None) -> torch.Tensor:
        if max_value is not None:  # leak == 0 here; clamp gives -0.0 at -0.0, + 0.0 makes it +0.0
            return torch.clamp(x, 0.0, max_value).add_(0.0)
        if leak == 0:
            return torch.threshold(x, 0.0, 0.0)  # x <= 0 -> +0.0; NaN is not <= 0 and stays
        return torch._C._nn.leaky_relu(x, leak)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        x, ctx.leak, ctx.max_value = inputs
        ctx.save_for_backward(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        (x,) = ctx.saved_tensors
        if ctx.max_value is None:
            x = torch.nan_to_num(x, nan=1.0, posinf=float("inf"), neginf=float("-inf"))
            return torch.ops.aten.leaky_relu_backward(grad, x, ctx.leak, False), None, None
        inside = min(1.0, ctx.max_value / 2)  # a point strictly between 0 and the cap
        x = torch.nan_to_num(x, nan=inside, posinf=float("inf"), neginf=float("-inf"))
        return torch.ops.aten.hardtanh_backward(grad, x, 0.0, ctx.max_value), None, None

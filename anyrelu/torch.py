"""``torch.nn`` modules for the family: one per public function, for ``nn.Sequential`` and any
model that takes modules (importable where torch is installed).

Each module's ``forward`` is the function of the same name, so its values and gradients are the
function's (and autograd gives ``*_dash``). :class:`PReLU` learns its leak as ``torch.nn.PReLU``
does: one slope, or one per channel along dim 1.

>>> import torch
>>> from anyrelu.torch import GELU, PReLU
>>> model = torch.nn.Sequential(torch.nn.Linear(4, 8), GELU(), torch.nn.Linear(8, 2), PReLU())
>>> model(torch.zeros(3, 4)).shape
torch.Size([3, 2])
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

import anyrelu

__all__ = [
    "CELU",
    "ELU",
    "GELU",
    "SELU",
    "HardSigmoid",
    "HardSwish",
    "LeakyReLU",
    "Mish",
    "PReLU",
    "ReLU",
    "ReLU6",
    "SiLU",
    "Softplus",
    "Squareplus",
]  # fmt: skip


class _Activation(nn.Module):
    """A module whose forward is ``function(x, **parameters)``."""

    function: Any = None

    def __init__(self, **parameters: Any) -> None:
        super().__init__()
        self.options = parameters

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return type(self).function(x, **self.options)  # type: ignore[no-any-return]

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.options.items())


class ReLU(_Activation):
    """:func:`anyrelu.relu`: x for x > 0, +0.0 otherwise (NaN kept)."""

    function = staticmethod(anyrelu.relu)


class LeakyReLU(_Activation):
    """:func:`anyrelu.leaky_relu` with slope ``negative_slope`` for x <= 0 (torch's name)."""

    function = staticmethod(anyrelu.relu)

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__(leak=negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.options['leak']!r}"


class ReLU6(_Activation):
    """:func:`anyrelu.relu6`."""

    function = staticmethod(anyrelu.relu6)


class ELU(_Activation):
    """:func:`anyrelu.elu`."""

    function = staticmethod(anyrelu.elu)

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__(alpha=alpha)


class SELU(_Activation):
    """:func:`anyrelu.selu`."""

    function = staticmethod(anyrelu.selu)


class CELU(_Activation):
    """:func:`anyrelu.celu`."""

    function = staticmethod(anyrelu.celu)

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__(alpha=alpha)


class GELU(_Activation):
    """:func:`anyrelu.gelu`; ``approximate`` is True/False, or torch's ``'none'``/``'tanh'``."""

    function = staticmethod(anyrelu.gelu)

    def __init__(self, approximate: bool | str = False) -> None:
        if approximate in ("none", "tanh"):
            approximate = approximate == "tanh"
        elif not isinstance(approximate, bool):
            raise ValueError(f"GELU() needs approximate to be True, False, 'none' or 'tanh', got {approximate!r}.")
        super().__init__(approximate=approximate)


class SiLU(_Activation):
    """:func:`anyrelu.silu`."""

    function = staticmethod(anyrelu.silu)


class Softplus(_Activation):
    """:func:`anyrelu.softplus` (beta only: it switches to x where log1p(exp(-x)) is below half an ulp)."""

    function = staticmethod(anyrelu.softplus)

    def __init__(self, beta: float = 1.0) -> None:
        super().__init__(beta=beta)


class Mish(_Activation):
    """:func:`anyrelu.mish`."""

    function = staticmethod(anyrelu.mish)


class HardSigmoid(_Activation):
    """:func:`anyrelu.hard_sigmoid`."""

    function = staticmethod(anyrelu.hard_sigmoid)


class HardSwish(_Activation):
    """:func:`anyrelu.hard_swish`."""

    function = staticmethod(anyrelu.hard_swish)


class Squareplus(_Activation):
    """:func:`anyrelu.squareplus`."""

    function = staticmethod(anyrelu.squareplus)

    def __init__(self, b: float = 4.0) -> None:
        super().__init__(b=b)


class PReLU(nn.Module):
    """:func:`anyrelu.relu` with a learnable leak: one slope (``num_parameters=1``) or one per
    channel along dim 1, starting at ``init``, as ``torch.nn.PReLU``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None) -> None:
        if not isinstance(num_parameters, int) or num_parameters < 1:
            raise ValueError(f"PReLU() needs num_parameters to be a positive int, got {num_parameters!r}.")
        super().__init__()
        self.num_parameters = num_parameters
        self.weight = nn.Parameter(torch.full((num_parameters,), float(init), device=device, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        leak: torch.Tensor = self.weight
        if self.num_parameters > 1:
            if x.ndim < 2 or x.shape[1] != self.num_parameters:
                raise ValueError(
                    f"PReLU() has {self.num_parameters} slopes for dim 1, got x of shape {tuple(x.shape)}."
                )
            leak = leak.reshape((self.num_parameters,) + (1,) * (x.ndim - 2))
        return anyrelu.relu(x, leak=leak.to(x.dtype))  # type: ignore[no-any-return]

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"

"""anyrelu: the rectifier family -- ReLU, Leaky ReLU, PReLU, ReLU6, ELU, SELU, CELU, GELU, SiLU,
softplus, Mish, hard sigmoid, hard swish and squareplus -- each with its explicit derivative
(``*_dash``), written once against the Python array API standard.

The same call runs on NumPy, CuPy, JAX (eager, jit, vmap, grad), PyTorch (with autograd), Dask and
array-api-strict. The contracts are stated in ``anyrelu._relu`` (bit for bit the same everywhere)
and ``anyrelu._rectifiers`` (within an accuracy bound everywhere), and in docs/conventions.md.
"""

from ._get import get
from ._rectifiers import (
    celu,
    celu_dash,
    elu,
    elu_dash,
    gelu,
    gelu_dash,
    hard_sigmoid,
    hard_sigmoid_dash,
    hard_swish,
    hard_swish_dash,
    mish,
    mish_dash,
    selu,
    selu_dash,
    silu,
    silu_dash,
    softplus,
    softplus_dash,
    squareplus,
    squareplus_dash,
)
from ._relu import leaky_relu, leaky_relu_dash, relu, relu6, relu6_dash, relu_dash

__version__ = "0.2.0"

__all__ = [
    "__version__",
    "celu",
    "celu_dash",
    "elu",
    "elu_dash",
    "gelu",
    "gelu_dash",
    "get",
    "hard_sigmoid",
    "hard_sigmoid_dash",
    "hard_swish",
    "hard_swish_dash",
    "leaky_relu",
    "leaky_relu_dash",
    "mish",
    "mish_dash",
    "relu",
    "relu6",
    "relu6_dash",
    "relu_dash",
    "selu",
    "selu_dash",
    "silu",
    "silu_dash",
    "softplus",
    "softplus_dash",
    "squareplus",
    "squareplus_dash",
]

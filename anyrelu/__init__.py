"""anyrelu: ReLU, Leaky ReLU, PReLU and ReLU6 with their derivatives, for every array library.

One definition, written against the Python array API standard, runs on NumPy, CuPy, JAX
(eager, jit, vmap, grad), PyTorch (with autograd), Dask and array-api-strict, and gives the same
bits on all of them. The contract is stated in ``anyrelu._relu`` and docs/conventions.md.
"""

from ._relu import leaky_relu, leaky_relu_dash, relu, relu6, relu6_dash, relu_dash

__version__ = "0.1.0"

__all__ = ["__version__", "leaky_relu", "leaky_relu_dash", "relu", "relu6", "relu6_dash", "relu_dash"]

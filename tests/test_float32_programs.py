"""JAX: a jitted float32, float16 or bfloat16 call of these functions, and of their gradient, holds
no float64 operation (XLA's float64 runs at a fraction of float32's speed on CPUs and GPUs, and not
at all on TPUs)."""

from __future__ import annotations

import pytest

jax = pytest.importorskip("jax", reason="jax is not installed")
import jax.numpy as jnp  # noqa: E402

import anyrelu  # noqa: E402

IN_FLOAT32 = [
    "relu", "relu_dash", "leaky_relu", "leaky_relu_dash", "relu6", "relu6_dash",
    "elu", "elu_dash", "selu", "selu_dash", "celu", "celu_dash", "softplus", "softplus_dash",
    "hard_sigmoid", "hard_sigmoid_dash", "hard_swish", "hard_swish_dash", "silu", "silu_dash", "mish", "mish_dash",
    "gelu", "gelu_dash", "squareplus", "squareplus_dash",
]  # fmt: skip
PARAMETERS = {
    "elu": {"alpha": 0.5},
    "celu": {"alpha": 3.0},
    "softplus": {"beta": 1e-30},
    "softplus_dash": {"beta": 0.25},
    "squareplus": {"b": 1e-30},
    "squareplus_dash": {"b": 0.5},
    "gelu": {"approximate": True},
    "gelu_dash": {"approximate": True},
}


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])  # float16 takes the path bfloat16 takes
@pytest.mark.parametrize("name", IN_FLOAT32)
def test_the_program_and_its_gradient_hold_no_float64(name, dtype):
    x = jnp.linspace(-5, 5, 11, dtype=dtype)
    function = getattr(anyrelu, name)
    for kwargs in ({}, PARAMETERS.get(name, {})):

        def f(v, kwargs=kwargs):
            return function(v, **kwargs)

        def loss(v, f=f):
            return f(v).astype(jnp.float32).sum()

        for program in (jax.jit(f), jax.jit(jax.grad(loss))):
            text = program.lower(x).as_text()
            assert "f64" not in text, f"{name}({kwargs}) in {dtype}: {text.count('f64')} float64 mentions"
            assert "f32" in text or dtype != "float32"  # the check looks at the right text

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


SHARED = [
    ("silu", {}), ("gelu", {"approximate": True}), ("gelu", {}), ("mish", {}), ("softplus", {}),
    ("softplus", {"beta": 0.25}), ("squareplus", {}), ("hard_swish", {}), ("hard_sigmoid", {}),
    ("elu", {}), ("selu", {}), ("celu", {"alpha": 3.0}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "kwargs"), SHARED, ids=[f"{n}{k or ''}" for n, k in SHARED])
def test_every_program_gives_the_value_and_the_derivative_the_same_bits(name, kwargs):
    """The value and the derivative do not depend on the program around them: jit of the value
    alone, of the derivative alone, of both, and jvp and grad, where XLA splits the work into other
    loops (an exp written out and read back) and LLVM may contract a*b + c into an FMA in one loop
    and not in another. A float32 pair whose low part was computed in one loop for a high part
    rounded otherwise in another would be off by far more than its rounding. Every bit but a NaN's."""
    import numpy as np

    rng = np.random.default_rng(7)
    points = np.concatenate([rng.uniform(-12, 12, 100_000), -np.exp(rng.uniform(-20, 5, 20_000)),
                             np.exp(rng.uniform(-20, 5, 20_000)), [0.0, -0.0, np.inf, -np.inf, np.nan]])  # fmt: skip
    x = jnp.asarray(points, jnp.float32)
    f = getattr(anyrelu, name)
    dash = getattr(anyrelu, f"{name}_dash")

    def value(v):
        return f(v, **kwargs)

    def slope(v):
        return dash(v, **kwargs)

    y, d = jax.jit(value)(x), jax.jit(slope)(x)
    together = jax.jit(lambda v: (value(v), slope(v)))(x)
    tangent = jax.jit(lambda v: jax.jvp(value, (v,), (jnp.ones_like(v),)))(x)
    grad = jax.jit(jax.vmap(jax.grad(value)))(x)
    for got, expected in ((together[0], y), (tangent[0], y), (together[1], d), (tangent[1], d), (grad, d)):
        got, expected = np.asarray(got), np.asarray(expected)
        # NaN where the other is NaN; its sign and payload are the hardware's choice (IEEE 754 leaves
        # them open): an AVX-512 loop gave x86's default NaN (sign set) where another passed the
        # input's NaN on
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
        np.testing.assert_array_equal(np.where(np.isnan(got), 0, got.view(np.int32)),
                                      np.where(np.isnan(expected), 0, expected.view(np.int32)))  # fmt: skip

"""Autodiff of relu equals relu_dash, bit for bit, at every x: kinks, ±inf, NaN, the cap."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_same_bits, special_values

from anyrelu import leaky_relu, relu, relu6, relu_dash

LEAKS = [0.0, 0.1, 1.0, 2.5, -0.3]
CAPS = [None, 6.0]


class TestJax:
    @pytest.fixture(autouse=True)
    def _jax(self):
        jax = pytest.importorskip("jax", reason="jax is not installed")
        jax.config.update("jax_enable_x64", True)

    @pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
    @pytest.mark.parametrize("leak", LEAKS)
    @pytest.mark.parametrize("max_value", CAPS)
    def test_grad_equals_relu_dash_bit_for_bit(self, dtype, leak, max_value):
        import jax
        import jax.numpy as jnp

        x = jnp.asarray(special_values(dtype).astype(np.float64)).astype(dtype)

        def f(v):
            return relu(v, leak, max_value=max_value)

        expected = relu_dash(x, leak, max_value=max_value)
        assert_same_bits(jax.vmap(jax.grad(f))(x), expected, jnp)
        assert_same_bits(jax.jit(jax.vmap(jax.grad(f)))(x), expected, jnp)
        assert_same_bits(jax.vmap(jax.jit(jax.grad(f)))(x), expected, jnp)
        for i in (0, 1, 2):  # scalar grads too: 0, -0.0 and NaN
            assert_same_bits(jax.grad(f)(x[i]), expected[i], jnp)

    def test_second_derivative_is_zero(self):
        import jax
        import jax.numpy as jnp

        x = jnp.asarray([-2.0, -0.0, 0.0, 3.0, 6.0, 7.0])
        hessian = jax.hessian(lambda v: relu(v, 0.1, max_value=6).sum())(x)
        assert_same_bits(hessian, jnp.zeros((6, 6)), jnp)

    def test_grad_with_respect_to_an_array_leak_is_x_on_the_leak_side(self):
        import jax
        import jax.numpy as jnp

        x = jnp.asarray([[-2.0, 3.0, -0.5], [-1.0, np.nan, -np.inf]])
        leak = jnp.asarray([0.25, 0.0, 0.0])
        grad = jax.grad(lambda a: relu(x, a).sum())(leak)
        # column 2 holds -inf with a zero slope: the product is held at +0.0 there, so 0
        assert_same_bits(grad, jnp.asarray([-3.0, 0.0, -0.5]), jnp)
        scalar = jax.grad(lambda a: relu(x, a).sum())(0.1)
        assert float(scalar) == -np.inf

    def test_grad_with_respect_to_x_for_an_array_leak(self):
        import jax
        import jax.numpy as jnp

        x = jnp.asarray([-2.0, 3.0, -0.0, 0.0, np.nan])
        leak = jnp.asarray([0.25, 0.5, 0.0, -1.0, 0.3])
        grad = jax.grad(lambda v: relu(v, leak).sum())(x)
        assert_same_bits(grad, relu_dash(x, leak), jnp)


class TestTorch:
    @pytest.fixture(autouse=True)
    def _torch(self):
        pytest.importorskip("torch", reason="torch is not installed")

    @pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
    @pytest.mark.parametrize("leak", LEAKS)
    @pytest.mark.parametrize("max_value", CAPS)
    def test_autograd_equals_relu_dash_bit_for_bit(self, dtype, leak, max_value):
        import array_api_compat.torch as xp
        import torch

        x = torch.tensor(special_values(dtype).astype(np.float64)).to(getattr(torch, dtype))
        x.requires_grad_(True)
        y = relu(x, leak, max_value=max_value)
        assert y.requires_grad
        (grad,) = torch.autograd.grad(y, x, torch.ones_like(y))
        assert_same_bits(grad, relu_dash(x.detach(), leak, max_value=max_value), xp)
        with torch.no_grad():  # the native path gives the values autograd's path gives
            assert_same_bits(relu(x, leak, max_value=max_value), y.detach(), xp)

    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    @pytest.mark.parametrize("leak", LEAKS)
    @pytest.mark.parametrize("max_value", CAPS)
    def test_autograd_at_every_position_of_vector_loops(self, dtype, leak, max_value):
        """torch's vectorized body and scalar tail may treat NaN and ±0 differently: put each
        kink at every position of arrays of many lengths."""
        import array_api_compat.torch as xp
        import torch

        kinks = [np.nan, 0.0, -0.0, 6.0, -np.inf, np.inf]
        for n in (1, 7, 8, 9, 17, 33, 65):
            for position in range(n):
                values = np.linspace(-3, 9, n)
                values[position] = kinks[position % len(kinks)]
                x = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
                (grad,) = torch.autograd.grad(relu(x, leak, max_value=max_value).sum(), x)
                assert_same_bits(grad, relu_dash(x.detach(), leak, max_value=max_value), xp)

    @pytest.mark.parametrize(("leak", "max_value"), [(0.0, None), (0.1, None), (2.5, None), (0.0, 6.0)])
    def test_second_derivative_is_zero(self, leak, max_value):
        import array_api_compat.torch as xp
        import torch

        x = torch.tensor([-2.0, -0.0, 0.0, 3.0, 6.0, 7.0, np.nan])
        hessian = torch.autograd.functional.hessian(lambda v: relu(v, leak, max_value=max_value).sum(), x)
        assert_same_bits(hessian, torch.zeros(7, 7), xp)
        (grad,) = torch.autograd.grad(relu(x.requires_grad_(), leak, max_value=max_value).sum(), x, create_graph=True)
        assert grad.requires_grad
        assert_same_bits(grad.detach(), relu_dash(x.detach(), leak, max_value=max_value), xp)

    def test_parameter_leak_trains(self):
        import array_api_compat.torch as xp
        import torch

        x = torch.tensor([[-2.0, 3.0, -0.5], [-1.0, 4.0, -0.0]])
        leak = torch.nn.Parameter(torch.tensor([0.25, 0.0, 0.0]))
        relu(x, leak).sum().backward()
        assert_same_bits(leak.grad, torch.tensor([-3.0, 0.0, -0.5]), xp)

    def test_wrappers_keep_requires_grad(self):
        import torch

        x = torch.tensor([-1.0, 2.0, 7.0], requires_grad=True)
        assert leaky_relu(x).requires_grad
        assert relu6(x).requires_grad
        relu6(x).sum().backward()
        assert x.grad.tolist() == [0.0, 1.0, 0.0]

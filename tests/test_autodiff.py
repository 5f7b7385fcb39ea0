"""Autodiff of relu equals relu_dash, bit for bit, at every x: kinks, ±inf, NaN, the cap."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import TORCH_JIT_DEPRECATED, assert_same_bits, special_values

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


class TestJaxBeyondGrad:
    @pytest.fixture(autouse=True)
    def _jax(self):
        jax = pytest.importorskip("jax", reason="jax is not installed")
        jax.config.update("jax_enable_x64", True)

    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_closed_over_array_leak_grad_is_relu_dash_with_plus_zero(self, dtype):
        import jax
        import jax.numpy as jnp

        x = jnp.asarray([-2.0, -0.0, 0.0, 1.0, np.nan, -np.inf], dtype=dtype)
        for values in ([0.0] * 6, [-0.0] * 6, [0.0, -0.0, 0.5, 0.5, 0.0, -0.0]):
            leak = jnp.asarray(values, dtype=dtype)
            expected = relu_dash(x, leak)
            assert not bool(jnp.signbit(expected[:3]).any())
            for transform in (jax.jit, lambda f: f):
                assert_same_bits(transform(jax.grad(lambda v: relu(v, leak).sum()))(x), expected, jnp)
                per_element = jax.vmap(jax.grad(lambda v, a: relu(v, a)))
                assert_same_bits(transform(per_element)(x, leak), expected, jnp)

    def test_subnormal_leak_where_xla_flushes_is_the_zero_slope_in_grad_too(self):
        import jax
        import jax.numpy as jnp

        x = jnp.asarray([-np.inf, -1.0, 2.0], dtype=jnp.float32)
        if bool(jnp.asarray(1e-40, jnp.float32) > 0):
            pytest.skip("this device keeps float32 subnormals")
        zero_slope = jnp.asarray([0.0, 0.0, 1.0], dtype=jnp.float32)
        assert_same_bits(relu(x, 1e-40), jnp.asarray([0.0, 0.0, 2.0], dtype=jnp.float32), jnp)
        assert_same_bits(relu_dash(x, 1e-40), zero_slope, jnp)
        assert_same_bits(jax.vmap(jax.grad(lambda v: relu(v, 1e-40)))(x), zero_slope, jnp)

    def test_jvp_and_jacobians_give_relu_dash(self):
        import jax
        import jax.numpy as jnp

        x = jnp.asarray(special_values("float64"))
        for leak, cap in ((0.0, None), (0.1, None), (0.0, 6.0), (-0.3, 6.0)):

            def f(v, leak=leak, cap=cap):
                return relu(v, leak, max_value=cap)

            expected = relu_dash(x, leak, max_value=cap)
            assert_same_bits(jax.jvp(f, (x,), (jnp.ones_like(x),))[1], expected, jnp)
            for jacobian in (jax.jacfwd, jax.jacrev):
                assert_same_bits(jnp.diagonal(jacobian(f)(x)), expected, jnp)

    def test_an_eager_call_compiles_once_per_function_and_parameters(self):
        import jax.numpy as jnp

        from anyrelu._kernels import jax as jax_kernels

        x = jnp.asarray([-1.0, 2.0])
        relu(x, 0.123)
        before = jax_kernels.compiled.cache_info()
        for _ in range(3):
            relu(x, 0.123)
        after = jax_kernels.compiled.cache_info()
        assert after.misses == before.misses and after.hits == before.hits + 3


class TestTorchTransforms:
    """Every autograd transform torch offers gives relu_dash's values."""

    @pytest.fixture(autouse=True)
    def _torch(self):
        pytest.importorskip("torch", reason="torch is not installed")

    # torch's forward_ad loads its own decompositions through torch.jit.script, which warns.
    @TORCH_JIT_DEPRECATED
    @pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
    @pytest.mark.parametrize(
        ("leak", "max_value"), [(0.0, None), (0.1, None), (2.5, None), (-0.3, None), (0.0, 6.0), (0.1, 6.0)]
    )
    def test_forward_mode_and_torch_func_give_relu_dash(self, dtype, leak, max_value):
        import array_api_compat.torch as xp
        import torch
        import torch.autograd.forward_ad as forward_ad
        from torch.func import grad, hessian, jacfwd, jacrev, jvp, vmap

        x = torch.tensor(special_values(dtype).astype(np.float64)).to(getattr(torch, dtype))

        def f(v):
            return relu(v, leak, max_value=max_value)

        expected = relu_dash(x, leak, max_value=max_value)
        with forward_ad.dual_level():
            dual = forward_ad.make_dual(x, torch.ones_like(x))
            assert_same_bits(forward_ad.unpack_dual(f(dual)).tangent, expected, xp)
        assert_same_bits(jvp(f, (x,), (torch.ones_like(x),))[1], expected, xp)
        assert_same_bits(vmap(grad(f))(x), expected, xp)
        for jacobian in (jacfwd, jacrev):
            matrix = jacobian(f)(x)
            assert_same_bits(torch.diagonal(matrix), expected, xp)
            assert bool((matrix[~torch.eye(x.numel(), dtype=torch.bool)] == 0).all())
        assert_same_bits(vmap(jacrev(f))(x.reshape(1, -1))[0].diagonal(), expected, xp)
        if dtype != "float16":  # hessian's second pass in float16 is torch's to round
            assert_same_bits(hessian(lambda v: f(v).sum())(x), torch.zeros(x.numel(), x.numel(), dtype=x.dtype), xp)

    def test_array_leak_gradients_in_every_mode(self):
        import array_api_compat.torch as xp
        import torch
        from torch.func import grad, jacfwd, vmap

        x = torch.tensor([-2.0, -0.0, 0.0, 3.0, np.nan, -np.inf])
        leak = torch.tensor([0.25, -0.0, 0.0, 0.5, 0.5, 0.0])
        expected = relu_dash(x, leak)
        assert not bool(torch.signbit(expected[1:3]).any())
        assert_same_bits(vmap(grad(lambda v, a: relu(v, a)), in_dims=(0, 0))(x, leak), expected, xp)
        assert_same_bits(torch.diagonal(jacfwd(lambda v: relu(v, leak))(x)), expected, xp)
        # d/dleak: x on the leak side; 0 where a zero slope meets -inf (the value is held at +0.0)
        d_leak = torch.diagonal(jacfwd(lambda a: relu(x, a))(leak))
        assert torch.equal(d_leak, torch.tensor([-2.0, 0.0, 0.0, 0.0, 0.0, 0.0]))  # zeros of either sign
        x_grad = x.clone().requires_grad_(True)
        leak_grad = leak.clone().requires_grad_(True)
        relu(x_grad, leak_grad).sum().backward()
        assert_same_bits(x_grad.grad, expected, xp)
        assert torch.equal(leak_grad.grad, d_leak)

    def test_half_precision_double_backward(self):
        import array_api_compat.torch as xp
        import torch

        for dtype in (torch.float16, torch.bfloat16):
            x = torch.tensor([-2.0, -0.0, 0.5, 7.0, np.nan], dtype=dtype, requires_grad=True)
            (first,) = torch.autograd.grad(relu(x, 0.1, max_value=6).sum(), x, create_graph=True)
            assert_same_bits(first.detach(), relu_dash(x.detach(), 0.1, max_value=6), xp)
            hessian = torch.autograd.functional.hessian(lambda v: relu(v, 0.1, max_value=6).sum(), x.detach())
            assert_same_bits(hessian, torch.zeros(5, 5, dtype=dtype), xp)


@pytest.mark.parametrize(("leak", "threshold", "max_value"), [(0.0, 1.5, None), (0.2, -1.0, 6.0), (2.5, 0.5, None)])
def test_gradients_with_a_threshold_are_relu_dash(leak, threshold, max_value):
    values = np.concatenate([special_values("float64"), [threshold, np.nextafter(threshold, 9.0)]])
    kwargs = {"threshold": threshold, "max_value": max_value}
    tested = 0
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        x = jnp.asarray(values)
        grad = jax.vmap(jax.grad(lambda v: relu(v, leak, **kwargs)))(x)
        assert_same_bits(grad, relu_dash(x, leak, **kwargs), jnp)
        tested += 1
    except ImportError:
        pass
    try:
        import array_api_compat.torch as tx
        import torch

        x = torch.tensor(values, requires_grad=True)
        (grad,) = torch.autograd.grad(relu(x, leak, **kwargs).sum(), x)
        assert_same_bits(grad, relu_dash(x.detach(), leak, **kwargs), tx)
        tested += 1
    except ImportError:
        pass
    if not tested:
        pytest.skip("neither jax nor torch is installed")

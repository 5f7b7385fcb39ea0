"""Results stay on x's device: array-api-strict's non-default devices, torch's meta device."""

from __future__ import annotations

import numpy as np
import pytest

from anyrelu import leaky_relu, relu, relu6, relu6_dash, relu_dash

FUNCTIONS = [relu, relu_dash, leaky_relu, relu6, relu6_dash]


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
def test_array_api_strict_non_default_device_is_kept(function):
    strict = pytest.importorskip("array_api_strict", reason="array-api-strict is not installed")
    device = strict.Device("device1")
    x = strict.asarray([-1.0, 0.0, 2.0, 7.0], device=device)
    y = function(x)
    assert y.device == device
    leak = strict.asarray([0.5], device=device)
    if function in (relu, relu_dash):
        assert function(x, leak, max_value=6).device == device


def test_array_api_strict_leak_on_another_device_is_an_error():
    strict = pytest.importorskip("array_api_strict", reason="array-api-strict is not installed")
    x = strict.asarray([-1.0, 2.0], device=strict.Device("device1"))
    leak = strict.asarray([0.5], device=strict.Device("CPU_DEVICE"))
    with pytest.raises(ValueError, match="device"):
        relu(x, leak)


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_torch_meta_device_gives_shape_and_dtype_without_data(function, dtype):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    x = torch.empty((3, 4), dtype=getattr(torch, dtype), device="meta")
    y = function(x)
    assert y.device.type == "meta"
    assert y.shape == x.shape and y.dtype == x.dtype
    assert function(x.requires_grad_(True)).device.type == "meta"


FAMILY = ["elu", "selu", "celu", "gelu", "silu", "softplus", "mish", "hard_sigmoid", "hard_swish", "squareplus"]


@pytest.mark.parametrize("name", FAMILY)
def test_the_rest_of_the_family_keeps_a_non_default_device(name):
    strict = pytest.importorskip("array_api_strict", reason="array-api-strict is not installed")
    import anyrelu

    device = strict.Device("device1")
    x = strict.asarray([-np.inf, -1.0, 0.0, 2.0], device=device)
    for function in (getattr(anyrelu, name), getattr(anyrelu, f"{name}_dash")):
        assert function(x).device == device


@pytest.mark.parametrize("name", FAMILY)
def test_the_rest_of_the_family_on_torch_meta_gives_shape_and_dtype(name):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    import anyrelu

    for dtype in (torch.float16, torch.float32, torch.float64):
        x = torch.empty((3, 4), dtype=dtype, device="meta")
        for function in (getattr(anyrelu, name), getattr(anyrelu, f"{name}_dash")):
            y = function(x)
            assert y.device.type == "meta" and y.shape == x.shape and y.dtype == x.dtype
        assert getattr(anyrelu, name)(x.requires_grad_(True)).device.type == "meta"

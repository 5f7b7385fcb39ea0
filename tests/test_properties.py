"""Property tests over arrays that hypothesis draws (any shape, dtype and value)."""

from __future__ import annotations

import importlib
import math

import numpy as np
import oracle
import pytest
from helpers import assert_same_bits, expected_relu, expected_relu_dash
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.array_api import make_strategies_namespace

import anyrelu
from anyrelu import relu, relu_dash

NAMESPACES = ["array_api_strict", "array_api_compat.numpy"]
leaks = st.one_of(st.just(0.0), st.floats(-4, 4, allow_nan=False, allow_subnormal=True))
caps = st.one_of(st.none(), st.floats(0.5, 100))


@pytest.fixture(params=NAMESPACES, scope="module")
def xp(request):
    pytest.importorskip(request.param.split(".")[0], reason=f"{request.param} is not installed")
    return importlib.import_module(request.param)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), leak=leaks, max_value=caps)
def test_values_match_the_float64_oracle(xp, data, leak, max_value):
    xps = make_strategies_namespace(xp)
    x = data.draw(xps.arrays(dtype=xps.floating_dtypes(), shape=xps.array_shapes(min_dims=0, max_side=6)))
    host = np.from_dlpack(x)
    assert_same_bits(relu(x, leak, max_value=max_value), xp.asarray(expected_relu(host, leak, max_value)), xp)
    assert_same_bits(relu_dash(x, leak, max_value=max_value), xp.asarray(expected_relu_dash(host, leak, max_value)), xp)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), leak=st.integers(-3, 3), max_value=st.one_of(st.none(), st.integers(1, 50)))
def test_integer_arrays_keep_their_dtype_and_shape(xp, data, leak, max_value):
    xps = make_strategies_namespace(xp)
    x = data.draw(xps.arrays(dtype=xps.integer_dtypes(), shape=xps.array_shapes(min_dims=0, max_side=6)))
    for function in (relu, relu_dash):
        y = function(x, leak, max_value=max_value)
        assert y.dtype == x.dtype
        assert y.shape == x.shape


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.floats(width=32), min_size=1, max_size=20), leak=leaks, max_value=caps)
def test_torch_autograd_equals_relu_dash(values, leak, max_value):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    import array_api_compat.torch as tx

    x = torch.tensor(values, dtype=torch.float32, requires_grad=True)
    (grad,) = torch.autograd.grad(relu(x, leak, max_value=max_value).sum(), x)
    assert_same_bits(grad, relu_dash(x.detach(), leak, max_value=max_value), tx)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), name=st.sampled_from(sorted(oracle.FUNCTIONS)), dash=st.booleans())
def test_rectifiers_are_within_the_bound_on_drawn_arrays(xp, data, name, dash):
    """The rectifier family against the mpmath reference, on arrays hypothesis draws: any float
    dtype, shape and value (subnormals, infinities and NaN included)."""
    xps = make_strategies_namespace(xp)
    x = data.draw(xps.arrays(dtype=xps.floating_dtypes(), shape=xps.array_shapes(min_dims=0, max_dims=2, max_side=4)))
    y = getattr(anyrelu, f"{name}_dash" if dash else name)(x)
    assert y.dtype == x.dtype and y.shape == x.shape
    host, got = np.from_dlpack(x), np.from_dlpack(y)
    parameter = {"elu": 1.0, "celu": 1.0, "gelu": False, "softplus": 1.0, "squareplus": 4.0}.get(name)
    for v, g in zip(host.ravel().tolist(), got.ravel().tolist(), strict=True):
        if math.isnan(v):
            assert math.isnan(g) or (name in ("elu", "celu", "selu", "hard_sigmoid") and dash)
            continue
        if math.isinf(v):
            continue  # the infinities' limits: tests/test_rectifiers.py, row by row
        exact = oracle.exact(name, v, parameter, dash)
        allowed = oracle.bound(host.dtype, dash) * max(1.0, oracle.condition(name, v, parameter, dash))
        assert oracle.ulps(g, exact, host.dtype) <= allowed, (name, dash, v, g)

"""The contract, row by row, on every backend of the matrix (see conftest.py).

Expected values come from the oracle in helpers.py (plain Python floats), never from the
library itself.
"""

from __future__ import annotations

from typing import Any

import array_api_compat.numpy as npx
import numpy as np
import pytest
from array_api_extra.testing import lazy_xp_function
from helpers import (
    FLOAT_DTYPES,
    assert_same_bits,
    expected_relu,
    expected_relu_dash,
    flush_subnormals,
    is_subnormal,
    special_values,
)

from anyrelu import leaky_relu, leaky_relu_dash, relu, relu6, relu6_dash, relu_dash

for _function in (relu, relu_dash, leaky_relu, leaky_relu_dash, relu6, relu6_dash):
    lazy_xp_function(_function)

LEAKS = [0.0, 0.1, 1.0, 2.5, -0.3]  # zero, inside (0, 1], one, above one, negative
CAPS = [None, 6.0]


def _special_values_for(backend: Any, dtype: str) -> np.ndarray:
    """The special values; without subnormal inputs where the backend treats them as zero
    (TestSubnormals covers those)."""
    values = special_values(dtype)
    if backend.flushes_subnormals(dtype):
        values = values[~is_subnormal(values)]
    return values


def _expected(backend: Any, function: Any, x: np.ndarray, dtype: str, **kwargs: Any) -> Any:
    """The oracle's answer on the backend; FTZ backends flush subnormal results to signed zeros."""
    result = function(x, **kwargs)
    if backend.flushes_subnormals(dtype):
        result = flush_subnormals(result)
    return backend.asarray(result, backend.dtype(dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("leak", LEAKS)
@pytest.mark.parametrize("max_value", CAPS)
class TestSpecialValues:
    def test_relu_follows_the_contract_bit_for_bit(self, backend, dtype, leak, max_value):
        values = _special_values_for(backend, dtype)
        x = backend.asarray(values, backend.dtype(dtype))
        expected = _expected(backend, expected_relu, values, dtype, leak=leak, max_value=max_value)
        assert_same_bits(relu(x, leak, max_value=max_value), expected, backend.xp)

    def test_relu_dash_follows_the_contract_bit_for_bit(self, backend, dtype, leak, max_value):
        values = _special_values_for(backend, dtype)
        x = backend.asarray(values, backend.dtype(dtype))
        expected = _expected(backend, expected_relu_dash, values, dtype, leak=leak, max_value=max_value)
        assert_same_bits(relu_dash(x, leak, max_value=max_value), expected, backend.xp)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("leak", LEAKS)
class TestSubnormals:
    """Where the hardware treats subnormal inputs as zeros (XLA on CPU, by design), a subnormal
    x gets the contract's answer either for x or for the signed zero the hardware sees."""

    def test_subnormal_inputs_follow_the_contract_for_x_or_its_flushed_zero(self, backend, dtype, leak):
        tiny = float(special_values(dtype)[3])  # the smallest subnormal
        values = np.array([tiny, -tiny, 2 * tiny, -2 * tiny], dtype=special_values(dtype).dtype)
        x = backend.asarray(values, backend.dtype(dtype))
        for function, oracle in ((relu, expected_relu), (relu_dash, expected_relu_dash)):
            actual = backend.to_numpy(function(x, leak)).astype(np.float64)
            exact = oracle(values, leak).astype(np.float64)
            if not backend.flushes_subnormals(dtype):
                np.testing.assert_array_equal(actual, exact)
                assert (np.signbit(actual) == np.signbit(exact)).all()
                continue
            flushed = flush_subnormals(oracle(flush_subnormals(values), leak)).astype(np.float64)
            for a, e, f in zip(actual, exact, flushed, strict=True):
                assert (a, np.signbit(a)) in ((e, np.signbit(e)), (f, np.signbit(f))), (a, e, f)


class TestKinks:
    """The rows of the contract that the frameworks disagree on, spelled out."""

    def test_zero_leak_gives_plus_zero_for_every_nonpositive_x(self, backend, xp):
        x = backend.asarray([-0.0, 0.0, -1.0, -np.inf, -1e300])
        y = relu(x)
        assert_same_bits(y, backend.asarray([0.0, 0.0, 0.0, 0.0, 0.0]), xp)

    def test_nonzero_leak_keeps_ieee_products(self, backend, xp):
        x = backend.asarray([-np.inf, -0.0, 0.0, -2.0])
        assert_same_bits(relu(x, 0.1), backend.asarray([-np.inf, -0.0, 0.0, -0.2]), xp)

    def test_nan_is_on_the_identity_side(self, backend, xp):
        x = backend.asarray([np.nan])
        assert_same_bits(relu(x, 0.1, max_value=6), x, xp)
        assert_same_bits(relu_dash(x, 0.1, max_value=6), backend.asarray([1.0]), xp)

    def test_derivative_is_the_leak_at_zero_minus_zero_and_minus_inf(self, backend, xp):
        x = backend.asarray([0.0, -0.0, -np.inf])
        assert_same_bits(relu_dash(x, 0.25), backend.asarray([0.25, 0.25, 0.25]), xp)
        assert_same_bits(relu_dash(x), backend.asarray([0.0, 0.0, 0.0]), xp)

    def test_minus_zero_leak_is_the_zero_slope(self, backend, xp):
        x = backend.asarray([-np.inf, -1.0, -0.0, 2.0])
        assert_same_bits(relu(x, -0.0), backend.asarray([0.0, 0.0, 0.0, 2.0]), xp)
        assert_same_bits(relu_dash(x, -0.0), backend.asarray([0.0, 0.0, 0.0, 1.0]), xp)

    def test_derivative_is_zero_at_and_above_the_cap(self, backend, xp):
        x = backend.asarray([6.0, 7.0, np.inf])
        assert_same_bits(relu_dash(x, max_value=6), backend.asarray([0.0, 0.0, 0.0]), xp)
        assert_same_bits(relu(x, max_value=6), backend.asarray([6.0, 6.0, 6.0]), xp)

    @pytest.mark.parametrize("leak", [0.0, 0.1, 1.0, 2.5, -0.3, 7.0])
    def test_any_real_leak_follows_the_leak_side_rule(self, backend, xp, leak):
        values = np.linspace(-5, 5, 21)
        x = backend.asarray(values)
        assert_same_bits(relu(x, leak), backend.asarray(expected_relu(values, leak)), xp)
        assert_same_bits(relu_dash(x, leak), backend.asarray(expected_relu_dash(values, leak)), xp)

    def test_negative_leak_side_is_not_capped(self, backend, xp):
        # x <= 0 is the leak side whatever the cap: -1 * -10 = 10 stays 10.
        x = backend.asarray([-10.0, 10.0])
        assert_same_bits(relu(x, -1.0, max_value=6), backend.asarray([10.0, 6.0]), xp)


class TestSeed:
    """The lesson's examples give the lesson's answers (without its -0.0)."""

    def test_seed_relu_examples(self, backend, xp):
        x = backend.asarray([[0.11], [-2.2], [0], [50.2], [33.5], [-0.6]])
        assert_same_bits(relu(x), backend.asarray([[0.11], [0.0], [0.0], [50.2], [33.5], [0.0]]), xp)
        assert_same_bits(relu_dash(x), backend.asarray([[1.0], [0.0], [0.0], [1.0], [1.0], [0.0]]), xp)

    def test_seed_leaky_examples(self, backend, xp):
        x = backend.asarray([[-0.5], [0], [1], [2], [3], [4.5]])
        y = backend.asarray([[-0.05], [0.0], [1.0], [2.0], [3.0], [4.5]])
        assert_same_bits(relu(x, leak=0.1), y, xp)
        d = backend.asarray([[0.1], [0.1], [1.0], [1.0], [1.0], [1.0]])
        assert_same_bits(relu_dash(x, leak=0.1), d, xp)


class TestDtypes:
    @pytest.mark.parametrize("dtype", FLOAT_DTYPES)
    @pytest.mark.parametrize("leak", [0.1, np.float64(0.1), 3])
    def test_result_dtype_is_x_dtype_for_python_and_numpy_scalar_leaks(self, backend, dtype, leak):
        x = backend.asarray(np.linspace(-3, 3, 7), backend.dtype(dtype))
        for function in (relu, relu_dash):
            assert function(x, leak).dtype == x.dtype
            assert function(x, leak, max_value=2).dtype == x.dtype
        for function in (leaky_relu, leaky_relu_dash, relu6, relu6_dash):
            assert function(x).dtype == x.dtype

    @pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8"])
    @pytest.mark.parametrize("leak", [0, 1, 2, 3.0])
    @pytest.mark.parametrize("max_value", [None, 6])
    def test_integer_x_with_integer_leak_stays_integer(self, backend, xp, dtype, leak, max_value):
        values = np.array([0, 1, 5, 6, 7, 100], dtype=dtype)
        if dtype != "uint8":
            values = np.concatenate([values, -values[1:]])
        x = backend.asarray(values)
        assert_same_bits(
            relu(x, leak, max_value=max_value),
            backend.asarray(expected_relu(values, leak, max_value)),
            xp,
        )
        assert_same_bits(
            relu_dash(x, leak, max_value=max_value),
            backend.asarray(expected_relu_dash(values, leak, max_value)),
            xp,
        )

    def test_zero_leak_default_is_a_float_that_integer_x_accepts(self, backend, xp):
        x = backend.asarray(np.array([-2, 3], dtype=np.int32))
        assert_same_bits(relu(x), backend.asarray(np.array([0, 3], dtype=np.int32)), xp)
        assert_same_bits(relu6_dash(x), backend.asarray(np.array([0, 1], dtype=np.int32)), xp)


class TestShapes:
    @pytest.mark.parametrize("shape", [(), (0,), (3, 0), (1,), (2, 3, 4)])
    def test_result_shape_is_x_shape(self, backend, xp, shape):
        values = np.linspace(-4, 4, int(np.prod(shape))).reshape(shape)
        x = backend.asarray(values)
        for leak in (0.0, 0.1):
            assert_same_bits(relu(x, leak), backend.asarray(expected_relu(values, leak)), xp)
            assert_same_bits(relu_dash(x, leak), backend.asarray(expected_relu_dash(values, leak)), xp)


class TestPReLU:
    def test_per_channel_leak_array(self, backend, xp):
        values = np.array([[-1.0, -2.0, 3.0], [-0.0, 0.0, -np.inf]])
        leaks = np.array([0.1, 0.0, -0.5])
        x, leak = backend.asarray(values), backend.asarray(leaks)
        assert_same_bits(relu(x, leak), backend.asarray(expected_relu(values, leaks)), xp)
        assert_same_bits(relu_dash(x, leak), backend.asarray(expected_relu_dash(values, leaks)), xp)

    def test_zero_entries_of_a_leak_array_give_plus_zero(self, backend, xp):
        x = backend.asarray([-np.inf, -1.0, -0.0, np.nan])
        leak = backend.asarray([0.0, 0.0, 0.0, 0.0])
        assert_same_bits(relu(x, leak), backend.asarray([0.0, 0.0, 0.0, np.nan]), xp)

    def test_leak_array_of_another_dtype_is_cast_to_x_dtype(self, backend, xp):
        x = backend.asarray(np.array([-1.0, 2.0], dtype=np.float32))
        leak = backend.asarray(np.array([0.1], dtype=np.float64))
        y = relu(x, leak, max_value=6)
        assert_same_bits(y, backend.asarray(np.array([-0.1, 2.0], dtype=np.float32)), xp)

    def test_zero_d_leak_array(self, backend, xp):
        x = backend.asarray([-2.0, 2.0])
        assert_same_bits(relu(x, backend.asarray(0.5)), backend.asarray([-1.0, 2.0]), xp)


class TestWrappers:
    def test_leaky_relu_is_relu_with_leak_one_hundredth(self, backend, xp):
        values = special_values("float64")
        x = backend.asarray(values)
        assert_same_bits(leaky_relu(x), relu(x, 0.01), xp)
        assert_same_bits(leaky_relu_dash(x), relu_dash(x, 0.01), xp)
        assert_same_bits(leaky_relu(x, 0.2), relu(x, 0.2), xp)

    def test_relu6_is_relu_capped_at_six(self, backend, xp):
        values = special_values("float64")
        x = backend.asarray(values)
        assert_same_bits(relu6(x), relu(x, max_value=6), xp)
        assert_same_bits(relu6_dash(x), relu_dash(x, max_value=6), xp)


class TestInputUntouched:
    def test_input_is_not_modified(self, backend, xp):
        values = special_values("float32")
        x = backend.asarray(values)
        for leak in LEAKS:
            for max_value in CAPS:
                relu(x, leak, max_value=max_value)
                relu_dash(x, leak, max_value=max_value)
        assert_same_bits(x, backend.asarray(values), xp)

    @pytest.mark.parametrize("leak", [0, 0.5, 1, 3])
    def test_result_never_aliases_the_input(self, leak):
        x = np.array([-2.0, -0.0, 0.0, 3.0])
        for function in (relu, relu_dash):
            y = function(x, leak)
            assert not np.shares_memory(x, y)
            y[...] = 99
        np.testing.assert_array_equal(x, [-2.0, -0.0, 0.0, 3.0])


class TestNumpyLayouts:
    """NumPy arrays that are not plain C-contiguous native arrays."""

    @pytest.mark.parametrize(
        "make",
        [
            lambda a: a[::2],
            lambda a: a[::-1],
            lambda a: np.asfortranarray(a.reshape(4, 6)),
            lambda a: a.reshape(4, 6).T,
            lambda a: a.astype(a.dtype.newbyteorder(">")),
        ],
        ids=["strided", "reversed", "fortran", "transposed", "big-endian"],
    )
    @pytest.mark.parametrize("leak", LEAKS)
    @pytest.mark.parametrize("max_value", CAPS)
    def test_layouts_give_the_contract(self, make, leak, max_value):
        x = make(special_values("float32")[:24].copy())
        x.flags.writeable = False
        native = x.astype(x.dtype.newbyteorder("="))
        y = relu(x, leak, max_value=max_value)
        d = relu_dash(x, leak, max_value=max_value)
        assert y.dtype == d.dtype == native.dtype
        np.testing.assert_array_equal(y.view(np.int32), expected_relu(native, leak, max_value).view(np.int32))
        np.testing.assert_array_equal(d.view(np.int32), expected_relu_dash(native, leak, max_value).view(np.int32))

    def test_numpy_scalar_input_gives_zero_d_result(self):
        assert_same_bits(relu(np.float32(-3.0), 0.5), np.asarray(np.float32(-1.5)), npx)

    @pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
    def test_numpy_random_data_matches_the_oracle(self, dtype):
        rng = np.random.default_rng(0)
        values = (rng.standard_normal(3000) * 10).astype(dtype)
        values[::7] = 0
        for leak in LEAKS:
            for max_value in CAPS:
                assert_same_bits(relu(values, leak, max_value=max_value), expected_relu(values, leak, max_value), npx)
                assert_same_bits(
                    relu_dash(values, leak, max_value=max_value), expected_relu_dash(values, leak, max_value), npx
                )

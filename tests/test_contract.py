"""The contract, row by row, on every backend of the matrix (see conftest.py).

Expected values come from the oracle in helpers.py (plain Python floats), never from the
library itself.
"""

from __future__ import annotations

import importlib
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
    numpy_dtype,
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

    @pytest.mark.parametrize("dtype", FLOAT_DTYPES)
    def test_common_calls_follow_the_contract_bit_for_bit_on_first_and_later_calls(self, backend, dtype):
        # a later call of a dtype may skip validation (_relu._apply): it must give the first call's bits
        values = _special_values_for(backend, dtype)
        x = backend.asarray(values, backend.dtype(dtype))
        calls = [
            (relu, expected_relu, {}),
            (relu_dash, expected_relu_dash, {}),
            (relu6, expected_relu, {"max_value": 6.0}),
            (relu6_dash, expected_relu_dash, {"max_value": 6.0}),
            (leaky_relu, expected_relu, {"leak": 0.01}),
            (leaky_relu_dash, expected_relu_dash, {"leak": 0.01}),
        ]
        for function, oracle, parameters in calls:
            expected = _expected(backend, oracle, values, dtype, **parameters)
            for _ in range(2):
                assert_same_bits(function(x), expected, backend.xp)

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


class TestZeroSlopeEntries:
    """A zero slope is a zero slope, whatever its sign: relu gives +0.0 and relu_dash +0.0."""

    def test_zero_and_minus_zero_leak_entries_give_plus_zero(self, backend, xp):
        values = np.array([[-np.inf, -1.0, -0.0, 0.0, 2.0, np.nan]] * 3)
        leaks = np.array([[0.0], [-0.0], [0.25]])
        x, leak = backend.asarray(values), backend.asarray(leaks)
        assert_same_bits(relu(x, leak), backend.asarray(expected_relu(values, leaks)), xp)
        assert_same_bits(relu_dash(x, leak), backend.asarray(expected_relu_dash(values, leaks)), xp)
        assert_same_bits(relu_dash(x, leak)[:2, :4], backend.asarray(np.zeros((2, 4))), xp)

    @pytest.mark.parametrize(("dtype", "tiny"), [("float16", -1e-30), ("bfloat16", -1e-50), ("float32", -1e-50)])
    def test_leak_entries_that_round_to_minus_zero_in_x_dtype_are_the_zero_slope(self, backend, xp, dtype, tiny):
        x = backend.asarray(np.array([0.0, -np.inf, -1.0, 3.0]), backend.dtype(dtype))
        leak = backend.asarray(np.array([tiny]))  # float64: cast to x's dtype it is -0.0
        zeros = backend.asarray(np.array([0.0, 0.0, 0.0, 3.0]), backend.dtype(dtype))
        assert_same_bits(relu(x, leak), zeros, xp)
        assert_same_bits(relu_dash(x, leak), backend.asarray(np.array([0.0, 0.0, 0.0, 1.0]), backend.dtype(dtype)), xp)

    @pytest.mark.parametrize("dtype", FLOAT_DTYPES)
    def test_a_leak_closed_over_inside_jax_jit_gives_plus_zero(self, dtype):
        jax = pytest.importorskip("jax", reason="jax is not installed")
        import jax.numpy as jnp

        values = np.array([[-2.0, -0.0, 1.0], [-np.inf, 0.0, np.nan]])
        for leaks in (np.zeros(3), np.array(0.0), np.array([0.0, -0.0, 0.5]), np.array(-0.0)):
            x = jnp.asarray(values).astype(dtype)
            closed = jnp.asarray(leaks).astype(dtype)
            expected_y = jnp.asarray(expected_relu(values, leaks)).astype(dtype)
            expected_d = jnp.asarray(expected_relu_dash(values, leaks)).astype(dtype)
            for function, expected in ((relu, expected_y), (relu_dash, expected_d)):
                assert_same_bits(jax.jit(lambda v: function(v, closed))(x), expected, jnp)
                assert_same_bits(jax.jit(jax.vmap(lambda v: function(v, closed)))(x), expected, jnp)


class TestNumbersRoundOnce:
    """leak, max_value and threshold are rounded once, to x's dtype, on every backend."""

    @pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
    def test_a_number_just_above_a_tie_rounds_up_in_x_dtype(self, backend, xp, dtype):
        half_ulp_of_one = {"float16": 2**-11, "bfloat16": 2**-8}[dtype]
        number = 1 + half_ulp_of_one + 2**-40  # through float32 first, it would round to 1
        values = np.array([-1.0, -0.0, 0.5, 3.0]).astype(numpy_dtype(dtype))
        x = backend.asarray(values, backend.dtype(dtype))
        for kwargs in ({"leak": number}, {"max_value": number}, {"leak": 0.5, "threshold": number - 2}):
            expected = backend.asarray(expected_relu(values, **kwargs), backend.dtype(dtype))
            assert_same_bits(relu(x, **kwargs), expected, xp)
            expected = backend.asarray(expected_relu_dash(values, **kwargs), backend.dtype(dtype))
            assert_same_bits(relu_dash(x, **kwargs), expected, xp)

    @pytest.mark.parametrize("dtype", FLOAT_DTYPES)
    def test_a_subnormal_leak_is_the_zero_slope_exactly_where_the_backend_flushes(self, backend, xp, dtype):
        tiny = float(special_values(dtype)[3])  # the smallest subnormal
        leak = tiny * 0.75  # rounds to tiny in x's dtype
        values = np.array([-np.inf, -1.0, -0.0, 2.0]).astype(numpy_dtype(dtype))
        x = backend.asarray(values, backend.dtype(dtype))
        if backend.flushes_subnormals(dtype):
            y, d = np.array([0.0, 0.0, 0.0, 2.0]), np.array([0.0, 0.0, 0.0, 1.0])
        else:
            y, d = expected_relu(values, leak), expected_relu_dash(values, leak)
            assert y[1] == -tiny and d[0] == tiny
        assert_same_bits(relu(x, leak), backend.asarray(y, backend.dtype(dtype)), xp)
        assert_same_bits(relu_dash(x, leak), backend.asarray(d, backend.dtype(dtype)), xp)

    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_a_huge_integer_cap_is_a_number_like_any_other(self, backend, xp, dtype):
        values = np.array([1.0, 2.0**80, -3.0])
        x = backend.asarray(values, backend.dtype(dtype))
        expected = backend.asarray(expected_relu(values, max_value=2**70), backend.dtype(dtype))
        assert_same_bits(relu(x, max_value=2**70), expected, xp)


class TestArrayLeakValues:
    def test_infinite_leak_entries_give_ieee_products_and_no_warning(self, backend, xp):
        values = np.array([-1.0, 0.0, -0.0, 2.0, -np.inf])
        leaks = np.array([np.inf, -np.inf, np.inf, np.inf, np.inf])
        x, leak = backend.asarray(values), backend.asarray(leaks)
        expected = np.array([-np.inf, np.nan, np.nan, 2.0, -np.inf])
        assert_same_bits(relu(x, leak), backend.asarray(expected), xp)
        assert_same_bits(relu_dash(x, leak), backend.asarray([np.inf, -np.inf, np.inf, 1.0, np.inf]), xp)

    def test_a_signalling_nan_gives_nan_on_every_backend(self, backend, xp):
        signalling = np.array([0x7FA00000], dtype=np.uint32).view(np.float32)
        assert np.isnan(signalling[0])
        x = backend.asarray(np.concatenate([signalling, np.float32([-1.0])]))
        with np.errstate(invalid="ignore"):  # NumPy reports the invalid operation of a product with one
            for leak in (0.0, 0.1, 2.5):
                y = backend.to_numpy(relu(x, leak))
                assert np.isnan(y[0]) and y[1] == np.float32(-1.0) * np.float32(leak) + 0.0
                assert backend.to_numpy(relu_dash(x, leak))[0] == 1.0


class TestNamespaces:
    """xp= takes x's namespace: the library's own module or array-api-compat's wrapper of it."""

    def test_plain_module_and_compat_wrapper_both_work(self, backend, xp):
        plain = importlib.import_module("jax.numpy" if backend.backend.module == "jax" else backend.backend.module)
        values, leaks = np.array([[1.0, -2.0], [-0.5, 3.0]]), np.array([0.1, 0.2])
        x, leak = backend.asarray(values), backend.asarray(leaks)
        for namespace in (plain, xp):
            assert_same_bits(relu(x, leak, xp=namespace), backend.asarray(expected_relu(values, leaks)), xp)
            assert_same_bits(relu_dash(x, 0.1, xp=namespace), backend.asarray(expected_relu_dash(values, 0.1)), xp)

    def test_a_namespace_that_is_not_x_library_is_a_type_error(self, backend, xp):
        other = importlib.import_module("array_api_strict" if backend.backend.module == "numpy" else "numpy")
        x = backend.asarray([1.0, -2.0])
        for wrong in (other, "numpy", 3):
            with pytest.raises(TypeError, match=r"^relu\(\) got xp=.*Pass x's namespace"):
                relu(x, xp=wrong)


class TestUnknownDaskChunks:
    """After boolean indexing Dask does not know its chunk sizes (shape (nan,)); relu stays lazy."""

    @pytest.fixture
    def dask_u(self):
        da = pytest.importorskip("dask.array", reason="dask is not installed")
        values = np.linspace(-10, 10, 41)
        x = da.from_array(values, chunks=10)
        return values[values > -5], x[x > -5]

    def test_number_zero_d_and_derived_leaks_work_lazily(self, dask_u):
        import dask
        import dask.array as da

        values, u = dask_u
        assert np.isnan(u.shape[0])

        def computing(*args, **kwargs):
            raise AssertionError("building the result computed something")

        with dask.config.set(scheduler=computing):
            results = [
                relu(u, 0.1),
                relu(u, da.asarray(np.array(0.1))),
                relu(u, relu_dash(u, 0.3)),
                relu_dash(u, da.asarray(np.array([0.2]))),
            ]
        expected = [
            expected_relu(values, 0.1),
            expected_relu(values, 0.1),
            expected_relu(values, expected_relu_dash(values, 0.3)),
            expected_relu_dash(values, 0.2),
        ]
        for result, want in zip(results, expected, strict=True):
            np.testing.assert_array_equal(result.compute(), want)


class TestNumpySpecifics:
    class Tagged(np.ndarray):
        """An ndarray subclass with no semantics of its own."""

    @pytest.mark.parametrize("size", [1, 8, 100, 17_000])  # 17000: a 16384-element block and a rest
    @pytest.mark.parametrize("leak", [0.0, 0.1, 2.5, -0.3, "array"])
    @pytest.mark.parametrize("max_value", CAPS)
    def test_subclasses_give_plain_ndarrays_on_every_path(self, size, leak, max_value):
        values = np.linspace(-3, 9, size)
        x = values.view(self.Tagged)
        leaks = np.full(size, 0.2) if leak == "array" else leak
        for function, oracle in ((relu, expected_relu), (relu_dash, expected_relu_dash)):
            y = function(x, leaks, max_value=max_value)
            assert type(y) is np.ndarray
            np.testing.assert_array_equal(y, oracle(values, leaks, max_value))
        assert type(relu(np.float32(-2.0))) is np.ndarray  # a NumPy scalar gives a 0-d array

    @pytest.mark.parametrize("leak", [0.0, 0.1, 2.5, -0.3])
    @pytest.mark.parametrize("max_value", CAPS)
    def test_long_double_keeps_its_precision(self, leak, max_value):
        finer = np.longdouble(1) + np.longdouble(2) ** -60  # not a float64
        values = np.array([-np.inf, -finer, -0.0, 0.0, finer, 6, np.inf, np.nan], dtype=np.longdouble)
        slope, cap = np.longdouble(leak), None if max_value is None else np.longdouble(max_value)
        for function, piece in (
            (relu, lambda v: (np.longdouble(0.0) if leak == 0 else slope * v) if v <= 0 else v),
            (relu_dash, lambda v: (np.longdouble(0.0) if leak == 0 else slope) if v <= 0 else np.longdouble(1)),
        ):
            y = function(values, leak, max_value=max_value)
            assert y.dtype == np.longdouble
            for got, v in zip(y, values, strict=True):
                want = piece(v) if cap is None or not v >= cap else (cap if function is relu else np.longdouble(0))
                assert (np.isnan(got) and np.isnan(want)) or (got == want and np.signbit(got) == np.signbit(want))

    def test_numpy_error_state_applies_to_the_products_anyrelu_computes(self):
        # anyrelu leaves np.errstate alone (changing it costs microseconds a call): under
        # under="raise", a leak * x that underflows raises, as the same product in NumPy does;
        # overflow to ±inf is the contract's answer and never raises.
        with np.errstate(all="raise"):
            np.testing.assert_array_equal(relu(np.array([-1.0, 2.0]), 0.5), [-0.5, 2.0])
            np.testing.assert_array_equal(relu(np.array([-1e308, 2.0]), 2.5), [-np.inf, 2.0])
            np.testing.assert_array_equal(relu(np.array([-1e-310, 2.0])), [0.0, 2.0])
            with pytest.raises(FloatingPointError, match="underflow"):
                relu(np.array([-1e-310, 2.0]), 0.1)


class TestThreshold:
    """The kink moves to threshold: x <= threshold is the leak side, giving leak * (x - threshold)."""

    def test_keras_documented_examples(self, backend, xp):
        # keras.activations.relu's docstring: relu([-10, -5, 0, 5, 10], ...) with each parameter
        x = backend.asarray([-10.0, -5.0, 0.0, 5.0, 10.0])
        assert_same_bits(relu(x), backend.asarray([0.0, 0.0, 0.0, 5.0, 10.0]), xp)
        assert_same_bits(relu(x, 0.5), backend.asarray([-5.0, -2.5, 0.0, 5.0, 10.0]), xp)
        assert_same_bits(relu(x, max_value=5.0), backend.asarray([0.0, 0.0, 0.0, 5.0, 5.0]), xp)
        # Keras gives -0.0 for the first two (x * 0); a zero slope gives +0.0 here.
        assert_same_bits(relu(x, threshold=5.0), backend.asarray([0.0, 0.0, 0.0, 0.0, 10.0]), xp)

    @pytest.mark.parametrize("dtype", FLOAT_DTYPES)
    @pytest.mark.parametrize("leak", LEAKS)
    @pytest.mark.parametrize("threshold", [-1.5, 2.0])  # below and above 0 (0 is every other test's)
    @pytest.mark.parametrize("max_value", CAPS)
    def test_special_values_follow_the_contract_bit_for_bit(self, backend, dtype, leak, threshold, max_value):
        values = _special_values_for(backend, dtype)
        x = backend.asarray(values, backend.dtype(dtype))
        kwargs = {"leak": leak, "threshold": threshold, "max_value": max_value}
        for function, oracle in ((relu, expected_relu), (relu_dash, expected_relu_dash)):
            expected = _expected(backend, oracle, values, dtype, **kwargs)
            assert_same_bits(function(x, **kwargs), expected, backend.xp)

    def test_integer_x_with_an_integer_threshold(self, backend, xp):
        values = np.array([-5, 0, 2, 3, 7, 100], dtype=np.int32)
        x = backend.asarray(values)
        for leak in (0, 2):
            expected = backend.asarray(expected_relu(values, leak, 50, threshold=2))
            assert_same_bits(relu(x, leak, max_value=50, threshold=2), expected, xp)
            expected = backend.asarray(expected_relu_dash(values, leak, 50, threshold=2))
            assert_same_bits(relu_dash(x, leak, max_value=50, threshold=2), expected, xp)

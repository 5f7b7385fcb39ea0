"""Bad input gets a TypeError or ValueError that names the function, what it got and what to do;
nothing is modified and nothing is warned (the suite runs with -W error)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import anyrelu
from anyrelu import leaky_relu, leaky_relu_dash, relu, relu6, relu6_dash, relu_dash

FUNCTIONS = [relu, relu_dash, leaky_relu, leaky_relu_dash, relu6, relu6_dash]
LEAK_FUNCTIONS = [relu, relu_dash, leaky_relu, leaky_relu_dash]
CAP_FUNCTIONS = [relu, relu_dash]


def _raises(error: type[Exception], function, *args, match: str, **kwargs) -> str:
    with pytest.raises(error) as info:
        function(*args, **kwargs)
    message = str(info.value)
    assert message.startswith(f"{function.__name__}()"), message
    assert re.search(match, message), message
    return message


class TestBadX:
    @pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
    @pytest.mark.parametrize(
        "x",
        [[1.0, -1.0], (1.0, -1.0), 1.0, 3, None, "1.0", True],
        ids=["list", "tuple", "float", "int", "None", "str", "bool"],
    )
    def test_non_arrays_are_a_type_error_that_says_convert(self, function, x):
        _raises(TypeError, function, x, match=r"expects x to be an array.*got .*np\.asarray")

    @pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
    @pytest.mark.parametrize(
        "x",
        [
            np.array([True, False]),
            np.array([1 + 1j]),
            np.array([1.0], dtype=object),
            np.array(["1.0"]),
            np.array([b"1"]),
            np.array(["2026-01-01"], dtype="datetime64[D]"),
        ],
        ids=["bool", "complex", "object", "str", "bytes", "datetime"],
    )
    def test_non_numeric_dtypes_are_a_type_error(self, function, x):
        _raises(TypeError, function, x, match=r"real floating or integer dtype, got dtype")

    @pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
    def test_masked_arrays_are_refused_rather_than_unmasked(self, function):
        x = np.ma.masked_array([-1.0, 2.0], mask=[True, False])
        _raises(TypeError, function, x, match=r"MaskedArray.*mask would be silently dropped")

    @pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
    def test_np_matrix_is_refused(self, function):
        with pytest.warns(PendingDeprecationWarning):
            x = np.matrix([[-1.0, 2.0]])
        _raises(TypeError, function, x, match=r"matrix.*np\.asarray")


class TestBadLeak:
    @pytest.mark.parametrize("function", LEAK_FUNCTIONS, ids=lambda f: f.__name__)
    @pytest.mark.parametrize("leak", [np.nan, np.inf, -np.inf, np.float32(np.nan)])
    def test_non_finite_leak_is_a_value_error(self, function, leak):
        _raises(ValueError, function, np.zeros(3), leak, match=r"finite leak")

    @pytest.mark.parametrize("function", LEAK_FUNCTIONS, ids=lambda f: f.__name__)
    @pytest.mark.parametrize("leak", [1j, True, np.True_, "0.1", None, [0.1]], ids=repr)
    def test_complex_bool_str_leak_is_a_type_error(self, function, leak):
        _raises(TypeError, function, np.zeros(3), leak, match=r"leak to be a real number")

    @pytest.mark.parametrize("function", LEAK_FUNCTIONS, ids=lambda f: f.__name__)
    def test_leak_array_from_another_library_is_a_type_error(self, function):
        torch = pytest.importorskip("torch", reason="needs a second array library")
        _raises(TypeError, function, np.zeros(3), torch.zeros(3), match=r"from x's library")
        _raises(TypeError, function, torch.zeros(3), np.zeros(3), match=r"from x's library")

    @pytest.mark.parametrize("function", LEAK_FUNCTIONS, ids=lambda f: f.__name__)
    @pytest.mark.parametrize("shape", [(4,), (3, 3), (5, 2, 3)])
    def test_leak_array_that_does_not_broadcast_or_widens_is_a_value_error(self, function, shape):
        _raises(ValueError, function, np.zeros((2, 3)), np.ones(shape), match=r"broadcasts to x's shape")

    @pytest.mark.parametrize("function", LEAK_FUNCTIONS, ids=lambda f: f.__name__)
    @pytest.mark.parametrize("leak", [np.array([True]), np.array([1j])], ids=["bool", "complex"])
    def test_leak_array_of_bool_or_complex_dtype_is_a_type_error(self, function, leak):
        _raises(TypeError, function, np.zeros(3), leak, match=r"needs leak of a real floating")

    def test_integer_x_with_a_non_integer_leak_says_convert_to_float(self):
        x = np.arange(-2, 3, dtype=np.int32)
        _raises(TypeError, relu, x, 0.1, match=r"integer x.*non-integer leak=0\.1.*floating dtype")
        _raises(TypeError, leaky_relu, x, match=r"non-integer leak=0\.01")
        _raises(TypeError, relu_dash, x, np.array([0.5]), match=r"floating leak array.*floating dtype")

    def test_leak_that_overflows_or_does_not_fit_is_a_value_error(self):
        _raises(ValueError, relu, np.zeros(2, dtype=np.float16), 1e6, match=r"does not fit")
        _raises(ValueError, relu, np.zeros(2), 10**400, match=r"does not fit")
        _raises(ValueError, relu_dash, np.zeros(2), -(10**400), match=r"does not fit")
        _raises(ValueError, relu, np.zeros(2), max_value=10**400, match=r"does not fit")
        _raises(ValueError, relu, np.zeros(2, dtype=np.uint8), -1, match=r"does not fit")


class TestBadMaxValue:
    @pytest.mark.parametrize("function", CAP_FUNCTIONS, ids=lambda f: f.__name__)
    @pytest.mark.parametrize("max_value", [0, -1.0, np.nan, np.inf, -np.inf])
    def test_max_value_must_be_finite_and_positive(self, function, max_value):
        _raises(ValueError, function, np.zeros(3), max_value=max_value, match=r"finite (number > 0|max_value)")

    @pytest.mark.parametrize("function", CAP_FUNCTIONS, ids=lambda f: f.__name__)
    @pytest.mark.parametrize("max_value", ["6", 6j, True, np.array(6.0)], ids=repr)
    def test_max_value_of_the_wrong_type_is_a_type_error(self, function, max_value):
        _raises(TypeError, function, np.zeros(3), max_value=max_value, match=r"max_value to be a real number")

    def test_a_cap_that_rounds_to_zero_in_x_dtype_is_a_value_error(self):
        _raises(ValueError, relu, np.zeros(2, dtype=np.float16), max_value=1e-8, match=r"finite number > 0")

    def test_integer_x_with_a_fractional_cap_says_convert_to_float(self):
        _raises(TypeError, relu, np.zeros(2, dtype=np.int8), max_value=6.5, match=r"non-integer max_value")
        _raises(ValueError, relu, np.zeros(2, dtype=np.int8), max_value=1000, match=r"does not fit")


class TestNothingChanged:
    def test_a_failed_call_leaves_x_and_leak_untouched(self):
        x = np.array([-1.0, 2.0])
        leak = np.ones(5)
        with pytest.raises(ValueError):
            relu(x, leak)
        np.testing.assert_array_equal(x, [-1.0, 2.0])
        np.testing.assert_array_equal(leak, np.ones(5))


def test_public_api_is_exactly_the_documented_names():
    family = ["elu", "selu", "celu", "gelu", "silu", "softplus", "mish", "hard_sigmoid", "hard_swish", "squareplus"]
    relus = ["relu", "leaky_relu", "relu6"]
    expected = ["__version__", "get"] + [name for base in relus + family for name in (base, f"{base}_dash")]
    assert sorted(anyrelu.__all__) == sorted(expected)
    assert all(callable(getattr(anyrelu, name)) for name in expected[1:])
    assert re.fullmatch(r"\d+\.\d+\.\d+", anyrelu.__version__)


class TestFamilyMessages:
    """The rest of the family takes floating x only, and says so in the framework's own words."""

    @pytest.mark.parametrize("name", ["gelu", "silu", "elu_dash", "mish"])
    def test_bool_x_says_floating_and_speaks_of_the_function_not_relu(self, name):
        message = _raises(TypeError, getattr(anyrelu, name), np.array([True, False]), match=r"real floating dtype")
        assert "integer" not in message and "ReLU" not in message
        assert "x.astype(np.float32)" in message

    def test_torch_uint16_is_told_to_convert_to_a_float_dtype_that_works(self):
        torch = pytest.importorskip("torch", reason="torch is not installed")
        x = torch.tensor([1, 2], dtype=torch.uint16)
        message = _raises(TypeError, anyrelu.gelu, x, match=r"x\.to\(torch\.float32\)")
        advice = re.search(r"e\.g\. (x\.to\(torch\.\w+\))", message).group(1)
        converted = eval(advice, {"x": x, "torch": torch})  # the advice, as written, then works
        assert anyrelu.gelu(converted).dtype == torch.float32

    def test_a_subnormal_alpha_that_jax_flushes_says_so(self):
        jnp = pytest.importorskip("jax.numpy", reason="jax is not installed")
        _raises(ValueError, anyrelu.elu, jnp.array([1.0, -2.0], dtype=jnp.float32), alpha=1e-40,
                match=r"subnormal in float32, which jax treats as zero.*at least 1\.1754944e-38")  # fmt: skip

    def test_an_alpha_traced_under_jax_jit_says_to_pass_a_python_number(self):
        jax = pytest.importorskip("jax", reason="jax is not installed")
        import jax.numpy as jnp

        with pytest.raises(TypeError, match=r"^elu\(\).*Python number known when the function is traced.*static"):
            jax.jit(lambda a: anyrelu.elu(jnp.array([1.0, -2.0]), alpha=a))(0.5)

    def test_torch_celu_with_a_subnormal_alpha_computes(self):
        torch = pytest.importorskip("torch", reason="torch is not installed")
        x = torch.tensor([1.0, -1e-310, -2.0], dtype=torch.float64)
        y = anyrelu.celu(x, alpha=1e-310)
        assert y.tolist()[0] == 1.0 and y.tolist()[2] == -1e-310
        assert -1e-310 <= y.tolist()[1] < 0


class TestGet:
    @pytest.mark.parametrize("name", [n for n in anyrelu.__all__ if n not in ("__version__", "get")])
    def test_every_function_by_its_name(self, name):
        assert anyrelu.get(name) is getattr(anyrelu, name)

    @pytest.mark.parametrize(("name", "suggestion"), [("Gelu", "'gelu'"), ("gelu_dsh", "'gelu_dash'"),
                                                      ("relu7", "'relu6'"), ("leakyrelu", "'leaky_relu'")])  # fmt: skip
    def test_an_unknown_name_is_a_value_error_with_a_suggestion(self, name, suggestion):
        message = _raises(ValueError, anyrelu.get, name, match=r"knows no function.*Did you mean")
        assert suggestion in message

    def test_a_name_with_nothing_close_lists_the_names(self):
        _raises(ValueError, anyrelu.get, "xyz", match=r"The names: celu, celu_dash, elu")

    def test_a_non_string_is_a_type_error(self):
        _raises(TypeError, anyrelu.get, 3, match=r"needs name to be a string")

"""The rectifier family's contract (anyrelu/_rectifiers.py), on every backend of the matrix.

Values at the special points come from the contract's table; everything else from a 120-bit
mpmath reference (tests/oracle.py), never from the library itself.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import Any

import numpy as np
import oracle
import pytest
from array_api_extra.testing import lazy_xp_function
from helpers import FLOAT_DTYPES, TORCH_JIT_DEPRECATED, assert_same_bits, finfo, numpy_dtype, round_once

import anyrelu

NAMES = oracle.FUNCTIONS.keys()
for _name in NAMES:
    lazy_xp_function(getattr(anyrelu, _name))
    lazy_xp_function(getattr(anyrelu, f"{_name}_dash"))

# (function, keyword arguments): every function with its default parameters, and other values.
CASES = [
    ("elu", {}), ("elu", {"alpha": 0.3}), ("elu", {"alpha": -2.0}),
    ("selu", {}),
    ("celu", {}), ("celu", {"alpha": 0.3}), ("celu", {"alpha": 3.0}),
    ("gelu", {}), ("gelu", {"approximate": True}),
    ("silu", {}),
    ("softplus", {}), ("softplus", {"beta": 10.0}), ("softplus", {"beta": 0.25}),
    ("mish", {}),
    ("hard_sigmoid", {}), ("hard_swish", {}),
    ("squareplus", {}), ("squareplus", {"b": 0.5}),
]  # fmt: skip
CASE_IDS = [f"{name}({','.join(f'{k}={v}' for k, v in kwargs.items())})" for name, kwargs in CASES]


def _parameter(name: str, kwargs: dict[str, Any], dtype: np.dtype) -> Any:
    """The function's parameter as the computation holds it: rounded to x's dtype."""
    key = oracle.PARAMETER.get(name)
    if key is None:
        return None
    default = {"alpha": 1.0, "approximate": False, "beta": 1.0, "b": 4.0}[key]
    value = kwargs.get(key, default)
    if isinstance(value, bool):
        return value
    return round_once(value, dtype)


def _call(name: str, dash: bool, x: Any, kwargs: dict[str, Any]) -> Any:
    return getattr(anyrelu, f"{name}_dash" if dash else name)(x, **kwargs)


# ---------------------------------------------------------------- the special points


def _contract_table(name: str, kwargs: dict[str, Any], dtype: np.dtype) -> list[tuple[float, float, float]]:
    """(x, f(x), f'(x)) at the points the contract spells out, in dtype's values."""
    p = _parameter(name, kwargs, dtype)
    nan, inf = math.nan, math.inf
    exact = functools.partial(_exact_in, dtype=dtype)
    rows: dict[str, Any] = {
        "elu": lambda: [
            (nan, nan, 1.0), (-inf, exact(-oracle.mpf(p)), math.copysign(0.0, p)), (inf, inf, 1.0),
            (0.0, 0.0, exact(p)),
        ],
        "selu": lambda: [
            (nan, nan, exact(oracle.SELU_SCALE)), (-inf, -exact(oracle.SELU_SCALE * oracle.SELU_ALPHA), 0.0),
            (inf, inf, exact(oracle.SELU_SCALE)), (0.0, 0.0, exact(oracle.SELU_SCALE * oracle.SELU_ALPHA)),
        ],
        "celu": lambda: [(nan, nan, 1.0), (-inf, exact(-oracle.mpf(p)), 0.0), (inf, inf, 1.0), (0.0, 0.0, 1.0)],
        "gelu": lambda: [(nan, nan, nan), (-inf, -0.0, 0.0), (inf, inf, 1.0), (0.0, 0.0, 0.5)],
        "silu": lambda: [(nan, nan, nan), (-inf, -0.0, 0.0), (inf, inf, 1.0), (0.0, 0.0, 0.5)],
        "softplus": lambda: [(nan, nan, nan), (-inf, 0.0, 0.0), (inf, inf, 1.0)],
        "mish": lambda: [(nan, nan, nan), (-inf, -0.0, 0.0), (inf, inf, 1.0), (0.0, 0.0, exact(oracle.mpf(3) / 5))],
        "hard_sigmoid": lambda: [
            (nan, nan, exact(oracle.mpf(1) / 6)), (-inf, 0.0, 0.0), (inf, 1.0, 0.0),
            (0.0, 0.5, exact(oracle.mpf(1) / 6)), (-3.0, 0.0, 0.0), (3.0, 1.0, 0.0),
        ],
        "hard_swish": lambda: [
            (nan, nan, nan), (-inf, 0.0, 0.0), (inf, inf, 1.0), (0.0, 0.0, 0.5), (-3.0, 0.0, 0.0), (3.0, 3.0, 1.0),
        ],
        "squareplus": lambda: [(nan, nan, nan), (-inf, 0.0, 0.0), (inf, inf, 1.0)],
    }  # fmt: skip
    return rows[name]()


def _exact_in(value: Any, dtype: np.dtype) -> float:
    return oracle.correctly_rounded(oracle.mpf(value), numpy_dtype(dtype) if isinstance(dtype, str) else dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=CASE_IDS)
class TestSpecialPoints:
    # Both tests pass SIZE elements (the points repeated): JAX compiles a kernel once per shape,
    # and the two then share it.
    SIZE = 8

    def test_nan_infinities_zeros_and_kinks_follow_the_contract(self, backend, xp, name, kwargs, dtype):
        rows = _contract_table(name, kwargs, numpy_dtype(dtype))
        points = np.resize(np.array([x for x, _, _ in rows]), self.SIZE)
        x = backend.asarray(points, backend.dtype(dtype))
        for dash, column in ((False, 1), (True, 2)):
            values = np.resize(np.array([row[column] for row in rows]), self.SIZE)
            assert_same_bits(_call(name, dash, x, kwargs), backend.asarray(values, backend.dtype(dtype)), xp)

    def test_minus_zero_gives_a_zero_or_the_value_at_zero(self, backend, xp, name, kwargs, dtype):
        x = backend.asarray(np.resize(np.array([0.0, -0.0]), self.SIZE), backend.dtype(dtype))
        for dash in (False, True):
            y = backend.to_numpy(_call(name, dash, x, kwargs)).astype(np.float64)
            assert y[0] == y[1], (dash, y)


# ---------------------------------------------------------------- accuracy over the whole range


def _sweep(dtype: np.dtype) -> np.ndarray:
    """Both signs of every binade from the smallest normal to the largest finite number, dense
    points where the functions bend (|x| < 40), the kinks' neighbours."""
    info = finfo(dtype)
    rng = np.random.default_rng(7)
    largest = float(info.max)
    magnitudes = np.append(np.geomspace(float(info.smallest_normal), largest / 4, 159), largest)
    bends = np.concatenate([rng.uniform(-40, 40, 160), rng.standard_normal(160) * 3, np.linspace(-6, 6, 61)])
    kinks = [np.nextafter(dtype.type(k), dtype.type(d)) for k in (-3, 0, 3) for d in (-np.inf, np.inf)]
    values = np.concatenate([magnitudes, -magnitudes, bends, [0.0]]).astype(np.float64)
    with np.errstate(over="ignore"):
        points = np.concatenate([values.astype(dtype), np.array(kinks, dtype=dtype)])
    return points[np.isfinite(points.astype(np.float64))]


@functools.cache
def _references(name: str, parameter: Any, dtype_name: str, dash: bool) -> tuple[np.ndarray, list[Any], np.ndarray]:
    """The sweep, the exact values there, and each point's tolerance in ulps (bound x condition)."""
    dtype = numpy_dtype(dtype_name)
    points = _sweep(dtype)
    exact = [oracle.exact(name, float(v), parameter, dash) for v in points]
    tolerance = np.array(
        [oracle.bound(dtype, dash) * max(1.0, oracle.condition(name, float(v), parameter, dash)) for v in points]
    )
    return points, exact, tolerance


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("dash", [False, True], ids=["f", "f_dash"])
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=CASE_IDS)
def test_accuracy_over_the_whole_range(backend, name, kwargs, dash, dtype):
    np_dtype = numpy_dtype(dtype)
    points, exact, tolerance = _references(name, _parameter(name, kwargs, np_dtype), dtype, dash)
    x = backend.asarray(points, backend.dtype(dtype))
    got = backend.to_numpy(_call(name, dash, x, kwargs)).astype(np.float64).tolist()
    tiny = float(finfo(np_dtype).smallest_normal)
    flush = backend.flushes_subnormals(dtype)
    worst = []
    for v, g, e, t in zip(points, got, exact, tolerance, strict=True):
        # the underflow rule; XLA on the CPU also flushes subnormal intermediates of larger results
        if (flush or abs(float(e)) < 64 * tiny) and abs(g - float(e)) <= 64 * tiny:
            continue
        if flush and abs(float(v)) < tiny:  # XLA on the CPU sees a subnormal x as a zero
            e = oracle.exact(name, 0.0, _parameter(name, kwargs, np_dtype), dash)
        error = oracle.ulps(float(g), e, np_dtype)
        if error > t:
            worst.append((float(v), float(g), float(e), round(error, 2), round(float(t), 2)))
    assert not worst, f"{len(worst)} points beyond the bound (x, got, exact, ulps, allowed): {worst[:5]}"


# ---------------------------------------------------------------- autodiff


def _autodiff_points(dtype: str) -> np.ndarray:
    """The special points, the kinks and a sweep of ordinary ones."""
    np_dtype = numpy_dtype(dtype)
    specials = [np.nan, -np.inf, np.inf, 0.0, -0.0, -3.0, 3.0, -40.0, -1.5, 0.5, 1e4, -1e4]
    return np.concatenate([specials, np.linspace(-8, 8, 33)]).astype(np_dtype)


# JAX's autodiff of the family is one custom_jvp whose rule is the chain rule, whatever the dtype:
# float32 runs in every run (it exercises the float32 bodies too); float64 (the reference bodies,
# traced with 64-bit types) and float16/bfloat16 (float32's, through one cast) each compile for a
# second or two per case, so they run with the long sweeps (pytest -m screen, CI's second step).
_JAX_DTYPES = [d if d == "float32" else pytest.param(d, marks=pytest.mark.screen) for d in FLOAT_DTYPES]


# The same for the other parameters: custom_jvp's rule does not depend on them, only the bodies do
# (which the accuracy tests hold to the bound); they run with the long sweeps too.
_JAX_CASES = [
    case if not case[1] or case == ("gelu", {"approximate": True}) else pytest.param(*case, marks=pytest.mark.screen)
    for case in CASES
]


@pytest.mark.parametrize("dtype", _JAX_DTYPES)
@pytest.mark.parametrize(("name", "kwargs"), _JAX_CASES, ids=CASE_IDS)
class TestJaxAutodiff:
    """jax.grad, vmap, jvp and jacrev of f return f_dash, bit for bit; the hessian is f_dash's grad."""

    def test_jax_grad_vmap_jvp_equal_f_dash(self, name, kwargs, dtype):
        jax = pytest.importorskip("jax", reason="jax is not installed")
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        x = jnp.asarray(_autodiff_points(dtype).astype(np.float64)).astype(dtype)
        f = functools.partial(getattr(anyrelu, name), **kwargs)
        expected = getattr(anyrelu, f"{name}_dash")(x, **kwargs)
        # (jacrev, jacfwd and the eager transforms of the ReLU family: tests/test_autodiff.py)
        assert_same_bits(jax.jit(jax.vmap(jax.grad(f)))(x), expected, jnp)
        assert_same_bits(jax.jvp(f, (x,), (jnp.ones_like(x),))[1], expected, jnp)

    def test_jax_second_derivative_is_the_derivative_of_f_dash(self, name, kwargs, dtype):
        jax = pytest.importorskip("jax", reason="jax is not installed")
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        x = jnp.asarray(np.linspace(-5, 5, 11)).astype(dtype)
        f = functools.partial(getattr(anyrelu, name), **kwargs)
        dash = functools.partial(getattr(anyrelu, f"{name}_dash"), **kwargs)
        second = jnp.diagonal(jax.hessian(lambda v: f(v).sum())(x))
        # The same derivative of the same formula; transposition may order its products otherwise.
        rtol = {"float64": 1e-12, "float32": 1e-5}.get(dtype, 1e-2)
        np.testing.assert_allclose(
            np.asarray(second.astype("float64")), np.asarray(jax.vmap(jax.grad(dash))(x).astype("float64")), rtol=rtol
        )


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=CASE_IDS)
class TestAutodiff:
    """jax.grad and torch autograd of f return f_dash, bit for bit; higher derivatives work."""

    def test_torch_autograd_and_torch_func_equal_f_dash(self, name, kwargs, dtype):
        torch = pytest.importorskip("torch", reason="torch is not installed")
        import array_api_compat.torch as tx
        from torch.func import grad, jacrev, vmap

        x = torch.tensor(_autodiff_points(dtype).astype(np.float64)).to(getattr(torch, dtype))
        f = functools.partial(getattr(anyrelu, name), **kwargs)
        expected = getattr(anyrelu, f"{name}_dash")(x, **kwargs)
        leaf = x.clone().requires_grad_(True)
        (first,) = torch.autograd.grad(f(leaf).sum(), leaf, create_graph=True)
        assert_same_bits(first.detach(), expected, tx)
        (plain,) = torch.autograd.grad(f(leaf).sum(), leaf)  # a plain backward may run other kernels
        assert_same_bits(plain, expected, tx)
        assert_same_bits(vmap(grad(f))(x), expected, tx)
        assert_same_bits(torch.diagonal(jacrev(f)(x)), expected, tx)
        if first.requires_grad:  # the piecewise-linear derivatives have no graph to differentiate
            (second,) = torch.autograd.grad(first.sum(), leaf)
            dash_leaf = x.clone().requires_grad_(True)
            (expected_second,) = torch.autograd.grad(
                getattr(anyrelu, f"{name}_dash")(dash_leaf, **kwargs).sum(), dash_leaf
            )
            rtol = {"float64": 1e-12, "float32": 1e-5}.get(dtype, 1e-2)
            torch.testing.assert_close(second, expected_second, rtol=rtol, atol=0, equal_nan=True)

    @TORCH_JIT_DEPRECATED
    def test_torch_forward_mode_equals_f_dash(self, name, kwargs, dtype):
        torch = pytest.importorskip("torch", reason="torch is not installed")
        import array_api_compat.torch as tx
        import torch.autograd.forward_ad as forward_ad

        x = torch.tensor(_autodiff_points(dtype).astype(np.float64)).to(getattr(torch, dtype))
        expected = getattr(anyrelu, f"{name}_dash")(x, **kwargs)
        with forward_ad.dual_level():
            y = getattr(anyrelu, name)(forward_ad.make_dual(x, torch.ones_like(x)), **kwargs)
            assert_same_bits(forward_ad.unpack_dual(y).tangent, expected, tx)


# ---------------------------------------------------------------- parameters and bad input


class TestBadInput:
    @pytest.mark.parametrize("name", list(NAMES))
    def test_integer_x_is_a_type_error_that_says_convert(self, name):
        for function in (getattr(anyrelu, name), getattr(anyrelu, f"{name}_dash")):
            with pytest.raises(TypeError, match=rf"^{function.__name__}\(\) needs x of a real floating dtype.*astype"):
                function(np.arange(3))

    @pytest.mark.parametrize(
        ("name", "key", "value"),
        [
            ("elu", "alpha", 0.0), ("elu", "alpha", np.nan), ("elu", "alpha", np.inf),
            ("celu", "alpha", 0.0), ("celu", "alpha", -1.0), ("celu", "alpha", np.inf),
            ("softplus", "beta", 0.0), ("softplus", "beta", -2.0), ("softplus", "beta", np.nan),
            ("squareplus", "b", 0.0), ("squareplus", "b", -4.0), ("squareplus", "b", np.inf),
            ("softplus", "beta", 1e-50),  # rounds to 0 in float32
        ],
    )  # fmt: skip
    def test_bad_parameters_are_a_value_error_naming_the_function(self, name, key, value):
        for function in (getattr(anyrelu, name), getattr(anyrelu, f"{name}_dash")):
            with pytest.raises(ValueError, match=rf"^{function.__name__}\(\) needs (a finite {key}|{key} to be)"):
                function(np.zeros(3, dtype=np.float32), **{key: value})

    @pytest.mark.parametrize(
        ("name", "key", "value"),
        [("elu", "alpha", "1"), ("softplus", "beta", None), ("squareplus", "b", [4.0]),
         ("gelu", "approximate", 1), ("gelu", "approximate", "tanh")],
    )  # fmt: skip
    def test_parameters_of_the_wrong_type_are_a_type_error(self, name, key, value):
        with pytest.raises(TypeError, match=rf"^{name}\(\) needs {key} to be"):
            getattr(anyrelu, name)(np.zeros(3), **{key: value})

    def test_a_negative_elu_alpha_is_allowed(self):
        np.testing.assert_array_equal(anyrelu.elu(np.array([-np.inf, 1.0]), alpha=-2.0), [2.0, 1.0])

    @pytest.mark.parametrize("name", list(NAMES))
    def test_inputs_are_not_modified_and_results_are_new_arrays(self, name):
        x = np.linspace(-5, 5, 11)
        before = x.copy()
        for function in (getattr(anyrelu, name), getattr(anyrelu, f"{name}_dash")):
            y = function(x)
            assert not np.shares_memory(x, y)
        np.testing.assert_array_equal(x, before)


# ---------------------------------------------------------------- the peers' known failures


class TestWhereOthersFail:
    """Each case the big frameworks get wrong (issue 11's list), pinned on every backend."""

    def test_no_nan_at_the_infinities(self, backend, xp):
        x = backend.asarray(np.array([-np.inf, np.inf], dtype=np.float32))
        for function in (anyrelu.gelu, anyrelu.silu, anyrelu.mish, anyrelu.hard_swish):
            y = backend.to_numpy(function(x))
            assert y[0] == 0 and y[1] == np.inf, function.__name__
            d = backend.to_numpy(getattr(anyrelu, f"{function.__name__}_dash")(x))
            np.testing.assert_array_equal(d, [0.0, 1.0])
        assert backend.to_numpy(anyrelu.gelu(x, approximate=True))[0] == 0

    def test_gelu_negative_tail_does_not_cancel(self, backend, xp):
        x = backend.asarray(np.array([-3.0, -6.0, -8.0, -10.0], dtype=np.float32))
        for approximate in (False, True):
            got = backend.to_numpy(anyrelu.gelu(x, approximate=approximate)).astype(np.float64)
            exact = [oracle.exact("gelu", v, approximate) for v in (-3.0, -6.0, -8.0, -10.0)]
            assert all(g < 0 for g in got), got  # torch's erf form gives -0.0 from x = -6 on
            assert all(oracle.ulps(g, e, np.float32) <= 2 * 80 for g, e in zip(got, exact, strict=True))

    def test_elu_family_derivative_keeps_its_tail(self, backend, xp):
        # through expm1's JVP (ans + 1), JAX's own ELU derivative is exactly 0 from x = -17 (float32)
        x = backend.asarray(np.array([-10.0, -20.0, -80.0], dtype=np.float32))
        for function in (anyrelu.elu_dash, anyrelu.celu_dash, anyrelu.selu_dash):
            d = backend.to_numpy(function(x)).astype(np.float64)
            assert (d > 0).all(), (function.__name__, d)
            np.testing.assert_allclose(d[:2] / d[:2].max(), np.exp([-10.0, -20.0]) / np.exp(-10.0), rtol=1e-6)

    def test_softplus_has_no_threshold_switch(self, backend, xp):
        x = backend.asarray(np.array([19.9, 20.0, 20.1, 20.5, 30.0]))
        y = backend.to_numpy(anyrelu.softplus(x))
        assert (np.diff(y) > 0).all()
        for v, got in zip([19.9, 20.0, 20.1, 20.5, 30.0], y, strict=True):
            assert oracle.ulps(float(got), oracle.exact("softplus", v, 1.0), np.float64) <= 4
        beta = backend.to_numpy(anyrelu.softplus(backend.asarray(np.array([0.041])), beta=10.0))
        assert oracle.ulps(float(beta[0]), oracle.exact("softplus", 0.041, 10.0), np.float64) <= 4

    def test_hard_functions_in_float64_and_at_huge_x(self, backend, xp):
        x = backend.asarray(np.array([0.0, 88.7, 1e38, 3e38], dtype=np.float32))
        np.testing.assert_array_equal(backend.to_numpy(anyrelu.hard_swish(x)), np.float32([0.0, 88.7, 1e38, 3e38]))
        sixth = backend.to_numpy(anyrelu.hard_sigmoid_dash(backend.asarray(np.array([0.0]))))
        assert sixth[0] == 1 / 6  # float64's 1/6, not float32's
        below = np.nextafter(np.float32(3), np.float32(0))  # x + 3 rounds to 6 here: the test is on x itself
        d = backend.to_numpy(anyrelu.hard_swish_dash(backend.asarray(np.array([below], dtype=np.float32))))[0]
        assert abs(d - 1.5) < 1e-6  # the middle piece's (2x + 3)/6, not the upper piece's 1

    def test_selu_limit_is_one_constant_rounded_once(self, backend, xp):
        y = backend.to_numpy(anyrelu.selu(backend.asarray(np.array([-np.inf]))))
        assert y[0] == -float(oracle.SELU_SCALE * oracle.SELU_ALPHA)

    def test_selu_dash_at_nan_does_not_depend_on_the_position(self, backend, xp):
        for n in (1, 7, 8, 9, 17, 33):
            for position in range(n):
                values = np.linspace(-3, 3, n)
                values[position] = np.nan
                d = backend.to_numpy(anyrelu.selu_dash(backend.asarray(values)))
                assert d[position] == float(oracle.SELU_SCALE)


def test_float32_constants_are_rounded_once():
    """The constants reach float32 through a Python float (float64); no decimal here sits at a
    float32 tie, so that is a single rounding of the exact decimal."""
    from anyrelu._reference import rectifiers

    decimals = {
        rectifiers.SELU_SCALE_ALPHA: "1.7580993408473768599402175208123",
        rectifiers.SELU_SCALE: "1.0507009873554804934193349852946",
    }
    for value, decimal in decimals.items():
        assert float(np.float32(value)) == round_once(Fraction(decimal), np.dtype("float32"))
    for exact_value in (1 / oracle.mpmath.sqrt(2), oracle.mpmath.sqrt(2 / oracle.mpmath.pi), oracle.mpf(1) / 6):
        assert float(np.float32(float(exact_value))) == oracle.correctly_rounded(exact_value, np.dtype("float32"))


def test_agnostic_erfc_is_within_two_ulp_times_its_condition():
    import array_api_compat.numpy as npx

    from anyrelu._reference.special import agnostic_erfc

    points = np.concatenate([np.linspace(-6, 27.3, 4001), np.random.default_rng(3).uniform(0, 6, 1000), [0.0, 27.25]])
    got = agnostic_erfc(np.asarray(points), npx).tolist()
    for v, g in zip(points.tolist(), got, strict=True):
        exact = oracle._erfc(oracle.mpf(v))
        slope = 2 / oracle.mpmath.sqrt(oracle.mpmath.pi) * oracle.mpmath.exp(-(oracle.mpf(v) ** 2))
        condition = float(abs(v * slope / exact)) if exact else 0.0
        assert oracle.ulps(g, exact, np.float64) <= 2 * max(1.0, condition), v

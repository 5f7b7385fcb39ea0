"""The accuracy contract on every CPU code path, the screen's own oracle, and the breaks a dense
screen and an adversarial round found (each pinned here against mpmath, tests/oracle.py).

The screen (``python -m anyrelu accuracy``) runs here on fewer points, once per CPU code path of
this machine -- each NumPy SIMD dispatch target, each torch ATen capability, and XLA's code with
and without FMA -- in a child process with the library's own switch set, so that the suite passes
or fails alike on AVX-512, AVX2 and baseline CPUs. The full screen (4M float32 points per
function) runs behind the ``screen`` marker: ``pytest -m screen``.
"""

from __future__ import annotations

import functools
import json
import math
import os
import subprocess
import sys

import mpmath
import numpy as np
import oracle
import pytest
from helpers import TORCH_JIT_DEPRECATED

import anyrelu
from anyrelu._tools import oracle as screen_oracle
from anyrelu._tools.accuracy import CASES, jax_paths, missing, numpy_paths, points

torch_paths: list[tuple[str, dict[str, str]]]
try:
    from anyrelu._tools.accuracy import torch_paths as _torch_paths

    torch_paths = _torch_paths()
except ImportError:
    torch_paths = []


def _run_screen(
    label: str, environment: dict[str, str], backends: list[str], count: int, dtypes: list[str] | None = None
) -> None:
    command = [sys.executable, "-m", "anyrelu", "accuracy", "--this-path-only", label, "--points", str(count)]
    for backend in backends:
        command += ["--backend", backend]
    for dtype in dtypes or []:
        command += ["--dtype", dtype]
    done = subprocess.run(command, env={**os.environ, **environment}, capture_output=True, text=True, check=False)
    assert done.stdout.startswith("["), done.stderr[-3000:]
    rows = json.loads(done.stdout)
    breaks = [r for r in rows if r["worst_ratio"] > 1]
    assert not breaks, [(r["library"], r["dtype"], r["case"], r["derivative"], r["worst_x"], r["got"], r["exact"],
                         round(r["worst_ulps"], 2)) for r in breaks[:10]]  # fmt: skip
    assert done.returncode == 0
    assert sum(r["points"] for r in rows if not r["skipped"]) > 0


def _installed(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


NUMPY_PATHS = numpy_paths()
_NUMPY_BACKENDS = ["numpy"] + (["array_api_strict"] if _installed("array_api_strict") else [])


@pytest.mark.parametrize(("label", "environment"), NUMPY_PATHS, ids=[p for p, _ in NUMPY_PATHS])
def test_the_screen_passes_on_every_numpy_simd_path(label, environment):
    # Dask's chunks run NumPy's kernels: once, on the path this CPU picks by itself
    dask = ["dask"] if label == NUMPY_PATHS[0][0] and _installed("dask") else []
    _run_screen(label, environment, _NUMPY_BACKENDS + dask, 3000)


_EVERY_FLOAT_NEAR_SOFTPLUS_DASH_WORST = """
import numpy as np, anyrelu
bits = np.arange(np.float32(0.9).view(np.uint32), np.float32(1.3).view(np.uint32) + 1, dtype=np.uint32)
x = (bits | np.uint32(0x80000000)).view(np.float32)
got = anyrelu.softplus_dash(x).astype(np.longdouble)
wide = x.astype(np.longdouble)
exact = 1 / (1 + np.exp(-wide))
ulps = np.abs(got - exact) / np.spacing(exact.astype(np.float32)).astype(np.longdouble)
ratio = ulps / (4 * np.maximum(1, np.abs(wide) * (1 - exact)))
print(x.size, float(ratio.max()), float(x[np.argmax(ratio)]))
"""


@pytest.mark.parametrize(("label", "environment"), NUMPY_PATHS, ids=[p for p, _ in NUMPY_PATHS])
def test_numpy_float32_softplus_dash_is_within_the_bound_on_every_float_near_its_worst(label, environment):
    """NumPy's float32 softplus derivative is the user's 1 / (1 + exp(-x)), NumPy's exp and two
    roundings: over every float32 in [-2.5, 2.5] its worst is 0.84 of the bound at x = -1.105,
    where the condition number is below 1 and the bound 4 ulp. Every float32 in [-1.3, -0.9] (4.2
    million), on each NumPy path, against a long double oracle."""
    worst, at = _worst_over_every_float(_EVERY_FLOAT_NEAR_SOFTPLUS_DASH_WORST, environment, 3_000_000)
    assert worst <= 1.0, (label, worst, at)


def _worst_over_every_float(code: str, environment: dict[str, str], at_least: int) -> tuple[float, str]:
    """Run ``code`` (it prints how many points, the worst error / the bound, and where) in a child
    process on one CPU code path."""
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, **environment},
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    count, worst, at = done.stdout.split()
    assert int(count) > at_least
    return float(worst), at


_EVERY_FLOAT_NEAR_SILU_DASH_WORST = """
import numpy as np, torch, anyrelu
bits = np.arange(np.float32(0.5).view(np.uint32), np.float32(0.6).view(np.uint32) + 1, dtype=np.uint32)
x = (bits | np.uint32(0x80000000)).view(np.float32)
got = anyrelu.silu_dash(torch.from_numpy(x)).numpy().astype(np.longdouble)
wide = x.astype(np.longdouble)
s = 1 / (1 + np.exp(-wide))
exact = s * (1 + wide * (1 - s))
ulps = np.abs(got - exact) / np.abs(np.spacing(exact.astype(np.float32)).astype(np.longdouble))
second = s * (1 - s) * (2 + wide * (1 - 2 * s))
ratio = ulps / (4 * np.maximum(1, np.abs(wide * second / exact)))
print(x.size, float(ratio.max()), float(x[np.argmax(ratio)]))
"""


@pytest.mark.skipif(not torch_paths, reason="torch is not installed")
@pytest.mark.parametrize(("label", "environment"), torch_paths, ids=[p for p, _ in torch_paths])
def test_torch_float32_silu_dash_is_within_the_bound_on_every_float_near_its_worst(label, environment):
    """torch's SiLU derivative in float32 as s(x) (x + d) / d, with torch's exp and sigmoid, was
    4.02 ulp off at x = -0.5527069 on the default capability (3.88 at -0.5405617 on avx512, 4.04
    at -0.5365222 with exp2), its worst over every float32 in [-4, 4], where the bound is 4 (the
    condition number is below 1); it is float64 now, rounded once. Every float32 in [-0.6, -0.5]
    (1.7 million), on each ATen capability, against a long double oracle."""
    worst, at = _worst_over_every_float(_EVERY_FLOAT_NEAR_SILU_DASH_WORST, environment, 1_500_000)
    assert worst <= 1.0, (label, worst, at)


# Each float32 kernel that rounds more than once, at its worst point over every float32 with |x| in
# [2^-14, 8] on the default CPU path (2026-12-06, AMD EPYC with AVX-512): (backend, function, x, the
# fraction of the bound there). The window is every float32 within 3% of x (about a million), on
# every CPU path, each case of the function, value and derivative.
WORST_POINTS = [
    ("jax", "gelu", -2.1930199, 0.36),
    ("jax", "gelu", -1.3296618, 0.85),  # the tanh form
    ("jax", "silu", -0.0231295, 0.73),
    ("jax", "silu", -2.2103422, 0.68),
    ("jax", "softplus", 0.3029766, 0.78),
    ("jax", "mish", -2.0461011, 0.72),
    ("jax", "mish", 0.0177213, 0.69),
    ("jax", "squareplus", -0.0362875, 0.76),
    ("jax", "selu", -0.6866867, 0.77),  # XLA's AVX path; λα carried as two halves, no pair: every float32 in [-20, 0]
    ("torch.compile", "selu", -0.6866867, 0.77),
    ("jax", "elu", -0.6868464, 0.65),  # alpha 1 rounded as written, XLA's AVX path: every float32 in [-20, 0]
    ("torch.compile", "elu", -0.6868464, 0.65),  # the same kernel in inductor's loops
    ("jax", "hard_swish", -1.9993775, 0.92),  # XLA's AVX path (no FMA): x fl(1/6) + 1/2 rounds twice
    ("jax", "hard_swish", 0.0019453168, 0.75),
    ("jax", "squareplus", -0.0090431, 0.71),  # the derivative
    ("torch", "selu", -0.3253021, 0.91),  # torch's own elu kernel
    ("torch", "softplus", -0.5458403, 0.69),  # F.softplus
    ("torch", "silu", -0.0157153, 0.99),  # F.silu
    ("torch", "silu", -0.00048834, 1.00),  # F.silu: 2.0 ulps, 0.9995 of the bound
    ("torch", "selu", -6.914e-05, 0.80),
    ("torch.compile", "gelu", -1.2616817, 0.57),  # the derivative; float32.py under inductor
    ("torch", "hard_swish", 0.0038954, 0.91),  # |x| in [2^-29, 3]
    ("numpy", "hard_swish", 0.0038954, 0.91),  # |x| in [2^-29, 3]
]


def _window(backend: str, function: str, low: float, high: float, dtype: str, tmp_path, sample: int = 0) -> list:
    """The rows of ``accuracy --between low high`` (``--sample``: that many drawn) on every path."""
    rows = tmp_path / "rows.json"
    command = [sys.executable, "-m", "anyrelu", "accuracy", "--between", repr(low), repr(high), "--dtype", dtype,
               "--backend", backend, "--function", function, "--json", str(rows)]  # fmt: skip
    done = subprocess.run(command + (["--sample", str(sample)] if sample else []), capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert done.returncode == 0, (function, low, high, done.stdout[-3000:], done.stderr[-2000:])
    return [r for r in json.loads(rows.read_text()) if not r["skipped"]]


# float64's worst points, where a window holds 10^13 floats or more: 200000 of them drawn at random
# within 3% of x (``--sample``) on every path, for every backend. (backend, function, x, the
# fraction of the bound found there with 10^6 drawn)
FLOAT64_WORST_POINTS = [
    ("numpy", "mish", -2.0721322067682775, 0.62),  # 1.03 before the sums' roundings were carried
    ("torch", "mish", -2.0721322067682775, 0.59),
    ("jax", "mish", -2.0721322067682775, 0.58),
    ("numpy", "gelu", -1.2505448189887904, 0.70),  # the tanh form's derivative: 1.01 before (8.07 ulps)
    ("torch", "gelu", -1.2505448189887904, 0.70),
    ("jax", "gelu", -1.2505448189887904, 0.70),
    ("jax", "softplus", -1.0138271857782378e30, 0.85),  # beta 1e-30: 1.05 with XLA's float64 exp
    ("numpy", "squareplus", -8.832168472661861e-152, 0.45),  # b = 1e-310: 0.99 with sqrt(b)/2 squared
    ("torch", "gelu", -1.2277643319214047, 0.77),  # exact GELU's derivative, torch's float64 kernel: 0.92 before
]


WINDOWS = [(*point[:3], "float32", point[3]) for point in WORST_POINTS]
WINDOWS += [(*point[:3], "float64", point[3]) for point in FLOAT64_WORST_POINTS]


@pytest.mark.screen
@pytest.mark.parametrize(("backend", "function", "x", "dtype", "found"), WINDOWS,
                         ids=[f"{b}-{f}-{d}-{x}" for b, f, x, d, _ in WINDOWS])  # fmt: skip
def test_the_floats_near_each_kernels_worst_point_are_within_the_bound(backend, function, x, dtype, found, tmp_path):
    """Every float32 within 3% of each float32 worst point, and 200000 float64 drawn within 3% of
    each float64 one, every case of the function, on every CPU path."""
    if (reason := missing(backend)) is not None:
        pytest.skip(f"{backend}: {reason}")
    drawn = 200_000 if dtype == "float64" else 0
    screened = _window(backend, function, *sorted([x * 0.97, x * 1.03]), dtype, tmp_path, sample=drawn)
    points = min(r["points"] for r in screened)
    assert points == drawn if drawn else points > 500_000
    assert {r["derivative"] for r in screened} == {False, True}
    assert max(r["worst_ratio"] for r in screened) <= 1, found


@pytest.mark.skipif(not torch_paths, reason="torch is not installed")
@pytest.mark.parametrize(("label", "environment"), torch_paths, ids=[p for p, _ in torch_paths])
def test_the_screen_passes_on_every_torch_cpu_capability(label, environment):
    _run_screen(label, environment, ["torch"], 3000)


_COMPILE_MISSING = missing("torch.compile")


@pytest.mark.skipif(_COMPILE_MISSING is not None, reason=f"torch.compile: {_COMPILE_MISSING}")
def test_the_screen_passes_under_torch_compile_on_this_cpus_capability():
    # inductor writes its own loops for a compiled graph (its vectorized expm1 is exp(x) - 1):
    # every case compiled whole with its derivative, in float32, on the capability this CPU picks
    # (a compilation per case is this test's time); every capability and dtype in the full screen
    # below
    label, environment = torch_paths[-1]
    _run_screen(label, environment, ["torch.compile"], 3000, dtypes=["float32"])


@pytest.mark.screen
@pytest.mark.skipif(_COMPILE_MISSING is not None, reason=f"torch.compile: {_COMPILE_MISSING}")
@TORCH_JIT_DEPRECATED
@pytest.mark.parametrize("dtype", ["float32"])
def test_the_screens_compiled_pair_gives_each_output_the_bits_it_has_compiled_alone(dtype):
    """The screen compiles a function and its derivative in one graph (one compilation where two
    took 1.3x its time): each output has the bits of that function compiled alone, on every case.
    float32, the dtype the suite screens compiled; float64 too on 2026-12-07, on the default
    capability (every case, the same bits), at five minutes more."""
    import torch

    from anyrelu._tools import accuracy

    x = torch.from_numpy(points(dtype, 3000))
    bits = torch.int32 if dtype == "float32" else torch.int64
    compared = 0
    for name, kwargs in accuracy.CASES:
        try:
            pair = (
                accuracy.anyrelu_call(name, False, kwargs, "torch.compile"),
                accuracy.anyrelu_call(name, True, kwargs, "torch.compile"),
            )
            together = [call(x) for call in pair]
        except (TypeError, ValueError):  # a parameter x's dtype cannot hold: refused either way
            continue
        for f, got in zip([getattr(anyrelu, name), getattr(anyrelu, f"{name}_dash")], together, strict=True):
            torch._dynamo.reset()
            alone = torch.compile(lambda v, f=f: f(v, **kwargs), dynamic=True, fullgraph=True)(x)
            assert torch.equal(got.view(bits), alone.view(bits)), (name, kwargs, f.__name__)
            compared += 1
    assert compared >= 40


JAX_PATHS = jax_paths()


@pytest.mark.skipif(not _installed("jax"), reason="jax is not installed")
@pytest.mark.parametrize(("label", "environment"), JAX_PATHS, ids=[p for p, _ in JAX_PATHS])
def test_the_screen_passes_on_every_xla_cpu_instruction_set(label, environment):
    # float32 and float64: each case is a compiled program per dtype (most of this test's time);
    # the half types compute in float32 and round once, and run in the full screen below
    _run_screen(label, environment, ["jax"], 3000, dtypes=["float32", "float64"])


@pytest.mark.screen
def test_the_full_screen_passes_on_every_path_and_backend():
    command = [sys.executable, "-m", "anyrelu", "accuracy", "--points", "1e6"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]


# ---------------------------------------------------------------- the screen's oracle


@pytest.mark.skipif(not screen_oracle.EXTENDED, reason="np.longdouble is float64 on this platform")
@pytest.mark.parametrize("dash", [False, True], ids=["f", "f_dash"])
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}{k}" for n, k in CASES])
def test_the_screen_oracle_agrees_with_mpmath(name, kwargs, dash):
    """np.longdouble formulas within 2^-60 (math.erfc's GELU: 2^-50) of 120-bit mpmath."""
    key = oracle.PARAMETER.get(name)
    parameter = kwargs.get(key, {"alpha": 1.0, "approximate": False, "beta": 1.0, "b": 4.0}.get(key)) if key else None
    x = np.random.default_rng(3).choice(points("float64", 40_000), 150, replace=False)
    x = x[np.abs(x) < (37 if name == "gelu" and not parameter else 1e300)]  # math.erfc's normal range
    value, condition = screen_oracle.evaluate(name, dash, x, parameter)
    unit = 2.0**-47 if name == "gelu" and not parameter else 2.0**-60  # per unit of condition number
    for v, got, c in zip(x.tolist(), value, condition, strict=True):
        exact = oracle.exact(name, v, parameter, dash)
        if abs(exact) < mpmath.mpf(2) ** -1080:  # below half of float64's smallest subnormal: rounds to a zero
            assert abs(mpmath.mpf(str(got))) < mpmath.mpf(2) ** -1075, (v, got)
            continue
        relative = abs(mpmath.mpf(str(got)) - exact) / abs(exact)
        assert relative < unit * max(1.0, c), (v, float(got), float(exact), float(relative))


def test_the_screen_oracle_gives_signed_zeros_below_long_double_without_a_warning():
    """mpmath's GELU at x = -1e5 is about -1e-2171472419: np.longdouble() of its string warns
    (the suite runs with -W error); the oracle makes it -0.0 itself, and keeps the rest."""
    x = np.array([-1e5, -60.0, 1.0])
    value = screen_oracle.exact_mpmath("gelu", False, x, False)
    assert value[0] == 0 and np.signbit(value[0])
    assert value[1] < 0 and abs(mpmath.mpf(str(value[1])) / (-60 * mpmath.ncdf(-60)) - 1) < 1e-15
    assert abs(float(value[2]) - float(mpmath.ncdf(1))) < 1e-16


def test_the_screen_measure_applies_the_underflow_rule():
    """Below 64 x the smallest normal an absolute error up to that amount passes; above, ulps count."""
    dtype = np.dtype("float32")
    tiny = float(np.finfo(dtype).smallest_normal)
    exact = np.array([10 * tiny, 1024 * tiny, 1.0], dtype=np.longdouble)
    got = np.array([0.0, 1024 * tiny * (1 + 2**-22), 1 + 2**-23 * 3], dtype=np.float64)
    ulps, ratio = screen_oracle.excess(got, exact, np.zeros(3), dtype, False)
    assert ratio[0] <= 1  # flushed to zero, within the allowance
    assert ulps[1] == pytest.approx(2.0) and ratio[1] == pytest.approx(1.0)
    assert ulps[2] == pytest.approx(3.0) and ratio[2] > 1  # 3 ulp: a break (bound 2)


def test_the_screen_evaluates_the_bulk_apart_from_the_extremes():
    """A kernel that picks its form by its input's range (torch's read of x's largest or smallest
    element) is screened in the form the bulk of the points takes, not only in the form that
    ±inf or the largest numbers send a whole array to."""
    from anyrelu._tools.accuracy import _evaluate

    x = points("float32", 20_000)
    seen = []

    def call(v):
        seen.append(np.asarray(v).copy())
        return -np.asarray(v)

    got = _evaluate(call, "numpy", x, "float32")
    np.testing.assert_array_equal(got, -x)  # every point, in its place
    bulk, extremes = seen
    assert np.isfinite(bulk).all() and np.abs(bulk).max() <= np.finfo(np.float32).max / 8
    assert bulk.size + extremes.size == x.size and np.isinf(extremes).any()


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_a_window_holds_every_float_between_its_ends_once(monkeypatch, dtype):
    """``--between``: every float from one end to the other, across zero, in chunks (here of 7),
    against a walk by nextafter."""
    from anyrelu._tools import accuracy

    monkeypatch.setattr(accuracy, "WINDOW_CHUNK", 7)
    tiny = float(np.finfo(dtype).smallest_subnormal)
    low, high = -20 * tiny, 30 * tiny
    walk = [np.array(low, dtype)]
    while walk[-1] < high:
        walk.append(np.nextafter(walk[-1], np.array(np.inf, dtype)))
    walk = [abs(v) if v == 0 else v for v in walk]  # the walk's zero is -0.0; the window's +0.0
    got = list(accuracy.every_float(dtype, low, high))
    assert {c.size for c in got[:-1]} == {7} and all(c.dtype == np.dtype(dtype) for c in got)
    np.testing.assert_array_equal(np.concatenate(got).view(f"u{np.dtype(dtype).itemsize}"),
                                  np.array(walk).view(f"u{np.dtype(dtype).itemsize}"))  # fmt: skip


@pytest.mark.parametrize(("dtype", "low", "high"),
                         [("float64", 1.0, 2.0), ("float64", -1e-300, 1e-300), ("float64", -1e300, 1e300),
                          ("float32", -0.6, -0.5)])  # fmt: skip
def test_a_sampled_window_holds_its_ends_and_distinct_floats_between_them(monkeypatch, dtype, low, high):
    """``--between`` with ``--sample N``: N distinct floats of the dtype, ascending, the window's
    ends among them and none outside, in chunks (here of 64); the same ones on a second run."""
    from anyrelu._tools import accuracy

    monkeypatch.setattr(accuracy, "WINDOW_CHUNK", 64)
    got = list(accuracy.every_float(dtype, low, high, 1000))
    x = np.concatenate(got)
    assert {c.size for c in got[:-1]} == {64} and all(c.dtype == np.dtype(dtype) for c in got)
    assert x.size == 1000 and (np.diff(x) > 0).all()  # distinct, ascending
    assert (x[0], x[-1]) == (np.array(low, dtype), np.array(high, dtype))
    np.testing.assert_array_equal(np.concatenate(list(accuracy.every_float(dtype, low, high, 1000))), x)


def test_a_sampled_window_draws_its_floats_not_its_values_alike():
    """Each float of the window is as likely as any other: [1, 4] holds as many float64 numbers
    in [1, 2) as in [2, 4), so half the draws fall in each (by value, a third would), and a window
    of fewer floats than N gives every one of them."""
    from anyrelu._tools import accuracy

    x = np.concatenate(list(accuracy.every_float("float64", 1.0, 4.0, 20_000)))
    assert 0.48 < np.mean(x < 2) < 0.52
    every = np.concatenate(list(accuracy.every_float("float16", -1.0, 1.0)))
    np.testing.assert_array_equal(np.concatenate(list(accuracy.every_float("float16", -1.0, 1.0, 100_000))), every)


def test_a_sampled_window_screens_n_points_per_dtype():
    from anyrelu._tools import accuracy

    rows = list(accuracy.screen(["numpy"], "test", ["float64", "float32"], 100, False, [("elu", {})],
                                between=(-0.9, -0.8), drawn=3000))  # fmt: skip
    assert sorted((r.dtype, r.points) for r in rows) == [("float32", 3000)] * 2 + [("float64", 3000)] * 2
    assert all(r.worst_ratio <= 1 for r in rows)


def test_a_window_finds_an_error_at_one_float_in_any_chunk(monkeypatch):
    """The window's rows add up over its chunks: every point counted, and the worst one found
    wherever it lies (here one float32 off by 2^-20, in the middle of the window's third chunk)."""
    from anyrelu._tools import accuracy

    monkeypatch.setattr(accuracy, "WINDOW_CHUNK", 1000)
    window = (-1.25, -1.25 + 4000 * 2.0**-23)  # 4001 floats: five chunks
    rows = list(accuracy.screen(["numpy"], "test", ["float32"], 100, False, [("elu", {})], between=window))
    assert [r.points for r in rows] == [4001, 4001] and all(r.worst_ratio <= 1 for r in rows)
    bad = np.float32(-1.25 + 2500 * 2.0**-23)
    right = accuracy.anyrelu_call

    def off_at_one_float(name, dash, kwargs, library):
        f = right(name, dash, kwargs, library)
        return lambda v: np.where(v == bad, f(v) * np.float32(1 + 2.0**-20), f(v))

    monkeypatch.setattr(accuracy, "anyrelu_call", off_at_one_float)
    rows = list(accuracy.screen(["numpy"], "test", ["float32"], 100, False, [("elu", {})], between=window))
    assert [(r.breaks, r.worst_x) for r in rows] == [(1, float(bad))] * 2


@pytest.mark.skipif(not torch_paths, reason="torch is not installed")
def test_the_screen_catches_an_error_only_strided_torch_tensors_show(monkeypatch):
    """ATen's kernels have a scalar loop, written apart from the vectorized one, that runs on
    non-contiguous tensors: the screen calls torch on a strided view too, so that a kernel right
    on contiguous tensors and an ulp off on strided ones is a break (and is not otherwise)."""
    from anyrelu._tools import accuracy

    x = points("float32", 3000)
    reference = screen_oracle.evaluate("elu", False, x, 1.0)
    right = accuracy.anyrelu_call

    def row() -> accuracy.Row:
        return accuracy.screen_one("torch", "test", "float32", "elu", {}, False, x, reference, None, False)

    assert row().breaks == 0
    seen = []

    def off_when_strided(name, dash, kwargs, library):
        f = right(name, dash, kwargs, library)

        def call(v):
            seen.append(v.is_contiguous())
            y = f(v)
            return y if v.is_contiguous() else y * (1 + 2.0**-20)

        return call

    monkeypatch.setattr(accuracy, "anyrelu_call", off_when_strided)
    assert row().breaks > 0
    assert True in seen and False in seen


# ---------------------------------------------------------------- the breaks, pinned


def _exact_f64(name, x, parameter=None, dash=False):
    return float(oracle.exact(name, x, parameter, dash))


def _assert_close_ulps(got, expected, ulps, dtype=np.float64):
    spacing = float(np.spacing(np.abs(np.asarray(expected, dtype=dtype))))
    assert abs(float(got) - float(expected)) <= ulps * spacing, (float(got), float(expected))


@pytest.mark.parametrize(
    ("call", "name", "parameter", "dash", "x"),
    [
        (lambda x: anyrelu.silu(x), "silu", None, False, -708.5),
        (lambda x: anyrelu.mish(x), "mish", None, False, -708.5),
        (lambda x: anyrelu.silu_dash(x), "silu", None, True, -709.4),
        (lambda x: anyrelu.mish_dash(x), "mish", None, True, -709.4),
        (lambda x: anyrelu.elu_dash(x, alpha=8.99e307), "elu", 8.99e307, True, -710.0),
        (lambda x: anyrelu.elu_dash(x, alpha=1e30), "elu", 1e30, True, -746.9),
        (lambda x: anyrelu.gelu_dash(x, approximate=True), "gelu", True, True, -21.16),
        (lambda x: anyrelu.celu(x, alpha=1e10), "celu", 1e10, False, -2.3e-306),
        (lambda x: anyrelu.celu(x, alpha=4.5e307), "celu", 4.5e307, False, -3.0),
        (lambda x: anyrelu.softplus(x, beta=1e-30), "softplus", 1e-30, False, -7.4513e32),
    ],
    ids=["silu", "mish", "silu_dash", "mish_dash", "elu_dash-huge-alpha", "elu_dash-1e30", "gelu-tanh-dash",
         "celu-large-alpha-tiny-x", "celu-alpha-4.5e307", "softplus-beta-1e-30"],
)  # fmt: skip
def test_float64_tails_that_are_normal_numbers_are_not_lost(backend, call, name, parameter, dash, x):
    """Where an intermediate exp underflows (or is flushed, as XLA does) but the result is a normal
    number, the result is still within the bound."""
    if backend.dtype("float64") is None:
        pytest.skip(f"{backend.name} has no float64")
    got = backend.to_numpy(call(backend.asarray(np.array([x]), backend.dtype("float64")))).astype(np.float64)[0]
    expected = _exact_f64(name, x, parameter, dash)
    assert abs(expected) > 64 * 2.2250738585072014e-308
    condition = oracle.condition(name, x, parameter, dash)
    _assert_close_ulps(got, expected, (8 if dash else 4) * max(1.0, condition))


@pytest.mark.skipif(_COMPILE_MISSING is not None, reason=f"torch.compile: {_COMPILE_MISSING}")
@TORCH_JIT_DEPRECATED
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_compiled_elu_family_is_within_the_bound_where_inductors_expm1_is_not(dtype):
    """Inductor's vectorized CPU loops compute expm1 as exp(x) - 1: compiled, elu(-4.66e-10) was
    0.0 in float32, and selu and celu with it, for every alpha."""
    import torch

    x = torch.tensor([-4.655867e-10, -1e-6, -1e-3, -0.5, -0.7, -1.5, -30.0] * 3, dtype=getattr(torch, dtype))
    torch._dynamo.reset()
    calls = torch.compile(lambda v: [anyrelu.elu(v), anyrelu.selu(v), anyrelu.celu(v, 0.3), anyrelu.elu(v, 0.3)],
                          fullgraph=True)  # fmt: skip
    parameters = [("elu", 1.0), ("selu", None), ("celu", 0.3), ("elu", 0.3)]
    for (name, parameter), got in zip(parameters, calls(x), strict=True):
        alpha = None if parameter is None else float(np.asarray(parameter, dtype=dtype))  # as x's dtype holds it
        for v, g in zip(x.tolist(), got.tolist(), strict=True):
            exact = oracle.exact(name, v, alpha)
            allowed = oracle.bound(np.dtype(dtype), False) * max(1.0, oracle.condition(name, v, alpha))
            assert oracle.ulps(g, exact, np.dtype(dtype)) <= allowed, (dtype, name, v, g, float(exact))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float32_elu_family_is_within_the_bound_where_numpy_simd_expm1_is_not(backend, dtype):
    """celu(-2.915126, alpha=3) is 2.09 ulp off with NumPy's AVX-512 expm1 in float32."""
    x = np.float32(-2.915126085281372)
    got = backend.to_numpy(anyrelu.celu(backend.asarray(np.array([x], dtype=dtype), backend.dtype(dtype)), alpha=3.0))
    expected = _exact_f64("celu", float(x), float(np.asarray(3.0, dtype=dtype)))
    _assert_close_ulps(got.astype(np.float64)[0], np.asarray(expected, dtype=dtype), 1.0, np.dtype(dtype))


def test_float32_silu_dash_is_within_the_bound_where_an_exp2_form_was_not(backend):
    """torch's float32 SiLU derivative with e^x as exp2(x log2(e)) gave 4.04 ulp at x = -0.5365222
    (bound 4), where its e^x rounds the other way and four roundings add up: found by checking
    every float32 in [-4, 4]. With exp, 1.04."""
    x = np.float32(-0.5365222096443176)
    got = backend.to_numpy(anyrelu.silu_dash(backend.asarray(np.full(8, x), backend.dtype("float32"))))
    exact = oracle.exact("silu", float(x), None, True)
    allowed = oracle.bound(np.dtype("float32"), True) * max(1.0, oracle.condition("silu", float(x), None, True))
    assert oracle.ulps(float(got[0]), exact, np.dtype("float32")) <= allowed


@pytest.mark.parametrize(
    ("call", "name", "parameter", "dash", "x"),
    [
        # n / (n + 2) rounded five times: 4.12 ulps on every backend (bound 4, condition 0.94)
        (lambda x: anyrelu.mish(x), "mish", None, False, -2.0721322067682775),
        # 1 + x a' rounded four times before E was added: 8.07 ulps on every backend but XLA's
        # FMA path (bound 8, condition 0.83)
        (lambda x: anyrelu.gelu_dash(x, approximate=True), "gelu", True, True, -1.2505448189887904),
    ],
    ids=["mish", "gelu-tanh-dash"],
)  # fmt: skip
def test_float64_points_where_drawn_windows_found_breaks_are_within_the_bound(backend, call, name, parameter, dash, x):
    """Float64 breaks found among 300000-10^6 float64 drawn near the screen's worst points
    (``--between`` with ``--sample``), where the screen's own points had passed by."""
    if backend.dtype("float64") is None:
        pytest.skip(f"{backend.name} has no float64")
    got = backend.to_numpy(call(backend.asarray(np.full(8, x), backend.dtype("float64"))))
    exact = oracle.exact(name, x, parameter, dash)
    allowed = oracle.bound(np.dtype("float64"), dash) * max(1.0, oracle.condition(name, x, parameter, dash))
    assert oracle.ulps(float(got[0]), exact, np.dtype("float64")) <= allowed


@pytest.mark.skipif(not _installed("jax"), reason="jax is not installed")
@pytest.mark.parametrize(("function", "x"), [("softplus", -1.0138271857782378e30), ("mish", -2.0721322067682775),
                                             ("gelu", -1.2505448189887904)])  # fmt: skip
def test_float64_breaks_found_by_drawn_windows_stay_fixed_on_every_xla_path(function, x, tmp_path):
    """Each float64 point where a drawn window found a break, screened alone (a window of one
    float) on both XLA code paths, every case of the function: softplus(beta=1e-30) was 4.21 ulps
    off there on XLA's path without FMA (bound 4), with XLA's float64 exp (1.66 ulp off), which
    the in-process tests, on the FMA path, do not reach; mish and tanh-GELU's derivative broke on
    that path too."""
    screened = _window("jax", function, x, x, "float64", tmp_path)
    assert {r["path"] for r in screened} == {path for path, _ in JAX_PATHS}
    assert {r["points"] for r in screened} == {1} and max(r["worst_ratio"] for r in screened) <= 1


# x < 0, where elu(x) is expm1(x) with no other rounding: [-1, 0) and |x| down to 2^-40.
_EXPM1_RANDOM = np.random.default_rng(0)
EXPM1_POINTS = np.concatenate([_EXPM1_RANDOM.uniform(-1, 0, 200000), -(2.0 ** _EXPM1_RANDOM.uniform(-40, 0, 200000))])


def _expm1_ulps(got: np.ndarray) -> float:
    """The largest error of elu(EXPM1_POINTS) in float64 ulps against long double's expm1."""
    exact = np.expm1(EXPM1_POINTS.astype(np.longdouble))
    return float(np.max(np.abs(got.astype(np.longdouble) - exact) / np.spacing(np.abs(exact.astype(np.float64)))))


_EXPM1_CHILD = """
import sys, numpy as np, jax
jax.config.update("jax_enable_x64", True)
import anyrelu
np.save(sys.argv[2], np.asarray(anyrelu.elu(jax.numpy.asarray(np.load(sys.argv[1])))))
"""


@pytest.mark.skipif(not _installed("jax"), reason="jax is not installed")
@pytest.mark.skipif(np.finfo(np.longdouble).nmant < 63, reason="long double is not wider than float64 here")
@pytest.mark.parametrize(("label", "environment"), JAX_PATHS, ids=[p for p, _ in JAX_PATHS])
def test_jax_float64_expm1_is_within_one_and_a_half_ulps_on_every_xla_path(label, environment, tmp_path):
    """JAX's float64 expm1, for |x| < 1 Taylor's series: 1.11 ulp on XLA's FMA path, 1.43 without
    FMA, against long double. Kahan's form before it gave 2.56 and left celu(alpha=0.21) at 0.98
    of its bound near x = -0.0004317; XLA's own expm1 is 4.5 ulp off."""
    points, got = tmp_path / "x.npy", tmp_path / "elu.npy"
    np.save(points, EXPM1_POINTS)
    done = subprocess.run([sys.executable, "-c", _EXPM1_CHILD, str(points), str(got)],
                          env={**os.environ, **environment}, capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert _expm1_ulps(np.load(got)) <= 1.5, label


@pytest.mark.skipif(_COMPILE_MISSING is not None, reason=f"torch.compile: {_COMPILE_MISSING}")
@TORCH_JIT_DEPRECATED
@pytest.mark.skipif(np.finfo(np.longdouble).nmant < 63, reason="long double is not wider than float64 here")
def test_compiled_float64_expm1_is_within_one_and_a_half_ulps():
    """In a compiled CPU graph (inductor's expm1 is exp(x) - 1) anyrelu's float64 expm1 is the same
    series as JAX's: 1.42 ulp against long double (Kahan's form: 2.1)."""
    import torch

    torch._dynamo.reset()
    got = torch.compile(anyrelu.elu, fullgraph=True)(torch.from_numpy(EXPM1_POINTS)).numpy()
    assert _expm1_ulps(got) <= 1.5


def test_celu_dash_at_zero_is_one_for_every_alpha(backend):
    alphas = [0.21, 0.3, 0.7, 1.3, 3.0, 17.0]
    for dtype in ("float32", "float64"):
        x = backend.asarray(np.array([0.0, -0.0]), backend.dtype(dtype))
        for alpha in alphas:
            got = backend.to_numpy(anyrelu.celu_dash(x, alpha=alpha)).astype(np.float64)
            assert got.tolist() == [1.0, 1.0], (dtype, alpha, got)


def test_squareplus_dash_with_a_subnormal_b_stays_below_a_half_for_negative_x(backend):
    if backend.dtype("float64") is None:
        pytest.skip(f"{backend.name} has no float64")
    if backend.flushes_subnormals("float64"):
        pytest.skip(f"{backend.name} flushes float64 subnormals: b = 1e-310 is refused as zero")
    x = backend.asarray(np.array([-1e-300, -1e-155, -0.0]), backend.dtype("float64"))
    got = backend.to_numpy(anyrelu.squareplus_dash(x, b=1e-310)).astype(np.float64)
    assert (got <= 0.5).all(), got


@pytest.mark.parametrize("dtype", [">f4", ">f2", ">f8", "<f4"])
@pytest.mark.parametrize("name", ["silu", "mish", "gelu", "softplus", "hard_swish", "elu", "squareplus"])
def test_numpy_arrays_in_either_byte_order_give_the_native_results(name, dtype):
    x = np.array([-4.0, -1.0, -0.25, 0.5, 2.0, 7.0], dtype=dtype)
    native = x.astype(np.dtype(dtype).newbyteorder("="))
    for suffix in ("", "_dash"):
        f = getattr(anyrelu, name + suffix)
        for kwargs in ({}, {"beta": 3.0} if name == "softplus" else {}):
            got, expected = f(x, **kwargs), f(native, **kwargs)
            assert got.dtype == native.dtype
            np.testing.assert_array_equal(got, expected)
    if name == "gelu":
        np.testing.assert_array_equal(anyrelu.gelu(x, approximate=True), anyrelu.gelu(native, approximate=True))


# ---------------------------------------------------------------- second derivatives, against mpmath


SECOND = [
    ("silu", {}, [0.0, -1.5, 2.0, -40.0]),
    ("gelu", {"approximate": True}, [0.0, -1.0, 2.5]),
    ("gelu", {}, [0.0, -1.0, 2.5]),
    ("squareplus", {}, [0.0, -3.0, 2.0]),
    ("squareplus", {"b": 0.5}, [0.0, -3.0]),
    ("elu", {}, [0.0, -1.0, 2.0]),
    ("elu", {"alpha": 0.3}, [0.0, -1.0]),
    ("selu", {}, [0.0, -1.0, 2.0]),
    ("celu", {"alpha": 0.7}, [0.0, -1.0, 2.0]),
    ("softplus", {}, [0.0, -3.0, 4.0]),
    ("mish", {}, [0.0, -1.0, 2.0]),
]


def _exact_second(name, kwargs, x):
    """f''(x) by mpmath from tests/oracle.py's f'; at the kink of elu, selu and celu from below
    (x = 0 is on the lower piece: the lesson's rule)."""
    key = oracle.PARAMETER.get(name)
    parameter = kwargs.get(key, {"alpha": 1.0, "approximate": False, "beta": 1.0, "b": 4.0}.get(key)) if key else None
    p = parameter if isinstance(parameter, bool) or parameter is None else mpmath.mpf(parameter)
    direction = -1 if x == 0 and name in ("elu", "selu", "celu") else 0
    return float(mpmath.diff(lambda v: oracle.FUNCTIONS[name][1](v, p), mpmath.mpf(x), direction=direction))


@pytest.mark.parametrize(("name", "kwargs", "xs"), SECOND, ids=[f"{n}{k}" for n, k, _ in SECOND])
def test_torch_second_derivatives_match_mpmath(name, kwargs, xs):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    from torch.func import grad, vmap

    x = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    f = getattr(anyrelu, name)
    (first,) = torch.autograd.grad(f(x, **kwargs).sum(), x, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), x)
    hessian = vmap(grad(grad(lambda v: f(v, **kwargs))))(x.detach())
    expected = [_exact_second(name, kwargs, v) for v in xs]
    np.testing.assert_allclose(second.numpy(), expected, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(hessian.numpy(), expected, rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize(("name", "kwargs"), [("silu", {}), ("mish", {}), ("gelu", {"approximate": True})])
def test_torch_float32_second_derivatives_match_mpmath_and_vanish_at_the_infinities(name, kwargs):
    """silu, mish and tanh-GELU on float32 torch tensors: the chain rule of f' is f'', rounded once
    from float64."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    from torch.func import grad, vmap

    xs = [0.0, -1.0, -1.5, 2.0, -2.5, 8.0, -20.0, 20.0, -40.0]
    x = torch.tensor(xs, dtype=torch.float32, requires_grad=True)
    f = functools.partial(getattr(anyrelu, name), **kwargs)
    (first,) = torch.autograd.grad(f(x).sum(), x, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), x)
    expected = [_exact_second(name, kwargs, v) for v in xs]
    np.testing.assert_allclose(second.numpy(), expected, rtol=2**-21, atol=1e-37)
    np.testing.assert_array_equal(vmap(grad(grad(f)))(x.detach()).numpy(), second.numpy())
    ends = torch.tensor([-math.inf, math.inf], requires_grad=True)
    (first,) = torch.autograd.grad(f(ends).sum(), ends, create_graph=True)
    assert first.tolist() == [0.0, 1.0]
    assert torch.autograd.grad(first.sum(), ends)[0].tolist() == [0.0, 0.0]


@pytest.mark.parametrize(("name", "kwargs", "xs"), SECOND, ids=[f"{n}{k}" for n, k, _ in SECOND])
def test_jax_second_derivatives_match_mpmath(name, kwargs, xs):
    jax = pytest.importorskip("jax", reason="jax is not installed")
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    f = getattr(anyrelu, name)
    second = jax.vmap(jax.grad(jax.grad(lambda v: f(v, **kwargs))))(jnp.asarray(xs, dtype=jnp.float64))
    expected = [_exact_second(name, kwargs, v) for v in xs]
    np.testing.assert_allclose(np.asarray(second), expected, rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("silu", {}),
        ("mish", {}),
        ("gelu", {"approximate": True}),
        ("softplus", {}),
        ("softplus", {"beta": 0.25}),
        ("squareplus", {}),
        ("squareplus", {"b": 0.5}),
    ],
)
def test_jax_float32_second_derivatives_match_mpmath_and_vanish_at_the_infinities(name, kwargs):
    """jit float32 programs compute in float32: f'' is autodiff of f' there, within a few ulps of
    its terms."""
    jax = pytest.importorskip("jax", reason="jax is not installed")
    import jax.numpy as jnp

    xs = [0.0, -1.0, -1.5, 2.0, -2.5, 8.0, -20.0, 20.0, -40.0]
    f = getattr(anyrelu, name)
    second = jax.jit(jax.vmap(jax.grad(jax.grad(lambda v: f(v, **kwargs)))))
    expected = [_exact_second(name, kwargs, v) for v in xs]
    # tanh-GELU's f'' crosses 0 near x = -1.4: at -1.5 it is a tenth of its terms
    rtol = 2**-17 if kwargs.get("approximate") else 2**-20
    np.testing.assert_allclose(np.asarray(second(jnp.asarray(xs, jnp.float32))), expected, rtol=rtol, atol=1e-37)
    first = jax.vmap(jax.grad(lambda v: f(v, **kwargs)))
    ends = jnp.asarray([-math.inf, math.inf], jnp.float32)
    assert np.asarray(first(ends)).tolist() == [0.0, 1.0]
    assert np.asarray(second(ends)).tolist() == [0.0, 0.0]


@pytest.mark.skipif(not screen_oracle.EXTENDED, reason="np.longdouble is float64 on this platform")
def test_jax_float32_compensated_sums_survive_jit():
    """XLA folds (1 + s) - 1 into s: a Fast2Sum written with a literal 1 loses its error term under
    jit. SiLU near -2, where the bound is 2 ulps, is 1.84 ulps off without the error of 1 + e^-x
    carried, and 1.31 with it."""
    jax = pytest.importorskip("jax", reason="jax is not installed")
    import jax.numpy as jnp

    x = np.linspace(-2.2, -1.9, 30001, dtype=np.float32)
    wide = x.astype(np.longdouble)
    exact = wide / (1 + np.exp(-wide))
    got = np.asarray(jax.jit(anyrelu.silu)(jnp.asarray(x))).astype(np.longdouble)
    ulps = np.abs(got - exact) / np.spacing(np.abs(exact.astype(np.float32))).astype(np.longdouble)
    assert float(ulps.max()) <= 1.5, f"silu({x[np.argmax(ulps)]}) is {float(ulps.max()):.2f} ulps off"


def test_squareplus_second_derivative_is_zero_at_the_infinities():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    x = torch.tensor([-math.inf, math.inf], dtype=torch.float64, requires_grad=True)
    (first,) = torch.autograd.grad(anyrelu.squareplus(x).sum(), x, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), x)
    assert second.tolist() == [0.0, 0.0]


@TORCH_JIT_DEPRECATED
def test_prelu_mixed_second_derivative_is_one_on_the_leak_side_at_a_zero_leak():
    """d2y/dx dleak: PyTorch's OpInfo gradgradcheck and fwgrad_bwgrad for prelu at weight 0."""
    x = np.array([-4.827, 2.0, -1.0, -np.inf, -0.0])
    expected = [1.0, 0.0, 1.0, 1.0, 1.0]
    if _installed("torch"):
        import torch
        from torch.autograd import gradgradcheck

        xt = torch.tensor(x, requires_grad=True)
        leak = torch.zeros(5, dtype=torch.float64, requires_grad=True)
        (first,) = torch.autograd.grad(anyrelu.relu(xt, leak).sum(), xt, create_graph=True)
        (mixed,) = torch.autograd.grad(first.sum(), leak)
        assert mixed.tolist() == expected
        finite = (torch.tensor(x[:3], requires_grad=True), torch.zeros(3, dtype=torch.float64, requires_grad=True))
        assert gradgradcheck(anyrelu.relu, finite, check_fwd_over_rev=True)
    if _installed("jax"):
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        g = lambda lk: jax.grad(lambda v: anyrelu.relu(v, lk).sum())(jnp.asarray(x)).sum()  # noqa: E731
        assert np.asarray(jax.grad(g)(jnp.zeros(5))).tolist() == expected
        assert np.asarray(jax.jit(jax.grad(g))(jnp.zeros(5))).tolist() == expected

"""``python -m anyrelu accuracy``: a dense screen of every function and derivative, on every
installed backend, in float16, bfloat16, float32 and float64, on every CPU code path this machine
has, against the oracle of ``oracle.py`` (no code shared with anyrelu's reference bodies).

The points, per function and dtype: every float32 (and float64) within ``NEAR`` ulps of each kink,
branch switch and overflow/underflow threshold; uniform on [-8, 8] and [-120, 120] ([-760, 760]
for float64); log-uniform magnitudes from 1e-10 to 3e4 of both signs; random bit patterns; ±0,
±inf, subnormals and the extremes. float16 and bfloat16 take every one of their 65536 values.

CPU code paths: NumPy and torch choose their SIMD loops by CPU. Each path is a child process of
this command with the library's own switch set -- NumPy's ``NPY_DISABLE_CPU_FEATURES`` for each
dispatch target this CPU runs, torch's ``ATEN_CPU_CAPABILITY`` (default, avx2, avx512 as far as
the CPU goes), XLA's ``--xla_cpu_max_isa=AVX`` (code without FMA) -- so that a path this
machine does not pick by itself is screened too. torch also runs each point set a second time
as a strided view (every other element of a buffer): ATen's kernels have a vectorized loop for
contiguous tensors and a scalar one, written apart, for the rest (``x[:, ::2]``), and a
capability's run reaches the scalar one only in the last few elements of an array. The
``torch.compile`` backend is torch under inductor, which writes its own loops with its own math
(its vectorized expm1 is exp(x) - 1): each case compiled whole, on each capability. The paths'
children run side by side, one per CPU core.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from . import oracle
from .libraries import LIBRARIES, why_missing

DTYPES = ("float16", "bfloat16", "float32", "float64")
SCREENED = ("numpy", "array_api_strict", "jax", "torch", "torch.compile", "dask", "cupy")
TORCH = ("torch", "torch.compile")  # screened together, on each ATen capability
NEAR = 64  # ulps on each side of every switch point

# (function, parameters): every function with its defaults, other values and extreme ones.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("elu", {}),
    ("elu", {"alpha": 0.3}),
    ("elu", {"alpha": -2.0}),
    ("elu", {"alpha": 1e30}),
    ("elu", {"alpha": 8.99e307}),
    ("selu", {}),
    ("celu", {}),
    ("celu", {"alpha": 0.21}),
    ("celu", {"alpha": 3.0}),
    ("celu", {"alpha": 1e10}),
    ("celu", {"alpha": 1e-3}),
    ("celu", {"alpha": 1e300}),
    ("gelu", {}),
    ("gelu", {"approximate": True}),
    ("silu", {}),
    ("softplus", {}),
    ("softplus", {"beta": 10.0}),
    ("softplus", {"beta": 0.25}),
    ("softplus", {"beta": 1e-30}),
    ("mish", {}),
    ("hard_sigmoid", {}),
    ("hard_swish", {}),
    ("squareplus", {}),
    ("squareplus", {"b": 0.5}),
    ("squareplus", {"b": 1e-30}),
    ("squareplus", {"b": 1e-310}),
]
DEFAULTS = {"alpha": 1.0, "approximate": False, "beta": 1.0, "b": 4.0}
PARAMETER = {"elu": "alpha", "celu": "alpha", "gelu": "approximate", "softplus": "beta", "squareplus": "b"}

# Where formulas switch, in x (times the parameter where it scales x): kinks, the reference's
# clips and floors, the libraries' thresholds (torch's softplus 20), exp's overflow and underflow,
# the kernels' pieces (JAX's exact GELU: 0.5, 1, 2, 16).
SWITCHES = [0.0, 0.5, 1.0, 2.0, 3.0, 9.0, 16.0, 17.0, 20.0, 38.6, 40.0, 64.0, 88.72, 103.97, 1000.0, 1e4]
SWITCHES += [709.78, 745.13]  # float64's exp


def case_id(name: str, kwargs: dict[str, Any]) -> str:
    return f"{name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"


# ---------------------------------------------------------------- points


def numpy_dtype(name: str) -> np.dtype:
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)  # type: ignore[no-any-return]
    return np.dtype(name)


def points(dtype_name: str, count: int, scale: float = 1.0, seed: int = 0) -> np.ndarray:
    """The screen's points in dtype (see the module's docstring); count is for float32 (float64
    takes a quarter); float16 and bfloat16 are exhaustive unless count is below 65536."""
    dtype = numpy_dtype(dtype_name)
    info = oracle.finfo(dtype)
    rng = np.random.default_rng(seed)
    if dtype.itemsize == 2:
        every = np.arange(1 << 16, dtype=np.uint16).view(dtype)
        every = every[~np.isnan(every.astype(np.float32))]
        return every if count >= 1 << 16 else rng.choice(every, count, replace=False)
    if dtype.itemsize == 8:
        count //= 4
    ints = np.dtype(f"u{dtype.itemsize}")
    wide = 760.0 if dtype.itemsize == 8 else 120.0
    parts = [
        rng.uniform(-8, 8, count * 3 // 8),
        rng.uniform(-wide, wide, count // 4),
        np.exp(rng.uniform(np.log(1e-10), np.log(3e4), count // 4)) * rng.choice([-1.0, 1.0], count // 4),
    ]
    bits = rng.integers(0, np.iinfo(ints).max, count // 8, dtype=ints, endpoint=True).view(dtype)
    special = [
        0.0,
        -0.0,
        np.inf,
        -np.inf,
        float(info.max),
        -float(info.max),
        float(info.smallest_normal),
        float(info.smallest_subnormal),
        -float(info.smallest_subnormal),
        -float(info.smallest_normal),
    ]
    with np.errstate(over="ignore", invalid="ignore"):
        x = np.concatenate([np.concatenate(parts).astype(dtype), bits, np.array(special, dtype=dtype)])
        centres = np.array([s * k for s in SWITCHES for k in {1.0, 1 / scale}], dtype=np.float64)
        centres = np.concatenate([centres, -centres]).astype(dtype)
        centres = centres[np.isfinite(centres)]
        steps = np.arange(-NEAR, NEAR + 1, dtype=np.int64)
        signed = centres.view(f"i{dtype.itemsize}").astype(np.int64)
        near = (signed[:, None] + steps[None, :]).astype(f"i{dtype.itemsize}").view(dtype).ravel()
        x = np.concatenate([x, near])
        return x[~np.isnan(x.astype(np.float64))]  # NaN's pieces are the contract table's (tests)


WINDOW_CHUNK = 1 << 22  # --between: floats per evaluation (the oracle's long doubles: 64 MB)


def every_float(dtype_name: str, low: float, high: float, sample: int | None = None) -> Iterator[np.ndarray]:
    """Every float of the dtype in [low, high] (one zero, +0.0), ascending, WINDOW_CHUNK at a time.
    With ``sample``, where the window holds more floats than that: ``sample`` of them (both ends
    and the rest drawn at random, distinct, each float of the window as likely as any other; the
    same ones on every run), ascending -- a float64 window near a worst point holds 10^13 or more."""
    chunk = WINDOW_CHUNK
    dtype = numpy_dtype(dtype_name)
    signed = np.dtype(f"i{dtype.itemsize}")
    lowest = int(np.iinfo(signed).min)  # the sign bit alone

    def key(v: float) -> int:  # the float's rank among the dtype's floats, 0 at zero
        bits = int(np.array(v, dtype).view(signed))
        return bits if bits >= 0 else lowest - bits

    def floats(ranks: np.ndarray) -> np.ndarray:
        return np.where(ranks < 0, lowest - ranks, ranks).astype(signed).view(dtype)

    first, last = key(low), key(high)
    count = last - first + 1
    if sample is not None and count > sample:
        rng, population = np.random.default_rng(0), count - 2
        if population < 2**62:
            inside = rng.choice(population, size=sample - 2, replace=False).astype(np.uint64)
        else:  # wider than choice takes (a float64 window across most of the range): repeats are 1 in 2^40
            inside = np.unique(rng.integers(0, population, size=sample - 2, dtype=np.uint64))
        inside = (np.sort(inside) + np.uint64((first + 1) % 2**64)).view(np.int64)  # first + 1 + draw, modulo 2^64
        ranks = np.concatenate([np.array([first], np.int64), inside, np.array([last], np.int64)])
        for start in range(0, ranks.size, chunk):
            yield floats(ranks[start : start + chunk])
        return
    for start in range(first, last + 1, chunk):
        yield floats(np.arange(start, min(start + chunk, last + 1), dtype=np.int64))


# ---------------------------------------------------------------- backends


def to_backend(library: str, x: np.ndarray, dtype_name: str) -> Any:
    if library == "numpy":
        return x.copy()
    if library == "dask":
        import dask.array as da

        return da.from_array(x, chunks=max(1, x.size // 4))
    if library == "array_api_strict":
        import array_api_strict

        return array_api_strict.asarray(x)
    if library == "jax":
        import jax.numpy as jnp

        return jnp.asarray(x)
    if library in TORCH:
        import torch

        return torch.from_numpy(x.astype(np.float32) if dtype_name == "bfloat16" else x.copy()).to(
            getattr(torch, dtype_name)
        )
    if library == "cupy":
        import cupy

        return cupy.asarray(x)
    raise ValueError(library)


def to_numpy(y: Any) -> np.ndarray:
    """float64 (or float32 for the half types: exact) NumPy values of a result."""
    from .libraries import to_numpy as plain

    if hasattr(y, "dtype") and "bfloat16" in str(y.dtype) and hasattr(y, "float"):
        y = y.float()
    return np.asarray(plain(y)).astype(np.float64)


def supports(library: str, dtype_name: str) -> bool:
    return not (dtype_name in ("float16", "bfloat16") and library == "array_api_strict") and not (
        dtype_name == "bfloat16" and library == "cupy"
    )


def anyrelu_call(name: str, dash: bool, kwargs: dict[str, Any], library: str = "") -> Callable[[Any], Any]:
    import anyrelu

    if library == "torch.compile":
        both = _compiled(name, tuple(sorted(kwargs.items())))
        return lambda x: both(x)[int(dash)]
    f = getattr(anyrelu, f"{name}_dash" if dash else name)
    return lambda x: f(x, **kwargs)


@functools.lru_cache(maxsize=1)  # the screen asks for a case's value, then its derivative
def _compiled(name: str, parameters: tuple[tuple[str, Any], ...]) -> Callable[[Any], Any]:
    """The function and its derivative under torch.compile, in one graph that returns both
    (inductor, whole graph, sizes symbolic: one compilation for the case, where the value and the
    derivative apart took two, half of the suite's longest test). The screen asks for the value,
    then the derivative, on the same points: the last case's graph serves the second call.
    Inductor generates its own loops: its vectorized CPU code computes expm1 as exp(x) - 1, for
    one, so a compiled graph is screened apart from eager torch; each output's operations are the
    ones it has compiled alone, and so are its bits (tests/test_accuracy.py). A refusal of a
    parameter reaches the screen as the TypeError or ValueError it is."""
    import torch

    import anyrelu

    f, f_dash, kwargs = getattr(anyrelu, name), getattr(anyrelu, f"{name}_dash"), dict(parameters)
    torch._dynamo.reset()  # each case compiles afresh: no recompilation limit across cases
    compiled = torch.compile(lambda x: (f(x, **kwargs), f_dash(x, **kwargs)), dynamic=True, fullgraph=True)

    def call(x: Any) -> Any:
        try:
            return compiled(x)
        except torch._dynamo.exc.TorchRuntimeError as error:
            cause: BaseException | None = error
            while cause is not None and not isinstance(cause, (TypeError, ValueError)):
                cause = cause.__cause__ or cause.__context__
            raise (cause or error) from None

    return call


def peer_call(library: str, name: str, dash: bool, kwargs: dict[str, Any]) -> Callable[[Any], Any] | None:
    """jax.nn's or torch.nn.functional's f (and f' by their autodiff), or None where they have none."""
    if library == "jax":
        import jax
        import jax.nn as nn

        table: dict[str, Callable[..., Any]] = {
            "elu": lambda x, alpha=1.0: nn.elu(x, alpha),
            "selu": nn.selu,
            "celu": lambda x, alpha=1.0: nn.celu(x, alpha),
            "gelu": lambda x, approximate=False: nn.gelu(x, approximate=approximate),
            "silu": nn.silu,
            "softplus": lambda x, beta=1.0: nn.softplus(x * beta) / beta if beta != 1.0 else nn.softplus(x),
            "mish": nn.mish,
            "hard_sigmoid": nn.hard_sigmoid,
            "hard_swish": nn.hard_swish,
            "squareplus": lambda x, b=4.0: nn.squareplus(x, b),
        }
        f = table.get(name)
        if f is None:
            return None
        g = lambda x: f(x, **kwargs)  # noqa: E731
        return jax.jit(jax.vmap(jax.grad(g))) if dash else jax.jit(g)
    if library == "torch":
        import torch
        import torch.nn.functional as F

        ttable: dict[str, Callable[..., Any]] = {
            "elu": lambda x, alpha=1.0: F.elu(x, alpha),
            "selu": F.selu,
            "celu": lambda x, alpha=1.0: F.celu(x, alpha),
            "gelu": lambda x, approximate=False: F.gelu(x, approximate="tanh" if approximate else "none"),
            "silu": F.silu,
            "softplus": lambda x, beta=1.0: F.softplus(x, beta),
            "mish": F.mish,
            "hard_sigmoid": F.hardsigmoid,
            "hard_swish": F.hardswish,
        }
        tf = ttable.get(name)
        if tf is None:
            return None
        if not dash:
            return lambda x: tf(x, **kwargs)

        def derivative(x: Any) -> Any:
            leaf = x.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(tf(leaf, **kwargs).sum(), leaf)
            return grad

        return derivative
    return None


# ---------------------------------------------------------------- one screen


@dataclass
class Row:
    library: str
    path: str
    dtype: str
    case: str
    derivative: bool
    points: int
    worst_ulps: float  # the largest error in ulps, where the exact value is not tiny
    worst_ratio: float  # the largest error / what the contract allows there (above 1 is a break)
    worst_x: float  # where worst_ratio occurs
    got: float
    exact: float
    breaks: int  # points over the bound
    peer: bool = False
    skipped: str = ""


def _parameter_in(kwargs: dict[str, Any], name: str, dtype: np.dtype) -> Any:
    key = PARAMETER.get(name)
    if key is None:
        return None
    value = kwargs.get(key, DEFAULTS[key])
    if isinstance(value, bool):
        return value
    with np.errstate(over="ignore", under="ignore"):
        return float(np.asarray(value, dtype=np.float64).astype(dtype).astype(np.float64))


def _flush(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    tiny = float(oracle.finfo(dtype).smallest_normal)
    return np.where(np.abs(x.astype(np.float64)) < tiny, 0.0, x.astype(np.float64)).astype(dtype)


def screen_one(
    library: str,
    path: str,
    dtype_name: str,
    name: str,
    kwargs: dict[str, Any],
    dash: bool,
    x: np.ndarray,
    reference: tuple[np.ndarray, np.ndarray],
    flushed: tuple[np.ndarray, np.ndarray] | None,
    peer: bool,
) -> Row:
    """One function (or derivative) on one backend, dtype and path, over the points x."""
    dtype = numpy_dtype(dtype_name)
    row = Row(library, path, dtype_name, case_id(name, kwargs), dash, int(x.size), 0.0, 0.0, 0.0, 0.0, 0.0, 0, peer)
    parameter = _parameter_in(kwargs, name, dtype)
    if peer and isinstance(parameter, float) and (parameter == 0 or not np.isfinite(parameter)):
        row.skipped = "the parameter does not fit the dtype"  # anyrelu refuses it: nothing to compare
        return row
    call = peer_call(library, name, dash, kwargs) if peer else anyrelu_call(name, dash, kwargs, library)
    if call is None:
        row.skipped = "no such function in the library"
        return row
    try:
        answers = [_evaluate(call, library, x, dtype_name, strided) for strided in LAYOUTS.get(library, (False,))]
    except (TypeError, ValueError) as error:  # anyrelu refuses a parameter the dtype cannot hold
        row.skipped = f"refused: {str(error)[:120]}"
        return row
    except Exception as error:  # a peer's failure is its answer; anyrelu's is a break
        if peer:
            row.skipped = f"{type(error).__name__}: {str(error)[:120]}"
            return row
        row.worst_ratio, row.worst_ulps, row.breaks, row.got = np.inf, np.inf, int(x.size), np.nan
        return row
    each_ulps, each_ratio = zip(*(_excess(a, reference, flushed, dtype, dash) for a in answers), strict=True)
    ulps, ratio = np.max(each_ulps, axis=0), np.max(each_ratio, axis=0)  # per point, the worse layout
    worst = int(np.argmax(ratio))
    got = answers[int(np.argmax([r[worst] for r in each_ratio]))]
    value = reference[0]
    row.worst_ulps = float(np.max(ulps[np.isfinite(ulps)], initial=0.0)) if not np.isinf(ulps).any() else np.inf
    row.worst_ratio, row.worst_x = float(ratio[worst]), float(x[worst].astype(np.float64))
    row.got, row.exact, row.breaks = float(got[worst]), float(value[worst]), int(np.sum(ratio > 1))
    return row


def _excess(
    got: np.ndarray,
    reference: tuple[np.ndarray, np.ndarray],
    flushed: tuple[np.ndarray, np.ndarray] | None,
    dtype: np.dtype,
    dash: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """oracle.excess of one answer; against f(0) too where the backend may read a subnormal x as
    zero (``flushed``), the smaller."""
    ulps, ratio = oracle.excess(got, *reference, dtype, dash)
    if flushed is not None:
        ulps0, ratio0 = oracle.excess(got, *flushed, dtype, dash)
        ulps, ratio = np.minimum(ulps, ulps0), np.minimum(ratio, ratio0)
    return ulps, ratio


# Each library's layouts to screen (strided or not): torch's scalar loops run on strided tensors.
# Not NumPy: its float32 and float64 exp, expm1, log, log1p, tanh and sqrt gave a strided view
# the contiguous array's bits, on both of an AVX2 CPU's paths (and the kernels' transcendental
# functions run on their own contiguous temporaries).
LAYOUTS = {"torch": (False, True)}  # not torch.compile: a compilation per case and dtype is its cost


def _evaluate(
    call: Callable[[Any], Any], library: str, x: np.ndarray, dtype_name: str, strided: bool = False
) -> np.ndarray:
    """call on the points in two calls on torch and NumPy: the bulk (finite, at most an eighth of
    the largest number in magnitude) and the extremes, so that a kernel that chooses its form by
    its input's range (torch's on a large CPU tensor, NumPy hard swish's per block) is screened in
    its fast form too, not only in the form the extremes send the whole array to. One call
    elsewhere: no kernel there reads its input, and JAX would compile each size. ``strided``:
    each call gets every other element of a buffer of twice the size (torch and NumPy)."""

    def run(part: np.ndarray) -> np.ndarray:
        if strided:
            spread = np.zeros(2 * part.size, part.dtype)
            spread[::2] = part
            return to_numpy(call(to_backend(library, spread, dtype_name)[::2]))
        return to_numpy(call(to_backend(library, part, dtype_name)))

    if library not in ("torch", "torch.compile", "numpy"):
        return run(x)
    bulk = np.abs(x.astype(np.float64)) <= float(oracle.finfo(numpy_dtype(dtype_name)).max) / 8
    parts = [(m, run(x[m])) for m in (bulk, ~bulk) if m.any()]
    got = np.empty(x.shape, parts[0][1].dtype)
    for m, part in parts:
        got[m] = part
    return got


def _flushes(library: str, dtype_name: str) -> bool:
    if library != "jax":
        return False
    from anyrelu._kernels.jax import flushes

    return bool(flushes(numpy_dtype(dtype_name)))


def screen(
    libraries: list[str],
    path: str,
    dtypes: list[str],
    count: int,
    peers: bool,
    cases: list[tuple[str, dict[str, Any]]],
    progress: Callable[[str], None] = lambda _: None,
    finite: bool = False,
    between: tuple[float, float] | None = None,
    drawn: int | None = None,
) -> Iterator[Row]:
    """Every case on every library and dtype given, on this process's CPU path (finite x only
    with ``finite``; every float in [low, high] instead of the screen's points with ``between``,
    or ``drawn`` of them at random, see every_float)."""
    if "jax" in libraries:
        import jax

        jax.config.update("jax_enable_x64", True)
    if set(TORCH) & set(libraries):
        import torch

        torch.set_num_threads(1)
    for dtype_name in dtypes:
        dtype = numpy_dtype(dtype_name)
        for name, kwargs in cases:
            parameter = _parameter_in(kwargs, name, dtype)
            # softplus switches at s / beta, celu at s * alpha
            scale = {"softplus": parameter, "celu": 1 / parameter if parameter else 1.0}.get(name, 1.0)
            scale = scale if scale and np.isfinite(scale) else 1.0  # a parameter the dtype cannot hold
            by_mpmath = dtype_name == "float64" and ((name == "gelu" and not parameter) or not oracle.EXTENDED)
            worst: dict[tuple[str, bool, bool], Row] = {}
            chunks = [points(dtype_name, count, scale)] if between is None else every_float(dtype_name, *between, drawn)
            for x in chunks:
                if finite:
                    x = x[np.isfinite(x.astype(np.float64))]
                if by_mpmath and drawn is None:  # mpmath, on a sample (--sample N: on the N drawn)
                    x = np.random.default_rng(1).choice(x, min(x.size, max(2000, count // 200)), replace=False)
                for dash in (False, True):
                    progress(f"{path} {dtype_name} {case_id(name, kwargs)}{' dash' if dash else ''}")
                    reference = oracle.evaluate(name, dash, x, parameter)
                    if by_mpmath:
                        reference = (oracle.exact_mpmath(name, dash, x, parameter), reference[1])
                    flushed = None
                    for library in libraries:
                        if not supports(library, dtype_name):
                            continue
                        if _flushes(library, dtype_name) and flushed is None:
                            flushed = oracle.evaluate(name, dash, _flush(x, dtype), parameter)
                        for peer in (False, True) if peers and library in ("jax", "torch") else (False,):
                            row = screen_one(
                                library, path, dtype_name, name, kwargs, dash, x, reference,
                                flushed if _flushes(library, dtype_name) else None, peer,
                            )  # fmt: skip
                            key = (library, dash, peer)
                            worst[key] = _worse(worst[key], row) if key in worst else row
            yield from worst.values()


def _worse(one: Row, other: Row) -> Row:
    """One row for two sets of points: the worse one's worst point, the points and breaks summed."""
    if one.skipped or other.skipped:
        return one if one.skipped else other
    worse = one if one.worst_ratio >= other.worst_ratio else other
    ulps = max(one.worst_ulps, other.worst_ulps)
    return Row(**{**asdict(worse), "points": one.points + other.points, "breaks": one.breaks + other.breaks,
                  "worst_ulps": ulps})  # fmt: skip


# ---------------------------------------------------------------- CPU code paths


def numpy_paths() -> list[tuple[str, dict[str, str]]]:
    """('numpy:TARGET', environment) for each SIMD dispatch target this CPU runs, the best first,
    down to the baseline: each disables the targets above it."""
    from numpy._core._multiarray_umath import (  # type: ignore[import-not-found]
        __cpu_baseline__,
        __cpu_dispatch__,
        __cpu_features__,
    )

    runs = [t for t in __cpu_dispatch__ if __cpu_features__.get(t)]
    paths = []
    for i in range(len(runs), -1, -1):
        disabled = " ".join(__cpu_dispatch__[i:] if i < len(runs) else [t for t in __cpu_dispatch__ if t not in runs])
        top = runs[i - 1] if i else f"baseline {__cpu_baseline__[-1] if __cpu_baseline__ else ''}".strip()
        paths.append((f"numpy:{top}", {"NPY_DISABLE_CPU_FEATURES": disabled}))
    return paths


def torch_paths() -> list[tuple[str, dict[str, str]]]:
    """('torch:CAPABILITY', environment) for each ATen CPU capability up to this CPU's."""
    import tempfile

    import torch

    best = torch.backends.cpu.get_cpu_capability().lower()
    order = ["default", "avx2", "avx512"]
    top = order.index(best) if best in order else 0
    # inductor picks its vector code by the capability too, but its cache of compiled graphs does
    # not key on it (a graph compiled for AVX2 fails to build with the default one): one cache each
    return [
        (
            f"torch:{c}",
            {
                "ATEN_CPU_CAPABILITY": c,
                "TORCHINDUCTOR_CACHE_DIR": os.path.join(tempfile.gettempdir(), f"anyrelu-inductor-{c}"),
            },
        )
        for c in order[: top + 1]
    ]


# XLA compiles for the CPU it runs on, and ``--xla_cpu_max_isa`` caps the instruction set it may
# use. Below AVX2 there is no FMA: a*b + c rounds twice, which changes the bits of XLA's own exp
# and of every polynomial (measured: jnp.exp differs on 1.6% of float32 on [-87, 88] between
# AVX2 and AVX; AVX2 and AVX-512 agree, and so do AVX and SSE4.2, where XLA cannot convert
# float16). The screen runs the CPU's own choice and, on an FMA machine, the capped one.
def jax_paths() -> list[tuple[str, dict[str, str]]]:
    """('jax' or 'jax:ISA', environment): the code XLA picks here, and the one without FMA."""
    from numpy._core._multiarray_umath import __cpu_features__

    paths: list[tuple[str, dict[str, str]]] = [("jax", {})]
    if __cpu_features__.get("FMA3"):
        flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_cpu_max_isa=AVX".strip()
        paths.append(("jax:AVX", {"XLA_FLAGS": flags}))
    return paths


def _child(path: str, environment: dict[str, str], libraries: list[str], args: argparse.Namespace) -> list[Row]:
    command = [sys.executable, "-m", "anyrelu", "accuracy", "--this-path-only", path, "--points", str(args.points)]
    for library in libraries:
        command += ["--backend", library]
    for dtype in args.dtype or DTYPES:
        command += ["--dtype", dtype]
    for function in args.function or []:
        command += ["--function", function]
    if args.peers:
        command.append("--peers")
    if args.finite:
        command.append("--finite")
    if args.between:
        command += ["--between", *map(repr, args.between)]
    if args.sample:
        command += ["--sample", str(args.sample)]
    done = subprocess.run(command, env={**os.environ, **environment}, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1) or not done.stdout.startswith("["):
        raise RuntimeError(f"the screen of {path} failed:\n{done.stderr[-2000:]}")
    return [Row(**row) for row in json.loads(done.stdout)]


# ---------------------------------------------------------------- report


def summary(rows: list[Row]) -> list[Row]:
    """The worst row per (function case, derivative, library, peer)."""
    best: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        if row.skipped:
            continue
        key = (row.case, row.derivative, row.library, row.peer)
        if key not in best or row.worst_ratio > best[key].worst_ratio:
            best[key] = row
    return list(best.values())


def markdown(rows: list[Row], command: str) -> str:
    """The Accuracy page's table: per function, anyrelu's worst error on each backend beside
    jax.nn's and torch's, float32 and float64, over every CPU path -- as a fraction of the
    contract's bound at the point where it is largest (1.00: at the bound; a ✗ beyond it)."""
    libraries = [lib for lib in SCREENED if any(r.library == lib and not r.peer for r in rows)]
    columns = [(lib, False) for lib in libraries] + [
        (lib, True) for lib in ("jax", "torch") if any(r.library == lib and r.peer for r in rows)
    ]
    head = ["function", "dtype"] + [
        f"{'jax.nn' if lib == 'jax' else 'torch F'}" if peer else lib for lib, peer in columns
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    cases = list(dict.fromkeys((r.case, r.derivative) for r in rows))
    for case, derivative in cases:
        for dtype in ("float32", "float64"):
            cells = []
            for lib, peer in columns:
                found = [
                    r
                    for r in rows
                    if (r.case, r.derivative, r.library, r.peer, r.dtype) == (case, derivative, lib, peer, dtype)
                    and not r.skipped
                ]
                if not found:
                    cells.append("–")
                    continue
                worst = max(found, key=lambda r: r.worst_ratio)
                text = f"{worst.worst_ratio:.2f}" if worst.worst_ratio < 1e4 else "≫"
                if worst.worst_ratio > 1e4 and not np.isfinite(worst.got):
                    text = "NaN" if np.isnan(worst.got) else "inf"
                cells.append(f"**{text}** ✗ at {worst.worst_x:.3g}" if worst.worst_ratio > 1 else text)
            label = case.replace("(", "_dash(", 1) if derivative else case
            lines.append(f"| `{label}` | {dtype} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + f"\n\nRegenerate with `{command}`.\n"


CHUNK_BITS = 24  # --exhaustive: 2^24 float32 inputs a chunk, 256 chunks


def exhaustive(args: argparse.Namespace, cases: list[tuple[str, dict[str, Any]]], library: str) -> int:
    """Every float32 input of one function (each of its cases, value and derivative) on one backend
    and this process's CPU path, chunk by chunk from --start (a stopped run resumes there)."""
    from rich.console import Console

    console = Console()
    worst: dict[tuple[str, bool], Row] = {}
    for chunk in range(args.start, 1 << (32 - CHUNK_BITS)):
        bits = np.arange(chunk << CHUNK_BITS, (chunk + 1) << CHUNK_BITS, dtype=np.uint64).astype(np.uint32)
        x = bits.view(np.float32)
        x = x[~np.isnan(x)]
        for name, kwargs in cases:
            parameter = _parameter_in(kwargs, name, np.dtype("float32"))
            for dash in (False, True):
                reference = oracle.evaluate(name, dash, x, parameter)
                flushed = (
                    oracle.evaluate(name, dash, _flush(x, np.dtype("float32")), parameter)
                    if _flushes(library, "float32")
                    else None
                )
                row = screen_one(library, "this", "float32", name, kwargs, dash, x, reference, flushed, False)
                key = (row.case, dash)
                if key not in worst or row.worst_ratio > worst[key].worst_ratio:
                    worst[key] = row
        done = max(r.worst_ratio for r in worst.values())
        console.print(
            f"chunk {chunk + 1}/256 done (resume with --start {chunk + 1}); worst ratio so far {done:.3f}",
            highlight=False,
        )
    rows = list(worst.values())
    _print(console, rows, [r for r in rows if r.worst_ratio > 1])
    return 1 if any(r.worst_ratio > 1 for r in rows) else 0


def missing(library: str) -> str | None:
    """Why a screened library cannot run here (None if it can): torch.compile is torch's, and
    inductor needs a C++ compiler for CPU code."""
    if library != "torch.compile":
        return why_missing(next(x for x in LIBRARIES if x.name == library))
    import shutil

    reason = why_missing(next(x for x in LIBRARIES if x.name == "torch"))
    if reason is None and not any(shutil.which(c) for c in (os.environ.get("CXX", "g++"), "g++", "clang++", "c++")):
        return "no C++ compiler for inductor's CPU code"
    return reason


def main(args: argparse.Namespace) -> int:
    functions = set(args.function or [])
    cases = [c for c in CASES if not functions or c[0] in functions]
    wanted = args.backend or [lib for lib in SCREENED if lib == "torch.compile" or lib in {x.name for x in LIBRARIES}]
    libraries = [lib for lib in wanted if missing(lib) is None]
    dtypes = args.dtype or list(DTYPES)
    if args.between and args.between[0] > args.between[1]:
        print("anyrelu accuracy: --between needs LOW <= HIGH (see anyrelu accuracy --help)", file=sys.stderr)
        return 2
    if args.sample and not args.between:
        print("anyrelu accuracy: --sample needs --between LOW HIGH (see --help)", file=sys.stderr)
        return 2
    if args.exhaustive:
        if len(functions) != 1 or len(args.backend or []) != 1 or not libraries:
            print("anyrelu accuracy: --exhaustive takes one installed --backend and one --function", file=sys.stderr)
            return 2
        return exhaustive(args, cases, libraries[0])
    if args.this_path_only:  # a child: one path, rows as JSON on stdout
        found = list(
            screen(libraries, args.this_path_only, dtypes, args.points, args.peers, cases, finite=args.finite,
                   between=args.between, drawn=args.sample)
        )  # fmt: skip
        json.dump([asdict(r) for r in found], sys.stdout)
        return 1 if any(r.worst_ratio > 1 and not r.peer for r in found) else 0
    from rich.console import Console

    console = Console(stderr=False)
    started = time.monotonic()
    runs: list[tuple[str, dict[str, str], list[str]]] = []
    numpy_libs = [lib for lib in libraries if lib in ("numpy", "array_api_strict", "dask")]
    others = [lib for lib in libraries if lib not in numpy_libs]
    if numpy_libs:
        paths = numpy_paths()[:1] if args.only_this_path else numpy_paths()
        runs += [
            (p, env, numpy_libs if i == 0 else [lib for lib in numpy_libs if lib != "dask"])
            for i, (p, env) in enumerate(paths)
        ]
    torch_libs = [lib for lib in others if lib in TORCH]
    if torch_libs:
        paths = torch_paths()[-1:] if args.only_this_path else torch_paths()
        runs += [(p, env, torch_libs) for p, env in reversed(paths)]
    if "jax" in others:
        paths = jax_paths()[:1] if args.only_this_path else jax_paths()
        runs += [(p, env, ["jax"]) for p, env in paths]
    runs += [(lib, {}, [lib]) for lib in others if lib not in (*TORCH, "jax")]
    rows: list[Row] = []
    # the paths' children side by side, one per CPU core: each screens on one thread
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(len(runs), os.cpu_count() or 1))) as pool:
        futures = [pool.submit(_child, path, environment, libs, args) for path, environment, libs in runs]
        for (path, _, libs), future in zip(runs, futures, strict=True):
            console.print(f"screening {path} ({', '.join(libs)}) ...", highlight=False)
            rows += future.result()
    breaks = [r for r in rows if r.worst_ratio > 1 and not r.peer and not r.skipped]
    _print(console, rows, breaks)
    console.print(
        f"{len(rows)} rows, {sum(r.points for r in rows if not r.skipped):,} evaluations in "
        f"{time.monotonic() - started:.0f} s on {len(runs)} paths: "
        f"{'no break' if not breaks else f'{len(breaks)} rows over the bound'}",
        highlight=False,
    )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump([asdict(r) for r in rows], handle, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as handle:
            handle.write(markdown(rows, "python -m anyrelu accuracy --peers --markdown FILE"))
    return 1 if breaks else 0


_SHORT = {"float16": "f16", "bfloat16": "bf16", "float32": "f32", "float64": "f64", "array_api_strict": "strict"}


def _print(console: Any, rows: list[Row], breaks: list[Row]) -> None:
    from rich.table import Table

    table = Table(title="worst error per function and library, over every dtype and CPU path")
    for column in ("function", "library", "dtype", "ulps", "ratio", "at x"):
        table.add_column(column, justify="right" if column in ("ulps", "ratio", "at x") else "left")
    for row in sorted(summary(rows), key=lambda r: (r.case, r.derivative, r.peer, r.library)):
        label = row.case.replace("(", "_dash(", 1) if row.derivative else row.case
        library = (
            ("jax.nn" if row.library == "jax" else "torch F") if row.peer else _SHORT.get(row.library, row.library)
        )
        style = "red" if row.worst_ratio > 1 and not row.peer else None
        table.add_row(
            label,
            library,
            _SHORT[row.dtype],
            f"{row.worst_ulps:.2f}",
            f"{row.worst_ratio:.2f}",
            f"{row.worst_x:.4g}",
            style=style,
        )
    console.print(table)
    console.print(
        "ulps: the largest error in ulps (where the exact value is not below 64 x the smallest normal); "
        "ratio: the largest error / the contract's bound there (above 1 is a break).",
        highlight=False,
    )
    for row in breaks[:40]:
        console.print(
            f"BREAK {row.library} {row.path} {row.dtype} {row.case}{' dash' if row.derivative else ''}: "
            f"x={row.worst_x!r} got {row.got!r}, exact {row.exact!r} ({row.worst_ulps:.2f} ulps, "
            f"{row.breaks} points over)",
            style="red",
            highlight=False,
        )

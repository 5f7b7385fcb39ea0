"""``python -m anyrelu bench``: anyrelu against each backend's own kernel, side by side in one run.

Each row times anyrelu and the native operation in interleaved rounds (A, B, A, B, ...) and gives
the median of the rounds' own ratios, so that a busy moment slows both sides of a round alike.
Every ratio reads the same way: anyrelu's time / the native time (memory rows: peak memory /
output bytes), lower is better. The best round of one side over the best of the other, the
measure before 2026-12-05, is shown beside it (docs/benchmarks.md, "Method").
"limit" is the most the project accepts for a row (the target it must meet); "goal" (in the JSON)
is where it aims. Timings never decide a test; this command is where speed is measured.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import anyrelu

from .. import __version__, relu, relu6, relu_dash
from .libraries import LIBRARIES, why_missing

Thunk = Callable[[], Any]


@dataclass
class Case:
    backend: str
    name: str
    native_name: str
    ours: Thunk = field(repr=False)
    native: Thunk = field(repr=False)
    must: float | None  # None: a row shown for comparison (another library's operation), no limit
    goal: float
    kind: str = "ratio"  # ratio: ours/native time <= must; memory: peak bytes / output bytes <= must
    sync: Callable[[Any], Any] = field(default=lambda result: result, repr=False)
    bytes: int = 0  # bytes anyrelu reads and writes (GPU rows): the table then gives GB/s


@dataclass
class Result:
    backend: str
    name: str
    native_name: str
    kind: str
    ours_s: float
    native_s: float
    value: float
    must: float | None
    goal: float
    met: bool
    bytes: int = 0
    best: float = 0.0  # anyrelu's best round / the native's best round (value: the median of the rounds' ratios)


def _sizes(sizes: list[int] | None, quick: bool) -> list[int]:
    if sizes:
        return sizes
    return [10_000] if quick else [100_000, 1_000_000]


def _data(n: int, dtype: Any = np.float32) -> np.ndarray:
    return np.random.default_rng(0).standard_normal(n).astype(dtype)


def _numpy_cases(sizes: list[int], quick: bool) -> Iterator[Case]:
    for n in sizes:
        yield from _numpy_size_cases(n, _data(n))
    tiny = _data(8)
    yield Case("numpy", "relu n=8", "np.maximum(x, 0)", lambda: relu(tiny),
               lambda: np.maximum(tiny, 0), 2.0, 1.5)  # fmt: skip
    yield Case("numpy", "leaky relu 0.1 n=8", "np.maximum(x, 0.1*x)", lambda: relu(tiny, 0.1),
               lambda: np.maximum(tiny, 0.1 * tiny), 2.0, 1.5)  # fmt: skip
    yield Case("numpy", "relu6 n=8", "np.clip(x, 0, 6)", lambda: relu6(tiny),
               lambda: np.clip(tiny, 0, 6), 2.0, 1.5)  # fmt: skip
    yield Case("numpy", "relu_dash n=8", "np.maximum(x, 0)", lambda: relu_dash(tiny),
               lambda: np.maximum(tiny, 0), 2.5, 1.5)  # fmt: skip
    n = 10_000 if quick else 1_000_000
    seed_x = _data(n)
    yield Case("numpy", f"relu n={_n(n)}, vs the lesson", "np.where(x <= 0, 0*x, x)", lambda: relu(seed_x),
               lambda: np.where(seed_x <= 0, 0 * seed_x, seed_x), 0.1, 0.1)  # fmt: skip
    n = 100_000 if quick else 10_000_000
    big = _data(n)
    for name, call, must in (
        ("relu", lambda: relu(big), 1.10),
        ("leaky relu 0.1", lambda: relu(big, 0.1), 2.10),
        ("relu_dash", lambda: relu_dash(big), 1.35),
    ):
        yield Case("numpy", f"{name} peak memory n={_n(n)}", "output bytes", call, lambda: None, must, 1.0, "memory")
    yield from _numpy_family_cases(quick)


# The formula a NumPy user would write for each function (NumPy has no kernels of its own), and
# the most anyrelu may cost against it.
_SELU = (1.0507009873554805, 1.6732632423543772)
NUMPY_FORMULAS: tuple[tuple[str, str, Callable[[np.ndarray], Any], float], ...] = (
    ("elu", "np.where(x > 0, x, np.expm1(x))", lambda x: np.where(x > 0, x, np.expm1(x)), 1.0),
    ("selu", "s * np.where(x > 0, x, a * np.expm1(x))",
     lambda x: _SELU[0] * np.where(x > 0, x, _SELU[1] * np.expm1(x)), 1.0),
    ("softplus", "np.logaddexp(x, 0)", lambda x: np.logaddexp(x, 0), 1.0),
    ("hard_swish", "x * np.clip(x + 3, 0, 6) / 6", lambda x: x * np.clip(x + 3, 0, 6) / 6, 1.0),
    ("mish", "x * np.tanh(np.logaddexp(x, 0))", lambda x: x * np.tanh(np.logaddexp(x, 0)), 1.3),
    ("squareplus", "(x + np.sqrt(x * x + 4)) / 2", lambda x: (x + np.sqrt(x * x + 4)) / 2, 1.5),
    ("silu", "x / (1 + np.exp(-x))", lambda x: x / (1 + np.exp(-x)), 2.5),
)  # fmt: skip


def _silu_dash(x: np.ndarray) -> Any:
    s = 1 / (1 + np.exp(-x))
    return s * (1 + x * (1 - s))


def _mish_dash(x: np.ndarray) -> Any:
    t = np.tanh(np.logaddexp(x, 0))
    return t + x * (1 - t * t) / (1 + np.exp(-x))


# The derivatives, against the formula a user would write: shown with no limit (the issue that set
# the limits set none for them).
NUMPY_DASH_FORMULAS: tuple[tuple[str, str, Callable[[np.ndarray], Any]], ...] = (
    ("elu_dash", "np.where(x > 0, 1, np.exp(x))", lambda x: np.where(x > 0, 1, np.exp(x))),
    ("softplus_dash", "1 / (1 + np.exp(-x))", lambda x: 1 / (1 + np.exp(-x))),
    ("hard_sigmoid_dash", "(np.abs(x) < 3) / np.float32(6)", lambda x: (np.abs(x) < 3) / np.float32(6)),
    ("hard_swish_dash", "np.where(x < -3, 0, np.where(x > 3, 1, (2 * x + 3) / 6))",
     lambda x: np.where(x < -3, 0, np.where(x > 3, 1, (2 * x + 3) / 6))),
    ("mish_dash", "t + x * (1 - t * t) / (1 + np.exp(-x)), t = np.tanh(np.logaddexp(x, 0))", _mish_dash),
    ("squareplus_dash", "(1 + x / np.sqrt(x * x + 4)) / 2", lambda x: (1 + x / np.sqrt(x * x + 4)) / 2),
    ("silu_dash", "s * (1 + x * (1 - s)), s = 1 / (1 + np.exp(-x))", _silu_dash),
)  # fmt: skip


def _numpy_family_cases(quick: bool) -> Iterator[Case]:
    """The rectifier family against the formula a user would write; gelu against SciPy's erfc
    where SciPy is installed (it is no dependency of anyrelu)."""
    n = 10_000 if quick else 1_000_000
    x = _data(n)
    formulas = list(NUMPY_FORMULAS)
    if importlib.util.find_spec("scipy") is not None:
        from scipy.special import erfc  # type: ignore[import-untyped]

        formulas.append(("gelu", "x * erfc(-x / sqrt(2)) / 2", lambda v: v * erfc(v * -0.7071067811865476) / 2, 2.0))
    for name, native_name, native, must in formulas:
        call = functools.partial(getattr(anyrelu, name), x)
        yield Case("numpy", f"{name} n={_n(n)}", native_name, call, functools.partial(native, x), must, 1.0)
        yield Case("numpy", f"{name} peak memory n={_n(n)}", "output bytes", call, lambda: None, 2.0, 1.0, "memory")
    dash_formulas = list(NUMPY_DASH_FORMULAS)
    if importlib.util.find_spec("scipy") is not None:
        from scipy.special import erfc

        dash_formulas.append(
            (
                "gelu_dash",
                "erfc(-x / sqrt(2)) / 2 + x * np.exp(-x * x / 2) / sqrt(2 pi)",
                lambda v: erfc(v * -0.7071067811865476) / 2 + v * np.exp(-v * v / 2) * 0.3989422804014327,
            )
        )
    for name, native_name, native in dash_formulas:
        call = functools.partial(getattr(anyrelu, name), x)
        yield Case("numpy", f"{name} n={_n(n)}", native_name, call, functools.partial(native, x), None, 1.0)


def _numpy_size_cases(n: int, x: np.ndarray) -> Iterator[Case]:
    yield Case("numpy", f"relu n={_n(n)}", "np.maximum(x, 0)", lambda: relu(x),
               lambda: np.maximum(x, 0), 1.10, 1.0)  # fmt: skip
    yield Case("numpy", f"leaky relu 0.1 n={_n(n)}", "np.maximum(x, 0.1*x)", lambda: relu(x, 0.1),
               lambda: np.maximum(x, 0.1 * x), 1.15, 0.8)  # fmt: skip
    yield Case("numpy", f"relu_dash n={_n(n)}", "np.maximum(x, 0)", lambda: relu_dash(x),
               lambda: np.maximum(x, 0), 2.0, 1.2)  # fmt: skip


def _n(n: int) -> str:
    """8 -> '8', 1000000 -> '1e6', 134217728 -> '2^27'."""
    exponent = len(str(n)) - 1
    if n >= 1024 and n & (n - 1) == 0:
        return f"2^{n.bit_length() - 1}"
    return str(n) if n < 1000 or n != 10**exponent else f"1e{exponent}"


def _torch_cases(quick: bool) -> Iterator[Case]:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    tiny = torch.from_numpy(_data(8))
    yield Case("torch", "relu n=8", "torch.relu", lambda: relu(tiny), lambda: torch.relu(tiny), 2.5, 1.5)
    yield Case("torch", "relu6 n=8", "F.relu6", lambda: relu6(tiny), lambda: F.relu6(tiny), 2.5, 1.5)
    n = 10_000 if quick else 1_000_000
    x = torch.from_numpy(_data(n))
    yield Case("torch", f"relu n={_n(n)}", "torch.relu", lambda: relu(x), lambda: torch.relu(x), 1.15, 1.0)
    xg = x.clone().requires_grad_(True)
    grad = torch.ones_like(x)

    def both(f: Any) -> Any:
        return torch.autograd.grad(f(xg), xg, grad)

    for name, native_name, ours, native, must, must_both in _torch_rows():
        yield Case("torch", f"{name} n={_n(n)}", native_name, functools.partial(ours, x),
                   functools.partial(native, x), must, 1.0)  # fmt: skip
        yield Case("torch", f"{name} forward+backward n={_n(n)}", native_name, functools.partial(both, ours),
                   functools.partial(both, native), must_both, 1.0)  # fmt: skip
    yield from _torch_wide_cases(x * 30)
    yield from _torch_compiled_cases(quick)
    if torch.cuda.is_available():
        yield from _torch_cuda_cases(quick)


def _torch_rows() -> list[tuple[str, str, Any, Any, float, float]]:
    """(row, native name, anyrelu's call, torch's call, the most for forward and for forward+backward)."""
    import torch.nn.functional as F

    def same(name: str, native: str, must: float, must_both: float, **kwargs: Any) -> tuple[Any, ...]:
        theirs = getattr(F, native)
        return (name, f"F.{native}", functools.partial(getattr(anyrelu, name), **kwargs), theirs, must, must_both)

    return [
        ("leaky relu 0.1", "F.leaky_relu", functools.partial(relu, leak=0.1),
         functools.partial(F.leaky_relu, negative_slope=0.1), 1.1, 1.3),
        ("relu6", "F.relu6", relu6, F.relu6, 1.7, 2.0),
        same("elu", "elu", 1.1, 1.3), same("selu", "selu", 1.1, 1.3), same("celu", "celu", 1.1, 1.3),
        same("softplus", "softplus", 1.1, 1.3), same("hard_sigmoid", "hardsigmoid", 1.1, 1.3),
        same("mish", "mish", 1.3, 2.0), same("silu", "silu", 1.5, 2.0), same("hard_swish", "hardswish", 2.0, 2.5),
        ("gelu", "F.gelu", anyrelu.gelu, F.gelu, 4.0, 4.0),
        ("gelu tanh", "F.gelu(approximate='tanh')", functools.partial(anyrelu.gelu, approximate=True),
         functools.partial(F.gelu, approximate="tanh"), 2.0, 4.0),
    ]  # fmt: skip


def _torch_wide_cases(wide: Any) -> Iterator[Case]:
    """The exp and erfc functions on N(0, 30²), with no limit: x86 takes a slow path where an
    operand or a result is subnormal (torch sets no flush-to-zero mode), and an exp or erfc that
    underflows or overflows takes one inside the library (docs/benchmarks.md, "Inputs of large
    magnitude")."""
    import torch

    wide_g = wide.clone().requires_grad_(True)
    grad = torch.ones_like(wide)

    def both(f: Any) -> Any:
        return torch.autograd.grad(f(wide_g), wide_g, grad)

    size = _n(wide.numel())
    for name, native_name, ours, native, _, _ in _torch_rows():
        if name in ("elu", "softplus", "mish", "silu", "gelu", "gelu tanh"):
            yield Case("torch", f"{name} n={size}, N(0, 30²)", native_name, functools.partial(ours, wide),
                       functools.partial(native, wide), None, 1.0)  # fmt: skip
        if name in ("gelu", "gelu tanh"):
            yield Case("torch", f"{name} forward+backward n={size}, N(0, 30²)", native_name,
                       functools.partial(both, ours), functools.partial(both, native), None, 1.0)  # fmt: skip


def _torch_compiled_cases(quick: bool) -> Iterator[Case]:
    """A torch.compile'd training step of a two-layer MLP (forward, backward, SGD update) with
    anyrelu's activation module against the same step with torch's: does inductor fuse anyrelu
    as it fuses its own? --quick compiles with aot_eager (seconds, not minutes), measuring nothing."""
    import torch

    import anyrelu.torch as modules

    batch, width = (64, 64) if quick else (512, 512)
    data = torch.from_numpy(_data(batch * width).reshape(batch, width))
    target = torch.from_numpy(_data(batch * 10).reshape(batch, 10))
    backend = "aot_eager" if quick else "inductor"
    for name, ours, theirs in (("gelu", modules.GELU, torch.nn.GELU), ("silu", modules.SiLU, torch.nn.SiLU),
                               ("elu", modules.ELU, torch.nn.ELU)):  # fmt: skip
        yield Case("torch", f"compiled MLP step, {name}", f"the step with F.{name}",
                   _compiled_step(ours(), data, target, backend), _compiled_step(theirs(), data, target, backend),
                   1.2, 1.0)  # fmt: skip


def _compiled_step(activation: Any, data: Any, target: Any, backend: str) -> Thunk:
    import torch

    torch.manual_seed(0)
    width = data.shape[1]
    model = torch.nn.Sequential(torch.nn.Linear(width, width), activation, torch.nn.Linear(width, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)

    def step() -> Any:
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(model(data), target)
        loss.backward()
        optimizer.step()
        return loss

    return torch.compile(step, backend=backend)


def _jax_cases(quick: bool) -> Iterator[Case]:
    import jax
    import jax.numpy as jnp

    ours_relu, native_relu = jax.jit(lambda v: relu(v)), jax.jit(jax.nn.relu)
    ours_leaky = jax.jit(lambda v: relu(v, 0.1))
    native_leaky = jax.jit(lambda v: jax.nn.leaky_relu(v, 0.1))
    for n in (8, 10_000 if quick else 1_000_000):
        yield from _jax_size_cases(n, jnp.asarray(_data(n)), ours_relu, native_relu, ours_leaky, native_leaky)
    n = 10_000 if quick else 1_000_000
    x = jnp.asarray(_data(n))

    for name, native, must, must_both in _jax_rows():
        ours = getattr(anyrelu, name.removesuffix(" tanh"))
        if name == "gelu tanh":
            ours = functools.partial(ours, approximate=True)
        for label, wrap, limit in (("jit", jax.jit, must), ("value_and_grad", _value_and_grad, must_both)):
            yield Case("jax", f"{label} {name} n={_n(n)}", f"{label}({native[0]})", functools.partial(wrap(ours), x),
                       functools.partial(wrap(native[1]), x), limit, 1.0, sync=_jax_ready)  # fmt: skip


def _value_and_grad(f: Any) -> Any:
    import jax

    return jax.jit(jax.value_and_grad(lambda v: f(v).sum()))


def _jax_ready(result: Any) -> Any:
    import jax

    return jax.block_until_ready(result)


def _jax_rows() -> list[tuple[str, tuple[str, Any], float, float]]:
    """(row, (native name, native function), the most for jit and for value_and_grad)."""
    import jax

    rows = [(name, (f"jax.nn.{name}", getattr(jax.nn, name)), must, both) for name, must, both in (
        ("elu", 1.0, 1.0), ("selu", 1.0, 1.0), ("celu", 1.0, 1.0), ("softplus", 1.0, 1.0),
        ("hard_sigmoid", 1.1, 1.1), ("hard_swish", 1.1, 1.1), ("silu", 1.2, 1.4), ("mish", 1.2, 1.4),
        ("squareplus", 2.0, 2.0))]  # fmt: skip
    exact = functools.partial(jax.nn.gelu, approximate=False)
    return [*rows, ("gelu", ("jax.nn.gelu(approximate=False)", exact), 1.3, 1.5),
            ("gelu tanh", ("jax.nn.gelu", jax.nn.gelu), 1.3, 1.5)]  # fmt: skip


def _jax_size_cases(
    n: int, x: Any, ours_relu: Any, native_relu: Any, ours_leaky: Any, native_leaky: Any
) -> Iterator[Case]:
    import jax

    def ready(result: Any) -> Any:
        return result.block_until_ready()

    yield Case("jax", f"jit relu n={_n(n)}", "jit(jax.nn.relu)", lambda: ours_relu(x),
               lambda: native_relu(x), 1.10, 1.0, sync=ready)  # fmt: skip
    yield Case("jax", f"jit leaky relu 0.1 n={_n(n)}", "jit(jax.nn.leaky_relu)", lambda: ours_leaky(x),
               lambda: native_leaky(x), 1.10, 1.0, sync=ready)  # fmt: skip
    yield Case("jax", f"eager relu n={_n(n)}", "jax.nn.relu(x)", lambda: relu(x),
               lambda: jax.nn.relu(x), 1.0, 0.5, sync=ready)  # fmt: skip


def _dask_cases(quick: bool) -> Iterator[Case]:
    import dask
    import dask.array as da

    n = 40_000 if quick else 4_000_000
    x = da.from_array(_data(n), chunks=n // 4)
    with dask.config.set(scheduler="threads"):
        yield Case("dask", f"leaky relu 0.1 n={_n(n)} in 4 chunks, compute", "da.maximum(x, 0.1*x)",
                   lambda: relu(x, 0.1).compute(), lambda: da.maximum(x, 0.1 * x).compute(), 1.25, 1.0)  # fmt: skip


def _cupy_cases(quick: bool) -> Iterator[Case]:
    """anyrelu's CuPy kernels against a device-to-device copy of the same array: the ratio is the
    share of the copy's bandwidth inverted (limit 1/0.85: at least 85% of it)."""
    import cupy

    n = 1_000_000 if quick else 2**27
    x = cupy.asarray(_data(n))
    out = cupy.empty_like(x)

    def ready(result: Any) -> Any:
        cupy.cuda.get_current_stream().synchronize()
        return result

    for name, call in (("relu", lambda: relu(x)), ("leaky relu 0.1", lambda: relu(x, 0.1)),
                       ("relu_dash", lambda: relu_dash(x)), ("relu6", lambda: relu6(x))):  # fmt: skip
        yield Case("cupy", f"{name} n={_n(n)}", "copy", call,
                   lambda: cupy.copyto(out, x), 1 / 0.85, 1 / 0.90, sync=ready, bytes=2 * x.nbytes)  # fmt: skip
    yield Case("cupy", f"cupy.maximum(x, 0) n={_n(n)}", "copy", lambda: cupy.maximum(x, 0),
               lambda: cupy.copyto(out, x), None, 1 / 0.90, sync=ready, bytes=2 * x.nbytes)  # fmt: skip


def _torch_cuda_cases(quick: bool) -> Iterator[Case]:
    """torch on the GPU, where there is one: relu6 and relu_dash against torch's own kernels."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(_data(1_000_000 if quick else 2**27)).cuda()
    xg, grad = x.clone().requires_grad_(True), torch.ones_like(x)

    def ready(result: Any) -> Any:
        torch.cuda.synchronize()
        return result

    moved = 2 * x.numel() * x.element_size()
    for name, ours, native_name, native in (
        ("relu", lambda: relu(x), "torch.relu", lambda: torch.relu(x)),
        ("relu6", lambda: relu6(x), "F.relu6", lambda: F.relu6(x)),
        ("relu_dash", lambda: relu_dash(x), "x.clone()", lambda: x.clone()),
        ("relu6 forward+backward", lambda: torch.autograd.grad(relu6(xg), xg, grad), "F.relu6",
         lambda: torch.autograd.grad(F.relu6(xg), xg, grad)),
    ):  # fmt: skip
        yield Case("torch", f"cuda {name}", native_name, ours, native, 1.15, 1.0, sync=ready,
                   bytes=0 if "backward" in name else moved)  # fmt: skip


CASES: dict[str, Callable[[list[int], bool], Iterator[Case]]] = {
    "numpy": _numpy_cases,
    "torch": lambda sizes, quick: _torch_cases(quick),
    "jax": lambda sizes, quick: _jax_cases(quick),
    "dask": lambda sizes, quick: _dask_cases(quick),
    "cupy": lambda sizes, quick: _cupy_cases(quick),
}


def _time(thunk: Thunk, sync: Callable[[Any], Any], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        result = thunk()
    sync(result)
    return (time.perf_counter() - start) / number


def _peak_bytes(thunk: Thunk) -> int:
    tracemalloc.start()
    try:
        result = thunk()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak


def measure(case: Case, rounds: int, budget_s: float) -> Result:
    """anyrelu and native in alternated rounds: the ratio is the median of the rounds' own ratios
    (anyrelu's time in a round / the native time in the same round), the times the medians of
    each side's rounds, and ``best`` the best round of one side over the best of the other."""
    if case.kind == "memory":
        output = case.ours()
        value = _peak_bytes(case.ours) / output.nbytes
        return Result(case.backend, case.name, case.native_name, case.kind, 0.0, 0.0, value, case.must,
                      case.goal, case.must is None or value <= case.must)  # fmt: skip
    case.sync(case.ours())  # warm up: compile, cache, allocate
    case.sync(case.native())
    # Each side repeats for about budget_s: a side 10x faster than the other gets 10x the calls,
    # so its first call after the other side freed its memory (which may page-fault) is averaged
    # over many, as it is in a loop of its own.
    number_ours, number_native = (
        max(1, int(budget_s / max(_time(f, case.sync, 1), 1e-7))) for f in (case.ours, case.native)
    )
    ours, native = [], []
    for _ in range(rounds):
        ours.append(_time(case.ours, case.sync, number_ours))
        native.append(_time(case.native, case.sync, number_native))
    value = statistics.median(o / n for o, n in zip(ours, native, strict=True))
    return Result(case.backend, case.name, case.native_name, case.kind, statistics.median(ours),
                  statistics.median(native), value, case.must, case.goal, case.must is None or value <= case.must,
                  case.bytes, min(ours) / min(native))  # fmt: skip


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "anyrelu": __version__, "platform": platform.platform()}  # fmt: skip


LEGEND = (
    "ratio: anyrelu's time / the native time in the same round, the median of 15 alternated rounds "
    "(memory rows: peak memory / output bytes); lower is better. best: anyrelu's best round / the "
    "native's best round. "
    "limit: the most the project accepts; rows over it say MISSED; rows with no limit (--) show another "
    "library's operation, for comparison."
)
QUICK = (
    "--quick is a smoke run (2 rounds, small sizes): it checks that every row runs; its numbers are not "
    "measurements, and no row is held to its limit."
)


def main(args: argparse.Namespace) -> int:
    try:
        from rich.console import Console
        from rich.markup import escape
        from rich.progress import Progress
    except ImportError:
        print("anyrelu bench needs rich: pip install 'anyrelu[bench]'", file=sys.stderr)
        return 1
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        print("anyrelu bench --plot needs matplotlib: pip install 'anyrelu[plot]'", file=sys.stderr)
        return 1
    console = Console()  # the terminal's width (80 columns when it cannot tell)
    libraries = {library.name: library for library in LIBRARIES}
    asked_missing = {name: why_missing(libraries[name]) for name in args.backend or []}
    for name, reason in asked_missing.items():  # a backend asked for by name that cannot run
        if reason:
            print(f"anyrelu bench: cannot run {name}: {reason}", file=sys.stderr)
            return 1
    if args.quick:
        console.print(QUICK)
    cases: list[Case] = []
    skipped: dict[str, str] = {}
    for name in args.backend or list(CASES):
        reason = why_missing(libraries[name])
        if reason:
            skipped[name] = reason
        else:
            cases.extend(CASES[name](_sizes(args.sizes, args.quick), args.quick))
    rounds, budget = (2, 0.002) if args.quick else (15, 0.02)
    results = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("benchmarking", total=len(cases))
        for case in cases:
            progress.update(task, description=f"{case.backend}: {case.name}")
            results.append(measure(case, rounds, budget))
            progress.advance(task)

    info = machine()
    console.print(f"anyrelu {__version__} vs each backend's own operation -- {info['cpu']}, {info['cores']} cores")
    for backend in dict.fromkeys(r.backend for r in results):
        console.print(_table(backend, [r for r in results if r.backend == backend], args.quick))
    console.print(LEGEND)
    if args.quick:
        console.print(QUICK)
    for name, reason in skipped.items():
        console.print(escape(f"skipped {name}: {reason}"))
    if args.markdown:
        Path(args.markdown).write_text(markdown(results, info))
    if args.json:
        Path(args.json).write_text(_json(results, info, skipped, args.quick))
    if args.plot:
        plot(results, info, args.plot)
    for path in filter(None, (args.markdown, args.json, args.plot)):
        console.print(f"wrote {path}")
    return 0


def _table(backend: str, results: list[Result], quick: bool = False) -> Any:
    from rich.table import Table

    table = Table(title=backend, title_justify="left")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column in ("case", "compared with") else "right")
    for r in results:
        cells = _cells(r, "[bold red]MISSED[/]")
        if quick:  # a smoke run measures nothing: no verdict
            cells[-1] = "ran"
        table.add_row(*cells)
    return table


COLUMNS = ("case", "compared with", "anyrelu", "ratio", "best", "limit", "")


def _json(results: list[Result], info: dict[str, Any], skipped: dict[str, str], quick: bool) -> str:
    return json.dumps({"machine": info, "quick": quick, "results": [asdict(r) for r in results],
                       "skipped": skipped}, indent=2)  # fmt: skip


def markdown(results: list[Result], info: dict[str, Any]) -> str:
    """The results as Markdown, one table per backend, with the machine named (for docs/benchmarks.md)."""
    lines = [
        f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, NumPy {info['numpy']}, "
        f"anyrelu {info['anyrelu']}.",
    ]
    for backend in dict.fromkeys(r.backend for r in results):
        lines += [
            "",
            f"### {backend}",
            "",
            "| " + " | ".join(COLUMNS).rstrip() + " |",
            "|---|---|---:|---:|---:|---:|---|",
        ]
        for r in results:
            if r.backend == backend:
                name, native_name, *rest = _cells(r, "**missed**")
                lines.append("| " + " | ".join([name, f"`{native_name}`", *rest]) + " |")
    return "\n".join(lines) + "\n"


def _cells(r: Result, missed: str) -> list[str]:
    """One row of a table: case, native, anyrelu's time, ratio, best rounds' ratio, limit, met or missed."""
    ours = "" if r.kind == "memory" else _seconds(r.ours_s)
    if r.bytes:  # a GPU row: the bandwidth reached, and its share of a device-to-device copy's
        ours += f", {r.bytes / r.ours_s / 1e9:.0f} GB/s"
    best = f"{r.best:.2f}" if r.best else ""
    if r.must is None:  # another library's operation, shown for comparison
        return [r.name, r.native_name, ours, f"{r.value:.2f}", best, "--", ""]
    return [r.name, r.native_name, ours, f"{r.value:.2f}", best, f"{r.must:.3g}", "met" if r.met else missed]


def _seconds(s: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s * 1e9:.3g} ns"


def plot(results: list[Result], info: dict[str, Any], path: str) -> None:
    """The ratios as horizontal bars, one panel per backend, each row's limit marked, 1.0 as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    backends = list(dict.fromkeys(r.backend for r in results))
    heights = [sum(r.backend == b for r in results) for b in backends]
    values = [v for r in results for v in (r.value, r.must) if v is not None]
    low, high = min(0.5, *values) / 1.3, max(2.0, *values) * 1.3
    fig, panels = plt.subplots(len(backends), 1, figsize=(9, 1.2 + 0.28 * sum(heights)), squeeze=False, sharex=True,
                               gridspec_kw={"height_ratios": heights}, layout="constrained")  # fmt: skip
    for axes, backend in zip(panels[:, 0], backends, strict=True):
        rows = [r for r in results if r.backend == backend][::-1]
        y = np.arange(len(rows))
        colors = ["0.6" if r.must is None else "tab:blue" if r.met else "tab:red" for r in rows]
        axes.barh(y, [r.value - low for r in rows], left=low, color=colors, height=0.6)
        limited = [(r.must, i) for i, r in enumerate(rows) if r.must is not None]
        axes.plot([m for m, _ in limited], [i for _, i in limited], "|", color="black", ms=12, label="limit")
        axes.axvline(1.0, color="0.4", lw=0.8)
        axes.set_yticks(y, [r.name for r in rows], fontsize=8)
        axes.set_xscale("log")
        axes.set_xlim(low, high)
        axes.set_title(backend, loc="left", fontsize=10)
        axes.grid(axis="x", alpha=0.3)
    panels[0, 0].legend(loc="lower right", fontsize=8)
    panels[-1, 0].set_xlabel(
        "anyrelu time / native time (memory: peak / output bytes); lower is better; red: missed; gray: for comparison"
    )
    fig.suptitle(f"anyrelu {info['anyrelu']} -- {info['cpu']}, {info['cores']} cores", fontsize=10)
    fig.savefig(path, dpi=110)

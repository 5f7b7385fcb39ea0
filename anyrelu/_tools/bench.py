"""``python -m anyrelu bench``: anyrelu against each backend's own kernel, side by side in one run.

Each row times anyrelu and the native operation in interleaved rounds (A, B, A, B, ...) and keeps
the best of each, so that a noisy machine slows both alike. Ratios are anyrelu / native (lower
is better) except where the row says otherwise. "must" and "goal" are the project's targets.
Timings never decide a test; this command is where speed is measured.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
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
    must: float
    goal: float
    kind: str = "ratio"  # ratio: ours/native <= must; speedup or bandwidth: native/ours >= must; memory
    sync: Callable[[Any], Any] = field(default=lambda result: result, repr=False)


@dataclass
class Result:
    backend: str
    name: str
    native_name: str
    kind: str
    ours_s: float
    native_s: float
    value: float
    must: float
    goal: float
    met: bool


def _sizes(text: str | None, quick: bool) -> list[int]:
    if text:
        return [int(float(s)) for s in text.split(",")]
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
               lambda: np.maximum(tiny, 0), 3.0, 1.5)  # fmt: skip
    n = 10_000 if quick else 1_000_000
    seed_x = _data(n)
    yield Case("numpy", f"seed np.where form n={_n(n)} (speed-up)", "np.where(x <= 0, 0*x, x)",
               lambda: relu(seed_x), lambda: np.where(seed_x <= 0, 0 * seed_x, seed_x), 10.0, 10.0,
               kind="speedup")  # fmt: skip
    n = 100_000 if quick else 10_000_000
    big = _data(n)
    for name, call, must in (
        ("relu", lambda: relu(big), 1.10),
        ("leaky relu 0.1", lambda: relu(big, 0.1), 2.10),
        ("relu_dash", lambda: relu_dash(big), 1.35),
    ):
        yield Case("numpy", f"{name} peak memory n={_n(n)}", "output bytes", call, lambda: None, must, 1.0, "memory")
    yield from _numpy_family_cases(quick)


def _numpy_family_cases(quick: bool) -> Iterator[Case]:
    """The rectifier family against the formula a user would write (NumPy has no kernels of its own)."""
    n = 10_000 if quick else 1_000_000
    x = _data(n)
    for name, native_name, native, must in (
        ("elu", "np.where(x > 0, x, np.expm1(x))", lambda: np.where(x > 0, x, np.expm1(x)), 1.0),
        ("silu", "x / (1 + np.exp(-x))", lambda: x / (1 + np.exp(-x)), 1.3),
        ("softplus", "np.logaddexp(x, 0)", lambda: np.logaddexp(x, 0), 1.3),
    ):
        ours = getattr(anyrelu, name)
        call = functools.partial(ours, x)
        yield Case("numpy", f"{name} n={_n(n)}", native_name, call, native, must, 1.0)
        yield Case("numpy", f"{name} peak memory n={_n(n)}", "output bytes", call, lambda: None, 3.0, 2.0, "memory")


def _numpy_size_cases(n: int, x: np.ndarray) -> Iterator[Case]:
    yield Case("numpy", f"relu n={_n(n)}", "np.maximum(x, 0)", lambda: relu(x),
               lambda: np.maximum(x, 0), 1.10, 1.0)  # fmt: skip
    yield Case("numpy", f"leaky relu 0.1 n={_n(n)}", "np.maximum(x, 0.1*x)", lambda: relu(x, 0.1),
               lambda: np.maximum(x, 0.1 * x), 1.15, 0.8)  # fmt: skip
    yield Case("numpy", f"relu_dash n={_n(n)}", "np.maximum(x, 0)", lambda: relu_dash(x),
               lambda: np.maximum(x, 0), 2.0, 1.2)  # fmt: skip


def _n(n: int) -> str:
    """8 -> '8', 1000000 -> '1e6'."""
    exponent = len(str(n)) - 1
    return str(n) if n < 1000 or n != 10**exponent else f"1e{exponent}"


def _torch_cases(quick: bool) -> Iterator[Case]:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    n = 10_000 if quick else 1_000_000
    x = torch.from_numpy(_data(n))
    yield Case("torch", f"relu n={_n(n)}", "torch.relu", lambda: relu(x), lambda: torch.relu(x), 1.15, 1.0)
    yield Case("torch", f"leaky relu 0.1 n={_n(n)}", "F.leaky_relu", lambda: relu(x, 0.1),
               lambda: F.leaky_relu(x, 0.1), 1.15, 1.0)  # fmt: skip
    yield Case("torch", f"relu6 n={_n(n)}", "F.relu6", lambda: relu6(x), lambda: F.relu6(x), 1.15, 1.0)
    xg = x.clone().requires_grad_(True)
    grad = torch.ones_like(x)

    def ours() -> Any:
        return torch.autograd.grad(relu(xg, 0.1), xg, grad)

    def native() -> Any:
        return torch.autograd.grad(F.leaky_relu(xg, 0.1), xg, grad)

    yield Case("torch", f"leaky relu forward+backward n={_n(n)}", "F.leaky_relu", ours, native, 1.5, 1.0)
    yield from _torch_family_cases(x, xg, grad)


TORCH_FAMILY = (  # anyrelu's name, torch.nn.functional's, the must for forward and for forward+backward
    ("elu", "elu", 1.3, 1.5), ("selu", "selu", 1.3, 1.5), ("celu", "celu", 1.3, 1.5), ("gelu", "gelu", 2.0, 2.0),
    ("silu", "silu", 1.3, 1.5), ("softplus", "softplus", 1.3, 1.5), ("mish", "mish", 1.3, 1.5),
    ("hard_sigmoid", "hardsigmoid", 1.3, 1.5), ("hard_swish", "hardswish", 1.3, 1.5),
)  # fmt: skip


def _torch_family_cases(x: Any, xg: Any, grad: Any) -> Iterator[Case]:
    import torch
    import torch.nn.functional as F

    def both(f: Any) -> Any:
        return torch.autograd.grad(f(xg), xg, grad)

    n = x.numel()
    for name, native_name, must, must_both in TORCH_FAMILY:
        ours, native = getattr(anyrelu, name), getattr(F, native_name)
        yield Case("torch", f"{name} n={_n(n)}", f"F.{native_name}", functools.partial(ours, x),
                   functools.partial(native, x), must, 1.0)  # fmt: skip
        yield Case("torch", f"{name} forward+backward n={_n(n)}", f"F.{native_name}", functools.partial(both, ours),
                   functools.partial(both, native), must_both, 1.0)  # fmt: skip


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

    def ready(result: Any) -> Any:
        return result.block_until_ready()

    for name in ("elu", "selu", "celu", "gelu", "silu", "softplus", "mish", "hard_sigmoid", "hard_swish", "squareplus"):
        native = getattr(jax.nn, name)
        if name == "gelu":  # both exact: jax.nn.gelu defaults to the tanh form
            native = functools.partial(native, approximate=False)
        ours, theirs = jax.jit(getattr(anyrelu, name)), jax.jit(native)
        yield Case("jax", f"jit {name} n={_n(n)}", f"jit(jax.nn.{name})", functools.partial(ours, x),
                   functools.partial(theirs, x), 1.2, 1.0, sync=ready)  # fmt: skip


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
    import cupy

    n = 1_000_000 if quick else 100_000_000
    x = cupy.asarray(_data(n))
    out = cupy.empty_like(x)

    def ready(result: Any) -> Any:
        cupy.cuda.get_current_stream().synchronize()
        return result

    for name, call in (("relu", lambda: relu(x)), ("leaky relu 0.1", lambda: relu(x, 0.1))):
        yield Case("cupy", f"{name} n={_n(n)} (fraction of copy bandwidth)", "device-to-device copy", call,
                   lambda: cupy.copyto(out, x), 0.85, 0.90, kind="bandwidth", sync=ready)  # fmt: skip


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
    """Best-of-rounds per-call times, anyrelu and native interleaved."""
    if case.kind == "memory":
        output = case.ours()
        value = _peak_bytes(case.ours) / output.nbytes
        return Result(case.backend, case.name, case.native_name, case.kind, 0.0, 0.0, value, case.must,
                      case.goal, value <= case.must)  # fmt: skip
    case.sync(case.ours())  # warm up: compile, cache, allocate
    case.sync(case.native())
    # Each side repeats for about budget_s: a side 10x faster than the other gets 10x the calls,
    # so its first call after the other side freed its memory (which may page-fault) is averaged
    # over many, as it is in a loop of its own.
    number_ours, number_native = (
        max(1, int(budget_s / max(_time(f, case.sync, 1), 1e-7))) for f in (case.ours, case.native)
    )
    ours = native = float("inf")
    for _ in range(rounds):
        ours = min(ours, _time(case.ours, case.sync, number_ours))
        native = min(native, _time(case.native, case.sync, number_native))
    value = ours / native if case.kind == "ratio" else native / ours
    met = value <= case.must if case.kind == "ratio" else value >= case.must
    return Result(case.backend, case.name, case.native_name, case.kind, ours, native, value, case.must, case.goal, met)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "anyrelu": __version__, "platform": platform.platform()}  # fmt: skip


def main(args: argparse.Namespace) -> int:
    try:
        from rich.console import Console
        from rich.markup import escape
        from rich.progress import Progress
        from rich.table import Table
    except ImportError:
        print("anyrelu bench needs rich: pip install 'anyrelu[bench]'", file=sys.stderr)
        return 1
    console = Console(width=None if sys.stdout.isatty() else 150)
    wanted = args.backend or list(CASES)
    unknown = sorted(set(wanted) - set(CASES))
    if unknown:
        console.print(f"unknown backend(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
        return 2
    libraries = {library.name: library for library in LIBRARIES}
    cases: list[Case] = []
    skipped: dict[str, str] = {}
    for name in wanted:
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
    table = Table(title=f"anyrelu {__version__} vs native -- {info['cpu']}, {info['cores']} cores")
    for column in ("backend", "case", "native", "anyrelu", "native time", "ratio", "must", "goal", ""):
        table.add_column(column, justify="left" if column in ("backend", "case", "native") else "right")
    for r in results:
        table.add_row(*_cells(r, "MISSED"))
    console.print(table)
    for name, reason in skipped.items():
        console.print(escape(f"skipped {name}: {reason}"))
    if args.markdown:
        with open(args.markdown, "w") as out:
            out.write(markdown(results, info))
        console.print(f"wrote {args.markdown}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"machine": info, "quick": args.quick, "results": [asdict(r) for r in results],
                       "skipped": skipped}, out, indent=2)  # fmt: skip
        console.print(f"wrote {args.json}")
    return 0


def markdown(results: list[Result], info: dict[str, Any]) -> str:
    """The results as a Markdown table, with the machine named (for docs/benchmarks.md)."""
    lines = [
        f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, NumPy {info['numpy']}, "
        f"anyrelu {info['anyrelu']}.",
        "",
        "| backend | case | compared with | anyrelu | native | ratio | must | goal | |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        backend, name, native_name, *rest = _cells(r, "**missed**")
        lines.append("| " + " | ".join([backend, name, f"`{native_name}`", *rest]) + " |")
    return "\n".join(lines) + "\n"


def _cells(r: Result, missed: str) -> list[str]:
    """One row of the table: backend, case, native, both times, ratio, must, goal, met or missed."""
    sign = "<=" if r.kind in ("ratio", "memory") else ">="
    times = ["", ""] if r.kind == "memory" else [_seconds(r.ours_s), _seconds(r.native_s)]
    return [r.backend, r.name, r.native_name, *times, f"{r.value:.2f}", f"{sign} {r.must:g}", f"{r.goal:g}",
            "met" if r.met else missed]  # fmt: skip


def _seconds(s: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s * 1e9:.3g} ns"

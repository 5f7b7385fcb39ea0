"""torch.compile(fullgraph=True) captures every public function with no graph break and no warning,
as plain torch operations (exact GELU of other than a CPU float32 tensor: eager's erfc behind a
custom op), and gives eager's values and gradients bit for bit -- except where a graph has kernels
of its own (the ELU family and exact GELU: inductor's CPU loops compute expm1 as exp(x) - 1, and
its float64 erfc is slow), whose values and gradients are within the contract's bound of mpmath's.
Inductor's own code is screened on every CPU capability in tests/test_accuracy.py."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed")

import oracle  # noqa: E402  (tests/oracle.py)
from helpers import TORCH_JIT_DEPRECATED  # noqa: E402
from torch._dynamo.backends.common import aot_autograd  # noqa: E402
from torch._functorch.aot_autograd import make_boxed_func  # noqa: E402

import anyrelu  # noqa: E402
from anyrelu._kernels import float32 as f32  # noqa: E402

PUBLIC = sorted(name for name in anyrelu.__all__ if name not in ("get", "__version__"))

# every public function with its defaults, then the parameters that choose other kernels
CALLS = [(name, {}) for name in PUBLIC] + [
    ("relu", {"leak": 0.1}), ("relu", {"leak": 0.1, "max_value": 6.0}), ("relu", {"threshold": 1.0}),
    ("relu_dash", {"leak": 0.1, "max_value": 6.0}), ("elu", {"alpha": 2.0}), ("elu_dash", {"alpha": -2.0}),
    ("celu", {"alpha": 0.3}), ("gelu", {"approximate": True}), ("gelu_dash", {"approximate": True}),
    ("softplus", {"beta": 0.25}), ("softplus_dash", {"beta": 10.0}), ("squareplus", {"b": 0.5}),
]  # fmt: skip

# functions whose graph has kernels of its own (``_kernels.torch``: ELU_GRAPH, GELU_GRAPH)
OWN_IN_A_GRAPH = {"elu", "selu", "celu", "gelu", "elu_dash", "selu_dash", "celu_dash", "gelu_dash"}

POINTS = np.concatenate([[np.nan, -np.inf, np.inf, 0.0, -0.0, -3.0, 3.0, 6.0, -40.0, 1e4], np.linspace(-8, 8, 33)])


class Capture:
    """torch.compile's aot_eager with the graphs kept: the forward and backward torch operations
    (options: AOTAutograd's, such as inductor's partitioner and decompositions)."""

    def __init__(self, **options: object) -> None:
        self.graphs: list[torch.fx.GraphModule] = []

        def keep(graph: torch.fx.GraphModule, _: object) -> object:
            self.graphs.append(graph)
            return make_boxed_func(graph.forward)

        self.backend = aot_autograd(fw_compiler=keep, bw_compiler=keep, **options)

    def targets(self) -> set[str]:
        return {str(node.target) for graph in self.graphs for node in graph.graph.nodes if node.op == "call_function"}


def _every(*xs: torch.Tensor) -> list[torch.Tensor]:
    return [getattr(anyrelu, name)(x, **kwargs) for (name, kwargs), x in zip(CALLS, xs, strict=True)]


def _prelu(x: torch.Tensor, leak: torch.Tensor) -> list[torch.Tensor]:
    return [anyrelu.relu(x, leak), anyrelu.relu_dash(x, leak), anyrelu.relu(x, leak, max_value=6.0)]


# torch's own deprecation warning when AOTAutograd's forward-mode helpers load
@TORCH_JIT_DEPRECATED
# float64 runs other kernels for a few functions (silu, selu): with the long sweeps (pytest -m screen)
@pytest.mark.parametrize("dtype", [torch.float32, pytest.param(torch.float64, marks=pytest.mark.screen)])
@pytest.mark.parametrize("requires_grad", [False, True], ids=["no grad", "grad"])
def test_every_function_compiles_whole_with_eager_values_and_gradients(requires_grad, dtype):
    x = torch.tensor(POINTS, dtype=dtype)
    xs = [x.clone().requires_grad_(requires_grad) for _ in CALLS]
    capture = Capture()
    torch._dynamo.reset()
    got = torch.compile(_every, fullgraph=True, backend=capture.backend)(*xs)
    eager_xs = [x.clone().requires_grad_(requires_grad) for _ in CALLS]
    expected = _every(*eager_xs)
    for (name, kwargs), g, e in zip(CALLS, got, expected, strict=True):
        if _own_in_a_graph(name, kwargs):
            _assert_within_bound(name.removesuffix("_dash"), kwargs, x, g, e, name.endswith("_dash"))
        else:
            assert torch.equal(g.detach(), e.detach()) or _same_with_nan(g, e), f"{name}({kwargs})"
    # plain torch operations in the graph, which inductor fuses with their neighbours; exact GELU's
    # erfc is eager torch's behind anyrelu's custom ops (see the test below)
    # (and prims.add of -0.0, which keeps exact GELU's derivative for the backward: torch_graph.kept)
    plain = ("aten.", "<built-in function", "anyrelu.gelu.", "anyrelu.gelu_with_slope.", "prims.add.")
    assert capture.graphs and all(t.startswith(plain) for t in capture.targets())
    if requires_grad:
        sum(y.sum() for y in got if y.requires_grad).backward()
        sum(y.sum() for y in expected if y.requires_grad).backward()
        for (name, kwargs), g, e in zip(CALLS, xs, eager_xs, strict=True):
            assert (g.grad is None) == (e.grad is None), f"{name}({kwargs})"
            if g.grad is not None and _own_in_a_graph(name, kwargs) and not name.endswith("_dash"):
                _assert_within_bound(name, kwargs, x, g.grad, e.grad, True)
            elif g.grad is not None and _own_in_a_graph(name, kwargs):  # f'': eager's to 4 ulps
                ulp = torch.finfo(dtype).eps
                torch.testing.assert_close(g.grad, e.grad, rtol=4 * ulp, atol=ulp, equal_nan=True)
            else:
                assert g.grad is None or _same_with_nan(g.grad, e.grad), f"d {name}({kwargs})"


@TORCH_JIT_DEPRECATED
def test_a_number_parameter_dynamo_makes_symbolic_compiles_for_its_value():
    """Under dynamic=True (or for a number that changed between calls) Dynamo passes a SymFloat:
    the graph is compiled for its value, with eager's bits, and again for another value."""
    x = torch.tensor(POINTS, dtype=torch.float32)

    def f(v: torch.Tensor, a: float) -> list[torch.Tensor]:
        return [anyrelu.relu(v, a), anyrelu.relu(v, a, max_value=6 * a), anyrelu.softplus(v, beta=a),
                anyrelu.squareplus_dash(v, b=a), anyrelu.celu(v, alpha=a)]  # fmt: skip

    torch._dynamo.reset()
    compiled = torch.compile(f, dynamic=True, fullgraph=True, backend="aot_eager")
    for a in (0.5, 2.0):
        got, expected = compiled(x, a), f(x, a)
        for g, e in zip(got[:-1], expected[:-1], strict=True):
            assert _same_with_nan(g, e), a
        _assert_within_bound("celu", {"alpha": a}, x, got[-1], expected[-1], False)


def _own_in_a_graph(name: str, kwargs: dict[str, object]) -> bool:
    return name in OWN_IN_A_GRAPH and not kwargs.get("approximate", False)


def _assert_within_bound(name: str, kwargs: dict[str, object], x: torch.Tensor, got: torch.Tensor,
                         eager: torch.Tensor, dash: bool) -> None:  # fmt: skip
    """got within the contract's bound of mpmath's f (or f') at each finite x (an underflowed
    result may be either zero, as the underflow rule allows), eager's answer at +-inf and NaN (the
    limits, NaN), and eager's zero at +-0."""
    dtype = np.dtype(str(x.dtype).removeprefix("torch."))
    key = oracle.PARAMETER.get(name)
    parameter = kwargs.get(key, {"alpha": 1.0, "approximate": False}.get(key)) if key else None
    for v, g, e in zip(x.detach().tolist(), got.detach().tolist(), eager.detach().tolist(), strict=True):
        if not np.isfinite(v):
            assert g == e or (np.isnan(g) and np.isnan(e)), (name, dash, v, g, e)
            continue
        exact = oracle.exact(name, v, parameter, dash)
        allowed = oracle.bound(dtype, dash) * max(1.0, oracle.condition(name, v, parameter, dash))
        assert oracle.ulps(g, exact, dtype) <= allowed, (name, dash, v, g, float(exact))
        assert v != 0 or np.signbit(g) == np.signbit(e), (name, dash, v, g, e)  # at +-0, the zero's sign


@TORCH_JIT_DEPRECATED
def test_exact_gelu_compiles_to_float32_operations_on_a_float32_cpu_tensor():
    """A CPU float32 exact GELU (and the ELU family) compiles to float32 operations only, which
    inductor fuses into one loop: no erfc, no float64 tensor, no custom op, forward or backward."""
    x = torch.tensor(POINTS, dtype=torch.float32)
    capture = Capture()
    torch._dynamo.reset()
    f = torch.compile(lambda v: anyrelu.gelu(v) + anyrelu.elu(v) + anyrelu.celu(v, 0.3), fullgraph=True,
                      backend=capture.backend)  # fmt: skip
    f(x.clone().requires_grad_(True)).backward(torch.ones_like(x))
    assert len(capture.graphs) == 2
    for graph in capture.graphs:
        for node in graph.graph.nodes:
            assert not str(node.target).startswith(("anyrelu.", "aten.erf", "aten.expm1")), node.target
            value = node.meta.get("val")
            assert not isinstance(value, torch.Tensor) or value.dtype in (torch.float32, torch.int32, torch.bool), node


@TORCH_JIT_DEPRECATED
def test_the_graph_kernels_split_floats_into_halves_whose_products_are_exact():
    """The float32 kernels of a torch graph split by Veltkamp's product (a view as int32 is a round
    trip through memory in inductor's AVX-512 loops): each half has at most 12 significant bits,
    so Dekker's product error is a b - fl(a b) to 2^-33 of fl(a b) (NumPy's bit mask alike: 2^-34
    at worst measured; a split whose products round is 2^-24 off)."""
    rng = np.random.default_rng(7)
    a = (rng.standard_normal(100_000) * np.exp2(rng.integers(-60, 60, 100_000))).astype(np.float32)
    b = rng.standard_normal(100_000).astype(np.float32)
    torch._dynamo.reset()
    # and in inductor's vectorized loop (Dynamo passes the call to AOTAutograd whole, as anyrelu's
    # own calls), compiled with -ffp-contract=off (with =fast too on gcc 12: intrinsics stay apart)
    in_graph = torch.compiler.allow_in_graph(_product_error)
    compiled = torch.compile(lambda a, b, p: in_graph(a, b, p), fullgraph=True)
    for library, product_error in ((torch.from_numpy, f32.product_error), (torch.from_numpy, compiled),
                                   (np.asarray, f32.product_error)):  # fmt: skip
        x, y = library(a), library(b)
        for v in (x, y):
            high = np.asarray(f32.top_half(v))
            assert _significant_bits(high) <= 12 and _significant_bits(np.asarray(v) - high) <= 12
        p = x * y
        exact = a.astype(np.float64) * b.astype(np.float64) - np.asarray(p).astype(np.float64)
        error = np.asarray(product_error(x, y, p)).astype(np.float64)
        assert (np.abs(error - exact) <= np.abs(np.asarray(p).astype(np.float64)) * 2.0**-33).all()


def _product_error(a: torch.Tensor, b: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    return f32.product_error(a, b, p)


@TORCH_JIT_DEPRECATED
def test_the_graph_kernels_scale_by_powers_of_two_exactly():
    """The float32 kernels of a torch graph make 2^n by exp2 of the integer n (a view of n's bits as
    float32 costs a round trip through memory in inductor's loops): exactly 2^n for every normal
    power, eager and in inductor's vectorized loop and (one element at a time) its scalar one, as
    the views give it in NumPy (and JAX)."""
    n = np.arange(-126, 128, dtype=np.float32)
    exact = np.ldexp(np.float32(1), n.astype(np.int32))
    torch._dynamo.reset()
    in_graph = torch.compiler.allow_in_graph(_power_of_two)
    compiled = torch.compile(lambda v: in_graph(v), fullgraph=True)
    one_by_one = np.concatenate([np.asarray(compiled(torch.from_numpy(n[i : i + 1]))) for i in range(n.size)])
    for got in (f32._power_of_two(torch.from_numpy(n)), compiled(torch.from_numpy(n)), one_by_one,
                f32._power_of_two(n)):  # fmt: skip
        assert np.array_equal(np.asarray(got), exact)


def _power_of_two(n: torch.Tensor) -> torch.Tensor:
    return f32._power_of_two(n)


@pytest.mark.thread_unsafe  # the flush-to-zero mode is the thread's
def test_the_graph_gelu_forms_no_subnormal_number_where_its_result_is_normal():
    """x86 takes a slow path for each subnormal operand or result, and torch sets no flush-to-zero:
    the float32 GELU kernel of a torch graph (value and derivative) rounds each pair to one float32
    before 2^n scales it, and flushes 2^n where the result is within the underflow rule, so that
    it gives the same bits with the CPU's flush-to-zero and denormals-are-zero modes on as off, on
    every float32 in [-20, 20] that is a multiple of 2^-10 and random normal numbers. Eager torch
    operations on pieces below torch's grain size, which run on this thread."""
    rng = np.random.default_rng(3)
    x = np.concatenate([np.arange(-20 * 1024, 20 * 1024 + 1) / 1024, rng.standard_normal(20_000) * 10])
    x = torch.from_numpy(np.concatenate([x, POINTS]).astype(np.float32))

    def run() -> list[torch.Tensor]:
        return [torch.cat(parts) for parts in zip(*(f32.gelu_with_slope(v) for v in x.split(16384)), strict=True)]

    on_and_off = []
    try:
        for flush in (True, False):
            if not torch.set_flush_denormal(flush):
                pytest.skip("this CPU has no flush-to-zero mode torch can set")
            on_and_off.append(run())
    finally:
        torch.set_flush_denormal(False)
    for flushed, kept in zip(*on_and_off, strict=True):
        assert _same_with_nan(flushed, kept)


def _significant_bits(v: np.ndarray) -> int:
    """The most significant bits any nonzero element of float32 v has."""
    mantissa, _ = np.frexp(v[v != 0].astype(np.float64))
    bits = 0
    while (mantissa * 2.0**bits % 1 != 0).any():
        bits += 1
    return bits


@TORCH_JIT_DEPRECATED
def test_compiled_float32_gelu_keeps_the_derivative_its_forward_computed_for_the_backward():
    """With a gradient, the forward computes GELU' in the same loop as GELU and keeps it: the
    backward is one product, as with F.gelu, whose graph keeps one tensor too (x); and the
    gradient is the float32 kernel's derivative times the incoming gradient, bit for bit. The
    graph is split as inductor splits it (its min-cut partitioner, after its decompositions),
    which without ``torch_graph.kept`` keeps x and computes the derivative again in the backward
    (about 280 operations, under torch 2.13 and 2.15)."""
    from torch._functorch.partitioners import min_cut_rematerialization_partition
    from torch._inductor.decomposition import select_decomp_table

    x = torch.tensor(POINTS, dtype=torch.float32)
    t = torch.linspace(-2, 2, x.numel())
    capture = Capture(partition_fn=min_cut_rematerialization_partition, decompositions=select_decomp_table())
    torch._dynamo.reset()
    leaf = x.clone().requires_grad_(True)
    torch.compile(anyrelu.gelu, fullgraph=True, backend=capture.backend)(leaf).backward(t)
    backward = capture.graphs[1].graph.nodes
    assert {str(node.target) for node in backward if node.op == "call_function"} == {"aten.mul.Tensor"}
    assert sum(node.op == "placeholder" for node in backward) == 2
    value, slope = f32.gelu_with_slope(x)
    assert _same_with_nan(value, f32.gelu(x)) and _same_with_nan(slope, f32.gelu_dash(x))
    assert _same_with_nan(leaf.grad, slope * t)


@TORCH_JIT_DEPRECATED
def test_exact_gelu_compiles_to_eager_erfc_in_a_custom_op_and_exports_plain_operations():
    """Inductor's float64 erfc is 7x eager torch's: a compiled float64 exact GELU calls anyrelu::gelu,
    or with a gradient anyrelu::gelu_with_slope (value and derivative from one erfc), whose backward
    is one product. torch.export keeps plain operations: an exported program runs without anyrelu."""
    x = torch.tensor(POINTS, dtype=torch.float64)
    for requires_grad, op in ((False, "anyrelu.gelu.default"), (True, "anyrelu.gelu_with_slope.default")):
        capture = Capture()
        torch._dynamo.reset()
        compiled = torch.compile(anyrelu.gelu, fullgraph=True, backend=capture.backend)
        got = compiled(x.clone().requires_grad_(requires_grad))
        forward = {str(node.target) for node in capture.graphs[0].graph.nodes if node.op == "call_function"}
        assert op in forward and "aten.erfc.default" not in forward
        assert _same_with_nan(got, anyrelu.gelu(x))
        if requires_grad:
            t = torch.linspace(-2, 2, x.numel(), dtype=x.dtype)
            got.backward(t)
            backward = {str(node.target) for node in capture.graphs[1].graph.nodes if node.op == "call_function"}
            assert backward == {"aten.mul.Tensor"}
            # it keeps one tensor for the backward, the derivative (F.gelu keeps one too: x)
            assert sum(node.op == "placeholder" for node in capture.graphs[1].graph.nodes) == 2

    x = x.float()

    class Gelu(torch.nn.Module):
        def forward(self, v: torch.Tensor) -> torch.Tensor:
            return anyrelu.gelu(v)

    exported = torch.export.export(Gelu(), (x,))
    targets = {str(node.target) for node in exported.graph.nodes if node.op == "call_function"}
    assert targets & {"aten.erfc.default", "aten.erfc_.default"} and not any(t.startswith("anyrelu.") for t in targets)
    assert _same_with_nan(exported.module()(x), anyrelu.gelu(x))


@TORCH_JIT_DEPRECATED
def test_prelu_compiles_whole_with_the_leaks_gradient():
    x = torch.tensor(POINTS, dtype=torch.float32).reshape(1, -1, 1)
    leak = torch.full((1, x.shape[1], 1), 0.25)
    compiled_in = (x.clone().requires_grad_(True), leak.clone().requires_grad_(True))
    eager_in = (x.clone().requires_grad_(True), leak.clone().requires_grad_(True))
    torch._dynamo.reset()
    got = torch.compile(_prelu, fullgraph=True, backend="aot_eager")(*compiled_in)
    expected = _prelu(*eager_in)
    for g, e in zip(got, expected, strict=True):
        assert _same_with_nan(g, e)
    sum(y.sum() for y in got).backward()
    sum(y.sum() for y in expected).backward()
    for g, e in zip(compiled_in, eager_in, strict=True):
        assert _same_with_nan(g.grad, e.grad)


def _same_with_nan(a: torch.Tensor, b: torch.Tensor) -> bool:
    """The same bits, NaN where NaN (-0.0 and +0.0 differ)."""
    a, b = a.detach(), b.detach()
    return bool(a.dtype == b.dtype and torch.equal(torch.signbit(a), torch.signbit(b))) and torch.allclose(
        a, b, rtol=0, atol=0, equal_nan=True
    )


def test_eager_calls_do_not_load_dynamo():
    """Importing Dynamo takes two seconds: only a compiled call loads the module with the graph's
    call (_kernels/torch_graph.py), while Dynamo traces; the tests above compile through it."""
    import subprocess
    import sys

    script = """
import sys
import torch
import anyrelu
x = torch.linspace(-3, 3, 7, requires_grad=True)
anyrelu.gelu(x).sum().backward()
anyrelu.relu(x.detach(), 0.1)
print(sorted(m for m in ("torch._dynamo", "anyrelu._kernels.torch_graph") if m in sys.modules))
"""
    run = subprocess.run([sys.executable, "-W", "error", "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout == "[]\n"


def test_a_first_call_under_torch_compile_imports_the_kernels_whole():
    """When the first anyrelu call on a torch tensor is a compiled one, the torch kernels' module is
    imported while Dynamo traces, under its fake-tensor modes: what it computes at import (the probe
    of hardswish_backward's sides) runs on real tensors, and the call compiles whole."""
    import subprocess
    import sys

    script = """
import torch
import anyrelu
x = torch.linspace(-4, 4, 9, dtype=torch.float64)
f = torch.compile(lambda v: anyrelu.hard_swish(v) + anyrelu.celu(v), fullgraph=True, backend="aot_eager")
assert torch.equal(f(x), anyrelu.hard_swish(x) + anyrelu.celu(x))
print("ok")
"""
    run = subprocess.run([sys.executable, "-W", "error", "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout == "ok\n"

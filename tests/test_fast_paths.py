"""Every fast path gives the same bits as the reference body (_reference.py).

Data: the special values, random normal data, and random bit patterns (every exponent,
subnormals, NaN payloads), at several alignments and strides. Each leak class a fast path
claims is covered: 0, inside (0, 1), 1, above 1, negative.
"""

from __future__ import annotations

import math

import array_api_compat.numpy as npx
import numpy as np
import pytest
from helpers import TORCH_JIT_DEPRECATED, assert_same_bits, special_values

from anyrelu import relu, relu_dash
from anyrelu._kernels import cupy as cupy_kernels
from anyrelu._kernels import numpy as numpy_kernels
from anyrelu._reference import relu as reference
from anyrelu._tools.accuracy import every_float

LEAKS = [0, 0.1, 0.5, 1, 2.5, -0.3]
CAPS = [None, 6]


def _random_data(dtype: str, n: int = 4099) -> np.ndarray:
    rng = np.random.default_rng(1234)
    np_dtype = np.dtype(dtype)
    normal = (rng.standard_normal(n) * 8).astype(np_dtype)
    if np_dtype.kind != "f":
        return rng.integers(-100 if np_dtype.kind == "i" else 0, 100, n).astype(np_dtype)
    raw = rng.integers(0, 256, n * np_dtype.itemsize, dtype=np.uint8).view(f"u{np_dtype.itemsize}")
    # Signalling NaNs are made quiet: NumPy rightly reports an invalid operation for any
    # product with one, the reference's leak*x included (see docs/conventions.md).
    quiet_bit = raw.dtype.type(1 << (np.finfo(np_dtype).nmant - 1))
    bits = np.where(np.isnan(raw.view(np_dtype)), raw | quiet_bit, raw).view(np_dtype)
    return np.concatenate([special_values(dtype), normal, bits])


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(f"u{a.dtype.itemsize}")


def _reference_numpy(function, x, leak, max_value):
    with np.errstate(over="ignore"):
        return function(x, leak, max_value, 0, npx)


def _same_bits(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.dtype == expected.dtype.newbyteorder("=")
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(_bits(actual), _bits(expected.astype(actual.dtype)))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int8", "int32", "int64", "uint8"])
@pytest.mark.parametrize("leak", LEAKS)
@pytest.mark.parametrize("max_value", [*CAPS, 0.3])  # 0.3: a cap each float dtype rounds
class TestNumpyFastPaths:
    def _cases(self, dtype, leak, max_value):
        if dtype.startswith("u") and leak < 0:
            pytest.skip("uint8 has no negative leak")
        fractional = leak != int(leak) or (max_value is not None and max_value != int(max_value))
        if not dtype.startswith("float") and fractional:
            pytest.skip("integer x takes integer leaks and caps only")
        data = _random_data(dtype)
        yield data
        for offset in range(1, 8):  # every alignment of the SIMD body, head and tail
            yield data[offset : offset + 257]
        yield data[::3]
        yield data[::-1]
        for start in range(0, data.size, 97):  # tiny arrays: specials, normal data and random bits
            yield data[start : start + numpy_kernels._TINY]
        yield data[: 36 * 16].reshape(36, 16).T
        blocks = np.resize(data, 2 * numpy_kernels._BLOCK + 257)  # the blocked form: whole rows, then a short one
        yield blocks
        yield blocks[1:].reshape(3, -1)

    def test_numpy_relu_is_the_reference(self, dtype, leak, max_value):
        for x in self._cases(dtype, leak, max_value):
            _same_bits(relu(x, leak, max_value=max_value), _reference_numpy(reference.relu, x, leak, max_value))

    def test_numpy_relu_dash_is_the_reference(self, dtype, leak, max_value):
        for x in self._cases(dtype, leak, max_value):
            _same_bits(
                relu_dash(x, leak, max_value=max_value),
                _reference_numpy(reference.relu_dash, x, leak, max_value),
            )


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_numpy_zero_slope_fast_path_is_taken_here(dtype):
    """The maximum-based zero-slope path is only a fast path if the probe finds an order."""
    order = numpy_kernels._zero_first_order(np.dtype(dtype))
    assert order is not numpy_kernels._NO_ORDER, "np.maximum gives -0.0 at -0.0 in both orders on this CPU"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("leak", LEAKS)
@pytest.mark.parametrize("max_value", CAPS)
def test_torch_native_kernels_are_the_reference(dtype, leak, max_value):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    import array_api_compat.torch as tx

    data = torch.from_numpy(_random_data(dtype))
    for x in (data, data[1:258], data[::3], data[: 36 * 16].reshape(36, 16).T):
        with torch.no_grad():
            actual = relu(x, leak, max_value=max_value)
        expected = reference.relu(x, leak, max_value, 0, tx)
        _same_bits(actual.numpy(), expected.numpy())


@pytest.mark.parametrize("leak", [0, 0.1, 2.5, -0.3])
@pytest.mark.parametrize("max_value", CAPS)
def test_dask_blocks_give_numpy_bits_and_one_task_per_chunk(leak, max_value):
    da = pytest.importorskip("dask.array", reason="dask is not installed")
    import dask

    data = _random_data("float32", 4000)
    x = da.from_array(data, chunks=1000)
    for function in (relu, relu_dash):
        y = function(x, leak, max_value=max_value)
        added = len(dask.optimize(y)[0].__dask_graph__()) - len(x.__dask_graph__())
        assert added == x.npartitions, "one task per chunk, no rechunk and no gather"
        _same_bits(y.compute(), function(data, leak, max_value=max_value))


class TestGpu:
    """CuPy's kernels against the reference (on a CUDA device only)."""

    def test_the_wide_kernels_compile(self, cupy):
        from anyrelu._kernels.cupy import _wide, _wide_module

        assert _wide_module() is not None, "CuPy could not compile the wide kernels"
        x = cupy.zeros(1024, dtype=cupy.float32)
        assert _wide("anyrelu_relu_wide", x) is not None and _wide("anyrelu_relu_wide", x[1:]) is None

    @pytest.fixture(autouse=True)
    def cupy(self):
        cupy = pytest.importorskip("cupy", reason="cupy is not installed")
        try:
            if cupy.cuda.runtime.getDeviceCount() == 0:
                pytest.skip("no CUDA device")
        except Exception as error:
            pytest.skip(f"no CUDA device ({type(error).__name__})")
        return cupy

    @pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32"])
    @pytest.mark.parametrize("leak", LEAKS)
    @pytest.mark.parametrize("max_value", CAPS)
    def test_cupy_kernels_are_the_reference(self, cupy, dtype, leak, max_value):
        """Against the reference run by NumPy on the host: CuPy's own ufuncs flush float32 subnormals."""
        if dtype == "int32" and leak != int(leak):
            pytest.skip("integer x takes integer leaks only")
        data = cupy.asarray(_random_data(dtype))  # specials, subnormals and random bits
        # data: the wide kernel (float32/64); data[1:258]: unaligned and data[::3]: strided, the
        # ElementwiseKernel; data[:4097]: a wide kernel with a tail
        for x in (data, data[1:258], data[::3], data[:4097]):
            for function, body in ((relu, reference.relu), (relu_dash, reference.relu_dash)):
                expected = _reference_numpy(body, x.get(), leak, max_value)
                _same_bits(function(x, leak, max_value=max_value).get(), expected)
            if dtype.startswith("float"):  # the chain rule, torch CUDA's backward: x and a cotangent
                t = x[::-1].copy()
                with np.errstate(over="ignore", invalid="ignore"):
                    expected = reference.relu_chain(x.get(), t.get(), leak, max_value, 0, npx)
                got = cupy_kernels.relu_chain(x, t, leak, max_value).get()
                nan = np.isnan(expected)  # leak * NaN: a NaN, its payload the GPU's (NumPy keeps t's)
                np.testing.assert_array_equal(np.isnan(got), nan)
                _same_bits(got[~nan], expected[~nan])

    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    @pytest.mark.parametrize("leak", [0, 0.1])
    @pytest.mark.parametrize("max_value", CAPS)
    def test_torch_cuda_runs_the_kernels_on_its_own_memory(self, cupy, dtype, leak, max_value, monkeypatch):
        """torch CUDA: contiguous, 16-byte aligned tensors go to the wide kernels by address (no
        DLPack exchange); other layouts through DLPack; both give the reference's bits, forward and
        backward."""
        torch = pytest.importorskip("torch", reason="torch is not installed")
        from anyrelu._kernels import torch as torch_kernels

        exchanges = []
        through_dlpack = torch_kernels._via_cupy
        monkeypatch.setattr(torch_kernels, "_via_cupy", lambda *args: exchanges.append(1) or through_dlpack(*args))
        data = torch.from_numpy(_random_data(dtype)).cuda()
        for x, by_address in ((data, True), (data[:4097], True), (data[1:258], False), (data[::3], False)):
            exchanges.clear()
            host = x.cpu().numpy()
            for function, body in ((relu, reference.relu), (relu_dash, reference.relu_dash)):
                expected = _reference_numpy(body, host, leak, max_value)
                _same_bits(function(x, leak, max_value=max_value).cpu().numpy(), expected)
            xg = x.detach().requires_grad_(True)
            t = torch.flip(x, [0]).contiguous()
            (got,) = torch.autograd.grad(relu(xg, leak, max_value=max_value), xg, t)
            with np.errstate(over="ignore", invalid="ignore"):
                expected = reference.relu_chain(host, t.cpu().numpy(), leak, max_value, 0, npx)
            got = got.cpu().numpy()
            nan = np.isnan(expected)  # leak * NaN: a NaN, its payload the GPU's
            np.testing.assert_array_equal(np.isnan(got), nan)
            _same_bits(got[~nan], expected[~nan])
            assert bool(exchanges) != by_address, "DLPack only where the layout needs the ElementwiseKernel"


def test_dask_leak_array_with_other_chunks_is_aligned_to_x():
    da = pytest.importorskip("dask.array", reason="dask is not installed")
    values = _random_data("float32", 600)[:600].reshape(100, 6)
    leaks = np.array([0.0, 0.1, 0.5, 1.0, 2.5, -0.3], dtype=np.float32)
    x = da.from_array(values, chunks=(30, 4))
    for leak_chunks in (1, 4, 6):
        leak = da.from_array(leaks, chunks=leak_chunks)
        for function in (relu, relu_dash):
            _same_bits(function(x, leak).compute(), function(values, leaks))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_torch_hard_sigmoid_kernels_are_the_reference(dtype):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    import array_api_compat.torch as tx

    from anyrelu import hard_sigmoid, hard_sigmoid_dash
    from anyrelu._reference import REFERENCE

    values = np.concatenate([_random_data("float32"), np.nextafter(np.float32([-3, 3]), np.float32([-9, 9]))])
    data = torch.from_numpy(values).to(getattr(torch, dtype))
    bits = {2: torch.int16, 4: torch.int32, 8: torch.int64}[data.element_size()]
    for x in (data, data[1:258], data[::3]):
        for function in (hard_sigmoid, hard_sigmoid_dash):
            expected = REFERENCE[function.__name__](x, tx)
            got = function(x)
            same = (got.view(bits) == expected.view(bits)) | (torch.isnan(got) & torch.isnan(expected))
            assert bool(same.all()), function.__name__


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_hard_swish_dash_without_torchs_kink_sides_is_the_references_bits(dtype, monkeypatch):
    """Where torch's hardswish_backward takes other sides at -3 and 3 (torch before 2.13), torch's
    hard_swish_dash runs the reference's operations fused by hardtanh_backward."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    import array_api_compat.torch as tx

    from anyrelu import hard_swish_dash
    from anyrelu._kernels import torch as torch_kernels
    from anyrelu._reference import REFERENCE

    monkeypatch.setattr(torch_kernels, "_HARDSWISH_BACKWARD_MEETS", False)
    values = np.concatenate([_random_data(dtype), np.linspace(-4, 4, 4001, dtype=dtype), [-3, 3, -1.5]])
    x = torch.from_numpy(values.astype(dtype))
    got, want = hard_swish_dash(x).numpy(), REFERENCE["hard_swish_dash"](x, tx).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(_bits(got[~np.isnan(got)]), _bits(want[~np.isnan(want)]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [5, 1000], ids=["scalar loop", "vector loop"])
def test_torch_hard_swish_dash_takes_the_contracts_sides_at_the_kinks_and_nan(dtype, n):
    """hardswish_backward, where torch's takes the contract's sides: 0 at -3 and below, 1 at 3 and
    above, 0 at -1.5, NaN at NaN (torch's scalar loop gives the incoming gradient there), in a
    plain call, a plain backward and a double backward."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    from anyrelu import hard_swish, hard_swish_dash

    points = [-np.inf, -3.0, -1.5, 3.0, np.nan]
    x = torch.from_numpy(np.resize(np.array(points, dtype=dtype), n))
    want = np.resize(np.array([0.0, 0.0, 0.0, 1.0, np.nan], dtype=dtype), n)
    np.testing.assert_array_equal(hard_swish_dash(x).numpy(), want)
    xg = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(hard_swish(xg), xg, torch.ones_like(x), create_graph=True)
    np.testing.assert_array_equal(grad.detach().numpy(), want)


def _torch_paths_agree(torch, call, x, spoiler):
    """call(x) and call(x with ``spoiler`` appended) agree bit for bit on x: a host read of x
    (_kernels.torch._readable) runs torch's kernel on x itself when x holds no NaN (no -inf), and
    on x with its NaN moved (x floored) otherwise."""
    fast = call(x)
    slow = call(torch.cat([x, torch.tensor([spoiler], dtype=x.dtype)]))[: x.numel()]
    assert torch.equal(fast.view(-1), slow.view(-1)) or bool(
        ((fast == slow) | (fast.isnan() & slow.isnan())).all() and torch.equal(fast.signbit(), slow.signbit())
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_kernels_picked_by_a_host_read_of_x_give_the_same_bits(dtype):
    """The kernels that read x's largest or smallest element first (SiLU's value; the fused
    backward kernels of hard_swish, hard_sigmoid, leaky ReLU, ReLU6 and the ELU family) give the
    same bits with it as with the floor or the NaN move they skip."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    import anyrelu

    values = _random_data(dtype)
    x = torch.from_numpy(np.resize(values[~np.isnan(values)], 70_000).astype(dtype))  # read above 65536
    _torch_paths_agree(torch, anyrelu.silu, x[x > -np.inf], -np.inf)  # F.silu on x, or on x floored
    chains = [
        (anyrelu.hard_swish, {}), (anyrelu.hard_sigmoid, {}), (anyrelu.relu, {"leak": 0.1}),
        (anyrelu.relu, {"max_value": 6.0}), (anyrelu.elu, {}), (anyrelu.selu, {}),
    ]  # fmt: skip
    t = torch.from_numpy(np.random.default_rng(5).standard_normal(x.numel() + 1).astype(dtype))

    for function, kwargs in chains:

        def chain(v, function=function, kwargs=kwargs):
            vg = v.clone().requires_grad_(True)
            return torch.autograd.grad(function(vg, **kwargs), vg, t[: v.numel()])[0]

        _torch_paths_agree(torch, chain, x, np.nan)


@TORCH_JIT_DEPRECATED
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("name", "kwargs", "node"),
    [("relu", {}, "Threshold"), ("relu", {"leak": 0.1}, "LeakyRelu")],
)
def test_torch_own_autograd_where_it_is_the_contract_gives_the_explicit_derivative_at_every_order(
    dtype, name, kwargs, node
):
    """Where torch's own autograd node is the contract's derivative (_kernels.torch: relu with a zero
    leak always, leaky ReLU on a large CPU tensor without NaN), the call records that node instead
    of a Function; backward, double backward and forward mode give relu_dash times the cotangent or
    tangent, bit for bit, as they do through the Function where x holds a NaN."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    import torch.autograd.forward_ad as fwad

    import anyrelu

    f, dash = getattr(anyrelu, name), getattr(anyrelu, f"{name}_dash")
    values = _random_data(dtype)
    x = torch.from_numpy(np.resize(values[~np.isnan(values)], 70_000).astype(dtype))  # read above 65536
    t = torch.from_numpy(np.random.default_rng(5).standard_normal(x.numel() + 1).astype(dtype))
    for v in (x, torch.cat([x, torch.tensor([np.nan], dtype=x.dtype)])):  # without NaN, and with one
        n = v.numel()
        vg = v.clone().requires_grad_(True)
        y = f(vg, **kwargs)
        if v is x:
            assert type(y.grad_fn).__name__.startswith(node)
        (g,) = torch.autograd.grad(y, vg, t[:n], create_graph=True)
        want = dash(v, **kwargs) * t[:n]
        assert torch.equal(g, want) or bool(((g == want) | (g.isnan() & want.isnan())).all())
        (second,) = torch.autograd.grad(g, vg, t[:n].flip(0), allow_unused=True, materialize_grads=True)
        assert not bool(second.any()), "piecewise linear: the second derivative is 0"
        with fwad.dual_level():
            tangent = fwad.unpack_dual(f(fwad.make_dual(v, t[:n]), **kwargs)).tangent
        assert torch.equal(tangent, want) or bool(((tangent == want) | (tangent.isnan() & want.isnan())).all())


CHUNKED = [
    "_silu_dash", "_mish_value", "_mish_dash", "_gelu_value", "_gelu_dash", "_gelu_tanh_value", "_gelu_tanh_dash",
    "_hard_swish",
]  # fmt: skip


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_torch_kernels_run_in_chunks_give_the_whole_tensors_bits(dtype):
    """The kernels that run a large CPU tensor in chunks (_kernels.torch._chunked: 32768 float64 elements a thread,
    2^16 or 2^18 for hard swish, by the level-2 cache) give what they give on the whole tensor at
    once, NaN where it gives NaN; and so do the public functions and their gradients that use
    them, at a size that is no multiple of a chunk."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    import anyrelu
    from anyrelu._kernels import torch as torch_kernels

    values = _random_data("float64" if dtype == "bfloat16" else dtype)
    x = torch.from_numpy(np.resize(values, 3 * (1 << 18) * torch.get_num_threads() + 4099)).to(getattr(torch, dtype))
    for name in CHUNKED:  # every kernel's chunked path runs, in three chunks or more
        assert 0 < getattr(torch_kernels, name).chunk_size(x) <= x.numel() // 3, name

    def same(got, expected):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert bool(((got == expected) | (got.isnan() & expected.isnan())).all())
        assert torch.equal(got.signbit() | got.isnan(), expected.signbit() | expected.isnan())

    for name in CHUNKED:
        kernel = getattr(torch_kernels, name)
        same(kernel(x), kernel.__wrapped__(x))
        same(kernel(x.view(-1, 1)), kernel.__wrapped__(x).view(-1, 1))  # any shape
    if dtype != "float64":  # the float64 kernels of these are the reference bodies
        for function, kwargs in [(anyrelu.mish, {}), (anyrelu.gelu, {"approximate": True})]:
            xg = x.clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(function(xg, **kwargs), xg, torch.ones_like(x))
            same(grad, getattr(anyrelu, f"{function.__name__}_dash")(x, **kwargs))
    same(anyrelu.gelu(x), torch_kernels._gelu_value.__wrapped__(x))
    # exact GELU's kernel for torch.compile: the value and the derivative kernels' bits, in chunks
    value, slope = torch_kernels.gelu_with_slope(x)
    same(value, torch_kernels._gelu_value.__wrapped__(x))
    same(slope, torch_kernels._gelu_dash.__wrapped__(x))
    value, slope = torch_kernels.gelu_with_slope(x[: 65536 - 1])  # too small for chunks
    same(slope, torch_kernels._gelu_dash.__wrapped__(x[: 65536 - 1]))


@TORCH_JIT_DEPRECATED
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_torch_eager_gelu_keeps_the_derivative_its_forward_computed(dtype):
    """With x requiring grad, eager exact GELU computes its derivative in the forward, with the
    value and one erfc for both, and keeps it for the backward (GeluWithSlope): the value is
    gelu's bits, the gradient gelu_dash(x) * t bit for bit (in chunks and not, twice with
    retain_graph), double backward is GELU''; forward mode and torch.func take the explicit
    derivative's path, with the same values."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    import torch.autograd.forward_ad as fwad
    from torch.func import grad, vmap

    import anyrelu

    def same(got, expected):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert bool(((got == expected) | (got.isnan() & expected.isnan())).all())
        assert torch.equal(got.signbit() | got.isnan(), expected.signbit() | expected.isnan())

    torch_dtype = getattr(torch, dtype)
    values = _random_data("float64" if dtype == "bfloat16" else dtype)
    for size in (4099, 3 * (1 << 18) * torch.get_num_threads() + 4099):  # whole, and in chunks
        x = torch.from_numpy(np.resize(values, size)).to(torch_dtype)
        t = torch.from_numpy(np.resize(values[::-1].copy(), size)).to(torch_dtype)
        leaf = x.clone().requires_grad_(True)
        y = anyrelu.gelu(leaf)
        assert type(y.grad_fn).__name__ == "GeluWithSlopeBackward"
        same(y.detach(), anyrelu.gelu(x))
        for _ in range(2):
            same(torch.autograd.grad(y, leaf, t, retain_graph=True)[0], anyrelu.gelu_dash(x) * t)
    x = torch.linspace(-5, 5, 11, dtype=torch_dtype)
    leaf = x.clone().requires_grad_(True)
    (first,) = torch.autograd.grad(anyrelu.gelu(leaf).sum(), leaf, create_graph=True)
    assert torch.equal(first.detach(), anyrelu.gelu_dash(x))
    (second,) = torch.autograd.grad(first.sum(), leaf)
    dash_leaf = x.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(anyrelu.gelu_dash(dash_leaf).sum(), dash_leaf)
    assert torch.equal(second, expected)
    assert torch.equal(vmap(grad(anyrelu.gelu))(x), anyrelu.gelu_dash(x))
    with fwad.dual_level():  # x requiring grad, under forward mode: the explicit derivative's path
        tangent = fwad.unpack_dual(anyrelu.gelu(fwad.make_dual(leaf, torch.ones_like(x)))).tangent
    assert torch.equal(tangent.detach(), anyrelu.gelu_dash(x))
    with torch.no_grad():
        assert anyrelu.gelu(leaf).grad_fn is None


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_torch_gelu_floors_that_keep_exp_and_erfc_normal_change_no_bit(dtype, monkeypatch):
    """Below float64, torch's GELU kernels clip x where their float64 exp and erfc stay normal
    numbers (x86 takes a slow path for a result that is subnormal or underflows): +-20 for exact
    GELU, -21 for the tanh form. Their bits, signs of zero included, are those of the wide clips
    that float64 keeps (64 and 1000), on every float in [-100, 100] that is a multiple of 2^-6 and
    on random data, subnormals, extremes, infinities and NaN."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    import array_api_compat.torch as torch_namespace

    from anyrelu._kernels import torch as torch_kernels

    grid = np.arange(-100 * 64, 100 * 64 + 1) / 64
    points = np.concatenate([grid, _random_data("float64" if dtype == "bfloat16" else dtype).astype(np.float64)])
    x = torch.from_numpy(np.concatenate([points, special_values("float32").astype(np.float64)])).to(
        getattr(torch, dtype)
    )
    assert torch_kernels._gelu_limit(x) == 20 and torch_kernels._gelu_tanh_floor(x) == 21
    # where the float32 value and derivative are 0 or beyond any float32 (float64 floats: erfc, exp)
    assert math.erfc(20 / math.sqrt(2)) > 2.0**-1022 and math.exp(-200) > 2.0**-1022
    z = -21 * (torch_kernels._Z1 + torch_kernels._Z3 * 21 * 21)
    assert math.exp(z) > 2.0**-1022 and math.exp(-z) < 2.0**1023
    kernels = ["_gelu_value", "_gelu_dash", "_gelu_tanh_value", "_gelu_tanh_dash"]
    narrow = {name: getattr(torch_kernels, name)(x) for name in kernels}
    narrow_pair = torch_kernels.gelu_with_slope(x)
    monkeypatch.setattr(torch_kernels, "_gelu_limit", lambda _: 64.0)
    monkeypatch.setattr(torch_kernels, "_gelu_tanh_floor", lambda _: 1000.0)
    for name in kernels:
        assert_same_bits(narrow[name], getattr(torch_kernels, name)(x), torch_namespace)
    for got, wide in zip(narrow_pair, torch_kernels.gelu_with_slope(x), strict=True):
        assert_same_bits(got, wide, torch_namespace)


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ({"index0": ("1", "48K"), "index1": ("1", "64K"), "index2": ("2", "2048K"), "index3": ("3", "480M")}, 1 << 21),
        ({"index0": ("1", "32K"), "index2": ("2", "1M")}, 1 << 20),
        ({"index0": ("1", "32K"), "index2": ("2", "524288")}, 1 << 19),
        ({"index0": ("1", "32K"), "index3": ("3", "32M")}, 0),  # no level 2
        ({"index1": ("1", "32K"), "index2": ("2", "2M"), "uevent": None}, 1 << 21),  # a file beside the entries
        ({"index2": ("2", "lots")}, 0),
        ({}, 0),
    ],
)
def test_torch_hard_swish_chunk_reads_the_level_two_cache_or_gives_zero(tmp_path, entries, expected):
    """Hard swish's chunk size follows the level-2 cache's size read from a sysfs-like folder: K and
    M units, bare bytes, and 0 (the larger, cache-blind chunks) where the folder, the level-2 entry
    or its size is missing or unreadable."""
    pytest.importorskip("torch", reason="torch is not installed")
    from anyrelu._kernels import torch as torch_kernels

    for name, entry in entries.items():
        if entry is None:
            (tmp_path / name).write_text("")
            continue
        level, size = entry
        (tmp_path / name).mkdir()
        (tmp_path / name / "level").write_text(level + "\n")
        (tmp_path / name / "size").write_text(size + "\n")
    assert torch_kernels._level_two_cache(str(tmp_path)) == expected
    assert torch_kernels._level_two_cache(str(tmp_path / "absent")) == 0
    small = torch_kernels._HARD_SWISH_CHUNK == 1 << 18
    assert small == (torch_kernels._level_two_cache() >= 1 << 21)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_numpy_erfc_is_the_array_api_erfc_bit_for_bit(dtype):
    """The reference's erfc on NumPy gathers its coefficients with take and picks its pieces
    by factors of 0 and 1: the same operations as agnostic_erfc, so the same bits, at every
    special value, the table's edge (27.25), subnormals and random bit patterns."""
    from anyrelu._reference.special import LARGEST, agnostic_erfc, erfc

    edges = np.array([LARGEST, -LARGEST, np.nextafter(LARGEST, 0), 1 / 64, -1 / 64, 3 / 64, 5e-324], dtype=dtype)
    x = np.concatenate([_random_data(dtype, 40_000), np.linspace(-30, 30, 20_001, dtype=dtype), edges])
    with np.errstate(invalid="ignore"):  # signalling NaNs among the random bits
        got, want = erfc(x, npx), agnostic_erfc(x, npx)
    assert got.dtype == want.dtype == x.dtype
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(_bits(got[~np.isnan(got)]), _bits(want[~np.isnan(want)]))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("name", ["hard_sigmoid", "hard_sigmoid_dash", "hard_swish_dash"])
def test_numpy_hard_kernels_without_selects_are_the_reference(dtype, name):
    """NumPy's hard sigmoid, its derivative and hard swish's derivative clip and multiply by flags
    where the reference selects (selects branch on the data): the same bits, signs of zero
    included, on random data, the kinks' neighbours, every float16, and on offset, strided,
    byte-swapped, 2-d and 0-d arrays."""
    import anyrelu
    from anyrelu._reference import REFERENCE

    np_dtype = np.dtype(dtype)
    kinks = np.nextafter(np.array([-3, -3, 3, 3], np_dtype), np.array([-9, 9, -9, 9], np_dtype))
    values = np.concatenate([_random_data(dtype), kinks, np.linspace(-4, 4, 4001, dtype=np_dtype), [-1.5, -3, 3]])
    values = values.astype(np_dtype)
    if dtype == "float16":
        values = np.concatenate([values, np.arange(1 << 16, dtype=np.uint16).view(np.float16)])
    values = values[~_signalling(values)]  # NumPy reports an invalid operation for those, as the reference
    for x in (values, values[1:], values[::3], values.astype(np_dtype.newbyteorder(">")), values[:100].reshape(20, 5),
              values[5:6].reshape(())):  # fmt: skip
        got = getattr(anyrelu, name)(x)
        want = REFERENCE[name](np.asarray(x, dtype=np_dtype), npx)
        assert type(got) is np.ndarray and got.dtype == np_dtype and got.shape == x.shape
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(_bits(got[~np.isnan(got)]), _bits(want[~np.isnan(want)]))


def _signalling(values: np.ndarray) -> np.ndarray:
    """Where values holds a signalling NaN (the top bit of the significand clear)."""
    quiet = 1 << (np.finfo(values.dtype).nmant - 1)
    return np.isnan(values) & ((values.view(f"u{values.dtype.itemsize}") & quiet) == 0)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_jax_hard_sigmoid_kernel_is_the_reference(dtype):
    """JAX's hard_sigmoid clips x + 3 where the reference selects: the same bits, under jit."""
    jax = pytest.importorskip("jax", reason="jax is not installed")
    import jax.numpy as jnp

    from anyrelu import hard_sigmoid
    from anyrelu._reference import REFERENCE

    values = np.concatenate([_random_data("float32"), np.nextafter(np.float32([-3, 3]), np.float32([-9, 9])),
                             np.linspace(-4, 4, 4001, dtype="float32")])  # fmt: skip
    x = jnp.asarray(values).astype(dtype)
    got = np.asarray(jax.jit(hard_sigmoid)(x).astype(jnp.float32))
    want = np.asarray(jax.jit(lambda v: REFERENCE["hard_sigmoid"](v, jnp))(x).astype(jnp.float32))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(_bits(got[~np.isnan(got)]), _bits(want[~np.isnan(want)]))


def _assert_hard_swish_contract(x: np.ndarray, y: np.ndarray) -> None:
    """hard_swish's contract per element: x <= -3 (-inf too) gives +0.0, x >= 3 (+inf too) x
    itself, NaN gives NaN, and between, x (x + 3) / 6 within the bound: 2 ulps (1 for float16)
    times the condition number max(1, |x g'/g|) = max(1, |(2x + 3) / (x + 3)|), large only near
    -3, where x + 3 cancels."""
    assert y.dtype == x.dtype and y.shape == x.shape
    low, high, nan = x <= -3, x >= 3, np.isnan(x)
    assert np.all(y[low] == 0) and not np.signbit(y[low]).any()
    np.testing.assert_array_equal(y[high], x[high])
    np.testing.assert_array_equal(np.isnan(y), nan)
    middle = ~(low | high | nan)
    wide = x[middle].astype(np.float64)
    exact = wide * (wide + 3) / 6
    ulp = np.spacing(np.abs(exact).astype(x.dtype)).astype(np.float64)
    condition = np.maximum(1, np.abs((2 * wide + 3) / (wide + 3)))
    assert np.max(np.abs(y[middle] - exact) / ulp / condition) <= (1 if x.dtype == np.float16 else 2)


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_numpy_silu_with_and_without_its_floor_gives_the_same_bits(dtype):
    """NumPy's SiLU clips -x at 200 only where x may hold -inf (its smallest element, read first):
    the other elements' bits are the same either way, across blocks, and -inf gives -0.0."""
    import anyrelu

    values = _random_data(dtype, 100_000)
    x = values[~np.isnan(values) & (values > -np.inf)]
    floored = anyrelu.silu(np.concatenate([x, np.array([-np.inf], dtype)]))
    _same_bits(floored[:-1], anyrelu.silu(x))
    assert floored[-1] == 0 and np.signbit(floored[-1])
    far = floored[:-1][x < -800]
    assert far.size and (far == 0).all() and np.signbit(far).all()


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_numpy_hard_swish_meets_the_contract_in_every_block(dtype):
    """NumPy's float32 hard_swish runs in blocks, multiplying by x itself unless the product
    raises the invalid flag (-inf * -0.0, or a signalling NaN): blocks with and without -inf, NaN
    and a signalling NaN, against the contract per element and with no warning."""
    from anyrelu import hard_swish

    block = numpy_kernels._SWISH_BLOCK
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(5 * block + 1000) * 4).astype(dtype)
    x[:50] = np.linspace(-4, 4, 50)
    x[block + 17] = -np.inf  # the second block holds -inf, the third NaN, the fourth (a rest) +inf
    x[2 * block + 5] = np.nan
    x[3 * block + 3] = np.inf
    x[4 * block + 9 : 4 * block + 11] = [-np.inf, np.nan]
    bits = x.view(np.uint16 if dtype == "float16" else np.uint32)
    bits[4 * block + 12] = 0x7D00 if dtype == "float16" else 0x7FA00000  # a signalling NaN
    assert np.isnan(x[4 * block + 12])
    _assert_hard_swish_contract(x, hard_swish(x))


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_jax_hard_swish_meets_the_contract_under_jit_eagerly_and_under_vmap(dtype):
    """JAX's float32 hard_swish is x clip(x fl(1/6) + 1/2, 0, 1), no division, with one select for
    x <= -3 (-inf): the contract per element under jit, eagerly and under vmap, at the kinks, their
    neighbours and every float32 within 2^-10 of -3 and of 3. Not at the tiny x where XLA flushes
    x or x/2 to zero (the underflow rule allows it)."""
    jax = pytest.importorskip("jax", reason="jax is not installed")
    import jax.numpy as jnp

    from anyrelu import hard_swish

    kinks = np.nextafter(np.float32([-3, -3, 3, 3]), np.float32([-9, 9, -9, 9]))
    near = [chunk for k in (-3.0, 3.0) for chunk in every_float("float32", k - 2.0**-10, k + 2.0**-10)]
    values = np.concatenate([_random_data("float32"), kinks, np.linspace(-4, 4, 8001, dtype="float32"), *near,
                             np.float32([-0.0, 0.0, -3, 3])])  # fmt: skip
    values = values[(values == 0) | ~(np.abs(values) < 1e-30)]
    with np.errstate(over="ignore"):  # float16: the float32 extremes become infinities
        x = values.astype(dtype)
    for program in (jax.jit(hard_swish), hard_swish, jax.vmap(hard_swish)):
        _assert_hard_swish_contract(x, np.asarray(program(jnp.asarray(x))))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [4001, 70_000])  # 70000: above 65536, where torch's kernels may read x or run in chunks
def test_torch_hard_swish_meets_the_contract_on_small_and_large_tensors(dtype, n):
    """x itself from 3 up whatever x's size: F.hardswish's x * 6 / 6 is an ulp off there (and inf
    above max / 6), so no form that ends in it is taken, whatever x's range."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    from anyrelu import hard_swish

    values = _random_data(dtype)
    for data in (values, values[np.abs(values) < 1e6]):  # with and without NaN, infinities, extremes
        x = np.resize(data, n)
        x[:4001] = np.linspace(-4, 90, 4001, dtype=dtype)
        x[4000] = np.float32(88.7)  # F.hardswish: 88.69999 in float32
        _assert_hard_swish_contract(x, hard_swish(torch.from_numpy(x)).numpy())

"""The CuPy kernels' C source, checked on the CPU: compiled with the host's C++ compiler and run
with the CPU's flush-to-zero and denormals-are-zero modes on (what CuPy's ``-ftz=true`` does to
float32 on the GPU), it gives the contract's bits for every input, subnormals included. The wide
kernels run on an emulated grid (every block and thread in turn), so that their indexing -- the
16-byte packs, the grid-stride loop, the tail -- is checked to cover every element once.

The same source, compiled without the bit-level helpers (the plain ``x <= 0`` and ``leak * x``
that CuPy kernels used before), gets subnormals wrong under these modes: the emulation is real.
"""

from __future__ import annotations

import ctypes
import functools
import platform
import shutil
import subprocess

import numpy as np
import pytest
from helpers import expected_relu, expected_relu_dash, special_values

from anyrelu._kernels.cupy import PREAMBLE, RELU, RELU_CHAIN, RELU_DASH, THREADS, grid, wide_source

COMPILER = shutil.which("g++") or shutil.which("c++")
pytestmark = [
    pytest.mark.skipif(COMPILER is None, reason="no C++ compiler on this machine"),
    pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="needs x86's MXCSR flush modes"),
]

HARNESS = r"""
#include <cmath>
#include <cstring>
#include <xmmintrin.h>
#define __device__
using std::fabs; using std::ldexp; using std::rint; using std::signbit;
static inline int __float_as_int(float x) { int b; std::memcpy(&b, &x, sizeof b); return b; }
static inline float __int_as_float(int b) { float x; std::memcpy(&x, &b, sizeof x); return x; }
PREAMBLE_HERE
typedef float T;
struct Modes {  // flush-to-zero (bit 15) and denormals-are-zero (bit 6), restored on return
    unsigned int saved;
    explicit Modes(bool on) : saved(_mm_getcsr()) { if (on) _mm_setcsr(saved | 0x8040u); }
    ~Modes() { _mm_setcsr(saved); }
};
extern "C" void relu(const float* xs, float* ys, long n, float leak, float cap, bool zero_slope, bool capped,
                     bool flush) {
    Modes modes(flush);
    for (long i = 0; i < n; ++i) { const T x = xs[i]; T y; RELU_HERE ys[i] = y; }
}
extern "C" void relu_dash(const float* xs, float* ys, long n, float leak, float cap, bool capped, bool flush) {
    Modes modes(flush);
    for (long i = 0; i < n; ++i) { const T x = xs[i]; T y; RELU_DASH_HERE ys[i] = y; }
}
extern "C" double widen(float x, bool flush) { Modes modes(flush); return anyrelu_widen(x); }
extern "C" float narrow(double x, bool flush) { Modes modes(flush); return anyrelu_narrow(x); }
extern "C" void relu_chain(const float* xs, const float* ts, float* ys, long n, float leak, float cap,
                           bool zero_slope, bool capped, bool flush) {
    Modes modes(flush);
    for (long i = 0; i < n; ++i) { const T x = xs[i], t = ts[i]; T y; RELU_CHAIN_HERE ys[i] = y; }
}
"""
WIDE_HARNESS = r"""
#include <cmath>
#include <cstring>
#include <xmmintrin.h>
#define __device__
#define __global__
using std::fabs; using std::ldexp; using std::rint; using std::signbit;
static inline int __float_as_int(float x) { int b; std::memcpy(&b, &x, sizeof b); return b; }
static inline float __int_as_float(int b) { float x; std::memcpy(&x, &b, sizeof x); return x; }
struct Dim { unsigned int x; };
static Dim blockIdx, threadIdx, blockDim, gridDim;
SOURCE_HERE
struct Modes {
    unsigned int saved;
    explicit Modes(bool on) : saved(_mm_getcsr()) { if (on) _mm_setcsr(saved | 0x8040u); }
    ~Modes() { _mm_setcsr(saved); }
};
#define GRID(CALL) \
    Modes modes(flush); gridDim.x = blocks; blockDim.x = threads; \
    for (unsigned int b = 0; b < gridDim.x; ++b) \
        for (unsigned int t = 0; t < blockDim.x; ++t) { blockIdx.x = b; threadIdx.x = t; CALL; }
#define WRAP(T, SUFFIX) \
extern "C" void relu_##SUFFIX(const T* xs, T* ys, long long n, T leak, T cap, bool zero_slope, bool capped, \
                              bool flush, unsigned int blocks, unsigned int threads) { \
    GRID(anyrelu_relu_wide<T>(xs, ys, n, leak, cap, zero_slope, capped)) } \
extern "C" void relu_dash_##SUFFIX(const T* xs, T* ys, long long n, T leak, T cap, bool capped, bool flush, \
                                   unsigned int blocks, unsigned int threads) { \
    GRID(anyrelu_relu_dash_wide<T>(xs, ys, n, leak, cap, capped)) } \
extern "C" void relu_chain_##SUFFIX(const T* xs, const T* ts, T* ys, long long n, T leak, T cap, bool zero_slope, \
                                    bool capped, bool flush, unsigned int blocks, unsigned int threads) { \
    GRID(anyrelu_relu_chain_wide<T>(xs, ts, ys, n, leak, cap, zero_slope, capped)) }
WRAP(float, float32)
WRAP(double, float64)
"""
# The kernels as they were: float compares and a float product, which flush-to-zero breaks.
PLAIN = """
__device__ inline bool anyrelu_le_zero(float x) { return x <= 0.0f; }
__device__ inline bool anyrelu_ge_cap(float x, float cap) { return x >= cap; }
__device__ inline float anyrelu_times(float leak, float x) { return leak * x; }
__device__ inline double anyrelu_widen(float x) { return x; }
__device__ inline float anyrelu_narrow(double x) { return (float)x; }
"""


def _compile(tmp_path_factory: pytest.TempPathFactory, source: str) -> ctypes.CDLL:
    folder = tmp_path_factory.mktemp("kernels")
    (folder / "kernels.cpp").write_text(source)
    library = folder / "kernels.so"
    subprocess.run([COMPILER, "-O2", "-ffp-contract=off", "-shared", "-fPIC", "-o", library, folder / "kernels.cpp"],
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    return ctypes.CDLL(str(library))


def _build(tmp_path_factory: pytest.TempPathFactory, preamble: str) -> ctypes.CDLL:
    source = HARNESS.replace("PREAMBLE_HERE", preamble).replace("RELU_DASH_HERE", RELU_DASH)
    source = source.replace("RELU_CHAIN_HERE", RELU_CHAIN)
    compiled = _compile(tmp_path_factory, source.replace("RELU_HERE", RELU))
    pointer, f32, flag = ctypes.c_void_p, ctypes.c_float, ctypes.c_bool
    compiled.relu.argtypes = [pointer, pointer, ctypes.c_long, f32, f32, flag, flag, flag]
    compiled.relu_dash.argtypes = [pointer, pointer, ctypes.c_long, f32, f32, flag, flag]
    compiled.relu_chain.argtypes = [pointer, pointer, pointer, ctypes.c_long, f32, f32, flag, flag, flag]
    compiled.widen.argtypes, compiled.widen.restype = [f32, flag], ctypes.c_double
    compiled.narrow.argtypes, compiled.narrow.restype = [ctypes.c_double, flag], f32
    return compiled


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    return _build(tmp_path_factory, PREAMBLE)


@pytest.fixture(scope="module")
def plain_kernels(tmp_path_factory):
    return _build(tmp_path_factory, PLAIN)


def _inputs(dtype: str = "float32") -> np.ndarray:
    info = np.finfo(dtype)
    tiny = info.smallest_subnormal
    subnormals = np.array([tiny, 2 * tiny, 3 * tiny, info.smallest_normal / 3, info.smallest_normal - tiny], dtype)
    width = np.dtype(dtype).itemsize
    raw = np.random.default_rng(7).integers(0, 256, 4000 * width, dtype=np.uint8)
    nan_payloads = np.array([0x7FC00001, 0xFFC00000, 0x7F800001 | 0x400000], dtype=np.uint32).view(np.float32)
    extra = nan_payloads if dtype == "float32" else np.array([np.nan, -np.nan])
    return np.concatenate([special_values(dtype), subnormals, -subnormals, raw.view(dtype), extra.astype(dtype)])


def _run(kernels: ctypes.CDLL, name: str, x: np.ndarray, leak: float, cap: float | None, flush: bool) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    y = np.empty_like(x)
    args = [x.ctypes.data, y.ctypes.data, x.size, leak, 0.0 if cap is None else cap]
    if name == "relu":
        args.append(leak == 0)
    getattr(kernels, name)(*args, cap is not None, flush)
    return y


def _same_bits(actual: np.ndarray, desired: np.ndarray) -> None:
    nan = np.isnan(desired)
    np.testing.assert_array_equal(np.isnan(actual), nan)
    np.testing.assert_array_equal(actual[~nan].view(np.uint32), desired[~nan].view(np.uint32))


LEAKS = [0.0, 0.1, -0.3, 2.5, 1e-40, 1e-30]  # 1e-40: a subnormal leak; 1e-30 * 1e-10 is subnormal
CAPS = [None, 6.0, 1e-40]  # 1e-40: a subnormal cap


@pytest.mark.parametrize("flush", [True, False], ids=["flush-to-zero", "ieee"])
@pytest.mark.parametrize("leak", LEAKS)
@pytest.mark.parametrize("cap", CAPS)
def test_the_float32_kernels_give_the_contracts_bits_whatever_the_flush_mode(kernels, flush, leak, cap):
    x = _inputs()
    leak32, cap32 = float(np.float32(leak)), None if cap is None else float(np.float32(cap))
    want_relu, want_dash = _contract_on_inputs(leak32, cap32)
    _same_bits(_run(kernels, "relu", x, leak32, cap32, flush), want_relu)
    _same_bits(_run(kernels, "relu_dash", x, leak32, cap32, flush), want_dash)


@functools.cache
def _contract_on_inputs(leak: float, cap: float | None) -> tuple[np.ndarray, np.ndarray]:
    """The contract on _inputs(), element by element (seconds): once for both flush modes."""
    x = _inputs()
    return expected_relu(x, leak, cap), expected_relu_dash(x, leak, cap)


@pytest.mark.parametrize("leak", LEAKS)
@pytest.mark.parametrize("cap", CAPS)
def test_the_chain_kernel_is_the_derivative_applied_to_the_cotangent(kernels, leak, cap):
    """torch CUDA's backward: 0 on the flat side, leak * t on the leak side (+0.0 for a zero leak,
    whatever t is), t elsewhere (NaN included) -- under flush-to-zero."""
    x = _inputs()
    t = np.random.default_rng(3).permutation(x)  # cotangents: the same specials, subnormals and bits
    leak32, cap32 = np.float32(leak), None if cap is None else np.float32(cap)
    y = np.empty_like(x)
    kernels.relu_chain(x.ctypes.data, t.ctypes.data, y.ctypes.data, x.size, leak32, 0.0 if cap is None else cap32,
                       leak32 == 0, cap is not None, True)  # fmt: skip
    _same_bits(y, _expected_chain(x, t, leak32, cap32))


def _expected_chain(x: np.ndarray, t: np.ndarray, leak: float, cap: float | None) -> np.ndarray:
    """The chain rule element by element: 0 from the cap up, leak * t (+0.0 for a zero leak) for
    x <= 0, t elsewhere (NaN included); IEEE products (the float32 ones exact in float64, then
    rounded once)."""
    leak = x.dtype.type(leak)
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        leak_side = np.zeros_like(t) if leak == 0 else (np.float64(leak) * t.astype(np.float64)).astype(x.dtype)
        expected = np.where(x <= 0, leak_side, t)
        if cap is not None:
            expected = np.where(x >= x.dtype.type(cap), x.dtype.type(0), expected)
    return expected


def test_the_casts_between_float32_and_float64_are_exact_under_flush_to_zero(kernels):
    """The rest of the family on CuPy computes float32 in float64 between these casts: widening is
    exact, narrowing rounds once to nearest even, subnormal results and ties included."""
    x = _inputs()
    widened = np.array([kernels.widen(float(v), True) for v in x])
    with np.errstate(invalid="ignore"):  # signalling NaNs among the random bits
        np.testing.assert_array_equal(widened, x.astype(np.float64))  # NaN == NaN here
    tiny = float(np.finfo(np.float32).smallest_subnormal)
    rng = np.random.default_rng(5)
    wide = np.concatenate([
        np.arange(-40, 41) * tiny / 2,  # every tie between two subnormals, and the subnormals themselves
        rng.uniform(-1, 1, 2000) * 2.0**-126,  # the subnormal range, and just above it
        rng.standard_normal(500) * 10.0 ** rng.integers(-45, 39, 500),
        [2.0**-126 - tiny / 2, 2.0**-126 - tiny / 4, 3.4028235677973366e38, 3.5e38, -0.0, np.inf, -np.inf, np.nan],
    ])  # fmt: skip
    narrowed = np.array([kernels.narrow(float(v), True) for v in wide], dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        _same_bits(narrowed, wide.astype(np.float32))


def test_the_plain_float_kernels_fail_under_flush_to_zero(plain_kernels):
    """The emulation is real: the old kernels pass without flushing and fail with it, on subnormals."""
    x = _inputs()
    _same_bits(_run(plain_kernels, "relu", x, 0.1, None, False), expected_relu(x, 0.1))
    flushed = _run(plain_kernels, "relu", x, 0.1, None, True)
    dash = _run(plain_kernels, "relu_dash", x, 0.0, None, True)
    tiny = 3 * np.finfo(np.float32).smallest_subnormal  # in _inputs()
    assert flushed[x == tiny][0] == 0.0  # should be tiny itself
    assert dash[x == tiny][0] == 0.0  # should be 1: x > 0
    with pytest.raises(AssertionError):
        _same_bits(flushed, expected_relu(x, 0.1))


@pytest.fixture(scope="module")
def wide_kernels(tmp_path_factory):
    compiled = _compile(tmp_path_factory, WIDE_HARNESS.replace("SOURCE_HERE", wide_source()))
    pointer, flag, count, size = ctypes.c_void_p, ctypes.c_bool, ctypes.c_uint, ctypes.c_longlong
    for suffix, number in (("float32", ctypes.c_float), ("float64", ctypes.c_double)):
        getattr(compiled, f"relu_{suffix}").argtypes = [pointer, pointer, size, number, number, flag, flag, flag,
                                                        count, count]  # fmt: skip
        getattr(compiled, f"relu_dash_{suffix}").argtypes = [pointer, pointer, size, number, number, flag, flag,
                                                             count, count]  # fmt: skip
        getattr(compiled, f"relu_chain_{suffix}").argtypes = [pointer, pointer, pointer, size, number, number, flag,
                                                              flag, flag, count, count]  # fmt: skip
    return compiled


def _run_wide(kernels, name, x, leak, cap, blocks, threads, t=None):
    y = np.full_like(x, np.nan)  # an element the grid missed stays NaN, and fails the comparison
    arrays = [x.ctypes.data] + ([] if t is None else [t.ctypes.data]) + [y.ctypes.data]
    args = [*arrays, x.size, leak, 0.0 if cap is None else cap]
    if name in ("relu", "relu_chain"):
        args.append(leak == 0)
    flush = x.dtype == np.float32  # -ftz=true flushes float32 only; x86's modes would flush float64 too
    getattr(kernels, f"{name}_{x.dtype.name}")(*args, cap is not None, flush, blocks, threads)
    return y


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [1, 3, 4, 5, 7, 8, 9, 1023, 4099])
def test_the_wide_kernels_cover_every_element_once_with_the_contracts_bits(wide_kernels, dtype, n):
    values = np.resize(_inputs(dtype), n)
    for leak, cap in ((0.0, None), (0.1, 6.0), (1e-40, 1e-40), (-0.3, None)):
        leak, cap = float(np.dtype(dtype).type(leak)), None if cap is None else float(np.dtype(dtype).type(cap))
        for blocks, threads in ((grid(n, values.itemsize), THREADS), (2, 3)):  # the launch's grid, and a small one
            _same_bits(_run_wide(wide_kernels, "relu", values, leak, cap, blocks, threads),
                       expected_relu(values, leak, cap))  # fmt: skip
            _same_bits(_run_wide(wide_kernels, "relu_dash", values, leak, cap, blocks, threads),
                       expected_relu_dash(values, leak, cap))  # fmt: skip
            t = np.random.default_rng(n).permutation(values)  # cotangents: specials, subnormals, bits
            _same_bits(_run_wide(wide_kernels, "relu_chain", values, leak, cap, blocks, threads, t),
                       _expected_chain(values, t, leak, cap))  # fmt: skip


def test_the_wide_kernels_move_16_bytes_per_thread():
    """The source's loads and stores are 16-byte packs, and the grid gives each thread one pack."""
    source = wide_source()
    assert "struct alignas(16) anyrelu_pack { T v[16 / sizeof(T)]; }" in source
    assert "const anyrelu_pack<T> p = in[i];" in source and "out[i] = q;" in source
    assert grid(2**27, 4) * THREADS * 16 == 2**27 * 4  # one pack per thread at the bench's size
    assert grid(10, 4) == 1 and grid(2**40, 8) == 1 << 20

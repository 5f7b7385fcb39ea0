"""CuPy kernels for relu, relu_dash and relu's chain rule (torch CUDA's backward) with a number
leak, one pass each; the reference bodies otherwise, the rest of the family's float32 computed in
float64 between exact casts. C-contiguous, 16-byte-aligned float32 or float64 arrays run ``WIDE``,
which reads and writes 16 bytes per thread (what HBM needs to reach its bandwidth; CuPy's own
ElementwiseKernel reached 40% of it on an H200); any other layout runs an
``ElementwiseKernel`` of the same body.

CuPy compiles every kernel with flush-to-zero (``-ftz=true``), which an ``options=`` override does
not undo: a float32 compare or product then reads a subnormal as 0 and writes a subnormal result
as 0. So the float32 kernels compare through the bits and multiply in float64 (exact for two
float32s), widening and narrowing through the bits too, so that subnormals follow IEEE
(docs/conventions.md, platform notes). float16 (computed through float32 by CuPy, so never
subnormal there), float64 and integers are not flushed and use plain compares. ``PREAMBLE`` is
valid C++ as well as CUDA: tests/test_gpu_kernels.py compiles it with the host's C++ compiler and
runs it with the CPU's flush-to-zero and denormals-are-zero modes on.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

from .._checks import Array
from .._reference import REFERENCE, rectifiers
from .._reference import relu as reference

PREAMBLE = r"""
// x <= 0, read off the bits: +0.0, or the sign bit set and not NaN.
__device__ inline bool anyrelu_le_zero(float x) {
    int b = __float_as_int(x);
    return b == 0 || (b < 0 && (b & 0x7fffffff) <= 0x7f800000);
}
template <typename T> __device__ inline bool anyrelu_le_zero(T x) { return x <= (T)0.0f; }

// x >= cap for a cap > 0: as integers, the bits of non-negative floats are in the floats' order.
__device__ inline bool anyrelu_ge_cap(float x, float cap) {
    int b = __float_as_int(x);
    return b >= __float_as_int(cap) && b <= 0x7f800000;
}
template <typename T> __device__ inline bool anyrelu_ge_cap(T x, T cap) { return x >= cap; }

// float -> double, exact also for a subnormal x (a conversion would flush it).
__device__ inline double anyrelu_widen(float x) {
    int b = __float_as_int(x);
    if ((b & 0x7f800000) != 0) return (double)x;
    double m = ldexp((double)(b & 0x7fffff), -149);
    return b < 0 ? -m : m;
}

// double -> float, rounded once to nearest even, also where the result is subnormal.
__device__ inline float anyrelu_narrow(double p) {
    if (!(fabs(p) < ldexp(1.0, -126))) return (float)p;  // normal, inf or NaN
    unsigned int m = (unsigned int)rint(ldexp(fabs(p), 149));  // 2^23 rounds up to FLT_MIN's bits
    return __int_as_float((int)(m | (signbit(p) ? 0x80000000u : 0u)));
}

// leak * x as IEEE float32 gives it: the float64 product of two floats is exact.
__device__ inline float anyrelu_times(float leak, float x) {
    return anyrelu_narrow(anyrelu_widen(leak) * anyrelu_widen(x));
}
template <typename T> __device__ inline T anyrelu_times(T leak, T x) { return (T)(leak * x); }
"""

RELU = """
if (capped && anyrelu_ge_cap(x, cap)) { y = cap; }
else if (anyrelu_le_zero(x)) { y = zero_slope ? (T)0.0f : anyrelu_times(leak, x); }
else { y = x; }
"""
RELU_DASH = "y = (capped && anyrelu_ge_cap(x, cap)) ? (T)0.0f : (anyrelu_le_zero(x) ? leak : (T)1.0f);"
# relu's chain rule applied to t (autograd's backward): the sides select, so a zero slope gives
# +0.0 whatever t is, as the reference's relu_chain does.
RELU_CHAIN = """
if (capped && anyrelu_ge_cap(x, cap)) { y = (T)0.0f; }
else if (anyrelu_le_zero(x)) { y = zero_slope ? (T)0.0f : anyrelu_times(leak, t); }
else { y = t; }
"""

# Each thread loads 16 bytes (W elements) of x (and of the cotangent t, for the chain rule),
# applies the body to each and stores 16 bytes; a grid-stride loop covers the packs, and the first
# n % W threads of the grid the elements after them.
PACK = "template <typename T> struct alignas(16) anyrelu_pack { T v[16 / sizeof(T)]; };\n"
WIDE = r"""
template <typename T>
__global__ void NAME(const T* __restrict__ xs, COTANGENTS T* __restrict__ ys, long long n, T leak, T cap, PARAMS) {
    const int W = 16 / sizeof(T);
    const long long packs = n / W, start = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    const long long stride = (long long)gridDim.x * blockDim.x;
    const anyrelu_pack<T>* in = reinterpret_cast<const anyrelu_pack<T>*>(xs);
    anyrelu_pack<T>* out = reinterpret_cast<anyrelu_pack<T>*>(ys);
    for (long long i = start; i < packs; i += stride) {
        const anyrelu_pack<T> p = in[i];
        LOAD_PACK
        anyrelu_pack<T> q;
#pragma unroll
        for (int k = 0; k < W; ++k) {
            const T x = p.v[k];
            LOAD_ELEMENT
            T y;
            BODY
            q.v[k] = y;
        }
        out[i] = q;
    }
    if (packs * W + start < n) {
        const long long j = packs * W + start;
        const T x = xs[j];
        LOAD_TAIL
        T y;
        BODY
        ys[j] = y;
    }
}
"""
NO_COTANGENT = {"COTANGENTS": "", "LOAD_PACK": "", "LOAD_ELEMENT": "", "LOAD_TAIL": ""}
COTANGENT = {
    "COTANGENTS": "const T* __restrict__ ts,",
    "LOAD_PACK": "const anyrelu_pack<T> u = reinterpret_cast<const anyrelu_pack<T>*>(ts)[i];",
    "LOAD_ELEMENT": "const T t = u.v[k];",
    "LOAD_TAIL": "const T t = ts[j];",
}
# name: (parameters after cap, body, whether it reads a cotangent)
WIDE_KERNELS = {
    "anyrelu_relu_wide": ("bool zero_slope, bool capped", RELU, False),
    "anyrelu_relu_dash_wide": ("bool capped", RELU_DASH, False),
    "anyrelu_relu_chain_wide": ("bool zero_slope, bool capped", RELU_CHAIN, True),
}


def wide_source() -> str:
    """The wide kernels (``WIDE_KERNELS``, each a template in T) after PREAMBLE."""
    source = PREAMBLE + PACK
    for name, (params, body, cotangent) in WIDE_KERNELS.items():
        kernel = WIDE.replace("NAME", name).replace("PARAMS", params).replace("BODY", body)
        for mark, text in (COTANGENT if cotangent else NO_COTANGENT).items():
            kernel = kernel.replace(mark, text)
        source += kernel
    return source


WIDE_TYPES = {"float32": "float", "float64": "double"}  # float16 keeps the ElementwiseKernel
THREADS = 256


def relu(x: Array, leak: Any, max_value: Any, threshold: Any, xp: ModuleType) -> Array:
    if type(leak) not in (float, int) or threshold != 0:
        return reference.relu(x, leak, max_value, threshold, xp)
    if _wide("anyrelu_relu_wide", x) is None:
        return _compiled()[0](x, leak, _cap(max_value), *wide_flags("anyrelu_relu_wide", leak, max_value))
    return _launch("anyrelu_relu_wide", x, leak, max_value)


def relu_dash(x: Array, leak: Any, max_value: Any, threshold: Any, xp: ModuleType) -> Array:
    if type(leak) not in (float, int) or threshold != 0:
        return reference.relu_dash(x, leak, max_value, threshold, xp)
    if _wide("anyrelu_relu_dash_wide", x) is None:
        return _compiled()[1](x, leak, _cap(max_value), *wide_flags("anyrelu_relu_dash_wide", leak, max_value))
    return _launch("anyrelu_relu_dash_wide", x, leak, max_value)


def relu_chain(x: Array, t: Array, leak: Any, max_value: Any) -> Array:
    """relu's derivative at x applied to t, in one pass (torch CUDA's backward)."""
    same = t.shape == x.shape and t.dtype == x.dtype
    if not same or _wide("anyrelu_relu_chain_wide", x, t) is None:
        return _compiled()[2](x, t, leak, _cap(max_value), *wide_flags("anyrelu_relu_chain_wide", leak, max_value))
    return _launch("anyrelu_relu_chain_wide", x, leak, max_value, t)


def _wide(name: str, *arrays: Array) -> Any:
    """The wide kernel for these arrays, or None where a layout or the dtype needs the
    ElementwiseKernel."""
    if any(not a.flags.c_contiguous or a.data.ptr % 16 or a.size == 0 for a in arrays):
        return None
    return wide_function(name, arrays[0].dtype.name)


@functools.cache
def wide_function(name: str, dtype: str) -> Any:
    """The wide kernel ``name`` for dtype (a NumPy dtype name), on the current device; None for
    a dtype it does not cover or where the module does not compile."""
    ctype = WIDE_TYPES.get(dtype)
    module = _wide_module() if ctype else None
    return None if module is None else module.get_function(f"{name}<{ctype}>")


def grid(n: int, itemsize: int) -> int:
    """Blocks of THREADS threads for n elements: a thread per 16 bytes, at most 2^20 blocks (a
    grid-stride loop covers the rest)."""
    packs = n // (16 // itemsize)
    return max(1, min(-(-packs // THREADS), 1 << 20))


def wide_flags(name: str, leak: Any, max_value: Any) -> tuple[bool, ...]:
    """The switches kernel ``name`` takes after leak and cap (its PARAMS in ``WIDE_KERNELS``, and
    the ElementwiseKernel's): zero_slope and capped; relu_dash's capped alone."""
    capped = max_value is not None
    return (capped,) if name == "anyrelu_relu_dash_wide" else (leak == 0, capped)


def _launch(name: str, x: Array, leak: Any, max_value: Any, *cotangent: Array) -> Array:
    import cupy

    y = cupy.empty_like(x)  # C-contiguous and aligned, as x is
    run_wide(name, (x, *cotangent, y), x.size, x.dtype, leak, max_value)
    return y


def run_wide(
    name: str, arrays: tuple[Any, ...], n: int, dtype: Any, leak: Any, max_value: Any, stream: Any = None
) -> None:
    """Launch the wide kernel ``name`` (which ``wide_function`` has for dtype on the current
    device) on n elements of ``arrays`` (x, the cotangent if the kernel reads one, then y): CuPy
    arrays, or the device addresses (ints) of C-contiguous, 16-byte aligned memory, as torch's
    CUDA tensors give them. dtype: their NumPy dtype; stream: CuPy's current one if None."""
    import numpy as np

    kernel = wide_function(name, dtype.name)
    numbers = (dtype.type(leak), dtype.type(_cap(max_value)), *map(np.bool_, wide_flags(name, leak, max_value)))
    kernel((grid(n, dtype.itemsize),), (THREADS,), (*arrays, np.int64(n), *numbers), stream=stream)


def _cap(max_value: Any) -> Any:
    return 0 if max_value is None else max_value


@functools.cache
def _compiled() -> tuple[Any, Any, Any]:
    """Constants go through float ((T)0.0f), which CuPy's float16 accepts."""
    import cupy

    relu = cupy.ElementwiseKernel(
        "T x, T leak, T cap, bool zero_slope, bool capped", "T y", RELU, "anyrelu_relu", preamble=PREAMBLE
    )
    relu_dash = cupy.ElementwiseKernel(
        "T x, T leak, T cap, bool capped", "T y", RELU_DASH, "anyrelu_relu_dash", preamble=PREAMBLE
    )
    chain = cupy.ElementwiseKernel(
        "T x, T t, T leak, T cap, bool zero_slope, bool capped",
        "T y",
        RELU_CHAIN,
        "anyrelu_relu_chain",
        preamble=PREAMBLE,
    )
    return relu, relu_dash, chain


def _in_float64(name: str) -> Any:
    """The rest of the family on float32: the reference body in float64 (never flushed), x widened
    and the result narrowed through the bits, since CuPy's own astype flushes float32 subnormals."""
    body = getattr(rectifiers, name)

    def kernel(x: Array, *args: Any) -> Array:
        if x.dtype.name != "float32":
            return REFERENCE[name](x, *args)
        widen, narrow = _casts()
        return narrow(body(widen(x), *args))

    return kernel


@functools.cache
def _casts() -> tuple[Any, Any]:
    import cupy

    return tuple(
        cupy.ElementwiseKernel(f"{a} x", f"{b} y", f"y = anyrelu_{name}(x);", f"anyrelu_{name}", preamble=PREAMBLE)
        for a, b, name in (("float32", "float64", "widen"), ("float64", "float32", "narrow"))
    )


@functools.cache
def _wide_module() -> Any:
    """The wide kernels for float and double; None (the ElementwiseKernel everywhere) where this
    CUDA toolkit cannot compile them -- tests/test_devices.py fails on a GPU if so."""
    import cupy

    names = [f"{kernel}<{ctype}>" for kernel in WIDE_KERNELS for ctype in WIDE_TYPES.values()]
    module = cupy.RawModule(code=wide_source(), options=("-std=c++14",), name_expressions=names)
    try:
        module.compile()
    except cupy.cuda.compiler.CompileException:
        return None
    return module


KERNELS = {
    "relu": relu,
    "relu_dash": relu_dash,
    **{name: _in_float64(name) for base in rectifiers.FUNCTIONS for name in (base, f"{base}_dash")},
}

"""NumPy kernels (also for the NumPy chunks of a Dask array).

The ReLU family: branch-free ``maximum``/``minimum`` forms, against a cached block of the number
on large contiguous arrays (NumPy's fast loops want contiguous operands) and a cached 0-d array
of it elsewhere (cheaper per call than a Python number), the product buffer reused as the output,
and relu_dash built from the mask's bits (``heaviside`` on tiny arrays). ``maximum`` has no fixed
answer at the tie ``maximum(-0.0, +0.0)``: SIMD and scalar loops differ by dtype and CPU, so the
zero-slope form probes its argument order once per dtype. tests/test_fast_paths.py proves every
form bit-identical to the reference body.

ELU, SELU and CELU: NumPy's own expm1 and exp, only where the lower piece uses them (the
accuracy tests hold them to the bound). The rest of the family: the reference bodies, evaluated
block by block (small float64 temporaries). Reference bodies run with NumPy's overflow warnings
off: an IEEE overflow to ±inf (or an inf leak entry times 0) is the contract's answer.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np

from .._checks import Array
from .._reference import REFERENCE
from .._reference import relu as reference
from .._reference.rectifiers import SELU_SCALE, SELU_SCALE_ALPHA
from .._reference.special import numpy_erfc

_NUMBERS = (float, int)  # the types of a validated number leak; an array otherwise


def quiet(body: Callable[..., Array], invalid: str = "ignore") -> Callable[..., Array]:
    """body with NumPy's overflow (and invalid-operation) warnings off, for NumPy and the libraries
    that compute with it (array-api-strict)."""

    @functools.wraps(body)
    def kernel(*args: Any) -> Array:
        with np.errstate(over="ignore", invalid=invalid):  # type: ignore[arg-type]
            return body(*args)

    return kernel


def plain(kernel: Callable[..., Array]) -> Callable[..., Array]:
    """kernel on x as a plain ndarray, giving one: a subclass or a NumPy scalar gives an np.ndarray,
    whatever the path (np.where and the ufuncs would disagree about subclasses and 0-d arrays)."""

    @functools.wraps(kernel)
    def on_ndarray(x: Array, *args: Any) -> Array:
        y = kernel(x if type(x) is np.ndarray else np.asarray(x), *args)
        return y if type(y) is np.ndarray else np.asarray(y)  # ufuncs return scalars for 0-d arrays

    return on_ndarray


_quiet_relu, _quiet_relu_dash = quiet(reference.relu), quiet(reference.relu_dash)


def relu(x: Array, leak: Any, max_value: Any, threshold: Any, xp: ModuleType) -> Array:
    if leak.__class__ is float and leak == 0 and max_value is None and threshold == 0 and x.__class__ is np.ndarray:
        # the lesson's relu on a small array, kept short: the checks below pass for a dtype with
        # facts (a real NumPy dtype whose zero and x have an order in maximum)
        facts = _FACTS.get(x.dtype)
        if facts is not None and facts.zero_first is not _NO_ORDER and x.ndim > 0 and x.size < _BLOCK:
            return np.maximum(facts.zero, x) if facts.zero_first else np.maximum(x, facts.zero)
    if type(x) is not np.ndarray:  # see plain()
        x = np.asarray(x)
    # Numbers reach the ufuncs as 0-d arrays of x's dtype (_constant) or blocks of it (_block):
    # the value NEP 50 would cast a Python number to, so leak * x is the reference's, in x's dtype.
    if (
        x.ndim == 0  # ufuncs return scalars
        or type(leak) not in _NUMBERS  # PReLU
        or threshold != 0
        or leak < 0  # maximum would tie at ±0.0 with opposite signs
        or x.dtype.kind not in "fiu"  # ml_dtypes' bfloat16: the reference body
        or (leak > 1 and x.dtype.kind != "f")  # wrapping integer products break the minimum form
    ):
        return _quiet_relu(x, leak, max_value, threshold, xp)
    if leak == 0:
        facts = _FACTS.get(x.dtype) or _numpy_facts(x.dtype)
        if facts.zero_first is _NO_ORDER:
            return reference.relu(x, leak, max_value, threshold, xp)
        if x.size < _BLOCK:  # _against's first branch, inline: the call is 5% of a small relu
            y = np.maximum(facts.zero, x) if facts.zero_first else np.maximum(x, facts.zero)
        else:
            y = _against(np.maximum, x, 0, facts.zero_first is True)
    elif leak <= 1:  # leak*x lies between x and 0: the larger of the two is the answer
        y = np.multiply(x, _constant(x.dtype, leak))
        np.maximum(x, y, out=y)  # x first: a NaN comes back with x's own payload
    else:  # leak > 1: the smaller of the two; leak*x may overflow to -inf or +inf (then unused)
        with np.errstate(over="ignore"):
            y = np.multiply(x, _constant(x.dtype, leak))
        np.minimum(x, y, out=y)
    if max_value is not None:
        _against(np.minimum, y, max_value, out=y)
    return y


_BLOCK = 16384  # elements in a row of the blocked form; 64 KiB of float32 stays in cache
_TINY = 32  # up to this size, relu_dash takes two non-SIMD calls (faster up to about 64 elements)


def _against(ufunc: np.ufunc, x: Array, value: float | int, value_first: bool = False, out: Array = None) -> Array:
    """ufunc(x, value) in x's dtype, into out (None, or x itself). NumPy's loops for maximum and
    minimum against a broadcast number are slower than against a contiguous operand (int32 at
    10^6 elements: 1.7x; float32 on an AMD EPYC's AVX2: 4.8x, 0.94 against 0.20 ms). So a large
    C-contiguous x meets a cached contiguous block of the value instead: one call over x's rows
    of _BLOCK elements, one for the short rest. (On an Intel Xeon the floating-point loops took
    the number at full speed, and the block was 5-15% slower there.) Same bits either way: the
    order of maximum's arguments is probed against both forms (_zero_first_order)."""
    if x.size < _BLOCK or not x.flags.c_contiguous or not x.dtype.isnative:
        constant = _constant(x.dtype, value)
        return ufunc(constant, x, out=out) if value_first else ufunc(x, constant, out=out)
    if out is None:
        out = np.empty(x.shape, x.dtype)
    flat_x, flat_out, block = x.reshape(-1), out.reshape(-1), _block(x.dtype, value)
    rows = flat_x.size - flat_x.size % _BLOCK
    for part, result, values in (
        (flat_x[:rows].reshape(-1, _BLOCK), flat_out[:rows].reshape(-1, _BLOCK), block),
        (flat_x[rows:], flat_out[rows:], block[: flat_x.size - rows]),
    ):
        ufunc(*((values, part) if value_first else (part, values)), out=result)
    return out


@functools.lru_cache(maxsize=256)
def _constant(dtype: np.dtype, value: float | int) -> np.ndarray:
    """value as a read-only 0-d array of dtype. A ufunc takes it 0.4 us faster than the Python
    number, with the same result: NEP 50 casts a number to x's dtype first. (Never -0.0: a
    validated leak that rounds to zero is 0, and caps are > 0.)"""
    constant = np.asarray(value, dtype=dtype)
    constant.flags.writeable = False
    return constant


@functools.lru_cache(maxsize=64)
def _block(dtype: np.dtype, value: float | int, size: int = _BLOCK) -> np.ndarray:
    """value in a read-only contiguous block of ``size`` elements of dtype (see _against)."""
    block = np.full(size, value, dtype=dtype)
    block.flags.writeable = False
    return block


def relu_dash(x: Array, leak: Any, max_value: Any, threshold: Any, xp: ModuleType) -> Array:
    if (
        leak.__class__ in _NUMBERS
        and leak == 0
        and max_value is None
        and threshold == 0
        and x.__class__ is np.ndarray
        and x.size <= _TINY
        and x.ndim > 0
        and x.dtype.kind == "f"
        and x.itemsize <= 8
    ):
        # The lesson's call on a small float array, first and short: two calls beat the three
        # below where NumPy's per-call cost dominates. heaviside gives 0 for x < 0, its second
        # argument (+0.0) at ±0.0, 1 for x > 0 and NaN at NaN; fmin turns NaN into 1.
        facts = _FACTS.get(x.dtype) or _numpy_facts(x.dtype)
        y = np.heaviside(x, facts.zero)
        return np.fmin(y, facts.one, out=y)
    if type(x) is not np.ndarray:  # see plain()
        x = np.asarray(x)
    if x.ndim == 0 or type(leak) not in _NUMBERS or threshold != 0 or x.dtype.kind not in "fiu" or x.itemsize > 8:
        # 0-d, PReLU, a moved kink, ml_dtypes' bfloat16 and long double (no integers of its width).
        return _quiet_relu_dash(x, leak, max_value, threshold, xp)  # ml_dtypes' NaN compares warn
    facts = _FACTS.get(x.dtype) or _numpy_facts(x.dtype)
    dtype = facts.native
    leak_side = np.less_equal(x, facts.zero)
    if leak == 0 and max_value is None:
        return np.logical_not(leak_side, out=leak_side).astype(dtype)
    # Each output is one of two bit patterns, so build it in the integers of the same width:
    # bits(1) + leak_side * (bits(leak) - bits(1)) is exact, branch-free and one temporary.
    ints, one_bits, step = _dash_bits(dtype, leak)
    out = np.multiply(leak_side, step, dtype=ints)
    out += one_bits
    if max_value is not None:  # x >= max_value > 0 was on the identity side: 1 -> 0
        flat_side = np.greater_equal(x, max_value, out=leak_side)
        np.subtract(out, one_bits, out=out, where=flat_side)
    return out.view(dtype)


@functools.lru_cache(maxsize=256)
def _dash_bits(dtype: np.dtype, leak: float | int) -> tuple[np.dtype, Any, Any]:
    ints = np.dtype(f"i{dtype.itemsize}")
    one_bits, leak_bits = (int(np.asarray(v, dtype=dtype).view(ints)) for v in (1, leak))
    width = 8 * dtype.itemsize
    step = (leak_bits - one_bits + 2 ** (width - 1)) % 2**width - 2 ** (width - 1)
    return ints, ints.type(one_bits), ints.type(step)


_NO_ORDER = "neither"


class _Facts(NamedTuple):
    """What the NumPy kernels need to know about one dtype, found on its first call."""

    native: np.dtype  # the dtype in native byte order, which results have
    zero: np.ndarray  # _constant(dtype, 0)
    one: np.ndarray  # _constant(dtype, 1)
    zero_first: bool | str  # _zero_first_order(dtype)


_FACTS: dict[np.dtype, _Facts] = {}  # dtype -> _numpy_facts(dtype); only ever grows


def _numpy_facts(dtype: np.dtype) -> _Facts:
    order = _zero_first_order(dtype)
    facts = _FACTS[dtype] = _Facts(dtype.newbyteorder("="), _constant(dtype, 0), _constant(dtype, 1), order)
    return facts


def _zero_first_order(dtype: np.dtype) -> bool | str:
    """Which argument order of np.maximum gives +0.0 at x = -0.0 for this dtype on this CPU:
    False for maximum(x, 0), True for maximum(0, x), _NO_ORDER if neither does in every loop."""
    if dtype.kind != "f":
        return False
    base = np.full(96, -0.0, dtype=dtype)
    # contiguous (SIMD body, scalar head and tail at every alignment), strided and reversed;
    # against the two zeros the kernels pass: a 0-d zero, and zeros (a row, or rows of one block)
    probes = [base[start:stop] for start in range(16) for stop in range(start + 1, start + 40)]
    probes += [base[::2], base[::3], base[::-1], base, base.reshape(4, 24)]
    for order in (False, True):
        if not any(
            np.signbit(np.maximum(zero, p) if order else np.maximum(p, zero)).any()
            for p in probes
            for zero in (_constant(dtype, 0), np.zeros(p.shape[-1], dtype))
        ):
            return order
    return _NO_ORDER


# ---------------------------------------------------------------- ELU, SELU, CELU
#
# float16 and float32 in float64, block by block, branch-free: f = factor * expm1(min(x, 0) / divisor)
# + slope * max(x, 0) (each piece is exactly 0 on the other side; NaN propagates through max), and
# f' = a * lower + (1 - lower) * slope with a = factor * exp(fmin(x, 0) / divisor) and lower the
# 0/1 mask of x <= 0 -- an exact blend (fmin sends NaN to the upper piece). NumPy's own float32
# expm1 and exp are 2.2-2.3 ulp off on its AVX2 and AVX-512 paths, too much for the bound; in
# float64 the one rounding to float32 is the only one that counts. float64 takes the reference.


def _elu_family(
    name: str, constants: Callable[..., tuple[float, float, float]]
) -> tuple[Callable[..., Array], Callable[..., Array]]:
    """Kernels for elu, selu or celu from ``constants(*parameters)``: (the lower piece's factor,
    the upper piece's slope, the divisor of x inside expm1), on a float64 block (see _widened)."""

    def value_block(w: Array, *parameters: Any) -> Array:
        factor, slope, divisor = constants(*parameters)
        lower = np.minimum(w, 0.0)
        if divisor != 1:
            lower /= divisor
        y = np.expm1(lower, out=lower)
        y *= factor
        upper = np.maximum(w, 0.0, out=w)
        if slope != 1:
            upper *= slope
        y += upper
        return y

    def dash_block(w: Array, *parameters: Any) -> Array:
        factor, slope, divisor = constants(*parameters)
        on_lower = np.less_equal(w, 0.0).astype(np.float64)
        a = np.fmin(w, 0.0, out=w)
        if divisor != 1:
            a /= divisor
        a = np.exp(a, out=a)
        if factor != 1 and divisor == 1:  # celu's derivative is exp(x / alpha) itself
            a *= factor
        a *= on_lower  # a * lower + slope * (1 - lower): each term exactly a piece's value or 0,
        upper = np.subtract(on_lower, 1.0, out=on_lower)  # which must be -0.0 on the lower piece,
        np.negative(upper, out=upper)  # so that a = -0.0 (alpha < 0 at -inf) keeps its sign
        if slope != 1:
            upper *= slope
        a += upper
        return a

    return _widened(name, value_block), _widened(f"{name}_dash", dash_block)


def _widens(x: Array) -> bool:
    return isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.dtype.itemsize in (2, 4)


def blocked(body: Callable[..., Array], wide: Any = None) -> Callable[..., Array]:
    """body evaluated _FAMILY_BLOCK elements at a time into one output array: the float64
    temporaries of a float32 computation stay in cache and their memory stays small (peak memory
    is the output and a block's temporaries, not several times the input in float64). With a
    ``wide`` dtype, each block of x is first widened into one reused buffer of it (exact), which
    body may overwrite; body's result is rounded once, straight into its part of the output."""

    def into(block: Array, buffer: Array | None, part: Array, *args: Any) -> None:
        if buffer is not None:
            buffer[...] = block
            block = buffer
        part[...] = body(block, *args)

    @functools.wraps(body)
    def kernel(x: Array, *args: Any) -> Array:
        if x.size <= _FAMILY_BLOCK and wide is None:
            return body(x, *args)
        return in_blocks(into, x, wide, *args)

    return kernel


def in_blocks(into: Callable[..., None], x: Array, wide: Any, *args: Any) -> Array:
    """``into(block, buffer, part, *args)`` for each _FAMILY_BLOCK elements of x: it writes the
    block's result into ``part``, its piece of one output array of x's dtype, with ``buffer``, a
    reused array of the ``wide`` dtype and the block's size, as its scratch (None without one)."""
    flat = x.reshape(-1)  # a copy only where x's layout needs one
    out = np.empty(flat.shape, x.dtype.newbyteorder("="))
    buffer = None if wide is None else np.empty(min(flat.size, _FAMILY_BLOCK), wide)
    for start in range(0, flat.size, _FAMILY_BLOCK):
        part = out[start : start + _FAMILY_BLOCK]
        into(flat[start : start + _FAMILY_BLOCK], None if buffer is None else buffer[: part.size], part, *args)
    return out.reshape(x.shape)


_FAMILY_BLOCK = 1 << 15  # 32768 elements: a block's float64 temporaries take a few hundred kB


def _native_order(body: Callable[..., Array]) -> Callable[..., Array]:
    """body on x in native byte order: NumPy's clip refuses a mixed-order out=, and the working
    precision is chosen by the dtype's name ('>f4' is not 'float32')."""

    @functools.wraps(body)
    def kernel(x: Array, *args: Any) -> Array:
        if isinstance(x, np.ndarray) and not x.dtype.isnative:
            x = x.astype(x.dtype.newbyteorder("="))
        return body(x, *args)

    return kernel


# The rest of the family: the reference bodies. Their formulas give no warning; rounding a float64
# result to float32 may overflow to the IEEE answer (selu of float32's largest number is inf).
REFERENCE_KERNELS = {
    name: _native_order(plain(blocked(quiet(body, invalid="warn")))) for name, body in REFERENCE.items()
}
# ---------------------------------------------------------------- SiLU, squareplus
#
# float16 and float32 in float64 blocks as well, with no mask: min/max/clip and formulas whose
# pieces cannot cancel. In float64 each result is within a few float64 ulps, so the one rounding
# to float32 is the only one that counts (0.5 ulp). float64 takes the reference.


def _widened(name: str, block: Callable[..., Array], plus_zero: bool = False) -> Callable[..., Array]:
    """block (on a 1-d float64 array, which it may overwrite, returning float64) for float16/float32
    x, in float64 blocks (``blocked``: one reused buffer, each result rounded straight into the
    output, 7-12% of SiLU's and squareplus' time at 10^6 float32 elements on an AVX2 machine
    against a fresh float64 copy each way); the reference elsewhere. plus_zero: + 0.0 after the
    rounding, for a derivative whose negative tail rounds to -0.0 where the contract's f'(-inf) is
    +0.0."""
    blocks = blocked(lambda w, *args: block(w, *args[:-1]), np.float64)  # args[-1]: xp

    def widened_blocks(x: Array, *args: Any) -> Array:
        y = blocks(x, *args)
        if plus_zero:
            y += 0.0
        return y

    return _narrow(name, widened_blocks)


def _narrow(name: str, kernel: Callable[..., Array]) -> Callable[..., Array]:
    """kernel(x, *args) for float16/float32 x (NumPy's overflow warnings off), the reference
    elsewhere."""
    kernel, body = plain(quiet(kernel)), REFERENCE_KERNELS[name]

    def widening(x: Array, *args: Any) -> Array:
        return (kernel if _widens(x) else body)(x, *args)

    return widening


def _clip(w: Array, low: float | None = None, high: float | None = None) -> Array:
    """w clipped in place to [low, high] (either may be None), NaN kept, against cached blocks of
    the bounds (``_wide``), as _against does for the ReLU family: on an AMD EPYC with
    AVX-512, NumPy's float64 maximum against a number took 0.48-0.61 ms per 10^6 elements and
    against a contiguous block 0.17-0.25 (np.clip with two numbers 0.34-0.59): SiLU 0.91x its time,
    Mish 0.87x, squareplus and softplus 0.95x. The same bits on every NumPy path (compared): where
    a bound is 0 (softplus, squareplus), the clipped w is added to a positive term, so the sign
    of the zero a maximum gives at w = -0.0 never reaches a result."""
    if low is not None:
        np.maximum(w, _wide(low, w.size), out=w)
    if high is not None:
        np.minimum(w, _wide(high, w.size), out=w)
    return w


def _wide(value: float, size: int) -> np.ndarray:
    """value in ``size`` float64 elements (at most a block of the float64 kernels), read-only."""
    return _block(np.dtype(np.float64), value, _FAMILY_BLOCK)[:size]


def _silu(x: Array) -> Array:
    """x / (1 + exp(-x)) for float16/float32 x, in float64 blocks (``in_blocks``), rounded once: as
    -x / (-1 - exp(-x)), so that the widening is the negation and the division writes the narrow
    output (5 passes a block, not 7: 2.10 against 2.25 ms per 10^6 float32 on an AMD EPYC with
    AVX-512, the same bits). Beyond x = -709 exp overflows and the quotient is -0.0, as silu is
    below every float32 there; at -inf it would be inf / -inf: where x may hold -inf (its smallest
    element, one read: 0.05 ms per 10^6, where clipping each block took 0.25), -x is clipped to
    200 first (silu(-200) is -2.8e-85, -0.0 in float32). NaN stays NaN."""
    clip = not (x.size and x.min() > -np.inf)  # NaN is not
    return in_blocks(_silu_block, x, np.float64, clip)


def _silu_block(block: Array, w: Array, part: Array, clip: bool) -> None:
    np.negative(block, out=w)  # -x, exact
    if clip:
        _clip(w, None, 200.0)
    e = np.exp(w)
    np.subtract(-1.0, e, out=e)
    np.divide(w, e, out=part)


def _silu_dash(w: Array) -> Array:
    """(1 + e (1 + w)) / (1 + e)^2 with e = exp(-w), w clipped to [-200, 200] (the derivative is 0
    and 1 beyond in float32, and e^2 stays finite): sigmoid(w) (1 + w (1 - sigmoid(w))) over one
    denominator."""
    _clip(w, -200.0, 200.0)
    e = np.exp(np.negative(w))
    top = np.add(w, 1.0)
    top *= e
    top += 1.0
    e += 1.0
    e *= e
    return np.divide(top, e, out=top)


def _softplus(w: Array, beta: float) -> Array:
    """softplus for beta = 1 (see KERNELS): max(w, 0) + log1p(e) with e = exp(-|w|) <= 1,
    and log1p(e) as log(u) + (e - (u - 1)) / u for u = 1 + e: the correction puts back what
    rounding u lost (u - 1 is exact), and float64's log took 0.37 of its log1p on an AVX2 CPU
    (5.3 against 14.2 ms per 10^6). Every term is >= 0 but the correction, which is below an ulp
    of u: nothing cancels. -inf gives 0 + 0 = +0.0."""
    e = np.abs(w)
    np.negative(e, out=e)
    np.exp(e, out=e)
    u = np.add(e, 1.0)
    y = np.log(u)
    lost = np.subtract(u, 1.0)
    np.subtract(e, lost, out=lost)
    lost /= u
    y += lost
    y += _clip(w, 0.0)  # NaN stays
    return y


def _softplus_dash32(x: Array, beta: float) -> Array:
    """sigmoid(x) = 1 / (1 + e^-x) for beta = 1, in float32 (float16 in float32, rounded once),
    with no select, as a user writes it: NumPy's float32 exp (2.52 ulp at worst, on its AVX2
    path), 1 + e and the division round three times, and none of them cancels: within 4 ulp, the
    bound for a derivative whose condition number |x| (1 - s(x)) is at most 1 where no other
    rounding shrinks. e^-x overflows to inf below x = -88.7, where 1 / inf = 0 is within the
    underflow rule (s(x) < 2.7e-39); -inf gives +0.0, +inf 1. 0.31x float64 blocks' time on an AMD
    EPYC with AVX-512 (0.68 against 2.2 ms per 10^6); 3.37 ulp at worst over every float32 in
    [-2.5, 2.5] on its AVX2 and AVX-512 paths (0.84 of the bound)."""
    e = np.negative(x, dtype=np.float32)
    np.exp(e, out=e)
    e += 1.0
    return np.divide(1.0, e, out=e).astype(x.dtype, copy=False)


def _squareplus_dash(w: Array, b: float) -> Array:
    """(1 + w/s) / 2 = (s + w) / (2 s), s = sqrt(w^2 + b), with s + w = 2 max(w, 0) + b / (s + |w|)
    (for w < 0 it is b / (s - w)): no term cancels, and no select (the reference's picks a form by
    sign, with hypot). w clipped to +-1e150 (w^2 finite; +-inf gives 1 and +0.0)."""
    _clip(w, -1e150, 1e150)
    s = np.multiply(w, w)
    s += b
    np.sqrt(s, out=s)
    y = np.abs(w)
    y += s
    np.divide(b, y, out=y)
    w = _clip(w, 0.0)
    w *= 2.0
    y += w
    s *= 2.0
    return np.divide(y, s, out=y)


def _where_parameter(name: str, fast: Callable[..., Array], takes_fast: Callable[[Any], bool]) -> Callable[..., Array]:
    """``fast`` where ``takes_fast(parameter)`` holds for the function's one parameter, the
    reference body for other values of it."""
    reference_body = REFERENCE_KERNELS[name]

    def kernel(x: Array, parameter: Any, xp: ModuleType) -> Array:
        return (fast if takes_fast(parameter) else reference_body)(x, parameter, xp)

    return kernel


def _mish(w: Array) -> Array:
    """w n / (n + 2) with n = e (e + 2), e = exp(w): tanh(log1p(e)) = n / (n + 2), one exp where
    the reference's log1p, tanh and two exps took 1.8x the user's float32 formula on an AVX2 CPU.
    In float64, n / (n + 2) cannot cancel (n >= 0), and the float32 result rounds once. w floored
    at -1000 (mish(-inf) is -1000 * 0 = -0.0, as the reference's; mish is below every float32
    from -104 on) and capped at 300 inside exp, where n is finite and n / (n + 2) already 1."""
    _clip(w, -1000.0)  # NaN stays
    e = np.minimum(w, _wide(300.0, w.size))
    np.exp(e, out=e)
    n = np.add(e, 2.0)
    n *= e
    np.add(n, 2.0, out=e)  # e's memory: n + 2
    n /= e
    n *= w
    return n


def _mish_dash(w: Array) -> Array:
    """e (4 (1 + w) + e ((6 + 4w) + e (4 + e))) / d^2 with e = exp(w), d = e (e + 2) + 2: the
    reference's one denominator, here in float64 with no select, rounded once. Its only
    cancellation (near w = -1.9) is between terms that carry no rounded exp, where the condition
    number is large. w clipped to [-200, 40]: the float32 derivative is -0.0 below -104 (+0.0 once
    the kernel adds it), e^-200 is a normal float64 number (x86 takes a slow path for a subnormal
    one), and at 40 the quotient is 1 and e^4 finite."""
    _clip(w, -200.0, 40.0)  # NaN stays
    e = np.exp(w)
    q = np.multiply(w, 4.0, out=w)
    q += 4.0  # 4 (1 + w)
    top = np.add(e, 4.0)
    top *= e
    top += q
    top += 2.0  # 6 + 4w
    top *= e
    top += q
    top *= e
    d = np.add(e, 2.0, out=q)
    d *= e
    d += 2.0
    top /= d
    return np.divide(top, d, out=top)


def _squareplus(w: Array, b: float) -> Array:
    """max(w, 0) + (b/2) / (sqrt(w^2 + b) + |w|): (w + sqrt(w^2 + b)) / 2 rewritten so that
    neither term cancels, on either side of 0 (w^2 is exact for a float32 w, and cannot overflow)."""
    s = np.multiply(w, w)
    s += b
    np.sqrt(s, out=s)
    s += np.abs(w)
    np.divide(b / 2, s, out=s)
    s += _clip(w, 0.0)
    return s


# ---------------------------------------------------------------- exact GELU
#
# float16 and float32 in float64 blocks, rounded once, with the reference's erfc on NumPy
# (_reference.special.numpy_erfc: no where) cut at degree 9: a float32 result needs float64 only
# to about 2^-30, and the series' next term is below 1e-12 of erfc where float32's GELU is a
# normal number (|z| <= 9.2; beyond, it underflows). float64 takes the reference.

_ERFC_DEGREE = 9


def _gelu(w: Array, approximate: bool) -> Array:
    """x/2 erfc(-x/sqrt(2)), from x floored at -1000 in the factor (-inf * 0 would be NaN)."""
    y = numpy_erfc(w * (-1 / math.sqrt(2)), np, _ERFC_DEGREE)
    _clip(w, -1000.0)  # NaN stays
    w *= 0.5
    y *= w
    return y


def _gelu_dash(w: Array, approximate: bool) -> Array:
    """Phi(x) + x phi(x), x clipped to ±40 (phi is 0 beyond in float64; float32's f' is 0 below
    -14 and 1 above 6): -inf gives +0.0 + (-0.0)."""
    _clip(w, -40.0, 40.0)
    y = numpy_erfc(w * (-1 / math.sqrt(2)), np, _ERFC_DEGREE)
    y *= 0.5
    density = np.multiply(w, w)
    density *= -0.5
    np.exp(density, out=density)
    density *= w
    density *= 1 / math.sqrt(2 * math.pi)
    y += density
    return y


def _hard_sigmoid32(x: Array, out: Array) -> None:
    """clip(-3 - x, -6, 0) / -6 = min(max(x + 3, 0), 6) / 6 into out; +0.0 for x <= -3, NaN kept."""
    np.subtract(_F32[-3], x, out=out)
    np.clip(out, _F32[-6], _F32[0], out=out)
    out /= _F32[-6]


def _hard_swish32(x: Array) -> Array:
    """x hard_sigmoid(x) in float32 for float16 and float32 x (float16 rounded once at the end):
    g = clip(-3 - x, -6, 0) = -min(max(x + 3, 0), 6), then x (g / -6). Three roundings, 1.87 ulps
    at worst (the bound is 2); IEEE arithmetic, so every SIMD path gives the same bits. The signs
    are chosen so that no mask is needed: at x <= -3, x (+0.0 / -6) is the contract's +0.0, and
    for x >= 3 the factor is exactly 1 (x * 6 / 6 would overflow near float32's largest number).
    Only -inf needs more: -inf * -0.0 is NaN and raises IEEE's invalid flag, which NumPy reads
    after the loop -- the only product that can (the factor is finite or a quiet NaN from x), so a
    block that raises it multiplies again by max(x, -3), a fifth pass. Four passes a block at a
    time (peak memory: the output, and one block where -inf is): 0.84-0.93x the user's
    x * clip(x + 3, 0, 6) / 6 on an AVX2 machine (1.04-1.14x when every block first read its
    minimum to find -inf), against 3-5x for float64 blocks. NumPy's float32 maximum took 2.2x a
    two-sided clip there: the maxima are clips."""
    flat = x.reshape(-1)
    out = np.empty(flat.shape, np.float32)
    for start in range(0, flat.size, _SWISH_BLOCK):
        part = out[start : start + _SWISH_BLOCK]
        xs = flat[start : start + _SWISH_BLOCK]
        try:
            with np.errstate(invalid="raise"):
                _hard_sigmoid32(xs, part)
                part *= xs
        except FloatingPointError:  # -inf * -0.0 (or a signalling NaN): the factor, times max(x, -3)
            with np.errstate(invalid="ignore"):
                _hard_sigmoid32(xs, part)
                part *= np.clip(xs, _F32[-3], _F32[math.inf], dtype=np.float32)
    out = out.reshape(x.shape)
    return out if x.dtype == np.float32 else out.astype(x.dtype)


# 4 MiB of float32, in a shared cache. AVX2, 10^6: 0.84-0.93x the formula; 1 << 18 0.92-0.97x, 1 << 16 1.06-1.14x
_SWISH_BLOCK = 1 << 20
_F32 = {v: _constant(np.dtype(np.float32), v) for v in (-3, -6, 0, math.inf, -math.inf)}


def _on_arrays(name: str, kernel: Callable[..., Array], takes: Callable[[Array], bool]) -> Callable[..., Array]:
    """kernel(x, *parameters) on arrays of one dimension or more for which ``takes(x)`` holds, the
    reference (called with its namespace) elsewhere (0-d: its scalars)."""

    def on_arrays(x: Array, *args: Any) -> Array:
        return kernel(x, *args[:-1]) if x.ndim and takes(x) else REFERENCE_KERNELS[name](x, *args)

    return on_arrays


def _on_float_arrays(name: str, kernel: Callable[[Array], Array]) -> Callable[..., Array]:
    """kernel on floating arrays of one dimension or more, the reference elsewhere, with NumPy's
    invalid-operation warning as the reference gives it."""
    return _native_order(plain(_on_arrays(name, quiet(kernel, invalid="warn"), lambda x: x.dtype.kind == "f")))


def _hard_sigmoid(x: Array) -> Array:
    """The reference's (x + 3) / 6 with its two selects made a clip, as JAX's: x <= -3 gives
    x + 3 <= 0 and x >= 3 gives x + 3 >= 6 (the same roundings, so the same bits; NaN stays NaN).
    Three passes with no mask, where the selects branch on the data: on an AVX-512 Xeon, per
    262144 float32, 0.78 ms on N(0, 1) and 2.7 on N(0, 30^2) for the selects."""
    work = _hard_work(x)
    y = np.add(x, _constant(work, 3), dtype=work)
    np.clip(y, _constant(work, 0), _constant(work, 6), out=y)
    y /= _constant(work, 6)
    return y.astype(x.dtype, copy=False)


def _hard_work(x: Array) -> np.dtype:
    """The dtype the reference computes the hard functions in: float16 in float32, rounded once."""
    return np.dtype(np.float32) if x.dtype == np.float16 else x.dtype


def _hard_sigmoid_dash(x: Array) -> Array:
    """The reference's 0 where x <= -3 or x >= 3, 1/6 elsewhere (NaN too), as the flag's
    complement times 1/6 in x's dtype, not a select: +0.0 and 1/6 exactly."""
    outside = np.less_equal(x, _constant(x.dtype, -3))
    outside |= np.greater_equal(x, _constant(x.dtype, 3))
    return np.multiply(np.logical_not(outside, out=outside), _constant(x.dtype, 1 / 6), dtype=x.dtype)


def _hard_swish_dash(x: Array) -> Array:
    """The reference's (2 clip(x, -3, 3) + 3) / 6, times the complement of its flag (x <= -3 or
    x >= 3; NaN is inside), plus the upper flag: 0 below, 1 above, the same roundings between, not
    two selects. -0.5 * 0 + 0 is +0.0 at x <= -3; the middle piece is never -0.0."""
    work = _hard_work(x)
    y = np.multiply(np.clip(x, _constant(x.dtype, -3), _constant(x.dtype, 3)), _constant(work, 2), dtype=work)
    y += _constant(work, 3)
    y /= _constant(work, 6)
    upper = np.greater_equal(x, _constant(x.dtype, 3))
    inside = np.less_equal(x, _constant(x.dtype, -3))
    inside |= upper
    y *= np.logical_not(inside, out=inside)
    y += upper
    return y.astype(x.dtype, copy=False)


ELU = _elu_family("elu", lambda alpha: (alpha, 1.0, 1.0))
SELU = _elu_family("selu", lambda: (SELU_SCALE_ALPHA, SELU_SCALE, 1.0))
CELU = _elu_family("celu", lambda alpha: (alpha, 1.0, alpha))

KERNELS = {
    **REFERENCE_KERNELS,
    "relu": relu,
    "relu_dash": relu_dash,
    "elu": ELU[0],
    "elu_dash": ELU[1],
    "selu": SELU[0],
    "selu_dash": SELU[1],
    "celu": CELU[0],
    "celu_dash": CELU[1],
    "silu": _narrow("silu", lambda x, xp: _silu(x)),
    "silu_dash": _widened("silu_dash", _silu_dash, plus_zero=True),
    "squareplus": _widened("squareplus", _squareplus),
    "mish": _widened("mish", _mish),
    "mish_dash": _widened("mish_dash", _mish_dash, plus_zero=True),
    # softplus for beta 1 (for other betas e / beta may be normal where e underflows); exact GELU
    "softplus": _where_parameter("softplus", _widened("softplus", _softplus), lambda beta: beta == 1),
    "softplus_dash": _where_parameter(
        "softplus_dash",
        _native_order(plain(quiet(_on_arrays("softplus_dash", _softplus_dash32, _widens)))),
        lambda beta: beta == 1,
    ),
    "squareplus_dash": _widened("squareplus_dash", _squareplus_dash),
    "gelu": _where_parameter("gelu", _widened("gelu", _gelu), lambda approximate: not approximate),
    "gelu_dash": _where_parameter("gelu_dash", _widened("gelu_dash", _gelu_dash), lambda approximate: not approximate),
    "hard_swish": _native_order(plain(_on_arrays("hard_swish", _hard_swish32, _widens))),
    "hard_sigmoid": _on_float_arrays("hard_sigmoid", _hard_sigmoid),
    "hard_sigmoid_dash": _on_float_arrays("hard_sigmoid_dash", _hard_sigmoid_dash),
    "hard_swish_dash": _on_float_arrays("hard_swish_dash", _hard_swish_dash),
}

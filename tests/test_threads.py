"""Every function called from 8 threads at once gives the single-threaded answer: no cache or
fast path holds shared mutable state that a concurrent call could see half-made."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from helpers import expected_relu, expected_relu_dash, special_values

from anyrelu import _dispatch, relu, relu_dash
from anyrelu._kernels import numpy as numpy_kernels

THREADS = 8
CASES = [(leak, cap) for leak in (0.0, 0.1, 2.5, -0.3) for cap in (None, 6.0)]


def _hammer(make, to_numpy) -> None:
    """Run all cases in 8 threads that start together, with the caches emptied first."""
    _dispatch._BACKENDS.clear()
    numpy_kernels._FACTS.clear()
    values = {dtype: special_values(dtype) for dtype in ("float16", "float32", "float64")}
    barrier = threading.Barrier(THREADS)

    def work(seed: int) -> list[str]:
        barrier.wait()
        errors = []
        for i in range(20):
            dtype = ("float16", "float32", "float64")[(seed + i) % 3]
            leak, cap = CASES[(seed * 7 + i) % len(CASES)]
            x = make(values[dtype])
            for function, oracle in ((relu, expected_relu), (relu_dash, expected_relu_dash)):
                got = to_numpy(function(x, leak, max_value=cap))
                want = oracle(values[dtype], leak, cap)
                if not np.array_equal(got.view(f"u{got.itemsize}"), want.view(f"u{want.itemsize}")):
                    errors.append(f"{function.__name__} {dtype} leak={leak} cap={cap}")
        return errors

    with ThreadPoolExecutor(THREADS) as pool:
        failures = [error for errors in pool.map(work, range(THREADS)) for error in errors]
    assert failures == []


pytestmark = pytest.mark.thread_unsafe  # empties the process-wide caches


def test_numpy_from_eight_threads():
    _hammer(lambda v: v.copy(), lambda y: y)


def test_torch_from_eight_threads():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    _hammer(lambda v: torch.from_numpy(v.copy()), lambda y: y.numpy())

"""The backend matrix: every contract test runs on each backend below that is installed.

A test takes the ``backend`` fixture (or ``xp`` for its namespace) and builds its arrays with
``backend.asarray(numpy_array)``, so that the arrays land on the backend's device, read-only
where the backend is "numpy_readonly", chunked where it is Dask. Functions tagged with
``lazy_xp_function`` in a test module run under ``jax.jit`` on "jax_jit" and fail on Dask if
they compute anything.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import helpers
import numpy as np
import pytest
from array_api_extra.testing import patch_lazy_xp_functions


class Backend(enum.Enum):
    NUMPY = "numpy"
    NUMPY_READONLY = "numpy_readonly"
    ARRAY_API_STRICT = "array_api_strict"
    ARRAY_API_STRICTEST = "array_api_strictest"
    JAX = "jax"
    JAX_JIT = "jax_jit"
    TORCH = "torch"
    DASK = "dask"
    CUPY = "cupy"
    TORCH_CUDA = "torch_cuda"
    JAX_GPU = "jax_gpu"

    @property
    def module(self) -> str:
        return {
            "numpy": "numpy",
            "numpy_readonly": "numpy",
            "array_api_strict": "array_api_strict",
            "array_api_strictest": "array_api_strict",
            "jax": "jax",
            "jax_jit": "jax",
            "jax_gpu": "jax",
            "torch": "torch",
            "torch_cuda": "torch",
            "dask": "dask.array",
            "cupy": "cupy",
        }[self.value]

    @property
    def on_gpu(self) -> bool:
        return self in (Backend.CUPY, Backend.TORCH_CUDA, Backend.JAX_GPU)


def _gpu_missing(backend: Backend) -> str | None:
    """Why a GPU backend cannot run here, or None if it can."""
    try:
        if backend is Backend.CUPY:
            import cupy

            return None if cupy.cuda.runtime.getDeviceCount() > 0 else "no CUDA device"
        if backend is Backend.TORCH_CUDA:
            import torch

            return None if torch.cuda.is_available() else "no CUDA device for torch"
        if backend is Backend.JAX_GPU:
            import jax

            return None if jax.devices()[0].platform == "gpu" else "no GPU device for jax"
    except Exception as error:  # cupy without a driver raises CUDARuntimeError
        return f"no CUDA device ({type(error).__name__})"
    return None


class Arrays:
    """A backend under test: its namespace and how to put NumPy data on it."""

    def __init__(self, backend: Backend):
        self.backend = backend
        self.name = backend.value
        compat = importlib.import_module("array_api_compat")
        if backend.module == "jax":
            import jax

            jax.config.update("jax_enable_x64", True)
            self.xp: ModuleType = importlib.import_module("jax.numpy")
        else:
            self.xp = compat.array_namespace(self._raw(np.zeros(1)))
        self._flushes: dict[str, bool] = {}

    def flushes_subnormals(self, dtype: str) -> bool:
        """Whether this backend's arithmetic treats subnormals of that dtype as zero (DAZ/FTZ):
        XLA on CPU does so for float32/float64/bfloat16, by design. CuPy's own float32 ufuncs flush
        too, but anyrelu's CuPy kernels compare through the bits and compute in float64
        (anyrelu/_kernels/cupy.py), so their results keep subnormals: not a flushing backend."""
        if self.backend is Backend.CUPY:
            return False
        if dtype not in self._flushes:
            tiny = np.asarray(helpers.finfo(helpers.numpy_dtype(dtype)).smallest_subnormal)
            x = self.asarray(tiny.astype(np.float64), self.dtype(dtype))
            self._flushes[dtype] = not bool(self.to_numpy(x > 0.0))
        return self._flushes[dtype]

    def dtype(self, name: str) -> Any:
        """The backend's dtype of that name. bfloat16: torch's and JAX's own; NumPy (and Dask of
        NumPy) take ml_dtypes' (it comes with JAX); array-api-strict has none."""
        found = getattr(self.xp, name, None)
        if found is None and name == "bfloat16" and self.backend.module in ("numpy", "dask.array"):
            found = helpers.numpy_dtype(name)
        if found is None:
            pytest.skip(f"{self.name} has no {name} dtype")
        return found

    def _raw(self, values: np.ndarray) -> Any:
        b = self.backend
        if b in (Backend.NUMPY, Backend.NUMPY_READONLY):
            out = np.array(values)
            out.flags.writeable = b is Backend.NUMPY
            return out
        if b is Backend.DASK:
            import dask.array as da

            return da.from_array(values, chunks=tuple(max(1, (n + 2) // 3) for n in values.shape))
        if b.module == "torch":
            import torch

            return torch.from_numpy(np.array(values)).to("cuda" if b is Backend.TORCH_CUDA else "cpu")
        if b.module == "jax":
            import jax

            device = jax.devices("gpu" if b is Backend.JAX_GPU else "cpu")[0]
            return jax.device_put(values, device)
        return importlib.import_module(b.module).asarray(values)

    def asarray(self, values: Any, dtype: Any = None) -> Any:
        """NumPy data (or a nested list) as an array of this backend, in the given dtype."""
        values = np.asarray(values)
        if values.dtype.name == "bfloat16":  # exact in float32; the backend casts it back
            values = values.astype(np.float32)
        x = self._raw(values)
        if dtype is not None and x.dtype != dtype:
            x = self.xp.astype(x, dtype)
            if self.backend is Backend.NUMPY_READONLY:
                x.flags.writeable = False
        return x

    def to_numpy(self, x: Any) -> np.ndarray:
        """A NumPy copy of x; bfloat16 comes back as float32 (exactly)."""
        if hasattr(x, "compute"):
            x = x.compute()
        if self.backend.module == "torch":
            import torch

            x = x.detach().cpu()
            return (x.float() if x.dtype == torch.bfloat16 else x).numpy()
        if self.backend is Backend.CUPY:
            return x.get()
        if self.backend.module == "jax" and "bfloat16" in str(x.dtype):
            return np.asarray(x.astype("float32"))
        return np.asarray(x) if self.backend.module != "array_api_strict" else np.from_dlpack(x)


# Patching functions for jit/Dask and array-api-strict's flags are process-wide: those backends
# run on one thread under pytest-run-parallel.
_THREAD_UNSAFE = (Backend.JAX_JIT, Backend.DASK, Backend.ARRAY_API_STRICTEST)


@pytest.fixture(
    params=[pytest.param(b, marks=[pytest.mark.thread_unsafe] if b in _THREAD_UNSAFE else []) for b in Backend],
    ids=lambda b: b.value,
)
def backend(request: pytest.FixtureRequest) -> Iterator[Arrays]:
    b: Backend = request.param
    pytest.importorskip(b.module, reason=f"{b.module} is not installed")
    if b.on_gpu and (why := _gpu_missing(b)):
        pytest.skip(why)
    if b is Backend.ARRAY_API_STRICTEST:
        import array_api_strict

        with array_api_strict.ArrayAPIStrictFlags(boolean_indexing=False, data_dependent_shapes=False):
            yield Arrays(b)
        return
    arrays = Arrays(b)
    if b in (Backend.JAX_JIT, Backend.DASK):
        with patch_lazy_xp_functions(request, xp=arrays.xp):
            yield arrays
    else:
        yield arrays


@pytest.fixture
def xp(backend: Arrays) -> ModuleType:
    return backend.xp


# The long sweeps (pytest -m screen, CI's second step) also take these cross products, which the
# README's command leaves out:
# - the whole-range accuracy sweep of tests/test_rectifiers.py against mpmath on the CPU backends:
#   the per-path screen of tests/test_accuracy.py covers the same kernels there with far more
#   points (NumPy and array-api-strict on every SIMD path, Dask, torch on every ATen capability,
#   JAX; read-only arrays, array-api-strict's strictest flags and a jit around the call run the
#   same kernels). The GPU backends, which the screen does not reach, keep it in every run.
# - JAX's narrow dtypes (float16, bfloat16, int8, int16, uint8) in the ReLU family's contract
#   tests and the rest of the family's special points: each row is a compiled program of its own
#   (a second or so) that runs the jnp operations of the float32 or int32 row on another dtype;
#   NumPy and torch keep these rows in every run, and JAX keeps the rows whose point is the dtype's
#   own rounding (TestNumbersRoundOnce, TestZeroSlopeEntries, TestSubnormals).
# - NumPy's subclass test at 17000 elements (a block and a rest) with the leaks 2.5 and -0.3: the
#   blocked path of a number leak is the one 0.1 takes.
_JAX_NARROW_DTYPE_TESTS = ("TestThreshold", "TestJax", "TestSpecialValues", "TestDtypes", "TestSpecialPoints")
_JAX_NARROW_DTYPES = ("float16", "bfloat16", "int8", "int16", "uint8")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        param = getattr(item, "callspec", None)
        if param is None:
            continue
        backend = param.params.get("backend")
        if getattr(item, "originalname", None) == "test_accuracy_over_the_whole_range":
            if isinstance(backend, Backend) and not backend.on_gpu:
                item.add_marker(pytest.mark.screen)
        elif item.cls is not None and item.cls.__name__ in _JAX_NARROW_DTYPE_TESTS:
            jax = backend in (Backend.JAX, Backend.JAX_JIT) or item.cls.__name__ == "TestJax"
            if jax and param.params.get("dtype") in _JAX_NARROW_DTYPES:
                item.add_marker(pytest.mark.screen)
        elif (
            getattr(item, "originalname", None) == "test_subclasses_give_plain_ndarrays_on_every_path"
            and param.params["size"] == 17_000
            and param.params["leak"] in (2.5, -0.3)
        ):
            item.add_marker(pytest.mark.screen)

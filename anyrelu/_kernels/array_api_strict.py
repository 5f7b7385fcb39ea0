"""array-api-strict: the reference bodies, with NumPy's overflow warnings off where an IEEE
overflow is the answer (array-api-strict wraps NumPy): leak * x, and a float64 result rounded to
float32."""

from __future__ import annotations

from .._reference import REFERENCE
from .._reference import relu as reference
from .numpy import quiet

KERNELS = {
    **{name: quiet(body, invalid="warn") for name, body in REFERENCE.items()},
    "relu": quiet(reference.relu),  # the ReLU family: leak * x may overflow, and inf * 0 in a leak array
    "relu_dash": quiet(reference.relu_dash),
}

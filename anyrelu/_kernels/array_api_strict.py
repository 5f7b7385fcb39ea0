"""array-api-strict: the reference bodies, with NumPy's floating-point warnings off (it wraps NumPy)."""

from __future__ import annotations

from .._reference import REFERENCE
from .numpy import quiet

KERNELS = {name: quiet(body) for name, body in REFERENCE.items()}

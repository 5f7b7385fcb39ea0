"""``python -m anyrelu``: the lesson's two examples on every installed backend, side by side; then
what the lesson's ``np.where`` and anyrelu on each backend give at -0.0, -inf and NaN."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import __version__, relu, relu_dash
from .libraries import Library, available, to_numpy

EDGES = [-0.0, -np.inf, np.nan, np.inf]
LESSON = {  # the lesson's two functions, as it writes them
    "relu": lambda x, leak: np.where(x <= 0, leak * x, x),
    "relu_dash": lambda x, leak: np.where(x <= 0, leak, 1),
}
EXAMPLES = [
    ("the lesson's first example", [[0.11], [-2.2], [0], [50.2], [33.5], [-0.6]], 0.0),
    ("the lesson's second example, leak = 0.1", [[-0.5], [0], [1], [2], [3], [4.5]], 0.1),
]


def _number(value: float) -> str:
    """A short decimal; a zero prints as 0 whatever its sign."""
    return "0" if value == 0 else f"{value:.6g}"


def _call(library: Library, function: Callable[..., Any], x: Any, leak: float) -> Any:
    if library.name == "jax":  # show that it runs inside jax.jit
        import jax

        return jax.jit(lambda v: function(v, leak=leak))(x)
    return function(x, leak=leak)


def _names(found: list[Library]) -> list[str]:
    return [library.name + (" (jit)" if library.name == "jax" else "") for library in found]


def _table(labels: list[str], names: list[str], columns: list[list[str]]) -> list[str]:
    """Rows labelled by x's values, one right-aligned column per backend."""
    width = max(1, *(len(label) for label in labels))
    widths = [max(len(name), *(len(v) for v in column)) for name, column in zip(names, columns, strict=True)]
    rows = [("x", names), *((label, [column[i] for column in columns]) for i, label in enumerate(labels))]
    return ["  " + label.rjust(width) + " | " + "  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True))
            for label, cells in rows]  # fmt: skip


def lines() -> list[str]:
    """The report, line by line."""
    found, missing = available()
    out = [f"relu and relu_dash on {len(found)} backend(s)", ""]
    for title, values, leak in EXAMPLES:
        x = np.asarray(values)
        for function in (relu, relu_dash):
            call = f"{function.__name__}(x)" if leak == 0 else f"{function.__name__}(x, leak = {leak})"
            out.append(f"{call}  -- {title}")
            columns = [
                [_number(v) for v in to_numpy(_call(library, function, library.to_array(x), leak)).ravel()]
                for library in found
            ]
            out += _table([_number(v) for v in x.ravel()], _names(found), columns)
            agree = all(column == columns[0] for column in columns)
            if len(columns) > 1:
                out.append(f"  {'all backends agree' if agree else 'BACKENDS DISAGREE'}")
            out.append("")
    if any(library.name == "jax" for library in found) and not _jax_x64():
        out += ["jax computes this float64 input in float32: JAX's 64-bit mode is off", ""]
    out += edge_lines(found)
    out += family_lines(found)
    out.append("Available: " + ", ".join(library.name for library in found))
    for name, reason in missing.items():
        out.append(f"Missing: {name}: {reason}")
    return out


def _exact(value: Any) -> str:
    """A value with its sign: -0.0 prints as -0.0, so that the sign of a zero shows; integers as such."""
    if isinstance(value, np.integer):
        return str(int(value))
    return repr(float(value)) if value == 0 else _number(value)


def edge_lines(found: list[Library]) -> list[str]:
    """The lesson's np.where beside anyrelu on each backend, at the values where they differ."""
    x = np.array(EDGES)
    out = ["At -0.0, -inf, NaN and inf: the lesson's np.where beside anyrelu", ""]
    for function in (relu, relu_dash):
        with np.errstate(invalid="ignore"):  # the lesson's 0 * -inf is NaN, with a warning
            results = [LESSON[function.__name__](x, 0)]
        results += [to_numpy(_call(library, function, library.to_array(x), 0.0)) for library in found]
        columns = [[_exact(v) for v in result] + [str(result.dtype)] for result in results]
        out.append(f"{function.__name__}(x)")
        out += _table([*(_exact(v) for v in x), "dtype"], ["lesson", *_names(found)], columns)
        out.append("")
    out.append("anyrelu: relu(-inf) is 0, not NaN, with no warning; relu(-0.0) is +0.0;")
    out.append("relu_dash has x's dtype, not int64.")
    out.append("")
    return out


def _jax_x64() -> bool:
    import jax

    return bool(jax.config.read("jax_enable_x64"))


FAMILY_EDGES = [-np.inf, -0.0, np.nan, -10.0]
FAMILY = ("gelu", "silu", "mish", "softplus")


def family_lines(found: list[Library]) -> list[str]:
    """The rest of the family at the edges, float32: anyrelu beside jax.nn and torch's F."""
    import anyrelu

    names = {library.name for library in found}
    x = np.array(FAMILY_EDGES, dtype=np.float32)
    peers: dict[str, Callable[[str], Any]] = {}
    if "jax" in names:
        import jax.nn
        import jax.numpy as jnp

        exact = {"gelu": {"approximate": False}}  # jax.nn.gelu's default is the tanh form
        peers["jax.nn"] = lambda name: np.asarray(getattr(jax.nn, name)(jnp.asarray(x), **exact.get(name, {})))
    if "torch" in names:
        import torch
        import torch.nn.functional as F

        peers["torch F"] = lambda name: getattr(F, name)(torch.from_numpy(x.copy())).numpy()
    out = ["The rest of the family at the edges, float32: anyrelu beside the peers", ""]
    for name in FAMILY:
        with np.errstate(all="ignore"):
            results = [getattr(anyrelu, name)(x)] + [peer(name) for peer in peers.values()]
        out.append(f"{name}(x)")
        out += _table([_exact(v) for v in x], ["anyrelu", *peers], [[_exact(v) for v in r] for r in results])
        out.append("")
    out.append("anyrelu: the limits at -inf (never NaN), no 1 + erf or 1 - sigmoid cancelling")
    out.append("in the tail (gelu(-10) is -7.6e-23, not 0), no threshold switch in softplus.")
    out.append("")
    return out


def main() -> int:
    print(f"anyrelu {__version__}: looking for the array libraries ...", flush=True)  # imports take seconds
    print("\n".join(lines()))
    return 0

"""``python -m anyrelu plot [NAME] -o FILE``: a function and its derivative, as the lesson draws them.

``relu`` (the default) draws the lesson's figure: ReLU and Leaky ReLU, and their derivatives.
Any other name draws that function and its derivative. Where the derivative jumps, a filled dot
marks the value taken at the kink and an open dot the limit from the other side, so the
``x <= kink`` convention (and ``x >= upper kink``) is visible.
"""

from __future__ import annotations

import itertools
import sys
from typing import Any

import numpy as np

import anyrelu

FORMATS = (".png", ".svg", ".pdf")

# The kinks (where a derivative jumps) and the x range drawn, per function.
KINKS = {"relu6": (0.0, 6.0), "elu": (0.0,), "selu": (0.0,), "hard_sigmoid": (-3.0, 3.0), "hard_swish": (-3.0, 3.0)}
RANGES = {"relu6": (-2.0, 8.0), "hard_sigmoid": (-5.0, 5.0), "hard_swish": (-5.0, 5.0)}
NAMES = ("relu", "leaky_relu", "relu6", "elu", "selu", "celu", "gelu", "silu", "softplus", "mish", "hard_sigmoid",
         "hard_swish", "squareplus")  # fmt: skip


LEAK_DEFAULTS = {"relu": 0.1, "leaky_relu": 0.01}  # the lesson's figure draws leak 0.1; leaky_relu's own default


def figure(name: str = "relu", leak: float | None = None) -> Any:
    """The two-panel matplotlib figure: the function, and its derivative. ``leak`` is the Leaky
    ReLU's slope, for relu (the lesson's figure, 0.1 unless given) and leaky_relu (its default
    0.01 unless given) only."""
    if leak is None:
        leak = LEAK_DEFAULTS.get(name, 0.0)
    elif name not in LEAK_DEFAULTS:
        raise ValueError("--leak is for relu and leaky_relu only")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # The two panels one above the other, 6 inches wide: on a phone the figure shrinks to the
    # screen's width and its text stays readable (side by side, 10 inches, it was 4 px high).
    with plt.rc_context({"font.size": 12}):
        fig, (values, slopes) = plt.subplots(2, 1, figsize=(6, 7), layout="constrained")
    if name == "relu":
        _lesson_panels(values, slopes, leak)
        fig.suptitle("The lines overlap for x > 0", fontsize=11, color="0.35")
    else:
        _function_panels(values, slopes, name, leak)
    for axes in (values, slopes):
        axes.axhline(0, color="0.6", lw=0.8)
        axes.axvline(0, color="0.6", lw=0.8)
        axes.grid(alpha=0.3)
        axes.legend(loc="upper left")
    return fig


def _lesson_panels(values: Any, slopes: Any, leak: float) -> None:
    x = np.linspace(-4.0, 4.0, 801)
    values.plot(x, anyrelu.relu(x, leak), color="tab:orange", lw=2.5, label=f"Leaky ReLU (leak = {leak:g})")
    values.plot(x, anyrelu.relu(x), color="tab:blue", lw=1.5, label="ReLU")
    values.set(title="ReLU and Leaky ReLU", xlabel="x", ylabel="relu(x)")
    for slope, color, width, label in ((leak, "tab:orange", 2.5, "Leaky ReLU'"), (0.0, "tab:blue", 1.5, "ReLU'")):
        _derivative(slopes, lambda v, s=slope: anyrelu.relu_dash(v, s), x, (0.0,), color, width, label)
    slopes.annotate(
        "at x = 0 the derivative is the leak\n(filled dot); x <= 0 is the leak side",
        xy=(0, leak),
        xytext=(-3.8, 0.45),
        arrowprops={"arrowstyle": "->", "color": "0.3"},
        fontsize=10,
    )
    slopes.set(title="Their derivatives", xlabel="x", ylabel="relu_dash(x)")
    _fit(slopes, [leak, 0.0, 1.0])


def _function_panels(values: Any, slopes: Any, name: str, leak: float) -> None:
    lo, hi = RANGES.get(name, (-4.0, 4.0))
    x = np.linspace(lo, hi, 801)
    function, dash = getattr(anyrelu, name), getattr(anyrelu, f"{name}_dash")
    if name == "leaky_relu":
        function, dash = (lambda v: anyrelu.leaky_relu(v, leak)), (lambda v: anyrelu.leaky_relu_dash(v, leak))
    kinks = KINKS.get(name, (0.0,) if name == "leaky_relu" else ())
    label = f"{name} (leak = {leak:g})" if name == "leaky_relu" else name
    values.plot(x, function(x), color="tab:blue", lw=2.0, label=label)
    values.set(title=name, xlabel="x", ylabel=f"{name}(x)")
    _derivative(slopes, dash, x, kinks, "tab:orange", 2.0, f"{name}_dash")
    slopes.set(title=f"{name}_dash, its derivative", xlabel="x", ylabel=f"{name}_dash(x)")
    _fit(values, function(x))
    _fit(slopes, dash(x))


def _derivative(axes: Any, dash: Any, x: np.ndarray, kinks: tuple[float, ...], color: str, width: float,
                label: str) -> None:  # fmt: skip
    """The derivative drawn piece by piece (no vertical line at a jump), with the kinks marked:
    a filled dot for the value taken at the kink, an open one for the limit from the other side."""
    edges = [-np.inf, *kinks, np.inf]
    for i, (left, right) in enumerate(itertools.pairwise(edges)):
        piece = x[(x > left) & (x < right)]
        axes.plot(piece, dash(piece), color=color, lw=width, label=label if i == 0 else None)
    for kink in kinks:
        near = np.array([np.nextafter(kink, -np.inf), kink, np.nextafter(kink, np.inf)])
        from_left, at, from_right = (float(v) for v in dash(near))
        axes.plot([kink], [at], "o", color=color, ms=7, zorder=3)
        for limit in {from_left, from_right} - {at}:
            axes.plot([kink], [limit], "o", color=color, mfc="white", ms=7, zorder=3)


def _fit(axes: Any, y: Any) -> None:
    """y limits that hold the data with a margin (fixed limits would cut a leak of 2 off)."""
    y = np.asarray(y, dtype=float)
    y = y[np.isfinite(y)]
    low, high = min(0.0, float(y.min())), max(1.0, float(y.max()))
    margin = 0.08 * (high - low)
    axes.set_ylim(low - margin, high + margin)


def main(output: str, name: str = "relu", leak: float | None = None) -> int:
    """Write the figure to ``output`` (the command line has checked its suffix and folder)."""
    try:
        fig = figure(name, leak)
    except ImportError:
        print("anyrelu plot needs matplotlib: pip install 'anyrelu[plot]'", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"anyrelu plot: {error} (see anyrelu plot --help)", file=sys.stderr)
        return 2
    fig.savefig(output, dpi=120)
    import matplotlib.pyplot as plt

    plt.close(fig)  # pyplot keeps every figure it made until it is closed
    print(f"wrote {output}")
    return 0

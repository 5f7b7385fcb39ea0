"""``python -m anyrelu plot -o FILE``: the lesson's figure, drawn by the library itself.

Two panels: ReLU and Leaky ReLU, and their derivatives. The derivative's value at 0 is marked,
so the x <= 0 convention is visible: a filled dot is the value taken at 0, an open dot the limit
from the right.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from .. import relu, relu_dash

FORMATS = (".png", ".svg", ".pdf")


def figure(leak: float = 0.1) -> Any:
    """The two-panel matplotlib figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.linspace(-4.0, 4.0, 801)
    fig, (values, slopes) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
    values.plot(x, relu(x, leak), color="tab:orange", lw=2.5, label=f"Leaky ReLU (leak = {leak:g})")
    values.plot(x, relu(x), color="tab:blue", lw=1.5, label="ReLU")
    values.set(title="ReLU and Leaky ReLU", xlabel="x", ylabel="relu(x)")

    negative, positive = x[x <= 0], x[x > 0]
    for slope, color, width, name in ((leak, "tab:orange", 2.5, "Leaky ReLU'"), (0.0, "tab:blue", 1.5, "ReLU'")):
        slopes.plot(negative, relu_dash(negative, slope), color=color, lw=width, label=name)
        slopes.plot(positive, relu_dash(positive, slope), color=color, lw=width)
        at_zero = float(relu_dash(np.zeros(1), slope)[0])
        slopes.plot([0], [at_zero], "o", color=color, ms=7, zorder=3)  # the value taken at 0
        slopes.plot([0], [1.0], "o", color=color, mfc="white", ms=7, zorder=3)  # the limit from the right
    slopes.annotate(
        "at x = 0 the derivative is the leak\n(filled dot); x <= 0 is the leak side",
        xy=(0, leak),
        xytext=(0.6, 0.35),
        arrowprops={"arrowstyle": "->", "color": "0.3"},
        fontsize=9,
    )
    slopes.set(title="Their derivatives", xlabel="x", ylabel="relu_dash(x)", ylim=(-0.1, 1.15))
    for axes in (values, slopes):
        axes.axhline(0, color="0.6", lw=0.8)
        axes.axvline(0, color="0.6", lw=0.8)
        axes.grid(alpha=0.3)
        axes.legend(loc="upper left")
    fig.suptitle("The lines overlap for x > 0", fontsize=10, color="0.35")
    return fig


def main(output: str, leak: float) -> int:
    path = Path(output)
    if path.suffix.lower() not in FORMATS:
        print(f"anyrelu plot: {output!r} must end in {', '.join(FORMATS)}", file=sys.stderr)
        return 2
    try:
        fig = figure(leak)
    except ImportError:
        print("anyrelu plot needs matplotlib: pip install 'anyrelu[plot]'", file=sys.stderr)
        return 1
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")
    return 0

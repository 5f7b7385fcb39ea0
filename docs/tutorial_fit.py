"""The tutorial's figure: its first two Python blocks run as written, then the fit drawn."""

import re
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

page = Path(sys.argv[0]).with_name("tutorial.md").read_text()  # the plot directive sets argv[0] to this file
blocks = re.findall(r"^```python\n(.*?)^```", page, re.M | re.S)
namespace: dict = {}
for block in blocks[:2]:
    exec(block, namespace)
X, y, trained, forward = namespace["X_np"], namespace["y_np"], namespace["trained"], namespace["forward"]
grid = np.linspace(-3, 3, 400)[:, None]
fig, axes = plt.subplots(figsize=(7, 3.6), layout="constrained")
axes.plot(X[:, 0], y[:, 0], ".", color="0.6", ms=4, label="data: sin(x) + noise")
axes.plot(grid[:, 0], np.sin(grid[:, 0]), color="0.3", lw=1, ls="--", label="sin(x)")
axes.plot(grid[:, 0], forward(trained, grid)[2][:, 0], color="tab:orange", lw=2.5, label="the trained network")
axes.set(xlabel="x", ylabel="y", title="32 Leaky ReLU units, 300 steps of hand-written backprop")
axes.legend(loc="upper left")

"""The documentation's code runs: every python block of the tutorial, in order, in one namespace."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).parent.parent / "docs"


def _python_blocks(page: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", (DOCS / page).read_text(), re.M | re.S)


def test_tutorial_trains_on_every_backend_and_matches_jax_grad(capsys):
    for needed in ("jax", "torch"):
        if importlib.util.find_spec(needed) is None:
            pytest.skip(f"the tutorial's later steps need {needed}")
    blocks = _python_blocks("tutorial.md")
    assert len(blocks) == 5
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "docs/tutorial.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "NumPy: loss" in out and "JAX:   loss" in out and "torch: loss" in out
    assert "hand-written gradients == jax.grad" in out

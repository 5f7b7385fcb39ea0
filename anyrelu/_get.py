"""``anyrelu.get(name)``: a function of the family by its name, for config-driven models."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any


def get(name: str) -> Callable[..., Any]:
    """The function of the family called ``name``, as ``keras.activations.get`` does for Keras'.

    Parameters
    ----------
    name : str
        A public function's name: ``"gelu"``, ``"gelu_dash"``, ``"leaky_relu"``, ...

    Returns
    -------
    callable
        That function, e.g. ``anyrelu.gelu``.

    Raises
    ------
    TypeError
        name is not a string.
    ValueError
        No function has that name; the message suggests the closest names.

    Examples
    --------
    >>> import numpy as np
    >>> import anyrelu
    >>> anyrelu.get("relu")(np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    import anyrelu

    if not isinstance(name, str):
        raise TypeError(f"get() needs name to be a string such as 'gelu', got {type(name).__name__} {name!r}.")
    names = [n for n in anyrelu.__all__ if n not in ("__version__", "get")]
    if name in names:
        return getattr(anyrelu, name)  # type: ignore[no-any-return]
    close = difflib.get_close_matches(name.lower(), names, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else f" The names: {', '.join(names)}."
    raise ValueError(f"get() knows no function {name!r}.{hint}")

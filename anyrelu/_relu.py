"""The ReLU family: relu, leaky_relu, relu6 and their derivatives.

The contract, stated once (docs/conventions.md has it as a table, with the reasons):

**x <= threshold (0 by default) is the leak side; with max_value, x >= max_value is the flat side;
everything else -- x above the threshold, and NaN, which is not <= anything -- is the identity side.**

======================  ===============================  ==========================
side                    relu                             relu_dash
======================  ===============================  ==========================
leak side (x <= t)      leak * (x - t), in x's dtype;    leak
                        +0.0 for a zero leak             (+0.0 for a zero leak)
identity side           x                                1
flat side (x >= cap)    max_value                        0
======================  ===============================  ==========================

Here: validation (``_checks.py``) and dispatch. The reference bodies are in
``_reference/relu.py``; each backend's kernels in ``_kernels/<backend>.py``.

The result has x's dtype, shape, device and library; x is never modified.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from . import _checks
from ._checks import Array
from ._dispatch import _BACKENDS, lookup, traced_by_torch

__all__ = ["leaky_relu", "leaky_relu_dash", "relu", "relu6", "relu6_dash", "relu_dash"]


def relu(
    x: Array,
    /,
    leak: float | Array = 0.0,
    *,
    max_value: float | None = None,
    threshold: float = 0.0,
    xp: ModuleType | None = None,
) -> Array:
    r"""Rectified linear unit, with an optional leak (Leaky ReLU, PReLU) and cap (ReLU6).

    .. math::

        \mathrm{relu}(x) = \begin{cases}
            \mathrm{max\_value}, & x \ge \mathrm{max\_value} \\
            \mathrm{leak} \cdot (x - t), & x \le t \\
            x, & \text{otherwise (including NaN)}
        \end{cases}

    with :math:`t` the ``threshold`` (by default 0). A zero leak gives exactly ``+0.0`` for every
    ``x <= threshold``, ``-0.0`` and ``-inf`` included. A non-zero leak gives ``leak * x`` with
    IEEE semantics, computed in x's dtype (``relu(-inf, 0.1) == -inf``,
    ``relu(-0.0, 0.1) == -0.0``). ``relu(nan) == nan``. Numbers (``leak``, ``max_value``,
    ``threshold``) are rounded once to x's dtype.

    Parameters
    ----------
    x : array
        Input array of a real floating or integer dtype, from any array-API library.
    leak : float or array, default 0.0
        Slope on the leak side. Any finite real number (negative and > 1 included), or an
        array from x's library that broadcasts to x's shape (PReLU). Integer x needs an
        integer-valued leak.
    max_value : float, optional
        The cap: a finite number > 0. ``x >= max_value`` gives ``max_value``.
    threshold : float, default 0.0
        The kink, as Keras' ``threshold``: a finite number below ``max_value``.
        ``x <= threshold`` gives ``leak * (x - threshold)``.
    xp : array namespace, optional
        x's namespace: the library's own module or array-api-compat's wrapper of it.

    Returns
    -------
    array
        Same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not an array of a real floating or integer dtype (or is a masked array or
        ``np.matrix``); a parameter is not a real number (or, for ``leak``, an array from x's
        library); integer x with a non-integer parameter; ``xp`` is not x's namespace.
    ValueError
        A parameter is not finite or does not fit x's dtype; ``max_value <= 0``;
        ``threshold >= max_value``; an array leak on another device, or one that does not
        broadcast to x's shape.

    See Also
    --------
    relu_dash : the derivative, with the convention ``relu_dash(0) == leak``.
    leaky_relu, relu6

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import relu
    >>> relu(np.array([-2.0, -0.0, 0.5, np.inf, np.nan]))
    array([0. , 0. , 0.5, inf, nan])
    >>> relu(np.array([-0.5, 0.0, 1.0]), leak=0.1)
    array([-0.05,  0.  ,  1.  ])
    >>> relu(np.array([-1.0, 3.0, 9.0], dtype=np.float32), max_value=6)
    array([0., 3., 6.], dtype=float32)
    """
    return _apply("relu", x, leak, max_value, threshold, xp)


def relu_dash(
    x: Array,
    /,
    leak: float | Array = 0.0,
    *,
    max_value: float | None = None,
    threshold: float = 0.0,
    xp: ModuleType | None = None,
) -> Array:
    r"""Derivative of :func:`relu` with respect to x.

    .. math::

        \mathrm{relu}'(x) = \begin{cases}
            0, & x \ge \mathrm{max\_value} \\
            \mathrm{leak}, & x \le t \\
            1, & \text{otherwise (including NaN)}
        \end{cases}

    At the kink we take ``relu_dash(0) == relu_dash(-0.0) == leak``: the lesson's ``x <= 0``
    decides, so the derivative is the slope of the side that 0 belongs to; likewise
    ``relu_dash(max_value) == 0``. ``jax.grad`` and torch autograd of :func:`relu` return
    exactly these values, bit for bit (the library's tests check it). A zero slope is ``+0.0``,
    also for a leak of ``-0.0``.

    Parameters
    ----------
    x : array
        Input array of a real floating or integer dtype.
    leak : float or array, default 0.0
        Slope on the leak side, as in :func:`relu`.
    max_value : float, optional
        The cap, as in :func:`relu`.
    threshold : float, default 0.0
        The kink, as in :func:`relu`.
    xp : array namespace, optional
        x's namespace, as in :func:`relu`.

    Returns
    -------
    array
        Same dtype (integer x gives integer 0/1/leak), shape, device and library as x.

    Raises
    ------
    TypeError, ValueError
        As :func:`relu`.

    See Also
    --------
    relu : the function.

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import relu_dash
    >>> relu_dash(np.array([-2.0, 0.0, 0.5, np.nan], dtype=np.float32))
    array([0., 0., 1., 1.], dtype=float32)
    >>> relu_dash(np.array([-0.5, 0.0, 1.0]), leak=0.1)
    array([0.1, 0.1, 1. ])
    """
    return _apply("relu_dash", x, leak, max_value, threshold, xp)


def leaky_relu(x: Array, /, leak: float | Array = 0.01, *, xp: ModuleType | None = None) -> Array:
    r"""Leaky ReLU: :func:`relu` with a default leak of 0.01.

    .. math::

        \mathrm{leaky\_relu}(x) = \begin{cases} \mathrm{leak} \cdot x, & x \le 0 \\
        x, & \text{otherwise} \end{cases}

    Parameters
    ----------
    x : array
        Input array of a real floating or integer dtype, from any array-API library.
    leak : float or array, default 0.01
        Slope on the leak side: a finite real number, or an array from x's library that
        broadcasts to x's shape (PReLU).
    xp : array namespace, optional
        x's namespace: the library's own module or array-api-compat's wrapper of it.

    Returns
    -------
    array
        Same dtype, shape, device and library as x.

    Raises
    ------
    TypeError, ValueError
        As :func:`relu`: x is not a real array, or a parameter is not a finite number or an
        array leak that fits x.

    See Also
    --------
    leaky_relu_dash : the derivative.
    relu : the general form (cap, threshold).

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import leaky_relu
    >>> leaky_relu(np.array([-100.0, 0.0, 2.0]))
    array([-1.,  0.,  2.])
    """
    return _apply("leaky_relu", x, leak, None, 0.0, xp)


def leaky_relu_dash(x: Array, /, leak: float | Array = 0.01, *, xp: ModuleType | None = None) -> Array:
    r"""Derivative of :func:`leaky_relu`: leak for x <= 0 (0 included), 1 otherwise.

    .. math::

        \mathrm{leaky\_relu}'(x) = \begin{cases} \mathrm{leak}, & x \le 0 \\
        1, & \text{otherwise} \end{cases}

    Parameters
    ----------
    x : array
        Input array of a real floating or integer dtype, from any array-API library.
    leak : float or array, default 0.01
        Slope on the leak side: a finite real number, or an array from x's library that
        broadcasts to x's shape (PReLU).
    xp : array namespace, optional
        x's namespace: the library's own module or array-api-compat's wrapper of it.

    Returns
    -------
    array
        The derivative at each element: same dtype, shape, device and library as x.

    Raises
    ------
    TypeError, ValueError
        As :func:`relu`: x is not a real array, or a parameter is not a finite number or an
        array leak that fits x.

    See Also
    --------
    leaky_relu : the function.

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import leaky_relu_dash
    >>> leaky_relu_dash(np.array([-100.0, 0.0, 2.0]))
    array([0.01, 0.01, 1.  ])
    """
    return _apply("leaky_relu_dash", x, leak, None, 0.0, xp)


def relu6(x: Array, /, *, xp: ModuleType | None = None) -> Array:
    r"""ReLU capped at 6: :func:`relu` with ``max_value=6``.

    .. math::

        \mathrm{relu6}(x) = \begin{cases} 0, & x \le 0 \\ 6, & x \ge 6 \\
        x, & \text{otherwise} \end{cases}

    Parameters
    ----------
    x : array
        Input array of a real floating or integer dtype, from any array-API library.
    xp : array namespace, optional
        x's namespace: the library's own module or array-api-compat's wrapper of it.

    Returns
    -------
    array
        Same dtype, shape, device and library as x.

    Raises
    ------
    TypeError, ValueError
        As :func:`relu`: x is not a real array, or a parameter is not a finite number or an
        array leak that fits x.

    See Also
    --------
    relu6_dash : the derivative.
    relu : ``relu(x, max_value=m)`` caps at any m > 0.

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import relu6
    >>> relu6(np.array([-1.0, 3.0, 6.0, np.inf]))
    array([0., 3., 6., 6.])
    """
    return _apply("relu6", x, 0.0, _SIX, 0.0, xp)


def relu6_dash(x: Array, /, *, xp: ModuleType | None = None) -> Array:
    r"""Derivative of :func:`relu6`: 0 for x <= 0 or x >= 6, 1 in between (and at NaN).

    .. math::

        \mathrm{relu6}'(x) = \begin{cases} 0, & x \le 0 \text{ or } x \ge 6 \\
        1, & \text{otherwise} \end{cases}

    Parameters
    ----------
    x : array
        Input array of a real floating or integer dtype, from any array-API library.
    xp : array namespace, optional
        x's namespace: the library's own module or array-api-compat's wrapper of it.

    Returns
    -------
    array
        The derivative at each element: same dtype, shape, device and library as x.

    Raises
    ------
    TypeError, ValueError
        As :func:`relu`: x is not a real array, or a parameter is not a finite number or an
        array leak that fits x.

    See Also
    --------
    relu6 : the function.

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import relu6_dash
    >>> relu6_dash(np.array([-1.0, 0.0, 3.0, 6.0]))
    array([0., 0., 1., 0.])
    """
    return _apply("relu6_dash", x, 0.0, _SIX, 0.0, xp)


def _apply(func: str, x: Array, leak: Any, max_value: Any, threshold: Any, xp: Any) -> Array:
    """Validate the arguments of ``func`` (see _checks.py) and run x's kernel for relu or relu_dash."""
    if traced_by_torch(x):  # torch.compile / torch.export: one call in the graph, run() below inside it
        from ._kernels.torch_graph import in_graph

        return in_graph("relu", func, x, (leak, max_value, threshold))
    # run() for the common calls on a float dtype seen before, kept short (a third of a call on 8
    # elements): threshold 0 and relu6's cap are valid for every float dtype; the leak is checked,
    # unless it is the default zero, which the backend's plain_relu may answer without a look-up.
    found = _BACKENDS.get(type(x))
    if (
        found is not None
        and xp is None
        and threshold.__class__ is float
        and threshold == 0.0
        and (max_value is None or max_value is _SIX)
    ):
        if found.plain_relu is not None and leak.__class__ is float and leak == 0.0 and func in _KERNEL:
            y = found.plain_relu(x, max_value)
            if y is not None:
                return y
        info = found.dtypes.get(x.dtype)
        if info is not None and info.is_float:
            leak = _checks.leak(func, leak, x, found.xp, info)
            return found.kernels[_KERNEL.get(func, "relu_dash")](x, leak, max_value, 0.0, found.xp)
    return run(func, x, leak, max_value, threshold, xp)


_SIX = 6.0  # relu6's cap as validation gives it for a float dtype (relu6 passes this object)


_KERNEL = {"relu": "relu", "leaky_relu": "relu", "relu6": "relu"}  # else relu_dash's


def run(func: str, x: Array, leak: Any, max_value: Any, threshold: Any, xp: Any) -> Array:
    """_apply's work: validation and x's kernel."""
    found, info = lookup(func, x, xp)
    leak = _checks.leak(func, leak, x, found.xp, info)
    if max_value is not None:
        max_value = _checks.max_value(func, max_value, info)
    if threshold.__class__ is not float or threshold != 0.0:  # the default, kept short
        threshold = _checks.threshold(func, threshold, info, max_value)
    return found.kernels[_KERNEL.get(func, "relu_dash")](x, leak, max_value, threshold, found.xp)

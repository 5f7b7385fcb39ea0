r"""The rest of the rectifier family: ELU, SELU, CELU, GELU, SiLU, softplus, Mish, hard sigmoid,
hard swish and squareplus, each with its derivative (``*_dash``, same signature).

The contract, stated once (docs/conventions.md has it as tables, with the reasons):

- **Pieces and kinks: the lesson's rule.** A piecewise function tests x itself: ``x <= kink``
  is the lower piece, ``x >= upper kink`` the upper piece. So ``elu_dash(0) == alpha``,
  ``selu_dash(0) == scale * alpha``, ``celu_dash(0) == 1``, ``hard_sigmoid_dash(±3) == 0``,
  ``hard_swish_dash(-3) == 0``, ``hard_swish_dash(3) == 1``.
- **NaN** fails every comparison, so it lands in the piece no test claims: f(NaN) is NaN, f'(NaN)
  is that piece's slope -- 1 (elu, celu), scale (selu), 1/6 (hard_sigmoid) -- and NaN for
  hard_swish and the smooth functions (gelu, silu, softplus, mish, squareplus).
- **Infinities give the limits, never NaN:** f(-inf) is -alpha (elu, celu), -scale*alpha (selu),
  a zero otherwise (-0.0 for gelu, silu and mish, which approach it from below; +0.0 for the
  others); f(+inf) is +inf (hard_sigmoid: 1); f'(-inf) is 0 and f'(+inf) is 1 (selu: scale;
  hard_sigmoid: 0). f(+0.0) is +0.0 where f(0) = 0.
- **Accuracy**: within 2 ulp (float32) and 4 ulp (float64) of the correctly rounded value, times
  max(1, |x f'(x) / f(x)|); the derivatives within 4 and 8 ulp times max(1, |x f''(x) / f'(x)|);
  float16 and bfloat16 are computed in float32 and rounded once. The backends' own exp, expm1,
  log1p, tanh and erfc differ in the last bit, so the bits may differ between backends; the bound
  holds on all of them.
- x must be floating (integer x is a TypeError that says how to convert); ``alpha``, ``beta`` and
  ``b`` are finite numbers, rounded once to the working dtype.

Here: docstrings, validation and dispatch. The reference bodies are in
``_reference/rectifiers.py``; each backend's kernels in ``_kernels/<backend>.py``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from . import _checks
from ._checks import Array
from ._dispatch import lookup, traced_by_torch

__all__ = [
    "celu", "celu_dash", "elu", "elu_dash", "gelu", "gelu_dash", "hard_sigmoid", "hard_sigmoid_dash",
    "hard_swish", "hard_swish_dash", "mish", "mish_dash", "selu", "selu_dash", "silu", "silu_dash",
    "softplus", "softplus_dash", "squareplus", "squareplus_dash",
]  # fmt: skip


def elu(x: Array, /, alpha: float = 1.0, *, xp: ModuleType | None = None) -> Array:
    r"""Exponential linear unit.

    .. math::

        \mathrm{elu}(x) = \begin{cases}
            \alpha \, (e^x - 1), & x \le 0 \\
            x, & \text{otherwise (including NaN)}
        \end{cases}

    ``elu(-inf) == -alpha``; ``alpha * expm1(x)`` keeps full accuracy near 0.

    Parameters
    ----------
    x : array
        A real floating array, from any array-API library.
    alpha : float, default 1.0
        The value at -inf is -alpha: a finite number, not 0.
    xp : array namespace, optional
        x's namespace: the library's own module or array-api-compat's wrapper of it.

    Returns
    -------
    array
        Same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array (integer x: convert it first); alpha is not a real number.
    ValueError
        alpha is 0, not finite, or does not fit x's dtype.

    See Also
    --------
    elu_dash, selu, celu

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import elu
    >>> elu(np.array([-np.inf, -1.0, 0.0, 2.0]))
    array([-1.        , -0.63212056,  0.        ,  2.        ])
    """
    return _apply("elu", x, xp, alpha=alpha)


def elu_dash(x: Array, /, alpha: float = 1.0, *, xp: ModuleType | None = None) -> Array:
    r"""Derivative of :func:`elu` with respect to x.

    .. math::

        \mathrm{elu}'(x) = \begin{cases}
            \alpha \, e^x, & x \le 0 \\
            1, & \text{otherwise (including NaN)}
        \end{cases}

    ``elu_dash(0) == alpha``: 0 is on the lower piece. Computed as ``alpha * exp(x)``, not
    ``expm1(x) + 1``, so the tail (x < -17 in float32) is not lost.

    Parameters
    ----------
    x : array
        A real floating array, from any array-API library.
    alpha : float, default 1.0
        The value at -inf is -alpha: a finite number, not 0.
    xp : array namespace, optional
        x's namespace: the library's own module or array-api-compat's wrapper of it.

    Returns
    -------
    array
        The derivative of :func:`elu` at each element: same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array (integer x: convert it first); alpha is not a real number.
    ValueError
        alpha is 0, not finite, or does not fit x's dtype.

    See Also
    --------
    elu : the function.

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import elu_dash
    >>> elu_dash(np.array([-np.inf, -20.0, 0.0, 2.0, np.nan]), alpha=0.5)
    array([0.00000000e+00, 1.03057681e-09, 5.00000000e-01, 1.00000000e+00,
           1.00000000e+00])
    """
    return _apply("elu_dash", x, xp, alpha=alpha)


def selu(x: Array, /, *, xp: ModuleType | None = None) -> Array:
    r"""Scaled exponential linear unit, with the constants of Klambauer et al. (2017).

    .. math::

        \mathrm{selu}(x) = \begin{cases}
            \lambda\alpha \, (e^x - 1), & x \le 0 \\
            \lambda x, & \text{otherwise (including NaN)}
        \end{cases}

    with :math:`\alpha = 1.6732632423543772848\ldots`, :math:`\lambda = 1.0507009873554804934\ldots`
    and their product :math:`\lambda\alpha = 1.7580993408473768599\ldots` rounded once to x's
    dtype, so ``selu(-inf)`` is exactly ``-λα`` rounded.

    Parameters
    ----------
    x : array
        A real floating array.
    xp : array namespace, optional
        x's namespace.

    Returns
    -------
    array
        Same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array.

    See Also
    --------
    selu_dash, elu

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import selu
    >>> selu(np.array([-np.inf, -1.0, 0.0, 1.0]))
    array([-1.75809934, -1.11133074,  0.        ,  1.05070099])
    """
    return _apply("selu", x, xp)


def selu_dash(x: Array, /, *, xp: ModuleType | None = None) -> Array:
    r"""Derivative of :func:`selu` with respect to x.

    .. math::

        \mathrm{selu}'(x) = \begin{cases}
            \lambda\alpha \, e^x, & x \le 0 \\
            \lambda, & \text{otherwise (including NaN)}
        \end{cases}

    ``selu_dash(0) == λα``. Errors are those of :func:`selu`.

    Parameters
    ----------
    x : array
        A real floating array.
    xp : array namespace, optional
        x's namespace.

    Returns
    -------
    array
        The derivative of :func:`selu` at each element: same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array.

    See Also
    --------
    selu : the function.

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import selu_dash
    >>> selu_dash(np.array([-np.inf, 0.0, 1.0, np.nan]))
    array([0.        , 1.75809934, 1.05070099, 1.05070099])
    """
    return _apply("selu_dash", x, xp)


def celu(x: Array, /, alpha: float = 1.0, *, xp: ModuleType | None = None) -> Array:
    r"""Continuously differentiable exponential linear unit.

    .. math::

        \mathrm{celu}(x) = \begin{cases}
            \alpha \, (e^{x/\alpha} - 1), & x \le 0 \\
            x, & \text{otherwise (including NaN)}
        \end{cases}

    Parameters
    ----------
    x : array
        A real floating array.
    alpha : float, default 1.0
        A finite number > 0; ``celu(-inf) == -alpha``.
    xp : array namespace, optional
        x's namespace.

    Returns
    -------
    array
        Same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array; alpha is not a real number.
    ValueError
        alpha is not a finite number > 0 in x's dtype.

    See Also
    --------
    celu_dash, elu

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import celu
    >>> celu(np.array([-np.inf, -1.0, 0.0, 2.0]), alpha=2.0)
    array([-2.        , -0.78693868,  0.        ,  2.        ])
    """
    return _apply("celu", x, xp, alpha=alpha)


def celu_dash(x: Array, /, alpha: float = 1.0, *, xp: ModuleType | None = None) -> Array:
    r"""Derivative of :func:`celu` with respect to x.

    .. math::

        \mathrm{celu}'(x) = \begin{cases}
            e^{x/\alpha}, & x \le 0 \\
            1, & \text{otherwise (including NaN)}
        \end{cases}

    ``celu_dash(0) == 1``.

    Parameters
    ----------
    x : array
        A real floating array.
    alpha : float, default 1.0
        A finite number > 0; ``celu(-inf) == -alpha``.
    xp : array namespace, optional
        x's namespace.

    Returns
    -------
    array
        The derivative of :func:`celu` at each element: same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array; alpha is not a real number.
    ValueError
        alpha is not a finite number > 0 in x's dtype.

    See Also
    --------
    celu : the function.

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import celu_dash
    >>> celu_dash(np.array([-np.inf, -1.0, 0.0, 2.0]), alpha=2.0)
    array([0.        , 0.60653066, 1.        , 1.        ])
    """
    return _apply("celu_dash", x, xp, alpha=alpha)


def gelu(x: Array, /, *, approximate: bool = False, xp: ModuleType | None = None) -> Array:
    r"""Gaussian error linear unit.

    .. math::

        \mathrm{gelu}(x) = x \, \Phi(x) = \frac{x}{2} \operatorname{erfc}\!\left(-\frac{x}{\sqrt 2}\right)

    or, with ``approximate=True``,

    .. math::

        \mathrm{gelu}(x) = \frac{x}{2}\left(1 + \tanh u\right),
        \quad u = \sqrt{2/\pi}\,(x + 0.044715\,x^3)

    The exact form is the default, as in PyTorch and Keras (``jax.nn.gelu`` defaults to the tanh
    form). Both are computed without the cancellation of ``1 + erf`` or ``1 + tanh`` for x < 0:
    ``gelu(-10)`` is ``-7.6e-23``, not 0. ``gelu(-inf) == -0.0``, ``gelu(inf) == inf``.

    Parameters
    ----------
    x : array
        A real floating array.
    approximate : bool, default False
        Use the tanh form.
    xp : array namespace, optional
        x's namespace.

    Returns
    -------
    array
        Same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array; approximate is not a bool.

    See Also
    --------
    gelu_dash, silu

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import gelu
    >>> gelu(np.array([-np.inf, -10.0, -1.0, 0.0, 1.0, np.inf]))
    array([-0.00000000e+00, -7.61985302e-23, -1.58655254e-01,  0.00000000e+00,
            8.41344746e-01,             inf])
    """
    return _apply("gelu", x, xp, approximate=approximate)


def gelu_dash(x: Array, /, *, approximate: bool = False, xp: ModuleType | None = None) -> Array:
    r"""Derivative of :func:`gelu` with respect to x.

    .. math::

        \mathrm{gelu}'(x) = \Phi(x) + x\,\varphi(x)

    with :math:`\varphi` the standard normal density; or, with ``approximate=True``,

    .. math::

        \mathrm{gelu}'(x) = s + 2x\,u'\,s\,(1 - s), \quad s = \sigma(2u),

        u = \sqrt{2/\pi}\,(x + 0.044715\,x^3), \quad u' = \sqrt{2/\pi}\,(1 + 0.134145\,x^2)

    Parameters
    ----------
    x : array
        A real floating array.
    approximate : bool, default False
        Use the tanh form.
    xp : array namespace, optional
        x's namespace.

    Returns
    -------
    array
        The derivative of :func:`gelu` at each element: same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array; approximate is not a bool.

    See Also
    --------
    gelu : the function.

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import gelu_dash
    >>> gelu_dash(np.array([-np.inf, -1.0, 0.0, 1.0, np.inf]))
    array([ 0.        , -0.08331547,  0.5       ,  1.08331547,  1.        ])
    """
    return _apply("gelu_dash", x, xp, approximate=approximate)


def silu(x: Array, /, *, xp: ModuleType | None = None) -> Array:
    r"""Sigmoid linear unit (swish with beta = 1).

    .. math::

        \mathrm{silu}(x) = x \, \sigma(x) = \frac{x}{1 + e^{-x}}

    ``silu(-inf) == -0.0`` (the lesson-style ``x / (1 + exp(-x))`` gives NaN there, and
    overflows in ``exp`` on the way).

    Parameters
    ----------
    x : array
        A real floating array.
    xp : array namespace, optional
        x's namespace.

    Returns
    -------
    array
        Same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array.

    See Also
    --------
    silu_dash, gelu, mish

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import silu
    >>> silu(np.array([-np.inf, -1.0, 0.0, 1.0, np.inf]))
    array([-0.        , -0.26894142,  0.        ,  0.73105858,         inf])
    """
    return _apply("silu", x, xp)


def silu_dash(x: Array, /, *, xp: ModuleType | None = None) -> Array:
    r"""Derivative of :func:`silu` with respect to x.

    .. math::

        \mathrm{silu}'(x) = \sigma(x) \, \bigl(1 + x\,(1 - \sigma(x))\bigr)

    Errors are those of :func:`silu`.

    Parameters
    ----------
    x : array
        A real floating array.
    xp : array namespace, optional
        x's namespace.

    Returns
    -------
    array
        The derivative of :func:`silu` at each element: same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array.

    See Also
    --------
    silu : the function.

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import silu_dash
    >>> silu_dash(np.array([-np.inf, -1.0, 0.0, 1.0, np.inf]))
    array([0.        , 0.07232949, 0.5       , 0.92767051, 1.        ])
    """
    return _apply("silu_dash", x, xp)


def softplus(x: Array, /, *, beta: float = 1.0, xp: ModuleType | None = None) -> Array:
    r"""Softplus, a smooth ReLU.

    .. math::

        \mathrm{softplus}(x) = \frac{1}{\beta} \log\bigl(1 + e^{\beta x}\bigr)

    Exact everywhere: no switch to ``x`` above a threshold (PyTorch's ``threshold=20`` makes the
    function go down at the switch in float64).

    Parameters
    ----------
    x : array
        A real floating array.
    beta : float, default 1.0
        A finite number > 0.
    xp : array namespace, optional
        x's namespace.

    Returns
    -------
    array
        Same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array; beta is not a real number.
    ValueError
        beta is not a finite number > 0 in x's dtype.

    See Also
    --------
    softplus_dash, squareplus

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import softplus
    >>> softplus(np.array([-np.inf, -40.0, 0.0, 20.5, np.inf]))
    array([0.00000000e+00, 4.24835426e-18, 6.93147181e-01, 2.05000000e+01,
                      inf])
    """
    return _apply("softplus", x, xp, beta=beta)


def softplus_dash(x: Array, /, *, beta: float = 1.0, xp: ModuleType | None = None) -> Array:
    r"""Derivative of :func:`softplus` with respect to x: the logistic sigmoid of beta x.

    .. math::

        \mathrm{softplus}'(x) = \sigma(\beta x) = \frac{1}{1 + e^{-\beta x}}

    Parameters
    ----------
    x : array
        A real floating array.
    beta : float, default 1.0
        A finite number > 0.
    xp : array namespace, optional
        x's namespace.

    Returns
    -------
    array
        The derivative of :func:`softplus` at each element: same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array; beta is not a real number.
    ValueError
        beta is not a finite number > 0 in x's dtype.

    See Also
    --------
    softplus : the function.

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import softplus_dash
    >>> softplus_dash(np.array([-np.inf, -1.0, 0.0, 1.0, np.inf]), beta=2.0)
    array([0.        , 0.11920292, 0.5       , 0.88079708, 1.        ])
    """
    return _apply("softplus_dash", x, xp, beta=beta)


def mish(x: Array, /, *, xp: ModuleType | None = None) -> Array:
    r"""Mish: x times the tanh of softplus(x).

    .. math::

        \mathrm{mish}(x) = x \tanh\bigl(\log(1 + e^x)\bigr)

    Computed with one ``exp``: :math:`\tanh(\log(1 + e^x)) = n / (n + 2)`, :math:`n = e^x (e^x + 2)`.
    ``mish(-inf) == -0.0``.

    Parameters
    ----------
    x : array
        A real floating array.
    xp : array namespace, optional
        x's namespace.

    Returns
    -------
    array
        Same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array.

    See Also
    --------
    mish_dash, silu, softplus

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import mish
    >>> mish(np.array([-np.inf, -1.0, 0.0, 1.0, np.inf]))
    array([-0.        , -0.30340146,  0.        ,  0.86509839,         inf])
    """
    return _apply("mish", x, xp)


def mish_dash(x: Array, /, *, xp: ModuleType | None = None) -> Array:
    r"""Derivative of :func:`mish` with respect to x.

    .. math::

        \mathrm{mish}'(x) = \tanh(\mathrm{sp}(x)) + x \, \operatorname{sech}^2(\mathrm{sp}(x)) \, \sigma(x),
        \qquad \mathrm{sp}(x) = \log(1 + e^x)

    Errors are those of :func:`mish`.

    Parameters
    ----------
    x : array
        A real floating array.
    xp : array namespace, optional
        x's namespace.

    Returns
    -------
    array
        The derivative of :func:`mish` at each element: same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array.

    See Also
    --------
    mish : the function.

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import mish_dash
    >>> mish_dash(np.array([-np.inf, -1.0, 0.0, 1.0, np.inf]))
    array([0.        , 0.05921676, 0.6       , 1.04903622, 1.        ])
    """
    return _apply("mish_dash", x, xp)


def hard_sigmoid(x: Array, /, *, xp: ModuleType | None = None) -> Array:
    r"""Hard sigmoid: relu6(x + 3) / 6.

    .. math::

        \mathrm{hard\_sigmoid}(x) = \begin{cases}
            0, & x \le -3 \\
            1, & x \ge 3 \\
            (x + 3) / 6, & \text{otherwise (including NaN)}
        \end{cases}

    The pieces test x itself, never a rounded ``x + 3``.

    Parameters
    ----------
    x : array
        A real floating array.
    xp : array namespace, optional
        x's namespace.

    Returns
    -------
    array
        Same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array.

    See Also
    --------
    hard_sigmoid_dash, hard_swish, relu6

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import hard_sigmoid
    >>> hard_sigmoid(np.array([-np.inf, -3.0, 0.0, 1.5, 3.0, np.inf]))
    array([0.  , 0.  , 0.5 , 0.75, 1.  , 1.  ])
    """
    return _apply("hard_sigmoid", x, xp)


def hard_sigmoid_dash(x: Array, /, *, xp: ModuleType | None = None) -> Array:
    r"""Derivative of :func:`hard_sigmoid` with respect to x.

    .. math::

        \mathrm{hard\_sigmoid}'(x) = \begin{cases}
            0, & x \le -3 \text{ or } x \ge 3 \\
            1/6, & \text{otherwise (including NaN)}
        \end{cases}

    1/6 is rounded to x's dtype (PyTorch gives float32's 1/6 in float64). Errors are those of
    :func:`hard_sigmoid`.

    Parameters
    ----------
    x : array
        A real floating array.
    xp : array namespace, optional
        x's namespace.

    Returns
    -------
    array
        The derivative of :func:`hard_sigmoid` at each element: same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array.

    See Also
    --------
    hard_sigmoid : the function.

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import hard_sigmoid_dash
    >>> hard_sigmoid_dash(np.array([-3.0, 0.0, 3.0, np.nan]))
    array([0.        , 0.16666667, 0.        , 0.16666667])
    """
    return _apply("hard_sigmoid_dash", x, xp)


def hard_swish(x: Array, /, *, xp: ModuleType | None = None) -> Array:
    r"""Hard swish: x times hard_sigmoid(x).

    .. math::

        \mathrm{hard\_swish}(x) = \begin{cases}
            0, & x \le -3 \\
            x, & x \ge 3 \\
            x (x + 3) / 6, & \text{otherwise (including NaN)}
        \end{cases}

    ``hard_swish(x) == x`` exactly for x >= 3 (no overflow, no rounding).

    Parameters
    ----------
    x : array
        A real floating array.
    xp : array namespace, optional
        x's namespace.

    Returns
    -------
    array
        Same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array.

    See Also
    --------
    hard_swish_dash, hard_sigmoid, silu

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import hard_swish
    >>> hard_swish(np.array([-np.inf, -3.0, -1.0, 0.0, 3.0, 1e300]))
    array([ 0.00000000e+000,  0.00000000e+000, -3.33333333e-001,
            0.00000000e+000,  3.00000000e+000,  1.00000000e+300])
    """
    return _apply("hard_swish", x, xp)


def hard_swish_dash(x: Array, /, *, xp: ModuleType | None = None) -> Array:
    r"""Derivative of :func:`hard_swish` with respect to x.

    .. math::

        \mathrm{hard\_swish}'(x) = \begin{cases}
            0, & x \le -3 \\
            1, & x \ge 3 \\
            (2x + 3) / 6, & \text{otherwise (NaN at NaN)}
        \end{cases}

    ``hard_swish_dash(-3) == 0`` and ``hard_swish_dash(3) == 1``: each kink belongs to its outer
    piece. Errors are those of :func:`hard_swish`.

    Parameters
    ----------
    x : array
        A real floating array.
    xp : array namespace, optional
        x's namespace.

    Returns
    -------
    array
        The derivative of :func:`hard_swish` at each element: same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array.

    See Also
    --------
    hard_swish : the function.

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import hard_swish_dash
    >>> hard_swish_dash(np.array([-3.0, -1.5, 0.0, 3.0, np.nan]))
    array([0. , 0. , 0.5, 1. , nan])
    """
    return _apply("hard_swish_dash", x, xp)


def squareplus(x: Array, /, *, b: float = 4.0, xp: ModuleType | None = None) -> Array:
    r"""Squareplus (Barron 2021), a smooth ReLU made of a square root.

    .. math::

        \mathrm{squareplus}(x) = \frac{x + \sqrt{x^2 + b}}{2}

    Computed with ``hypot`` (no overflow) and, for x < 0, as ``(b/2) / (sqrt(x² + b) - x)``
    (no cancellation): ``squareplus(-1e10) == 1e-10``, ``squareplus(-inf) == 0``.

    Parameters
    ----------
    x : array
        A real floating array.
    b : float, default 4.0
        A finite number > 0; ``squareplus(0) == sqrt(b) / 2``.
    xp : array namespace, optional
        x's namespace.

    Returns
    -------
    array
        Same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array; b is not a real number.
    ValueError
        b is not a finite number > 0 in x's dtype.

    See Also
    --------
    squareplus_dash, softplus

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import squareplus
    >>> squareplus(np.array([-np.inf, -1e10, 0.0, 2.0, np.inf]))
    array([0.00000000e+00, 1.00000000e-10, 1.00000000e+00, 2.41421356e+00,
                      inf])
    """
    return _apply("squareplus", x, xp, b=b)


def squareplus_dash(x: Array, /, *, b: float = 4.0, xp: ModuleType | None = None) -> Array:
    r"""Derivative of :func:`squareplus` with respect to x.

    .. math::

        \mathrm{squareplus}'(x) = \frac{1}{2}\left(1 + \frac{x}{\sqrt{x^2 + b}}\right)

    Parameters
    ----------
    x : array
        A real floating array.
    b : float, default 4.0
        A finite number > 0; ``squareplus(0) == sqrt(b) / 2``.
    xp : array namespace, optional
        x's namespace.

    Returns
    -------
    array
        The derivative of :func:`squareplus` at each element: same dtype, shape, device and library as x.

    Raises
    ------
    TypeError
        x is not a floating array; b is not a real number.
    ValueError
        b is not a finite number > 0 in x's dtype.

    See Also
    --------
    squareplus : the function.

    Examples
    --------
    >>> import numpy as np
    >>> from anyrelu import squareplus_dash
    >>> squareplus_dash(np.array([-np.inf, -2.0, 0.0, 2.0, np.inf]))
    array([0.        , 0.14644661, 0.5       , 0.85355339, 1.        ])
    """
    return _apply("squareplus_dash", x, xp, b=b)


_POSITIVE = {"beta", "b"}  # and celu's alpha; elu's alpha may be negative, never 0


def _apply(func: str, x: Array, xp: Any, **parameters: Any) -> Array:
    """Validate x and the parameters of ``func``, then run x's kernel for it."""
    if traced_by_torch(x):  # torch.compile / torch.export: one call in the graph, run() below inside it
        from ._kernels.torch_graph import in_graph

        return in_graph("rectifiers", func, x, tuple(parameters.items()))
    return run(func, x, xp, **parameters)


def run(func: str, x: Array, xp: Any, **parameters: Any) -> Array:
    """_apply's work: validation and x's kernel."""
    found, info = lookup(func, x, xp)
    if not info.is_float:
        raise TypeError(
            f"{func}() needs x of a real floating dtype, got dtype {x.dtype}. "
            f"Convert it first, e.g. {_checks.convert_advice(info.library)}."
        )
    values = [_parameter(func, name, value, info) for name, value in parameters.items()]
    return found.kernels[func](x, *values, found.xp)


def _parameter(func: str, name: str, value: Any, info: _checks.DtypeInfo) -> Any:
    if name == "approximate":
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{func}() needs approximate to be True or False, got {value!r}.")
        return bool(value)
    number = _checks.number(func, name, value, info)
    positive = name in _POSITIVE or func.startswith("celu")
    if number == 0 or (positive and number < 0):
        wanted = "a finite number > 0" if positive else "a finite number other than 0"
        flushed = ""
        if number == 0 and value != 0 and info.flushes:
            flushed = (
                f" {value!r} is subnormal in {info.name}, which {info.library} treats as zero (it flushes "
                f"subnormal numbers): use at least {info.smallest_normal:.8g} in magnitude."
            )
        raise ValueError(
            f"{func}() needs {name} to be {wanted} in x's dtype {info.name}, got {name}={value!r}.{flushed}"
        )
    return number

r"""The original collection's definitions of the functions we corrected, kept for the audit.

Each record here is named ``<name>_original`` and lives in its own registry (``ORIGINALS``), so it
never mixes with ``names()``. It reproduces the formula of Thevenot's ``pybenchfunction`` as the
paper ran it (the copy vendored in gbelouze/forward-gradient, ``benchmark/benchfunctions.py``),
vectorised over rows, and its *stated* minimum: the minimizer that ``get_global_minimum``
returns and the value the original formula takes there, which is what the paper used as
``f_star`` (target ``f_star + 0.1``). Where the original states no minimizer, or one of the wrong
length, ``minimum(d)`` raises :class:`UnknownMinimum` or returns NaN coordinates with the stated
value.
"""

import numpy as np

from . import fixed, scalable
from ._registry import (ORIGINALS, REGISTRY, UnknownMinimum, objective, prod, safe_norm,
                        safe_pow, safe_sqrt)


def _stated(name, x_star):
    """The original's stated minimizer and the original formula's value there."""
    x_star = np.asarray(x_star, float)
    return x_star, float(ORIGINALS[name].f(x_star))


def _same_tags(name):
    """The original flags (identical in both records)."""
    return REGISTRY[name].tags


def _xy(x):
    return x[..., 0], x[..., 1]


@objective(
    name="ackley_n2_original", dim=2, tags=_same_tags("ackley_n2"),
    bounds=(-32.0, 32.0), minimum=([0.0, 0.0], -200.0), smooth_at_minimum=False,
    registry=ORIGINALS, reference="[T] AckleyN2",
)
def _ackley_n2(xp, x):
    r"""Original Ackley N.2: :math:`-200 e^{-0.2\sqrt{x^2 + y^2}}` (the literature has 0.02)."""
    return -200.0 * xp.exp(-0.2 * safe_norm(xp, x))


@objective(
    name="ackley_n3_original", dim=2, tags=_same_tags("ackley_n3"),
    bounds=(-32.0, 32.0),
    minimum=lambda d: _stated("ackley_n3_original", [8.27712029e-10, -6.77344009e-03]),
    registry=ORIGINALS, reference="[T] AckleyN3",
)
def _ackley_n3(xp, x):
    r"""Original Ackley N.3: :math:`-200 e^{-0.2\sqrt{x^2 + y^2}} + 5 e^{\cos 3x + \sin 3y}`."""
    a, b = _xy(x)
    return -200.0 * xp.exp(-0.2 * safe_norm(xp, x)) + 5.0 * xp.exp(xp.cos(3 * a) + xp.sin(3 * b))


def _ackley_n4_stated(d):
    if d != 2:
        raise UnknownMinimum("ackley_n4_original: the original asserts d == 2 for its minimum")
    return _stated("ackley_n4_original", [1.50872976, -0.69893072])


@objective(
    name="ackley_n4_original", min_dim=2, tags=_same_tags("ackley_n4"),
    bounds=(-35.0, 35.0), minimum=_ackley_n4_stated, registry=ORIGINALS,
    reference="[T] AckleyN4",
)
def _ackley_n4(xp, x):
    r"""Original Ackley N.4: the partner of every :math:`x_i` is :math:`x_2`, and the 3 misses sin.

    .. math:: f(x) = \sum_{i=1}^{d-1} e^{-0.2}\sqrt{x_i^2 + x_2^2} + 3\cos 2x_i + \sin 2x_2
    """
    a, b = x[..., :-1], x[..., 1:2]
    return xp.sum(np.exp(-0.2) * safe_sqrt(xp, a * a + b * b) + 3 * xp.cos(2 * a) + xp.sin(2 * b),
                  axis=-1)


@objective(
    name="bohachevsky_n3_original", dim=2, tags=_same_tags("bohachevsky_n3"),
    bounds=(-50.0, 50.0), minimum=([0.0, 0.0], 0.0), registry=ORIGINALS,
    reference="[T] BohachevskyN3",
)
def _bohachevsky_n3(xp, x):
    r"""Original Bohachevsky N.3, with an extra factor :math:`\cos 4\pi y`."""
    a, b = _xy(x)
    return (a * a + 2 * b * b
            - 0.3 * xp.cos(3 * np.pi * a + 4 * np.pi * b) * xp.cos(4 * np.pi * b) + 0.3)


@objective(
    name="brown_original", min_dim=2, tags=_same_tags("brown"),
    bounds=(-1.0, 4.0), minimum=lambda d: (np.zeros(d), 0.0), registry=ORIGINALS,
    reference="[T] Brown",
)
def _brown(xp, x):
    r"""Original Brown: every :math:`x_i` is paired with :math:`x_2` instead of :math:`x_{i+1}`."""
    a, b = x[..., :-1] ** 2, x[..., 1:2] ** 2
    return xp.sum(scalable._power(xp, a, b + 1.0) + scalable._power(xp, b, a + 1.0), axis=-1)


@objective(
    name="de_jong_n5_original", dim=2, tags=_same_tags("de_jong_n5"),
    bounds=(-65.536, 65.536), minimum=lambda d: _stated("de_jong_n5_original", [-32.0, -32.0]),
    registry=ORIGINALS, reference="[T] DeJongN5",
)
def _de_jong_n5(xp, x):
    r"""Original De Jong N.5: foxhole i at :math:`(a_{\lfloor (i-1)/5\rfloor}, a_{(i-1) \bmod 5})`."""
    a, b = _xy(x)
    i = np.arange(1.0, 26.0)
    holes = i + (a[..., None] - fixed.DE_JONG_A2) ** 6 + (b[..., None] - fixed.DE_JONG_A1) ** 6
    return 1.0 / (0.002 + xp.sum(1.0 / holes, axis=-1))


@objective(
    name="deckkers_aarts_original", dim=2, tags=_same_tags("deckkers_aarts"),
    bounds=(-20.0, 20.0), minimum=lambda d: _stated("deckkers_aarts_original", [0.0, 15.0]),
    registry=ORIGINALS, reference="[T] DeckkersAarts",
)
def _deckkers_aarts(xp, x):
    r"""Original Deckkers-Aarts, missing a square: :math:`10^5x^2 + y^2 - (x^2 + y^2) + 10^{-5}(x^2 + y^2)^4`."""
    a, b = _xy(x)
    r2 = a * a + b * b
    return 1e5 * a * a + b * b - r2 + 1e-5 * r2**4


@objective(
    name="gramacy_lee_original", dim=1, tags=_same_tags("gramacy_lee"),
    bounds=(-0.5, 2.5), minimum=lambda d: _stated("gramacy_lee_original", [0.548563444114526]),
    registry=ORIGINALS, reference="[T] GramacyLee",
)
def _gramacy_lee(xp, x):
    r"""Original Gramacy & Lee: the same formula on the box [-0.5, 2.5] (lower points near 0.15)."""
    t = x[..., 0]
    return xp.sin(10.0 * np.pi * t) / (2.0 * t) + (t - 1.0) ** 4


@objective(
    name="happy_cat_original", tags=_same_tags("happy_cat"),
    bounds=(-2.0, 2.0), minimum=lambda d: (-np.ones(d), 0.0), smooth_at_minimum=False,
    registry=ORIGINALS, reference="[T] HappyCat",
)
def _happy_cat(xp, x):
    r"""Original HappyCat with :math:`\alpha = 1/2`: :math:`|\|x\|^2 - d| + \dots`."""
    d = x.shape[-1]
    s = xp.sum(x * x, axis=-1)
    return safe_pow(xp, (s - d) ** 2, 0.5) + (0.5 * s + xp.sum(x, axis=-1)) / d + 0.5


def _perm_d_beta_stated(d):
    raise UnknownMinimum("perm_d_beta_original: the original states the minimizer (1, ..., d-1), "
                         f"of length d - 1 = {d - 1}")


@objective(
    name="perm_d_beta_original", tags=_same_tags("perm_d_beta"),
    bounds=scalable._symmetric_box, minimum=_perm_d_beta_stated, registry=ORIGINALS,
    reference="[T] PermDBeta",
)
def _perm_d_beta(xp, x):
    r"""Original Perm d, beta: the same formula; its stated minimizer has d - 1 coordinates."""
    return scalable.perm_d_beta.f.__wrapped__(xp, x)


@objective(
    name="quartic_original", tags=_same_tags("quartic"),
    bounds=(-1.28, 1.28), minimum=lambda d: (np.zeros(d), 0.0), registry=ORIGINALS,
    noise=scalable._quartic_noise, requires_rng=True, reference="[T] Quartic",
)
def _quartic(xp, x):
    r"""Original Quartic: :math:`\sum_i i x_i^4 + \text{U}[0, 1)` drawn at every call (pass ``rng``)."""
    return scalable.quartic.f.__wrapped__(xp, x)


@objective(
    name="schaffer_n2_original", dim=2, tags=_same_tags("schaffer_n2"),
    bounds=(-4.0, 4.0), minimum=([0.0, 0.0], 0.0), registry=ORIGINALS,
    reference="[T] SchafferN2",
)
def _schaffer_n2(xp, x):
    r"""Original Schaffer N.2 with :math:`\sin^2(x^2 + y^2)` (radially symmetric)."""
    a, b = _xy(x)
    return fixed._schaffer(xp, x, xp.sin(a * a + b * b) ** 2)


@objective(
    name="schaffer_n3_original", dim=2, tags=_same_tags("schaffer_n3"),
    bounds=(-4.0, 4.0), minimum=lambda d: _stated("schaffer_n3_original", [0.0, 1.253114962205510]),
    registry=ORIGINALS, reference="[T] SchafferN3",
)
def _schaffer_n3(xp, x):
    r"""Original Schaffer N.3 with :math:`\sin^2(\cos|x^2 + y^2|)` (radially symmetric)."""
    a, b = _xy(x)
    return fixed._schaffer(xp, x, xp.sin(xp.cos(xp.abs(a * a + b * b))) ** 2)


@objective(
    name="shekel_original", dim=4, tags=_same_tags("shekel"),
    bounds=(-10.0, 10.0), minimum=([4.0, 4.0, 4.0, 4.0], -10.1532), registry=ORIGINALS,
    reference="[T] Shekel",
)
def _shekel(xp, x):
    r"""Original Shekel: indexes the coordinates by the term number, so it cannot be evaluated.

    The original computes ``sum((X[i] - C[i])**2 + beta[i])**-1`` for ``i`` in 0..9 on a point
    ``X`` of 4 coordinates; ``X[4]`` raises ``IndexError``. Its stated minimum, -10.1532, is the
    m = 5 value.
    """
    raise IndexError("shekel_original: the original reads coordinate x[i] for the i-th of 10 "
                     "terms of a 4-dimensional point (index 4 is out of bounds)")


@objective(
    name="shubert_original", tags=_same_tags("shubert"),
    bounds=(-10.0, 10.0), minimum=lambda d: (np.full(d, np.nan), -186.7309), registry=ORIGINALS,
    reference="[T] Shubert",
)
def _shubert(xp, x):
    r"""Original Shubert without the weight j: :math:`\prod_i \sum_j \cos((j+1)x_i + j)`.

    The original states :math:`f^* = -186.7309` (the weighted function's d = 2 value) and no
    minimizer; ``minimum(d)`` returns NaN coordinates with that value.
    """
    j = np.arange(1.0, 6.0)
    return prod(xp, xp.sum(xp.cos((j + 1.0) * x[..., None] + j), axis=-1))


def _length_two(name, point):
    def stated(d):
        if d != 2:
            raise UnknownMinimum(f"{name}: the original states the minimizer {tuple(point)} of "
                                 f"length 2 for every d, not a point of dimension {d}")
        return _stated(name, point)

    return stated


@objective(
    name="shubert_n3_original", tags=_same_tags("shubert_n3"),
    bounds=(-10.0, 10.0), minimum=_length_two("shubert_n3_original", [-7.4, -7.4]),
    registry=ORIGINALS, reference="[T] ShubertN3",
)
def _shubert_n3(xp, x):
    r"""Original Shubert N.3: the same formula; stated minimizer (-7.4, -7.4) whatever d."""
    return scalable.shubert_n3.f.__wrapped__(xp, x)


@objective(
    name="shubert_n4_original", tags=_same_tags("shubert_n4"),
    bounds=(-10.0, 10.0), minimum=_length_two("shubert_n4_original", [4.85, 4.85]),
    registry=ORIGINALS, reference="[T] ShubertN4",
)
def _shubert_n4(xp, x):
    r"""Original Shubert N.4: the same formula; stated minimizer (4.85, 4.85) whatever d."""
    return scalable.shubert_n4.f.__wrapped__(xp, x)


@objective(
    name="thevenot_original", tags=_same_tags("thevenot"),
    bounds=(-2 * np.pi, 2 * np.pi), minimum=lambda d: (np.zeros(d), -1.0), registry=ORIGINALS,
    reference="[T] Thevenot",
)
def _thevenot(xp, x):
    r"""Original Thevenot function: the same formula; stated minimum f(0) = -1 in every d."""
    return scalable.thevenot.f.__wrapped__(xp, x)


@objective(
    name="xin_she_yang_original", tags=_same_tags("xin_she_yang"),
    bounds=(-5.0, 5.0), minimum=lambda d: (np.zeros(d), 0.0), smooth_at_minimum=False,
    noise=scalable._xin_she_yang_noise, requires_rng=True, registry=ORIGINALS,
    reference="[T] XinSheYang",
)
def _xin_she_yang(xp, x):
    r"""Original Xin-She Yang: :math:`\sum_i \epsilon_i |x_i|^i`, fresh U[0, 1) weights per call."""
    return scalable.xin_she_yang.f.__wrapped__(xp, x)


@objective(
    name="xin_she_yang_n4_original", tags=_same_tags("xin_she_yang_n4"),
    bounds=(-10.0, 10.0), minimum=lambda d: _stated("xin_she_yang_n4_original", np.zeros(d)),
    smooth_at_minimum=False, registry=ORIGINALS, reference="[T] XinSheYangN4",
)
def _xin_she_yang_n4(xp, x):
    r"""Original Xin-She Yang N.4: :math:`\sum_i (\sin^2 x_i - e^{-(\sum_j x_j)^2})\,e^{-\sum_i \sin^2\sqrt{|x_i|}}`.

    Its value at 0 is :math:`-d` (the stated minimum says -2, the d = 2 value).
    """
    d = x.shape[-1]
    s = xp.sum(x, axis=-1)
    return ((xp.sum(xp.sin(x) ** 2, axis=-1) - d * xp.exp(-s * s))
            * xp.exp(-xp.sum(xp.sin(safe_sqrt(xp, xp.abs(x))) ** 2, axis=-1)))

r"""Test functions of one fixed dimension (39 of the collection's 78: d = 1, 2, 3 or 4).

References: [JY] Jamil & Yang (2013); [SFU] the Virtual Library of Simulation Experiments;
[T] Thevenot's ``pybenchfunction``, the paper's original collection (see ``scalable``).
Minimizers given with many digits were polished here by Newton's method on the formula; the
literature's rounded values are quoted in the docstrings.
"""

import numpy as np

from ._registry import Correction, objective, safe_norm, safe_pow, safe_sqrt


def _xy(x):
    return x[..., 0], x[..., 1]


@objective(
    dim=2, tags={"convex", "differentiable"},
    bounds=(-32.0, 32.0), minimum=([0.0, 0.0], -200.0), smooth_at_minimum=False,
    corrections=[Correction(
        original="-200 exp(-0.2 sqrt(x^2 + y^2))",
        ours="-200 exp(-0.02 sqrt(x^2 + y^2))",
        source="[JY] Ackley 2; scipy go_benchmark Ackley02",
    )],
    reference="[JY] Ackley 2",
)
def ackley_n2(xp, x):
    r"""Ackley N.2 function.

    .. math:: f(x, y) = -200\,e^{-0.02\sqrt{x^2 + y^2}}

    Box :math:`[-32, 32]^2`. Minimum -200 at (0, 0), a cone point. Reference: [JY] Ackley 2.
    Departure: the original's exponent factor is 0.2.
    """
    return -200.0 * xp.exp(-0.02 * safe_norm(xp, x))


ACKLEY_N3_X = (0.6825771831515794, -0.36070186306103735)
ACKLEY_N3_F = -195.62902826227935


@objective(
    dim=2, tags={"differentiable", "multimodal"},
    bounds=(-32.0, 32.0), minimum=(ACKLEY_N3_X, ACKLEY_N3_F),
    corrections=[Correction(
        original="-200 exp(-0.2 sqrt(x^2 + y^2)) + 5 exp(cos 3x + sin 3y); stated "
                 "f(8.3e-10, -0.0068) = -186.4112",
        ours="-200 exp(-0.02 sqrt(x^2 + y^2)) + 5 exp(cos 3x + sin 3y); f* = -195.629028 "
             "at (+-0.682577, -0.360702)",
        source="[JY] Ackley 3; scipy go_benchmark Ackley03 (-195.62902825923879)",
    )],
    reference="[JY] Ackley 3",
)
def ackley_n3(xp, x):
    r"""Ackley N.3 function.

    .. math:: f(x, y) = -200\,e^{-0.02\sqrt{x^2 + y^2}} + 5\,e^{\cos 3x + \sin 3y}

    Box :math:`[-32, 32]^2`. Minimum -195.629028 at :math:`(\pm 0.682577, -0.360702)`.
    Reference: [JY] Ackley 3. Departure: the original's exponent factor is 0.2.
    """
    a, b = _xy(x)
    return -200.0 * xp.exp(-0.02 * safe_norm(xp, x)) + 5.0 * xp.exp(xp.cos(3 * a) + xp.sin(3 * b))


ADJIMAN_Y = 0.10578346945171686
ADJIMAN_F = -2.021806783359787


@objective(
    dim=2, tags={"continuous", "differentiable", "multimodal"},
    bounds=([-1.0, -1.0], [2.0, 1.0]), minimum=([2.0, ADJIMAN_Y], ADJIMAN_F), constrained=True,
    reference="[JY] Adjiman",
)
def adjiman(xp, x):
    r"""Adjiman function.

    .. math:: f(x, y) = \cos x \sin y - \frac{x}{y^2 + 1}

    Box :math:`[-1, 2] \times [-1, 1]`. Minimum -2.02181 at (2, 0.10578), on the boundary; the
    function decreases without bound outside the box. Reference: [JY] Adjiman.
    """
    a, b = _xy(x)
    return xp.cos(a) * xp.sin(b) - a / (b * b + 1.0)


@objective(
    dim=2, tags={"multimodal"},
    bounds=(-500.0, 500.0), minimum=([0.0, 0.0], 1.0), smooth_at_minimum=False,
    reference="[JY] Bartels Conn",
)
def bartels(xp, x):
    r"""Bartels Conn function.

    .. math:: f(x, y) = |x^2 + y^2 + xy| + |\sin x| + |\cos y|

    Box :math:`[-500, 500]^2`. Minimum 1 at (0, 0). Reference: [JY] Bartels Conn.
    """
    a, b = _xy(x)
    return xp.abs(a * a + b * b + a * b) + xp.abs(xp.sin(a)) + xp.abs(xp.cos(b))


@objective(
    dim=2, tags={"continuous", "differentiable"},
    bounds=(-4.5, 4.5), minimum=([3.0, 0.5], 0.0),
    corrections=[Correction(
        original="flagged multimodal in Thevenot's collection",
        ours="flag as in the copy the paper ran (non-multimodal), so that paper_selection(2) has "
             "the paper's 31 functions",
        source="gbelouze/forward-gradient benchmark/benchfunctions.py; [JY] calls Beale unimodal",
    )],
    reference="[JY] Beale, [SFU] beale",
)
def beale(xp, x):
    r"""Beale function.

    .. math:: f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2

    Box :math:`[-4.5, 4.5]^2`. Minimum 0 at (3, 0.5). Reference: [JY], [SFU] beale.
    """
    a, b = _xy(x)
    return (1.5 - a + a * b) ** 2 + (2.25 - a + a * b * b) ** 2 + (2.625 - a + a * b**3) ** 2


BIRD_X = (4.701043130249553, 3.15293850372493)
BIRD_F = -106.7645367492647


@objective(
    dim=2, tags={"continuous", "differentiable", "multimodal"},
    bounds=(-2 * np.pi, 2 * np.pi), minimum=(BIRD_X, BIRD_F),
    reference="[JY] Bird",
)
def bird(xp, x):
    r"""Bird function.

    .. math:: f(x, y) = \sin x\,e^{(1 - \cos y)^2} + \cos y\,e^{(1 - \sin x)^2} + (x - y)^2

    Box :math:`[-2\pi, 2\pi]^2`. Minimum -106.764537 at (4.70104, 3.15294) and
    (-1.58214, -3.13024). Reference: [JY] Bird.
    """
    a, b = _xy(x)
    return (xp.sin(a) * xp.exp((1.0 - xp.cos(b)) ** 2) + xp.cos(b) * xp.exp((1.0 - xp.sin(a)) ** 2)
            + (a - b) ** 2)


@objective(
    dim=2, tags={"continuous", "convex", "separable", "differentiable"},
    bounds=(-100.0, 100.0), minimum=([0.0, 0.0], 0.0),
    reference="[JY] Bohachevsky 1, [SFU] boha",
)
def bohachevsky_n1(xp, x):
    r"""Bohachevsky N.1 function.

    .. math:: f(x, y) = x^2 + 2y^2 - 0.3\cos 3\pi x - 0.4\cos 4\pi y + 0.7

    Box :math:`[-100, 100]^2`. Minimum 0 at (0, 0). Reference: [SFU] boha. The original flags
    it convex and non-multimodal; the cosines make many local minima.
    """
    a, b = _xy(x)
    return a * a + 2 * b * b - 0.3 * xp.cos(3 * np.pi * a) - 0.4 * xp.cos(4 * np.pi * b) + 0.7


@objective(
    dim=2, tags={"continuous", "differentiable", "multimodal"},
    bounds=(-100.0, 100.0), minimum=([0.0, 0.0], 0.0),
    reference="[JY] Bohachevsky 2, [SFU] boha",
)
def bohachevsky_n2(xp, x):
    r"""Bohachevsky N.2 function.

    .. math:: f(x, y) = x^2 + 2y^2 - 0.3\cos(3\pi x)\cos(4\pi y) + 0.3

    Box :math:`[-100, 100]^2`. Minimum 0 at (0, 0). Reference: [SFU] boha.
    """
    a, b = _xy(x)
    return a * a + 2 * b * b - 0.3 * xp.cos(3 * np.pi * a) * xp.cos(4 * np.pi * b) + 0.3


@objective(
    dim=2, tags={"continuous", "differentiable", "multimodal"},
    bounds=(-50.0, 50.0), minimum=([0.0, 0.0], 0.0),
    corrections=[Correction(
        original="x^2 + 2y^2 - 0.3 cos(3 pi x + 4 pi y) cos(4 pi y) + 0.3 (extra factor)",
        ours="x^2 + 2y^2 - 0.3 cos(3 pi x + 4 pi y) + 0.3",
        source="[JY] Bohachevsky 3, [SFU] boha; scipy go_benchmark Bohachevsky3",
    )],
    reference="[JY] Bohachevsky 3, [SFU] boha",
)
def bohachevsky_n3(xp, x):
    r"""Bohachevsky N.3 function.

    .. math:: f(x, y) = x^2 + 2y^2 - 0.3\cos(3\pi x + 4\pi y) + 0.3

    Box :math:`[-50, 50]^2` as in [T] ([SFU]: [-100, 100]). Minimum 0 at (0, 0). Reference:
    [SFU] boha. Departure: the original multiplies the cosine by :math:`\cos 4\pi y`.
    """
    a, b = _xy(x)
    return a * a + 2 * b * b - 0.3 * xp.cos(3 * np.pi * a + 4 * np.pi * b) + 0.3


@objective(
    dim=2, tags={"continuous", "convex", "differentiable"},
    bounds=(-10.0, 10.0), minimum=([1.0, 3.0], 0.0),
    reference="[JY] Booth, [SFU] booth",
)
def booth(xp, x):
    r"""Booth function.

    .. math:: f(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2

    Box :math:`[-10, 10]^2`. Minimum 0 at (1, 3). Reference: [SFU] booth.
    """
    a, b = _xy(x)
    return (a + 2 * b - 7.0) ** 2 + (2 * a + b - 5.0) ** 2


@objective(
    dim=2, tags={"continuous", "differentiable", "multimodal"},
    bounds=([-5.0, 0.0], [10.0, 15.0]), minimum=([np.pi, 2.275], 5.0 / (4.0 * np.pi)),
    reference="[JY] Branin RCOS, [SFU] branin",
)
def branin(xp, x):
    r"""Branin (RCOS) function.

    .. math:: f(x, y) = a(y - bx^2 + cx - r)^2 + s(1 - t)\cos x + s,

    with :math:`a = 1, b = 5.1/(4\pi^2), c = 5/\pi, r = 6, s = 10, t = 1/(8\pi)`. Box
    :math:`[-5, 10]\times[0, 15]`. Minimum :math:`st = 5/(4\pi) = 0.397887` at
    :math:`(-\pi, 12.275), (\pi, 2.275), (3\pi, 2.475)`. Reference: [SFU] branin.
    """
    a, b = _xy(x)
    bb, c, t = 5.1 / (4 * np.pi**2), 5.0 / np.pi, 1.0 / (8 * np.pi)
    return (b - bb * a * a + c * a - 6.0) ** 2 + 10.0 * (1.0 - t) * xp.cos(a) + 10.0


@objective(
    dim=2, tags={"continuous", "convex", "differentiable"},
    bounds=(-20.0, 0.0), minimum=([-10.0, -10.0], np.exp(-200.0)),
    reference="[JY] Brent",
)
def brent(xp, x):
    r"""Brent function.

    .. math:: f(x, y) = (x + 10)^2 + (y + 10)^2 + e^{-x^2 - y^2}

    Box :math:`[-20, 0]^2` as in [T] ([JY]: [-10, 10], with a misprinted minimizer). Minimum
    :math:`e^{-200}` at (-10, -10) up to :math:`10^{-86}`. Reference: [JY] Brent.
    """
    a, b = _xy(x)
    return (a + 10.0) ** 2 + (b + 10.0) ** 2 + xp.exp(-a * a - b * b)


@objective(
    dim=2, tags={"continuous", "convex", "multimodal"},
    bounds=([-15.0, -3.0], [-5.0, 3.0]), minimum=([-10.0, 1.0], 0.0), smooth_at_minimum=False,
    reference="[SFU] bukin6",
)
def bukin_n6(xp, x):
    r"""Bukin N.6 function.

    .. math:: f(x, y) = 100\sqrt{|y - 0.01x^2|} + 0.01|x + 10|

    Box :math:`[-15, -5]\times[-3, 3]`. Minimum 0 at (-10, 1), at the bottom of a
    non-differentiable ridge. Reference: [SFU] bukin6.
    """
    a, b = _xy(x)
    return 100.0 * safe_sqrt(xp, xp.abs(b - 0.01 * a * a)) + 0.01 * xp.abs(a + 10.0)


CROSS_X = 1.3494066171539107
CROSS_F = -2.062611870822738


@objective(
    dim=2, tags={"continuous", "multimodal"},
    bounds=(-10.0, 10.0), minimum=([CROSS_X, CROSS_X], CROSS_F),
    reference="[JY] Cross-in-Tray, [SFU] crossit",
)
def cross_in_tray(xp, x):
    r"""Cross-in-tray function.

    .. math:: f(x, y) = -0.0001\left(\left|\sin x \sin y\,
       e^{\left|100 - \sqrt{x^2 + y^2}/\pi\right|}\right| + 1\right)^{0.1}

    Box :math:`[-10, 10]^2`. Minimum -2.06261 at :math:`(\pm 1.349407, \pm 1.349407)`.
    Reference: [SFU] crossit.
    """
    a, b = _xy(x)
    inner = xp.abs(xp.sin(a) * xp.sin(b) * xp.exp(xp.abs(100.0 - safe_norm(xp, x) / np.pi)))
    return -0.0001 * (inner + 1.0) ** 0.1


_FOXHOLES = np.array([-32.0, -16.0, 0.0, 16.0, 32.0])
DE_JONG_A1 = np.tile(_FOXHOLES, 5)  # the first coordinate cycles fastest
DE_JONG_A2 = np.repeat(_FOXHOLES, 5)
DE_JONG_X = (-31.97833483565697, -31.978334837300796)
DE_JONG_F = 0.99800383779445


@objective(
    dim=2, tags={"continuous", "differentiable", "multimodal"},
    bounds=(-65.536, 65.536), minimum=(DE_JONG_X, DE_JONG_F),
    corrections=[
        Correction(
            original="foxhole i at (a[(i-1)//5], a[(i-1)%5]): the two coordinates swapped",
            ours="foxhole i at (a[(i-1)%5], a[(i-1)//5]), a = (-32, -16, 0, 16, 32)",
            source="[SFU] dejong5; [JY] De Jong 5 / Shekel's foxholes",
        ),
        Correction(
            original="stated f(-32, -32) = -0.998003838818649 (the sign is wrong)",
            ours="f* = 0.998003837794 at (-31.97833, -31.97833)",
            source="the formula is a reciprocal of a positive sum; minimum polished here",
        ),
    ],
    reference="[SFU] dejong5",
)
def de_jong_n5(xp, x):
    r"""De Jong N.5 function (Shekel's foxholes).

    .. math:: f(x, y) = \left(0.002 + \sum_{i=1}^{25}\frac{1}{i + (x - a_{1i})^6 + (y - a_{2i})^6}\right)^{-1}

    with :math:`a_{1i} = a_{(i-1) \bmod 5}`, :math:`a_{2i} = a_{\lfloor (i-1)/5 \rfloor}`,
    :math:`a = (-32, -16, 0, 16, 32)`. Box :math:`[-65.536, 65.536]^2`. Minimum 0.998004 near
    (-32, -32). Reference: [SFU] dejong5. Departure: the original swaps :math:`a_1` and
    :math:`a_2` and states a negative minimum.
    """
    a, b = _xy(x)
    i = np.arange(1.0, 26.0)
    u, v = (a[..., None] - DE_JONG_A1) ** 2, (b[..., None] - DE_JONG_A2) ** 2
    return 1.0 / (0.002 + xp.sum(1.0 / (i + u * u * u + v * v * v), axis=-1))


DECKKERS_Y = 14.945112151891957
DECKKERS_F = -24776.518342317686


@objective(
    dim=2, tags={"continuous", "differentiable", "multimodal"},
    bounds=(-20.0, 20.0), minimum=([0.0, DECKKERS_Y], DECKKERS_F),
    corrections=[Correction(
        original="1e5 x^2 + y^2 - (x^2 + y^2) + 1e-5 (x^2 + y^2)^4: the square of the third "
                 "term is missing (its minimum is 0 at 0, not the stated f(0, +-15) = -17320.77)",
        ours="1e5 x^2 + y^2 - (x^2 + y^2)^2 + 1e-5 (x^2 + y^2)^4, f* = -24776.518 at (0, +-14.9451)",
        source="[JY] Deckkers-Aarts; scipy go_benchmark DeckkersAarts (-24776.518342168)",
    )],
    reference="[JY] Deckkers-Aarts",
)
def deckkers_aarts(xp, x):
    r"""Deckkers-Aarts function.

    .. math:: f(x, y) = 10^5 x^2 + y^2 - (x^2 + y^2)^2 + 10^{-5}(x^2 + y^2)^4

    Box :math:`[-20, 20]^2`. Minimum -24776.518 at :math:`(0, \pm 14.9451)`. Reference: [JY].
    Departure: the original drops the square of :math:`(x^2 + y^2)` in the third term.
    """
    a, b = _xy(x)
    r2 = a * a + b * b
    return 1e5 * a * a + b * b - r2 * r2 + 1e-5 * r2**4


@objective(
    dim=2, tags={"continuous", "differentiable"},
    bounds=(-5.2, 5.2), minimum=([0.0, 0.0], -1.0),
    reference="[SFU] drop",
)
def drop_wave(xp, x):
    r"""Drop-wave function.

    .. math:: f(x, y) = -\frac{1 + \cos\left(12\sqrt{x^2 + y^2}\right)}{0.5(x^2 + y^2) + 2}

    Box :math:`[-5.2, 5.2]^2` as in [T] ([SFU]: [-5.12, 5.12]). Minimum -1 at (0, 0).
    Reference: [SFU] drop. The original flags it non-multimodal; it has rings of local minima.
    """
    r2 = xp.sum(x * x, axis=-1)
    return -(1.0 + xp.cos(12.0 * safe_sqrt(xp, r2))) / (0.5 * r2 + 2.0)


@objective(
    dim=2, tags={"continuous", "separable", "differentiable", "multimodal"},
    bounds=(-100.0, 100.0), minimum=([np.pi, np.pi], -1.0),
    reference="[SFU] easom",
)
def easom(xp, x):
    r"""Easom function.

    .. math:: f(x, y) = -\cos x \cos y\, e^{-(x - \pi)^2 - (y - \pi)^2}

    Box :math:`[-100, 100]^2`. Minimum -1 at :math:`(\pi, \pi)`. Reference: [SFU] easom.
    """
    a, b = _xy(x)
    return -xp.cos(a) * xp.cos(b) * xp.exp(-((a - np.pi) ** 2) - (b - np.pi) ** 2)


@objective(
    dim=2, tags={"continuous", "separable", "differentiable", "multimodal"},
    bounds=(-5.0, 5.0), minimum=([0.0, 0.0], 0.0),
    corrections=[Correction(
        original="stated f(0, 0) = -1",
        ours="f* = 0 at (0, 0) (the value the formula gives)",
        source="[JY] Egg Crate",
    )],
    reference="[JY] Egg Crate",
)
def egg_crate(xp, x):
    r"""Egg crate function.

    .. math:: f(x, y) = x^2 + y^2 + 25(\sin^2 x + \sin^2 y)

    Box :math:`[-5, 5]^2`. Minimum 0 at (0, 0). Reference: [JY] Egg Crate.
    """
    a, b = _xy(x)
    return a * a + b * b + 25.0 * (xp.sin(a) ** 2 + xp.sin(b) ** 2)


EGG_HOLDER_Y = 404.23180511375784
EGG_HOLDER_F = -959.640662720851


@objective(
    dim=2, tags={"differentiable", "multimodal"},
    bounds=(-512.0, 512.0), minimum=([512.0, EGG_HOLDER_Y], EGG_HOLDER_F),
    corrections=[Correction(
        original="stated f(512, 404.2319) = -1",
        ours="f* = -959.6407 at (512, 404.2318)",
        source="[SFU] egg, [JY] Egg Holder",
    )],
    reference="[SFU] egg",
)
def egg_holder(xp, x):
    r"""Eggholder function.

    .. math:: f(x, y) = -(y + 47)\sin\sqrt{|y + x/2 + 47|} - x\sin\sqrt{|x - (y + 47)|}

    Box :math:`[-512, 512]^2`. Minimum -959.6407 at (512, 404.2319), on the boundary.
    Reference: [SFU] egg.
    """
    a, b = _xy(x)
    return (-(b + 47.0) * xp.sin(safe_sqrt(xp, xp.abs(b + 0.5 * a + 47.0)))
            - a * xp.sin(safe_sqrt(xp, xp.abs(a - b - 47.0))))


FORRESTER_X = 0.7572487578418557
FORRESTER_F = -6.0207400557670825


@objective(
    dim=1, tags={"continuous", "differentiable", "multimodal"},
    bounds=(0.0, 1.0), minimum=([FORRESTER_X], FORRESTER_F),
    reference="Forrester, Sobester & Keane (2008); [SFU] forretal08",
)
def forrester(xp, x):
    r"""Forrester et al. (2008) function.

    .. math:: f(x) = (6x - 2)^2 \sin(12x - 4)

    Box [0, 1]. Minimum -6.02074 at 0.757249. Reference: [SFU] forretal08.
    """
    t = x[..., 0]
    return (6.0 * t - 2.0) ** 2 * xp.sin(12.0 * t - 4.0)


@objective(
    dim=2, tags={"differentiable", "multimodal"},
    bounds=(-2.0, 2.0), minimum=([0.0, -1.0], 3.0),
    reference="[SFU] goldpr",
)
def goldstein_price(xp, x):
    r"""Goldstein-Price function.

    .. math:: f(x, y) = \left[1 + (x + y + 1)^2(19 - 14x + 3x^2 - 14y + 6xy + 3y^2)\right]
       \left[30 + (2x - 3y)^2(18 - 32x + 12x^2 + 48y - 36xy + 27y^2)\right]

    Box :math:`[-2, 2]^2`. Minimum 3 at (0, -1). Reference: [SFU] goldpr. (The original's LaTeX
    reads 4y for 48y; its code has 48y.)
    """
    a, b = _xy(x)
    first = 1.0 + (a + b + 1.0) ** 2 * (19.0 - 14 * a + 3 * a * a - 14 * b + 6 * a * b + 3 * b * b)
    second = 30.0 + (2 * a - 3 * b) ** 2 * (18.0 - 32 * a + 12 * a * a + 48 * b - 36 * a * b
                                            + 27 * b * b)
    return first * second


GRAMACY_LEE_X = 0.5485634445276052
GRAMACY_LEE_F = -0.8690111349894998


@objective(
    dim=1, tags={"continuous", "differentiable", "multimodal"},
    bounds=(0.5, 2.5), minimum=([GRAMACY_LEE_X], GRAMACY_LEE_F),
    corrections=[Correction(
        original="box [-0.5, 2.5]: it contains x = 0, where the formula is 0/0, and points "
                 "near x = 0.15 with f = -2.87 below the stated minimum -0.869",
        ours="box [0.5, 2.5], where the stated minimum -0.869011 at 0.548563 holds",
        source="Gramacy & Lee (2012); [SFU] grlee12",
    )],
    reference="Gramacy & Lee (2012); [SFU] grlee12",
)
def gramacy_lee(xp, x):
    r"""Gramacy & Lee (2012) function.

    .. math:: f(x) = \frac{\sin 10\pi x}{2x} + (x - 1)^4

    Box [0.5, 2.5]. Minimum -0.869011 at 0.548563. Reference: [SFU] grlee12. Departure: the
    original's box [-0.5, 2.5] contains lower points (about -2.87 near 0.146) and the pole-like
    point 0.
    """
    t = x[..., 0]
    return xp.sin(10.0 * np.pi * t) / (2.0 * t) + (t - 1.0) ** 4


@objective(
    dim=2, tags={"continuous", "differentiable", "multimodal"},
    bounds=(-6.0, 6.0), minimum=([3.0, 2.0], 0.0),
    reference="[JY] Himmelblau",
)
def himmelblau(xp, x):
    r"""Himmelblau function.

    .. math:: f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2

    Box :math:`[-6, 6]^2`. Minimum 0 at (3, 2), (-2.805118, 3.131312), (-3.779310, -3.283186)
    and (3.584428, -1.848126). Reference: [JY] Himmelblau.
    """
    a, b = _xy(x)
    return (a * a + b - 11.0) ** 2 + (a + b * b - 7.0) ** 2


HOLDER_X = (8.055023475736563, 9.664590019241272)
HOLDER_F = -19.208502567886732


@objective(
    dim=2, tags={"continuous", "multimodal"},
    bounds=(-10.0, 10.0), minimum=(HOLDER_X, HOLDER_F),
    reference="[SFU] holder",
)
def holder_table(xp, x):
    r"""Hölder table function.

    .. math:: f(x, y) = -\left|\sin x\cos y\,e^{\left|1 - \sqrt{x^2 + y^2}/\pi\right|}\right|

    Box :math:`[-10, 10]^2`. Minimum -19.2085 at :math:`(\pm 8.05502, \pm 9.66459)`.
    Reference: [SFU] holder.
    """
    a, b = _xy(x)
    return -xp.abs(xp.sin(a) * xp.cos(b) * xp.exp(xp.abs(1.0 - safe_norm(xp, x) / np.pi)))


KEANE_X = 1.3932490753255886
KEANE_F = -0.6736675211468548


@objective(
    dim=2, tags={"continuous", "differentiable", "multimodal"},
    bounds=(-10.0, 10.0), minimum=([KEANE_X, 0.0], KEANE_F),
    corrections=[Correction(
        original="stated f(1.393249, 0) = +0.673668 (sign lost)",
        ours="f* = -0.673668 at (1.393249, 0) and (0, 1.393249)",
        source="[JY] Keane",
    )],
    reference="[JY] Keane",
)
def keane(xp, x):
    r"""Keane function.

    .. math:: f(x, y) = -\frac{\sin^2(x - y)\sin^2(x + y)}{\sqrt{x^2 + y^2}}

    Box :math:`[-10, 10]^2` as in [T] ([JY]: [0, 10]). Minimum -0.673668 at (1.393249, 0),
    (0, 1.393249) and their mirror images. Reference: [JY] Keane. The removable 0/0 at the
    origin evaluates to 0.
    """
    a, b = _xy(x)
    r = safe_norm(xp, x)
    positive = r > 0
    return -xp.sin(a - b) ** 2 * xp.sin(a + b) ** 2 / xp.where(positive, r, 1.0)


LANGERMANN_C = np.array([1.0, 2.0, 5.0, 2.0, 3.0])
LANGERMANN_A = np.array([[3.0, 5.0], [5.0, 2.0], [2.0, 1.0], [1.0, 4.0], [7.0, 9.0]])
LANGERMANN_X = (2.7934022086450367, 1.5972325013283601)
LANGERMANN_F = -4.155809291847786


@objective(
    dim=2, tags={"continuous", "differentiable", "multimodal"},
    bounds=(0.0, 10.0), minimum=(LANGERMANN_X, LANGERMANN_F),
    corrections=[Correction(
        original="declared for every d, but A has 2 columns: d = 1 broadcasts silently, d >= 3 "
                 "fails; no minimum given ('Not found...')",
        ours="d = 2 only (the dimension of A, as in [SFU]); f* = -4.155809 at (2.793402, 1.597233)",
        source="[SFU] langer (m = 5, c and A as in [T]); minimum polished here",
    )],
    reference="[SFU] langer",
)
def langermann(xp, x):
    r"""Langermann function (m = 5, d = 2).

    .. math:: f(x) = \sum_{i=1}^{5} c_i\, e^{-\frac1\pi\sum_j (x_j - A_{ij})^2}
       \cos\left(\pi\sum_j (x_j - A_{ij})^2\right)

    with :math:`c = (1, 2, 5, 2, 3)`, :math:`A = ((3, 5), (5, 2), (2, 1), (1, 4), (7, 9))`.
    Box :math:`[0, 10]^2`. Minimum -4.155809 at (2.793402, 1.597233) (often quoted at (2.00299, 1.00609), where
    f = 5.16 with this A). Reference: [SFU] langer.
    Departure: the original declares every d (and gives no minimum); A fixes d = 2.
    """
    s = xp.sum((x[..., None, :] - LANGERMANN_A) ** 2, axis=-1)
    return xp.sum(LANGERMANN_C * xp.exp(-s / np.pi) * xp.cos(np.pi * s), axis=-1)


@objective(
    dim=2, tags={"continuous", "differentiable"},
    bounds=(0.0, 10.0), minimum=([1.0, 1.0], 0.0),
    reference="[JY] Leon",
)
def leon(xp, x):
    r"""Leon function.

    .. math:: f(x, y) = 100(y - x^3)^2 + (1 - x)^2

    Box :math:`[0, 10]^2` as in [T] ([JY]: [-1.2, 1.2]). Minimum 0 at (1, 1). Reference: [JY].
    """
    a, b = _xy(x)
    return 100.0 * (b - a**3) ** 2 + (1.0 - a) ** 2


@objective(
    dim=2, tags={"continuous", "differentiable", "multimodal"},
    bounds=(-10.0, 10.0), minimum=([1.0, 1.0], 0.0),
    reference="[SFU] levy13",
)
def levy_n13(xp, x):
    r"""Lévy N.13 function.

    .. math:: f(x, y) = \sin^2 3\pi x + (x - 1)^2(1 + \sin^2 3\pi y) + (y - 1)^2(1 + \sin^2 2\pi y)

    Box :math:`[-10, 10]^2`. Minimum 0 at (1, 1). Reference: [SFU] levy13.
    """
    a, b = _xy(x)
    return (xp.sin(3 * np.pi * a) ** 2 + (a - 1.0) ** 2 * (1.0 + xp.sin(3 * np.pi * b) ** 2)
            + (b - 1.0) ** 2 * (1.0 + xp.sin(2 * np.pi * b) ** 2))


@objective(
    dim=2, tags={"continuous", "convex", "differentiable"},
    bounds=(-10.0, 10.0), minimum=([0.0, 0.0], 0.0),
    reference="[SFU] matya",
)
def matyas(xp, x):
    r"""Matyas function.

    .. math:: f(x, y) = 0.26(x^2 + y^2) - 0.48xy

    Box :math:`[-10, 10]^2`. Minimum 0 at (0, 0). Reference: [SFU] matya.
    """
    a, b = _xy(x)
    return 0.26 * (a * a + b * b) - 0.48 * a * b


@objective(
    dim=2, tags={"continuous", "convex", "differentiable", "multimodal"},
    bounds=([-1.5, -3.0], [4.0, 3.0]),
    minimum=([0.5 - np.pi / 3, -0.5 - np.pi / 3], -np.sqrt(3.0) / 2 - np.pi / 3),
    reference="[SFU] mccorm",
)
def mccormick(xp, x):
    r"""McCormick function.

    .. math:: f(x, y) = \sin(x + y) + (x - y)^2 - 1.5x + 2.5y + 1

    Box :math:`[-1.5, 4]\times[-3, 3]` as in [T] ([SFU]: :math:`y \in [-3, 4]`). Minimum
    :math:`-\sqrt3/2 - \pi/3 = -1.913223` at :math:`(1/2 - \pi/3, -1/2 - \pi/3)` (where
    :math:`x - y = 1` and :math:`\cos(x + y) = -1/2`). Reference: [SFU] mccorm.
    """
    a, b = _xy(x)
    return xp.sin(a + b) + (a - b) ** 2 - 1.5 * a + 2.5 * b + 1.0


def _schaffer(xp, x, numerator):
    a, b = _xy(x)
    return 0.5 + (numerator - 0.5) / (1.0 + 0.001 * (a * a + b * b)) ** 2


@objective(
    dim=2, tags={"continuous", "differentiable"},
    bounds=(-100.0, 100.0), minimum=([0.0, 0.0], 0.0),
    reference="Mishra (2006); [JY] Schaffer 1",
)
def schaffer_n1(xp, x):
    r"""Schaffer N.1 function.

    .. math:: f(x, y) = 0.5 + \frac{\sin^2\left((x^2 + y^2)^2\right) - 0.5}{\left(1 + 0.001(x^2 + y^2)\right)^2}

    Box :math:`[-100, 100]^2`. Minimum 0 at (0, 0). Reference: [JY] Schaffer 1 (kept as in [T];
    scipy's go_benchmark reads the numerator as :math:`\sin^2(x^2 + y^2)`).
    """
    a, b = _xy(x)
    return _schaffer(xp, x, xp.sin((a * a + b * b) ** 2) ** 2)


@objective(
    dim=2, tags={"continuous", "differentiable"},
    bounds=(-4.0, 4.0), minimum=([0.0, 0.0], 0.0),
    corrections=[Correction(
        original="sin^2(x^2 + y^2) in the numerator",
        ours="sin^2(x^2 - y^2)",
        source="[SFU] schaffer2, [JY] Schaffer 2; the original's own LaTeX has x^2 - y^2",
    )],
    reference="[SFU] schaffer2",
)
def schaffer_n2(xp, x):
    r"""Schaffer N.2 function.

    .. math:: f(x, y) = 0.5 + \frac{\sin^2(x^2 - y^2) - 0.5}{\left(1 + 0.001(x^2 + y^2)\right)^2}

    Box :math:`[-4, 4]^2` as in [T]'s code (its docs and [SFU]: [-100, 100]). Minimum 0 at (0, 0).
    Reference: [SFU] schaffer2. Departure: the original has :math:`x^2 + y^2` in the sine.
    """
    a, b = _xy(x)
    return _schaffer(xp, x, xp.sin(a * a - b * b) ** 2)


SCHAFFER_N3_Y = 1.2531149631200684
SCHAFFER_N3_F = 0.0015668545260041356


@objective(
    dim=2, tags={"continuous", "differentiable"},
    bounds=(-4.0, 4.0), minimum=([0.0, SCHAFFER_N3_Y], SCHAFFER_N3_F),
    corrections=[Correction(
        original="sin^2(cos|x^2 + y^2|) in the numerator",
        ours="sin^2(cos|x^2 - y^2|)",
        source="[JY] Schaffer 3; scipy go_benchmark Schaffer03; the original's LaTeX has x^2 - y^2",
    )],
    reference="[JY] Schaffer 3",
)
def schaffer_n3(xp, x):
    r"""Schaffer N.3 function.

    .. math:: f(x, y) = 0.5 + \frac{\sin^2\left(\cos|x^2 - y^2|\right) - 0.5}{\left(1 + 0.001(x^2 + y^2)\right)^2}

    Box :math:`[-4, 4]^2` as in [T]'s code. Minimum 0.00156685 at (0, 1.253115) and its mirror
    images. Reference: [JY] Schaffer 3. Departure: the original has :math:`x^2 + y^2` in the
    cosine.
    """
    a, b = _xy(x)
    return _schaffer(xp, x, xp.sin(xp.cos(xp.abs(a * a - b * b))) ** 2)


SCHAFFER_N4_Y = 1.2531318314637332
SCHAFFER_N4_F = 0.29257863203598056


@objective(
    dim=2, tags={"continuous", "differentiable"},
    bounds=(-4.0, 4.0), minimum=([0.0, SCHAFFER_N4_Y], SCHAFFER_N4_F),
    reference="[SFU] schaffer4",
)
def schaffer_n4(xp, x):
    r"""Schaffer N.4 function.

    .. math:: f(x, y) = 0.5 + \frac{\cos^2\left(\sin|x^2 - y^2|\right) - 0.5}{\left(1 + 0.001(x^2 + y^2)\right)^2}

    Box :math:`[-4, 4]^2` as in [T]'s code. Minimum 0.292579 at (0, 1.253132) and its mirror
    images. Reference: [SFU] schaffer4.
    """
    a, b = _xy(x)
    return _schaffer(xp, x, xp.cos(xp.sin(xp.abs(a * a - b * b))) ** 2)


@objective(
    dim=2, tags={"continuous", "differentiable"},
    bounds=(-5.0, 5.0), minimum=([0.0, 0.0], 0.0),
    reference="[SFU] camel3",
)
def three_hump(xp, x):
    r"""Three-hump camel function.

    .. math:: f(x, y) = 2x^2 - 1.05x^4 + \frac{x^6}{6} + xy + y^2

    Box :math:`[-5, 5]^2`. Minimum 0 at (0, 0). Reference: [SFU] camel3. The original flags it
    non-multimodal; it has two more local minima.
    """
    a, b = _xy(x)
    return 2.0 * a * a - 1.05 * a**4 + a**6 / 6.0 + a * b + b * b


@objective(
    dim=3, tags={"continuous", "differentiable", "multimodal"},
    bounds=(0.0, 2.0), minimum=([0.0, 0.0, 0.0], 0.0), smooth_at_minimum=False,
    reference="[JY] Wolfe",
)
def wolfe(xp, x):
    r"""Wolfe function.

    .. math:: f(x, y, z) = \frac43\left(x^2 + y^2 - xy\right)^{0.75} + z

    Box :math:`[0, 2]^3`. Minimum 0 at (0, 0, 0), a boundary corner and a cusp. Reference: [JY].
    """
    a, b, c = x[..., 0], x[..., 1], x[..., 2]
    return 4.0 / 3.0 * safe_pow(xp, a * a + b * b - a * b, 0.75) + c


@objective(
    dim=4, tags={"continuous", "differentiable", "multimodal"},
    bounds=(-10.0, 10.0), minimum=([1.0, 1.0, 1.0, 1.0], 0.0),
    reference="[SFU] colville",
)
def colville(xp, x):
    r"""Colville function.

    .. math:: f(x) = 100(x_1^2 - x_2)^2 + (x_1 - 1)^2 + (x_3 - 1)^2 + 90(x_3^2 - x_4)^2
       + 10.1\left((x_2 - 1)^2 + (x_4 - 1)^2\right) + 19.8(x_2 - 1)(x_4 - 1)

    Box :math:`[-10, 10]^4`. Minimum 0 at (1, 1, 1, 1). Reference: [SFU] colville.
    """
    x1, x2, x3, x4 = x[..., 0], x[..., 1], x[..., 2], x[..., 3]
    return (100.0 * (x1 * x1 - x2) ** 2 + (x1 - 1.0) ** 2 + (x3 - 1.0) ** 2
            + 90.0 * (x3 * x3 - x4) ** 2 + 10.1 * ((x2 - 1.0) ** 2 + (x4 - 1.0) ** 2)
            + 19.8 * (x2 - 1.0) * (x4 - 1.0))


SHEKEL_BETA = 0.1 * np.array([1.0, 2.0, 2.0, 4.0, 4.0, 6.0, 3.0, 7.0, 5.0, 5.0])
SHEKEL_C = np.array([
    [4.0, 4.0, 4.0, 4.0], [1.0, 1.0, 1.0, 1.0], [8.0, 8.0, 8.0, 8.0], [6.0, 6.0, 6.0, 6.0],
    [3.0, 7.0, 3.0, 7.0], [2.0, 9.0, 2.0, 9.0], [5.0, 3.0, 5.0, 3.0], [8.0, 1.0, 8.0, 1.0],
    [6.0, 2.0, 6.0, 2.0], [7.0, 3.6, 7.0, 3.6],
])
SHEKEL_X = (4.000746868270634, 3.9995094800857736, 4.000746868270634, 3.9995094800857736)
SHEKEL_F = -10.536443153483528


@objective(
    dim=4, tags={"continuous", "differentiable", "multimodal"},
    bounds=(-10.0, 10.0), minimum=(SHEKEL_X, SHEKEL_F),
    corrections=[
        Correction(
            original="sum_i (sum(x[i] - C[i])^2 + beta_i)^-1 with x[i] the i-th coordinate: "
                     "wrong for i < 4 and an IndexError for i >= 4 (the function cannot be "
                     "evaluated)",
            ours="-sum_{i=1}^{10} (sum_j (x_j - C_ij)^2 + beta_i)^-1",
            source="[SFU] shekel (m = 10)",
        ),
        Correction(
            original="stated f(4, 4, 4, 4) = -10.1532 (the value for m = 5)",
            ours="f* = -10.536443 at (4.000747, 3.999509, 4.000747, 3.999509) for m = 10",
            source="[SFU] shekel gives -10.5364 for m = 10; minimum polished here",
        ),
    ],
    reference="[SFU] shekel",
)
def shekel(xp, x):
    r"""Shekel function (m = 10).

    .. math:: f(x) = -\sum_{i=1}^{10}\left(\sum_{j=1}^4 (x_j - C_{ij})^2 + \beta_i\right)^{-1}

    with [SFU]'s :math:`C` and :math:`\beta = (1, 2, 2, 4, 4, 6, 3, 7, 5, 5)/10`. Box
    :math:`[-10, 10]^4` as in [T]'s code ([SFU]: [0, 10]). Minimum -10.5364 near (4, 4, 4, 4).
    Reference: [SFU] shekel. Departure: the original indexes the coordinates by the term number
    and fails; it states the m = 5 minimum.
    """
    s = xp.sum((x[..., None, :] - SHEKEL_C) ** 2, axis=-1)
    return -xp.sum(1.0 / (s + SHEKEL_BETA), axis=-1)

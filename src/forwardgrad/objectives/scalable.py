r"""Test functions defined in any dimension ``d`` (39 of the collection's 78).

References used throughout:
[JY] Jamil, M. & Yang, X.-S. (2013). A literature survey of benchmark functions for global
optimization problems. Int. J. Math. Modelling and Numerical Optimisation 4(2), 150-194.
[SFU] Surjanovic, S. & Bingham, D. Virtual Library of Simulation Experiments: test functions and
datasets, Simon Fraser University (sfu.ca/~ssurjano).
[T] Thevenot, A. (2020-2022). Python_Benchmark_Test_Optimization_Function_Single_Objective
(``pybenchfunction``), the original collection of the paper.
"""

import numpy as np

from ._minima import michalewicz_coordinates
from ._registry import (Correction, UnknownMinimum, objective, power, powers, prod, safe_norm,
                        safe_pow, safe_sqrt)

# One-dimensional optima of separable functions, found by a dense grid and Newton polishing of
# the formulas below (tests re-derive them); the literature rounds them to 4-7 digits.
STYBLINSKI_X = -2.903534027771177  # root of 4 x^3 - 32 x + 5
STYBLINSKI_G = -39.16616570377141  # 0.5 (x^4 - 16 x^2 + 5 x) at STYBLINSKI_X
SCHWEFEL_X = 420.96874635998216  # maximizer of x sin(sqrt|x|) on [-500, 500]
SCHWEFEL_G = 418.9828872724338  # its maximum
ALPINE_X = 7.917052684666207  # maximizer of sqrt(x) sin(x) on [0, 10], root of tan x = -2 x
ALPINE_G = 2.808131180007005  # its maximum
SHUBERT_XMIN = -1.4251284283197612  # minimizer of g(t) = sum_j j cos((j+1) t + j) on [-10, 10]
SHUBERT_GMIN = -12.870885497725684  # also at -7.70831 and 4.85806
SHUBERT_XMAX = -0.8003211004719731  # maximizer of g (also -7.08351 and 5.48286)
SHUBERT_GMAX = 14.508007927195035
SHUBERT3_X = -1.114099687581852  # minimizer of sum_j j sin((j+1) t + j) (also -7.3973, 5.1691)
SHUBERT3_G = -14.83795002571059
SHUBERT4_X = SHUBERT_XMIN  # Shubert N.4 sums the same one-dimensional g that Shubert multiplies
SHUBERT4_G = SHUBERT_GMIN


def at_zero(f_star=0.0):
    """Minimum at the origin with value ``f_star`` in every dimension."""
    return lambda d: (np.zeros(d), f_star)


def _index(x):
    """``1, ..., d`` as floats, matching the last axis of ``x``."""
    return np.arange(1.0, x.shape[-1] + 1.0)


@objective(
    tags={"continuous", "convex", "separable", "differentiable", "multimodal"},
    bounds=(-2 * np.pi, 2 * np.pi),
    minimum=lambda d: (
        (np.zeros(1), -1.0) if d == 1 else
        (np.r_[0.0, np.full(d - 1, 2 * np.pi)], np.exp(-(d - 1) * (2 * np.pi / 15) ** 10) - 2.0)
    ),
    corrections=[Correction(
        original="stated minimum f(0, ..., 0) = -1 in every d",
        ours="for d >= 2 the minimum is exp(-(d-1)(2 pi/15)^10) - 2 < -1 at (0, 2 pi, ..., 2 pi)",
        source="derived: the product prod x_i^2 vanishes when one coordinate is 0, then "
               "cos^2 = 1 at the box edge 2 pi while the first term falls below 1",
    )],
    reference="[T] (Thevenot's variant of Xin-She Yang N.3 with a product in the exponent)",
)
def thevenot(xp, x):
    r"""Thevenot function: Xin-She Yang N.3 with :math:`\prod x_i^2` in the second exponent.

    .. math:: f(x) = e^{-\sum_i (x_i/\beta)^{2m}} - 2 e^{-\prod_i x_i^2} \prod_i \cos^2 x_i,
       \quad m = 5,\ \beta = 15

    Box :math:`[-2\pi, 2\pi]^d`. Minimum :math:`-1` at 0 for d = 1; for d >= 2,
    :math:`e^{-(d-1)(2\pi/15)^{10}} - 2` at :math:`(0, 2\pi, \dots, 2\pi)` (and its sign and
    permutation copies), on the box boundary. Reference: [T]. Departure: the original states
    :math:`f(0) = -1` for every d.
    """
    m, beta = 5, 15.0
    return (xp.exp(-xp.sum((x / beta) ** (2 * m), axis=-1))
            - 2 * xp.exp(-prod(xp, x * x)) * prod(xp, xp.cos(x) ** 2))


@objective(
    tags={"continuous", "separable", "differentiable", "multimodal"},
    bounds=(-32.0, 32.0), minimum=at_zero(), smooth_at_minimum=False,
    reference="[JY] Ackley 1, [SFU] ackley",
)
def ackley(xp, x):
    r"""Ackley function.

    .. math:: f(x) = -a e^{-b\sqrt{\frac1d\sum_i x_i^2}} - e^{\frac1d\sum_i\cos(c x_i)} + a + e,
       \quad a = 20,\ b = 0.2,\ c = 2\pi

    Box :math:`[-32, 32]^d` (SFU: [-32.768, 32.768]). Minimum 0 at 0, a cone point (not
    differentiable there). Reference: [JY], [SFU].
    """
    r = safe_sqrt(xp, xp.mean(x * x, axis=-1))
    return -20.0 * xp.exp(-0.2 * r) - xp.exp(xp.mean(xp.cos(2 * np.pi * x), axis=-1)) + 20.0 + np.e


def _ackley_n4_minimum(d):
    if d != 2:
        raise UnknownMinimum("ackley_n4: the literature gives the minimum for d = 2 only, "
                             f"not d = {d}")
    return np.array([1.5096201081585965, -0.7548651160362331]), -4.590101634158666


@objective(
    tags={"differentiable", "multimodal"}, min_dim=2,
    bounds=(-35.0, 35.0), minimum=lambda d: _ackley_n4_minimum(d),
    corrections=[
        Correction(
            original="x_{i+1} coded as x[1] (the second coordinate) instead of x[1:]",
            ours="sum over consecutive pairs (x_i, x_{i+1})",
            source="[JY] Ackley 4",
        ),
        Correction(
            original="3 cos(2 x_i) + sin(2 x_{i+1}): the factor 3 misses the sine",
            ours="3 (cos(2 x_i) + sin(2 x_{i+1}))",
            source="[JY] Ackley 4 (the original's own LaTeX has the parenthesis)",
        ),
        Correction(
            original="minimum stated for d = 2 only, returned for every d",
            ours="minimum(d) raises UnknownMinimum for d != 2",
            source="[JY] gives f* = -4.590101633799122 for d = 2 only",
        ),
    ],
    reference="[JY] Ackley 4",
)
def ackley_n4(xp, x):
    r"""Ackley N.4 (modified Ackley) function.

    .. math:: f(x) = \sum_{i=1}^{d-1}\left(e^{-0.2}\sqrt{x_i^2 + x_{i+1}^2}
       + 3\left(\cos 2x_i + \sin 2x_{i+1}\right)\right)

    Box :math:`[-35, 35]^d`, d >= 2. Minimum known for d = 2 only: -4.5901016 at
    :math:`(\pm 1.509620, -0.754865)`; ``minimum(d)`` raises :class:`UnknownMinimum` otherwise.
    Reference: [JY]. Departures: the original indexes ``x[1]`` for :math:`x_{i+1}` and drops
    the factor 3 on the sine.
    """
    a, b = x[..., :-1], x[..., 1:]
    return xp.sum(np.exp(-0.2) * safe_sqrt(xp, a * a + b * b) + 3 * (xp.cos(2 * a) + xp.sin(2 * b)),
                  axis=-1)


@objective(
    tags={"separable", "differentiable", "multimodal"},
    bounds=(0.0, 10.0), minimum=at_zero(), smooth_at_minimum=False,
    reference="[JY] Alpine 1 (box [-10, 10] there; [T] uses [0, 10])",
)
def alpine_n1(xp, x):
    r"""Alpine N.1 function.

    .. math:: f(x) = \sum_i \left|x_i \sin x_i + 0.1 x_i\right|

    Box :math:`[0, 10]^d` as in [T] ([JY]: [-10, 10]). Minimum 0 at 0 (also wherever every
    :math:`\sin x_i = -0.1`), a kink. Reference: [JY].
    """
    return xp.sum(xp.abs(x * xp.sin(x) + 0.1 * x), axis=-1)


@objective(
    tags={"continuous", "separable", "differentiable", "multimodal"},
    bounds=(0.0, 10.0), minimum=lambda d: (np.full(d, ALPINE_X), -power(ALPINE_G, d)),
    reference="[JY] Alpine 2 (stated there for maximization)",
)
def alpine_n2(xp, x):
    r"""Alpine N.2 function (minimization form).

    .. math:: f(x) = -\prod_i \sqrt{x_i}\,\sin x_i

    Box :math:`[0, 10]^d`. Minimum :math:`-2.80813118^d` at :math:`x_i = 7.91705268`
    (root of :math:`\tan x = -2x`). Reference: [JY].
    """
    return -prod(xp, safe_sqrt(xp, x) * xp.sin(x))


def _power(xp, a, b):
    """``a ** b`` for ``a >= 0`` as ``exp(b log a)``, with zero value and derivative at a = 0."""
    positive = a > 0
    return xp.where(positive, xp.exp(b * xp.log(xp.where(positive, a, 1.0))), 0.0)


@objective(
    tags={"continuous", "convex", "differentiable"}, min_dim=2,
    bounds=(-1.0, 4.0), minimum=at_zero(),
    corrections=[Correction(
        original="x_{i+1} coded as x[1] (the second coordinate) instead of x[1:]",
        ours="sum over consecutive pairs (x_i, x_{i+1})",
        source="[JY] Brown",
    )],
    reference="[JY] Brown",
)
def brown(xp, x):
    r"""Brown function.

    .. math:: f(x) = \sum_{i=1}^{d-1} (x_i^2)^{x_{i+1}^2 + 1} + (x_{i+1}^2)^{x_i^2 + 1}

    Box :math:`[-1, 4]^d`, d >= 2. Minimum 0 at 0. Reference: [JY]. Departure: the original
    indexes ``x[1]`` for :math:`x_{i+1}`.
    """
    a, b = x[..., :-1] ** 2, x[..., 1:] ** 2
    return xp.sum(_power(xp, a, b + 1.0) + _power(xp, b, a + 1.0), axis=-1)


@objective(
    tags={"continuous", "convex", "differentiable"},
    bounds=(-10.0, 10.0),
    minimum=lambda d: (2.0 ** -(1.0 - 2.0 ** (1.0 - np.arange(1, d + 1))), 0.0),
    reference="[JY] Dixon & Price, [SFU] dixonpr",
)
def dixon_price(xp, x):
    r"""Dixon-Price function.

    .. math:: f(x) = (x_1 - 1)^2 + \sum_{i=2}^d i\,(2x_i^2 - x_{i-1})^2

    Box :math:`[-10, 10]^d`. Minimum 0 at :math:`x_i = 2^{-(2^i - 2)/2^i}` (and the copies with
    signs flipped from some index on). Reference: [JY], [SFU].
    """
    i = _index(x)[1:]
    return (x[..., 0] - 1.0) ** 2 + xp.sum(i * (2 * x[..., 1:] ** 2 - x[..., :-1]) ** 2, axis=-1)


@objective(
    tags={"continuous", "convex", "separable", "differentiable"},
    bounds=(-1.0, 1.0), minimum=at_zero(-1.0),
    reference="[JY] Exponential",
)
def exponential(xp, x):
    r"""Exponential function.

    .. math:: f(x) = -e^{-\frac12\sum_i x_i^2}

    Box :math:`[-1, 1]^d`. Minimum -1 at 0. Reference: [JY].
    """
    return -xp.exp(-0.5 * xp.sum(x * x, axis=-1))


@objective(
    tags={"continuous", "separable", "differentiable"},
    bounds=(-600.0, 600.0), minimum=at_zero(),
    reference="[JY] Griewank, [SFU] griewank",
)
def griewank(xp, x):
    r"""Griewank function.

    .. math:: f(x) = 1 + \sum_i \frac{x_i^2}{4000} - \prod_i \cos\frac{x_i}{\sqrt i}

    Box :math:`[-600, 600]^d`. Minimum 0 at 0. Reference: [JY], [SFU]. The original flags it
    non-multimodal; it has many local minima.
    """
    return (1.0 + xp.sum(x * x, axis=-1) / 4000.0
            - prod(xp, xp.cos(x / np.sqrt(_index(x)))))


@objective(
    tags={"continuous", "differentiable", "multimodal"},
    bounds=(-2.0, 2.0), minimum=lambda d: (-np.ones(d), 0.0), smooth_at_minimum=False,
    corrections=[Correction(
        original="alpha = 1/2, so the first term is |‖x‖² - d|",
        ours="alpha = 1/8",
        source="Beyer & Finck (2012), HappyCat - a simple function class where well-known "
               "direct search algorithms do fail, PPSN XII",
    )],
    reference="Beyer & Finck (2012)",
)
def happy_cat(xp, x):
    r"""HappyCat function.

    .. math:: f(x) = \left[\left(\|x\|^2 - d\right)^2\right]^{\alpha}
       + \frac1d\left(\frac12\|x\|^2 + \sum_i x_i\right) + \frac12, \quad \alpha = 1/8

    Box :math:`[-2, 2]^d`. Minimum 0 at :math:`(-1, \dots, -1)`, where the first term has an
    infinite slope. Reference: Beyer & Finck (2012). Departure: the original uses
    :math:`\alpha = 1/2`.
    """
    d = x.shape[-1]
    s = xp.sum(x * x, axis=-1)
    return safe_pow(xp, (s - d) ** 2, 0.125) + (0.5 * s + xp.sum(x, axis=-1)) / d + 0.5


MICHALEWICZ_MAX_DIM = 5000  # the search below costs O(d^2) time and memory


def _michalewicz_minimum(d):
    if d > MICHALEWICZ_MAX_DIM:
        raise UnknownMinimum(f"michalewicz: the minimizer is computed for d <= {MICHALEWICZ_MAX_DIM} only "
                             f"(its search costs O(d^2)), not d = {d}")
    x_star, g = michalewicz_coordinates(d)
    return x_star, float(np.sum(g))


@objective(
    tags={"continuous", "separable", "differentiable", "multimodal"},
    bounds=(0.0, np.pi), minimum=_michalewicz_minimum,
    corrections=[Correction(
        original="minimum given for d = 2 only (f(2.20, 1.57) = -1.8013); assertion otherwise",
        ours="minimum in every d, as the sum of d one-dimensional minima (the function is "
             "separable): -1.8013 (d = 2), -4.687658 (d = 5), -9.66015 (d = 10)",
        source="[SFU] michal gives -1.8013, -4.687658, -9.66015 for d = 2, 5, 10",
    )],
    reference="[JY] Michalewicz, [SFU] michal",
)
def michalewicz(xp, x):
    r"""Michalewicz function.

    .. math:: f(x) = -\sum_i \sin x_i \,\sin^{2m}\!\left(\frac{i x_i^2}{\pi}\right), \quad m = 10

    Box :math:`[0, \pi]^d`. Separable, so the minimum is the sum of the d one-dimensional minima,
    computed by Newton's method from each peak of the second factor: -1.8013 (d = 2),
    -4.687658 (d = 5), -9.66015 (d = 10). Reference: [JY], [SFU].
    """
    return -xp.sum(xp.sin(x) * xp.sin(_index(x) * x * x / np.pi) ** 20, axis=-1)


@objective(
    tags={"continuous", "differentiable", "multimodal"},
    bounds=(-10.0, 10.0), minimum=at_zero(0.9),
    reference="[JY] Periodic",
)
def periodic(xp, x):
    r"""Periodic function.

    .. math:: f(x) = 1 + \sum_i \sin^2 x_i - 0.1\,e^{-\sum_i x_i^2}

    Box :math:`[-10, 10]^d`. Minimum 0.9 at 0 in every d (the original says "at d = 2").
    Reference: [JY].
    """
    return 1.0 + xp.sum(xp.sin(x) ** 2, axis=-1) - 0.1 * xp.exp(-xp.sum(x * x, axis=-1))


def _symmetric_box(d):
    return -float(d), float(d)


@objective(
    tags={"continuous", "convex", "differentiable"},
    bounds=_symmetric_box, minimum=lambda d: (1.0 / np.arange(1, d + 1), 0.0),
    corrections=[Correction(
        original="same formula; at d = 100 the values overflow float64 over most of the box",
        ours="same formula, kept: f is inf wherever the true value exceeds 1.8e308 (about "
             "|x_j| > 50 at d = 100); x* = (1, 1/2, ..., 1/d) stays exact",
        source="[SFU] perm0db; overflow measured here",
    )],
    reference="[SFU] perm0db",
)
def perm_zero_d_beta(xp, x):
    r"""Perm function 0, d, beta.

    .. math:: f(x) = \sum_{i=1}^d \left(\sum_{j=1}^d (j + \beta)\left(x_j^i - j^{-i}\right)\right)^2,
       \quad \beta = 10

    Box :math:`[-d, d]^d`. Minimum 0 at :math:`x_j = 1/j`. Reference: [SFU] perm0db. For d near
    100 the values exceed the float64 range over most of the box and evaluate to ``inf``.
    """
    j = _index(x)
    i = j[:, None]
    return xp.sum(xp.sum((j + 10.0) * (powers(xp, x, x.shape[-1]) - (1.0 / j) ** i), axis=-1) ** 2,
                  axis=-1)


@objective(
    tags={"continuous", "differentiable", "multimodal"},
    bounds=_symmetric_box, minimum=lambda d: (np.arange(1.0, d + 1.0), 0.0),
    corrections=[Correction(
        original="stated minimizer np.arange(1, d) = (1, ..., d-1), one coordinate short",
        ours="x* = (1, 2, ..., d)",
        source="[SFU] permdb",
    )],
    reference="[SFU] permdb",
)
def perm_d_beta(xp, x):
    r"""Perm function d, beta.

    .. math:: f(x) = \sum_{i=1}^d \left(\sum_{j=1}^d (j^i + \beta)\left(\left(\frac{x_j}{j}\right)^i
       - 1\right)\right)^2, \quad \beta = 0.5

    Box :math:`[-d, d]^d`. Minimum 0 at :math:`x_j = j`. Reference: [SFU] permdb. Departure: the
    original's minimizer has d - 1 coordinates. Overflows to ``inf`` over most of the box near
    d = 100.
    """
    j = _index(x)
    i = j[:, None]
    return xp.sum(xp.sum((j**i + 0.5) * (powers(xp, x / j, x.shape[-1]) - 1.0), axis=-1) ** 2, axis=-1)


@objective(
    tags={"continuous", "convex", "separable"},
    bounds=(-1.0, 1.0), minimum=at_zero(),
    corrections=[Correction(
        original='named "Powell" but defined as sum_i |x_i|^(i+1)',
        ours="kept the definition (it is the Sum of Different Powers function), and the name "
             "for compatibility; the literature's Powell function (d multiple of 4) is another one",
        source="[SFU] sumpow (Sum of Different Powers) and [SFU] powell",
    )],
    reference="[SFU] sumpow",
)
def powell(xp, x):
    r"""Sum of Different Powers function (called "Powell" in the original collection).

    .. math:: f(x) = \sum_i |x_i|^{i+1}

    Box :math:`[-1, 1]^d`. Minimum 0 at 0. Reference: [SFU] sumpow. The literature's Powell
    function is a different, quartic function of groups of 4 coordinates.
    """
    return xp.sum(xp.abs(x) ** (_index(x) + 1.0), axis=-1)


@objective(
    tags={"continuous", "separable", "differentiable", "multimodal"},
    bounds=(-500.0, 500.0), minimum=lambda d: (np.sqrt(np.arange(1.0, d + 1.0)), 0.0),
    reference="[JY] Qing",
)
def qing(xp, x):
    r"""Qing function.

    .. math:: f(x) = \sum_i (x_i^2 - i)^2

    Box :math:`[-500, 500]^d`. Minimum 0 at :math:`x_i = \pm\sqrt i` (:math:`2^d` minimizers).
    Reference: [JY].
    """
    return xp.sum((x * x - _index(x)) ** 2, axis=-1)


def _quartic_noise(xp, x, value, rng):
    return value + rng.random(x.shape[:-1])


@objective(
    tags={"continuous", "separable", "differentiable", "multimodal", "random"},
    bounds=(-1.28, 1.28), minimum=at_zero(), noise=_quartic_noise,
    corrections=[Correction(
        original="adds np.random.random() (global generator) at every call",
        ours="f(x) is the noise-free part sum_i i x_i^4; f(x, rng=generator) adds U[0, 1) per "
             "point from the generator passed in",
        source="[JY] Quartic (noise term random[0, 1))",
    )],
    reference="[JY] Quartic",
)
def quartic(xp, x):
    r"""Quartic function with noise (De Jong F4).

    .. math:: f(x) = \sum_i i\,x_i^4 \;\left[+\ \text{U}[0, 1)\right]

    Box :math:`[-1.28, 1.28]^d`. ``f(x)`` is the noise-free part, minimum 0 at 0;
    ``f(x, rng=generator)`` adds one U[0, 1) draw per point, from that generator only.
    Reference: [JY].
    """
    return xp.sum(_index(x) * x**4, axis=-1)


@objective(
    tags={"continuous", "separable", "differentiable", "multimodal"},
    bounds=(-5.12, 5.12), minimum=at_zero(),
    reference="[JY] Rastrigin, [SFU] rastr",
)
def rastrigin(xp, x):
    r"""Rastrigin function.

    .. math:: f(x) = 10d + \sum_i \left(x_i^2 - 10\cos 2\pi x_i\right)

    Box :math:`[-5.12, 5.12]^d`. Minimum 0 at 0. Reference: [JY], [SFU].
    """
    return 10.0 * x.shape[-1] + xp.sum(x * x - 10.0 * xp.cos(2 * np.pi * x), axis=-1)


@objective(
    tags={"continuous", "differentiable"},
    bounds=(-5.0, 5.0), minimum=lambda d: (np.r_[-5.0, np.zeros(d - 1)], -5.0),
    constrained=True, smooth_at_minimum=False,
    reference="[T] Ridge (beta = 2, alpha = 0.1); unbounded below outside the box",
)
def ridge(xp, x):
    r"""Ridge function.

    .. math:: f(x) = x_1 + \beta\left(\sum_{i=2}^d x_i^2\right)^{\alpha}, \quad \beta = 2,\ \alpha = 0.1

    Box :math:`[-5, 5]^d`; unbounded below outside it (the paper projects on the box). Minimum
    -5 at :math:`(-5, 0, \dots, 0)`, on the boundary and at a cusp. Reference: [T].
    """
    return x[..., 0] + 2.0 * safe_pow(xp, xp.sum(x[..., 1:] ** 2, axis=-1), 0.1)


@objective(
    tags={"continuous", "differentiable", "multimodal"}, min_dim=2,
    bounds=(-5.0, 10.0), minimum=lambda d: (np.ones(d), 0.0),
    reference="[JY] Rosenbrock, [SFU] rosen; scipy.optimize.rosen",
)
def rosenbrock(xp, x):
    r"""Rosenbrock function.

    .. math:: f(x) = \sum_{i=1}^{d-1} \left[100\,(x_{i+1} - x_i^2)^2 + (1 - x_i)^2\right]

    Box :math:`[-5, 10]^d`, d >= 2. Minimum 0 at :math:`(1, \dots, 1)`. Reference: [JY],
    [SFU]. (The original wraps the sum in a redundant ``abs``.)
    """
    a, b = x[..., :-1], x[..., 1:]
    return xp.sum(100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2, axis=-1)


@objective(
    tags={"continuous", "convex", "differentiable"},
    bounds=(-65.536, 65.536), minimum=at_zero(),
    reference="[SFU] rothyp",
)
def rotated_hyper_ellipsoid(xp, x):
    r"""Rotated hyper-ellipsoid function.

    .. math:: f(x) = \sum_{i=1}^d \sum_{j=1}^i x_j^2 = \sum_{j=1}^d (d + 1 - j)\,x_j^2

    Box :math:`[-65.536, 65.536]^d`. Minimum 0 at 0. Reference: [SFU] rothyp.
    """
    d = x.shape[-1]
    return xp.sum((d + 1.0 - _index(x)) * x * x, axis=-1)


@objective(
    tags={"continuous", "differentiable", "multimodal"},
    bounds=(-100.0, 100.0), minimum=at_zero(), smooth_at_minimum=False,
    reference="[JY] Salomon",
)
def salomon(xp, x):
    r"""Salomon function.

    .. math:: f(x) = 1 - \cos\left(2\pi\|x\|\right) + 0.1\,\|x\|

    Box :math:`[-100, 100]^d`. Minimum 0 at 0 (a cone point). Reference: [JY].
    """
    r = safe_norm(xp, x)
    return 1.0 - xp.cos(2 * np.pi * r) + 0.1 * r


@objective(
    tags={"continuous", "separable", "multimodal"},
    bounds=(-500.0, 500.0),
    minimum=lambda d: (np.full(d, SCHWEFEL_X), d * (418.9829 - SCHWEFEL_G)),
    corrections=[Correction(
        original="stated f(420.9687, ..., 420.9687) = 0",
        ours="f* = d (418.9829 - 418.9828872724338) = 1.2728e-5 d at x_i = 420.968746 "
             "(the constant 418.9829 is rounded)",
        source="[SFU] schwef; one-dimensional maximum of x sin(sqrt|x|) computed here",
    )],
    reference="[SFU] schwef, [JY]",
)
def schwefel(xp, x):
    r"""Schwefel function (Schwefel 2.26).

    .. math:: f(x) = 418.9829\,d - \sum_i x_i \sin\sqrt{|x_i|}

    Box :math:`[-500, 500]^d`. Minimum :math:`1.2728\cdot 10^{-5}\,d` (0 up to the rounding of
    418.9829) at :math:`x_i = 420.9687`. Reference: [SFU] schwef.
    """
    return 418.9829 * x.shape[-1] - xp.sum(x * xp.sin(safe_sqrt(xp, xp.abs(x))), axis=-1)


@objective(
    tags={"continuous", "convex", "separable"},
    bounds=(-100.0, 100.0), minimum=at_zero(), smooth_at_minimum=False,
    reference="[JY] Schwefel 2.20 (without its spurious minus sign)",
)
def schwefel_2_20(xp, x):
    r"""Schwefel 2.20 function.

    .. math:: f(x) = \sum_i |x_i|

    Box :math:`[-100, 100]^d`. Minimum 0 at 0. Reference: [JY].
    """
    return xp.sum(xp.abs(x), axis=-1)


@objective(
    tags={"continuous", "convex", "separable"},
    bounds=(-100.0, 100.0), minimum=at_zero(), smooth_at_minimum=False,
    reference="[JY] Schwefel 2.21",
)
def schwefel_2_21(xp, x):
    r"""Schwefel 2.21 function.

    .. math:: f(x) = \max_i |x_i|

    Box :math:`[-100, 100]^d`. Minimum 0 at 0. Reference: [JY].
    """
    return xp.max(xp.abs(x), axis=-1)


@objective(
    tags={"continuous", "convex", "separable"},
    bounds=(-100.0, 100.0), minimum=at_zero(), smooth_at_minimum=False,
    reference="[JY] Schwefel 2.22",
)
def schwefel_2_22(xp, x):
    r"""Schwefel 2.22 function.

    .. math:: f(x) = \sum_i |x_i| + \prod_i |x_i|

    Box :math:`[-100, 100]^d`. Minimum 0 at 0. Reference: [JY].
    """
    a = xp.abs(x)
    return xp.sum(a, axis=-1) + prod(xp, a)


@objective(
    tags={"continuous", "convex", "separable"},
    bounds=(-10.0, 10.0), minimum=at_zero(),
    reference="[JY] Schwefel 2.23",
)
def schwefel_2_23(xp, x):
    r"""Schwefel 2.23 function.

    .. math:: f(x) = \sum_i x_i^{10}

    Box :math:`[-10, 10]^d`. Minimum 0 at 0. Reference: [JY]. (The original flags it
    non-differentiable; it is a polynomial.)
    """
    return xp.sum(x**10, axis=-1)


def _shubert_terms(xp, x, trig):
    """``sum_j j trig((j+1) x_i + j)`` for every coordinate: shape ``(..., d)``."""
    j = np.arange(1.0, 6.0)
    return xp.sum(j * trig((j + 1.0) * x[..., None] + j), axis=-1)


@objective(
    tags={"continuous", "differentiable", "multimodal"},
    bounds=(-10.0, 10.0),
    minimum=lambda d: (np.r_[SHUBERT_XMIN, np.full(d - 1, SHUBERT_XMAX)],
                       SHUBERT_GMIN * power(SHUBERT_GMAX, d - 1)),
    corrections=[
        Correction(
            original="prod_i sum_j cos((j+1) x_i + j): the weight j is missing",
            ours="prod_i sum_j j cos((j+1) x_i + j)",
            source="[JY] Shubert, [SFU] shubert",
        ),
        Correction(
            original="states f* = -186.7309 (the d = 2 value) with no minimizer, for every d",
            ours="f* = g_min g_max^(d-1) with g the one-dimensional factor (g_min = -12.8709, "
                 "g_max = 14.5080): one factor at its minimum, the others at their maximum",
            source="derived from the product form; d = 2 gives [JY]'s -186.7309",
        ),
    ],
    reference="[JY] Shubert, [SFU] shubert",
)
def shubert(xp, x):
    r"""Shubert function.

    .. math:: f(x) = \prod_{i=1}^d \sum_{j=1}^5 j\cos\left((j+1)x_i + j\right)

    Box :math:`[-10, 10]^d`. With :math:`g(t) = \sum_j j\cos((j+1)t + j)`,
    :math:`g_{\min} = -12.8709`, :math:`g_{\max} = 14.5080`, the minimum is
    :math:`g_{\min} g_{\max}^{d-1}` (-186.7309 for d = 2), reached with one coordinate at
    :math:`\arg\min g` and the others at :math:`\arg\max g`. Reference: [JY], [SFU].
    Departure: the original drops the weight j.
    """
    return prod(xp, _shubert_terms(xp, x, xp.cos))


@objective(
    tags={"continuous", "differentiable", "multimodal"},
    bounds=(-10.0, 10.0), minimum=lambda d: (np.full(d, SHUBERT3_X), d * SHUBERT3_G),
    corrections=[Correction(
        original="stated minimizer (-7.4, -7.4) whatever d (f = -29.6733 for d = 2)",
        ours="x_i = -1.1141 (or -7.3973, 5.1691), f* = -14.83795 d (-29.67590 for d = 2)",
        source="[JY] Shubert 3 (f* = -29.6733337, the value at -7.4); separable sum minimized here",
    )],
    reference="[JY] Shubert 3",
)
def shubert_n3(xp, x):
    r"""Shubert N.3 function.

    .. math:: f(x) = \sum_{i=1}^d \sum_{j=1}^5 j\sin\left((j+1)x_i + j\right)

    Box :math:`[-10, 10]^d`. Separable: minimum :math:`-14.837950\,d` (-29.6759 for d = 2) with
    every :math:`x_i` at a minimizer of the one-dimensional sum (-1.1141, -7.3973 or 5.1691). Reference: [JY].
    Departure: the original states a minimizer of length 2.
    """
    return xp.sum(_shubert_terms(xp, x, xp.sin), axis=-1)


@objective(
    tags={"continuous", "differentiable", "multimodal"},
    bounds=(-10.0, 10.0), minimum=lambda d: (np.full(d, SHUBERT4_X), d * SHUBERT4_G),
    corrections=[Correction(
        original="stated minimizer (4.85, 4.85) whatever d, f = -25.72 for d = 2",
        ours="x_i = -1.42513 (or -7.70831, 4.85806), f* = -12.870885 d (-25.741771 for d = 2)",
        source="[JY] Shubert 4 (f* = -25.740858 for d = 2); separable sum minimized here",
    )],
    reference="[JY] Shubert 4",
)
def shubert_n4(xp, x):
    r"""Shubert N.4 function.

    .. math:: f(x) = \sum_{i=1}^d \sum_{j=1}^5 j\cos\left((j+1)x_i + j\right)

    Box :math:`[-10, 10]^d`. Separable: minimum :math:`-12.870885\,d` with every :math:`x_i` at a
    minimizer of the one-dimensional sum (-1.42513, -7.70831 or 4.85806). Reference: [JY].
    Departure: the original states a minimizer of length 2 and f* = -25.72 for d = 2.
    """
    return xp.sum(_shubert_terms(xp, x, xp.cos), axis=-1)


@objective(
    tags={"continuous", "convex", "separable"},
    bounds=(-5.12, 5.12), minimum=at_zero(),
    reference="[JY] Sphere, [SFU] spheref",
)
def sphere(xp, x):
    r"""Sphere function.

    .. math:: f(x) = \sum_i x_i^2

    Box :math:`[-5.12, 5.12]^d`. Minimum 0 at 0. Reference: [SFU] spheref. (The original flags
    it non-differentiable.)
    """
    return xp.sum(x * x, axis=-1)


@objective(
    tags={"continuous", "separable", "differentiable", "multimodal"},
    bounds=(-5.0, 5.0), minimum=lambda d: (np.full(d, STYBLINSKI_X), d * STYBLINSKI_G),
    corrections=[Correction(
        original="stated f* = -39.16599 d",
        ours="f* = -39.16616570377141 d at x_i = -2.903534027771177",
        source="[SFU] stybtang (-39.16599 d is a rounding); root of 4x^3 - 32x + 5 computed here",
    )],
    reference="[SFU] stybtang",
)
def styblinski_tank(xp, x):
    r"""Styblinski-Tang function.

    .. math:: f(x) = \frac12\sum_i \left(x_i^4 - 16x_i^2 + 5x_i\right)

    Box :math:`[-5, 5]^d`. Minimum :math:`-39.16616570377142\,d` at :math:`x_i = -2.903534`.
    Reference: [SFU] stybtang.
    """
    return 0.5 * xp.sum(x**4 - 16.0 * x * x + 5.0 * x, axis=-1)


@objective(
    tags={"continuous", "convex", "separable", "differentiable"},
    bounds=(-10.0, 10.0), minimum=at_zero(),
    reference="[SFU] sumsqu",
)
def sum_squares(xp, x):
    r"""Sum of squares (axis-parallel hyper-ellipsoid) function.

    .. math:: f(x) = \sum_i i\,x_i^2

    Box :math:`[-10, 10]^d`. Minimum 0 at 0. Reference: [SFU] sumsqu.
    """
    return xp.sum(_index(x) * x * x, axis=-1)


@objective(
    tags={"continuous", "convex", "differentiable"},
    bounds=lambda d: (-float(d * d), float(d * d)),
    minimum=lambda d: (np.arange(1.0, d + 1.0) * (d - np.arange(1.0, d + 1.0) + 1.0),
                       -d * (d + 4.0) * (d - 1.0) / 6.0),
    reference="[SFU] trid",
)
def trid(xp, x):
    r"""Trid function.

    .. math:: f(x) = \sum_{i=1}^d (x_i - 1)^2 - \sum_{i=2}^d x_i x_{i-1}

    Box :math:`[-d^2, d^2]^d`. Minimum :math:`-d(d+4)(d-1)/6` at :math:`x_i = i(d + 1 - i)`.
    Reference: [SFU] trid.
    """
    return xp.sum((x - 1.0) ** 2, axis=-1) - xp.sum(x[..., 1:] * x[..., :-1], axis=-1)


def _xin_she_yang_noise(xp, x, value, rng):
    return xp.sum(rng.random(x.shape) * xp.abs(x) ** _index(x), axis=-1)


@objective(
    tags={"separable", "multimodal", "random"},
    bounds=(-5.0, 5.0), minimum=at_zero(), noise=_xin_she_yang_noise, smooth_at_minimum=False,
    corrections=[Correction(
        original="epsilon_i ~ U[0, 1) drawn from the global np.random at every call",
        ours="f(x) fixes epsilon_i = 1/2, the mean, so f(x) = E[f(x, rng)] and the random "
             "version's gradient is unbiased for f's; f(x, rng=generator) draws epsilon_i "
             "from that generator",
        source="[JY] Xin-She Yang 1 (epsilon_i random in [0, 1])",
    )],
    reference="[JY] Xin-She Yang 1",
)
def xin_she_yang(xp, x):
    r"""Xin-She Yang function (N.1), with random weights.

    .. math:: f(x) = \sum_i \epsilon_i |x_i|^i, \quad \epsilon_i \sim \text{U}[0, 1)

    Box :math:`[-5, 5]^d`. ``f(x)`` fixes :math:`\epsilon_i = 1/2` (the expectation of the
    random function); ``f(x, rng=generator)`` draws :math:`\epsilon_i` per point and coordinate
    from that generator. Minimum 0 at 0 either way. Reference: [JY].
    """
    return 0.5 * xp.sum(xp.abs(x) ** _index(x), axis=-1)


@objective(
    tags={"multimodal"},
    bounds=(-2 * np.pi, 2 * np.pi), minimum=at_zero(), smooth_at_minimum=False,
    reference="[JY] Xin-She Yang 2",
)
def xin_she_yang_n2(xp, x):
    r"""Xin-She Yang N.2 function.

    .. math:: f(x) = \left(\sum_i |x_i|\right) e^{-\sum_i \sin(x_i^2)}

    Box :math:`[-2\pi, 2\pi]^d`. Minimum 0 at 0. Reference: [JY].
    """
    return xp.sum(xp.abs(x), axis=-1) * xp.exp(-xp.sum(xp.sin(x * x), axis=-1))


@objective(
    tags={"continuous", "convex", "differentiable"},
    bounds=(-2 * np.pi, 2 * np.pi), minimum=at_zero(-1.0),
    reference="[JY] Xin-She Yang 3",
)
def xin_she_yang_n3(xp, x):
    r"""Xin-She Yang N.3 function.

    .. math:: f(x) = e^{-\sum_i (x_i/\beta)^{2m}} - 2e^{-\sum_i x_i^2}\prod_i\cos^2 x_i,
       \quad m = 5,\ \beta = 15

    Box :math:`[-2\pi, 2\pi]^d`. Minimum -1 at 0. Reference: [JY]. The original flags it
    convex and non-multimodal; it has local minima near :math:`x_i = k\pi`.
    """
    return (xp.exp(-xp.sum((x / 15.0) ** 10, axis=-1))
            - 2.0 * xp.exp(-xp.sum(x * x, axis=-1)) * prod(xp, xp.cos(x) ** 2))


@objective(
    tags={"continuous", "convex"},
    bounds=(-10.0, 10.0), minimum=at_zero(-1.0), smooth_at_minimum=False,
    corrections=[Correction(
        original="sum_i (sin^2 x_i - exp(-(sum_i x_i)^2)): the square of the sum, inside the "
                 "sum over i, so f(0) = -d",
        ours="(sum_i sin^2 x_i - exp(-sum_i x_i^2)) exp(-sum_i sin^2 sqrt|x_i|), f* = -1 at 0",
        source="[JY] Xin-She Yang 4",
    )],
    reference="[JY] Xin-She Yang 4",
)
def xin_she_yang_n4(xp, x):
    r"""Xin-She Yang N.4 function.

    .. math:: f(x) = \left(\sum_i \sin^2 x_i - e^{-\sum_i x_i^2}\right) e^{-\sum_i \sin^2\sqrt{|x_i|}}

    Box :math:`[-10, 10]^d`. Minimum -1 at 0 (a kink). Reference: [JY]. Departure: the
    original subtracts :math:`e^{-(\sum_i x_i)^2}` once per coordinate, so its value at 0 is -d.
    """
    return ((xp.sum(xp.sin(x) ** 2, axis=-1) - xp.exp(-xp.sum(x * x, axis=-1)))
            * xp.exp(-xp.sum(xp.sin(safe_sqrt(xp, xp.abs(x))) ** 2, axis=-1)))


@objective(
    tags=set(),
    bounds=(-5.0, 10.0), minimum=at_zero(),
    corrections=[Correction(
        original="stated f(0, ..., 0) = -1",
        ours="f* = 0 at 0 (the value the formula gives)",
        source="[JY], [SFU] zakharov",
    )],
    reference="[JY] Zakharov, [SFU] zakharov",
)
def zakharov(xp, x):
    r"""Zakharov function.

    .. math:: f(x) = \sum_i x_i^2 + \left(\sum_i \tfrac12 i x_i\right)^2 + \left(\sum_i \tfrac12 i x_i\right)^4

    Box :math:`[-5, 10]^d`. Minimum 0 at 0. Reference: [JY], [SFU]. (The original flags it
    neither continuous nor differentiable; it is a polynomial.)
    """
    s = xp.sum(0.5 * _index(x) * x, axis=-1)
    return xp.sum(x * x, axis=-1) + s * s + s**4

r"""COCO's ``bbob`` suite: the 24 noiseless functions, written for autograd and JAX.

Every function of every instance is an :class:`~forwardgrad.objectives.Objective` record:
``get("bbob/f8", instance=1)``. Instance parameters (the optimum ``x_opt``, the value ``f_opt``,
the rotations, Gallagher's peaks) are derived, at first use and per dimension, from COCO's own
pseudo-random generator (:func:`uniform`, :func:`gauss`) with COCO's seeds; nothing here needs
COCO's package at run time (the tests check every value against its C code, ``cocoex``).

References:
[H09] Hansen, N., Finck, S., Ros, R. & Auger, A. (2009). Real-parameter black-box optimization
benchmarking 2009: noiseless functions definitions. INRIA research report RR-6829.
[COCO] Hansen, N., Auger, A., Ros, R., Mersmann, O., Tusar, T. & Brockhoff, D. (2021). COCO: a
platform for comparing continuous optimizers in a black-box setting. Optimization Methods and
Software 36(1), 114-144. The seeds follow its ``bbob`` suite: ``seed = f + 10000 * instance``
(f4 and f18 reuse the seeds of f3 and f17).
"""

import functools
import math

import numpy as np

from ..engines import namespace as _namespace
from ._registry import Objective, prod, safe_pow, safe_sqrt

FUNCTIONS = tuple(range(1, 25))
NAMES = {1: "sphere", 2: "ellipsoid", 3: "rastrigin", 4: "bueche_rastrigin", 5: "linear_slope",
         6: "attractive_sector", 7: "step_ellipsoid", 8: "rosenbrock", 9: "rosenbrock_rotated",
         10: "ellipsoid_rotated", 11: "discus", 12: "bent_cigar", 13: "sharp_ridge",
         14: "different_powers", 15: "rastrigin_rotated", 16: "weierstrass",
         17: "schaffers_f7", 18: "schaffers_f7_ill", 19: "griewank_rosenbrock", 20: "schwefel",
         21: "gallagher_101", 22: "gallagher_21", 23: "katsuura", 24: "lunacek_bi_rastrigin"}
GROUPS = {"separable": (1, 2, 3, 4, 5), "moderate": (6, 7, 8, 9),
          "ill-conditioned": (10, 11, 12, 13, 14), "multimodal": (15, 16, 17, 18, 19),
          "weakly structured": (20, 21, 22, 23, 24)}
LOWER, UPPER = -5.0, 5.0


# --- COCO's pseudo-random numbers [H09, section 0; COCO's bbob2009 legacy code] -------------

@functools.lru_cache(maxsize=4096)
def _uniform(n, seed):
    seed = max(abs(int(seed)), 1)
    state, table = seed, [0] * 32

    def lehmer(s):  # Park and Miller's minimal standard, Schrage's factorisation
        t = s // 127773
        s = 16807 * (s - t * 127773) - 2836 * t
        return s + 2147483647 if s < 0 else s

    for i in range(39, -1, -1):
        state = lehmer(state)
        if i < 32:
            table[i] = state
    out, last = [], table[0]
    for _ in range(n):
        state = lehmer(state)
        k = last // 67108865
        last, table[k] = table[k], state
        out.append(last / 2.147483647e9 or 1e-99)
    return tuple(out)


def uniform(n, seed):
    r"""COCO's ``n`` uniform numbers in (0, 1] for ``seed``: a Park-Miller generator behind a
    32-entry Bays-Durham shuffle table, 40 warm-up draws; 0 is replaced by 1e-99 [H09]."""
    return np.array(_uniform(int(n), int(seed)))


def gauss(n, seed):
    r"""COCO's ``n`` standard normal numbers: Box-Muller on :func:`uniform` ``(2n, seed)``,
    :math:`g_i = \sqrt{-2\ln u_i}\cos(2\pi u_{n+i})`; 0 is replaced by 1e-99 [H09]."""
    u = _uniform(2 * n, seed)
    # math's log and cos (the C library's), not NumPy's vector ones: one unit in the last place
    # of a rotation moves f19 by more than 1e-9 (cos of arguments near 1e6)
    g = [math.sqrt(-2 * math.log(u[i])) * math.cos(2 * math.pi * u[n + i]) for i in range(n)]
    return np.array([v or 1e-99 for v in g])


def rotation(seed, d):
    r"""COCO's random rotation: Gram-Schmidt on the columns of a ``d x d`` matrix of
    :func:`gauss` numbers (``B[i, j] = g[j d + i]``), shape ``(d, d)`` [H09]."""
    g = gauss(d * d, seed).tolist()
    cols = [g[i * d:(i + 1) * d] for i in range(d)]  # column i of B is g[i d : (i + 1) d]

    def dot(a, b):  # in COCO's order: the digits of f19 and f23 depend on it
        total = 0.0
        for ak, bk in zip(a, b):
            total += ak * bk
        return total

    for i in range(d):
        for j in range(i):
            c = dot(cols[i], cols[j])
            cols[i] = [a - c * b for a, b in zip(cols[i], cols[j])]
        norm = math.sqrt(dot(cols[i], cols[i]))
        cols[i] = [a / norm for a in cols[i]]
    return np.array(cols).T


def x_opt(seed, d):
    r""":math:`x_{opt,i} = 8\lfloor 10^4 u_i\rfloor/10^4 - 4` (0 becomes -1e-5) [H09]."""
    x = 8 * np.floor(1e4 * uniform(d, seed)) / 1e4 - 4
    return np.where(x == 0, -1e-5, x)


def f_opt(function, instance):
    r""":math:`f_{opt} = \mathrm{round}(100\,g_1/g_2)/100` clipped to [-1000, 1000], two normal
    numbers of seed ``f + 10000 i`` (f4 and f18 use the seeds of f3 and f17) [H09]."""
    seed = {4: 3, 18: 17}.get(function, function) + 10000 * instance
    value = math.floor(100 * 100 * gauss(1, seed)[0] / gauss(1, seed + 1)[0] + 0.5) / 100
    return min(1000.0, max(-1000.0, value))


def _seed(function, instance):
    return {4: 3, 18: 17}.get(function, function) + 10000 * instance


# --- the transformations of [H09, section 0.2] ------------------------------------------------

def _ramp(d):
    """``i / (d - 1)`` for ``i = 0 .. d-1``."""
    return np.arange(d) / (d - 1)


def lam(alpha, d):
    r"""Diagonal of :math:`\Lambda^\alpha`: :math:`\alpha^{\frac12 \frac{i}{d-1}}`."""
    return alpha ** (0.5 * _ramp(d))


def t_osz(xp, x):
    r""":math:`T_{osz}(x) = \mathrm{sign}(x)\exp(\hat x + 0.049(\sin c_1\hat x + \sin c_2\hat x))`,
    :math:`\hat x = \ln|x|` (0 at 0), :math:`c_1, c_2 = 10, 7.9` for x > 0 and 5.5, 3.1 else."""
    positive, nonzero = x > 0, x != 0
    h = xp.log(xp.where(nonzero, xp.abs(x), 1.0))
    c1, c2 = xp.where(positive, 10.0, 5.5), xp.where(positive, 7.9, 3.1)
    y = xp.exp(h + 0.049 * (xp.sin(c1 * h) + xp.sin(c2 * h)))
    return xp.where(nonzero, xp.where(positive, y, -y), 0.0)


def t_asy(xp, x, beta):
    r""":math:`T_{asy}^\beta(x)_i = x_i^{1 + \beta\frac{i}{d-1}\sqrt{x_i}}` where :math:`x_i > 0`."""
    positive = x > 0
    s = xp.where(positive, x, 1.0)
    return xp.where(positive, s ** (1 + beta * _ramp(x.shape[-1]) * xp.sqrt(s)), x)


def f_pen(xp, x):
    r""":math:`f_{pen}(x) = \sum_i \max(0, |x_i| - 5)^2`."""
    return xp.sum(xp.maximum(0.0, xp.abs(x) - 5.0) ** 2, axis=-1)


def affine(xp, x, M, b=0.0):
    r""":math:`b + Mx` on the last axis of ``x``, summed in COCO's order (term by term, ``j``
    increasing): on f19 and f23 a matrix product's other order moves values by more than
    1e-9 relative, as the cosine of a large argument and the digits of :math:`2^{32} z` amplify it.
    ``M`` may carry leading axes (one matrix per instance, :func:`stacked`)."""
    y = b + x[..., 0:1] * M[..., :, 0]
    for j in range(1, x.shape[-1]):
        y = y + x[..., j:j + 1] * M[..., :, j]
    return y


def _product(R, scale, Q):
    """``R diag(scale) Q`` summed over the middle index in increasing order (as COCO builds it)."""
    M = np.zeros_like(R)
    for k in range(R.shape[0]):
        M = M + (R[:, k] * scale[k])[:, None] * Q[k]
    return M


def _round(xp, x):
    return xp.floor(x + 0.5)


def _rastrigin(xp, z):
    d = z.shape[-1]
    return 10 * (d - xp.sum(xp.cos(2 * math.pi * z), axis=-1)) + xp.sum(z * z, axis=-1)


def _ellipsoid(xp, z):
    return xp.sum(1e6 ** _ramp(z.shape[-1]) * z * z, axis=-1)


def _rosenbrock(xp, z):
    return xp.sum(100 * (z[..., :-1] ** 2 - z[..., 1:]) ** 2 + (z[..., :-1] - 1) ** 2, axis=-1)


def _schaffer(xp, z):
    s = z[..., :-1] ** 2 + z[..., 1:] ** 2
    terms = safe_pow(xp, s, 0.25) * (1 + xp.sin(50 * safe_pow(xp, s, 0.1)) ** 2)
    return (xp.sum(terms, axis=-1) / (z.shape[-1] - 1)) ** 2


# --- instance parameters, per (function, instance, d) -----------------------------------------

@functools.lru_cache(maxsize=None)
def parameters(function, instance, d):
    """The instance's constants in dimension ``d`` (a dict of arrays and floats)."""
    seed = _seed(function, instance)
    p = {"f_opt": f_opt(function, instance), "x_opt": x_opt(seed, d)}
    if function in (6, 7, 13, 15, 16, 17, 18, 23, 24):
        p["Q"], p["R"] = rotation(seed, d), rotation(seed + 1000000, d)
    elif function in (10, 11, 12, 14):
        p["R"] = rotation(seed + 1000000, d)
    if function == 4:
        p["x_opt"] = np.where(np.arange(d) % 2 == 0, np.abs(p["x_opt"]), p["x_opt"])
    elif function == 5:
        p["x_opt"] = np.where(p["x_opt"] < 0, LOWER, UPPER)
    elif function == 12:
        p["x_opt"] = x_opt(seed + 1000000, d)
    elif function in (8, 9, 19):
        p["scale"] = max(1.0, math.sqrt(d) / 8)
        if function == 8:
            p["x_opt"] = 0.75 * p["x_opt"]
        else:  # z = scale R x + 1/2 is 1 at the optimum
            p["R"] = rotation(seed, d)
            p["x_opt"] = p["R"].T @ np.full(d, 0.5 / p["scale"])
    elif function == 20:
        p["x_opt"] = np.where(uniform(d, seed) < 0.5, -1.0, 1.0) * 0.5 * 4.2096874637
    elif function in (21, 22):
        p.update(_gallagher(seed, d, 101 if function == 21 else 21))
    elif function == 24:
        p["x_opt"] = np.where(gauss(d, seed) < 0, -1.0, 1.0) * 0.5 * 2.5
    if function in (6, 13, 15, 23):
        alpha = {6: 10.0, 13: 10.0, 15: 10.0, 23: 100.0}[function]
        p["M"] = _product(p["R"], lam(alpha, d), p["Q"])
    elif function == 16:
        p["M"] = _product(p["R"], lam(0.01, d), p["Q"])
    elif function in (17, 18):
        p["M"] = lam(10.0 if function == 17 else 1000.0, d)[:, None] * p["Q"]
    p = {k: (np.array(v) if isinstance(v, np.ndarray) else v) for k, v in p.items()}
    for v in p.values():
        if isinstance(v, np.ndarray):
            v.setflags(write=False)
    return p


def _gallagher(seed, d, peaks):
    r"""Gallagher's peaks [H09, f21, f22]: rotation ``R``, local optima ``y`` (rotated, in
    rows), the scales :math:`\alpha_i^{j/(d-1) - 1/2}` in a random order of the coordinates,
    peak heights ``w`` (10 for the global one, then evenly from 1.1 to 9.1)."""
    R = rotation(seed, d)
    b, c, first = (10.0, 5.0, math.sqrt(1000.0)) if peaks == 101 else (9.8, 4.9, 1000.0)
    order = np.argsort(uniform(peaks - 1, seed), kind="stable")
    alpha = np.r_[first, 1000.0 ** (order / (peaks - 2))]
    scales = np.empty((peaks, d))
    for i in range(peaks):
        rank = np.argsort(uniform(d, seed + 1000 * i), kind="stable")
        scales[i] = alpha[i] ** (rank / (d - 1) - 0.5)
    u = uniform(d * peaks, seed)
    y = (b * u.reshape(peaks, d) - c)
    y[0] *= 0.8
    w = np.r_[10.0, 1.1 + 8.0 * np.arange(peaks - 1) / (peaks - 2)]
    return {"R": R, "y": affine(np, y, R), "scales": scales, "w": w, "x_opt": 0.8 * (b * u[:d] - c)}


# --- the 24 functions [H09]: raw value, f_opt added by the wrapper ----------------------------

def f1(xp, x, p):
    """Sphere: :math:`\\|z\\|^2`, :math:`z = x - x_{opt}`."""
    z = x - p["x_opt"]
    return xp.sum(z * z, axis=-1)


def f2(xp, x, p):
    """Separable ellipsoid: :math:`\\sum 10^{6\\frac{i}{d-1}} z_i^2`, :math:`z = T_{osz}(x - x_{opt})`."""
    return _ellipsoid(xp, t_osz(xp, x - p["x_opt"]))


def f3(xp, x, p):
    """Rastrigin: :math:`10(d - \\sum\\cos 2\\pi z_i) + \\|z\\|^2`,
    :math:`z = \\Lambda^{10} T_{asy}^{0.2}(T_{osz}(x - x_{opt}))`."""
    d = x.shape[-1]
    return _rastrigin(xp, lam(10.0, d) * t_asy(xp, t_osz(xp, x - p["x_opt"]), 0.2))


def f4(xp, x, p):
    """Bueche-Rastrigin: Rastrigin of :math:`z_i = s_i T_{osz}(x_i - x_{opt,i})`,
    :math:`s_i = 10^{\\frac12\\frac{i}{d-1}}`, times 10 where :math:`z_i > 0` and i is even
    (from 0), plus :math:`100 f_{pen}(x)`."""
    d = x.shape[-1]
    z = t_osz(xp, x - p["x_opt"])
    even = np.arange(d) % 2 == 0
    s = xp.where((z > 0) & even, 10.0, 1.0) * lam(10.0, d)
    return _rastrigin(xp, s * z) + 100 * f_pen(xp, x)


def f5(xp, x, p):
    """Linear slope: :math:`\\sum 5|s_i| - s_i z_i`, :math:`s_i = \\mathrm{sign}(x_{opt,i})
    10^{\\frac{i}{d-1}}`, :math:`z_i = x_i` if :math:`x_i x_{opt,i} < 25` else :math:`x_{opt,i}`."""
    d = x.shape[-1]
    s = np.sign(p["x_opt"]) * 10.0 ** _ramp(d)
    z = xp.where(x * p["x_opt"] < 25.0, x, p["x_opt"])
    return xp.sum(5 * np.abs(s) - s * z, axis=-1)


def f6(xp, x, p):
    """Attractive sector: :math:`T_{osz}(\\sum (s_i z_i)^2)^{0.9}`, :math:`s_i = 100` where
    :math:`z_i x_{opt,i} > 0`, :math:`z = Q\\Lambda^{10}R(x - x_{opt})`."""
    z = affine(xp, x - p["x_opt"], p["M"])
    s2 = xp.where(z * p["x_opt"] > 0, 1e4, 1.0)
    return safe_pow(xp, t_osz(xp, xp.sum(s2 * z * z, axis=-1)), 0.9)


def f7(xp, x, p):
    """Step ellipsoid: :math:`0.1\\max(|\\hat z_1|/10^4, \\sum 10^{2\\frac{i}{d-1}} z_i^2)
    + f_{pen}(x)`, :math:`\\hat z = \\Lambda^{10}R(x - x_{opt})`, :math:`\\tilde z`
    rounded (to integers where :math:`|\\hat z| > 1/2`, else to tenths), :math:`z = Q\\tilde z`."""
    d = x.shape[-1]
    zh = affine(xp, x - p["x_opt"], lam(10.0, d)[:, None] * p["Q"])
    zt = xp.where(xp.abs(zh) > 0.5, _round(xp, zh), _round(xp, 10 * zh) / 10)
    z = affine(xp, zt, p["R"])
    core = xp.sum(100.0 ** _ramp(d) * z * z, axis=-1)
    return 0.1 * xp.maximum(xp.abs(zh[..., 0]) / 1e4, core) + f_pen(xp, x)


def f8(xp, x, p):
    """Rosenbrock: :math:`\\sum 100(z_i^2 - z_{i+1})^2 + (z_i - 1)^2`,
    :math:`z = \\max(1, \\sqrt d/8)(x - x_{opt}) + 1`."""
    return _rosenbrock(xp, p["scale"] * (x - p["x_opt"]) + 1)


def f9(xp, x, p):
    """Rotated Rosenbrock: :math:`z = \\max(1, \\sqrt d/8) R x + 1/2`."""
    return _rosenbrock(xp, affine(xp, x, p["scale"] * p["R"], 0.5))


def f10(xp, x, p):
    """Rotated ellipsoid: :math:`z = T_{osz}(R(x - x_{opt}))`."""
    return _ellipsoid(xp, t_osz(xp, affine(xp, x - p["x_opt"], p["R"])))


def f11(xp, x, p):
    """Discus: :math:`10^6 z_1^2 + \\sum_{i>1} z_i^2`, :math:`z = T_{osz}(R(x - x_{opt}))`."""
    z = t_osz(xp, affine(xp, x - p["x_opt"], p["R"]))
    return 1e6 * z[..., 0] ** 2 + xp.sum(z[..., 1:] ** 2, axis=-1)


def f12(xp, x, p):
    """Bent cigar: :math:`z_1^2 + 10^6\\sum_{i>1} z_i^2`,
    :math:`z = R T_{asy}^{0.5}(R(x - x_{opt}))`."""
    z = affine(xp, t_asy(xp, affine(xp, x - p["x_opt"], p["R"]), 0.5), p["R"])
    return z[..., 0] ** 2 + 1e6 * xp.sum(z[..., 1:] ** 2, axis=-1)


def f13(xp, x, p):
    """Sharp ridge: :math:`z_1^2 + 100\\sqrt{\\sum_{i>1} z_i^2}`, :math:`z = Q\\Lambda^{10}R(x - x_{opt})`."""
    z = affine(xp, x - p["x_opt"], p["M"])
    return z[..., 0] ** 2 + 100 * safe_sqrt(xp, xp.sum(z[..., 1:] ** 2, axis=-1))


def f14(xp, x, p):
    """Different powers: :math:`\\sqrt{\\sum |z_i|^{2 + 4\\frac{i}{d-1}}}`, :math:`z = R(x - x_{opt})`."""
    z = affine(xp, x - p["x_opt"], p["R"])
    return safe_sqrt(xp, xp.sum(xp.abs(z) ** (2 + 4 * _ramp(x.shape[-1])), axis=-1))


def f15(xp, x, p):
    """Rotated Rastrigin: :math:`z = R\\Lambda^{10}Q T_{asy}^{0.2}(T_{osz}(R(x - x_{opt})))`."""
    z = affine(xp, t_asy(xp, t_osz(xp, affine(xp, x - p["x_opt"], p["R"])), 0.2), p["M"])
    return _rastrigin(xp, z)


WEIERSTRASS_K = np.arange(12)
WEIERSTRASS_F0 = float(np.sum(0.5 ** WEIERSTRASS_K * np.cos(math.pi * 3.0 ** WEIERSTRASS_K)))


def f16(xp, x, p):
    """Weierstrass: :math:`10(\\frac1d\\sum_i\\sum_{k=0}^{11} 2^{-k}\\cos(2\\pi 3^k(z_i + \\frac12))
    - f_0)^3 + \\frac{10}{d} f_{pen}(x)`, :math:`z = R\\Lambda^{1/100}Q T_{osz}(R(x - x_{opt}))`."""
    d = x.shape[-1]
    z = affine(xp, t_osz(xp, affine(xp, x - p["x_opt"], p["R"])), p["M"])
    a, b = 0.5 ** WEIERSTRASS_K, 3.0 ** WEIERSTRASS_K
    s = xp.sum(a[:, None] * xp.cos(2 * math.pi * b[:, None] * (z[..., None, :] + 0.5)), axis=(-2, -1))
    return 10 * (s / d - WEIERSTRASS_F0) ** 3 + 10 / d * f_pen(xp, x)


def f17(xp, x, p):
    """Schaffer F7: :math:`(\\frac{1}{d-1}\\sum \\sqrt{s_i} + \\sqrt{s_i}\\sin^2(50 s_i^{1/5}))^2
    + 10 f_{pen}(x)`, :math:`s_i = \\sqrt{z_i^2 + z_{i+1}^2}`,
    :math:`z = \\Lambda^{10}Q T_{asy}^{0.5}(R(x - x_{opt}))`."""
    z = affine(xp, t_asy(xp, affine(xp, x - p["x_opt"], p["R"]), 0.5), p["M"])
    return _schaffer(xp, z) + 10 * f_pen(xp, x)


f18 = f17  # Schaffer F7 with :math:`\Lambda^{1000}` (the matrix M of its instance)
"""Moderately ill-conditioned Schaffer F7: as :func:`f17` with :math:`\\Lambda^{1000}`."""


def f19(xp, x, p):
    """Composite Griewank-Rosenbrock F8F2: :math:`\\frac{10}{d-1}\\sum(\\frac{s_i}{4000} - \\cos s_i)
    + 10`, :math:`s_i = 100(z_i^2 - z_{i+1})^2 + (z_i - 1)^2`, :math:`z = \\max(1, \\frac{\\sqrt d}{8})Rx + \\frac12`."""
    z = affine(xp, x, p["scale"] * p["R"], 0.5)
    c = z[..., :-1] ** 2 - z[..., 1:]
    s = 100 * c * c + (1 - z[..., :-1]) ** 2  # COCO's rounding: cos(s) with s ~ 1e7 keeps it
    return 10 * xp.sum(s / 4000 - xp.cos(s), axis=-1) / (x.shape[-1] - 1) + 10


SCHWEFEL_CONSTANT = 4.189828872724339


def f20(xp, x, p):
    """Schwefel :math:`x\\sin x`: :math:`-\\frac{1}{100d}\\sum z_i\\sin\\sqrt{|z_i|} + 4.189828872724339
    + 100 f_{pen}(z/100)`, :math:`\\hat x = 2\\,\\mathrm{sign}(x_{opt})\\,x`,
    :math:`\\hat z_i = \\hat x_i + \\frac14(\\hat x_{i-1} - 2|x_{opt,i-1}|)`,
    :math:`z = 100(\\Lambda^{10}(\\hat z - 2|x_{opt}|) + 2|x_{opt}|)`."""
    d = x.shape[-1]
    a = 2 * np.abs(p["x_opt"])
    xh = 2 * np.sign(p["x_opt"]) * x
    zh = xp.concatenate([xh[..., :1], xh[..., 1:] + 0.25 * (xh[..., :-1] - a[..., :-1])], axis=-1)
    z = 100 * (lam(10.0, d) * (zh - a) + a)
    core = -xp.sum(z * xp.sin(safe_sqrt(xp, xp.abs(z))), axis=-1) / (100 * d)
    return core + SCHWEFEL_CONSTANT + 100 * f_pen(xp, z / 100)


def f21(xp, x, p):
    """Gallagher's Gaussian peaks: :math:`T_{osz}(10 - \\max_i w_i \\exp(-\\frac{1}{2d}
    (Rx - Ry_i)^T C_i (Rx - Ry_i)))^2 + f_{pen}(x)` (101 peaks; f22: 21 peaks)."""
    diff = affine(xp, x, p["R"])[..., None, :] - p["y"]
    q = xp.sum(p["scales"] * diff * diff, axis=-1)
    top = xp.max(p["w"] * xp.exp(-0.5 / x.shape[-1] * q), axis=-1)
    return t_osz(xp, 10 - top) ** 2 + f_pen(xp, x)


f22 = f21


KATSUURA_J = 2.0 ** np.arange(1, 33)


def f23(xp, x, p):
    """Katsuura: :math:`\\frac{10}{d^2}\\prod_i(1 + i\\sum_{j=1}^{32}\\frac{|2^j z_i - [2^j z_i]|}{2^j})^{10/d^{1.2}}
    - \\frac{10}{d^2} + f_{pen}(x)`, :math:`z = Q\\Lambda^{100}R(x - x_{opt})`."""
    d = x.shape[-1]
    z = affine(xp, x - p["x_opt"], p["M"])
    t = KATSUURA_J[:, None] * z[..., None, :]
    s = xp.sum(xp.abs(t - _round(xp, t)) / KATSUURA_J[:, None], axis=-2)
    factors = (1 + np.arange(1.0, d + 1) * s) ** (10 / d ** 1.2)
    return 10 / d ** 2 * (prod(xp, factors) - 1) + f_pen(xp, x)


def f24(xp, x, p):
    """Lunacek bi-Rastrigin: :math:`\\min(\\sum(\\hat x_i - \\mu_0)^2, d + s\\sum(\\hat x_i - \\mu_1)^2)
    + 10(d - \\sum\\cos 2\\pi z_i) + 10^4 f_{pen}(x)`, :math:`\\hat x = 2\\,\\mathrm{sign}(x_{opt})x`,
    :math:`z = Q\\Lambda^{100}R(\\hat x - \\mu_0)`, :math:`\\mu_0 = 2.5`,
    :math:`s = 1 - \\frac{1}{2\\sqrt{d + 20} - 8.2}`, :math:`\\mu_1 = -\\sqrt{(\\mu_0^2 - 1)/s}`."""
    d = x.shape[-1]
    mu0 = 2.5
    s = 1 - 0.5 / (math.sqrt(d + 20) - 4.1)
    mu1 = -math.sqrt((mu0 ** 2 - 1) / s)
    xh = 2 * np.sign(p["x_opt"]) * x
    z = affine(xp, affine(xp, xh - mu0, lam(100.0, d)[:, None] * p["Q"]), p["R"])
    bowl = xp.minimum(xp.sum((xh - mu0) ** 2, axis=-1), d + s * xp.sum((xh - mu1) ** 2, axis=-1))
    return bowl + 10 * (d - xp.sum(xp.cos(2 * math.pi * z), axis=-1)) + 1e4 * f_pen(xp, x)


FORMULAS = {i: globals()[f"f{i}"] for i in FUNCTIONS}


# --- the registry: one Objective per (function, instance) -------------------------------------

PREFIX = "bbob/"
INSTANCES = tuple(range(1, 16))  # bbob 2010's fifteen instances, the ones checked against cocoex
MULTIMODAL = (3, 4, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24)
NOT_DIFFERENTIABLE = (7, 23)  # piecewise constant (step ellipsoid), nowhere differentiable (Katsuura)
NOT_SMOOTH_AT_MINIMUM = (5, 7, 13, 14, 23)  # f5's minimum is on the box's boundary


def names():
    """``bbob/f1 .. bbob/f24``."""
    return [f"{PREFIX}f{i}" for i in FUNCTIONS]


def parse(name, instance=None):
    """``(function, instance)`` from ``"bbob/f8"`` (with ``instance``, default 1) or ``"bbob/f8/i3"``."""
    parts = str(name).removeprefix(PREFIX).split("/")
    try:
        function = int(parts[0].removeprefix("f"))
        if len(parts) == 2:
            if instance is not None and int(parts[1].removeprefix("i")) != instance:
                raise ValueError
            instance = int(parts[1].removeprefix("i"))
        elif len(parts) != 1:
            raise ValueError
    except ValueError:
        raise KeyError(f"no bbob function named {name!r}: bbob names read 'bbob/f<1-24>' or "
                       f"'bbob/f<1-24>/i<instance>'") from None
    instance = 1 if instance is None else instance
    if function not in FUNCTIONS:
        raise KeyError(f"no bbob function named {name!r}: bbob has f1 to f24")
    if isinstance(instance, bool) or not isinstance(instance, (int, np.integer)) or instance < 1:
        raise KeyError(f"bbob instances are positive integers, got {instance!r}")
    return function, int(instance)


def get(name, instance=None):
    """The :class:`Objective` of bbob function ``name`` (``"bbob/f8"``), instance ``instance``.

    Its name is ``bbob/f<f>/i<instance>``; box :math:`[-5, 5]^d`, ``d >= 2``; ``minimum(d)`` is
    :math:`(x_{opt}, f_{opt})` of the instance. Instances beyond 15 follow the same generator but
    are not the ones the tests check against cocoex.
    """
    return _objective(*parse(name, instance))


@functools.lru_cache(maxsize=None)
def _objective(function, instance):
    key = f"{PREFIX}f{function}/i{instance}"
    formula = FORMULAS[function]

    def f(x, rng=None):
        xp = _namespace(x)
        if not hasattr(x, "shape"):
            x = xp.asarray(x, dtype=float)
        if x.ndim == 0 or x.shape[-1] < 2:
            raise ValueError(f"{key} needs d >= 2, got points of shape {tuple(np.shape(x))}")
        p = parameters(function, instance, int(x.shape[-1]))
        return formula(xp, x, p) + p["f_opt"]

    f.__doc__ = formula.__doc__

    def argmin(d):
        p = parameters(function, instance, d)
        return p["x_opt"], p["f_opt"]

    tags = {"continuous"} - ({"continuous"} if function == 7 else set())
    tags |= {"separable"} if function in GROUPS["separable"] else set()
    tags |= {"multimodal"} if function in MULTIMODAL else set()
    tags |= set() if function in NOT_DIFFERENTIABLE else {"differentiable"}
    return Objective(name=key, f=f, dim=None, min_dim=2, tags=frozenset(tags),
                     box=lambda d: (LOWER, UPPER), argmin=argmin,
                     smooth_at_minimum=function not in NOT_SMOOTH_AT_MINIMUM,
                     reference=f"[H09] f{function} ({NAMES[function]})")


def stacked(function, instances, d):
    r"""The bbob function ``function`` over several instances at once, as :math:`f - f_{opt}`.

    ``f(x)`` takes ``x`` of shape ``(n, d)`` whose rows cycle through ``instances`` (row ``r``
    belongs to ``instances[r % len(instances)]``; ``n`` must be a multiple of their number) and
    returns the precision :math:`f(x_r) - f_{opt}` of each row: one lockstep batch then holds every
    instance of a function, each arm's rows in instance order, and one target serves them all.
    """
    instances = tuple(instances)
    ps = [parameters(function, i, d) for i in instances]
    keys = [k for k, v in ps[0].items() if isinstance(v, np.ndarray)]
    p = {**ps[0], **{k: np.stack([q[k] for q in ps]) for k in keys},
         "f_opt": np.array([q["f_opt"] for q in ps])}
    formula, m = FORMULAS[function], len(instances)

    def f(x):
        xp = _namespace(x)
        n = x.shape[0]
        if x.ndim != 2 or x.shape[-1] != d or n % m:
            raise ValueError(f"stacked bbob f{function} needs (k * {m}, {d}) points, got {tuple(x.shape)}")
        rows = xp.reshape(x, (n // m, m, d))
        return xp.reshape(formula(xp, rows, p), (n,))

    return f


def is_bbob(name):
    """Whether ``name`` names a bbob function (``bbob/...``)."""
    return isinstance(name, str) and name.startswith(PREFIX)


__all__ = ["FUNCTIONS", "NAMES", "GROUPS", "INSTANCES", "names", "get", "parse", "parameters",
           "uniform", "gauss", "rotation", "x_opt", "f_opt", "t_osz", "t_asy", "f_pen", "lam",
           "affine", "is_bbob", "stacked"]

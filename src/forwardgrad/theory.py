r"""Closed forms used by the theory chapters (Belouze 2022, sections 2-4 and Appendix A).

Five groups:

- random walks and sign agreement (Lemma 10, Theorem 9), exact in rational arithmetic;
- second moments of forward gradients per tangent law (Lemma 4, Property 5, Definitions 6-8);
- a Wengert list with hand-written forward and reverse sweeps (Figure 1);
- linear objectives (section 4.2.2), tangent laws that break the tangent-law properties, and a
  noisy gradient oracle for the optimizers of section 3;
- the exact expected loss of true and forward SGD with a decreasing step on a quadratic with
  noisy samples, and the constant of its $O(1/t)$ rate (section 3).

Exact quantities are returned as :class:`fractions.Fraction`; convert with ``float`` to plot.
"""

import math
from fractions import Fraction
from typing import NamedTuple

import numpy as np
from scipy.special import ndtr

from forwardgrad import oracles
from forwardgrad.engines import namespace

# ---------------------------------------------------------------------------------------------
# Random walks and sign agreement (Lemma 10, Theorem 9)
# ---------------------------------------------------------------------------------------------


def _check_n(n):
    if int(n) != n or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n}")
    return int(n)


def mean_abs_random_walk(n):
    r"""$\mathbb{E}|S_n|$ for $S_n = \sum_{i=1}^n v_i$ with independent Rademacher $v_i$, exactly.

    $\mathbb{E}|S_{2N}| = 2N\binom{2N}{N}4^{-N}$ (Appendix A) and
    $\mathbb{E}|S_{2N+1}| = (2N+1)\binom{2N}{N}4^{-N}$, because a step changes $|S|$ by $\pm1$
    with equal chance except from $0$, where it adds $1$:
    $\mathbb{E}|S_{2N+1}| = \mathbb{E}|S_{2N}| + \mathbb{P}(S_{2N}=0) = \mathbb{E}|S_{2N+2}|$.
    Both cases read $n\binom{2\lfloor n/2\rfloor}{\lfloor n/2\rfloor}4^{-\lfloor n/2\rfloor}$.
    Returns a :class:`~fractions.Fraction`. Belouze (2022), Lemma 10.
    """
    n = _check_n(n)
    half = n // 2
    return Fraction(n * math.comb(2 * half, half), 4**half)


def mean_abs_random_walk_asymptotic(n):
    r"""Lemma 10's leading term $\sqrt{2n/\pi}$ (float)."""
    return math.sqrt(2.0 * n / math.pi)


def mean_abs_random_walk_corrected(n):
    r"""$\sqrt{2n/\pi}\,\bigl(1 - (-1)^n/(4n)\bigr)$: Lemma 10 with its $O(1/\sqrt n)$ term made explicit.

    From $\binom{2N}{N}4^{-N} = (\pi N)^{-1/2}(1 - \frac{1}{8N} + O(N^{-2}))$: the error
    $\mathbb{E}|S_n| - \sqrt{2n/\pi}$ is $\mp 1/(2\sqrt{2\pi n})$ for even / odd $n$, so
    $\sqrt n$ times the error tends to $\mp 1/(2\sqrt{2\pi}) \approx \mp 0.1995$.
    """
    n = _check_n(n)
    return math.sqrt(2.0 * n / math.pi) * (1.0 - (-1) ** n / (4.0 * n))


def sign_agreement(n):
    r"""Expected number of coordinates where $g = (\nabla f\cdot v)v$ has the sign of $\nabla f$.

    For $\nabla f \in \{-1, 1\}^n$ and Rademacher $v$, exactly. Convention: when
    $\nabla f\cdot v = 0$ (possible only for even $n$) the forward gradient is $0$ and agrees in
    sign with no coordinate. With $k$ coordinates where $v_i = \mathrm{sign}(\partial_i f)$ the count
    is $\max(k, n-k)$ if $k \ne n/2$ and $0$ if $k = n/2$, so

    $P = n/2 + \mathbb{E}|S_n|/2$ for odd $n$, and $P = n/2$ exactly for even $n$,

    because the tie term $\frac n2\mathbb{P}(S_n = 0)$ equals $\mathbb{E}|S_n|/2$ when $n$ is even.
    Belouze (2022), Theorem 9, writes $P = n/2 + \mathbb{E}|S_n|/2$ for all $n$, which counts a tie
    as half a coordinate each (see :func:`sign_agreement_paper`).
    """
    n = _check_n(n)
    if n % 2 == 0:
        return Fraction(n, 2)
    return Fraction(n, 2) + mean_abs_random_walk(n) / 2


def sign_disagreement(n):
    r"""Expected number of coordinates where $g$ has the sign opposite to $\nabla f\in\{\pm1\}^n$.

    $N = n/2 - \mathbb{E}|S_n|/2$ for odd $n$ and $N = n/2 - \mathbb{E}|S_n|$ for even $n$ (ties
    count in neither $P$ nor $N$); in both cases $P - N = \mathbb{E}|S_n|$ (equation 3b).
    """
    n = _check_n(n)
    if n % 2 == 0:
        return Fraction(n, 2) - mean_abs_random_walk(n)
    return Fraction(n, 2) - mean_abs_random_walk(n) / 2


def sign_agreement_paper(n):
    r"""The paper's $P = n/2 + \mathbb{E}|S_n|/2$ (Theorem 9's proof), exact; ties count as half."""
    return Fraction(_check_n(n), 2) + mean_abs_random_walk(n) / 2


def theorem9_bound(n):
    r"""Theorem 9's bound without its remainder: $n/2 + \sqrt{n/(2\pi)}$ (float)."""
    return n / 2.0 + math.sqrt(n / (2.0 * math.pi))


def agreement_count(g, grad):
    r"""Number of coordinates where $\mathrm{sign}(g_i) = \mathrm{sign}(\partial_i f) \ne 0$; ``(..., d) -> (...)``."""
    return np.sum(np.sign(g) * np.sign(grad) > 0, axis=-1)


def sign_agreement_gaussian(grad):
    r"""Expected sign agreement of the forward gradient with Gaussian tangents, exactly.

    $\sum_i \bigl(\tfrac12 + \arcsin(\rho_i)/\pi\bigr)$ with $\rho_i = |\partial_i f|/\|\nabla f\|$:
    $g_i$ agrees with $\partial_i f$ iff $\mathrm{sign}(\partial_i f)\,v_i$ and $\nabla f\cdot v$ have
    the same sign, a jointly Gaussian pair with correlation $\rho_i$, and two standard normals with
    correlation $\rho$ share their sign with probability $\frac12 + \arcsin(\rho)/\pi$
    (Sheppard, 1899). ``grad`` has shape ``(..., d)``; returns shape ``(...)``.
    """
    grad = np.asarray(grad, dtype=float)
    rho = np.abs(grad) / np.linalg.norm(grad, axis=-1, keepdims=True)
    return np.sum(0.5 + np.arcsin(np.clip(rho, 0.0, 1.0)) / np.pi, axis=-1)


def sign_agreement_clt(grad):
    r"""Central-limit approximation of the sign agreement with Rademacher tangents.

    Coordinate $i$ agrees iff $T_i > -|\partial_i f|$ with $T_i = \pm\sum_{j\ne i}\partial_j f\, v_j$
    symmetric, so $\mathbb{P} = \frac12 + \frac12\mathbb{P}(|T_i| < |\partial_i f|)$ (no atoms).
    Replacing $T_i$ by $\mathcal{N}(0, \|\nabla f\|^2 - \partial_i f^2)$ gives
    $\sum_i \Phi(r_i)$ with $r_i = |\partial_i f| / \sqrt{\|\nabla f\|^2 - \partial_i f^2}$, which
    for small $r_i$ is $n/2 + \|\nabla f\|_1 / (\sqrt{2\pi}\,\|\nabla f\|_2)$. It is poor when a
    few coordinates dominate $\nabla f$ (then $T_i$ is far from Gaussian).
    """
    grad = np.asarray(grad, dtype=float)
    a2 = grad**2
    rest = np.sum(a2, axis=-1, keepdims=True) - a2
    with np.errstate(divide="ignore"):
        r = np.where(rest > 0, np.abs(grad) / np.sqrt(np.where(rest > 0, rest, 1.0)), np.inf)
    return np.sum(ndtr(r), axis=-1)


def sign_agreement_l1(grad, law="rademacher"):
    r"""Small-$\rho$ form of the sign agreement: $n/2 + c\,\|\nabla f\|_1/\|\nabla f\|_2$.

    $c = 1/\sqrt{2\pi}$ for Rademacher tangents (from :func:`sign_agreement_clt`) and $c = 1/\pi$
    for Gaussian tangents (from :func:`sign_agreement_gaussian`). Since
    $\|\nabla f\|_1 \le \sqrt n\|\nabla f\|_2$, the Rademacher form never exceeds Theorem 9's bound.
    """
    grad = np.asarray(grad, dtype=float)
    c = {"rademacher": 1.0 / math.sqrt(2.0 * math.pi), "gaussian": 1.0 / math.pi}[law]
    ratio = np.sum(np.abs(grad), axis=-1) / np.linalg.norm(grad, axis=-1)
    return grad.shape[-1] / 2.0 + c * ratio


def sign_agreement_monte_carlo(f, x, law, draws, rng):
    r"""Monte Carlo sign agreement of forward gradients of ``f`` at one point ``x`` (shape ``(d,)``).

    Draws ``draws`` tangents from ``law``, computes the forward gradients with one jvp and the true
    gradient with one vjp, and returns ``(mean, standard_error, grad)`` of the number of
    coordinates where $\mathrm{sign}(g_i) = \mathrm{sign}(\partial_i f) \ne 0$.
    """
    x = np.asarray(x, dtype=float)
    grad = oracles.true_gradient(f, x)[1]
    v = law(rng, (int(draws), x.shape[-1]))
    g = oracles.forward_gradient(f, np.broadcast_to(x, v.shape), v)[1]
    counts = agreement_count(g, grad)
    return counts.mean(), counts.std(ddof=1) / math.sqrt(len(counts)), grad


# ---------------------------------------------------------------------------------------------
# Second moments of forward gradients (Lemma 4, Property 5, Definitions 6-8)
# ---------------------------------------------------------------------------------------------

VAR_SQUARE = {
    "rademacher": Fraction(0),
    "gaussian": Fraction(2),
    "uniform": Fraction(4, 5),
    "laplace": Fraction(5),
}
r"""$\mathbb{V}[v_i^2] = \mathbb{E}[v_i^4] - 1$ of the laws with independent unit-variance coordinates."""


def sphere_var_square(n):
    r"""$\mathbb{V}[v_i^2]$ of one coordinate of the uniform law on the sphere of radius $\sqrt n$.

    $\mathbb{E}[v_i^4] = 3n/(n+2)$, so $\mathbb{V}[v_i^2] = 2(n-1)/(n+2)$.
    """
    n = _check_n(n)
    return Fraction(2 * (n - 1), n + 2)


def coordinate_moments(law, n):
    r"""$(\mathbb{E}[v_i^4],\ \mathbb{E}[v_i^2 v_j^2])$ for $i \ne j$, exactly.

    For the laws with independent coordinates $\mathbb{E}[v_i^2v_j^2] = 1$; for the sphere of
    radius $\sqrt n$ (and ``"haar"``, the Haar rotation of a Rademacher vector, which is the same
    law) the coordinates are dependent: $\mathbb{E}[v_i^4] = 3n/(n+2)$,
    $\mathbb{E}[v_i^2v_j^2] = n/(n+2)$ (from $\mathbb{E}[u_i^4] = 3/(n(n+2))$ and
    $\mathbb{E}[u_i^2u_j^2] = 1/(n(n+2))$ on the unit sphere).
    """
    n = _check_n(n)
    if law in ("sphere", "haar"):
        return Fraction(3 * n, n + 2), Fraction(n, n + 2)
    return 1 + VAR_SQUARE[law], Fraction(1)


def coordinate_second_moment(grad, law):
    r"""$\mathbb{E}[g_i^2]$ of the forward gradient, exactly, for the named law.

    $\mathbb{E}[g_i^2] = \partial_i f^2\,\mathbb{E}[v_i^4] + (\|\nabla f\|^2 - \partial_i f^2)\,
    \mathbb{E}[v_i^2v_j^2]$, valid for every law here since each has
    $\mathbb{E}[v_i^2 v_k v_l] = 0$ for $k \ne l$. ``grad``: ``(..., d)`` -> ``(..., d)``.
    """
    grad = np.asarray(grad, dtype=float)
    m4, m22 = (float(m) for m in coordinate_moments(law, grad.shape[-1]))
    a2 = grad**2
    return a2 * m4 + (np.sum(a2, axis=-1, keepdims=True) - a2) * m22


def lemma4_second_moment(grad, var_square):
    r"""Lemma 4's formula $\mathbb{E}[g_i^2] = \partial_i f^2\,\mathbb{V}[v_i^2] + \|\nabla f\|^2$.

    Its derivation uses $\mathbb{E}[v_i^2v_j^2] = 1$, i.e. independent coordinates; applied to
    the sphere it overstates $\mathbb{E}[g_i^2]$ by $2(\|\nabla f\|^2 - \partial_i f^2)/(n+2)$.
    """
    grad = np.asarray(grad, dtype=float)
    a2 = grad**2
    return a2 * float(var_square) + np.sum(a2, axis=-1, keepdims=True)


def msd_factor(law, n):
    r"""$c$ in $\mathbb{E}\|g - \nabla f\|^2 = c\,\|\nabla f\|^2$, exactly.

    $n - 1 + \mathbb{V}[v_i^2]$ for independent coordinates: $n-1$ (Rademacher, Property 5),
    $n+1$ (Gaussian), $n - 1/5$ (uniform), $n+4$ (Laplace). Any law with $\|v\|^2 = n$ and
    $\mathbb{E}[vv^\top] = I$ (sphere, Haar, fixed rotations of Rademacher) has
    $\mathbb{E}\|g\|^2 = n\,\mathbb{E}(\nabla f\cdot v)^2 = n\|\nabla f\|^2$, hence $n-1$.
    """
    n = _check_n(n)
    if law in ("sphere", "haar", "rotated"):
        return Fraction(n - 1)
    return n - 1 + VAR_SQUARE[law]


def rotated_rademacher_second_moment(grad, q):
    r"""$\mathbb{E}[g_i^2]$ for the fixed rotation $w = q v$ of a Rademacher $v$ (Definition 6).

    With $b = q^\top\nabla f$ and Rademacher fourth moments
    ($\mathbb{E}[(b\cdot v)^2(c\cdot v)^2] = \|b\|^2\|c\|^2 + 2(b\cdot c)^2 - 2\sum_k b_k^2c_k^2$),
    taking $c = q_{i,:}$: $\mathbb{E}[g_i^2] = \|\nabla f\|^2 + 2\partial_i f^2 - 2\sum_k b_k^2 q_{ik}^2$.
    The coordinates change with $q$; their sum $n\|\nabla f\|^2$ does not.
    """
    grad = np.asarray(grad, dtype=float)
    q = np.asarray(q, dtype=float)
    b = grad @ q
    return np.sum(grad**2, axis=-1, keepdims=True) + 2 * grad**2 - 2 * (b**2) @ (q**2).T


def gaussian_with_covariance(cov):
    r"""A Gaussian tangent law $v \sim \mathcal{N}(0, \Sigma)$ with a given covariance.

    With $\Sigma \ne I$ it breaks the tangent-law properties (correlated coordinates, or a variance
    other than 1), and the forward gradient is biased: $\mathbb{E}[g] = \Sigma\nabla f$.
    """
    cov = np.asarray(cov, dtype=float)
    chol = np.linalg.cholesky(cov)

    def draw(rng, shape):
        shape = tuple(shape)
        if shape[-1] != len(cov):
            raise ValueError(f"tangent dimension {shape[-1]} does not match a covariance of size {len(cov)}")
        return rng.standard_normal(shape) @ chol.T

    draw.__name__ = "gaussian_with_covariance"
    return draw


def equicorrelation(n, rho, var=1.0):
    r"""The $n\times n$ covariance $\mathrm{var}\,((1-\rho) I + \rho\,\mathbf{1}\mathbf{1}^\top)$."""
    return var * ((1.0 - rho) * np.eye(n) + rho * np.ones((n, n)))


# ---------------------------------------------------------------------------------------------
# Figure 1: Stirling's formula as a Wengert list, and AD through a loop
# ---------------------------------------------------------------------------------------------


def stirling(n):
    r"""Stirling's approximation $\sqrt{2\pi n}\,(n/e)^n$ of $n!$ (Figure 1's program)."""
    xp = namespace(n)
    return xp.sqrt(2.0 * math.pi * n) * (n / math.e) ** n


def stirling_derivative(n):
    r"""$\frac{d}{dn}\sqrt{2\pi n}(n/e)^n = \sqrt{2\pi n}(n/e)^n\,\bigl(\ln n + \frac{1}{2n}\bigr)$."""
    return stirling(n) * (math.log(n) + 0.5 / n)


class Line(NamedTuple):
    """One line of a Wengert list: ``name <- op(*args)``; ``args`` are names, or the constant."""

    name: str
    op: str
    args: tuple


OPS = {
    "mul": (lambda a, b: a * b, lambda a, b: (b, a)),
    "div": (lambda a, b: a / b, lambda a, b: (1.0 / b, -a / b**2)),
    "pow": (lambda a, b: a**b, lambda a, b: (b * a ** (b - 1.0), a**b * math.log(a))),
    "sqrt": (math.sqrt, lambda a: (0.5 / math.sqrt(a),)),
}
"""Atomic operations: a value function and the tuple of its partial derivatives."""

STIRLING_WENGERT = (
    Line("w0", "const", (2.0 * math.pi,)),
    Line("w1", "input", ("n",)),
    Line("w2", "const", (math.e,)),
    Line("w3", "div", ("w1", "w2")),
    Line("w4", "mul", ("w0", "w1")),
    Line("w5", "pow", ("w3", "w1")),
    Line("w6", "sqrt", ("w4",)),
    Line("w7", "mul", ("w6", "w5")),
)
"""Figure 1b: the Wengert list of $\\sqrt{2\\pi n}(n/e)^n$."""


def wengert_forward(trace, inputs, tangents):
    r"""Forward mode over a Wengert list: values and tangents $\dot w = \sum_k \partial_k\phi\,\dot w_{i_k}$.

    ``inputs`` and ``tangents`` map input names to numbers. Returns two dicts keyed by line name.
    """
    value, dot = {}, {}
    for line in trace:
        if line.op == "const":
            value[line.name], dot[line.name] = line.args[0], 0.0
        elif line.op == "input":
            value[line.name], dot[line.name] = inputs[line.args[0]], tangents[line.args[0]]
        else:
            fun, partials = OPS[line.op]
            parents = [value[a] for a in line.args]
            value[line.name] = fun(*parents)
            dot[line.name] = sum(p * dot[a] for p, a in zip(partials(*parents), line.args))
    return value, dot


def wengert_reverse(trace, inputs):
    r"""Reverse mode over a Wengert list: a forward sweep storing every value, then adjoints.

    $\bar w = \sum_l \partial\phi_{j_l}/\partial w\;\bar w_{j_l}$, seeded with $\bar w = 1$ on the
    last line. Returns ``(values, adjoints)``; ``adjoints[input_name]`` is the gradient.
    """
    value, _ = wengert_forward(trace, inputs, {k: 0.0 for k in inputs})
    bar = {line.name: 0.0 for line in trace}
    bar[trace[-1].name] = 1.0
    grads = {k: 0.0 for k in inputs}
    for line in reversed(trace):
        if line.op == "input":
            grads[line.args[0]] += bar[line.name]
        elif line.op != "const":
            parents = [value[a] for a in line.args]
            for p, a in zip(OPS[line.op][1](*parents), line.args):
                bar[a] += p * bar[line.name]
    return value, {**bar, **grads}


def iterated_map(iterations, rate=0.1):
    r"""$f(x) = \sum_i z_{L,i}$ with $z_0 = x$, $z_{k+1} = z_k + \text{rate}\cdot\sin(z_k)$, $L$ = ``iterations``.

    A function with a loop inside, to watch how AD memory depends on the length of the trace.
    ``(..., d) -> (...)``.
    """

    def f(x):
        xp = namespace(x)
        z = x
        for _ in range(iterations):
            z = z + rate * xp.sin(z)
        return xp.sum(z, axis=-1)

    return f


# ---------------------------------------------------------------------------------------------
# Linear objectives (section 4.2.2)
# ---------------------------------------------------------------------------------------------


def linear(mu):
    r"""The linear objective $f(\theta) = \mu^\top\theta$, ``(..., d) -> (...)``."""
    mu = np.asarray(mu, dtype=float)

    def f(x):
        return namespace(x).sum(x * mu, axis=-1)

    return f


def forward_sgd_gain(mu):
    r"""Expected change of $f = \mu^\top\theta$ in one forward-SGD step at rate 1: $-\|\mu\|^2$.

    $-\mathbb{E}(v^\top\mu)^2 = -\mu^\top\mathbb{E}[vv^\top]\mu$, the same as true SGD for every law
    with $\mathbb{E}[vv^\top] = I$.
    """
    return -float(np.sum(np.asarray(mu, dtype=float) ** 2))


def forward_step_norm2(mu, law="rademacher"):
    r"""$\mathbb{E}\|(\mu^\top v)v\|^2 = (c + 1)\|\mu\|^2$ with $c$ = :func:`msd_factor`; $n\|\mu\|^2$ for Rademacher."""
    mu = np.asarray(mu, dtype=float)
    return (float(msd_factor(law, mu.shape[-1])) + 1.0) * float(np.sum(mu**2, axis=-1))


def adam_forward_rate(mu):
    r"""Long-run decrease per step of $\mu^\top\theta$ under forward Adam (Rademacher, rate 1): $\|\mu\|_2$.

    Once $\hat\nu$ has averaged many steps, every coordinate of $\hat\nu$ is close to
    $\mathbb{E}(v^\top\mu)^2 = \|\mu\|^2$ (with Rademacher tangents $g_i^2 = (v^\top\mu)^2$ for all
    $i$), and $\mathbb{E}[\hat m] = \mu$, so $\mathbb{E}[\mu^\top\hat m/\sqrt{\hat\nu}] \approx
    \|\mu\|^2/\|\mu\| = \|\mu\|_2$: $\sqrt n$ for $\mu\in\{\pm1\}^n$, against $\|\mu\|_1 = n$ for
    Adam with true gradients and $\mathbb{E}|v^\top\mu| \approx \sqrt{2n/\pi}$ in the paper's
    $\beta_1 = \beta_2 = 1$ limit. An approximation: it ignores the fluctuation of $\hat\nu$.
    """
    return float(np.linalg.norm(np.asarray(mu, dtype=float), axis=-1))


# ---------------------------------------------------------------------------------------------
# Optimizers driven by an arbitrary gradient oracle (section 3)
# ---------------------------------------------------------------------------------------------


def quadratic(h):
    r"""The separable quadratic $f(x) = \frac12\sum_i h_i x_i^2$, ``(..., d) -> (...)``."""
    h = np.asarray(h, dtype=float)

    def f(x):
        return 0.5 * namespace(x).sum(h * x**2, axis=-1)

    return f


def noisy_oracle(sigma):
    r"""The oracle $g = \nabla f(x) + \sigma\,\xi$: the true gradient plus the arm's tangent scaled by $\sigma$.

    An :class:`~forwardgrad.oracles.Oracle` for :class:`~forwardgrad.descent.Arm`: with the
    Gaussian tangent law, $\xi \sim \mathcal{N}(0, I)$ is fresh at every step. ``sigma`` is a
    scalar or one value per run, shape ``(runs, 1)``. One reverse pass a step.
    """

    def estimate(f, x, v, *, engine="autograd", **_):
        fx, g = oracles.value_and_grad(f, x, engine)
        return fx, g + sigma * v

    return oracles.Oracle(estimate, "law", lambda k: 1, lambda k: 1)


def adam_moments(state, b1, b2):
    r"""Adam's bias-corrected moments $(\hat m_t, \hat\nu_t)$ from its state after update $t$."""
    return state.mu / (1 - b1**state.count), state.nu / (1 - b2**state.count)


def weighted_sign(m_hat, nu_hat):
    r"""Balles & Hennig's reading of Adam's direction: $\mathrm{sign}(\hat m)\sqrt{1/(1+\eta^2)}$.

    $\eta^2 = (\hat\nu - \hat m^2)/\hat m^2$ estimates the relative variance of the gradient only
    when $\hat\nu \ge \hat m^2$; the identity $\hat m/\sqrt{\hat\nu} = \mathrm{sign}(\hat m)
    \sqrt{1/(1+\eta^2)}$ holds either way. Returns ``(direction, eta2)``.
    """
    eta2 = (nu_hat - m_hat**2) / m_hat**2
    return np.sign(m_hat) * np.sqrt(1.0 / (1.0 + eta2)), eta2


# ---------------------------------------------------------------------------------------------
# SGD with a decreasing step on a quadratic with noisy samples (section 3)
# ---------------------------------------------------------------------------------------------

SGD_GRADIENTS = ("true", "forward")


def _check_gradient(gradient):
    if gradient not in SGD_GRADIENTS:
        raise ValueError(f"gradient must be one of {', '.join(SGD_GRADIENTS)}, got {gradient!r}")
    return gradient


def sgd_mean_loss(h, sigma, c, t0, steps, gradient="true", x0=1.0):
    r"""$\mathbb{E} f(x_t) - f^\star$ exactly, for $t = 0, \dots,$ ``steps``, of SGD with step $\eta_t = c/(t + t_0)$.

    The objective is $f(x) = \frac12\sum_i h_i x_i^2$ ($f^\star = 0$), seen through samples
    $\ell(x; \xi) = f(x) - \xi^\top x$ with a fresh $\xi \sim \mathcal N(0, \sigma^2 I)$ at every
    step, so that $\nabla\ell = \nabla f - \xi$ is unbiased with additive noise. True SGD steps
    along $b = \nabla\ell(x_t)$, forward SGD along the forward gradient $(b^\top v)v$ of the
    sample's loss, $v$ Rademacher. The second moments $s_i = \mathbb{E}x_i^2$ then follow a closed
    linear recursion (the cross moments never enter):

    - true: $s_i' = (1 - \eta h_i)^2 s_i + \eta^2\sigma^2$;
    - forward: $s_i' = (1 - 2\eta h_i)s_i + \eta^2\bigl(\sum_j h_j^2 s_j + n\sigma^2\bigr)$,

    because $\mathbb{E}[(b^\top v)v_i \mid b] = b_i$ and $(b^\top v)^2v_i^2 = (b^\top v)^2$ has mean
    $\lVert b\rVert^2$ (Property 5: $n\lVert b\rVert^2$ in all, $n - 1$ of it noise). Returns
    $\frac12\sum_i h_i s_i(t)$, shape ``(steps + 1,)``, from $x_0$ = ``x0`` (a scalar or ``(n,)``).
    """
    _check_gradient(gradient)
    h = np.asarray(h, dtype=float)
    s = np.broadcast_to(np.asarray(x0, dtype=float) ** 2, h.shape).copy()
    noise = sigma**2 * (h.size if gradient == "forward" else 1.0)
    loss = np.empty(int(steps) + 1)
    loss[0] = 0.5 * np.sum(h * s)
    for t in range(int(steps)):
        eta = c / (t + t0)
        if gradient == "forward":
            s = (1.0 - 2.0 * eta * h) * s + eta**2 * (np.sum(h**2 * s) + noise)
        else:
            s = (1.0 - eta * h) ** 2 * s + eta**2 * noise
        loss[t + 1] = 0.5 * np.sum(h * s)
    return loss


def sgd_rate_constant(h, sigma, c, gradient="true"):
    r"""$\lim_{t\to\infty} t\,(\mathbb{E} f(x_t) - f^\star)$ for the SGD of :func:`sgd_mean_loss`.

    With $\eta_t = c/(t + t_0)$ and $2c\mu > 1$ ($\mu = \min_i h_i$), $s_i \sim a_i/t$ with
    $a_i = c^2 m\sigma^2/(2ch_i - 1)$, where $m\sigma^2$ is the gradient noise per coordinate at
    the minimum: $m = 1$ for true SGD and $m = n$ for forward SGD (there $\nabla f = 0$ and
    $\mathbb{E}(\xi^\top v)^2v_i^2 = n\sigma^2$). The constant is $\frac12\sum_i h_ia_i$, so the
    forward / true ratio is $n$ exactly: the $(n-1)\lVert\nabla\ell\rVert^2$ of Property 5 makes the
    noise, hence the constant, $n$ times larger. Under $c\mu > 1$ this is the regime of the
    $O(1/t)$ bound of Bottou, Curtis & Nocedal (2018), Theorem 4.7, after Robbins & Monro (1951).
    """
    _check_gradient(gradient)
    h = np.asarray(h, dtype=float)
    if not 2.0 * c * h.min() > 1.0:
        raise ValueError(f"the O(1/t) constant needs 2 c mu > 1, got c = {c}, mu = {h.min()}")
    m = h.size if gradient == "forward" else 1.0
    return float(0.5 * np.sum(h * c**2 * m * sigma**2 / (2.0 * c * h - 1.0)))


# ---------------------------------------------------------------------------------------------
# Forward gradients at scale: the step ratio of SGD and the variance of activity perturbation
# ---------------------------------------------------------------------------------------------

_LAW_SHIFT = {"rademacher": -1.0, "gaussian": 1.0}


def _law_shift(law):
    if law not in _LAW_SHIFT:
        raise ValueError(f"law must be one of {', '.join(_LAW_SHIFT)}, got {law!r}")
    return _LAW_SHIFT[law]


def forward_step_ratio(p, law="rademacher", k=1):
    r"""Steps of forward-gradient SGD over steps of true-gradient SGD, each at its optimal rate.

    For an $L$-smooth $f$ and an unbiased estimate $\hat g$ of $g = \nabla f$, the descent lemma
    gives $\mathbb E f(x - \eta\hat g) \le f(x) - \eta\lVert g\rVert^2 + \frac{L\eta^2}2\mathbb
    E\lVert\hat g\rVert^2$, whose best rate $\eta^\star = \lVert g\rVert^2 / (L\,\mathbb
    E\lVert\hat g\rVert^2)$ guarantees the decrease $\lVert g\rVert^4 / (2L\,\mathbb E\lVert\hat
    g\rVert^2)$. The number of steps to a given loss therefore scales with $\mathbb E\lVert\hat
    g\rVert^2 / \lVert g\rVert^2$, which by Property 5 (Belouze 2022) is
    $1 + \frac{P + c}{k}$ for the mean of $k$ forward gradients in dimension $P$, with $c = -1$
    for Rademacher tangents and $c = +1$ for Gaussian ones ($\mathbb E(g\cdot v)^2 v v^\top =
    \lVert g\rVert^2 I + 2gg^\top - 2\,\mathrm{diag}(g^2)$ for Rademacher, without the last term
    for Gaussian). The same ratio holds for minibatch SGD: a forward gradient of the minibatch
    gradient $g_B$ has $\mathbb E\lVert\hat g\rVert^2 = (1 + \frac{P+c}{k})\,\mathbb E\lVert
    g_B\rVert^2$. So the ratio grows linearly in $P$: exponent 1.
    """
    p = np.asarray(p, dtype=float)
    if np.any(p < 1) or int(k) != k or k < 1:
        raise ValueError("p must be at least 1 and k a positive integer")
    return 1.0 + (p + _law_shift(law)) / k


def activity_variance(act_grads, input_norms2, law="rademacher"):
    r"""$\mathbb E\lVert\hat g - g\rVert^2$ of the activity-perturbed forward gradient of a network.

    Ren, Kornblith, Liao & Hinton (2023), "Scaling Forward Gradient with Local Losses": every
    example $i$ perturbs all its pre-activations $z_i = (z_{i,1}, \dots, z_{i,L})$ (dimension $U =
    \sum_l n_l$) along its own tangent $u_i$; with $a_i = \nabla_{z_i}\mathcal L$ the estimate of
    $\nabla_{z_i}\mathcal L$ is $(a_i\cdot u_i)u_i$, and layer $l$'s weights get
    $\hat g_{W_l} = \sum_i h_{i,l-1}\otimes (a_i\cdot u_i)u_{i,l}$, its biases $\sum_i (a_i\cdot
    u_i)u_{i,l}$. The covariance of $(a\cdot u)u$ is $\lVert a\rVert^2 I + aa^\top - 2\,\mathrm{diag}
    (a^2)$ (Rademacher; Gaussian without the last term), the examples are independent, and the map
    from $z$-gradients to weight gradients multiplies the squared norm of a layer-$l$ block by
    $\lVert h_{i,l-1}\rVert^2 + 1$, so

    $$\mathbb E\lVert\hat g - g\rVert^2 = \sum_i\sum_l (\lVert h_{i,l-1}\rVert^2 + 1)\,
    (n_l\lVert a_i\rVert^2 + c\,\lVert a_{i,l}\rVert^2),$$

    $c = -1$ (Rademacher) or $+1$ (Gaussian). ``act_grads``: per layer, $a_{i,l}$ of shape
    ``(..., B, n_l)``; ``input_norms2``: per layer, $\lVert h_{i,l-1}\rVert^2$ of shape ``(..., B)``.
    Returns ``(...)``.
    """
    c = _law_shift(law)
    total_a2 = sum((a**2).sum(axis=-1) for a in act_grads)  # ||a_i||^2, (..., B)
    terms = [(h2 + 1.0) * (a.shape[-1] * total_a2 + c * (a**2).sum(axis=-1))
             for a, h2 in zip(act_grads, input_norms2)]
    return sum(terms).sum(axis=-1)

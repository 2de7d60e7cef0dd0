r"""Monte Carlo of one gradient estimator at one point: many independent estimates, and their cosines.

Used by the chapters that check an estimator's law against a closed form (multi-tangent, guided
and zeroth-order estimates); the means and standard errors come from
:func:`forwardgrad.statistics.mean_se`.
"""

import numpy as np

from forwardgrad import oracles, tangents


def sample_estimates(f, x, gradient, rng, samples, *, k=1, tangent="rademacher", eps=1e-4,
                     guess=None, alpha=0.5, chunk=2**20):
    r"""``samples`` independent estimates of $\nabla f(x)$ at ONE point ``x`` of shape ``(d,)``.

    ``gradient`` names a stochastic estimator of :data:`forwardgrad.oracles.ORACLES`; each
    estimate uses ``k`` fresh tangents from the law ``tangent`` (for ``"guided"``: from
    :func:`~forwardgrad.oracles.guided_tangent` with the guess ``guess`` and mixing ``alpha``). The
    registry's estimators (autograd engine) do the work, ``chunk`` tangent coordinates at a time.
    Returns an array ``(samples, d)``.
    """
    spec = oracles.get(gradient)
    if spec.tangents is None:
        raise ValueError(f"{gradient!r} draws no tangent: it has no Monte Carlo law")
    x = np.asarray(x, dtype=float)
    d = x.shape[-1]
    law = tangents.get(tangent)
    rows = max(1, int(chunk) // (k * d))
    out = []
    for start in range(0, int(samples), rows):
        m = min(rows, int(samples) - start)
        xs = np.broadcast_to(x, (m, d)).copy()
        u = None
        if spec.tangents == "guided":
            u = np.broadcast_to(np.asarray(guess, dtype=float), (m, d)).copy()
            v = oracles.guided_tangent(rng, u, alpha, (k, m, d))
        else:
            v = law(rng, (k, m, d))
        out.append(np.asarray(spec.estimate(f, xs, v, guide=u, alpha=alpha, eps=eps)[1]))
    return np.concatenate(out)


def cosines(g, grad):
    r"""$\cos(g_r, \nabla f) = g_r\cdot\nabla f / (\|g_r\|\,\|\nabla f\|)$ row by row (0 for $g_r = 0$)."""
    g = np.asarray(g, dtype=float)
    grad = np.asarray(grad, dtype=float)
    norms = np.linalg.norm(g, axis=-1) * np.linalg.norm(grad)
    dots = g @ grad
    return np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)

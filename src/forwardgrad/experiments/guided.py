r"""Closed forms of the chapter *Guided tangents*: the second moment of the unbiased guided estimate.

Tangents $v \sim \mathcal N(0, \Sigma)$ with $\Sigma = \frac\alpha d I + (1-\alpha)\hat u\hat u^\top$ around a
guess $u$ of the gradient (:func:`forwardgrad.oracles.guided_tangent`), corrected by $\Sigma^{-1}$
(:func:`forwardgrad.oracles.guided_estimate`).
"""

import numpy as np


def guided_second_moment(n, alpha, c, k=1):
    r"""$\mathbb{E}\|g\|^2/\|\nabla f\|^2$ of the unbiased guided estimate, guess at cosine $c$.

    With $v = \Sigma^{1/2}w$, $w \sim \mathcal N(0, I)$, the estimate $g = \Sigma^{-1}v\,v^\top\nabla f$
    has $\mathbb{E}\|g\|^2 = \operatorname{tr}(\Sigma^{-1})\,\nabla f^\top\Sigma\nabla f + 2\|\nabla f\|^2$
    (Isserlis). For $\Sigma = \frac\alpha n I + (1-\alpha)\hat u\hat u^\top$, with $s = \alpha/n$
    and $t = 1 - \alpha$: $\operatorname{tr}\Sigma^{-1} = \frac{n-1}s + \frac1{s+t}$ and
    $\hat\nabla^\top\Sigma\hat\nabla = s + t c^2$. The mean of $k$ has $1 + (m - 1)/k$.
    """
    s, t = alpha / n, 1.0 - alpha
    m = ((n - 1) / s + 1 / (s + t)) * (s + t * np.asarray(c, dtype=float) ** 2) + 2
    return 1 + (m - 1) / k

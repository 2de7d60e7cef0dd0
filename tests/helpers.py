"""Small test functions shared by the unit tests, written against the array namespace."""

from forwardgrad.engines import namespace


def quadratic(x):
    r"""$\sum_i i\,x_i^2 + \sin x_1$: smooth, row-separable, with a non-trivial gradient."""
    xp = namespace(x)
    return xp.sum(xp.arange(1, x.shape[-1] + 1) * x**2, axis=-1) + xp.sin(x[..., 0])


def rosen(x):
    r"""Rosenbrock, $\sum_i 100(x_{i+1}-x_i^2)^2 + (1-x_i)^2$."""
    xp = namespace(x)
    return xp.sum(100.0 * (x[..., 1:] - x[..., :-1] ** 2) ** 2 + (1.0 - x[..., :-1]) ** 2, axis=-1)


def sphere(x):
    return namespace(x).sum(x**2, axis=-1)

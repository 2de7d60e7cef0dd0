r"""The rules that turn measured numbers into the ledger's verdicts, one small function per kind of claim.

Every row of the claims ledger is decided by a function here: it takes the measured numbers and
their uncertainty and returns ``"confirmed"`` (the claim holds as the paper states it),
``"refined"`` (it holds with a correction, or only partly) or ``"contradicted"`` (it fails). A
chapter computes the numbers, calls the rule, glues both, and asserts only what must hold
whatever the verdict: enough precision to decide, a complete sweep.

The thresholds come from the uncertainty wherever there is one. A Monte Carlo check of a closed
form with $K$ z-scores uses the Bonferroni bound :func:`z_bound`: under the claim, the largest
$|z|$ exceeds it with probability at most :data:`ALPHA` (one build in a thousand). Where a claim
is stated in words ("almost always", "a small constant factor"), the rule states the reading of
those words it uses, and why.
"""

import numpy as np
from scipy.special import ndtri

LEVELS = ("confirmed", "refined", "contradicted")
ALPHA = 1e-3
"""Family-wise false-alarm rate of a statistical check: a true claim is rejected by chance in at
most one build in a thousand."""


def z_bound(tests, alpha=ALPHA, sides=2):
    r"""The Bonferroni bound on the largest of ``tests`` z-scores: $\Phi^{-1}(1 - \alpha/(s\,K))$.

    Under the claim each score is standard normal, so $P(\max_k |z_k| > b) \le \alpha$ with
    ``sides = 2``; with ``sides = 1`` the bound is for one-sided scores $\max_k z_k$.
    """
    tests = int(tests)
    if tests < 1:
        raise ValueError("a check needs at least one z-score")
    return float(ndtri(1.0 - alpha / (sides * tests)))


def _scores(z):
    z = np.asarray(z, dtype=float).reshape(-1)
    if z.size == 0 or not np.all(np.isfinite(z)):
        raise ValueError("z-scores must be a non-empty array of finite numbers")
    return z


def matches(z, alpha=ALPHA):
    """A closed form (or a predicted value) checked by Monte Carlo.

    ``z`` holds (measured - predicted) / standard error for each of $K$ comparisons.
    ``"confirmed"`` when $\\max|z| \\le$ :func:`z_bound` ($K$), ``"contradicted"`` otherwise.
    """
    z = _scores(z)
    return "confirmed" if np.max(np.abs(z)) <= z_bound(z.size, alpha) else "contradicted"


def exceeds(z, alpha=ALPHA):
    """A claimed strict inequality a > b, in each of $K$ cases scored by z = (a - b) / SE.

    With $b$ the one-sided :func:`z_bound` ($K$): ``"confirmed"`` when every case is significant
    ($z > b$), ``"contradicted"`` when no case is and some case is significantly the other way
    ($z < -b$), ``"refined"`` otherwise (the claim holds in some cases only, or cannot be told
    apart from a tie).
    """
    z = _scores(z)
    bound = z_bound(z.size, alpha, sides=1)
    if np.all(z > bound):
        return "confirmed"
    if not np.any(z > bound) and np.any(z < -bound):
        return "contradicted"
    return "refined"


def holds_exactly(error, tolerance):
    """An identity computed in exact or floating-point arithmetic: ``"confirmed"`` when the largest
    ``error`` is at most ``tolerance`` (the rounding of the computation), else ``"contradicted"``."""
    return "confirmed" if float(np.max(np.abs(error))) <= tolerance else "contradicted"


def corrected(claim, correction):
    """A claim and the book's correction of it, each already decided (for example by :func:`matches`).

    ``"confirmed"`` when the claim holds; ``"refined"`` when it fails and the correction holds;
    ``"contradicted"`` when both fail.
    """
    if claim == "confirmed":
        return "confirmed"
    return "refined" if correction == "confirmed" else "contradicted"


def interval_verdict(lower, upper, confirm, refute):
    r"""A quantity with a confidence interval $[\ell, u]$ against two thresholds.

    ``confirm`` and ``refute`` are predicates on a number: ``"confirmed"`` when the whole interval
    satisfies ``confirm`` (both ends), ``"contradicted"`` when it satisfies ``refute``,
    ``"refined"`` otherwise (the interval straddles the claim's boundary).
    """
    if confirm(lower) and confirm(upper):
        return "confirmed"
    if refute(lower) and refute(upper):
        return "contradicted"
    return "refined"


def at_least(value, lower, upper, confirm_at, refine_at):
    r"""A share or rate that the claim says is high ("almost always"), with a bootstrap interval.

    ``"confirmed"`` when the point value and the unfavourable end ``lower`` reach ``confirm_at``;
    ``"refined"`` when the point value reaches ``refine_at``; ``"contradicted"`` otherwise. A NaN
    ``lower`` (no interval) counts as the point value.
    """
    worst = value if not np.isfinite(lower) else lower
    if value >= confirm_at and worst >= confirm_at:
        return "confirmed"
    return "refined" if value >= refine_at else "contradicted"


def at_most(value, lower, upper, confirm_at, refine_at):
    """The mirror of :func:`at_least` for a quantity the claim says is low ("almost never"): the
    unfavourable end is ``upper``."""
    worst = value if not np.isfinite(upper) else upper
    if value <= confirm_at and worst <= confirm_at:
        return "confirmed"
    return "refined" if value <= refine_at else "contradicted"


def exponent(fit, se, claimed, alpha=ALPHA):
    r"""A fitted exponent (a log-log slope) against the claimed one, with its standard error.

    ``"confirmed"`` when $|e - e_0| \le z\,\mathrm{se}$ with $z$ = :func:`z_bound` (1), else
    ``"contradicted"``. The standard error must come from the scatter of the fit (or of the
    points), not from a fixed band.
    """
    return matches([(fit - claimed) / se], alpha)


def constant_factor(ratios, limit):
    r"""'A constant factor of the cost of $f$': every measured ratio of a cost to the cost of $f$
    is at most ``limit``.

    The claim names no number; Griewank & Walther (2008) bound a jvp by about 2.5 and a vjp by
    about 4 operation counts of $f$, and measured times add interpreter and memory traffic, so a
    chapter states the ``limit`` it reads "constant" as. ``"confirmed"`` when every ratio is at
    most ``limit``, ``"refined"`` when the ratios stay below ``limit`` for the largest inputs only
    (the last half of the list, ordered by size), ``"contradicted"`` otherwise.
    """
    ratios = np.asarray(ratios, dtype=float).reshape(-1)
    if np.all(ratios <= limit):
        return "confirmed"
    return "refined" if np.all(ratios[len(ratios) // 2:] <= limit) else "contradicted"


def mark(verdict):
    """The ledger's mark of a verdict: ✓ confirmed, ~ refined, ✗ contradicted."""
    return {"confirmed": "✓", "refined": "~", "contradicted": "✗"}[verdict]


def check(verdict):
    """``verdict`` if it is one of :data:`LEVELS`, else ``ValueError``."""
    if verdict not in LEVELS:
        raise ValueError(f"a verdict is one of {', '.join(LEVELS)}, got {verdict!r}")
    return verdict


def all_of(*verdicts):
    """A claim made of several parts, each decided by its own rule: ``"confirmed"`` when every part
    is, ``"contradicted"`` when every part is contradicted, ``"refined"`` otherwise."""
    for v in verdicts:
        check(v)
    if all(v == "confirmed" for v in verdicts):
        return "confirmed"
    if all(v == "contradicted" for v in verdicts):
        return "contradicted"
    return "refined"


def not_above(z, alpha=ALPHA):
    """A claimed upper bound checked by Monte Carlo, each of $K$ cases scored by z = (measured -
    bound) / SE: ``"confirmed"`` when no case is significantly above it (every z at most the
    one-sided :func:`z_bound` ($K$)), else ``"contradicted"``."""
    z = _scores(z)
    return "confirmed" if np.max(z) <= z_bound(z.size, alpha, sides=1) else "contradicted"


def converges(values, limit, rtol):
    """An asymptotic statement checked in exact arithmetic: a scaled error tends to ``limit``.

    ``values`` are the scaled errors at growing $n$; ``"confirmed"`` when the last is within
    ``rtol`` (relative) of ``limit`` and they stay bounded (at most twice the limit's size), else
    ``"contradicted"``. ``rtol`` is the size of the next term of the expansion at the largest $n$.
    """
    values = np.asarray(values, dtype=float)
    close = abs(values[-1] - limit) <= rtol * abs(limit)
    bounded = np.max(np.abs(values)) <= 2 * abs(limit)
    return "confirmed" if close and bounded else "contradicted"


def within(value, se, target, rtol, alpha=ALPHA):
    r"""An approximate claim ("about ``target``"), checked with a tolerance the claim allows.

    ``"confirmed"`` when $|v - t| \le r\,|t| + z\,\mathrm{se}$ with $z$ = :func:`z_bound` (1), else
    ``"contradicted"``. ``rtol`` is the error of the approximation the claim makes, stated and
    derived where the rule is called; ``se`` the Monte Carlo standard error of ``value``.
    """
    return "confirmed" if abs(value - target) <= rtol * abs(target) + z_bound(1, alpha) * se else "contradicted"

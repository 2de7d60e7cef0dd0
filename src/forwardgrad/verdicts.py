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
from scipy import stats
from scipy.special import ndtri

LEVELS = ("confirmed", "refined", "contradicted")
ALPHA = 1e-3
"""Family-wise false-alarm rate of a statistical check: a true claim is rejected by chance in at
most one build in a thousand."""
ALMOST_ALWAYS = 0.9
"""The reading of "almost always" (and, as ``1 - ALMOST_ALWAYS``, of "almost never"): nine cases in
ten. The paper gives no number; this is the conventional lower edge of "almost", fixed once for
every claim that uses the words."""
MAJORITY = 0.5
"""The edge of "more often than not": below it the claim's direction fails, so a claim worded
"almost always" is refined (not contradicted) only while it still holds on a majority."""
MARGIN = 0.1
"""The reading of "equally well" (and of "marginally") for a cost such as steps to a target: a
ratio of two costs within a tenth of 1. The paper gives no number; a tenth is finer than any
difference its benchmark reports between forward and true gradients (factors of several), and
coarse enough for the sampling error of a few hundred seeded runs."""


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


def matches(z, alpha=ALPHA, tests=None):
    """A closed form (or a predicted value) checked by Monte Carlo.

    ``z`` holds (measured - predicted) / standard error for each of $K$ comparisons (``tests``
    gives $K$ when ``z`` holds only the largest score of each group of comparisons).
    ``"confirmed"`` when $\\max|z| \\le$ :func:`z_bound` ($K$), ``"contradicted"`` otherwise.
    """
    z = _scores(z)
    k = z.size if tests is None else int(tests)
    return "confirmed" if np.max(np.abs(z)) <= z_bound(k, alpha) else "contradicted"


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

    ``"confirmed"`` when the claim holds; ``"refined"`` when it holds only partly (is itself
    refined), or fails and the correction holds; ``"contradicted"`` when both fail.
    """
    check(claim)
    if claim in ("confirmed", "refined"):
        return claim
    return "refined" if correction == "confirmed" else "contradicted"


def opposite(verdict):
    """The verdict of the negated claim ("does not grow" from "grows"): confirmed and contradicted
    swap, refined (undecided) stays."""
    return {"confirmed": "contradicted", "refined": "refined", "contradicted": "confirmed"}[check(verdict)]


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


def positive(value, lower, upper):
    r"""A claimed sign (a drop, a gap): the quantity is above 0.

    ``"confirmed"`` when the point ``value`` and the lower end of its interval are above 0,
    ``"refined"`` when only the point value is (the sampling error could undo it),
    ``"contradicted"`` when the point value is not. A NaN ``lower`` counts as the point value.
    """
    worst = value if not np.isfinite(lower) else lower
    if value > 0 and worst > 0:
        return "confirmed"
    return "refined" if value > 0 else "contradicted"


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


def every(*verdicts):
    """All parts must hold: ``"confirmed"`` when every part is confirmed, else ``"contradicted"``
    (for a claim whose parts are one statement, not a list of cases)."""
    for v in verdicts:
        check(v)
    return "confirmed" if all(v == "confirmed" for v in verdicts) else "contradicted"


def below(a, b):
    r"""A claimed strict inequality $a_k < b_k$ between quantities measured without sampling error
    (peak memory, counts of operations), in each of $K$ cases: ``"confirmed"`` when it holds in
    every case, ``"contradicted"`` in none, ``"refined"`` in some."""
    holds = np.asarray(a, dtype=float) < np.asarray(b, dtype=float)
    return "confirmed" if holds.all() else "contradicted" if not holds.any() else "refined"


def less_than(lower, upper, bound):
    r"""A quantity with an interval $[\ell, u]$ claimed below ``bound`` (a ratio below 1, "cheaper"):
    ``"confirmed"`` when $u <$ bound, ``"contradicted"`` when $\ell >$ bound, ``"refined"`` when
    the interval contains the bound (a tie within the uncertainty)."""
    return interval_verdict(lower, upper, lambda x: x < bound, lambda x: x > bound)


def about_equal(ratios, factor):
    r"""Ratios claimed to be about 1 ("as fast as", "the best step is about $\varepsilon^\star$"),
    each known to within a multiplicative ``factor`` (the resolution of a grid, or the stated
    uncertainty of a count): ``"confirmed"`` when every ratio lies in $[1/f, f]$,
    ``"contradicted"`` when none does, ``"refined"`` otherwise."""
    r = np.asarray(ratios, dtype=float).reshape(-1)
    inside = (r >= 1.0 / factor) & (r <= factor)
    return "confirmed" if inside.all() else "contradicted" if not inside.any() else "refined"


def ratio_exceeds(ratios, factor):
    r"""Ratios claimed above 1 ("slower", "grows"), each known to within a multiplicative
    ``factor``: the log-scale version of :func:`exceeds`. ``"confirmed"`` when every ratio is above
    ``factor``; ``"contradicted"`` when none is and some is below $1/f$ (significantly the other
    way); ``"refined"`` otherwise."""
    r = np.asarray(ratios, dtype=float).reshape(-1)
    if np.all(r > factor):
        return "confirmed"
    if not np.any(r > factor) and np.any(r < 1.0 / factor):
        return "contradicted"
    return "refined"


def grows_by(low, high, factor):
    r"""A quantity claimed to grow by more than ``factor`` from one setting to another, each with an
    interval: ``low`` and ``high`` are ``(lower, upper)``. ``"confirmed"`` when
    $\ell_\text{high} > f\,u_\text{low}$, ``"contradicted"`` when $u_\text{high} < f\,\ell_\text{low}$
    (it grows by less, surely), ``"refined"`` otherwise."""
    if high[0] > factor * low[1]:
        return "confirmed"
    return "contradicted" if high[1] < factor * low[0] else "refined"


def contains(lower, upper, target, rtol):
    r"""Intervals claimed to contain ``target`` up to a relative ``rtol`` (an equality that holds
    only approximately, with the tolerance stated by the caller): ``"confirmed"`` when every
    interval meets $[t(1-r), t(1+r)]$, ``"contradicted"`` when none does, ``"refined"`` otherwise."""
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    meets = (lower <= target * (1 + rtol)) & (upper >= target * (1 - rtol))
    return "confirmed" if meets.all() else "contradicted" if not meets.any() else "refined"


def significant(p_better, p_worse, alpha=0.05):
    r"""A claimed improvement in each of $K$ cases, each tested both ways by a one-sided test with
    p-values ``p_better`` (the claimed direction) and ``p_worse``, at family-wise level ``alpha``
    (Bonferroni, $\alpha/K$ per test). ``"confirmed"`` when every case is significantly better,
    ``"contradicted"`` when none is and some is significantly worse, ``"refined"`` otherwise (better
    in some cases only, or no difference anywhere). Benchmarks are compared at the conventional
    5%: their runs are seeded, so the level protects the reading of one sweep, not builds."""
    p_better = np.asarray(p_better, dtype=float).reshape(-1)
    p_worse = np.asarray(p_worse, dtype=float).reshape(-1)
    level = alpha / p_better.size
    if np.all(p_better < level):
        return "confirmed"
    if not np.any(p_better < level) and np.any(p_worse < level):
        return "contradicted"
    return "refined"


def sign_test(wins, losses, alpha=0.05):
    """:func:`significant` with the exact one-sided sign test of each case: ``wins`` problems on
    which the claimed-better method is strictly cheaper, ``losses`` on which it is dearer."""
    wins, losses = np.atleast_1d(wins).astype(int), np.atleast_1d(losses).astype(int)
    better = [stats.binomtest(w, w + l, alternative="greater").pvalue if w + l else 1.0 for w, l in zip(wins, losses)]
    worse = [stats.binomtest(l, w + l, alternative="greater").pvalue if w + l else 1.0 for w, l in zip(wins, losses)]
    return significant(better, worse, alpha)


def _beyond_chance(count, n, level, alpha):
    # P(X >= count) for X ~ Binomial(n, (1 - level) / 2): how often chance alone gives that many
    # one-sided exclusions by intervals at ``level``
    return count > 0 and stats.binom.sf(count - 1, n, (1 - level) / 2) <= alpha


def more_than_chance(count, n, level, alpha=ALPHA):
    r"""'It happens': ``count`` of ``n`` intervals at ``level`` exclude the null on one side.
    ``"confirmed"`` when chance alone (each interval misses on that side with probability
    $(1-\text{level})/2$) gives at least that many with probability at most ``alpha``, else
    ``"contradicted"``."""
    return "confirmed" if _beyond_chance(count, n, level, alpha) else "contradicted"


def chance_only(count, n, level, alpha=ALPHA):
    """'It never happens': the mirror of :func:`more_than_chance`: ``"confirmed"`` when ``count``
    exclusions of ``n`` are within what chance gives, ``"contradicted"`` when they are more."""
    return "contradicted" if _beyond_chance(count, n, level, alpha) else "confirmed"


def as_predicted(predicted, outcomes):
    """An analysis that predicts in which settings an effect appears: ``predicted`` maps each
    setting to True (it should appear) and ``outcomes`` maps it to the outcomes measured there,
    each ``"better"``, ``"worse"`` or ``"tie"`` (significance tested by the caller).

    ``"confirmed"`` when the effect is significantly present everywhere it is predicted and nowhere
    else; ``"contradicted"`` when it appears where it is not predicted, or reverses where it is;
    ``"refined"`` otherwise (never where not predicted, but not significant everywhere it is).
    """
    unexpected = any(not predicted[k] and "better" in outcomes[k] for k in predicted)
    reversed_ = any(predicted[k] and "worse" in outcomes[k] for k in predicted)
    if unexpected or reversed_:
        return "contradicted"
    missed = any(predicted[k] and set(outcomes[k]) != {"better"} for k in predicted)
    return "refined" if missed else "confirmed"


def in_every_case(*verdicts):
    """A claim made about several cases (engines, cost models), each case already decided: the
    combination of :func:`exceeds`. ``"confirmed"`` when every case confirms it,
    ``"contradicted"`` when no case confirms it and some case contradicts it, ``"refined"``
    otherwise (it holds in some cases only, or ties everywhere)."""
    for v in verdicts:
        check(v)
    if all(v == "confirmed" for v in verdicts):
        return "confirmed"
    if not any(v == "confirmed" for v in verdicts) and any(v == "contradicted" for v in verdicts):
        return "contradicted"
    return "refined"


def weakest(*verdicts):
    """A statement joined by "albeit" or "and" whose every part is essential: it stands as its least
    favourable part (``"contradicted"`` when any part is, ``"confirmed"`` only when every part is).
    Unlike :func:`all_of`, which calls a claim contradicted only when every part fails, it suits
    parts that cannot all fail at once (a share at a ratio of 1 and at 2 of the same profile)."""
    for v in verdicts:
        check(v)
    return max(verdicts, key=LEVELS.index)


def unchanged(reference, variant):
    """"A change leaves these conclusions as they are": ``reference`` and ``variant`` are the
    verdicts of the same claims (in the same order) without and with the change.

    ``"confirmed"`` when every verdict is the same; ``"contradicted"`` when some claim goes from
    confirmed to contradicted or back (the change reverses a conclusion); ``"refined"`` when
    verdicts move by one level only."""
    reference, variant = list(reference), list(variant)
    if len(reference) != len(variant) or not reference:
        raise ValueError(f"need the same claims on both sides, got {len(reference)} and {len(variant)} verdicts")
    for v in reference + variant:
        check(v)
    if reference == variant:
        return "confirmed"
    reversed_ = any({a, b} == {"confirmed", "contradicted"} for a, b in zip(reference, variant))
    return "contradicted" if reversed_ else "refined"

"""Every verdict rule returns each of its verdicts on some input, on both sides of each threshold."""

import math

import numpy as np
import pytest

from forwardgrad import verdicts


def test_z_bound_is_bonferroni():
    assert verdicts.z_bound(1) == pytest.approx(3.2905, abs=1e-4)  # two-sided 1e-3
    assert verdicts.z_bound(1, sides=1) == pytest.approx(3.0902, abs=1e-4)
    assert verdicts.z_bound(50) > verdicts.z_bound(10) > verdicts.z_bound(1)
    with pytest.raises(ValueError):
        verdicts.z_bound(0)


def test_matches_on_both_sides_of_the_bound():
    b = verdicts.z_bound(3)
    assert verdicts.matches([0.1, -b + 1e-9, 1.0]) == "confirmed"
    assert verdicts.matches([0.1, -b - 1e-9, 1.0]) == "contradicted"
    with pytest.raises(ValueError):
        verdicts.matches([np.nan])


def test_exceeds_three_ways():
    b = verdicts.z_bound(2, sides=1)
    assert verdicts.exceeds([b + 0.1, b + 5]) == "confirmed"
    assert verdicts.exceeds([b + 0.1, b - 0.1]) == "refined"
    assert verdicts.exceeds([-b - 0.1, 0.0]) == "contradicted"
    assert verdicts.exceeds([b + 0.1, -b - 0.1]) == "refined"  # both directions: it depends


def test_holds_exactly_and_corrected():
    assert verdicts.holds_exactly([1e-14, -2e-14], 1e-12) == "confirmed"
    assert verdicts.holds_exactly([1e-14, -2e-11], 1e-12) == "contradicted"
    assert verdicts.corrected("confirmed", "contradicted") == "confirmed"
    assert verdicts.corrected("contradicted", "confirmed") == "refined"
    assert verdicts.corrected("contradicted", "contradicted") == "contradicted"


def test_shares_with_intervals():
    assert verdicts.at_least(0.95, 0.91, 1.0, 0.9, 0.5) == "confirmed"
    assert verdicts.at_least(0.95, 0.85, 1.0, 0.9, 0.5) == "refined"  # the interval reaches below 90%
    assert verdicts.at_least(0.6, math.nan, math.nan, 0.9, 0.5) == "refined"
    assert verdicts.at_least(0.4, 0.3, 0.5, 0.9, 0.5) == "contradicted"
    assert verdicts.at_most(0.01, 0.0, 0.04, 0.05, 0.2) == "confirmed"
    assert verdicts.at_most(0.01, 0.0, 0.08, 0.05, 0.2) == "refined"
    assert verdicts.at_most(0.3, 0.2, 0.4, 0.05, 0.2) == "contradicted"


def test_interval_verdict():
    high = (lambda v: v >= 10, lambda v: v < 10)
    assert verdicts.interval_verdict(11, 20, *high) == "confirmed"
    assert verdicts.interval_verdict(9, 20, *high) == "refined"
    assert verdicts.interval_verdict(2, 9, *high) == "contradicted"


def test_exponent_and_constant_factor():
    assert verdicts.exponent(0.51, 0.01, 0.5) == "confirmed"
    assert verdicts.exponent(0.6, 0.01, 0.5) == "contradicted"
    assert verdicts.constant_factor([2, 3, 4], 5) == "confirmed"
    assert verdicts.constant_factor([30, 9, 3, 4], 5) == "refined"
    assert verdicts.constant_factor([3, 4, 9, 30], 5) == "contradicted"


def test_marks_and_check():
    assert [verdicts.mark(v) for v in verdicts.LEVELS] == ["✓", "~", "✗"]
    assert verdicts.check("refined") == "refined"
    with pytest.raises(ValueError):
        verdicts.check("survives")


def test_all_of():
    assert verdicts.all_of("confirmed", "confirmed") == "confirmed"
    assert verdicts.all_of("confirmed", "contradicted") == "refined"
    assert verdicts.all_of("refined") == "refined"
    assert verdicts.all_of("contradicted", "contradicted") == "contradicted"
    with pytest.raises(ValueError):
        verdicts.all_of("confirmed", "maybe")


def test_not_above_and_converges():
    b = verdicts.z_bound(4, sides=1)
    assert verdicts.not_above([-10, 0, 1, b]) == "confirmed"
    assert verdicts.not_above([-10, 0, 1, b + 0.01]) == "contradicted"
    assert verdicts.converges([0.3, 0.22, 0.2005], 0.2, 0.01) == "confirmed"
    assert verdicts.converges([0.3, 0.22, 0.21], 0.2, 0.01) == "contradicted"
    assert verdicts.converges([0.5, 0.22, 0.2001], 0.2, 0.01) == "contradicted"  # not bounded by 2 x 0.2


def test_within():
    b = verdicts.z_bound(1)
    assert verdicts.within(1.0 + 0.01 + b * 0.001 - 1e-9, 0.001, 1.0, 0.01) == "confirmed"
    assert verdicts.within(1.0 + 0.01 + b * 0.001 + 1e-6, 0.001, 1.0, 0.01) == "contradicted"
    assert verdicts.within(0.5, 0.0, 1.0, 0.6) == "confirmed"


def test_positive_needs_the_interval_above_zero():
    assert verdicts.positive(0.3, 0.1, 0.5) == "confirmed"
    assert verdicts.positive(0.3, -0.1, 0.5) == "refined"  # sampling error could undo the sign
    assert verdicts.positive(0.3, math.nan, math.nan) == "confirmed"
    assert verdicts.positive(0.0, -0.1, 0.1) == "contradicted"
    assert verdicts.positive(math.nan, math.nan, math.nan) == "contradicted"


def test_almost_always_reads_nine_in_ten():
    assert verdicts.at_least(0.9, 0.9, 1.0, verdicts.ALMOST_ALWAYS, verdicts.MAJORITY) == "confirmed"
    assert verdicts.at_least(0.89, 0.8, 0.95, verdicts.ALMOST_ALWAYS, verdicts.MAJORITY) == "refined"
    assert verdicts.at_least(0.49, 0.4, 0.6, verdicts.ALMOST_ALWAYS, verdicts.MAJORITY) == "contradicted"


def test_matches_counts_the_comparisons_behind_maxima():
    # one largest |z| of 3.5 is fine for 1000 comparisons but not for one
    assert verdicts.matches([3.5], tests=1000) == "confirmed"
    assert verdicts.matches([3.5]) == "contradicted"


def test_every_needs_all_parts():
    assert verdicts.every("confirmed", "confirmed") == "confirmed"
    assert verdicts.every("confirmed", "refined") == "contradicted"
    with pytest.raises(ValueError):
        verdicts.every("maybe")


def test_below_three_ways():
    assert verdicts.below([1, 2], [2, 3]) == "confirmed"
    assert verdicts.below([1, 4], [2, 3]) == "refined"
    assert verdicts.below([3, 4], [2, 3]) == "contradicted"


def test_less_than_an_interval():
    assert verdicts.less_than(0.7, 0.9, 1.0) == "confirmed"
    assert verdicts.less_than(0.9, 1.1, 1.0) == "refined"
    assert verdicts.less_than(1.1, 1.3, 1.0) == "contradicted"


def test_about_equal_and_ratio_exceeds():
    assert verdicts.about_equal([0.6, 1.9], 2) == "confirmed"
    assert verdicts.about_equal([0.6, 2.1], 2) == "refined"
    assert verdicts.about_equal([0.4, 2.1], 2) == "contradicted"
    assert verdicts.ratio_exceeds([3, 40], 2) == "confirmed"
    assert verdicts.ratio_exceeds([3, 1.5], 2) == "refined"
    assert verdicts.ratio_exceeds([1.5, 1.0], 2) == "refined"  # a tie within the factor
    assert verdicts.ratio_exceeds([1.5, 0.4], 2) == "contradicted"


def test_grows_by_and_contains():
    assert verdicts.grows_by((1.0, 1.2), (3.0, 4.0), 2) == "confirmed"
    assert verdicts.grows_by((1.0, 1.2), (2.0, 4.0), 2) == "refined"
    assert verdicts.grows_by((1.0, 1.2), (1.0, 1.5), 2) == "contradicted"
    assert verdicts.contains([0.95, 0.8], [1.2, 1.05], 1.0, 0.1) == "confirmed"
    assert verdicts.contains([0.95, 1.2], [1.2, 1.5], 1.0, 0.1) == "refined"
    assert verdicts.contains([1.2], [1.5], 1.0, 0.1) == "contradicted"


def test_significant_and_sign_test():
    assert verdicts.significant([0.001, 0.01], [0.9, 0.9]) == "confirmed"
    assert verdicts.significant([0.001, 0.5], [0.9, 0.5]) == "refined"
    assert verdicts.significant([0.5, 0.5], [0.5, 0.5]) == "refined"  # no difference anywhere
    assert verdicts.significant([0.9, 0.5], [0.001, 0.5]) == "contradicted"
    assert verdicts.sign_test([20, 25], [2, 3]) == "confirmed"
    assert verdicts.sign_test([10, 25], [9, 3]) == "refined"
    assert verdicts.sign_test([2, 10], [20, 9]) == "contradicted"
    assert verdicts.sign_test([0], [0]) == "refined"


def test_chance_counts():
    # 47 intervals at 99%: chance gives 0 or 1 exclusions on one side; 5 is beyond chance
    assert verdicts.more_than_chance(5, 47, 0.99) == "confirmed"
    assert verdicts.more_than_chance(1, 47, 0.99) == "contradicted"
    assert verdicts.more_than_chance(0, 47, 0.99) == "contradicted"
    assert verdicts.chance_only(1, 47, 0.99) == "confirmed"
    assert verdicts.chance_only(5, 47, 0.99) == "contradicted"


def test_as_predicted():
    predicted = {"a": True, "b": False}
    assert verdicts.as_predicted(predicted, {"a": ["better"], "b": ["tie"]}) == "confirmed"
    assert verdicts.as_predicted(predicted, {"a": ["better", "tie"], "b": ["tie"]}) == "refined"
    assert verdicts.as_predicted(predicted, {"a": ["better"], "b": ["better"]}) == "contradicted"
    assert verdicts.as_predicted(predicted, {"a": ["worse"], "b": ["tie"]}) == "contradicted"


def test_corrected_keeps_a_partial_claim_and_opposite_swaps():
    assert verdicts.corrected("refined", "contradicted") == "refined"
    assert verdicts.opposite("confirmed") == "contradicted"
    assert verdicts.opposite("refined") == "refined"
    assert verdicts.opposite("contradicted") == "confirmed"


def test_in_every_case():
    assert verdicts.in_every_case("confirmed", "confirmed") == "confirmed"
    assert verdicts.in_every_case("confirmed", "contradicted") == "refined"
    assert verdicts.in_every_case("refined", "refined") == "refined"  # ties everywhere
    assert verdicts.in_every_case("refined", "contradicted") == "contradicted"  # never better


def test_weakest():
    assert verdicts.weakest("confirmed", "confirmed") == "confirmed"
    assert verdicts.weakest("confirmed", "refined") == "refined"
    assert verdicts.weakest("refined", "contradicted", "confirmed") == "contradicted"
    with pytest.raises(ValueError):
        verdicts.weakest("confirmed", "maybe")


def test_unchanged():
    assert verdicts.unchanged(["confirmed", "refined"], ["confirmed", "refined"]) == "confirmed"
    assert verdicts.unchanged(["confirmed", "refined"], ["refined", "refined"]) == "refined"
    assert verdicts.unchanged(["confirmed", "refined"], ["contradicted", "refined"]) == "contradicted"
    assert verdicts.unchanged(["contradicted"], ["confirmed"]) == "contradicted"
    with pytest.raises(ValueError, match="same claims"):
        verdicts.unchanged(["confirmed"], ["confirmed", "refined"])
    with pytest.raises(ValueError):
        verdicts.unchanged(["confirmed"], ["maybe"])

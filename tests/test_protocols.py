"""The rules of a protocol, each on both sides of its threshold."""

import math

import numpy as np
import pandas as pd
import pytest

from forwardgrad import protocols


def test_cost_rules():
    evals, success = [101, 10, 41, 20, 1], [False, True, False, True, True]
    assert protocols.art(evals, success) == pytest.approx(sum(evals) / 3)
    assert protocols.art([5, 7], [False, False]) == math.inf
    assert protocols.mean_of_successes(evals, success) == pytest.approx((10 + 20 + 1) / 3)
    assert protocols.mean_of_successes([5], [False]) == math.inf


def test_grouped_costs_equal_the_scalar_rules():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"g": rng.integers(0, 4, 60), "evals": rng.integers(1, 100, 60).astype(float),
                          "success": rng.random(60) < 0.3})
    for rule, scalar in (("art", protocols.art), ("mean_of_successes", protocols.mean_of_successes)):
        grouped = protocols.grouped_costs(frame, ["g"], rule)
        for g, part in frame.groupby("g"):
            assert grouped.loc[g] == pytest.approx(scalar(part["evals"], part["success"]))
    with pytest.raises(ValueError, match="cost rule"):
        protocols.grouped_costs(frame, ["g"], "median")


def test_success_and_evaluations():
    hit = np.array([np.nan, 0.0, 7.0])
    np.testing.assert_array_equal(protocols.success(hit, "solved"), [False, True, True])
    np.testing.assert_array_equal(protocols.success(hit, "failure"), [False, False, True])
    np.testing.assert_array_equal(protocols.evaluations(hit, [50, 0, 9], protocols.success(hit)), [51, 1, 8])
    with pytest.raises(ValueError, match="at_target"):
        protocols.success(hit, "maybe")


def test_measured_rungs():
    assert protocols.measured_rungs(protocols.LADDER_EXPONENTS, 0.1) == (2, 1, 0, -1)
    assert protocols.measured_rungs(protocols.LADDER_EXPONENTS, 1e-8)[-1] == -8
    # a gap read back as stop_target - f_star carries the rounding of f_star
    f_star = -1234.5678
    assert -8 in protocols.measured_rungs(protocols.LADDER_EXPONENTS, (f_star + 1e-8) - f_star)


def test_divergence_rules():
    relative = protocols.relative_divergence(10.0)
    f0 = np.array([1.0, 1.0, 1.0, 5.0])
    fx = np.array([20.0, 22.0, np.nan, 5.0])
    np.testing.assert_array_equal(relative(f0, fx, 0.0, 1), [False, True, True, False])
    assert not relative(f0, fx, 0.0, 0).any()
    absolute = protocols.absolute_divergence(100.0)
    np.testing.assert_array_equal(absolute(f0, np.array([99.0, 101.0, np.inf, 0.0]), 0.0, 0),
                                  [False, True, True, False])


def test_selections():
    assert len(protocols.select("paper", 2)) == 31 and len(protocols.select("paper", 100)) == 18
    assert set(protocols.select("paper", 10)) <= set(protocols.select("text", 10))
    # the text's selection: every function in each of 2, 10, 100 it accepts (five have another fixed d)
    assert len(protocols.select("text", 2)) == 73 and len(protocols.select("text", 100)) == 39
    assert protocols.select(("sphere", "booth"), 2) == ["sphere", "booth"]
    with pytest.raises(protocols.BenchmarkError, match="d = 2, 10, 100"):
        protocols.select("text", 3)


def test_protocol_overrides_reach_the_arm_template():
    p = protocols.protocol("paper", tangent="sphere", k=3, functions="sphere,sphere,booth", dims=(2, 2))
    assert p.arm.tangent == "sphere" and p.arm.k == 3
    assert p.functions == ("sphere", "booth") and p.dims == (2,)  # duplicates removed
    assert protocols.protocol("paper", functions=("text",)).functions == "text"
    for bad in (dict(k=0), dict(tangent="cauchy"), dict(lr=-1), dict(alpha=2.0), dict(stop_gap=1.0),
                dict(optimizers=("lbfgs",)), dict(gradients=("backprop",)), dict(nonsense=1)):
        with pytest.raises(protocols.BenchmarkError):
            protocols.protocol("paper", **bad)
    assert "rademacher" in protocols.summary(protocols.PROTOCOLS["paper"])
    assert protocols.scoring(protocols.PROTOCOLS["as-coded"]) == {"cost": "mean_of_successes", "at_target": "failure"}


def test_seeds_are_keyed_by_names():
    a = protocols.seed_sequence(0, "sphere", 2, "starts").generate_state(2)
    assert (a == protocols.seed_sequence(0, "sphere", 2, "starts").generate_state(2)).all()
    assert (a != protocols.seed_sequence(0, "sphere", 2, "descent").generate_state(2)).any()
    assert (a != protocols.seed_sequence(1, "sphere", 2, "starts").generate_state(2)).any()

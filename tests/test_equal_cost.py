"""The equal-cost runner: the stacked objective against its parts, and the accounting against
direct descents."""

import numpy as np
import pytest
from autograd import grad

import forwardgrad as fg
from forwardgrad import equal_cost
from forwardgrad.descent import Arm

from helpers import quadratic, rosen, sphere


def test_stack_matches_its_parts_on_any_leading_axes():
    fs = [sphere, rosen, quadratic]
    shifts = [0.5, -1.0, 2.0]
    f = equal_cost.stack(fs, shifts, [2, 1, 3])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 12, 4))  # two periods of 6 rows, under one leading axis
    value = f(x)
    assert value.shape == (2, 12)
    blocks = [(0, 2), (2, 3), (3, 6)]
    for period in (0, 6):
        for fi, s, (a, b) in zip(fs, shifts, blocks):
            np.testing.assert_allclose(value[:, period + a:period + b], fi(x[:, period + a:period + b]) - s)
    # gradients are those of the parts (the objective is row-separable)
    g = grad(lambda z: f(z).sum())(x[0])
    np.testing.assert_allclose(g[2:3], grad(lambda z: rosen(z).sum())(x[0, 2:3]))
    with pytest.raises(ValueError):
        f(x[:, :5])
    with pytest.raises(ValueError):
        equal_cost.stack(fs, shifts, [2, 1])


def test_plan_skips_functions_that_overflow_everywhere():
    usable, skipped = equal_cost.plan(["sphere", "perm_zero_d_beta"], 100, starts=3, seed=0)
    assert [u[0] for u in usable] == ["sphere"]
    assert skipped[0]["function"] == "perm_zero_d_beta"
    # the starts are the benchmark's starts for the same seed
    p = fg.protocols.protocol("paper", starts=3)
    np.testing.assert_array_equal(usable[0][3], fg.benchmark.starting_points(p, "sphere", 100, 0))


@pytest.fixture(scope="module")
def small_runs():
    adam = fg.optimizers.get("adam", lr=0.05)
    solvers = [
        equal_cost.Solver("adam (true)", Arm(adam, "true"), 1.0),
        equal_cost.Solver("adam (forward, K=4)", Arm(adam, "forward", k=4), 4.0),
    ]
    table, skipped = equal_cost.equal_cost_runs(["sphere", "booth", "ridge"], 2, solvers, budget=200, starts=3,
                                             repeats=2, seed=1, engine="autograd")
    return solvers, table, skipped


def test_equal_cost_runs_match_direct_descents(small_runs):
    solvers, table, skipped = small_runs
    assert not skipped
    assert len(table) == 3 * 3 * 2 * 2
    # deterministic true-gradient runs equal a direct descent on the unstacked function
    for name in ("sphere", "booth", "ridge"):
        obj = fg.objectives.get(name)
        x0 = equal_cost.plan([name], 2, starts=3, seed=1)[0][0][3]
        _, f_star = obj.minimum(2)
        direct = fg.descent.descend_arms(
            obj.f, [solvers[0].arm], x0, rng=np.random.default_rng(0), max_steps=199, target=f_star + 0.1,
            bounds=obj.bounds(2) if obj.constrained else None)
        rows = table[(table["function"] == name) & (table["solver"] == "adam (true)") & (table["repeat"] == 0)]
        np.testing.assert_array_equal(rows["hit"].to_numpy(), direct.hit)
        np.testing.assert_allclose(rows["f_start"].to_numpy(), direct.f_start)


def test_equal_cost_accounting(small_runs):
    _, table, _ = small_runs
    four = table[table["solver"] == "adam (forward, K=4)"]
    # budget 200 units at 4 units per step: at most 50 evaluations, i.e. 49 updates
    assert four["steps"].max() <= 49
    assert (four["spent"] <= 200).all() and (table["spent"] <= 200).all()
    solved = four[four["success"]]
    np.testing.assert_array_equal(solved["spent"], 4 * (solved["hit"] + 1))
    # rescoring at twice the price halves what the budget buys
    rescored = equal_cost.score(table, 200, {"adam (true)": 2.0, "adam (forward, K=4)": 8.0})
    r4 = rescored[rescored["solver"] == "adam (forward, K=4)"]
    assert (r4["success"] == (np.isfinite(r4["hit"]) & (r4["hit"] + 1 <= 25))).all()
    assert rescored["success"].sum() <= table["success"].sum()
    with pytest.raises(ValueError):
        equal_cost.score(table, 200, {"adam (true)": 1.0})


def test_problem_costs_is_the_art_of_the_repeats(small_runs):
    _, table, _ = small_runs
    costs = equal_cost.problem_costs(table)
    assert list(costs.columns) == ["adam (true)", "adam (forward, K=4)"]
    assert costs.shape == (9, 2)
    for (function, dim, start), row in costs.iterrows():
        for solver in costs.columns:
            runs = table[(table["function"] == function) & (table["start"] == start) & (table["solver"] == solver)]
            assert row[solver] == fg.protocols.art(runs["spent"], runs["success"])
    rates = equal_cost.success_rates(table)
    assert rates.loc[2, "adam (true)"] == pytest.approx(table.loc[table["solver"] == "adam (true)", "success"].mean())


def test_equal_cost_runs_rejects_bad_input():
    adam = fg.optimizers.get("adam", lr=0.05)
    same = [equal_cost.Solver("a", Arm(adam, "true")), equal_cost.Solver("a", Arm(adam, "forward"))]
    with pytest.raises(ValueError):
        equal_cost.equal_cost_runs(["sphere"], 2, same, budget=10, starts=1, seed=0, engine="autograd")
    with pytest.raises(ValueError):
        equal_cost.equal_cost_runs(["sphere"], 2, [equal_cost.Solver("b", Arm(adam, "forward", k=8), 8)], budget=10,
                                starts=1, seed=0, engine="autograd")


def test_paired_runs_share_the_tangents():
    """With common tangents, a difference quotient of tiny step follows the forward gradient's path."""
    sgd = fg.optimizers.get("sgd", lr=0.02)
    solvers = [equal_cost.Solver("forward", Arm(sgd, "forward")), equal_cost.Solver("fd", Arm(sgd, "fd", eps=1e-7)),
               equal_cost.Solver("forward again", Arm(sgd, "forward"))]
    options = dict(budget=300, starts=3, repeats=2, seed=4, target_gap=1e-3, engine="autograd")
    table, skipped = equal_cost.paired_runs(["sphere", "rosenbrock"], 3, solvers, **options)
    assert not skipped and len(table) == 2 * 3 * 2 * 3
    assert list(table["solver"].iloc[:3]) == ["forward", "fd", "forward again"]
    hits = table.pivot_table(index=["function", "start", "repeat"], columns="solver", values="f_best")
    np.testing.assert_array_equal(hits["forward"], hits["forward again"])
    np.testing.assert_allclose(hits["fd"], hits["forward"], rtol=1e-4)
    # without pairing, the two forward solvers draw different tangents
    unpaired, _ = equal_cost.equal_cost_runs(["sphere", "rosenbrock"], 3, solvers, **options)
    other = unpaired.pivot_table(index=["function", "start", "repeat"], columns="solver", values="f_best")
    assert not np.array_equal(other["forward"], other["forward again"])
    with pytest.raises(ValueError):
        equal_cost.paired_runs(["sphere"], 2, solvers[:1] * 2, **options)

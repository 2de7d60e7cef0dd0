"""Profiles and tables against small tables computed by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from forwardgrad import plotting, profiles, protocols

INF = math.inf


def costs_frame(rows, solvers=("A", "B", "C")):
    """Costs t_{p,s} indexed by (function, dim, start) from ``{(function, dim, start): [t...]}``."""
    index = pd.MultiIndex.from_tuples(list(rows), names=profiles.PROBLEM)
    return pd.DataFrame(list(rows.values()), index=index, columns=list(solvers), dtype=float)


def run_table(protocol, runs):
    """A result table from ``runs``: dicts with at least optimizer, gradient, hit, steps."""
    stop_gap = protocols.PROTOCOLS[protocol].stop_gap
    rows = []
    for run in runs:
        row = {"protocol": protocol, "engine": "autograd", "function": "f", "dim": 2, "start": 0,
               "repeat": 0, "tangent": "rademacher" if run["gradient"] == "forward" else "none",
               "f_star": 0.0, "target_gap": 0.1, "stop_target": stop_gap, "status": "budget",
               "max_steps": 100, "f_start": 10.0, "f_final": 1.0, "success": False}
        row.update(run)
        for k in protocols.LADDER_EXPONENTS:
            row.setdefault(protocols.rung_column(k), np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def at(profile, solver, x):
    return float(profiles.evaluate(profile, solver, x))


# Four problems, three solvers: a tie (p1), a failure (p2, p4) and a problem nobody solves (p3).
HAND = {
    ("p1", 2, 0): [10, 10, 20],
    ("p2", 2, 0): [5, INF, 10],
    ("p3", 2, 0): [INF, INF, INF],
    ("p4", 2, 0): [30, 10, INF],
}


def test_performance_ratios_by_hand():
    r = profiles.performance_ratios(costs_frame(HAND)).to_numpy()
    expected = [[1, 1, 2], [1, INF, 2], [INF, INF, INF], [3, 1, INF]]
    np.testing.assert_array_equal(r, expected)


def test_performance_profile_by_hand():
    prof = profiles.performance_profile(costs_frame(HAND))
    assert list(prof.columns) == ["solver", "tau", "rho"]
    np.testing.assert_array_equal(np.unique(prof["tau"]), [1.0, 2.0, 3.0])
    # the tie counts for both A and B; p3 stays in the denominator, so no solver reaches 1
    expected = {"A": [0.5, 0.5, 0.75], "B": [0.5, 0.5, 0.5], "C": [0.0, 0.5, 0.5]}
    for solver, values in expected.items():
        np.testing.assert_array_equal(prof.loc[prof.solver == solver, "rho"], values)
    assert at(prof, "A", 2.9) == 0.5 and at(prof, "A", 1e9) == 0.75
    assert at(prof, "C", 1.99) == 0.0 and at(prof, "C", 0.5) == 0.0


def test_performance_profile_all_fail_and_single_solver():
    prof = profiles.performance_profile(costs_frame({("p", 2, 0): [INF, INF, INF]}))
    assert np.all(prof["rho"] == 0.0) and np.all(prof["tau"] == 1.0)
    one = profiles.performance_profile(costs_frame({("p", 2, 0): [7.0], ("q", 2, 0): [INF]}, ["A"]))
    np.testing.assert_array_equal(one["rho"], [0.5])


def test_nan_cost_is_rejected():
    with pytest.raises(ValueError, match="NaN"):
        profiles.performance_profile(costs_frame({("p", 2, 0): [1.0, np.nan, 2.0]}))


def test_data_profile_by_hand():
    costs = costs_frame({("p", 2, 0): [3, 6], ("q", 10, 0): [INF, 11]}, ["A", "B"])
    prof = profiles.data_profile(costs)  # simplex gradients: t / (d + 1)
    np.testing.assert_array_equal(np.unique(prof["kappa"]), [1.0, 2.0])
    np.testing.assert_array_equal(prof.loc[prof.solver == "A", "fraction"], [0.5, 0.5])
    np.testing.assert_array_equal(prof.loc[prof.solver == "B", "fraction"], [0.5, 1.0])
    raw = profiles.data_profile(costs, unit="evaluations")
    assert at(raw, "B", 10.9) == 0.5 and at(raw, "B", 11) == 1.0


def test_accuracy_profile_by_hand():
    runs = [
        {"function": "a", "optimizer": "adam", "gradient": "true", "f_start": 100.0, "f_final": 1.0},
        {"function": "b", "optimizer": "adam", "gradient": "true", "f_start": 100.0, "f_final": 0.0},
        {"function": "c", "optimizer": "adam", "gradient": "true", "f_start": 1.0, "f_final": 50.0},
        {"function": "d", "optimizer": "adam", "gradient": "true", "f_start": 1.0, "f_final": np.nan},
    ]
    gamma = profiles.accuracies(run_table("honest", runs), cap=16.0)
    np.testing.assert_allclose(gamma["adam (true)"], [2.0, 16.0, 0.0, 0.0])
    prof = profiles.accuracy_profile(run_table("honest", runs))
    assert at(prof, "adam (true)", 0.0) == 1.0
    assert at(prof, "adam (true)", 1.5) == 0.5  # gamma >= 1.5: problems a and b
    assert at(prof, "adam (true)", 2.0) == 0.5
    assert at(prof, "adam (true)", 2.01) == 0.25
    assert at(prof, "adam (true)", 17.0) == 0.0


# One problem; a forward solver with five repeats and a true solver with one.
REPEATS = [
    dict(optimizer="sgd", gradient="forward", repeat=0, hit=np.nan, steps=100, status="budget"),
    dict(optimizer="sgd", gradient="forward", repeat=1, hit=9, steps=9, status="solved"),
    dict(optimizer="sgd", gradient="forward", repeat=2, hit=np.nan, steps=40, status="diverged"),
    dict(optimizer="sgd", gradient="forward", repeat=3, hit=19, steps=19, status="solved"),
    dict(optimizer="sgd", gradient="forward", repeat=4, hit=0, steps=0, status="solved"),
    dict(optimizer="sgd", gradient="true", repeat=0, hit=4, steps=4, status="solved"),
]


@pytest.mark.parametrize("protocol, expected", [
    ("paper", (101 + 10 + 41 + 20 + 1) / 3),  # aRT, the start at the target solved in 0 steps
    ("honest", (101 + 10 + 41 + 20 + 1) / 3),
    ("as-coded", (10 + 20) / 2),  # mean over successes; the start at the target is a failure
])
def test_problem_costs_follow_the_protocol(protocol, expected):
    scoring = protocols.scoring(protocols.PROTOCOLS[protocol])
    costs = profiles.problem_costs(run_table(protocol, REPEATS), **scoring)
    assert list(costs.columns) == ["sgd (true)", "sgd (forward)"]
    assert costs.loc[("f", 2, 0), "sgd (forward)"] == pytest.approx(expected)
    assert costs.loc[("f", 2, 0), "sgd (true)"] == 5.0


def test_art_and_success_tables():
    table = run_table("as-coded", REPEATS)
    rates = profiles.success_table(table, at_target="failure")
    assert rates.loc[(2, "f"), "sgd (forward)"] == pytest.approx(2 / 5)
    arts = profiles.art_table(table, at_target="failure")  # the aRT table always lets failures count
    assert arts.loc[(2, "f"), "sgd (forward)"] == pytest.approx((101 + 10 + 41 + 20 + 1) / 2)
    honest = profiles.success_table(run_table("honest", REPEATS))
    assert honest.loc[(2, "f"), "sgd (forward)"] == pytest.approx(3 / 5)


def test_several_tangents_make_several_solvers():
    runs = [dict(optimizer="adam", gradient="forward", tangent=t, hit=1, steps=1) for t in ("gaussian", "sphere")]
    labels = profiles.solver_labels(run_table("honest", runs))
    assert list(labels) == ["adam (forward, gaussian)", "adam (forward, sphere)"]


def test_ecdf_by_hand():
    runs = [
        dict(optimizer="adam", gradient="forward", repeat=0, hit_1e1=0, hit_1e0=4, steps=50),
        dict(optimizer="adam", gradient="forward", repeat=1, hit_1e1=2, hit_1e0=np.nan, steps=50),
        dict(optimizer="sgd", gradient="forward", repeat=0, steps=50),
        dict(optimizer="sgd", gradient="forward", repeat=1, steps=50),
    ]
    curve = profiles.ecdf(run_table("honest", runs), rungs=(1, 0))
    adam = curve[curve.solver == "adam (forward)"]
    np.testing.assert_array_equal(adam["budget"], [1.0, 3.0, 5.0])
    np.testing.assert_allclose(adam["fraction"], [0.25, 0.5, 0.75])
    assert np.all(curve.loc[curve.solver == "sgd (forward)", "fraction"] == 0)
    assert set(curve["dim"]) == {2}


def test_rungs_below_the_stopping_target_are_refused():
    table = run_table("paper", REPEATS)
    assert profiles.measured_rungs(table) == (2, 1, 0, -1)
    with pytest.raises(ValueError, match="below the stopping target"):
        profiles.problem_costs(table, target=1e-3)


def test_bootstrap_bands_are_seeded_and_contain_the_profile():
    rng = np.random.default_rng(5)
    costs = costs_frame({(f"p{i}", 2, 0): rng.choice([1.0, 2.0, 4.0, INF], size=3) for i in range(30)})
    one = profiles.performance_profile(costs, bootstrap=200, rng=np.random.default_rng(1))
    two = profiles.performance_profile(costs, bootstrap=200, rng=np.random.default_rng(1))
    pd.testing.assert_frame_equal(one, two)
    assert np.all(one["lower"] <= one["rho"] + 1e-12) and np.all(one["rho"] <= one["upper"] + 1e-12)
    assert (one["upper"] - one["lower"]).max() > 0
    same = costs_frame({(f"p{i}", 2, 0): [1.0, 2.0, INF] for i in range(5)})
    flat = profiles.performance_profile(same, bootstrap=50, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(flat["lower"], flat["upper"])  # identical problems: no spread
    with pytest.raises(TypeError):
        profiles.performance_profile(costs, bootstrap=10)


def test_profile_per_dimension_and_plots(tmp_path):
    table = pd.concat([run_table("honest", REPEATS).assign(dim=d) for d in (2, 10)], ignore_index=True)
    for kind in sorted(profiles.KINDS):
        prof = profiles.profile(table, kind, bootstrap=20, rng=np.random.default_rng(0))
        assert set(prof["dim"]) == {2, 10}
        axes = plotting.plot_by_dim(prof)
        assert len(axes) == 2 and axes[0].get_lines()
        axes[0].figure.savefig(tmp_path / f"{kind}.png")
        plotting._pyplot().close(axes[0].figure)
    ax = plotting.plot_table(profiles.art_table(table))
    assert ax.images
    with pytest.raises(ValueError, match="unknown profile kind"):
        profiles.profile(table, "nope")


def test_ratios_equal_in_exact_arithmetic_are_ties():
    # 21/10 over 3/2 and 14/10 over 1 are both 7/5, but the first is 1.4000000000000001 in floats
    assert (21 / 10) / (3 / 2) != 1.4
    costs = costs_frame({("p1", 2, 0): [21 / 10, 3 / 2], ("p2", 2, 0): [14 / 10, 1.0]}, solvers=("A", "B"))
    prof = profiles.performance_profile(costs)
    a = prof[prof["solver"] == "A"]
    assert list(a["tau"]) == [1.0, 1.4]  # one breakpoint for the two equal ratios
    assert at(prof, "A", 1.4) == 1.0  # both problems counted at tau = 7/5
    assert at(prof, "A", 1.39) == 0.0
    data = profiles.data_profile(costs_frame({("p1", 2, 0): [0.1 + 0.2], ("p2", 2, 0): [0.3]}, solvers=("A",)),
                                 unit="evaluations")
    assert at(data, "A", 0.3) == 1.0  # 0.1 + 0.2 is 0.30000000000000004


def test_bands_resample_functions_not_starts():
    # two functions, five starts each: one is solved by A at every start, the other at none. A
    # problem bootstrap would give a narrow band around 0.5; resampling the two functions gives
    # resamples with 0, 1 or 2 copies of the solved function: rho in {0, 0.5, 1}.
    rows = {(f, 2, s): [1.0 if f == "good" else INF, 1.0] for f in ("good", "bad") for s in range(5)}
    prof = profiles.performance_profile(costs_frame(rows, solvers=("A", "B")), bootstrap=400,
                                        rng=np.random.default_rng(3))
    a = prof[prof["solver"] == "A"].iloc[0]
    assert a["rho"] == 0.5 and a["lower"] == 0.0 and a["upper"] == 1.0
    assert prof.attrs["resampled"] == "functions"

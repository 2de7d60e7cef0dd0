import numpy as np
import pytest

from forwardgrad import descent, optimizers, protocols
from forwardgrad.descent import Arm, DescentResult
from helpers import quadratic, rosen, sphere

ENGINES = ["autograd", "jax"]


def _starts(seed=0, runs=6, d=3, scale=1.0):
    return np.random.default_rng(seed).uniform(-scale, scale, size=(runs, d))


@pytest.mark.parametrize("engine", ENGINES)
def test_sgd_on_sphere_matches_closed_form(engine):
    # x_k = (1 - 2 lr)^k x_0, so f(x_k) = (1 - 2 lr)^{2k} f(x_0): the first k with f <= target is known.
    lr, target = 0.1, 1e-3
    x0 = _starts()
    res = descent.descend(sphere, x0, optimizers.sgd(lr), rng=np.random.default_rng(0),
                          max_steps=1000, target=target, engine=engine)
    f0 = np.sum(x0**2, axis=-1)
    expected = np.ceil(np.log(target / f0) / (2 * np.log(1 - 2 * lr)))
    np.testing.assert_array_equal(res.hit, expected)
    assert np.all(res.status == "solved")
    np.testing.assert_array_equal(res.steps, expected)
    np.testing.assert_array_equal(res.oracle_calls, expected)
    np.testing.assert_allclose(res.x_final, x0 * (1 - 2 * lr) ** expected[:, None], rtol=1e-10)
    assert np.all(res.f_final <= target) and np.all(res.f_best == res.f_final)


@pytest.mark.parametrize("engine", ENGINES)
def test_start_at_target_is_solved_in_zero_steps(engine):
    x0 = np.zeros((2, 3))
    res = descent.descend(sphere, x0, optimizers.adam(0.01), "forward", rng=np.random.default_rng(0),
                          max_steps=10, target=0.1, engine=engine)
    assert np.all(res.status == "solved") and np.all(res.hit == 0) and np.all(res.steps == 0)


@pytest.mark.parametrize("engine", ENGINES)
def test_budget_and_frozen_runs(engine):
    res = descent.descend(rosen, _starts(d=4, scale=2), optimizers.sgd(1e-5), rng=np.random.default_rng(0),
                          max_steps=7, target=-1.0, engine=engine)
    assert np.all(res.status == "budget") and np.all(np.isnan(res.hit)) and np.all(res.steps == 7)


@pytest.mark.parametrize("engine", ENGINES)
def test_projection_keeps_iterates_in_the_box(engine):
    # a linear function pushes every run against the lower face of the box
    lower, upper = np.array([-1.0, -2.0]), np.array([1.0, 0.5])

    def linear(x):
        return x[..., 0] + 2 * x[..., 1]

    res = descent.descend(linear, _starts(d=2, scale=0.5), optimizers.sgd(0.3), rng=np.random.default_rng(0),
                          max_steps=50, bounds=(lower, upper), record=range(51), engine=engine)
    np.testing.assert_allclose(res.x_final, np.broadcast_to(lower, res.x_final.shape))
    traj = res.x_trajectory
    assert traj.shape == (51, 6, 2)
    assert np.all(traj >= lower - 1e-15) and np.all(traj <= upper + 1e-15)


@pytest.mark.parametrize("engine", ENGINES)
def test_divergence_is_marked_and_never_at_step_zero(engine):
    x0 = _starts(d=2, scale=1.0)
    # a huge step on Rosenbrock blows up quickly
    res = descent.descend(rosen, x0, optimizers.sgd(10.0), rng=np.random.default_rng(0),
                          max_steps=100, target=0.0, engine=engine, divergence=protocols.relative_divergence())
    assert np.all(res.status == "diverged")
    assert np.all(res.steps >= 1)
    # without a rule no run is declared diverged: it goes on to the budget
    free = descent.descend(rosen, x0, optimizers.sgd(10.0), rng=np.random.default_rng(0),
                           max_steps=100, target=0.0, engine=engine)
    assert np.all(free.status == "budget") and np.all(free.steps == 100)
    # the absolute rule of the original code fires at step 0 where f(x0) - target > threshold
    res0 = descent.descend(rosen, x0 * 3, optimizers.sgd(1e-6), rng=np.random.default_rng(0),
                           max_steps=5, target=0.0, divergence=protocols.absolute_divergence(100.0), engine=engine)
    high = rosen(x0 * 3) > 100
    assert high.any() and np.all(res0.steps[high] == 0) and np.all(res0.status[high] == "diverged")
    relative = descent.descend(rosen, x0 * 3, optimizers.sgd(1e-6), rng=np.random.default_rng(0),
                               max_steps=5, target=0.0, engine=engine, divergence=protocols.relative_divergence())
    assert np.all(relative.status == "budget")


@pytest.mark.parametrize("engine", ENGINES)
def test_same_seed_same_results(engine):
    arms = [Arm(optimizers.adam(0.05), "forward"), Arm(optimizers.sgd(0.01), "forward", "gaussian")]
    run = lambda seed: descent.descend_arms(quadratic, arms, _starts(d=5), rng=np.random.default_rng(seed),
                                            max_steps=300, target=0.5, engine=engine)
    a, b, c = run(1), run(1), run(2)
    np.testing.assert_array_equal(a.x_final, b.x_final)
    np.testing.assert_array_equal(a.hit, b.hit)
    assert not np.array_equal(a.x_final, c.x_final)


def test_lockstep_equals_separate_runs_for_true_gradients():
    arms = [Arm(optimizers.get(n, lr=0.01)) for n in sorted(optimizers.OPTIMIZERS)]
    x0 = _starts(d=4)
    rule = protocols.relative_divergence()
    together = descent.descend_arms(rosen, arms, x0, rng=np.random.default_rng(0), max_steps=400, target=1.0,
                                    divergence=rule)
    for i, arm in enumerate(arms):
        alone = descent.descend(rosen, x0, arm.optimizer, rng=np.random.default_rng(0), max_steps=400, target=1.0,
                                divergence=rule)
        np.testing.assert_array_equal(together.hit[together.arm == i], alone.hit)
        np.testing.assert_allclose(together.x_final[together.arm == i], alone.x_final, rtol=1e-13)


def test_engines_agree_exactly_on_deterministic_runs():
    arms = [Arm(optimizers.get(n, lr=0.01)) for n in sorted(optimizers.OPTIMIZERS)]
    kw = dict(rng=np.random.default_rng(0), max_steps=500, target=0.5, ladder=[10.0, 1.0, 0.5], record=[0, 100, 500],
              divergence=protocols.relative_divergence())
    a = descent.descend_arms(rosen, arms, _starts(d=3), engine="autograd", **kw)
    kw["rng"] = np.random.default_rng(0)
    j = descent.descend_arms(rosen, arms, _starts(d=3), engine="jax", **kw)
    np.testing.assert_array_equal(a.hit, j.hit)
    np.testing.assert_array_equal(a.ladder_hits, j.ladder_hits)
    np.testing.assert_allclose(a.x_final, j.x_final, rtol=1e-10)
    np.testing.assert_allclose(a.f_trajectory, j.f_trajectory, rtol=1e-10)


def test_engines_statistically_indistinguishable_for_forward_gradients():
    """Each engine has its own random stream, so compare the mean hitting steps by a z-test."""
    x0 = np.tile(_starts(d=10, runs=1, scale=1.0), (300, 1))
    kw = dict(rng=np.random.default_rng(3), max_steps=20_000, target=0.5)
    hits = {}
    for engine in ENGINES:
        res = descent.descend(quadratic, x0, optimizers.sgd(0.005), "forward", engine=engine, **kw)
        assert np.all(res.status == "solved")
        hits[engine] = res.hit
    a, j = hits["autograd"], hits["jax"]
    se = np.sqrt(a.var() / len(a) + j.var() / len(j))
    assert abs(a.mean() - j.mean()) < 4 * se


def test_ladder_records_first_hits_in_order():
    res = descent.descend(sphere, _starts(d=3), optimizers.sgd(0.05), rng=np.random.default_rng(0),
                          max_steps=500, target=1e-6, ladder=[1.0, 1e-2, 1e-4, 1e-6])
    hits = res.ladder_hits
    assert np.all(np.diff(hits, axis=1) >= 0)
    np.testing.assert_array_equal(hits[:, -1], res.hit)


def test_multi_tangent_counts_oracle_calls():
    res = descent.descend(sphere, _starts(d=3), optimizers.sgd(0.05), "forward", k=4,
                          rng=np.random.default_rng(0), max_steps=20, target=-1.0)
    np.testing.assert_array_equal(res.oracle_calls, 4 * res.steps)


def test_bad_input():
    opt = optimizers.sgd(0.1)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="max_steps"):
        descent.descend(sphere, _starts(), opt, rng=rng, max_steps=0)
    with pytest.raises(ValueError, match="non-finite"):
        descent.descend(sphere, np.array([[np.nan, 0.0]]), opt, rng=rng, max_steps=5)
    with pytest.raises(ValueError, match="shape"):
        descent.descend(sphere, np.zeros(3), opt, rng=rng, max_steps=5)
    with pytest.raises(ValueError, match="bounds"):
        descent.descend(sphere, _starts(), opt, rng=rng, max_steps=5, bounds=(np.ones(3), np.zeros(3)))
    with pytest.raises(ValueError):
        descent.descend(sphere, _starts(), opt, rng=rng, max_steps=5, bounds=(np.zeros(4), np.ones(4)))
    with pytest.raises(ValueError, match="gradient"):
        descent.descend(sphere, _starts(), opt, "backward", rng=rng, max_steps=5)
    with pytest.raises(KeyError, match="tangent"):
        descent.descend(sphere, _starts(), opt, "forward", "cauchy", rng=rng, max_steps=5)
    with pytest.raises(TypeError, match="Generator"):
        descent.descend(sphere, _starts(), opt, rng=0, max_steps=5)
    with pytest.raises(ValueError, match="engine"):
        descent.descend(sphere, _starts(), opt, rng=rng, max_steps=5, engine="torch")


@pytest.mark.parametrize("gradient,k", [("projected", 3), ("guided", 1), ("fd", 2), ("forward", 4)])
@pytest.mark.parametrize("engine", ENGINES)
def test_other_estimators_descend(gradient, k, engine):
    arms = [Arm(optimizers.adam(0.05), gradient, "rademacher", k, alpha=0.5), Arm(optimizers.adam(0.05))]
    res = descent.descend_arms(quadratic, arms, _starts(d=5, runs=4), rng=np.random.default_rng(0),
                               max_steps=3000, target=0.2, engine=engine)
    assert np.all(res.status == "solved")
    np.testing.assert_array_equal(res.oracle_calls[res.arm == 0], k * res.steps[res.arm == 0])


def test_bad_arm_settings():
    with pytest.raises(ValueError, match="alpha"):
        descent.descend_arms(sphere, [Arm(optimizers.sgd(0.1), "guided", alpha=0.0)], _starts(),
                             rng=np.random.default_rng(0), max_steps=3)
    with pytest.raises(ValueError, match="eps"):
        descent.descend_arms(sphere, [Arm(optimizers.sgd(0.1), "fd", eps=-1.0)], _starts(),
                             rng=np.random.default_rng(0), max_steps=3)


@pytest.mark.parametrize("engine", ENGINES)
def test_records_after_all_runs_froze_hold_the_final_values(engine):
    res = descent.descend(sphere, _starts(d=2), optimizers.sgd(0.1), rng=np.random.default_rng(0),
                          max_steps=1000, target=1e-3, record=[0, 5, 900, 1000], engine=engine)
    assert np.all(res.hit < 900)
    np.testing.assert_array_equal(res.f_trajectory[2:], np.broadcast_to(res.f_final, (2, 6)))
    np.testing.assert_array_equal(res.x_trajectory[3], res.x_final)
    np.testing.assert_allclose(res.f_trajectory[0], res.f_start)


@pytest.mark.parametrize("engine", ENGINES)
def test_compaction_changes_no_result_and_saves_row_steps(engine, monkeypatch):
    """Runs stop at very different times: compacting the batch drops the stopped rows, and every
    run's record is bit for bit what it is without compaction."""
    monkeypatch.setattr(descent, "SEGMENT", 64)
    monkeypatch.setattr(descent, "COMPACT_ROW_STEPS", 1)
    rng = np.random.default_rng(3)
    x0 = rng.uniform(-2, 2, (6, 5))
    arms = [Arm(optimizers.sgd(0.02), "true"), Arm(optimizers.adam(0.05), "forward"),
            Arm(optimizers.adam(0.05), "forward", "gaussian"), Arm(optimizers.sgd(0.01), "forward")]
    starts = [x0, np.repeat(x0, 3, axis=0), np.repeat(x0, 2, axis=0), x0[:2] * 0.01]
    keys = np.arange(6 + 18 + 12 + 2, dtype=np.uint64) * np.uint64(7919)
    options = dict(keys=keys, max_steps=1500, target=0.05, ladder=[10.0, 1.0], record=[0, 10, 100, 700, 1500],
                   record_x=True, engine=engine, divergence=protocols.relative_divergence())
    plain = descent.descend_arms(quadratic, arms, starts, **options)
    packed = descent.descend_arms(quadratic, arms, starts, compact=True, **options)
    assert packed.row_steps < 0.8 * plain.row_steps
    for field in DescentResult._fields:
        a, b = getattr(plain, field), getattr(packed, field)
        if field == "row_steps":
            continue
        if a is None:
            assert b is None
        else:
            np.testing.assert_array_equal(a, b, err_msg=field)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_run_depends_on_its_key_only(engine):
    x0 = np.random.default_rng(4).uniform(-1, 1, (3, 6))
    keys = np.array([11, 12, 13], dtype=np.uint64)
    options = dict(max_steps=200, target=0.0, engine=engine)
    together = descent.descend_arms(quadratic, [Arm(optimizers.adam(0.05), "forward")], x0, keys=keys, **options)
    alone = descent.descend_arms(quadratic, [Arm(optimizers.adam(0.05), "forward")], x0[1:2], keys=keys[1:2], **options)
    np.testing.assert_array_equal(together.x_final[1], alone.x_final[0])
    with pytest.raises(ValueError, match="uint64"):
        descent.descend_arms(quadratic, [Arm(optimizers.adam(0.05), "forward")], x0, keys=[1, 2, 3], **options)

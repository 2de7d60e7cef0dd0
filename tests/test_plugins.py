"""Plugins: checks at the door (one line per broken contract), and sweeps, the CLI, the sidecar
and the resume treating plugins like built-ins (plugins defined in tests/plugins_example.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import plugins_example as pe
from forwardgrad import benchmark, cli, oracles, plugins, protocols, results, tangents
from forwardgrad.experiments import byom

HERE = Path(__file__).resolve().parent
GOOD = [("optimizer", "plugins_example:sign_sgd"), ("gradient", "plugins_example:central"),
        ("tangent", "plugins_example:flip"), ("function", "plugins_example:shifted_sphere"),
        ("optimizer", "forwardgrad.experiments.byom:lion"), ("gradient", "forwardgrad.experiments.byom:antithetic"),
        ("tangent", "forwardgrad.experiments.byom:coordinate")]
BAD = {  # (kind, path) -> a phrase of its one-line message
    ("optimizer", "plugins_example:flat_step"): "step of shape (5,) for g of shape (5, 3)",
    ("optimizer", "plugins_example:no_lr"): "takes the learning rate as lr",
    ("optimizer", "plugins_example:not_a_plugin"): "expected an Optimizer",
    ("gradient", "plugins_example:wrong_shape"): "g of shape (6, 4)",
    ("gradient", "plugins_example:free_lunch"): "costs no oracle call",
    ("gradient", "plugins_example:sign_sgd"): "expected an oracles.Oracle",
    ("tangent", "plugins_example:doubled"): "E[v v^T] is not the identity",
    ("tangent", "plugins_example:ignores_shape"): "came back with shape",
    ("function", "plugins_example:wrong_minimum"): "not the stated minimum",
    ("function", "plugins_example:not_batched"): "f failed on a (64, 2) batch",
    ("function", "plugins_example:sign_sgd"): "expected an objectives.Objective",
    ("optimizer", "no_such_module_here:lion"): "cannot import 'no_such_module_here'",
    ("optimizer", "plugins_example:nothing"): "has no attribute 'nothing'",
    ("optimizer", "plugins_example"): "unknown optimizer",
}


@pytest.mark.parametrize("kind, path", GOOD)
def test_good_plugins_resolve_with_path_and_digest(kind, path):
    entry = plugins.resolve(path, kind, dims=(2, 10))
    assert entry.path == path and entry.name == path.rpartition(":")[2] and len(entry.sha256) == 64
    assert plugins.jax_problem(entry) is None
    # the object itself resolves to the same record: its import path is found
    assert plugins.resolve(entry.obj, kind, dims=(2,)) == entry


@pytest.mark.parametrize("kind, path", sorted(BAD))
def test_bad_plugins_fail_at_the_door_with_one_line(kind, path):
    with pytest.raises(plugins.PluginError) as err:
        plugins.resolve(path, kind, dims=(2,))
    message = str(err.value)
    assert BAD[kind, path] in message and "\n" not in message


@pytest.mark.parametrize("kind, path", sorted(BAD))
def test_bad_plugins_fail_on_the_command_line_before_any_run(kind, path, tmp_path, capsys):
    option = {"optimizer": "--optimizers", "gradient": "--gradients", "tangent": "--tangent",
              "function": "--functions"}[kind]
    out = tmp_path / "r.csv"
    argv = ["bench", "--functions", "sphere", "--dims", "2", "--starts", "1", "--repeats", "1", "--max-steps", "5",
            "--engine", "autograd", "--quiet", "--out", str(out), option, path]
    assert cli.run(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and BAD[kind, path] in err
    assert not out.exists() and not results.parts_dir(out).exists()


def test_a_plugin_name_may_not_shadow_a_registered_one():
    sgd = pe.sign_sgd(0.1)._replace(name="sgd")
    with pytest.raises(plugins.PluginError, match="already a registered optimizer"):
        plugins.resolve(sgd, "optimizer")


def test_tangent_check_accepts_every_registered_law():
    # the covariance check on every registered law: none may be refused (no false alarm)
    for name, law in tangents.TANGENTS.items():
        if name != "haar":
            plugins.check_tangent(law, name)
    # haar draws a (*shape, d) Gaussian matrix, which a per-run stream (runs on axis -2) cannot lay
    # out: the check finds that it cannot feed the lockstep sweep
    with pytest.raises(plugins.PluginError, match="per-run stream"):
        plugins.check_tangent(tangents.TANGENTS["haar"], "haar")


def test_coordinate_law_has_identity_second_moment():
    v = byom.coordinate(np.random.default_rng(3), (20000, 5))
    assert set(np.unique(v)) == {0.0, np.sqrt(5)}
    assert (np.count_nonzero(v, axis=1) == 1).all()
    # E[v v^T] = I: off-diagonal products are exactly 0, the diagonal is d * Bernoulli(1/d)
    moment = v.T @ v / len(v)
    se = np.sqrt(5 * (1 - 1 / 5) / len(v))  # sd of d * Bernoulli(1/d) is sqrt(d - 1)... over sqrt(n)
    assert np.allclose(moment - np.diag(np.diag(moment)), 0.0)
    assert np.all(np.abs(np.diag(moment) - 1) < 5 * np.sqrt(4.0) / np.sqrt(len(v))) and se > 0


def test_lion_first_steps_are_signs():
    opt = byom.lion(0.1)
    g = np.array([[3.0, -0.5, 0.0]])
    step, state = opt.update(g, opt.init(g))
    assert np.array_equal(step, -0.1 * np.sign(g))  # c_1 = (1 - b1) g
    step, state = opt.update(-g, state)  # c_2 = b1 * 0.01 g - 0.1 g: the sign of -g
    assert np.array_equal(step, 0.1 * np.sign(g)) and np.allclose(state.mu, 0.01 * 0.99 * g - 0.01 * g)


def test_antithetic_estimate_is_exact_on_quadratics_and_costs_what_it_declares():
    f = lambda x: (x**2 * np.arange(1.0, 4.0)).sum(axis=-1)  # noqa: E731
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal((4, 3)), tangents.gaussian(rng, (2, 4, 3))
    fx, g = byom.antithetic.estimate(f, x, v, eps=1e-3)
    _, exact = oracles.forward_gradient(f, x, v)  # central differences are exact on a quadratic
    assert np.allclose(fx, f(x)) and np.allclose(g, exact, rtol=1e-9, atol=1e-9)
    assert byom.antithetic.calls(2) == 2 and byom.antithetic.evaluations(2) == 5


def _protocol(**overrides):
    fields = dict(functions=("sphere", "plugins_example:shifted_sphere"), dims=(2, 5),
                  optimizers=("sgd", pe.sign_sgd), gradients=("true", "forward", pe.central),
                  tangent="plugins_example:flip", starts=2, repeats=2, max_steps=150)
    return protocols.protocol("paper", **{**fields, **overrides})


def test_plugins_in_a_sweep_like_built_ins():
    p = _protocol()
    table = benchmark.sweep(p, engine="autograd")
    assert set(table["optimizer"]) == {"sgd", "sign_sgd"} and set(table["gradient"]) == {"true", "forward", "central"}
    assert set(table["function"]) == {"sphere", "shifted_sphere"}
    assert set(table.loc[table["gradient"] != "true", "tangent"]) == {"flip"}
    # a run's row is the same in any grid: the built-in solvers' rows equal a sweep without plugins
    plain = benchmark.sweep(protocols.protocol("paper", functions=("sphere",), dims=(2, 5), optimizers=("sgd",),
                                               gradients=("true", "forward"), tangent=pe.flip, starts=2,
                                               repeats=2, max_steps=150), engine="autograd")
    keys = ["function", "dim", "optimizer", "gradient", "start", "repeat"]
    mine = table[(table["optimizer"] == "sgd") & (table["gradient"] != "central") & (table["function"] == "sphere")]
    pd.testing.assert_frame_equal(mine.sort_values(keys).reset_index(drop=True)[plain.columns.drop("protocol")],
                                  plain.sort_values(keys).reset_index(drop=True)[plain.columns.drop("protocol")])
    # the oracle calls follow the plugin's declared cost: one per tangent and step
    central = table[table["gradient"] == "central"]
    assert (central["oracle_calls"] == central["steps"]).all()


def test_a_sweep_with_plugins_is_the_same_for_one_or_two_jobs_and_both_engines():
    p = _protocol(max_steps=60)
    one = benchmark.sweep(p, engine="jax", jobs=1)
    two = benchmark.sweep(p, engine="jax", jobs=2)
    pd.testing.assert_frame_equal(one, two)
    auto = benchmark.sweep(p, engine="autograd")
    assert (auto["status"] == one["status"]).all() and np.allclose(auto["hit"], one["hit"], equal_nan=True)


def test_an_untraceable_plugin_runs_on_autograd_with_a_warning_or_fails_when_jax_is_asked():
    p = _protocol(optimizers=("plugins_example:untraceable",), max_steps=10, dims=(2,))
    with pytest.warns(UserWarning, match="does not trace on JAX.*runs on autograd"):
        table = benchmark.sweep(p)
    assert set(table["engine"]) == {"autograd"}
    with pytest.raises(protocols.BenchmarkError, match="namespace"):
        benchmark.sweep(p, engine="jax")


def test_sidecar_records_path_and_digest_and_an_edited_plugin_is_another_configuration(tmp_path, monkeypatch):
    p = _protocol(max_steps=20, dims=(2,))
    out = tmp_path / "r.csv"
    benchmark.sweep(p, engine="autograd", out=out)
    side = json.loads(results.sidecar_path(out).read_text())
    digest = plugins.resolve("plugins_example:sign_sgd", "optimizer").sha256
    assert {"plugin": "sign_sgd", "kind": "optimizer", "path": "plugins_example:sign_sgd", "sha256": digest} \
        in side["plugins"]
    assert benchmark.sweep(p, engine="autograd", out=out).attrs["reused"]
    edited = p._replace(optimizers=tuple(e._replace(sha256="0" * 64) if isinstance(e, plugins.Plugin) else e
                                         for e in p.optimizers))
    with pytest.raises(protocols.BenchmarkError, match="another configuration"):
        benchmark.sweep(edited, engine="autograd", out=out)


def test_the_chapters_command_line_end_to_end_with_a_test_file_plugin(tmp_path):
    """`forwardgrad bench` as the chapter shows it, with plugins of a test file, in a fresh
    process started in the plugins' folder, two worker processes; then `forwardgrad profile`."""
    out = tmp_path / "plugins.csv"
    argv = ["bench", "--protocol", "paper", "--functions", "sphere,rosenbrock,plugins_example:shifted_sphere",
            "--dims", "2,10", "--optimizers", "adam,plugins_example:sign_sgd",
            "--gradients", "forward,plugins_example:central", "--tangent", "plugins_example:flip",
            "--starts", "2", "--repeats", "2", "--max-steps", "200", "--jobs", "2", "--quiet", "--out", str(out)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([sys.executable, "-m", "forwardgrad.cli", *argv], cwd=HERE, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    table = results.load(out)
    assert len(table) == 3 * 2 * 4 * 2 * 2 and set(table["optimizer"]) == {"adam", "sign_sgd"}
    same = benchmark.sweep(protocols.protocol(
        "paper", functions=("sphere", "rosenbrock", pe.shifted_sphere), dims=(2, 10), optimizers=("adam", pe.sign_sgd),
        gradients=("forward", pe.central), tangent=pe.flip, starts=2, repeats=2, max_steps=200))
    pd.testing.assert_frame_equal(table, same)
    figure = tmp_path / "profile.png"
    run = subprocess.run([sys.executable, "-m", "forwardgrad.cli", "profile", str(out), "--out", str(figure)],
                         cwd=HERE, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and figure.stat().st_size > 0, run.stderr


@pytest.mark.parametrize("name", sorted(byom.PLUGIN_SWEEPS))
def test_the_chapters_command_lines_are_its_sweeps(name):
    """The command line the chapter prints runs the protocol of its Python call."""
    args = cli._parser().parse_args(byom.command(name).split()[1:])
    fields = dict(functions=args.functions, dims=args.dims, optimizers=args.optimizers,
                  gradients=args.gradients, tangent=args.tangent)
    assert protocols.protocol(args.protocol, **fields) == protocols.protocol(
        "paper", dims=byom.DIMS, **byom.PLUGIN_SWEEPS[name])
    assert args.seed == 0

"""The sweep: seeding, protocols on grids with known answers, engines, parallel runs, resume."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from forwardgrad import benchmark, engines, objectives, protocols, results
from forwardgrad.engines import namespace
from helpers import interrupted_sweep, record_chunks

ENGINES = ["autograd", pytest.param("jax", marks=pytest.mark.skipif(not engines.has_jax(), reason="no JAX"))]
TINY = dict(functions=("sphere", "rosenbrock"), dims=(2,), optimizers=("sgd", "adam"), starts=2, repeats=2,
            max_steps=150)


def _steep(x):
    """$10^6 \\sum x_i^2$: on the box $[1, 2]^d$ every value exceeds $f^\\star + 0.1 + 10^5$."""
    return 1e6 * namespace(x).sum(x**2, axis=-1)


def _flat(x):
    """$0.01 \\sum x_i^2$: on the box $[-1, 1]^2$ every start is already within 0.1 of $f^\\star$."""
    return 0.01 * namespace(x).sum(x**2, axis=-1)


def _record(name, f, low, high):
    return objectives.Objective(
        name=name, f=f, dim=None, min_dim=1, tags=frozenset(), box=lambda d: (low, high),
        argmin=lambda d: (0.0, 0.0),
    )


CUSTOM = {"steep": _record("steep", _steep, 1.0, 2.0), "flat": _record("flat", _flat, -1.0, 1.0)}


def test_columns_and_sidecar(tmp_path):
    out = tmp_path / "res.csv"
    table = benchmark.sweep(protocols.protocol("paper", **TINY), seed=3, engine="autograd", out=out)
    assert list(table.columns) == list(results.COLUMNS)
    assert len(table) == 2 * benchmark.runs_per_chunk(protocols.protocol("paper", **TINY))
    side = json.loads(results.sidecar_path(out).read_text())
    assert side["engine"] == "autograd" and side["complete"] and side["runs"] == len(table)
    assert side["protocol"]["name"] == "paper" and side["seed"] == 3
    assert {"numpy", "autograd", "jax", "forwardgrad"} <= set(side["versions"]) and "git_commit" in side
    text = results.sidecar_path(out).read_text()
    assert str(tmp_path) not in text and str(tmp_path.home()) not in text
    assert not results.parts_dir(out).exists()
    assert set(table["engine"]) == {"autograd"}


def test_seeds_are_keyed_by_names_not_order():
    p = protocols.protocol("paper", **TINY)
    a = benchmark.starting_points(p, "rosenbrock", 2, seed=7)
    benchmark.starting_points(p, "sphere", 2, seed=7)
    np.testing.assert_array_equal(a, benchmark.starting_points(p, "rosenbrock", 2, seed=7))
    assert not np.allclose(a, benchmark.starting_points(p, "sphere", 2, seed=7))
    assert not np.allclose(a, benchmark.starting_points(p, "rosenbrock", 2, seed=8))
    lower, upper = objectives.get("rosenbrock").bounds(2)
    assert np.all((lower <= a) & (a <= upper))
    both = benchmark.sweep(p, seed=7, engine="autograd")
    alone = benchmark.sweep(p._replace(functions=("rosenbrock",)), seed=7, engine="autograd")
    pd.testing.assert_frame_equal(both[both.function == "rosenbrock"].reset_index(drop=True), alone)
    # every optimizer and gradient sees the same starting points
    assert (both.groupby(["function", "start"])["f_start"].nunique() == 1).all()


def test_true_sgd_on_the_sphere_matches_the_closed_form():
    """$x_{k+1} = (1 - 2\\alpha) x_k$, so $f$ first drops below $\\varepsilon$ at
    $k = \\lceil \\log(\\varepsilon / f_0) / \\log (1 - 2\\alpha)^2 \\rceil$."""
    grid = dict(functions=("sphere",), dims=(3,), optimizers=("sgd",), gradients=("true",), starts=3,
                max_steps=3000, lr=0.01)
    paper = benchmark.sweep(protocols.protocol("paper", **grid), seed=1, engine="autograd")
    honest = benchmark.sweep(protocols.protocol("honest", **grid), seed=1, engine="autograd")
    rate = math.log((1 - 2 * 0.01) ** 2)
    for k in (2, 1, 0, -1):
        expected = np.ceil(np.log(10.0**k / paper["f_start"]) / rate).clip(0)
        np.testing.assert_array_equal(paper[protocols.rung_column(k)], expected)
        np.testing.assert_array_equal(honest[protocols.rung_column(k)], expected)
    np.testing.assert_array_equal(paper["steps"], paper["hit"])  # paper stops at f* + 0.1
    assert paper["hit_1e-2"].isna().all()  # ... so the rungs below are not measured
    last = np.ceil(np.log(1e-8 / honest["f_start"]) / rate)
    np.testing.assert_array_equal(honest["hit_1e-8"], last)  # honest goes down the whole ladder
    np.testing.assert_array_equal(honest["steps"], last)
    assert (honest["status"] == "solved").all() and honest["success"].all()


def test_protocols_differ_where_the_original_code_did():
    grid = dict(functions=("steep", "flat"), dims=(2,), optimizers=("sgd", "adam"), starts=3, repeats=2,
                max_steps=60)
    tables = {name: benchmark.sweep(protocols.protocol(name, **grid), seed=0, engine="autograd",
                                    objectives=CUSTOM)
              for name in protocols.PROTOCOLS}
    for name, table in tables.items():
        steep, flat = table[table.function == "steep"], table[table.function == "flat"]
        if name == "as-coded":  # the absolute rule fires before any step
            assert (steep["status"] == "diverged").all() and (steep["steps"] == 0).all()
            assert (flat["hit"] == 0).all() and not flat["success"].any()  # 0/0: failure
        else:  # the relative rule never fires at step 0
            assert (steep["steps"] >= 1).all()
            assert ((steep["status"] != "diverged") | (steep["steps"] >= 1)).all()
            assert (flat["hit"] == 0).all() and flat["success"].all()  # solved in 0 steps
    # the same starts for every protocol: the seeds do not depend on the protocol
    np.testing.assert_array_equal(tables["paper"]["f_start"], tables["as-coded"]["f_start"])


def test_plan_skips_unknown_minima_and_rejects_bad_grids():
    p = protocols.protocol("paper", functions=("sphere", "ackley_n4"), dims=(2, 10))
    sweep_plan = benchmark.plan(p)
    assert [(c.function, c.dim) for c in sweep_plan.chunks] == [("sphere", 2), ("ackley_n4", 2), ("sphere", 10)]
    assert sweep_plan.skipped[0]["function"] == "ackley_n4" and sweep_plan.skipped[0]["dim"] == 10
    paper = benchmark.plan(protocols.PROTOCOLS["paper"])
    assert len(paper.chunks) == sum(len(objectives.paper_selection(d)) for d in (2, 10, 100)) == 67
    with pytest.raises(protocols.BenchmarkError, match="does not accept dimension 10"):
        benchmark.plan(protocols.protocol("paper", functions=("beale",), dims=(10,)))
    with pytest.raises(protocols.BenchmarkError, match="sphre"):
        benchmark.plan(protocols.protocol("paper", functions=("sphre",), dims=(2,)))
    with pytest.raises(protocols.BenchmarkError, match="d = 2, 10, 100"):
        benchmark.plan(protocols.protocol("paper", dims=(3,)))
    for bad in (dict(starts=-1), dict(repeats=0), dict(optimizers=("adagrad",)), dict(tangent="cauchy"),
                dict(lr=-0.1), dict(gradients=("backward",)), dict(k=0), dict(eps=0.0), dict(alpha=0.0),
                dict(alpha=1.5), dict(beta=1.0), dict(beta=-0.5)):
        with pytest.raises(protocols.BenchmarkError):
            protocols.protocol("paper", **bad)
    with pytest.raises(protocols.BenchmarkError, match="unknown protocol"):
        protocols.protocol("fast")


def test_resume_after_an_interruption(tmp_path, monkeypatch):
    p = protocols.protocol("honest", **TINY)
    out = tmp_path / "res.csv"
    calls = interrupted_sweep(monkeypatch, p, out, seed=2, stop_at="rosenbrock")
    assert not out.exists() and not results.sidecar_path(out).exists()
    assert sorted(f.name for f in results.parts_dir(out).glob("*.csv")) == ["sphere-d2.csv"]
    with pytest.raises(protocols.BenchmarkError, match="another configuration"):
        benchmark.sweep(p, seed=3, engine="autograd", out=out)
    record_chunks(monkeypatch, calls)
    resumed = benchmark.sweep(p, seed=2, engine="autograd", out=out)
    assert calls == ["sphere", "rosenbrock"]  # the finished chunk was not run again
    assert not results.parts_dir(out).exists()
    fresh = benchmark.sweep(p, seed=2, engine="autograd", out=tmp_path / "fresh.csv")
    pd.testing.assert_frame_equal(resumed, fresh)
    benchmark.sweep(p, seed=2, engine="autograd", out=out)  # complete: nothing runs again
    assert calls == ["sphere", "rosenbrock", "sphere", "rosenbrock"]


@pytest.fixture(scope="module")
def dask_scheduler():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


@pytest.mark.parametrize("engine", ENGINES)
def test_same_table_for_any_jobs_and_on_dask(engine, tmp_path, dask_scheduler):
    p = protocols.protocol("paper", **TINY)
    one = benchmark.sweep(p, seed=11, engine=engine, jobs=1, out=tmp_path / "one.csv")
    two = benchmark.sweep(p, seed=11, engine=engine, jobs=2, out=tmp_path / "two.csv")
    pd.testing.assert_frame_equal(one, two)
    dask = benchmark.sweep(p, seed=11, engine=engine, parallel="dask", scheduler=dask_scheduler,
                           out=tmp_path / "dask.csv")
    pd.testing.assert_frame_equal(one, dask)
    assert (one["engine"] == engine).all()


def test_engines_agree_statistically():
    """The paper protocol on a small grid: both engines draw different tangents from the same
    seeds, so forward runs differ, but their success rates and mean first-hit steps must agree.

    The budget is cut where about half the forward runs succeed. Two-sample z statistics per
    (function, start) group with the bound |z| <= 4: with 12 comparisons a false alarm has
    probability below 1e-3. True-gradient runs are deterministic and must agree to the step.
    """
    if not engines.has_jax():
        pytest.skip("no JAX")
    grid = dict(functions=("sphere", "sum_squares"), dims=(10,), optimizers=("sgd",), starts=3, repeats=40,
                max_steps=170)
    p = protocols.protocol("paper", **grid)
    tables = [benchmark.sweep(p, seed=4, engine=e) for e in ("autograd", "jax")]
    true = tables[0]["gradient"] == "true"
    np.testing.assert_array_equal(tables[0].loc[true, "hit"], tables[1].loc[true, "hit"])
    forward = [t[t.gradient == "forward"].groupby(["function", "start"]) for t in tables]
    rates = pd.concat([g["success"].mean() for g in forward], axis=1, keys=["a", "j"])
    n = 40
    pooled = (rates.a + rates.j) / 2
    assert ((pooled > 0.1) & (pooled < 0.95)).all(), rates  # the comparison has power
    z_rate = (rates.a - rates.j) / np.sqrt(pooled * (1 - pooled) * 2 / n)
    assert np.abs(z_rate).max() <= 4, rates
    hits = [t[(t.gradient == "forward") & t.success].groupby(["function", "start"])["hit"] for t in tables]
    stats = pd.concat([h.agg(["mean", "var", "count"]) for h in hits], axis=1, keys=["a", "j"])
    se = np.sqrt(stats["a"]["var"] / stats["a"]["count"] + stats["j"]["var"] / stats["j"]["count"])
    z_hit = (stats["a"]["mean"] - stats["j"]["mean"]) / se
    assert len(z_hit) == 6 and np.abs(z_hit).max() <= 4, stats


def test_jobs_are_capped_at_the_chunks_and_warned_above_the_cpus(monkeypatch):
    one = protocols.protocol("paper", **{**TINY, "functions": ("sphere",), "max_steps": 5})
    assert benchmark.sweep(one, seed=0, engine="autograd", jobs=16).attrs["timing"]["jobs"] == 1
    monkeypatch.setattr(benchmark.os, "cpu_count", lambda: 1)
    with pytest.warns(UserWarning, match="2 jobs on 1 CPUs"):
        benchmark.sweep(protocols.protocol("paper", **{**TINY, "max_steps": 5}), seed=0, engine="autograd", jobs=2)


def test_a_failed_dask_connection_leaves_no_file(tmp_path):
    pytest.importorskip("dask.distributed")
    out = tmp_path / "x.csv"
    with pytest.raises(protocols.BenchmarkError, match="cannot connect to the Dask scheduler"):
        benchmark.sweep(protocols.protocol("paper", **TINY), seed=0, engine="autograd", out=out, parallel="dask",
                        scheduler="tcp://127.0.0.1:9")
    assert not list(tmp_path.iterdir())


def test_a_runs_row_does_not_depend_on_its_grid():
    """Per-run streams: the same run gives the same row alone, in the grid, and with another solver."""
    base = dict(functions=("rosenbrock",), dims=(10,), gradients=("forward",), starts=2, repeats=2, max_steps=300)
    for engine in ("autograd", "jax"):
        alone = benchmark.sweep(protocols.protocol("paper", optimizers=("adam",), **base), seed=0, engine=engine)
        more = benchmark.sweep(protocols.protocol("paper", optimizers=("adam", "sgd"), **{**base, "starts": 3}),
                               seed=0, engine=engine)
        keys = ["function", "dim", "optimizer", "gradient", "start", "repeat"]
        joined = alone.merge(more, on=keys, suffixes=("", "_more"))
        assert len(joined) == len(alone) == 4
        for column in ("hit", "steps", "f_final", "f_best"):
            np.testing.assert_array_equal(joined[column], joined[f"{column}_more"], err_msg=f"{engine} {column}")


@pytest.mark.skipif(not engines.has_jax(), reason="no JAX")
def test_a_chunk_compiles_two_programs():
    """A chunk of the paper grid (8 arms, 120 runs) compiles f at the starts and one loop of steps on JAX,
    nothing else (at this budget no compaction pays; a compaction would compile one more loop)."""
    def bowl(x):  # a function no other test compiles
        return 0.5 * namespace(x).sum(x**2, axis=-1)

    p = protocols.protocol("paper", functions=("bowl",), dims=(3,), max_steps=300)
    engines.load_jax()
    before = engines.compile_count()
    table = benchmark.sweep(p, engine="jax", objectives={"bowl": _record("bowl", bowl, -1.0, 1.0)})
    assert len(table) == benchmark.runs_per_chunk(p) == 120
    assert 1 <= engines.compile_count() - before <= 2


def test_a_failure_to_start_workers_is_one_error_and_leaves_no_parts(tmp_path, monkeypatch):
    """--jobs 1000 under a process limit used to print loky banners and leave `.parts/` behind."""
    import joblib

    def refuse(*args, **kwargs):
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(joblib, "Parallel", refuse)
    out = tmp_path / "x.csv"
    with pytest.raises(protocols.BenchmarkError, match="worker processes failed.*fewer --jobs"):
        benchmark.sweep(protocols.protocol("paper", **{**TINY, "max_steps": 5}), seed=0, engine="autograd",
                        jobs=2, out=out)
    assert not (tmp_path / "x.csv.parts").exists() and not out.exists()


def test_progress_moves_within_a_chunk(monkeypatch):
    """The bar used to move only when a whole (function, dim) chunk finished."""
    seen = []
    real = benchmark._Progress.report

    def spy(self, name, t, stopped):
        seen.append((name, t))
        return real(self, name, t, stopped)

    monkeypatch.setattr(benchmark._Progress, "report", spy)
    monkeypatch.setattr(benchmark.descent, "SEGMENT", 100)  # several segments in one chunk
    one = protocols.protocol("paper", **{**TINY, "functions": ("rosenbrock",), "max_steps": 450})
    benchmark.sweep(one, seed=0, engine="autograd", jobs=1, progress=True)
    steps = sorted({t for name, t in seen if name == "rosenbrock-d2"})
    assert len(steps) >= 4 and steps[0] < 450  # reports before the chunk ends

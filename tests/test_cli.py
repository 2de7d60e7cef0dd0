"""The `forwardgrad` console script: bench, profile, functions, and one-line errors."""

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from forwardgrad import benchmark, cli, descent, protocols, results

GRID = ["--functions", "sphere,beale", "--dims", "2", "--optimizers", "sgd,adam", "--starts", "2",
        "--repeats", "2", "--max-steps", "80", "--engine", "autograd", "--seed", "5", "--quiet"]


@pytest.fixture(scope="module")
def table_csv(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "paper.csv"
    assert cli.main(["bench", *GRID, "--out", str(out)]) == 0
    return out


def test_bench_writes_the_table_and_its_sidecar(table_csv, capsys):
    table = results.load(table_csv)
    p = protocols.protocol("paper", functions=("sphere", "beale"), dims=(2,), optimizers=("sgd", "adam"),
                           starts=2, repeats=2, max_steps=80)
    pd.testing.assert_frame_equal(table, benchmark.sweep(p, seed=5, engine="autograd"))
    side = json.loads(results.sidecar_path(table_csv).read_text())
    assert side["engine"] == "autograd" and side["protocol"]["max_steps"] == 80 and side["seed"] == 5


def test_every_option_overrides_the_protocol(tmp_path):
    out = tmp_path / "h.csv"
    argv = ["bench", "--protocol", "as-coded", "--functions", "sphere", "--dims", "3", "--optimizers", "adam",
            "--gradients", "forward", "--tangent", "gaussian", "--starts", "1", "--repeats", "3",
            "--max-steps", "5", "--lr", "0.5", "--engine", "autograd", "--jobs", "1", "--quiet", "--out", str(out)]
    assert cli.main(argv) == 0
    table = results.load(out)
    assert len(table) == 3 and set(table["tangent"]) == {"gaussian"} and set(table["gradient"]) == {"forward"}
    assert (table["lr"] == 0.5).all() and (table["max_steps"] == 5).all() and (table["dim"] == 3).all()
    assert (table["protocol"] == "as-coded").all()


def test_new_oracles_and_their_options_reach_every_arm(tmp_path, monkeypatch):
    seen = []
    descend_arms = descent.descend_arms

    def spy(f, arms, x0, **options):
        seen.extend(arms)
        return descend_arms(f, arms, x0, **options)

    monkeypatch.setattr(descent, "descend_arms", spy)
    out = tmp_path / "new.csv"
    argv = ["bench", "--functions", "sphere", "--dims", "3", "--optimizers", "sgd",
            "--gradients", "true,projected,guided,fd", "--tangent", "gaussian", "--k", "2", "--eps", "1e-3",
            "--alpha", "0.25", "--beta", "0.5", "--starts", "2", "--repeats", "3", "--max-steps", "6",
            "--engine", "autograd", "--quiet", "--out", str(out)]
    assert cli.main(argv) == 0
    assert [(a.gradient, a.k, a.eps, a.alpha, a.beta) for a in seen] == [
        (g, 2, 1e-3, 0.25, 0.5) for g in ("true", "projected", "guided", "fd")]
    table = results.load(out)
    runs = table.groupby("gradient")["repeat"].size()
    # the stochastic oracles get the protocol's repeats and tangent law; the true gradient one run
    assert runs.to_dict() == {"true": 2, "projected": 6, "guided": 6, "fd": 6}
    assert (table.groupby("gradient")["tangent"].first() == pd.Series(
        {"fd": "gaussian", "guided": "gaussian", "projected": "gaussian", "true": "none"})).all()
    stochastic = table[table["gradient"] != "true"]
    assert (stochastic["oracle_calls"] == 2 * stochastic["steps"]).all()
    side = json.loads(results.sidecar_path(out).read_text())["protocol"]["arm"]
    assert (side["tangent"], side["k"], side["eps"], side["alpha"], side["beta"]) == ("gaussian", 2, 1e-3, 0.25, 0.5)


@pytest.mark.parametrize("kind", ["performance", "data", "accuracy", "ecdf"])
def test_profile_draws_a_figure(table_csv, tmp_path, kind):
    out = tmp_path / f"{kind}.png"
    assert cli.main(["profile", str(table_csv), "--kind", kind, "--out", str(out), "--bootstrap", "20"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_functions_lists_the_collection(capsys):
    assert cli.main(["functions", "--dim", "10"]) == 0
    text = capsys.readouterr().out
    assert "rosenbrock" in text and "beale" not in text and "f*" in text
    assert cli.main(["functions"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1 + 78


def test_the_console_script_is_installed():
    exe = shutil.which("forwardgrad", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert exe is not None
    done = subprocess.run([exe, "functions", "--dim", "2"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "beale" in done.stdout


def _foreign(tmp_path):
    path = tmp_path / "foreign.csv"
    path.write_text("a,b\n1,2\n")
    return path


def _binary(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(bytes(range(256)) * 4)
    return path


BAD_BENCH = [
    (["--functions", "sphre"], "no test function named 'sphre'"),
    (["--functions", "beale", "--dims", "10"], "does not accept dimension 10"),
    (["--starts", "-1"], "--starts"),
    (["--repeats", "0"], "--repeats"),
    (["--optimizers", "adagrad"], "unknown optimizer"),
    (["--tangent", "cauchy"], "unknown tangent law"),
    (["--dims", "two"], "--dims"),
    (["--lr", "-1"], "--lr"),
    (["--engine", "torch"], "--engine"),
    (["--protocol", "fast"], "--protocol"),
    (["--parallel", "dask"], "--scheduler"),
    (["--functions", "paper", "--dims", "3"], "d = 2, 10, 100"),
    (["--gradients", "true,spsa"], "unknown gradient 'spsa'"),
    (["--k", "0"], "--k"),
    (["--k", "1.5"], "--k"),
    (["--eps", "0"], "--eps"),
    (["--alpha", "0"], "--alpha"),
    (["--alpha", "1.5"], "--alpha"),
    (["--beta", "1"], "--beta"),
    (["--beta", "-0.1"], "--beta"),
]


@pytest.mark.parametrize("argv, message", BAD_BENCH)
def test_bad_bench_input_is_one_line_and_leaves_no_file(argv, message, tmp_path, capsys):
    out = tmp_path / "out.csv"
    base = ["bench", "--functions", "sphere", "--dims", "2", "--max-steps", "5", "--quiet", "--out", str(out)]
    status = _exit_status(lambda: cli.main(base + argv))
    err = capsys.readouterr().err
    assert status != 0
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err
    assert not out.exists() and not results.sidecar_path(out).exists()
    assert not results.parts_dir(out).exists()


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "missing.csv", "no such file"),
    (_foreign, "not a forwardgrad benchmark table"),
    (_binary, "cannot read"),
    (lambda tmp: tmp, "is a folder"),
])
def test_bad_profile_input_is_one_line(make, message, tmp_path, capsys):
    out = tmp_path / "fig.png"
    status = _exit_status(lambda: cli.main(["profile", str(make(tmp_path)), "--out", str(out)]))
    err = capsys.readouterr().err
    assert status != 0 and len(err.strip().splitlines()) == 1 and message in err, err
    assert not out.exists()


def test_bad_figure_name_and_kind(table_csv, tmp_path, capsys):
    assert cli.main(["profile", str(table_csv), "--out", str(tmp_path / "fig.xyz")]) != 0
    assert _exit_status(lambda: cli.main(["profile", str(table_csv), "--kind", "x", "--out", "f.png"])) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "cannot save a figure" in err[0] and "--kind" in err[1]
    assert not list(tmp_path.iterdir())


def _exit_status(call):
    try:
        return call()
    except SystemExit as stop:  # argparse errors exit with status 2
        return stop.code

"""The `forwardgrad` console script: bench, profile, functions, and one-line errors."""

import json
import shutil
import signal
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


# --- hardening: each test reproduces a defect found by trying the command line as a hostile user


@pytest.mark.parametrize("argv", [["functions", "--dim", "267"], ["functions", "--dim", "300"],
                                  ["functions", "--dim", "1000000"]])
def test_large_dimensions_are_described_without_a_traceback(argv, capsys):
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if argv[-1] == "300":
        assert "overflows float64" in [line for line in captured.out.splitlines() if "shubert " in line][0]


def test_huge_dimensions_are_refused_at_once(capsys):
    assert cli.main(["functions", "--dim", "1000000000"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "1,000,000" in err[0]


def test_a_minimum_beyond_float64_is_skipped_with_its_reason(tmp_path, capsys):
    argv = ["bench", "--optimizers", "sgd", "--gradients", "true", "--starts", "1", "--max-steps", "2",
            "--engine", "autograd", "--quiet", "--dims", "300"]
    assert cli.main(argv + ["--functions", "shubert", "--out", str(tmp_path / "a.csv")]) == 1
    assert "empty" in capsys.readouterr().err
    assert cli.main(argv + ["--functions", "shubert,sphere", "--out", str(tmp_path / "b.csv")]) == 0
    side = json.loads(results.sidecar_path(tmp_path / "b.csv").read_text())
    assert side["skipped"][0]["function"] == "shubert" and "finite" in side["skipped"][0]["reason"]


def test_an_unexpected_error_is_one_line(monkeypatch, capsys):
    def broken(p, custom=None):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(benchmark, "plan", broken)
    assert cli.main(["bench", "--functions", "sphere", "--dims", "2", "--quiet", "--out", "never.csv"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "internal error: ZeroDivisionError: boom" in err[0]


def test_duplicate_functions_run_once(tmp_path):
    out = tmp_path / "dup.csv"
    assert cli.main(["bench", *GRID, "--functions", "sphere,sphere", "--out", str(out)]) == 0
    table = results.load(out)
    assert set(table["function"]) == {"sphere"} and not table.duplicated(list(results.KEYS)).any()


def test_messages_name_the_paths_as_given(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = "res/sub/x.csv"
    assert cli.main(["bench", *GRID, "--out", out]) == 0
    assert "res/sub/x.json" in capsys.readouterr().out
    assert cli.main(["bench", *GRID, "--out", out]) == 0
    assert "reused the finished table res/sub/x.csv" in capsys.readouterr().out


def test_another_configuration_is_refused_unless_overwrite(table_csv, capsys):
    argv = ["bench", *GRID, "--seed", "6", "--out", str(table_csv)]
    assert cli.main(argv) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert cli.main(argv + ["--overwrite"]) == 0
    assert json.loads(results.sidecar_path(table_csv).read_text())["seed"] == 6
    assert cli.main(["bench", *GRID, "--out", str(table_csv), "--overwrite"]) == 0  # seed 5 again


def test_an_output_folder_is_refused_before_computing(tmp_path, capsys):
    folder = tmp_path / "x.csv"
    folder.mkdir()
    assert cli.main(["bench", *GRID, "--out", str(folder)]) == 1
    assert "is not a file" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]


def test_profile_refuses_inconsistent_tables_and_checks_the_sidecar(table_csv, tmp_path, capsys):
    cut = tmp_path / "cut.csv"
    cut.write_text("".join(table_csv.read_text().splitlines(keepends=True)[:5]))
    shutil.copy(results.sidecar_path(table_csv), results.sidecar_path(cut))
    assert cli.main(["profile", str(cut), "--out", str(tmp_path / "a.png")]) == 1
    assert "does not match its sidecar" in capsys.readouterr().err
    bad = pd.read_csv(table_csv).assign(status="exploded")
    bad.to_csv(tmp_path / "bad.csv", index=False)
    assert cli.main(["profile", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "b.png")]) == 1
    assert "unknown statuses" in capsys.readouterr().err
    plain = tmp_path / "plain.csv"
    shutil.copy(table_csv, plain)
    assert cli.main(["profile", str(plain), "--out", str(tmp_path / "c.png")]) == 0
    assert "warning: " in capsys.readouterr().err and (tmp_path / "c.png").exists()


def test_bench_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit):
        cli.main(["bench", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for default in ("default: 2,10,100", "default: 5)", "default: 50,000", "default: 0.01", "default: paper",
                    "default: rademacher"):
        assert default in text, default


def test_bench_announces_its_size(tmp_path, capsys):
    argv = ["bench", "--functions", "sphere", "--dims", "2", "--optimizers", "sgd", "--gradients", "true",
            "--starts", "1", "--max-steps", "3", "--engine", "autograd", "--out", str(tmp_path / "a.csv")]
    assert cli.main(argv) == 0
    assert "1 runs in 1 chunks" in capsys.readouterr().err


def _interruptible(tmp_path, jobs, output=subprocess.PIPE):
    exe = shutil.which("forwardgrad", path=str(__import__("pathlib").Path(sys.executable).parent))
    argv = [exe, "bench", "--functions", "sphere,rosenbrock,ackley,griewank,zakharov,dixon_price", "--dims", "2,10,100",
            "--optimizers", "sgd,adam", "--gradients", "true,forward", "--starts", "5", "--repeats", "10",
            "--max-steps", "50000", "--out", str(tmp_path / "x.csv"), "--quiet", "--jobs", str(jobs)]
    # A shell without job control starts background commands with SIGINT ignored, and Python then
    # installs no KeyboardInterrupt handler: the child gets the default disposition, as from a terminal.
    return subprocess.Popen(argv, start_new_session=True, stdout=output, stderr=output, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def test_ctrl_c_exits_130_and_keeps_the_finished_chunks(tmp_path):
    """SIGINT to the process group used to end in a segmentation fault with JAX (exit 139)."""
    import os
    import signal
    import time

    proc = _interruptible(tmp_path, jobs=1)
    parts, deadline = tmp_path / "x.csv.parts", time.time() + 120
    while not (parts.is_dir() and any(parts.glob("*-d*.csv"))) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)  # until the first chunk is on disk
    assert proc.poll() is None, proc.communicate()[1]  # the sweep is far from done
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Segmentation" not in err
    assert (tmp_path / "x.csv.parts").is_dir() and not (tmp_path / "x.csv").exists()


def test_workers_do_not_outlive_a_killed_sweep(tmp_path):
    """SIGKILL of the sweep's process used to leave its loky workers alive for minutes."""
    import os
    import signal
    import time

    with open(tmp_path / "stderr.txt", "w") as log:  # a file, not a pipe: workers must not hold our pipes
        proc = _interruptible(tmp_path, jobs=2, output=log)
    workers, deadline = [], time.time() + 120  # a cold machine takes a while to start two workers
    while len(workers) < 2 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.5)
        group = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True).stdout.split()
        workers = [int(p) for p in group if int(p) != proc.pid]
    assert proc.poll() is None, (tmp_path / "stderr.txt").read_text()  # still running when killed
    assert workers  # the sweep had started its workers
    time.sleep(2)  # let them take their first chunks
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.time() + 15
    alive = workers
    while alive and time.time() < deadline:
        time.sleep(0.5)
        alive = [w for w in workers if os.path.exists(f"/proc/{w}") and open(f"/proc/{w}/stat").read().split()[2] != "Z"]
    for w in alive:
        os.kill(w, signal.SIGKILL)
    assert not alive, f"{len(alive)} worker processes outlived the sweep"

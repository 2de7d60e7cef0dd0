"""Tests of forwardgrad.coco: runs on bbob written in COCO's format, read back by cocopp.

cocopp must read our folders and find, for every solver and target, the aRT that
forwardgrad.protocols.art gives on the same runs; the files must have the layout cocoex's own
observer writes (checked against a tiny cocoex run).
"""

import importlib.util
import warnings

import numpy as np
import pytest

from forwardgrad import coco, protocols
from forwardgrad.experiments import bbob as chapter

if importlib.util.find_spec("cocopp") is None:
    pytest.skip("cocopp is not installed: pip install -r requirements.txt", allow_module_level=True)
cocoex = pytest.importorskip("cocoex", reason="cocoex (coco-experiment) is not installed")
cocopp = chapter.offline(chapter._cocopp)  # cocopp tries the network when imported

TARGETS = (100.0, 10.0, 1.0, 1e-1, 1e-3, 1e-8)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("coco")
    parts = [coco.run(f, d, instances=(1, 2, 3, 4, 5), steps=30 * d, lr=0.05, optimizers_=("sgd", "adam"))
             for f, d in [(1, 2), (8, 3), (1, 5)]]
    import pandas as pd
    table = pd.concat([t for t, _ in parts], ignore_index=True)
    traces = [tr for _, trs in parts for tr in trs]
    return folder, table, traces, coco.write(folder, table, traces)


def test_cocopp_reads_our_files_and_finds_our_art(runs):
    folder, table, traces, algs = runs
    assert sorted(p.name for p in algs) == ["adam_forward", "adam_true", "sgd_forward", "sgd_true"]
    checked = 0
    for alg in algs:
        optimizer, gradient = alg.name.rsplit("_", 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # cocopp warns about fewer than 15 instances
            datasets = cocopp.pproc.DataSetList(str(alg))
        assert len(datasets) == 3
        for ds in datasets:
            rows = table[(table.optimizer == optimizer) & (table.gradient == gradient)
                         & (table.function == f"bbob/f{ds.funcId}") & (table.dim == ds.dim)]
            assert sorted(ds.instancenumbers) == sorted(rows.start)
            for target, theirs in zip(TARGETS, ds.detERT(list(TARGETS))):
                evals, reached = coco.evaluations_to([traces[i] for i in rows.index], rows.cost_per_step, target)
                ours = protocols.art(evals, reached)
                assert theirs == pytest.approx(ours, rel=1e-12) or (np.isinf(theirs) and np.isinf(ours))
                checked += np.isfinite(ours)
            # cocopp's largest evaluation count of each run is the one its trace used
            used = [coco.iterate_evaluations(len(traces[i]) - 1, c) for i, c in zip(rows.index, rows.cost_per_step)]
            assert sorted(ds.maxevals) == sorted(used)
    assert checked > 10  # the comparison saw finite aRTs, not only failures


def test_layout_matches_cocoex_observer(runs, tmp_path, monkeypatch):
    folder, *_ = runs
    monkeypatch.chdir(tmp_path)
    suite = cocoex.Suite("bbob", "instances: 1", "dimensions: 2 function_indices: 1")
    observer = cocoex.Observer("bbob", "result_folder: ref algorithm_name: ref")
    for problem in suite:
        problem.observe_with(observer)
        problem(np.zeros(2))
        problem.free()
    ref = tmp_path / "exdata" / "ref"
    ours = folder / "adam_true"
    assert {p.relative_to(ours).as_posix() for p in ours.rglob("*f1*")} >= {
        p.relative_to(ref).as_posix() for p in ref.rglob("*f1*") if p.suffix in (".info", ".dat", ".tdat")}
    ref_info = (ref / "bbobexp_f1.info").read_text().splitlines()[0]
    our_info = (ours / "bbobexp_f1.info").read_text().splitlines()[0]
    keys = lambda line: [part.split("=")[0].strip() for part in line.split(", ")]  # noqa: E731
    assert keys(our_info) == keys(ref_info)
    ref_header = (ref / "data_f1" / "bbobexp_f1_DIM2.dat").read_text().splitlines()[0]
    our_header = (ours / "data_f1" / "bbobexp_f1_DIM2.dat").read_text().splitlines()[0]
    assert our_header.split("(")[0] == ref_header.split("(")[0]


def test_trial_lines_follow_the_target_grid():
    trace = np.array([50.0, 40.0, 9.0, 9.5, 0.5, 1e-9])
    dat, tdat = coco.trial_lines(trace, 3, f_opt=10.0)
    evals = [int(line.split()[0]) for line in dat]
    # 50 -> 40 passes no 10^(i/5) (both in [10^1.6, 10^1.8)); 9 passes some; 9.5 is no progress
    assert evals == [1, 7, 13, 16]
    assert [float(line.split()[2]) for line in dat] == [50.0, 9.0, 0.5, 1e-9]
    assert int(tdat[-1].split()[0]) == 16


def test_step_costs():
    assert coco.step_cost("forward", 20) == 2 and coco.step_cost("true", 20) == 21
    assert coco.iterate_evaluations(0, 21) == 1 and coco.iterate_evaluations(3, 2) == 7
    with pytest.raises(ValueError, match="COCO costs"):
        coco.step_cost("fd", 3)


def test_cli_bench_suite_bbob_writes_a_folder_cocopp_reads(tmp_path, capsys):
    from forwardgrad import cli

    out = tmp_path / "bbob"
    status = cli.run(["bench", "--suite", "bbob", "--functions", "f1,bbob/f8", "--dims", "2,3",
                      "--instances", "1,2", "--optimizers", "adam", "--max-steps", "40", "--out", str(out), "--quiet"])
    assert status == 0
    assert sorted(p.name for p in out.iterdir()) == ["adam_forward", "adam_true", "runs.csv"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert len(cocopp.pproc.DataSetList(str(out / "adam_true"))) == 4
    assert cli.run(["bench", "--suite", "bbob", "--functions", "f1", "--out", str(out)]) == 1  # not empty
    assert cli.run(["bench", "--suite", "bbob", "--functions", "f25", "--out", str(tmp_path / "x")]) == 1
    assert "f1 to f24" in capsys.readouterr().err


def test_cocopp_needs_no_network(runs, tmp_path, monkeypatch):
    """cocopp's runtime ECDFs of our folders, with every socket connection refused."""
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.chdir(tmp_path)
    folder, table, traces, algs = runs
    files = chapter.cocopp_ecdf(sorted(algs), tmp_path / "pp")
    assert sorted(files) == [2, 3, 5] and all(p.stat().st_size > 0 for p in files.values())

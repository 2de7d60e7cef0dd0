"""The result files of a sweep: every file verified, every write ordered, every bad table refused."""

import json

import numpy as np
import pandas as pd
import pytest

from forwardgrad import benchmark, protocols, results
from forwardgrad.protocols import BenchmarkError
from helpers import interrupted_sweep, record_chunks

TINY = dict(functions=("sphere", "booth"), dims=(2,), optimizers=("sgd",), starts=2, repeats=2, max_steps=20)


@pytest.fixture()
def swept(tmp_path):
    out = tmp_path / "t.csv"
    p = protocols.protocol("paper", **TINY)
    table = benchmark.sweep(p, seed=0, engine="autograd", out=out)
    return p, out, table


def test_sidecar_records_runs_and_checksum(swept):
    _, out, table = swept
    side = json.loads(results.sidecar_path(out).read_text())
    assert side["runs"] == len(table) == 12 and side["sha256"] == results.file_digest(out)
    assert side["format"] == results.FORMAT and side["protocol"]["arm"]["tangent"] == "rademacher"


def test_a_cut_csv_is_not_reused(swept):
    p, out, table = swept
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:5]))
    with pytest.raises(BenchmarkError, match="does not match its sidecar"):
        benchmark.sweep(p, seed=0, engine="autograd", out=out)
    with pytest.raises(BenchmarkError, match="does not match its sidecar"):
        results.load(out)
    again = benchmark.sweep(p, seed=0, engine="autograd", out=out, overwrite=True)
    pd.testing.assert_frame_equal(again, table)


def test_a_finished_table_is_reused_and_another_configuration_refused(swept):
    p, out, table = swept
    reused = benchmark.sweep(p, seed=0, engine="autograd", out=out)
    assert reused.attrs["reused"] and not table.attrs["reused"]
    pd.testing.assert_frame_equal(reused, table)
    with pytest.raises(BenchmarkError, match="another configuration"):
        benchmark.sweep(p, seed=1, engine="autograd", out=out)
    other = benchmark.sweep(p, seed=1, engine="autograd", out=out, overwrite=True)
    assert not other.attrs["reused"] and json.loads(results.sidecar_path(out).read_text())["seed"] == 1


def test_a_missing_sidecar_warns_and_a_csv_without_one_is_not_overwritten(swept):
    p, out, _ = swept
    results.sidecar_path(out).unlink()
    with pytest.warns(UserWarning, match="no sidecar"):
        results.load(out)
    with pytest.raises(BenchmarkError, match="without its sidecar"):
        benchmark.sweep(p, seed=0, engine="autograd", out=out)


def test_a_new_csv_beside_an_old_sidecar_is_caught(swept, tmp_path):
    """The crash window: a new CSV written, its sidecar not yet (the old one is still there)."""
    p, out, table = swept
    other = tmp_path / "other.csv"
    benchmark.sweep(p, seed=5, engine="autograd", out=other)
    out.write_bytes(other.read_bytes())  # same configuration in the sidecar, other rows in the CSV
    with pytest.raises(BenchmarkError, match="does not match its sidecar"):
        benchmark.sweep(p, seed=0, engine="autograd", out=out)


def test_bad_parts_are_recomputed(tmp_path, monkeypatch):
    p = protocols.protocol("paper", **TINY)
    out = tmp_path / "x.csv"
    calls = interrupted_sweep(monkeypatch, p, out, seed=0, stop_at="booth")
    part = results.parts_dir(out) / "sphere-d2.csv"
    assert part.is_file() and part.with_suffix(".json").is_file()
    record_chunks(monkeypatch, calls)
    for damage in (lambda: part.write_text("".join(part.read_text().splitlines(keepends=True)[:4])),
                   lambda: part.write_text(""),
                   lambda: part.with_suffix(".json").unlink()):
        if not part.exists():  # the previous round completed the sweep: interrupt again
            out.unlink()
            results.sidecar_path(out).unlink()
            interrupted_sweep(monkeypatch, p, out, seed=0, stop_at="booth")
            record_chunks(monkeypatch, calls)
        damage()
        calls.clear()
        table = benchmark.sweep(p, seed=0, engine="autograd", out=out)
        assert calls == ["sphere", "booth"] and len(table) == 12  # the damaged part ran again


def test_output_paths_are_checked_before_computing(tmp_path):
    p = protocols.protocol("paper", **TINY)
    folder = tmp_path / "x.csv"
    folder.mkdir()
    with pytest.raises(BenchmarkError, match="is not a file"):
        benchmark.sweep(p, seed=0, engine="autograd", out=folder)
    assert not (tmp_path / "x.json").exists() and not (tmp_path / "x.csv.parts").exists()
    with pytest.raises(BenchmarkError, match=".csv"):
        results.check_output(tmp_path / "x.txt")


def _valid(swept_table):
    return swept_table.copy()


@pytest.mark.parametrize("damage, message", [
    (lambda t: t.assign(f_star=np.nan), "non-finite f_star"),
    (lambda t: t.assign(steps=-1.0), "whole number"),
    (lambda t: t.assign(status="exploded"), "unknown statuses"),
    (lambda t: pd.concat([t, t.iloc[:1]]), "same run twice"),
    (lambda t: t.assign(engine=["jax"] + ["autograd"] * (len(t) - 1)), "mixes engines"),
    (lambda t: t.iloc[:7], "incomplete grid"),
    (lambda t: t.drop(columns="hit"), "missing columns"),
    (lambda t: t.iloc[:0], "no runs"),
    (lambda t: t.assign(steps=t["max_steps"] + 1), "more steps than their budget"),
])
def test_validate_refuses_inconsistent_tables(swept, damage, message):
    _, _, table = swept
    results.validate(table)
    with pytest.raises(BenchmarkError, match=message):
        results.validate(damage(table))

"""taulc.runs owns training runs: the Run object's files, the atomic ``latest`` swap, the results table, and
no other module of src/ spells a run-file name."""

from __future__ import annotations

import ast
import csv
import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from taulc.runs import RESULTS_FIELDS, Run, RunError, latest_complete, resolve_run, runs_below
from taulc.runs import files as F
from tests.helpers import REPO

SRC = REPO / "src" / "taulc"


def _finished(d: Path, **metrics) -> Run:
    """A run as train.py leaves it: config, metrics, predictions, marker."""
    run = Run.claim(d, {"seed": 1})
    run.write_metrics({"model": "RidgeRegressor", **metrics})
    run.write_predictions({"y_pred": np.arange(3.0)}, {"y": np.ones(3), "rate": np.zeros(3)})
    run.mark_complete()
    return run


def test_a_run_writes_and_reads_its_files(tmp_path: Path) -> None:
    run = _finished(tmp_path / "ridge" / "t0", val_score=0.5)
    assert run.is_complete and run.read_metrics()["val_score"] == 0.5
    assert run.read_config() == {"seed": 1}
    assert run.prediction_names() == ("y_pred", "true_y", "true_rate")
    np.testing.assert_array_equal(run.read_predictions()["y_pred"], [0.0, 1.0, 2.0])
    done = json.loads(run.marker_path.read_text())["files"]
    assert set(done) == {F.OWNER, F.METRICS, F.PREDICTIONS} and all(done.values())
    assert run.predictor_path.parent == run.checkpoints_dir.parent == run.path
    assert run.results_path == run.latest_path.with_name(F.RESULTS) == tmp_path / "ridge" / F.RESULTS


def test_resolve_and_list_runs(tmp_path: Path) -> None:
    old = _finished(tmp_path / "svm" / "old")
    new = _finished(tmp_path / "ridge" / "new")
    os.utime(old.marker_path, (1000, 1000))
    Run.claim(tmp_path / "ridge" / "killed").write_metrics({})  # no marker: skipped, refused when named
    assert latest_complete(tmp_path) == new.path
    assert resolve_run("latest", tmp_path) == new.path.resolve() and resolve_run("svm", tmp_path) == old.path.resolve()
    assert resolve_run(None) is None and resolve_run("null") is None
    with pytest.raises(RunError, match="killed is not a complete train.py run"):
        resolve_run("ridge/killed", tmp_path)
    with pytest.raises(RunError, match="no complete run"):
        resolve_run("latest", tmp_path / "svm" / "old" / F.CHECKPOINTS)
    assert sorted(r.path.name for r in runs_below([tmp_path])) == ["killed", "new", "old"]
    assert [r.path for r in runs_below([old.metrics_path])] == [old.path]


def test_latest_is_replaced_by_a_rename(tmp_path: Path, monkeypatch) -> None:
    """The new link is complete under a temporary name before one ``os.replace`` swaps it in: ``latest``
    points at the old complete run up to the rename and at the new one after it, never at nothing."""
    a, b = _finished(tmp_path / "a"), _finished(tmp_path / "b")
    a.update_latest()
    assert a.latest_path.is_symlink() and os.readlink(a.latest_path) == "a"
    seen = []
    real = os.replace

    def spy(src, dst):
        if Path(src).is_symlink():
            seen.append((Path(src).name, os.readlink(src), os.readlink(dst), Run(Path(dst).resolve()).is_complete))
        real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    b.update_latest()
    assert len(seen) == 1 and seen[0][0].startswith(".latest.") and seen[0][1:] == ("b", "a", True)
    assert os.readlink(b.latest_path) == "b" and b.latest_txt_path.read_text() == f"{b.path}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", F.LATEST, F.LATEST_TXT]  # no temporary left


def test_a_reader_never_finds_latest_missing(tmp_path: Path) -> None:
    runs = [_finished(tmp_path / n) for n in ("a", "b")]
    runs[0].update_latest()
    stop, missing, seen = threading.Event(), [], set()

    def read() -> None:
        while not stop.is_set():
            try:
                seen.add(os.readlink(tmp_path / F.LATEST))
            except FileNotFoundError:
                missing.append(1)

    t = threading.Thread(target=read)
    t.start()
    try:
        for i in range(400):
            runs[i % 2].update_latest()
    finally:
        stop.set()
        t.join()
    assert not missing and seen <= {"a", "b"}


def test_latest_that_is_a_directory_is_left_alone(tmp_path: Path, caplog) -> None:
    (tmp_path / F.LATEST).mkdir()
    run = _finished(tmp_path / "a")
    run.update_latest()
    assert (tmp_path / F.LATEST).is_dir() and not (tmp_path / F.LATEST).is_symlink()
    assert run.latest_txt_path.read_text().strip() == str(run.path) and "not updated" in caplog.text
    assert not list(tmp_path.glob(".latest.*"))


def test_results_rows_are_written_by_the_run(tmp_path: Path) -> None:
    a, b = _finished(tmp_path / "a"), _finished(tmp_path / "b")
    assert a.append_result({"model": "RidgeRegressor", "skill": 0.12345, "seed": 3}) == a.results_path
    b.append_result({"model": "LinearSVM", "val_score": float("nan")})
    rows = list(csv.DictReader(open(a.results_path)))
    assert tuple(rows[0]) == RESULTS_FIELDS and len(rows) == 2
    assert rows[0]["run_dir"] == str(a.path) and rows[0]["skill"] == "0.123" and rows[0]["seed"] == "3"
    assert rows[1]["run_dir"] == str(b.path) and rows[1]["val_score"] == "nan" and rows[0]["time"]
    other = tmp_path / "elsewhere.csv"
    other.write_text("time,model\nx,y\n")  # an older table: moved aside, not appended under the wrong header
    a.append_result({"model": "RidgeRegressor"}, table=other)
    assert (tmp_path / "elsewhere.1.old.csv").read_text() == "time,model\nx,y\n"
    assert [r["model"] for r in csv.DictReader(open(other))] == ["RidgeRegressor"]


def test_run_file_names_are_spelled_only_in_taulc_runs() -> None:
    names = [
        F.METRICS,
        F.PREDICTIONS,
        F.MODEL,
        F.PREDICTOR,
        F.CARD,
        F.DATASET_RECORD,
        F.MARKER,
        F.OWNER,
        F.CONFIG,
        F.LATEST_TXT,
        F.RESULTS,
    ]
    found = set()
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("runs/"):
            continue
        tree = ast.parse(path.read_text())
        docs = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
            and n.body
            and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                found |= {(rel, n) for n in names if n in node.value}
    assert found == set()

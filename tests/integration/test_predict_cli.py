"""taulc-predict end to end: trajectories stream frame by frame; extxyz / CSV / PNG outputs; the console script."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.predict import big_config, listing, trained_runs, write_xyz


@pytest.fixture(scope="session")
def runs(tiny_dataset: Path, tmp_path_factory) -> dict[str, Path]:
    return trained_runs(str(tiny_dataset), str(tmp_path_factory.getbasetemp() / "predict_runs"))


def test_trajectory_streams_and_writes_every_output(runs, tiny_dataset: Path, tmp_path: Path):
    import ase.io

    from taulc.predict import Predictor
    from taulc.predict.cli import main

    pos, sp, cell = big_config(tiny_dataset)
    frames = [write_xyz(tmp_path / f"f{k}.xyz", pos + k * np.array([1.1, 2.3, 0.7]), sp, cell) for k in range(3)]
    traj = tmp_path / "traj.extxyz"
    traj.write_text("".join(f.read_text() for f in frames))
    pred = Predictor.load(runs["gnn"] / "predictor.pt")
    it = pred.iter_predict(traj)
    assert iter(it) is it  # a generator: one frame in memory at a time
    out = tmp_path / "out"
    assert main([str(runs["gnn"]), str(traj), "--out", str(out), "-q"]) == 0  # a run directory works as BUNDLE
    assert listing(out) == ["summary.csv", "traj.taulc.csv", "traj.taulc.extxyz", "traj.taulc.png"]
    back = ase.io.read(out / "traj.taulc.extxyz", index=":")
    assert len(back) == 3 and back[0].get_chemical_symbols()[:1] in (["Ni"], ["P"])
    for a in back:  # translated copies: identical predictions, per-atom arrays for OVITO
        np.testing.assert_allclose(a.arrays["logit"], back[0].arrays["logit"], atol=1e-6)
        assert {"ln_tau_lc_pred", "p_slow", "species_id"} <= set(a.arrays)
        assert np.allclose(a.cell.array, cell)
    rows = list(csv.DictReader(open(out / "traj.taulc.csv")))
    assert [r["frame"] for r in rows] == ["0", "1", "2"] and all(int(r["n_atoms"]) == 2400 for r in rows)
    assert {"p_slow_pred", "p_slow_mean", "ln_tau_lc_pred_mean"} <= set(rows[0])
    assert (out / "traj.taulc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_svm_outputs_hardness_p_h_and_mean_h(runs, tiny_dataset: Path, tmp_path: Path):
    import ase.io

    from taulc.predict import Predictor
    from taulc.predict.cli import main

    xyz = write_xyz(tmp_path / "conf.xyz", *big_config(tiny_dataset))
    out = tmp_path / "out"
    assert main([str(runs["svm"] / "predictor.pt"), str(xyz), "--out", str(out), "-q", "--no-png", "--slice-thickness", "2"]) == 0
    (p,) = Predictor.load(runs["svm"] / "predictor.pt").predict(xyz)
    a = ase.io.read(out / "conf.taulc.extxyz")
    np.testing.assert_allclose(a.arrays["H"], p.values["H"], rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(a.arrays["slow_pred"], (p.values["H"] > 0).astype(int))
    (row,) = csv.DictReader(open(out / "summary.csv"))
    assert float(row["p_H"]) == pytest.approx(np.mean(p.values["H"] > 0), abs=1e-6)
    assert float(row["H_mean"]) == pytest.approx(np.mean(p.values["H"]), rel=1e-5)
    assert a.info["p_H"] == pytest.approx(float(row["p_H"]), abs=1e-6)
    assert not (out / "conf.taulc.png").exists()


def test_console_script_is_installed():
    exe = shutil.which("taulc-predict")
    assert exe, "run `pip install -e . --no-deps` to register the console script"
    r = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "BUNDLE" in r.stdout.upper() and "--out" in r.stdout

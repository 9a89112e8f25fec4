"""train.py end to end on the tiny real dataset: composed configs, one code path for every model, sweeps."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from taulc.testing.data import TRAIN_OVERRIDES, train_cfg
from tests.helpers import REPO


def _train_cfg(root: Path, run_dir: Path, extra: list[str]):
    return train_cfg(root.parent, run_dir, extra)


@pytest.mark.parametrize(
    "model, extra",
    [
        ("ridge", []),
        ("svm", ["model.C=0.1"]),
        ("gnn", ["model.hidden=16", "model.n_layers=2", "trainer.max_epochs=2"]),
        ("mlp", ["model.hidden=16", "trainer.max_epochs=2"]),
    ],
)
def test_every_model_trains_through_one_code_path(tiny_dataset: Path, tmp_path: Path, model: str, extra: list[str]):
    from taulc.training import train

    run = tmp_path / model
    score = train(_train_cfg(tiny_dataset, run, [f"model={model}", *extra]))
    assert np.isfinite(score)
    m = json.loads((run / "metrics.json").read_text())
    assert m["split"]["kind"] == "config" and 0 < m["noise_ceiling"]["pooled"] <= 1
    if model in ("ridge", "gnn", "mlp"):
        reg = m["test"]["regression"]
        assert set(reg["pearson_rate"]) == {"0.0", "0.1"} and np.isfinite(reg["pearson"])
    if model in ("svm", "gnn", "mlp"):
        cl = m["test"]["classification"]
        assert 0 <= cl["p_pred"] <= 1 and set(cl["p_pred_rate"]) == {"0.0", "0.1"}
    for f in ("model.pt", "model_card.md", "test_predictions.npz"):
        assert (run / f).exists(), f
    pred = np.load(run / "test_predictions.npz")
    # the test split is whole held-out configurations (split=config)
    test_ids = set(np.unique(pred["true_config_id"]).tolist())
    assert test_ids == set(m["configs"]["test"]) and test_ids.isdisjoint(m["configs"]["train"])
    rows = list(csv.DictReader(open(run.parent / "results.csv")))
    assert rows[-1]["run_dir"] == str(run)


def test_svm_hardness_is_signed_distance(tiny_dataset: Path, tmp_path: Path):
    """H = (w.z + b)/|w| in standardised space: positive exactly where the SVM predicts slow."""
    from taulc.training import train

    run = tmp_path / "svm"
    train(_train_cfg(tiny_dataset, run, ["model=svm", "model.C=1.0"]))
    p = np.load(run / "test_predictions.npz")
    assert np.array_equal(p["hardness"] > 0, p["cls_pred"] == 1)
    np.testing.assert_allclose(
        p["hardness"] * np.abs(p["decision"]).max() / np.abs(p["hardness"]).max(), p["decision"], rtol=1e-4, atol=1e-6
    )


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "train.py"), *args], cwd=cwd, capture_output=True, text=True, timeout=900)


def test_multirun_sweep_over_C(tiny_dataset: Path, tmp_path: Path):
    out = _run(
        [
            "-m",
            f"data_root={tiny_dataset.parent}",
            *TRAIN_OVERRIDES,
            "model=svm",
            "model.C=0.01,1",
            f"results_table={tmp_path / 'results.csv'}",
            f"hydra.sweep.dir={tmp_path / 'sweep'}",
            "trainer.enable_progress_bar=false",
        ],
        tmp_path,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    rows = list(csv.DictReader(open(tmp_path / "results.csv")))
    assert sorted(json.loads(r["selected"])["C"] for r in rows) == [0.01, 1.0]


@pytest.mark.slow
def test_optuna_search_returns_the_validation_objective(tiny_dataset: Path, tmp_path: Path):
    out = _run(
        [
            "hparams_search=ridge_optuna",
            f"data_root={tiny_dataset.parent}",
            *TRAIN_OVERRIDES,
            "hydra.sweeper.n_trials=3",
            "hydra.sweeper.sampler.n_startup_trials=2",
            f"results_table={tmp_path / 'results.csv'}",
            f"hydra.sweep.dir={tmp_path / 'optuna'}",
            "trainer.enable_progress_bar=false",
        ],
        tmp_path,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    best = (tmp_path / "optuna" / "optimization_results.yaml").read_text()
    assert "best_value" in best and len(list(csv.DictReader(open(tmp_path / "results.csv")))) == 3


def test_gnn_resume_from_checkpoint_matches_uninterrupted_run(tiny_dataset: Path, tmp_path: Path):
    """2 epochs + resume to 4 (ckpt_path=last.ckpt) ends at epoch 4 with metrics comparable to 4 straight epochs."""
    import pandas as pd

    from taulc.training import train

    gnn = ["model=gnn", "model.hidden=16", "model.n_layers=2", "early_stopping.patience=0"]
    straight = train(_train_cfg(tiny_dataset, tmp_path / "straight", [*gnn, "trainer.max_epochs=4"]))
    train(_train_cfg(tiny_dataset, tmp_path / "part", [*gnn, "trainer.max_epochs=2"]))
    ckpt = tmp_path / "part" / "checkpoints" / "last.ckpt"
    assert ckpt.is_file()
    resumed = train(_train_cfg(tiny_dataset, tmp_path / "resumed", [*gnn, "trainer.max_epochs=4", f"ckpt_path={ckpt}"]))
    logs = pd.concat(pd.read_csv(f) for f in (tmp_path / "resumed" / "logs").rglob("metrics.csv"))
    assert int(logs["epoch"].max()) == 3  # epochs 2 and 3 were trained after the resume (0-based)
    assert abs(resumed - straight) < 0.1, (resumed, straight)

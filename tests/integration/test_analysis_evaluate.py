"""End to end: train SVM + ridge on the tiny dataset, then ``evaluate`` composed like evaluate.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf, open_dict

from taulc.testing.data import TRAIN_OVERRIDES, compose


def _train(root: Path, model: str, run_dir: Path) -> Path:
    from taulc.training import train

    cfg = compose(
        "train",
        [
            f"data_root={root.parent}",
            *TRAIN_OVERRIDES,
            f"model={model}",
            f"results_table={run_dir.parent / 'results.csv'}",
            "trainer.enable_model_summary=false",
        ],
    )
    (run_dir / ".hydra").mkdir(parents=True)
    OmegaConf.save(cfg, run_dir / ".hydra" / "config.yaml")  # what Hydra writes for a real run
    with open_dict(cfg):
        cfg.run_dir = str(run_dir)
    train(cfg)
    return run_dir


@pytest.fixture(scope="module")
def tiny_runs(tiny_dataset, tmp_path_factory) -> dict[str, Path]:
    runs = tmp_path_factory.mktemp("runs")
    return {m: _train(tiny_dataset, m, runs / m / "r0") for m in ("svm", "ridge")}


def test_evaluate_tiny_report(tiny_runs, tmp_path):
    from taulc.analysis.report import evaluate, resolve_run

    runs_root = tiny_runs["svm"].parents[1]
    assert resolve_run("svm", runs_root) == tiny_runs["svm"].resolve()
    assert resolve_run("latest", runs_root) in (tiny_runs["svm"].resolve(), tiny_runs["ridge"].resolve())
    cfg = compose(
        "evaluate",
        [
            f"run={tiny_runs['svm']}",
            f"runs=[{tiny_runs['ridge']}]",
            f"runs_root={runs_root}",
            f"out={tmp_path / 'report'}",
            "analysis.gnn.max_graphs=1",
        ],
    )
    out = evaluate(cfg)
    md = (out / "report.md").read_text()
    for fig in (
        "hardness_maps",
        "p_H_vs_p_slow",
        "parity",
        "fig16_pearson_all_lm",
        "fig18_cumulative_pearson",
        "spectra",
        "tau_sh_vs_tau_lc",
        "flow_curve",
    ):
        png = out / "figures" / f"{fig}.png"
        assert png.is_file() and png.stat().st_size > 5000, fig
        assert f"figures/{fig}.png" in md
    for tab in ("p_H_p_slow_per_rate", "parity", "table1_greedy", "fig16_pearson", "hardness_maps"):
        assert (out / "tables" / f"{tab}.csv").is_file(), tab
    assert "no ParticleGNN run" in md  # the GNN section is skipped and says why
    assert "configurations in training" in md
    assert not list(out.parent.glob(".report.tmp-*"))  # atomic: no temporary left behind
    # ridge-only report: hardness skipped, parity present
    cfg = compose(
        "evaluate",
        [
            f"run={tiny_runs['ridge']}",
            f"out={tmp_path / 'ridge'}",
            "analysis.importance.greedy_k=5",
            "analysis.importance.full_descriptor=null",
        ],
    )
    md = (evaluate(cfg) / "report.md").read_text()
    assert "no LinearSVM run" in md and "figures/parity.png" in md


def test_parity_reads_the_runs_saved_predictions(tiny_runs, tmp_path, monkeypatch):
    """Parity is drawn from the ridge run's saved test predictions and its own skill table, training nothing
    (a Trainer started during the report fails the test); after only `train.py model=svm` it is skipped."""
    import json

    import lightning

    from taulc.analysis.report import evaluate
    from taulc.runs import Run

    def no_training(*args, **kwargs):
        raise AssertionError("the report must not train a model")

    monkeypatch.setattr(lightning.Trainer, "fit", no_training)
    opts = ["analysis.importance.full_descriptor=null", "analysis.importance.greedy_k=3"]
    out = evaluate(compose("evaluate", [f"run={tiny_runs['ridge']}", "runs=[]", f"out={tmp_path / 'ridge'}", *opts]))
    summary = json.loads((out / "summary.json").read_text())
    ridge = Run(tiny_runs["ridge"])
    logged = ridge.read_metrics()
    assert summary["parity"]["run"] == str(ridge.path.resolve()) and (out / "figures" / "parity.png").is_file()
    assert abs(summary["parity"]["pooled_all_species"] - logged["test"]["regression"]["pearson"]) < 1e-6
    for k in ("pearson", "ceiling", "baseline_structural", "skill"):  # the run's own honest-skill table
        assert summary["parity"]["headline"][k] == pytest.approx(logged["skill"]["regression"]["headline"][k], abs=1e-12), k
    tab = pd.read_csv(out / "tables" / "parity.csv")
    rows = logged["skill"]["regression"]["rows"]
    assert list(tab["scope"]) == [r["scope"] for r in rows] and list(tab["n"]) == [r["n"] for r in rows]
    np.testing.assert_allclose(tab["pearson"], [r["pearson"] for r in rows], rtol=1e-9)
    out = evaluate(compose("evaluate", [f"run={tiny_runs['svm']}", "runs=[]", f"out={tmp_path / 'svm_only'}", *opts]))
    md = (out / "report.md").read_text()
    assert "figures/parity.png" not in md and "the report trains no model itself" in md
    assert "parity" not in json.loads((out / "summary.json").read_text())


def test_evaluate_finds_the_dataset_through_the_runs_record(tiny_runs, tiny_dataset, tmp_path):
    """evaluate.py resolves a run's dataset from its dataset.json (manifest hash checked), not by re-composing
    the build config: a run whose .hydra/config.yaml names no existing dataset still evaluates; a record whose
    hash the manifest no longer has is refused naming both."""
    import json
    import shutil

    from taulc.analysis.report import evaluate
    from taulc.errors import ConfigError

    rec = json.loads((tiny_runs["ridge"] / "dataset.json").read_text())
    man = json.loads((tiny_dataset / "manifest.json").read_text())
    assert rec["config_hash"] == man["config_hash"] and Path(rec["dir"]) == tiny_dataset.resolve()
    run = tmp_path / "ridge_copy"
    shutil.copytree(tiny_runs["ridge"], run)
    cfg_path = run / ".hydra" / "config.yaml"
    cfg = OmegaConf.load(cfg_path)
    cfg.dataset.name = "not_built"  # the config alone no longer names the dataset
    cfg.data_root = str(tmp_path / "nowhere")
    OmegaConf.save(cfg, cfg_path)
    opts = ["runs=[]", "analysis.importance.full_descriptor=null", "analysis.importance.greedy_k=3"]
    out = evaluate(compose("evaluate", [f"run={run}", f"out={tmp_path / 'rep'}", *opts]))
    assert json.loads((out / "summary.json").read_text())["dataset"] == str(tiny_dataset.resolve())
    (run / "dataset.json").write_text(json.dumps({**rec, "config_hash": "0000000000000000"}))
    with pytest.raises(ConfigError, match=r"manifest\.json: config_hash .*0000000000000000.*dataset\.json"):
        evaluate(compose("evaluate", [f"run={run}", f"out={tmp_path / 'rep2'}", *opts]))

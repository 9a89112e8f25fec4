"""Hydra configs of the model layer: compose, instantiate, one tiny epoch, an Optuna sweep."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from torch.utils.data import DataLoader

from taulc.models import DescriptorMLP, LinearSVM, ParticleGNN, RidgeRegressor
from taulc.models.synthetic import TensorDictDataset, planted_tabular
from tests.helpers import REPO

CONF = REPO / "src" / "taulc" / "conf"

ROOT = """\
defaults:
  - model: svm
  - trainer: default
  - hparams_search: null
  - _self_

hydra:
  searchpath:
    - file://{conf}
"""


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    """A stand-in for the lead's src/taulc/conf/train.yaml that composes our groups."""
    d = tmp_path / "rootconf"
    d.mkdir()
    (d / "train.yaml").write_text(ROOT.format(conf=CONF))
    return d


def _compose(root: Path, overrides: list[str], hydra_cfg: bool = False):
    with initialize_config_dir(str(root), version_base="1.3"):
        return compose("train", overrides=overrides, return_hydra_config=hydra_cfg)


@pytest.mark.parametrize(
    "name,cls", [("ridge", RidgeRegressor), ("svm", LinearSVM), ("gnn", ParticleGNN), ("mlp", DescriptorMLP)]
)
def test_model_configs_instantiate(root, name, cls):
    over = [f"model={name}"] + (["model.n_features=7"] if name == "mlp" else [])
    cfg = _compose(root, over)
    m = instantiate(cfg.model)
    assert isinstance(m, cls)
    assert m.monitor.startswith("val/") and m.monitor_mode in ("max", "min")


def test_single_C_and_alpha_overrides(root):
    m = instantiate(_compose(root, ["model=svm", "model.C=0.1"]).model)
    assert m.Cs == [0.1]
    m = instantiate(_compose(root, ["model=ridge", "model.alpha=[1,10]"]).model)
    assert m.alphas == [1.0, 10.0]


@pytest.mark.parametrize("trainer", ["cpu", "gpu", "default"])
def test_trainer_configs(root, trainer):
    cfg = _compose(root, [f"trainer={trainer}"])
    assert cfg.trainer.accelerator == ("gpu" if trainer == "gpu" else "cpu")
    if trainer != "gpu" or torch.cuda.is_available():
        t = instantiate(cfg.trainer, logger=False, enable_checkpointing=False)
        assert t.max_epochs == cfg.trainer.max_epochs


@pytest.mark.parametrize("model", ["ridge", "svm"])
def test_compose_and_run_one_epoch(root, model):
    cfg = _compose(
        root, [f"model={model}", "trainer=cpu", "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false"]
    )
    d = planted_tabular(n=600, n_features=8, seed=1)
    tr = DataLoader(TensorDictDataset({k: v[:500] for k, v in d.items()}), batch_size=128)
    va = DataLoader(TensorDictDataset({k: v[500:] for k, v in d.items()}), batch_size=128)
    m = instantiate(cfg.model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = instantiate(cfg.trainer, logger=False, enable_checkpointing=False)
        t.fit(m, tr, va)
    assert t.current_epoch == 1  # exact solvers stop after one epoch
    assert m.monitor in t.callback_metrics


@pytest.mark.parametrize(
    "search,model_cls,metric",
    [
        ("ridge_optuna", "RidgeRegressor", "val/pearson_within_rate"),
        ("svm_optuna", "LinearSVM", "val/pearson_h_lntau_within_rate"),
        ("gnn_optuna", "ParticleGNN", "val/pearson_within_rate"),
    ],
)
def test_hparams_search_configs(root, search, model_cls, metric):
    cfg = _compose(root, [f"hparams_search={search}"], hydra_cfg=True)
    assert cfg.optimized_metric == metric
    assert cfg.model._target_.endswith(model_cls)
    assert "OptunaSweeper" in cfg.hydra.sweeper._target_
    for key in cfg.hydra.sweeper.params:
        group, *path = key.split(".")
        node = cfg[group]
        for p in path:
            assert p in node, f"{search}: swept key {key} not in the config"
            node = node[p]


APP = """\
import json, logging, warnings
from pathlib import Path
import hydra
from hydra.utils import instantiate
from torch.utils.data import DataLoader
from taulc.models.synthetic import TensorDictDataset, planted_tabular

@hydra.main(config_path={root!r}, config_name="train", version_base="1.3")
def main(cfg):
    warnings.simplefilter("ignore")
    d = planted_tabular(n=400, n_features=6, noise=1.0, seed=0)
    tr = DataLoader(TensorDictDataset({{k: v[:300] for k, v in d.items()}}), batch_size=100)
    va = DataLoader(TensorDictDataset({{k: v[300:] for k, v in d.items()}}), batch_size=100)
    m = instantiate(cfg.model)
    t = instantiate(cfg.trainer, logger=False, enable_checkpointing=False)
    t.fit(m, tr, va)
    value = float(t.callback_metrics[cfg.optimized_metric])
    with open({out!r}, "a") as f:
        f.write(json.dumps({{"C": float(m.C_), "value": value}}) + "\\n")
    return value

if __name__ == "__main__":
    main()
"""


def test_optuna_sweep_runs_end_to_end(root, tmp_path):
    out = tmp_path / "trials.jsonl"
    app = tmp_path / "app.py"
    app.write_text(textwrap.dedent(APP.format(root=str(root), out=str(out))))
    cmd = [
        sys.executable,
        str(app),
        "hparams_search=svm_optuna",
        "hydra.sweeper.n_trials=3",
        "hydra.sweeper.sampler.n_startup_trials=2",
        "trainer=cpu",
        "trainer.enable_progress_bar=false",
        "trainer.enable_model_summary=false",
        f"hydra.sweep.dir={tmp_path / 'multirun'}",
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    trials = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(trials) == 3 and len({t["C"] for t in trials}) == 3
    assert all(0.5 < t["value"] <= 1.0 for t in trials)
    best = (tmp_path / "multirun" / "optimization_results.yaml").read_text()
    assert "best_value" in best


def test_config_built_models_checkpoint_and_bundle(root, tmp_path):
    """Hydra containers in the kwargs must not leak into checkpoints/bundles."""
    from torch_geometric.loader import DataLoader as GraphLoader

    from taulc.models import load_model, save_model
    from taulc.models.synthetic import planted_graphs

    cfg = _compose(
        root,
        [
            "model=gnn",
            "model.hidden=16",
            "model.n_layers=1",
            "model.radius=1.6",
            "trainer=cpu",
            "trainer.max_epochs=1",
            "trainer.enable_progress_bar=false",
            "trainer.enable_model_summary=false",
        ],
    )
    m = instantiate(cfg.model)
    assert type(m.hparams["task_weights"]) is dict
    loader = GraphLoader(planted_graphs(2, 20, seed=0), batch_size=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = instantiate(cfg.trainer, logger=False, enable_checkpointing=False)
        t.fit(m, loader, loader)
    t.save_checkpoint(tmp_path / "gnn.ckpt")
    b = next(iter(loader))
    for other in (
        load_model(tmp_path / "gnn.ckpt"),
        load_model(save_model(m, tmp_path / "gnn.pt")),
        ParticleGNN.load_from_checkpoint(tmp_path / "gnn.ckpt"),
    ):
        other.eval()
        m.eval()
        with torch.no_grad():
            torch.testing.assert_close(other(b)["logit"], m(b)["logit"])

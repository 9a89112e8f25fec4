"""Acceptance for the model contract (issue "A house a newcomer can extend", item 1): nothing in src/
dispatches on model class names; training, bundles, the predictor and the report ask the model or the registry."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import REPO

SRC = REPO / "src"


def model_names() -> set[str]:
    """Class names, short names and the name fragments the old dispatch matched (``...GNN``, ``...MLP``)."""
    from taulc.models.registry import MODEL_CLASSES, discover_models

    discover_models()
    names = {n for cls in MODEL_CLASSES.values() for n in (cls.__name__, cls.short_name, *cls.aliases)}
    return names | {"GNN", "MLP", "SVM", "Ridge", "Regressor"}


def violations(text: str, names: set[str]) -> list[str]:
    """Lines of ``text`` that compare model class names: ``endswith(<model name>)``, ``__name__ ==``
    (other than ``"__main__"``), ``model_class ==`` / ``model_name ==`` and ``in (<quoted model names>)``."""
    alt = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    quoted = rf"""["'][\w.]*(?:{alt})["']"""
    pats = [
        re.compile(rf"endswith\([^)]*(?:{alt})"),
        re.compile(r"__name__\s*[!=]=\s*+(?![\"']__main__)"),
        re.compile(r"(?:model_class|model_name|_target_\W*\]?)\s*(?:[!=]=|\bnot in\b|\bin\b)"),
        re.compile(rf"[!=]=\s*{quoted}"),
        re.compile(rf"\bin\s*[(\[{{][^)\]}}]*{quoted}"),
    ]
    return [line.strip() for line in text.splitlines() if any(p.search(line) for p in pats)]


def test_the_checker_finds_the_old_dispatch():
    """The patterns catch every form the class-name dispatch took before the contract (so the test can fail)."""
    names = model_names()
    old = [
        'return "graph" if target.endswith("GNN") else "tabular"',
        'balance_classes=bool(x) or c["model"]["_target_"].endswith("LinearSVM"),',
        'if kind == "graph" or model_cfg["_target_"].endswith("MLP"):',
        'kind = "graph" if type(model).__name__.endswith("GNN") else "tabular"',
        'if self.model_name == "LinearSVM":',
        'if self.model_name in ("ParticleGNN", "DescriptorMLP") and tw:',
        'if run.model_class != "ParticleGNN" and sp in ("big", "small"):',
        'reg = next((r for r in runs if r.model_class == "RidgeRegressor"), None)',
        'if type(model).__name__ == "RidgeRegressor":',
        'if name == "svm":',
    ]
    assert [line for line in old if not violations(line, names)] == []
    fine = [
        'if __name__ == "__main__":',
        'if name.endswith((".xyz", ".extxyz")):',
        'k.endswith("_pred")',
        "kind = model.input_kind",
        'if "regression" in run.roles:',
    ]
    assert [line for line in fine if violations(line, names)] == []


def test_src_has_no_model_name_dispatch():
    names = model_names()
    found = {str(p.relative_to(SRC)): v for p in sorted(SRC.rglob("*.py")) if (v := violations(p.read_text(), names))}
    assert found == {}, f"model class-name dispatch left in src/ (ask the model / taulc.models.registry): {found}"


def test_recorded_class_names_resolve_through_the_registry(tmp_path: Path):
    """Old run directories and bundles record class names (and Lightning checkpoints none): all load."""
    import pytest
    import torch

    from taulc.models import DescriptorMLP, LinearSVM, ParticleGNN, RidgeRegressor
    from taulc.models.hgb import BoostedTreeRegressor
    from taulc.models.io import load_model, model_from_payload, model_payload
    from taulc.models.registry import UnknownModelError, model_class

    models = [
        RidgeRegressor(alpha=1.0, n_features=4),
        LinearSVM(C=1.0, n_features=4),
        DescriptorMLP(n_features=4, hidden=8),
        ParticleGNN(hidden=8, n_layers=1),
        BoostedTreeRegressor(),
    ]
    for m in models:
        cls = type(m)
        for name in (cls.__name__, cls.short_name, f"taulc.models.{cls.__name__}", f"{cls.__module__}.{cls.__name__}"):
            assert model_class(name) is cls, name
        again = model_from_payload(model_payload(m))  # payload["class"] is the recorded class name
        assert type(again) is cls
        # a bare Lightning checkpoint without a class name: the class that owns the state_dict keys
        path = tmp_path / f"{cls.short_name}.ckpt"
        torch.save({"state_dict": m.state_dict(), "hyper_parameters": dict(m.hparams)}, path)
        assert type(load_model(path)) is cls
    with pytest.raises(UnknownModelError, match="registered models"):
        model_class("NoSuchModel")


def test_callbacks_default_follows_the_models_declaration(tmp_path: Path):
    """src/taulc/conf/callbacks: ridge/SVM get checkpointing only, GNN/MLP early stopping too, both on the model's monitor;
    callbacks=... on the command line wins and early_stopping.patience=0 switches it off."""
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
    from omegaconf import OmegaConf

    from taulc.models.callbacks import build_callbacks, callbacks_config
    from taulc.models.registry import model_class
    from taulc.runs import Run
    from taulc.testing.data import compose

    def built(overrides: list[str], **hp) -> list:
        c = OmegaConf.to_container(compose("train", overrides), resolve=True)
        cls = model_class(c["model"]["_target_"])
        model = cls(**{**{k: v for k, v in c["model"].items() if k != "_target_"}, **hp})
        return build_callbacks(callbacks_config(c, cls), model, Run(tmp_path).checkpoints_dir)

    svm = built(["model=svm"], n_features=3)
    assert [type(cb) for cb in svm] == [ModelCheckpoint] and svm[0].monitor == "val/pearson_h_lntau_within_rate"
    mlp = built(["model=mlp", "early_stopping.patience=4"], n_features=3)
    assert [type(cb) for cb in mlp] == [ModelCheckpoint, EarlyStopping]
    assert (
        mlp[1].monitor == "val/pearson_within_rate" and mlp[1].patience == 4 and mlp[0].dirpath == str(tmp_path / "checkpoints")
    )
    assert [type(cb) for cb in built(["model=mlp", "early_stopping.patience=0"], n_features=3)] == [ModelCheckpoint]
    assert [type(cb) for cb in built(["model=ridge", "callbacks=early_stopping"])] == [ModelCheckpoint, EarlyStopping]


#: a branch on the input kind's name (issue 23: one object per kind, taulc.models.input_kinds, owns them)
KIND_BRANCH = re.compile(r"""input_kind\s*[!=]=|\bkind\s*[!=]=\s*["'](?:graph|tabular)["']""")


def test_the_kind_checker_finds_the_old_branches():
    old = [
        'if kind == "graph":',
        'if model.input_kind == "graph":',
        'graph = pred.kind == "graph"',
        'return self.input_kind == "tabular" or bool(x)',
        'if self.kind != "tabular":',
    ]
    assert [line for line in old if not KIND_BRANCH.search(line)] == []
    assert not KIND_BRANCH.search('if split.kind == "config":') and not KIND_BRANCH.search("kind = model.inputs")


def test_src_has_no_input_kind_branches_outside_the_input_kinds():
    found = {
        str(p.relative_to(SRC)): hits
        for p in sorted(SRC.rglob("*.py"))
        if p.name != "input_kinds.py"
        if (hits := [ln.strip() for ln in p.read_text().splitlines() if KIND_BRANCH.search(ln)])
    }
    assert found == {}, f"branches on the input kind left in src/ (ask model.inputs, taulc.models.input_kinds): {found}"

"""Predictor bundles: every training run exports one; round trip vs the trained run; versioning; no Hydra needed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from taulc.testing.data import shard
from tests.helpers.predict import big_config, listing, trained_runs, write_xyz


@pytest.fixture(scope="session")
def runs(tiny_dataset: Path, tmp_path_factory) -> dict[str, Path]:
    return trained_runs(str(tiny_dataset), str(tmp_path_factory.getbasetemp() / "predict_runs"))


# (name in test_predictions.npz, name in Prediction.values)
KEYS = {
    "svm": [("hardness", "H")],
    "ridge": [("y_pred", "ln_tau_lc_pred")],
    "gnn": [("y_pred", "ln_tau_lc_pred"), ("logit", "logit"), ("p_slow", "p_slow")],
}


@pytest.mark.parametrize("model", ["svm", "ridge", "gnn"])
def test_round_trip_matches_the_trained_run(runs, tiny_dataset: Path, model: str):
    """Bundle predictions on the test configurations == the run's own test predictions (float tolerance)."""
    from taulc.predict import Predictor

    run = runs[model]
    pred = Predictor.load(run / "predictor.pt")
    ref = np.load(run / "test_predictions.npz")
    ids = np.unique(ref["config_id"])
    assert ids.size and set(ids.tolist()) == set(json.loads((run / "metrics.json").read_text())["configs"]["test"])
    for cid in ids:
        z = shard(tiny_dataset, int(cid))
        p = pred.predict_arrays(z["positions"], z["species"], z["cell"], allow_small_cell=True)  # 300 particles: L = 6.3
        rows = ref["config_id"] == cid
        keep = np.isfinite(np.log(z["tau_lc"]))  # the split's nodes: finite target
        assert keep.sum() == rows.sum()
        np.testing.assert_array_equal(ref["species"][rows], z["species"][keep])
        for k_ref, k in KEYS[model]:
            np.testing.assert_allclose(p.values[k][keep], ref[k_ref][rows], rtol=1e-5, atol=1e-5 * np.abs(ref[k_ref]).max())


def test_bundle_contents(runs, tiny_dataset: Path):
    from taulc.data.storage import sha256_file
    from taulc.predict import BUNDLE_VERSION, Predictor, read_bundle

    b = read_bundle(runs["svm"])  # a run directory works too
    assert b["format_version"] == BUNDLE_VERSION
    assert b["inputs"]["cutoff"] == pytest.approx(5.3) and len(b["inputs"]["feature_names"]) == 576
    tr = b["training"]
    assert tr["dataset"]["manifest_sha256"] == sha256_file(tiny_dataset / "manifest.json")
    assert tr["versions"]["taulc"] and "classification" in tr["test"] and tr["config"]["model"]["_target_"].endswith("LinearSVM")
    pred = Predictor.load(runs["svm"] / "predictor.pt")
    sc = pred.scaler()
    assert sc["mean"].shape == (576,) and np.all(sc["scale"] > 0)
    assert dict(pred.species_map)[1] == 0 and dict(pred.species_map)["P"] == 1
    g = Predictor.load(runs["gnn"] / "predictor.pt")
    assert g.cutoff == pytest.approx(2.0) and g.descriptor is None and g.score_name == "logit"


def _rewrite(src: Path, dst: Path, **changes) -> Path:
    b = torch.load(src, weights_only=True)
    b.update(changes)
    torch.save(b, dst)
    return dst


def test_incompatible_bundles_are_refused(runs, tmp_path: Path):
    from taulc.predict import BundleError, Predictor
    from taulc.predict.cli import main

    src = runs["ridge"] / "predictor.pt"
    with pytest.raises(BundleError, match=r"future\.pt: bundle format_version 2 .*reads format_version 1; upgrade taulc"):
        Predictor.load(_rewrite(src, tmp_path / "future.pt", format_version=2))
    with pytest.raises(BundleError, match=r"old\.pt: bundle format_version 0 .*re-export"):
        Predictor.load(_rewrite(src, tmp_path / "old.pt", format_version=0))
    with pytest.raises(BundleError, match=r"model\.pt: format 'taulc-model/1' .*predictor\.pt"):
        Predictor.load(runs["ridge"] / "model.pt")
    with pytest.raises(BundleError, match="not found"):
        Predictor.load(tmp_path / "nothing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a zip file")
    with pytest.raises(BundleError, match=r"junk\.pt: not a readable"):
        Predictor.load(tmp_path / "junk.pt")
    out = tmp_path / "out"
    assert main([str(tmp_path / "future.pt"), str(tmp_path / "any.xyz"), "--out", str(out), "-q"]) == 2
    assert listing(out) == []


def test_changed_descriptor_definition_is_refused(runs, tiny_dataset: Path, tmp_path: Path):
    from taulc.predict import BundleError, Predictor

    b = torch.load(runs["svm"] / "predictor.pt", weights_only=True)
    b["inputs"]["feature_names"] = ["x"] * 576
    torch.save(b, tmp_path / "renamed.pt")
    pos, sp, cell = big_config(tiny_dataset)
    with pytest.raises(BundleError, match="differ from the 576"):
        Predictor.load(tmp_path / "renamed.pt").predict_arrays(pos, sp, cell)


def test_loading_needs_neither_hydra_nor_the_dataset(runs, tiny_dataset: Path, tmp_path: Path):
    """A copied bundle predicts in a fresh interpreter that never imports Hydra."""
    import shutil

    bundle = shutil.copy(runs["svm"] / "predictor.pt", tmp_path / "svm.pt")
    xyz = write_xyz(tmp_path / "conf.xyz", *big_config(tiny_dataset))
    code = (
        "import sys; from taulc.predict import Predictor; "
        f"p = Predictor.load({str(bundle)!r}).predict({str(xyz)!r}); "
        "assert len(p) == 1 and p[0].values['H'].shape == (2400,); "
        "assert 'hydra' not in sys.modules, 'hydra imported'; print('ok')"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-2000:]


def test_bundle_written_before_the_network_split_loads(runs, tiny_dataset: Path, tmp_path: Path):
    """A GNN bundle whose state_dict has the keys of before the network split (``blocks.0...``, not
    ``net.blocks.0...``) still loads at format_version 1 and predicts exactly as the current one."""
    from taulc.predict import Predictor

    src = runs["gnn"] / "predictor.pt"
    b = torch.load(src, weights_only=True)
    sd = b["model"]["state_dict"]
    assert any(k.startswith("net.blocks.") for k in sd)
    b["model"]["state_dict"] = {k.removeprefix("net."): v for k, v in sd.items()}
    torch.save(b, tmp_path / "old_keys.pt")
    z = shard(tiny_dataset, 0)
    new, old = (
        Predictor.load(p).predict_arrays(z["positions"], z["species"], z["cell"], allow_small_cell=True)
        for p in (src, tmp_path / "old_keys.pt")
    )
    for k in ("ln_tau_lc_pred", "logit", "p_slow"):
        np.testing.assert_array_equal(old.values[k], new.values[k])

"""Exact ridge / linear SVM modules: sklearn equivalence, planted signal, save/load."""

from __future__ import annotations

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from torch.utils.data import DataLoader

from taulc.models import LinearSVM, RidgeRegressor, load_model, save_model
from taulc.models.metrics import pearson
from taulc.models.synthetic import TensorDictDataset, planted_tabular
from taulc.testing import ModelContract
from tests.helpers.models import make_trainer

pytestmark = pytest.mark.usefixtures("quiet_single_thread")  # tests/conftest.py


def _trainer(**kw) -> pl.Trainer:
    return make_trainer(**{"max_epochs": 3, "num_sanity_val_steps": 2, **kw})


def _loader(d, bs=97, shuffle=False):
    return DataLoader(TensorDictDataset(d), batch_size=bs, shuffle=shuffle)


def _split(d, n_train):
    return ({k: v[:n_train] for k, v in d.items()}, {k: v[n_train:] for k, v in d.items()})


def _std(x, w=None):
    return StandardScaler().fit(x, sample_weight=w).transform(x)


@pytest.mark.parametrize("weighted", [False, True])
def test_ridge_matches_sklearn_over_batches(weighted):
    d = planted_tabular(n=700, n_features=10, noise=0.5, seed=3)
    w = None
    if weighted:
        w = np.random.default_rng(0).uniform(0.2, 3.0, 700)
        d["weight"] = torch.tensor(w)
    m = RidgeRegressor(alpha=5.0)
    _trainer().fit(m, _loader(d, shuffle=True))  # 8 shuffled batches
    assert m.trainer.current_epoch == 1  # stopped itself after one epoch
    x = d["x"].double().numpy()
    ref = Ridge(alpha=5.0).fit(_std(x, w), d["y"].double().numpy(), sample_weight=w)
    np.testing.assert_allclose(m.coef_std.numpy(), ref.coef_, rtol=1e-7, atol=1e-9)
    assert float(m.intercept_std) == pytest.approx(ref.intercept_, abs=1e-9)
    # raw-unit coefficients reproduce the predictions
    pred = m(d["x"]).numpy()
    np.testing.assert_allclose(pred, ref.predict(_std(x, w)), atol=1e-8)
    np.testing.assert_allclose(pred, x @ m.coef_.numpy() + float(m.intercept_), atol=1e-8)


def test_ridge_alpha_grid_selected_on_validation_and_planted_signal():
    d = planted_tabular(n=1500, n_features=24, noise=0.3, seed=4)
    tr, va = _split(d, 1200)
    alphas = [1e-2, 1.0, 1e2, 1e4, 1e6]
    m = RidgeRegressor(alpha=alphas)
    t = _trainer()
    t.fit(m, _loader(tr), _loader(va))
    metrics = m.last_metrics["val"]
    assert metrics["pearson"] >= 0.9
    assert float(m.alpha_) in alphas and float(m.alpha_) < 1e6
    assert t.callback_metrics["val/pearson"] == pytest.approx(metrics["pearson"])
    # the chosen alpha equals the best single-alpha refit on validation
    scores = {}
    for a in alphas:
        r = Ridge(alpha=a).fit(_std(tr["x"].double().numpy()), tr["y"].numpy())
        sc = StandardScaler().fit(tr["x"].double().numpy())
        scores[a] = pearson(va["y"].numpy(), r.predict(sc.transform(va["x"].double().numpy())))
    assert float(m.alpha_) == max(scores, key=scores.get)
    # test once, with the same code path
    res = t.test(m, _loader(va), verbose=False)[0]
    assert res["test/pearson"] == pytest.approx(metrics["pearson"], abs=1e-6)
    assert {"test/pearson_config", "test/spearman", "test/r2", "test/mse"} <= set(res)


def test_ridge_gcv_without_validation():
    d = planted_tabular(n=500, n_features=8, seed=5)
    m = RidgeRegressor(alpha=[1e-3, 1.0, 1e5])
    _trainer().fit(m, _loader(d))
    assert bool(m.fitted) and float(m.alpha_) < 1e5


def _svm_ref(z, cls, C, w=None, class_weight=None):
    # LinearSVC penalises the intercept via intercept_scaling; a large value
    # makes its objective ours (unpenalised intercept). Primal solver, tight tol.
    ref = LinearSVC(
        C=C, loss="squared_hinge", dual=False, tol=1e-12, max_iter=100000, intercept_scaling=1e3, class_weight=class_weight
    )
    return ref.fit(z, cls, sample_weight=w)


@pytest.mark.parametrize("C,class_weight,weighted", [(0.01, None, False), (1.0, None, False), (0.1, "balanced", True)])
def test_svm_matches_sklearn_linearsvc(C, class_weight, weighted):
    d = planted_tabular(n=800, n_features=12, noise=1.0, seed=6)
    d["cls"] = (d["y"] > np.quantile(d["y"].numpy(), 0.7)).long()  # imbalanced 30:70
    w = None
    if weighted:
        w = np.random.default_rng(1).uniform(0.5, 2.0, 800)
        d["weight"] = torch.tensor(w)
    m = LinearSVM(C=C, class_weight=class_weight)
    _trainer(max_epochs=1).fit(m, _loader(d, bs=128, shuffle=True))
    z = _std(d["x"].double().numpy(), w)
    ref = _svm_ref(z, d["cls"].numpy(), C, w, class_weight)
    np.testing.assert_allclose(m.coef_std.numpy(), ref.coef_[0], rtol=1e-5, atol=1e-6)
    assert float(m.intercept_std) == pytest.approx(ref.intercept_[0], abs=1e-5)
    dec_ref = ref.decision_function(z)
    np.testing.assert_allclose(m.decision_function(d["x"]).numpy(), dec_ref, atol=1e-5)
    h = m.hardness(d["x"]).numpy()
    np.testing.assert_allclose(h, dec_ref / np.linalg.norm(ref.coef_), atol=1e-5)
    assert ((h > 0) == (ref.predict(z) == 1)).mean() > 0.999


def test_svm_streaming_equals_cached():
    d = planted_tabular(n=600, n_features=8, noise=1.0, seed=7)
    a = LinearSVM(C=[0.01, 1.0])
    b = LinearSVM(C=[0.01, 1.0], cache_bytes=0)  # every Newton pass re-reads the dataloader
    va = planted_tabular(n=200, n_features=8, noise=1.0, seed=7)
    for m in (a, b):
        _trainer().fit(m, _loader(d, bs=64, shuffle=True), _loader(va))
    np.testing.assert_allclose(a.coef_std.numpy(), b.coef_std.numpy(), atol=1e-8)
    assert float(a.C_) == float(b.C_)


def test_svm_planted_signal_hardness_and_predict(tmp_path):
    d = planted_tabular(n=2000, n_features=20, noise=0.2, seed=8)
    tr, va = _split(d, 1600)
    m = LinearSVM()  # default C grid, balanced
    t = _trainer()
    t.fit(m, _loader(tr, bs=256), _loader(va, bs=256))
    met = m.last_metrics["val"]
    assert met["accuracy"] >= 0.9
    assert met["pearson_h_lntau"] > 0.7  # H tracks ln tau (positive = slow)
    assert float(m.C_) in m.Cs and met["C"] == float(m.C_)
    assert {"val/balanced_accuracy", "val/roc_auc", "val/p_pred", "val/C"} <= set(t.callback_metrics)
    preds = t.predict(m, _loader(va, bs=256))
    h = torch.cat([p["hardness"] for p in preds])
    assert h.shape == (400,) and set(preds[0]) >= {"hardness", "decision", "cls_pred", "config_id", "rate"}
    assert torch.equal(torch.cat([p["cls_pred"] for p in preds]), (h > 0).long())
    # hyperplane distance: H is scale-free in w
    dec = m.decision_function(va["x"])
    torch.testing.assert_close(h.double(), (dec / m.coef_std.norm()).float().double(), atol=1e-5, rtol=0)

    # save/load without Hydra, and Lightning checkpoint
    p = save_model(m, tmp_path / "svm.pt")
    m2 = load_model(p)
    assert isinstance(m2, LinearSVM) and m2.n_features == 20
    torch.testing.assert_close(m2.hardness(va["x"]), m.hardness(va["x"]))
    t.save_checkpoint(tmp_path / "svm.ckpt")
    m3 = LinearSVM.load_from_checkpoint(tmp_path / "svm.ckpt")
    torch.testing.assert_close(m3.hardness(va["x"]), m.hardness(va["x"]))
    m4 = load_model(tmp_path / "svm.ckpt")
    torch.testing.assert_close(m4.hardness(va["x"]), m.hardness(va["x"]))


def test_ridge_save_load_and_errors(tmp_path):
    d = planted_tabular(n=300, n_features=6, seed=9)
    m = RidgeRegressor(alpha=1.0)
    with pytest.raises(RuntimeError, match="not fitted"):
        m(d["x"])
    _trainer().fit(m, _loader(d))
    m2 = load_model(save_model(m, tmp_path / "r.pt"))
    torch.testing.assert_close(m2(d["x"]), m(d["x"]))
    with pytest.raises(ValueError, match="selection"):
        RidgeRegressor(selection="r3")
    with pytest.raises(ValueError, match="C must be"):
        LinearSVM(C=[1.0, -1.0])


# ------------------------------------------------------------------ model contract (taulc.testing.ModelContract)


class TestRidgeContract(ModelContract):
    config = "ridge"


class TestSVMContract(ModelContract):
    config = "svm"
    overrides = ("model.C=0.1",)

"""BoostedTreeRegressor: exported trees reproduce scikit-learn exactly, validation picks the iteration count,
a non-linear planted signal that ridge misses, save/load of the fitted-size buffers, and the model contract."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.ensemble import HistGradientBoostingRegressor
from torch.utils.data import DataLoader

from taulc.models.hgb import BoostedTreeRegressor
from taulc.models.io import load_model, save_model
from taulc.models.metrics import pearson, within_rate_pearson
from taulc.models.synthetic import TensorDictDataset, planted_tabular
from taulc.testing import ModelContract
from tests.helpers.models import make_trainer

HP = dict(max_iter=30, learning_rate=0.3, max_leaf_nodes=7, min_samples_leaf=10)

pytestmark = pytest.mark.usefixtures("quiet_single_thread")  # tests/conftest.py


def _nonlinear(n: int, seed: int) -> dict[str, torch.Tensor]:
    """Planted columns with y = |x0| + x1^2 / 2 + noise: no linear model of x sees it."""
    d = planted_tabular(n=n, n_features=6, seed=seed)
    x = d["x"].double()
    x = (x - x.mean(0)) / x.std(0)
    d["x"] = x.float()
    d["y"] = (
        x[:, 0].abs()
        + 0.5 * x[:, 1] ** 2
        + 0.1 * torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    ).float()
    return d


def _sklearn(m: BoostedTreeRegressor, train: dict) -> HistGradientBoostingRegressor:
    """scikit-learn's own estimator with the model's hyperparameters, fitted on the same rows."""
    hp = {
        k: m.hparams[k]
        for k in ("max_iter", "learning_rate", "max_leaf_nodes", "min_samples_leaf", "l2_regularization", "max_bins")
    }
    return HistGradientBoostingRegressor(**hp, early_stopping=False, random_state=m.hparams.seed).fit(
        train["x"].numpy(), train["y"].numpy()
    )


def _fit(train: dict, val: dict | None, **hp) -> BoostedTreeRegressor:
    m = BoostedTreeRegressor(**{**HP, **hp})
    make_trainer(max_epochs=5).fit(
        m,
        DataLoader(TensorDictDataset(train), batch_size=128),
        DataLoader(TensorDictDataset(val), batch_size=128) if val is not None else None,
    )
    return m


def test_exported_trees_predict_exactly_like_sklearn_and_validation_picks_the_prefix():
    tr, va = _nonlinear(800, 0), _nonlinear(400, 1)
    m = _fit(tr, va)
    assert m.trainer.current_epoch == 1  # fitted in one epoch, then stopped itself
    ref = _sklearn(m, tr)
    staged = list(ref.staged_predict(va["x"].numpy()))
    scores = [within_rate_pearson(va["y"].numpy(), p, va["species"].numpy(), va["rate"].numpy(), 0) for p in staged]
    n = int(np.nanargmax(scores)) + 1
    assert m.selected_hyperparameters() == {"n_iter": n} and 1 < n <= HP["max_iter"]
    with torch.no_grad():
        np.testing.assert_array_equal(m(va["x"]).numpy(), staged[n - 1])  # bit-identical walk and sum
    assert m.last_metrics["val"]["pearson_within_rate"] == pytest.approx(scores[n - 1], abs=1e-6)


def test_without_validation_every_iteration_is_kept_and_nan_follows_sklearn():
    tr = _nonlinear(600, 2)
    tr["x"][::7, 0] = float("nan")  # missing values: sklearn learns which side they go
    m = _fit(tr, None)
    ref = _sklearn(m, tr)
    assert m.selected_hyperparameters() == {"n_iter": HP["max_iter"]}
    x = _nonlinear(300, 3)["x"]
    x[::5, 0] = float("nan")
    x[::3, 1] = float("nan")
    with torch.no_grad():
        np.testing.assert_array_equal(m(x).numpy(), ref.predict(x.numpy()))


def test_nonlinear_signal_that_ridge_misses():
    from taulc.models.ridge import RidgeRegressor

    tr, va, te = _nonlinear(1500, 4), _nonlinear(500, 5), _nonlinear(500, 6)
    m = _fit(tr, va, max_iter=80)
    r = RidgeRegressor(alpha=[1e-2, 1.0, 100.0])
    make_trainer(max_epochs=3).fit(
        r, DataLoader(TensorDictDataset(tr), batch_size=256), DataLoader(TensorDictDataset(va), batch_size=256)
    )
    with torch.no_grad():
        p_hgb, p_ridge = pearson(te["y"].numpy(), m(te["x"]).numpy()), pearson(te["y"].numpy(), r(te["x"]).numpy())
    assert p_hgb > 0.9 and p_ridge < 0.3, (p_hgb, p_ridge)


def test_save_load_restores_the_fitted_size_buffers(tmp_path):
    tr, va = _nonlinear(500, 7), _nonlinear(200, 8)
    m = _fit(tr, va)
    again = load_model(save_model(m, tmp_path / "hgb.pt"))
    assert type(again) is BoostedTreeRegressor and again.tree_value.shape == m.tree_value.shape
    with torch.no_grad():
        np.testing.assert_array_equal(again(va["x"]).numpy(), m(va["x"]).numpy())
    with pytest.raises(RuntimeError, match="not fitted"):
        BoostedTreeRegressor()(va["x"])
    assert math.isfinite(float(again.baseline))


class TestHGBContract(ModelContract):
    config = "hgb"
    overrides = ("model.max_iter=20",)

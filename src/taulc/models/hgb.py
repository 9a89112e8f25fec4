"""Gradient-boosted regression trees of ln tau_LC on the descriptors: a non-linear, non-tensor baseline.

scikit-learn's ``HistGradientBoostingRegressor`` (histogram boosting as in Ke et al. 2017, "LightGBM: a
highly efficient gradient boosting decision tree") is fitted on the training split in one epoch; the number
of boosting iterations is chosen on the validation split by the within-rate Pearson of the reference
species, the honest score ridge selects alpha by (Yu, Zeng & Wang 2025, Sec. IV.A for the descriptors).

The fitted estimator is not kept: its trees are exported to flat buffers (one row per node: feature,
threshold, children, leaf value; ``tree_roots`` the first node of each tree), which ``state_dict``,
checkpoints, ``save_model`` and predictor bundles carry like any weights (``resizable_buffers``: their
length is the fitted node count). Prediction walks those arrays in float64 exactly as scikit-learn
does (x <= threshold goes left, NaN follows ``missing_go_to_left``), trees summed in boosting order.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingRegressor
from torch import Tensor

from taulc.models.base import TaulcModule, get_field
from taulc.models.metrics import regression_metrics, within_rate_pearson
from taulc.models.registry import register_model

log = logging.getLogger(__name__)

__all__ = ["BoostedTreeRegressor"]

#: per-node buffers (name -> dtype) of the exported trees
_NODE_FIELDS = {
    "tree_feature": torch.int64,
    "tree_threshold": torch.float64,
    "tree_left": torch.int64,
    "tree_right": torch.int64,
    "tree_value": torch.float64,
    "tree_is_leaf": torch.bool,
    "tree_missing_left": torch.bool,
}


@register_model
class BoostedTreeRegressor(TaulcModule):
    """Histogram gradient boosting of ``ln tau_LC`` on descriptor rows.

    Args:
        max_iter: boosting iterations fitted; the validation split keeps the best prefix of them.
        learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization, max_bins: as
            ``sklearn.ensemble.HistGradientBoostingRegressor`` (squared error, no internal early stopping).
        reference_species: species of the within-rate selection score (0 = big; ``None`` = all).
        n_features: number of descriptors (``None``: taken from the data; recorded only).
        seed: ``random_state`` of the estimator.
        monitor, monitor_mode: validation metric for checkpoints/Optuna.
    """

    short_name = "hgb"
    report_roles = ("regression",)
    report_priority = 2  # after ridge (0) and GNN/MLP (1) when several runs are given
    default_monitor = "val/pearson_within_rate"
    resizable_buffers = (*_NODE_FIELDS, "tree_roots")

    def __init__(
        self,
        max_iter: int = 50,
        learning_rate: float = 0.2,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 20,
        l2_regularization: float = 0.0,
        max_bins: int = 63,
        reference_species: int | None = 0,
        n_features: int | None = None,
        seed: int = 0,
        monitor: str | None = None,
        monitor_mode: str | None = None,
    ) -> None:
        super().__init__()
        if max_iter < 1:
            raise ValueError(f"max_iter must be >= 1, got {max_iter}")
        self.save_hyperparameters()
        self.automatic_optimization = False
        for name, dtype in _NODE_FIELDS.items():
            self.register_buffer(name, torch.zeros(0, dtype=dtype))
        self.register_buffer("tree_roots", torch.zeros(0, dtype=torch.int64))
        self.register_buffer("baseline", torch.zeros((), dtype=torch.float64))
        self._rows: list[tuple[np.ndarray, np.ndarray]] = []
        self._estimator: Any = None

    # ------------------------------------------------------------------ fitting
    def configure_optimizers(self) -> None:  # fitted by scikit-learn: no optimizer
        return None

    @property
    def fitted(self) -> bool:
        return self.tree_roots.numel() > 0

    def on_train_epoch_start(self) -> None:
        self._rows, self._estimator = [], None

    def training_step(self, batch: Any, batch_idx: int) -> None:
        x, y = get_field(batch, "x"), get_field(batch, "y")
        if x is None or y is None:
            raise KeyError("BoostedTreeRegressor needs batch keys 'x' and 'y'")
        ok = torch.isfinite(y)
        self._rows.append((x[ok].detach().cpu().numpy(), y[ok].detach().cpu().double().numpy()))

    def _fit(self) -> None:
        if not self._rows:
            raise RuntimeError("BoostedTreeRegressor: no finite training targets")
        x = np.concatenate([r[0] for r in self._rows])
        y = np.concatenate([r[1] for r in self._rows])
        hp = self.hparams
        self._estimator = HistGradientBoostingRegressor(
            max_iter=hp.max_iter,
            learning_rate=hp.learning_rate,
            max_leaf_nodes=hp.max_leaf_nodes,
            min_samples_leaf=hp.min_samples_leaf,
            l2_regularization=hp.l2_regularization,
            max_bins=hp.max_bins,
            early_stopping=False,
            random_state=hp.seed,
        ).fit(x, y)
        self._rows = []
        log.info("BoostedTreeRegressor: %d iterations fitted on %d particles x %d descriptors", self._estimator.n_iter_, *x.shape)

    def _export(self, n_iter: int) -> None:
        """The first ``n_iter`` trees of the fitted estimator into the node buffers (global node indices)."""
        est = self._estimator
        fields: dict[str, list[np.ndarray]] = {k: [] for k in _NODE_FIELDS}
        roots, offset = [], 0
        for (tree,) in est._predictors[:n_iter]:  # one tree per iteration (single-output regression)
            nodes = tree.nodes
            if np.any(nodes["is_categorical"]):
                raise ValueError("BoostedTreeRegressor exports numerical splits only")
            roots.append(offset)
            fields["tree_feature"].append(nodes["feature_idx"].astype(np.int64))
            fields["tree_threshold"].append(nodes["num_threshold"].astype(np.float64))
            fields["tree_left"].append(nodes["left"].astype(np.int64) + offset)
            fields["tree_right"].append(nodes["right"].astype(np.int64) + offset)
            fields["tree_value"].append(nodes["value"].astype(np.float64))
            fields["tree_is_leaf"].append(nodes["is_leaf"].astype(bool))
            fields["tree_missing_left"].append(nodes["missing_go_to_left"].astype(bool))
            offset += len(nodes)
        dev = self.baseline.device
        for name, parts in fields.items():
            setattr(self, name, torch.from_numpy(np.concatenate(parts)).to(dev))
        self.tree_roots = torch.tensor(roots, dtype=torch.int64, device=dev)
        self.baseline.fill_(float(np.asarray(est._baseline_prediction).reshape(-1)[0]))
        self._estimator = None

    def on_validation_epoch_start(self) -> None:
        super().on_validation_epoch_start()
        if self.trainer.state.fn == "fit" and not self.trainer.sanity_checking and self._estimator is None and self._rows:
            self._fit()

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        if self.trainer.sanity_checking or (self._estimator is None and not self.fitted):
            return
        self.collect("val", **{k: get_field(batch, k) for k in ("x", "y", "config_id", "rate", "species")})

    def on_validation_epoch_end(self) -> None:
        arrays = self.gathered("val")
        self.reset_collection("val")
        if not arrays:
            return
        x = arrays.pop("x")
        if self._estimator is not None:  # choose the number of iterations on the validation split
            staged = list(self._estimator.staged_predict(x))
            scores = [
                within_rate_pearson(arrays["y"], p, arrays.get("species"), arrays.get("rate"), self.hparams.reference_species)
                for p in staged
            ]
            n = int(np.argmax([s if math.isfinite(s) else -math.inf for s in scores])) + 1
            log.info(
                "BoostedTreeRegressor: %d of %d iterations chosen on validation (within-rate Pearson %.4f)",
                n,
                len(staged),
                scores[n - 1],
            )
            self._export(n)
        with torch.no_grad():
            arrays["y_pred"] = self(torch.from_numpy(x)).cpu().numpy()
        metrics = self.compute_metrics(arrays)
        metrics.update(self.selected_hyperparameters())
        self.log_metrics("val", metrics, prog_bar=(self.monitor,))

    def on_train_epoch_end(self) -> None:
        if self._estimator is None and self._rows:  # no validation loop ran: keep every iteration
            self._fit()
        if self._estimator is not None:
            self._export(self._estimator.n_iter_)
        self.trainer.should_stop = True  # fitted in one epoch

    def selected_hyperparameters(self) -> dict[str, float]:
        return {"n_iter": int(self.tree_roots.numel())}

    # -------------------------------------------------------------- evaluation
    def test_step(self, batch: Any, batch_idx: int) -> None:
        self.collect(
            "test", y_pred=self(get_field(batch, "x")), **{k: get_field(batch, k) for k in ("y", "config_id", "rate", "species")}
        )

    def compute_metrics(self, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        return regression_metrics(
            arrays["y"],
            arrays["y_pred"],
            config_id=arrays.get("config_id"),
            rate=arrays.get("rate"),
            species=arrays.get("species"),
            reference_species=self.hparams.reference_species,
        )

    # -------------------------------------------------------------- prediction
    def forward(self, x: Tensor) -> Tensor:
        """Predicted ln tau (float64) of descriptor rows ``x`` (B, F): every tree walked from its root."""
        if not self.fitted:
            raise RuntimeError("BoostedTreeRegressor is not fitted: run trainer.fit first or load a fitted state")
        x = x.to(torch.float64)
        node = self.tree_roots.expand(x.shape[0], -1)  # (B, trees)
        rows = torch.arange(x.shape[0], device=x.device)[:, None]
        for _ in range(self.tree_is_leaf.numel()):  # a tree has fewer levels than nodes
            leaf = self.tree_is_leaf[node]
            if bool(leaf.all()):
                break
            v = x[rows, self.tree_feature[node]]
            left = torch.where(torch.isnan(v), self.tree_missing_left[node], v <= self.tree_threshold[node])
            node = torch.where(leaf, node, torch.where(left, self.tree_left[node], self.tree_right[node]))
        values = self.tree_value[node]
        out = self.baseline.expand(x.shape[0]).clone()
        for t in range(values.shape[1]):  # boosting order: the same float64 sums as scikit-learn
            out = out + values[:, t]
        return out

    def predict_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> dict[str, Tensor]:
        """``{"y_pred": predicted ln tau}`` plus config_id/rate/species when present."""
        return {"y_pred": self(get_field(batch, "x")).float(), **self.passthrough(batch)}

    @classmethod
    def owns_state_dict(cls, keys: set[str]) -> bool:
        return "tree_roots" in keys

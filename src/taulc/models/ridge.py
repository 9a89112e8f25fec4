"""Ridge regression of ln tau_LC on the descriptors (Yu, Zeng & Wang 2025, Sec. IV.A, Eq. 13, Fig. 17),
solved exactly for a whole alpha grid under Lightning (:mod:`taulc.models.linear_base`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from taulc.models.base import get_field, plain
from taulc.models.linear_base import ExactLinearModule, as_grid
from taulc.models.metrics import regression_metrics
from taulc.models.registry import register_model

log = logging.getLogger(__name__)

__all__ = ["RidgeRegressor"]


@register_model
class RidgeRegressor(ExactLinearModule):
    """Ridge regression of ``ln tau_LC`` on standardised descriptors (Sec. IV.A).

    Minimises ``sum_i w_i (y_i - z_i . beta - b)^2 + alpha ||beta||^2`` on
    standardised features ``z`` (same ``alpha`` convention as
    ``sklearn.linear_model.Ridge`` applied after ``StandardScaler``; the
    intercept is not penalised). All ``alpha`` values are solved at once from
    the eigendecomposition of the standardised Gram matrix ``G = V diag(l) V^T``:
    ``beta(alpha) = V diag(1/(l + alpha)) V^T Z^T W y``.

    Args:
        alpha: one value or a grid. With a grid the value is chosen on the
            validation split by ``selection``; without a validation loader,
            by generalised cross-validation on the training data.
        selection: ``"within_rate"`` (default: Pearson for ``reference_species``
            within each shear rate, averaged over rates -- the honest score,
            :func:`taulc.models.metrics.within_rate_pearson`), ``"pearson"`` (pooled
            Pearson; the paper's figure of merit, inflated by rate and species means),
            ``"pearson_config"`` (mean per-configuration Pearson) or ``"mse"`` (minimised).
        reference_species: species scored by ``within_rate`` (0 = big; ``None`` = all).
        n_features: number of descriptors; ``None`` = taken from the first batch.
        standardize: standardise features with the training mean/std.
        target: batch key of the regression target (``"y"`` = ln tau_LC).
        weight_key: batch key of optional per-sample weights.
        cache_bytes: unused by ridge (one pass) beyond bookkeeping.
        monitor, monitor_mode: validation metric for checkpoints/Optuna.
    """

    default_monitor = "val/pearson_within_rate"
    default_monitor_mode = "max"
    short_name = "ridge"
    report_roles = ("regression",)
    report_priority = 0

    def __init__(
        self,
        alpha: float | Sequence[float] = (1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6),
        selection: str = "within_rate",
        n_features: int | None = None,
        standardize: bool = True,
        target: str = "y",
        weight_key: str | None = "weight",
        cache_bytes: float = 0.0,
        monitor: str | None = None,
        monitor_mode: str | None = None,
        reference_species: int | None = 0,
    ) -> None:
        super().__init__(n_features, standardize, cache_bytes, weight_key)
        if selection not in ("within_rate", "pearson", "pearson_config", "mse"):
            raise ValueError(f"selection must be 'within_rate', 'pearson', 'pearson_config' or 'mse', got {selection!r}")
        alpha = as_grid(plain(alpha))
        if any(a < 0 for a in alpha):
            raise ValueError(f"alpha must be >= 0, got {alpha}")
        self.save_hyperparameters()
        self.alphas = alpha
        self.register_buffer("alpha_", torch.tensor(float("nan"), dtype=torch.float64))

    def _prepare(self, batch: Any) -> tuple[Tensor, Tensor, Tensor]:
        x = get_field(batch, "x")
        t = get_field(batch, self.hparams.target)
        if x is None or t is None:
            raise KeyError(f"RidgeRegressor needs batch keys 'x' and {self.hparams.target!r}")
        t = t.to(torch.float64).reshape(-1)
        w = get_field(batch, self._weight_key) if self._weight_key else None
        w = torch.ones_like(t) if w is None else w.to(torch.float64).reshape(-1)
        ok = torch.isfinite(t) & torch.isfinite(x).all(1)
        w = torch.where(ok, w, torch.zeros_like(w))
        t = torch.where(ok, t, torch.zeros_like(t))
        x = torch.where(ok[:, None], x, torch.zeros_like(x))
        return x, t, w

    def _accumulate(self, x: Tensor, t: Tensor, w: Tensor) -> None:
        u = x.to(torch.float64) - self._acc["shift"]
        wu = u * w[:, None]
        self._add("s0", w.sum())
        self._add("n", (w > 0).sum().to(torch.float64))
        self._add("s1", wu.sum(0))
        self._add("s2", wu.T @ u)
        self._add("sy", (w * t).sum())
        self._add("syy", (w * t * t).sum())
        self._add("sxy", wu.T @ t)

    def _solve(self) -> None:
        a = self._acc
        if float(a["s0"]) <= 0:
            raise RuntimeError("RidgeRegressor: no finite training targets")
        cov, m = self._standardisation(a["s0"], a["s1"], a["s2"])
        ybar = a["sy"] / a["s0"]
        cxy = a["sxy"] - m * a["sy"]  # sum w (x - mean)(y - ybar)
        d = self.scale_
        g = cov / torch.outer(d, d)
        r = cxy / d
        lam, v = torch.linalg.eigh(g)
        lam = torch.clamp(lam, min=0.0)
        alphas = torch.tensor(self.alphas, dtype=torch.float64, device=g.device)
        vr = v.T @ r
        denom = lam[:, None] + alphas[None, :]
        with torch.no_grad():
            coefs = v @ torch.where(denom > 0, vr[:, None] / denom, torch.zeros_like(denom))
        path = torch.cat([coefs, ybar.expand(1, len(self.alphas))], 0)
        self._path = path
        # generalised cross-validation on the training data (fallback selection)
        syy_c = a["syy"] - a["sy"] * ybar
        rss = syy_c - 2 * (coefs * r[:, None]).sum(0) + (coefs * (g @ coefs)).sum(0)
        n = a["n"]
        dof = torch.where(denom > 0, lam[:, None] / denom, torch.zeros_like(denom)).sum(0) + 1.0
        self._gcv = (torch.clamp(rss, min=0.0) / n) / torch.clamp(1.0 - dof / n, min=1e-12) ** 2

    def _select_without_validation(self) -> int:
        k = int(torch.argmin(self._gcv)) if len(self.alphas) > 1 else 0
        if len(self.alphas) > 1:
            log.info("RidgeRegressor: no validation loader, alpha=%g chosen by GCV", self.alphas[k])
        self.alpha_.fill_(self.alphas[k])
        return k

    def _select(self, out: np.ndarray, arrays: dict[str, np.ndarray]) -> int:
        sel = self.hparams.selection

        def score(pred: np.ndarray) -> float:
            mtr = regression_metrics(arrays["y"], pred, config_id=arrays.get("config_id") if sel == "pearson_config" else None)
            return -mtr["mse"] if sel == "mse" else mtr[sel]

        return self._choose(self.alphas, self._path_scores(out, arrays, score), "alpha", sel, self.alpha_)

    def selected_hyperparameters(self) -> dict[str, float]:
        return {"alpha": float(self.alpha_)}

    def compute_metrics(self, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        return regression_metrics(
            arrays[self.hparams.target] if self.hparams.target in arrays else arrays["y"],
            arrays["out"],
            config_id=arrays.get("config_id"),
            rate=arrays.get("rate"),
            species=arrays.get("species"),
            reference_species=self.hparams.get("reference_species", 0),
        )

    def _eval_fields(self, batch: Any) -> dict[str, Tensor | None]:
        f = super()._eval_fields(batch)
        f["y"] = get_field(batch, self.hparams.target)
        return f

    def forward(self, x: Tensor) -> Tensor:
        """Predicted target (ln tau) for raw descriptors ``x`` (B, F)."""
        return self.decision_function(x)

    def raw_outputs(self, x: Tensor) -> dict[str, Tensor]:
        """``{"y_pred": predicted target}`` (float64)."""
        return {"y_pred": self.decision_function(x)}

    @classmethod
    def owns_state_dict(cls, keys: set[str]) -> bool:
        return "alpha_" in keys

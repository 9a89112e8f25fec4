"""Exact linear baselines of the paper's Sec. IV as LightningModules.

* :class:`RidgeRegressor` -- ridge regression of ``ln tau_LC`` on the
  descriptors (Sec. IV.A, Eq. 13, Fig. 17).
* :class:`LinearSVM` -- linear SVM separating slow (solid-like) from fast
  (liquid-like) particles; the hardness ``H`` is the signed distance to the
  hyperplane, positive = slow (Sec. IV.B, Figs. 19-20).

Both are solved *exactly*, not by SGD, while running under
``lightning.Trainer`` so that data, splits, metrics, logging, checkpoints and
saving share one code path with the GNN:

1. ``fit`` runs one epoch. ``training_step`` accumulates sufficient
   statistics in float64 over the train dataloader (``X^T X``, ``X^T y``,
   sums for the standardisation statistics; per class for the SVM). Memory is
   O(F^2), independent of the number of particles.
2. After the last training batch (in ``on_validation_epoch_start``, or in
   ``on_train_epoch_end`` when there is no validation loader) the model is
   solved for every value of the regularisation grid at once.
3. The validation epoch scores every grid value and keeps the best one
   (``val/alpha``, ``val/C``); the module then asks the trainer to stop.

Features are standardised with the (sample-weighted) training mean and
population standard deviation; constant features get scale 1. Coefficients
are stored in standardised space (``coef_std``) and exposed in raw feature
units as :attr:`coef_` / :attr:`intercept_`.
"""

from __future__ import annotations

import logging
import math
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from taulc.models.base import TaulcModule, get_field, plain
from taulc.models.metrics import classification_metrics, regression_metrics, within_rate_pearson
from taulc.models.registry import register_model

log = logging.getLogger(__name__)

__all__ = ["RidgeRegressor", "LinearSVM"]


def _as_list(v: float | Sequence[float]) -> list[float]:
    if isinstance(v, (int, float)):
        return [float(v)]
    out = [float(a) for a in v]
    if not out:
        raise ValueError("empty regularisation grid")
    return out


class _ExactLinearModule(TaulcModule):
    """Common machinery: lazy float64 buffers, statistics passes, data re-iteration.

    ``cache_bytes``: the first pass keeps the prepared training batches in
    memory up to this many bytes so that further passes (SVM Newton steps)
    do not go back to the dataloader; beyond it, passes stream from
    ``trainer.train_dataloader`` (same result, re-reads the data).
    """

    _lazy = ("mean_", "scale_", "coef_std")

    def __init__(self, n_features: int | None, standardize: bool, cache_bytes: float,
                 weight_key: str | None) -> None:
        super().__init__()
        self.automatic_optimization = False
        f = int(n_features or 0)
        dd = dict(dtype=torch.float64)
        self.register_buffer("mean_", torch.zeros(f, **dd))
        self.register_buffer("scale_", torch.ones(f, **dd))
        self.register_buffer("coef_std", torch.zeros(f, **dd))
        self.register_buffer("intercept_std", torch.zeros((), **dd))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))
        self._standardize = standardize
        self._cache_bytes = float(cache_bytes)
        self._weight_key = weight_key
        self._path: Tensor | None = None  # (F+1, K) solutions for the whole grid
        self._acc: dict[str, Tensor] = {}
        self._cache: list[tuple[Tensor, ...]] | None = None
        self._cache_size = 0
        self._solved = False

    # ----------------------------------------------------------------- state
    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any,
                              **kwargs: Any) -> None:
        for name in self._lazy:  # resize lazily-sized buffers before copying
            key = prefix + name
            if key in state_dict and state_dict[key].shape != self._buffers[name].shape:
                self._buffers[name] = torch.empty_like(state_dict[key], device=self._buffers[name].device)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def configure_optimizers(self) -> None:  # exact solver: no optimizer
        return None

    def setup(self, stage: str) -> None:
        if self.trainer is not None and self.trainer.world_size > 1:
            raise RuntimeError(f"{type(self).__name__} is an exact single-device solver "
                               f"(world_size={self.trainer.world_size}); use trainer.devices=1")

    @property
    def n_features(self) -> int:
        return int(self.mean_.numel())

    @property
    def coef_(self) -> Tensor:
        """Coefficients in raw (unstandardised) feature units."""
        return self.coef_std / self.scale_

    @property
    def intercept_(self) -> Tensor:
        """Intercept in raw feature units."""
        return self.intercept_std - (self.mean_ * self.coef_).sum()

    def standardized(self, x: Tensor) -> Tensor:
        """``(x - mean) / scale`` in float64."""
        return (x.to(torch.float64) - self.mean_) / self.scale_

    def decision_function(self, x: Tensor) -> Tensor:
        """Linear output ``z . w + b`` (float64) of the selected solution."""
        self._check_fitted()
        return self.standardized(x) @ self.coef_std + self.intercept_std

    def _check_fitted(self) -> None:
        if not bool(self.fitted):
            raise RuntimeError(f"{type(self).__name__} is not fitted: run trainer.fit first "
                               "or load a fitted state_dict")

    # ------------------------------------------------------------ statistics
    @abstractmethod
    def _prepare(self, batch: Any) -> tuple[Tensor, Tensor, Tensor]:
        """(x float32/64, target float64, weight float64) of a batch; weight 0 = ignore."""

    def _add(self, name: str, value: Tensor) -> None:
        if name in self._acc:
            self._acc[name] += value
        else:
            self._acc[name] = value.clone()

    def on_train_epoch_start(self) -> None:
        self._acc = {}
        self._cache = [] if self._cache_bytes > 0 else None
        self._cache_size = 0
        self._solved = False
        self._path = None

    def training_step(self, batch: Any, batch_idx: int) -> None:
        x, t, w = self._prepare(batch)
        if x.ndim != 2:
            raise ValueError(f"batch['x'] must be (B, F), got shape {tuple(x.shape)}")
        f = x.shape[1]
        if self.n_features != f:
            if bool(self.fitted) or (self.hparams.get("n_features") and self.n_features):
                raise ValueError(f"batch['x'] has {f} features, model expects {self.n_features}")
            dev = self.mean_.device
            for name in self._lazy:
                self._buffers[name] = torch.zeros(f, dtype=torch.float64, device=dev)
        if "shift" not in self._acc:  # moments about the first batch mean: fewer cancellations
            ok = w > 0
            shift = x[ok].to(torch.float64).mean(0) if bool(ok.any()) else \
                torch.zeros(f, dtype=torch.float64, device=x.device)
            self._acc["shift"] = shift
        self._accumulate(x, t, w)
        if self._cache is not None:
            nbytes = sum(a.numel() * a.element_size() for a in (x, t, w))
            if self._cache_size + nbytes <= self._cache_bytes:
                self._cache.append((x.detach(), t.detach(), w.detach()))
                self._cache_size += nbytes
            else:
                log.info("%s: training data exceed cache_bytes=%.3g, later passes stream "
                         "from the dataloader", type(self).__name__, self._cache_bytes)
                self._cache = None
        return None

    @abstractmethod
    def _accumulate(self, x: Tensor, t: Tensor, w: Tensor) -> None:
        """Add one batch to the sufficient statistics of the exact solve."""

    def _iter_train(self) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
        """Prepared training batches again: from the cache or the dataloader."""
        if self._cache is not None:
            yield from self._cache
            return
        for batch in self.trainer.train_dataloader:
            yield self._prepare(self.transfer_batch_to_device(batch, self.device, 0))

    def _standardisation(self, s0: Tensor, s1: Tensor, s2: Tensor) -> tuple[Tensor, Tensor]:
        """Set mean_/scale_ from shifted weighted moments; return (centred Gram C, m=mean-shift)."""
        shift = self._acc["shift"]
        m = s1 / s0
        cov = s2 - torch.outer(s1, m)  # sum w (x-mean)(x-mean)^T
        cov = 0.5 * (cov + cov.T)
        if self._standardize:
            var = torch.clamp(torch.diagonal(cov) / s0, min=0.0)
            std = torch.sqrt(var)
            tiny = 10 * torch.finfo(torch.float64).eps * torch.clamp((m + shift).abs(), min=1.0)
            scale = torch.where(std > tiny, std, torch.ones_like(std))
        else:
            scale = torch.ones_like(m)
        self.mean_.copy_(m + shift)
        self.scale_.copy_(scale)
        return cov, m

    # --------------------------------------------------------------- hooks
    def _finish_pass(self) -> None:
        if not self._solved and self._acc:
            self._solve()
            self._solved = True

    def on_validation_epoch_start(self) -> None:
        super().on_validation_epoch_start()
        if self.trainer.state.fn == "fit" and not self.trainer.sanity_checking:
            self._finish_pass()

    def on_train_epoch_end(self) -> None:
        self._finish_pass()
        if self._path is not None:  # no validation loop ran: select without it
            k = self._select_without_validation()
            self._set_solution(k)
        self._cache = None
        self._acc = {}
        self.trainer.should_stop = True  # exact solve: one epoch is enough

    def _set_solution(self, k: int) -> None:
        assert self._path is not None
        self.coef_std.copy_(self._path[:-1, k])
        self.intercept_std.copy_(self._path[-1, k])
        self.fitted.fill_(True)
        self._chosen = k
        self._path = None

    @abstractmethod
    def _solve(self) -> None:
        """Solve every grid value (alpha or C) from the accumulated statistics."""

    @abstractmethod
    def _select_without_validation(self) -> int:
        """Index of the grid value to use when no validation loader is given."""

    def _path_outputs(self, x: Tensor) -> Tensor:
        """Linear outputs for all grid values (B, K) if a path is pending, else (B, 1)."""
        z = self.standardized(x)
        if self._path is not None:
            return z @ self._path[:-1] + self._path[-1]
        self._check_fitted()
        return (z @ self.coef_std + self.intercept_std)[:, None]

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        if self.trainer.sanity_checking or (self._path is None and not bool(self.fitted)):
            return None
        self._eval_step("val", batch)
        return None

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._eval_step("test", batch)

    def _eval_step(self, stage: str, batch: Any) -> None:
        x = get_field(batch, "x")
        self.collect(stage, out=self._path_outputs(x), **self._eval_fields(batch))

    def _eval_fields(self, batch: Any) -> dict[str, Tensor | None]:
        return {k: get_field(batch, k) for k in ("y", "cls", "config_id", "rate", "species")}

    def on_validation_epoch_end(self) -> None:
        arrays = self.gathered("val")
        self.reset_collection("val")
        if not arrays:
            return
        out = arrays.pop("out")
        k = 0
        if self._path is not None:
            k = self._select(out, arrays)
            self._set_solution(k)
        arrays["out"] = out[:, k]
        metrics = self.compute_metrics(arrays)
        metrics.update(self.selected_hyperparameters())
        self.log_metrics("val", metrics, prog_bar=(self.monitor,))

    def on_test_epoch_end(self) -> None:
        arrays = self.gathered("test")
        self.reset_collection("test")
        if arrays:
            arrays["out"] = arrays["out"][:, 0]
            self.log_metrics("test", self.compute_metrics(arrays))

    @abstractmethod
    def _select(self, out: np.ndarray, arrays: dict[str, np.ndarray]) -> int:
        """Index of the best grid value from validation outputs ``out`` (one column per value)."""

    def particle_batch(self, positions: np.ndarray, species: np.ndarray, cell: np.ndarray,
                       x: np.ndarray | None, graph_radius: float | None = None) -> Any:
        """Descriptors as given (float64: the exact solvers' coefficients are float64)."""
        if x is None:
            raise ValueError(f"{type(self).__name__} reads descriptors: pass x (N, F)")
        return {"x": torch.from_numpy(np.asarray(x)).to(self.device)}


@register_model
class RidgeRegressor(_ExactLinearModule):
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
        alpha = _as_list(plain(alpha))
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
        scores = []
        for k in range(out.shape[1]):
            if sel == "within_rate":
                s = within_rate_pearson(arrays["y"], out[:, k], arrays.get("species"), arrays.get("rate"),
                                        self.hparams.get("reference_species", 0))
                scores.append(s if math.isfinite(s) else -math.inf)
                continue
            mtr = regression_metrics(arrays["y"], out[:, k],
                                     config_id=arrays.get("config_id") if sel == "pearson_config" else None)
            s = -mtr["mse"] if sel == "mse" else mtr[sel]
            scores.append(s if math.isfinite(s) else -math.inf)
        k = int(np.argmax(scores))
        self.alpha_.fill_(self.alphas[k])
        log.info("RidgeRegressor: alpha=%g chosen on validation by %s (%s)", self.alphas[k], sel,
                 ", ".join(f"{a:g}: {s:.4f}" for a, s in zip(self.alphas, scores)))
        return k

    def selected_hyperparameters(self) -> dict[str, float]:
        return {"alpha": float(self.alpha_)}

    def compute_metrics(self, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        return regression_metrics(arrays[self.hparams.target] if self.hparams.target in arrays
                                  else arrays["y"], arrays["out"],
                                  config_id=arrays.get("config_id"), rate=arrays.get("rate"),
                                  species=arrays.get("species"), reference_species=self.hparams.get("reference_species", 0))

    def _eval_fields(self, batch: Any) -> dict[str, Tensor | None]:
        f = super()._eval_fields(batch)
        f["y"] = get_field(batch, self.hparams.target)
        return f

    def forward(self, x: Tensor) -> Tensor:
        """Predicted target (ln tau) for raw descriptors ``x`` (B, F)."""
        return self.decision_function(x)

    def predict_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> dict[str, Tensor]:
        """``{"y_pred": ln tau prediction}`` plus config_id/rate/species when present."""
        return {"y_pred": self(get_field(batch, "x")).float(), **self.passthrough(batch)}

    @torch.no_grad()
    def predict_particles(self, positions: np.ndarray, species: np.ndarray, cell: np.ndarray,
                          x: np.ndarray | None = None, *, target: str = "ln_tau_lc",
                          graph_radius: float | None = None) -> dict[str, np.ndarray]:
        """``{<target>_pred}`` in float64 (the exact solution, not the float32 of ``predict_step``)."""
        batch = self.particle_batch(positions, species, cell, x)
        return {f"{target}_pred": self.decision_function(batch["x"]).cpu().numpy()}

    @classmethod
    def owns_state_dict(cls, keys: set[str]) -> bool:
        return "alpha_" in keys


@register_model
class LinearSVM(_ExactLinearModule):
    """Linear SVM for slow (cls=1) vs fast (cls=0) particles; hardness H (Sec. IV.B).

    Solves LinearSVC's default primal objective (L2 penalty, squared hinge)

        min_{w,b} 1/2 ||w||^2 + C sum_i s_i max(0, 1 - y_i (w . z_i + b))^2,

    with ``y = 2 cls - 1``, standardised features ``z``, sample weights
    ``s_i`` (times class weights) and an *unpenalised* intercept ``b``
    (sklearn's LinearSVC penalises ``b`` through ``intercept_scaling``; it
    matches ours for ``intercept_scaling`` -> infinity).

    Solver: generalised Newton method in the primal (the squared hinge is
    C^1 with a piecewise-constant Hessian) with Armijo backtracking; it
    terminates exactly once the active set settles (usually < 15 steps).
    The first pass over the training data gathers per-class moments, from
    which the first Newton step (starting at w = 0, where every sample is
    active) is exact; every later step is one more pass, accumulating the
    gradient and the generalised Hessian ``I + 2C A^T S A`` over active
    samples only, so memory is O(K F^2) for K values of C. Passes read a
    cache of the training batches when it fits in ``cache_bytes``
    (default 2 GB) and otherwise re-iterate the dataloader, so data larger
    than memory work at the cost of one data pass per Newton step. All C
    values are solved simultaneously.

    The hardness is ``H = (w . z + b) / ||w||`` in standardised feature
    space, positive = slow (solid-like); ``p_H`` = fraction with H > 0.

    Args:
        C: one value or a grid (chosen on validation by ``selection``).
        class_weight: ``"balanced"`` (W / (2 W_c) with W_c the summed sample
            weights of class c, as sklearn; the paper uses
            equal numbers of slow and fast particles), ``None``, or a dict
            ``{0: w_fast, 1: w_slow}``.
        selection: ``"within_rate"`` (default: Pearson of H with ln τ_LC for
            ``reference_species`` within each shear rate, averaged over rates -- the
            honest score), ``"balanced_accuracy"``, ``"accuracy"``, ``"roc_auc"`` or
            ``"pearson_h_lntau"`` (pooled).
        reference_species: species scored by ``within_rate`` (0 = big; ``None`` = all).
        tol: relative gradient-norm tolerance; max_iter: Newton steps.
        n_features, standardize, weight_key, monitor, monitor_mode: as
            :class:`RidgeRegressor`.
        target: batch key of ln tau_LC used for the ``pearson_h_*`` metrics.
    """

    default_monitor = "val/pearson_h_lntau_within_rate"
    default_monitor_mode = "max"
    short_name = "svm"
    balance_classes_default = True  # equal slow/fast training particles (paper Sec. IV.B)
    report_roles = ("hardness",)

    def __init__(
        self,
        C: float | Sequence[float] = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0),
        class_weight: str | dict[int, float] | None = "balanced",
        selection: str = "within_rate",
        tol: float = 1e-8,
        max_iter: int = 50,
        n_features: int | None = None,
        standardize: bool = True,
        target: str = "y",
        weight_key: str | None = "weight",
        cache_bytes: float = 2e9,
        monitor: str | None = None,
        monitor_mode: str | None = None,
        reference_species: int | None = 0,
    ) -> None:
        super().__init__(n_features, standardize, cache_bytes, weight_key)
        C = _as_list(plain(C))
        class_weight = plain(class_weight)
        if any(c <= 0 for c in C):
            raise ValueError(f"C must be > 0, got {C}")
        if selection not in ("within_rate", "balanced_accuracy", "accuracy", "roc_auc", "pearson_h_lntau"):
            raise ValueError(f"unknown selection {selection!r}")
        if not (class_weight is None or class_weight == "balanced" or isinstance(class_weight, dict)):
            raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {class_weight!r}")
        self.save_hyperparameters()
        self.Cs = C
        self.register_buffer("C_", torch.tensor(float("nan"), dtype=torch.float64))
        self.register_buffer("class_weight_", torch.ones(2, dtype=torch.float64))

    # ------------------------------------------------------------- data
    def _prepare(self, batch: Any) -> tuple[Tensor, Tensor, Tensor]:
        x = get_field(batch, "x")
        c = get_field(batch, "cls")
        if x is None or c is None:
            raise KeyError("LinearSVM needs batch keys 'x' and 'cls'")
        c = c.reshape(-1).to(torch.float64)
        w = get_field(batch, self._weight_key) if self._weight_key else None
        w = torch.ones_like(c) if w is None else w.to(torch.float64).reshape(-1)
        ok = ((c == 0) | (c == 1)) & torch.isfinite(x).all(1)
        w = torch.where(ok, w, torch.zeros_like(w))
        x = torch.where(ok[:, None], x, torch.zeros_like(x))
        return x, torch.where(ok, c, torch.zeros_like(c)), w

    def _accumulate(self, x: Tensor, t: Tensor, w: Tensor) -> None:
        u = x.to(torch.float64) - self._acc["shift"]
        for c in (0, 1):
            wc = w * (t == c)
            wu = u * wc[:, None]
            self._add(f"n{c}", (wc > 0).sum().to(torch.float64))
            self._add(f"s0_{c}", wc.sum())
            self._add(f"s1_{c}", wu.sum(0))
            self._add(f"s2_{c}", wu.T @ u)

    def _class_weights(self, n0: float, n1: float) -> Tensor:
        cw = self.hparams.class_weight
        if cw is None:
            out = [1.0, 1.0]
        elif cw == "balanced":
            n = n0 + n1
            out = [n / (2 * n0) if n0 else 0.0, n / (2 * n1) if n1 else 0.0]
        else:
            out = [float(cw.get(0, cw.get("0", 1.0))), float(cw.get(1, cw.get("1", 1.0)))]
        return torch.tensor(out, dtype=torch.float64, device=self.mean_.device)

    # ------------------------------------------------------------- solver
    def _solve(self) -> None:
        a = self._acc
        n0, n1 = float(a["n0"]), float(a["n1"])
        if n0 == 0 or n1 == 0:
            raise RuntimeError(f"LinearSVM needs both classes in the training data (fast: {n0:g}, slow: {n1:g})")
        # 'balanced' uses sample-weighted class totals (sklearn >= 1.6 convention)
        self.class_weight_.copy_(self._class_weights(float(a["s0_0"]), float(a["s0_1"])))
        s0 = a["s0_0"] + a["s0_1"]
        s1 = a["s1_0"] + a["s1_1"]
        s2 = a["s2_0"] + a["s2_1"]
        _, m = self._standardisation(s0, s1, s2)
        d = self.scale_
        f = d.numel()
        dev = d.device
        # class-weighted moments of the augmented standardised vectors a = (z, 1)
        gram = torch.zeros(f + 1, f + 1, dtype=torch.float64, device=dev)
        rhs = torch.zeros(f + 1, dtype=torch.float64, device=dev)  # sum s y a
        tot = torch.zeros((), dtype=torch.float64, device=dev)
        for c, y in ((0, -1.0), (1, 1.0)):
            kw = self.class_weight_[c]
            w0, w1, w2 = a[f"s0_{c}"], a[f"s1_{c}"], a[f"s2_{c}"]
            zz = (w2 - torch.outer(w1, m) - torch.outer(m, w1) + w0 * torch.outer(m, m)) / torch.outer(d, d)
            z1 = (w1 - w0 * m) / d
            blk = torch.zeros_like(gram)
            blk[:f, :f] = zz
            blk[:f, f] = z1
            blk[f, :f] = z1
            blk[f, f] = w0
            gram += kw * blk
            rhs += kw * y * torch.cat([z1, w0.reshape(1)])
            tot += kw * w0
        pen = torch.ones(f + 1, dtype=torch.float64, device=dev)
        pen[f] = 0.0
        cs = torch.tensor(self.Cs, dtype=torch.float64, device=dev)
        # Newton step from theta = 0 (all samples active): exact LS-SVM solution
        theta0 = torch.stack([torch.linalg.solve(torch.diag(pen) + 2 * c * gram, 2 * c * rhs) for c in cs], 1)
        g0 = -2 * cs[None, :] * rhs[:, None]  # gradient at 0, (F+1, K)
        obj0 = cs * tot
        self._newton(theta0, g0, obj0, pen)

    def _pass(self, theta: Tensor, todo: Tensor, pen: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Objective, gradient and generalised Hessian at ``theta`` (F+1, K) for ``todo`` columns."""
        f1, k = theta.shape
        cs = torch.tensor(self.Cs, dtype=torch.float64, device=theta.device)
        idx = torch.nonzero(todo).reshape(-1)
        th = theta[:, idx]
        obj = torch.zeros(len(idx), dtype=torch.float64, device=theta.device)
        grad = torch.zeros(f1, len(idx), dtype=torch.float64, device=theta.device)
        hess = torch.zeros(len(idx), f1, f1, dtype=torch.float64, device=theta.device)
        for x, c, w in self._iter_train():
            z = self.standardized(x)
            aug = torch.cat([z, torch.ones_like(z[:, :1])], 1)
            y = 2 * c - 1
            s = w * self.class_weight_[c.long()]
            marg = 1 - y[:, None] * (aug @ th)  # (B, K')
            act = (marg > 0) & (s[:, None] > 0)
            sm = torch.where(act, s[:, None] * marg, torch.zeros_like(marg))
            obj += (sm * marg).sum(0)
            grad -= aug.T @ (sm * y[:, None])
            for j in range(len(idx)):
                sa = torch.where(act[:, j], s, torch.zeros_like(s))
                hess[j] += (aug * sa[:, None]).T @ aug
        cj = cs[idx]
        obj = cj * obj + 0.5 * ((th[:-1]) ** 2).sum(0)
        grad = 2 * cj[None, :] * grad + pen[:, None] * th
        hess = 2 * cj[:, None, None] * hess + torch.diag_embed(pen.expand(len(idx), -1))
        return obj, grad, hess

    def _newton(self, theta0: Tensor, g0: Tensor, obj0: Tensor, pen: Tensor) -> None:
        k = theta0.shape[1]
        dev = theta0.device
        acc = torch.zeros_like(theta0)  # accepted iterate (start: 0)
        obj_acc = obj0.clone()
        gnorm0 = torch.linalg.vector_norm(g0, dim=0).clamp_min(1e-300)
        direction = theta0.clone()
        slope = (g0 * direction).sum(0)
        step = torch.ones(k, dtype=torch.float64, device=dev)
        trial = theta0.clone()
        done = torch.zeros(k, dtype=torch.bool, device=dev)
        jitter = torch.zeros_like(pen)
        jitter[-1] = 1e-10
        n_pass = 0
        for n_pass in range(1, self.hparams.max_iter + 1):  # noqa: B007 - the count is logged after the loop
            todo = ~done
            obj, grad, hess = self._pass(trial, todo, pen)
            for j, i in enumerate(torch.nonzero(todo).reshape(-1).tolist()):
                slack = 1e-13 * obj_acc[i].abs()  # rounding slack near the optimum
                if obj[j] > obj_acc[i] + 1e-4 * step[i] * slope[i] + slack:
                    if step[i] < 1e-10:  # no further decrease possible: keep accepted
                        done[i] = True
                        continue
                    step[i] *= 0.5  # backtrack along the last Newton direction
                else:
                    rel = (obj_acc[i] - obj[j]).abs() / obj[j].abs().clamp_min(1e-300)
                    acc[:, i] = trial[:, i]
                    obj_acc[i] = obj[j]
                    if torch.linalg.vector_norm(grad[:, j]) <= self.hparams.tol * gnorm0[i] or rel < 1e-15:
                        done[i] = True
                        continue
                    direction[:, i] = -torch.linalg.solve(hess[j] + torch.diag(jitter), grad[:, j])
                    slope[i] = grad[:, j] @ direction[:, i]
                    step[i] = 1.0
                trial[:, i] = acc[:, i] + step[i] * direction[:, i]
            if bool(done.all()):
                break
        if not bool(done.all()):
            log.warning("LinearSVM: Newton solver did not converge in %d passes for C=%s",
                        self.hparams.max_iter, [c for c, d_ in zip(self.Cs, done.tolist()) if not d_])
        log.info("LinearSVM: solved %d value(s) of C in %d Newton passes", k, n_pass)
        self._path = acc
        self._objective = obj_acc

    # ------------------------------------------------------------- selection
    def _path_outputs(self, x: Tensor) -> Tensor:
        """Hardness H for every C of a pending path (B, K), else for the chosen one."""
        z = self.standardized(x)
        if self._path is not None:
            norms = torch.linalg.vector_norm(self._path[:-1], dim=0).clamp_min(1e-300)
            return (z @ self._path[:-1] + self._path[-1]) / norms
        return self.hardness(x)[:, None]

    def _select_without_validation(self) -> int:
        k = int(np.argmin([abs(math.log(c)) for c in self.Cs]))
        if len(self.Cs) > 1:
            log.warning("LinearSVM: several C values but no validation loader; using C=%g", self.Cs[k])
        self.C_.fill_(self.Cs[k])
        return k

    def _select(self, out: np.ndarray, arrays: dict[str, np.ndarray]) -> int:
        sel = self.hparams.selection
        scores = []
        for k in range(out.shape[1]):
            if sel == "within_rate":
                s = within_rate_pearson(arrays.get("y"), out[:, k], arrays.get("species"), arrays.get("rate"),
                                        self.hparams.get("reference_species", 0))
            else:
                s = classification_metrics(arrays["cls"], out[:, k], ln_tau=arrays.get("y"))[sel]
            scores.append(s if math.isfinite(s) else -math.inf)
        k = int(np.argmax(scores))
        self.C_.fill_(self.Cs[k])
        log.info("LinearSVM: C=%g chosen on validation by %s (%s)", self.Cs[k], sel,
                 ", ".join(f"{c:g}: {s:.4f}" for c, s in zip(self.Cs, scores)))
        return k

    def selected_hyperparameters(self) -> dict[str, float]:
        return {"C": float(self.C_)}

    def _eval_fields(self, batch: Any) -> dict[str, Tensor | None]:
        f = super()._eval_fields(batch)
        f["y"] = get_field(batch, self.hparams.target)
        return f

    def compute_metrics(self, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        return classification_metrics(arrays["cls"], arrays["out"], ln_tau=arrays.get("y"),
                                      rate=arrays.get("rate"), species=arrays.get("species"),
                                      reference_species=self.hparams.get("reference_species", 0))

    # ------------------------------------------------------------- inference
    @property
    def weight_norm(self) -> Tensor:
        return torch.linalg.vector_norm(self.coef_std).clamp_min(1e-300)

    def hardness(self, x: Tensor) -> Tensor:
        """H = (w . z + b) / ||w|| in standardised feature space; > 0 = slow."""
        return self.decision_function(x) / self.weight_norm

    def forward(self, x: Tensor) -> Tensor:
        """Hardness H of raw descriptors ``x`` (B, F)."""
        return self.hardness(x)

    def predict_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> dict[str, Tensor]:
        """``{"hardness", "decision", "cls_pred"}`` plus config_id/rate/species."""
        x = get_field(batch, "x")
        dec = self.decision_function(x)
        return {"hardness": (dec / self.weight_norm).float(), "decision": dec.float(),
                "cls_pred": (dec > 0).long(), **self.passthrough(batch)}

    def prediction_arrays(self, target: str) -> dict[str, str]:
        """Hardness ``H`` (Sec. IV.B) and the predicted class ``slow_pred`` (H > 0)."""
        return {"H": "hardness", "slow_pred": "cls_pred"}

    @torch.no_grad()
    def predict_particles(self, positions: np.ndarray, species: np.ndarray, cell: np.ndarray,
                          x: np.ndarray | None = None, *, target: str = "ln_tau_lc",
                          graph_radius: float | None = None) -> dict[str, np.ndarray]:
        """``H`` in float64 and ``slow_pred`` = 1 where H > 0 (int64)."""
        h = self.hardness(self.particle_batch(positions, species, cell, x)["x"]).cpu().numpy()
        return {"H": h, "slow_pred": (h > 0).astype(np.int64)}

    @classmethod
    def owns_state_dict(cls, keys: set[str]) -> bool:
        return "class_weight_" in keys

"""The exact linear solvers' shared machinery (ridge: :mod:`taulc.models.ridge`, SVM: :mod:`taulc.models.svm`).

The linear baselines of Yu, Zeng & Wang 2025, Sec. IV are solved *exactly*, not by SGD, while running under
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
from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from taulc.models.base import TaulcModule, get_field
from taulc.models.metrics import within_rate_pearson

log = logging.getLogger(__name__)

__all__ = ["ExactLinearModule", "as_grid"]


def as_grid(v: float | Sequence[float]) -> list[float]:
    """A regularisation grid (alpha, C) as a non-empty list of floats."""
    if isinstance(v, (int, float)):
        return [float(v)]
    out = [float(a) for a in v]
    if not out:
        raise ValueError("empty regularisation grid")
    return out


class ExactLinearModule(TaulcModule):
    """Common machinery: lazy float64 buffers, statistics passes, data re-iteration.

    ``cache_bytes``: the first pass keeps the prepared training batches in
    memory up to this many bytes so that further passes (SVM Newton steps)
    do not go back to the dataloader; beyond it, passes stream from
    ``trainer.train_dataloader`` (same result, re-reads the data).
    """

    #: sized by the first training batch (the descriptor width), resized on load
    resizable_buffers = ("mean_", "scale_", "coef_std")

    def __init__(self, n_features: int | None, standardize: bool, cache_bytes: float, weight_key: str | None) -> None:
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

    def configure_optimizers(self) -> None:  # exact solver: no optimizer
        return None

    def setup(self, stage: str) -> None:
        if self.trainer is not None and self.trainer.world_size > 1:
            raise RuntimeError(
                f"{type(self).__name__} is an exact single-device solver "
                f"(world_size={self.trainer.world_size}); use trainer.devices=1"
            )

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
            raise RuntimeError(f"{type(self).__name__} is not fitted: run trainer.fit first or load a fitted state_dict")

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
            for name in self.resizable_buffers:
                self._buffers[name] = torch.zeros(f, dtype=torch.float64, device=dev)
        if "shift" not in self._acc:  # moments about the first batch mean: fewer cancellations
            ok = w > 0
            shift = x[ok].to(torch.float64).mean(0) if bool(ok.any()) else torch.zeros(f, dtype=torch.float64, device=x.device)
            self._acc["shift"] = shift
        self._accumulate(x, t, w)
        if self._cache is not None:
            nbytes = sum(a.numel() * a.element_size() for a in (x, t, w))
            if self._cache_size + nbytes <= self._cache_bytes:
                self._cache.append((x.detach(), t.detach(), w.detach()))
                self._cache_size += nbytes
            else:
                log.info(
                    "%s: training data exceed cache_bytes=%.3g, later passes stream from the dataloader",
                    type(self).__name__,
                    self._cache_bytes,
                )
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

    def _path_scores(self, out: np.ndarray, arrays: dict[str, np.ndarray], score: Callable[[np.ndarray], float]) -> list[float]:
        """Validation score of every column of a path ``out`` (B, K): the reference species' Pearson with ``y``
        within each shear rate for ``selection=within_rate``, else ``score(column)``."""
        if self.hparams.selection == "within_rate":
            ref = self.hparams.get("reference_species", 0)
            sp, rate = arrays.get("species"), arrays.get("rate")
            return [within_rate_pearson(arrays.get("y"), out[:, k], sp, rate, ref) for k in range(out.shape[1])]
        return [score(out[:, k]) for k in range(out.shape[1])]

    def _choose(self, grid: Sequence[float], scores: Sequence[float], name: str, selection: str, store: Tensor) -> int:
        """Index of the highest validation score (NaN counts as worst); writes the chosen ``name`` into ``store``
        and logs every grid value with its score."""
        finite = [s if np.isfinite(s) else -np.inf for s in scores]
        k = int(np.argmax(finite))
        store.fill_(grid[k])
        log.info(
            "%s: %s=%g chosen on validation by %s (%s)",
            type(self).__name__,
            name,
            grid[k],
            selection,
            ", ".join(f"{g:g}: {s:.4f}" for g, s in zip(grid, finite)),
        )
        return k

    # ------------------------------------------------------------- inference
    @abstractmethod
    def raw_outputs(self, x: Tensor) -> dict[str, Tensor]:
        """``predict_step`` values of raw descriptors ``x`` in full (float64) precision, by key."""

    def feature_scaler(self) -> tuple[Tensor, Tensor]:
        return self.mean_, self.scale_

    def predict_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> dict[str, Tensor]:
        """:meth:`raw_outputs` (floating values as float32) plus config_id/rate/species when present."""
        raw = self.raw_outputs(get_field(batch, "x"))
        return {**{k: v.float() if v.is_floating_point() else v for k, v in raw.items()}, **self.passthrough(batch)}

    @torch.no_grad()
    def predict_particles(
        self,
        positions: np.ndarray,
        species: np.ndarray,
        cell: np.ndarray,
        x: np.ndarray | None = None,
        *,
        target: str = "ln_tau_lc",
        graph_radius: float | None = None,
    ) -> dict[str, np.ndarray]:
        """The declared outputs in full precision (float64; classes int64), not the float32 of ``predict_step``."""
        raw = self.raw_outputs(self.inputs.particle_batch(self, positions, species, cell, x)["x"])
        return {o.name: raw[o.key].cpu().numpy() for o in self.outputs(target)}

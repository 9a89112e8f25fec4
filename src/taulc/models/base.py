"""Shared LightningModule plumbing: batch access, output collection and metric logging.

Every taulc model (ridge, SVM, GNN, MLP) derives from :class:`TaulcModule`, so
validation/test metrics are computed the same way (``taulc.models.metrics``)
and logged under the same names (``val/...``, ``test/...``). After a
validation or test epoch the full nested metric dict (including per-rate
dicts) is kept in ``module.last_metrics[stage]`` for the train script to dump
as JSON.
"""

from __future__ import annotations

import logging
import math
from abc import ABCMeta, abstractmethod
from typing import Any, ClassVar

import lightning.pytorch as pl
import numpy as np
import torch
from torch import Tensor

from taulc.models.metrics import flatten_metrics

log = logging.getLogger(__name__)

#: per-particle bookkeeping fields passed through to predictions/metrics
ID_FIELDS: tuple[str, ...] = ("config_id", "rate", "species")


def get_field(batch: Any, name: str) -> Tensor | None:
    """Field ``name`` of a tabular dict batch or a PyG ``Batch`` (None if absent)."""
    if isinstance(batch, dict):
        return batch.get(name)
    return getattr(batch, name, None)  # PyG Data/Batch: missing attribute -> None


def plain(obj: Any) -> Any:
    """Recursively convert OmegaConf containers / tuples / numpy scalars to plain Python
    (so hyperparameters pickle-free into checkpoints and bundles)."""
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf  # noqa: PLC0415

        if isinstance(obj, (DictConfig, ListConfig)):
            return OmegaConf.to_container(obj, resolve=True)
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if hasattr(obj, "item") and getattr(obj, "ndim", None) == 0:
        return obj.item()
    return obj


class TaulcModule(pl.LightningModule, metaclass=ABCMeta):
    """Base class: collects per-particle outputs in val/test and logs metrics.

    Subclasses call :meth:`collect` from ``validation_step``/``test_step``
    and implement :meth:`compute_metrics` (arrays -> nested metric dict).
    ``monitor``/``monitor_mode`` name the validation metric used for model
    selection (checkpointing, early stopping, Optuna objective).
    """

    default_monitor: str = "val/pearson"
    default_monitor_mode: str = "max"

    # -- the model contract (docs/CONTRACTS.md, "Models") ---------------------
    # What training, the predictor bundle, the predictor and the report need to know;
    # they ask the model (or taulc.models.registry for a run's recorded class name).
    #: src/taulc/conf/model/<short_name>.yaml, runs/<short_name>/, report labels (svm, ridge, gnn, mlp)
    short_name: ClassVar[str] = ""
    #: older class names recorded in run directories and bundles that mean this class
    aliases: ClassVar[tuple[str, ...]] = ()
    #: "tabular" (descriptor rows, batch["x"] of shape (B, F)) or "graph" (PyG particle graphs)
    input_kind: ClassVar[str] = "tabular"
    #: equal slow/fast particles in the training split unless data.balance_classes says so already
    balance_classes_default: ClassVar[bool] = False
    #: src/taulc/conf/callbacks/<name>.yaml used when the command line chooses none (checkpoint | early_stopping);
    #: both monitor :attr:`monitor` in :attr:`monitor_mode`
    callbacks_default: ClassVar[str] = "checkpoint"
    #: test with the best validation checkpoint instead of the last epoch's weights
    test_with_best_checkpoint: ClassVar[bool] = False
    #: what evaluate.py may use a run of this model for: "hardness" (the SVM hardness section, needs
    #: ``hardness(x)``), "regression" (parity, needs ``y_pred`` in test_predictions.npz),
    #: "attribution" (graph input attribution)
    report_roles: ClassVar[tuple[str, ...]] = ()
    #: when several runs fill one report role, the lowest priority wins (ridge 0 before GNN/MLP 1)
    report_priority: ClassVar[int] = 0
    #: "C2h" when predictions are invariant under the point group of planar shear flow
    #: (180° about z, the z mirror, inversion); None when not declared
    symmetry: str | None = None

    @property
    def uses_descriptors(self) -> bool:
        """Whether the model reads descriptor columns ``x`` (tabular models always; graph models when
        ``n_features`` > 0)."""
        return self.input_kind == "tabular" or bool(self.hparams.get("n_features"))

    def selected_hyperparameters(self) -> dict[str, float]:
        """Hyperparameters chosen during fitting (e.g. ridge ``alpha``, SVM ``C``); recorded in metrics.json."""
        return {}

    def prediction_arrays(self, target: str) -> dict[str, str]:
        """Per-particle outputs of :meth:`predict_particles`: output name -> ``predict_step`` key.

        Default: one regression output ``<target>_pred`` from ``y_pred``."""
        return {f"{target}_pred": "y_pred"}

    def output_names(self, target: str) -> tuple[str, ...]:
        """Names of the per-particle arrays :meth:`predict_particles` returns (``taulc-predict`` columns)."""
        return tuple(self.prediction_arrays(target))

    def score_name(self, target: str) -> str:
        """The per-particle value shown in hardness maps (first output by default)."""
        return self.output_names(target)[0]

    def particle_batch(self, positions: np.ndarray, species: np.ndarray, cell: np.ndarray,
                       x: np.ndarray | None, graph_radius: float | None = None) -> Any:
        """One configuration as a batch for ``predict_step`` (tabular default: ``{"x": float32 (N, F)}``)."""
        if x is None:
            raise ValueError(f"{type(self).__name__} reads descriptors: pass x (N, F)")
        return {"x": torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(self.device)}

    @torch.no_grad()
    def predict_particles(self, positions: np.ndarray, species: np.ndarray, cell: np.ndarray,
                          x: np.ndarray | None = None, *, target: str = "ln_tau_lc",
                          graph_radius: float | None = None) -> dict[str, np.ndarray]:
        """Per-particle outputs (:meth:`output_names`) for one validated configuration; ``x``: its descriptors."""
        res = self.predict_step(self.particle_batch(positions, species, cell, x, graph_radius), 0)
        return {name: res[key].detach().double().cpu().numpy() for name, key in self.prediction_arrays(target).items()}

    @classmethod
    def owns_state_dict(cls, keys: set[str]) -> bool:
        """Whether a bare Lightning checkpoint's ``state_dict`` keys identify this class (for checkpoints
        without a recorded class name)."""
        return False

    def __init__(self) -> None:
        super().__init__()
        self._collected: dict[str, list[dict[str, Tensor]]] = {}
        self.last_metrics: dict[str, dict[str, Any]] = {}

    # -- model selection ----------------------------------------------------
    @property
    def monitor(self) -> str:
        """Logged metric to monitor for checkpointing / early stopping / Optuna."""
        return self.hparams.get("monitor") or self.default_monitor

    @property
    def monitor_mode(self) -> str:
        """'max' or 'min' for :attr:`monitor`."""
        return self.hparams.get("monitor_mode") or self.default_monitor_mode

    # -- collection ---------------------------------------------------------
    def collect(self, stage: str, **arrays: Tensor | None) -> None:
        """Store detached CPU copies of per-particle arrays for epoch-end metrics."""
        self._collected.setdefault(stage, []).append(
            {k: v.detach().cpu() for k, v in arrays.items() if v is not None}
        )

    def gathered(self, stage: str) -> dict[str, np.ndarray]:
        """Concatenate what :meth:`collect` stored for ``stage`` (numpy), over
        all processes when running distributed (so every rank selects the same
        alpha/C and logs the same metrics)."""
        parts = self._collected.get(stage, [])
        keys = sorted(parts[0].keys()) if parts else []
        out = {k: torch.cat([p[k] for p in parts]) for k in keys}
        trainer = self._trainer
        if trainer is not None and trainer.world_size > 1:
            keys = trainer.strategy.broadcast(keys, src=0)
            out = {k: self._all_gather_rows(out.get(k)) for k in keys}
        return {k: v.numpy() for k, v in out.items() if v is not None and v.shape[0] > 0}

    def _all_gather_rows(self, t: Tensor | None) -> Tensor:
        """All-gather tensors whose first dimension differs between ranks (pad, gather, trim)."""
        if t is None:
            t = torch.zeros(0)
        n = torch.tensor([t.shape[0]], device=self.device)
        sizes = self.all_gather(n).reshape(-1).tolist()
        pad = max(sizes) - t.shape[0]
        tt = t.to(self.device)
        if pad:
            tt = torch.cat([tt, tt.new_zeros((pad, *tt.shape[1:]))])
        g = self.all_gather(tt)  # (world, max, ...)
        return torch.cat([g[r, :s] for r, s in enumerate(sizes)]).cpu()

    def reset_collection(self, stage: str) -> None:
        self._collected[stage] = []

    def on_validation_epoch_start(self) -> None:
        self.reset_collection("val")

    def on_test_epoch_start(self) -> None:
        self.reset_collection("test")

    @abstractmethod
    def compute_metrics(self, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        """Nested metric dict of one evaluation stage from the collected per-particle arrays."""

    def log_metrics(self, stage: str, metrics: dict[str, Any], prog_bar: tuple[str, ...] = ()) -> None:
        """Log ``metrics`` (nested dict) flattened under ``stage/`` and keep them."""
        self.last_metrics[stage] = metrics
        flat = flatten_metrics(metrics, stage)
        for name, value in flat.items():
            if name.split("/", 1)[1] == "n":
                continue
            self.log(name, value if math.isfinite(value) else float("nan"),
                     prog_bar=name in prog_bar, logger=True, on_epoch=True)

    def finish_eval_epoch(self, stage: str, prog_bar: tuple[str, ...] = ()) -> None:
        """Compute and log metrics for ``stage`` from the collected arrays."""
        arrays = self.gathered(stage)
        if arrays:
            self.log_metrics(stage, self.compute_metrics(arrays), prog_bar=prog_bar)
        self.reset_collection(stage)

    def on_test_epoch_end(self) -> None:
        self.finish_eval_epoch("test")

    # -- misc ----------------------------------------------------------------
    @staticmethod
    def passthrough(batch: Any, mask: Tensor | None = None) -> dict[str, Tensor]:
        """Bookkeeping fields of ``batch`` (optionally masked) for predictions."""
        out = {}
        for k in ID_FIELDS:
            v = get_field(batch, k)
            if v is not None:
                out[k] = v if mask is None else v[mask]
        return out

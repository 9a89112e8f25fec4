"""Shared LightningModule plumbing: batch access, output collection and metric logging.

Every taulc model (ridge, SVM, GNN, MLP, boosted trees) derives from :class:`TaulcModule`, so
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
from omegaconf import DictConfig, ListConfig, OmegaConf
from torch import Tensor

from taulc.models.input_kinds import DeclaredInputs
from taulc.models.metrics import flatten_metrics
from taulc.models.outputs import Output, regression_output, score_output

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
    #: the :class:`~taulc.models.input_kinds.InputKind` that :attr:`input_kind` names, on the class and its
    #: instances: datamodule, test truth and split rows, serving batches, bundle input fields
    inputs = DeclaredInputs()
    #: equal slow/fast particles in the training split unless data.balance_classes says so already
    balance_classes_default: ClassVar[bool] = False
    #: src/taulc/conf/callbacks/<name>.yaml used when the command line chooses none (checkpoint | early_stopping);
    #: both monitor :attr:`monitor` in :attr:`monitor_mode`
    callbacks_default: ClassVar[str] = "checkpoint"
    #: test with the best validation checkpoint instead of the last epoch's weights
    test_with_best_checkpoint: ClassVar[bool] = False
    #: what evaluate.py may use a run of this model for: "hardness", "regression", "attribution"; the model
    #: then satisfies the role's protocol in :mod:`taulc.models.roles` (e.g. ``hardness(x)``)
    report_roles: ClassVar[tuple[str, ...]] = ()
    #: when several runs fill one report role, the lowest priority wins (ridge 0 before GNN/MLP 1)
    report_priority: ClassVar[int] = 0
    #: "C2h" when predictions are invariant under the point group of planar shear flow
    #: (180° about z, the z mirror, inversion); None when not declared
    symmetry: str | None = None
    #: buffers whose shape fitting decides (coefficients of a descriptor width known only from the data,
    #: exported trees): loading a saved state gives them the saved shape instead of refusing the mismatch
    resizable_buffers: ClassVar[tuple[str, ...]] = ()

    @property
    def uses_descriptors(self) -> bool:
        """Whether the model reads descriptor columns ``x`` (the input kind decides: tabular always, graph
        when nodes carry descriptors)."""
        return self.inputs.reads_descriptors(self)

    def selected_hyperparameters(self) -> dict[str, float]:
        """Hyperparameters chosen during fitting (e.g. ridge ``alpha``, SVM ``C``); recorded in metrics.json."""
        return {}

    def outputs(self, target: str = "ln_tau_lc") -> tuple[Output, ...]:
        """The per-particle outputs (:class:`~taulc.models.outputs.Output`: name, ``predict_step`` key, task).

        Default: one regression output ``<target>_pred`` from ``y_pred``."""
        return (regression_output(target),)

    def output_names(self, target: str = "ln_tau_lc") -> tuple[str, ...]:
        """Names of the per-particle arrays :meth:`predict_particles` returns (``taulc-predict`` columns)."""
        return tuple(o.name for o in self.outputs(target))

    def score_output(self, target: str = "ln_tau_lc") -> Output:
        """The output shown in hardness maps: the first classification score, else the first output."""
        return score_output(self.outputs(target))

    def score_name(self, target: str = "ln_tau_lc") -> str:
        """Name of :meth:`score_output`."""
        return self.score_output(target).name

    def feature_scaler(self) -> tuple[Tensor, Tensor] | None:
        """(mean, scale) of the descriptor standardisation the model applies (the predictor measures how far
        a frame's descriptors are from training with it); None when the model keeps none."""
        return None

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
        """Per-particle outputs (:meth:`outputs`) of one validated configuration; ``x``: its descriptors.

        Floating outputs come back as float64, integer ones (predicted classes) as int64."""
        res = self.predict_step(self.inputs.particle_batch(self, positions, species, cell, x, graph_radius), 0)
        out = {}
        for o in self.outputs(target):
            v = res[o.key].detach().cpu()
            out[o.name] = (v.double() if v.is_floating_point() else v.long()).numpy()
        return out

    @classmethod
    def owns_state_dict(cls, keys: set[str]) -> bool:
        """Whether a bare Lightning checkpoint's ``state_dict`` keys identify this class (for checkpoints
        without a recorded class name)."""
        return False

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any) -> None:
        for name in self.resizable_buffers:  # give fitted-size buffers the saved shape before copying
            key = prefix + name
            if key in state_dict and state_dict[key].shape != self._buffers[name].shape:
                self._buffers[name] = torch.empty_like(state_dict[key], device=self._buffers[name].device)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

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
        self._collected.setdefault(stage, []).append({k: v.detach().cpu() for k, v in arrays.items() if v is not None})

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
            self.log(name, value if math.isfinite(value) else float("nan"), prog_bar=name in prog_bar, logger=True, on_epoch=True)

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

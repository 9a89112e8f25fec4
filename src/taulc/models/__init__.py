"""taulc.models: ridge / linear SVM (exact solvers), GNN and MLP as LightningModules.

See ``docs/guide/models.md``. Metrics live in :mod:`taulc.models.metrics`,
save/load without Hydra in :mod:`taulc.models.io`, the name -> class registry in
:mod:`taulc.models.registry` (a model registers itself with ``@register_model``).
"""

from __future__ import annotations

from taulc.models.base import TaulcModule
from taulc.models.gnn import ParticleGNN
from taulc.models.io import MODEL_CLASSES, load_model, save_model
from taulc.models.linear import LinearSVM, RidgeRegressor
from taulc.models.mlp import DescriptorMLP
from taulc.models.registry import model_class, register_model

__all__ = [
    "TaulcModule",
    "RidgeRegressor",
    "LinearSVM",
    "ParticleGNN",
    "DescriptorMLP",
    "MODEL_CLASSES",
    "register_model",
    "model_class",
    "save_model",
    "load_model",
]

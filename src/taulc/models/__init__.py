"""taulc.models: ridge / linear SVM (exact solvers), GNN and MLP as LightningModules, boosted trees.

See ``docs/guide/models.md``. The model contract is :class:`taulc.models.base.TaulcModule` with its
input kinds (:mod:`taulc.models.input_kinds`), declared outputs (:mod:`taulc.models.outputs`) and report
roles (:mod:`taulc.models.roles`). Metrics live in :mod:`taulc.models.metrics`, save/load without Hydra
in :mod:`taulc.models.io`, the name -> class registry in :mod:`taulc.models.registry` (a model registers
itself with ``@register_model``).

The package imports its members lazily (PEP 562), so that ``taulc.models.metrics``
(and :mod:`taulc.evaluation` over it) loads without Lightning and PyTorch Geometric; Hydra's
``_target_: taulc.models.LinearSVM`` resolves through the same attribute access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from taulc.models.base import TaulcModule
    from taulc.models.gnn import ParticleGNN
    from taulc.models.io import MODEL_CLASSES, load_model, save_model
    from taulc.models.mlp import DescriptorMLP
    from taulc.models.registry import model_class, register_model
    from taulc.models.ridge import RidgeRegressor
    from taulc.models.svm import LinearSVM

_WHERE = {
    "TaulcModule": "base",
    "RidgeRegressor": "ridge",
    "LinearSVM": "svm",
    "ParticleGNN": "gnn",
    "DescriptorMLP": "mlp",
    "MODEL_CLASSES": "io",
    "save_model": "io",
    "load_model": "io",
    "register_model": "registry",
    "model_class": "registry",
}

__all__ = [
    "TaulcModule",
    "RidgeRegressor",
    "LinearSVM",
    "ParticleGNN",
    "DescriptorMLP",
    "MODEL_CLASSES",
    "save_model",
    "load_model",
    "register_model",
    "model_class",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

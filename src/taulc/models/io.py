"""Model-agnostic save/load without Hydra.

A saved model is one ``torch.save`` file holding the class name (resolved through
:mod:`taulc.models.registry`, so older recorded names keep loading via declared
``aliases``), the constructor hyperparameters recorded by
Lightning's ``save_hyperparameters`` (converted to plain Python containers)
and the ``state_dict`` (fitted coefficients, standardisation statistics,
network weights). :func:`load_model` rebuilds the module from that alone and
reads it with ``torch.load(weights_only=True)``, so loading never unpickles
arbitrary objects. Lightning checkpoints (``*.ckpt``) work as well:
``ParticleGNN.load_from_checkpoint(path)`` or :func:`load_model` on them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from taulc.fileio import atomic_write_with
from taulc.models.base import TaulcModule, plain
from taulc.models.registry import MODEL_CLASSES, discover_models, model_class, model_class_or_none

__all__ = ["MODEL_CLASSES", "save_model", "load_model", "plain"]

FORMAT = "taulc-model/1"


def model_payload(model: TaulcModule) -> dict[str, Any]:
    """The dict :func:`save_model` writes (for embedding in a predictor bundle)."""
    name = type(model).__name__
    if model_class_or_none(name) is not type(model):
        raise TypeError(
            f"cannot save {name}: not a registered model ({sorted(MODEL_CLASSES)}); "
            "decorate the class with @taulc.models.registry.register_model"
        )
    return {
        "format": FORMAT,
        "class": name,
        "hparams": plain(dict(model.hparams)),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }


def save_model(model: TaulcModule, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` to ``path`` atomically (temp file + rename)."""
    payload = model_payload(model)
    return atomic_write_with(path, lambda tmp: torch.save(payload, tmp))


def model_from_payload(payload: dict[str, Any]) -> TaulcModule:
    """Rebuild a module from :func:`model_payload`'s dict."""
    model = model_class(payload.get("class"))(**payload.get("hparams", {}))
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model


def load_model(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> TaulcModule:
    """Load a model saved by :func:`save_model` or a Lightning checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # report the file and what was expected
        raise ValueError(f"{path}: not a taulc model file or Lightning checkpoint ({exc})") from exc
    if isinstance(payload, dict) and payload.get("format") == FORMAT:
        return model_from_payload(payload)
    if isinstance(payload, dict) and "state_dict" in payload and "hyper_parameters" in payload:
        hp = payload["hyper_parameters"]
        cls_name = hp.pop("_class_name", None) or _guess_class(payload["state_dict"])
        return model_from_payload({"class": cls_name, "hparams": hp, "state_dict": payload["state_dict"]})
    raise ValueError(f"{path}: expected a dict with format={FORMAT!r} or a Lightning checkpoint")


def _guess_class(state_dict: dict[str, Any]) -> str:
    """The registered class whose :meth:`~taulc.models.base.TaulcModule.owns_state_dict` claims these keys."""

    discover_models()
    keys = set(state_dict)
    found = [name for name, cls in MODEL_CLASSES.items() if cls.owns_state_dict(keys)]
    if len(found) != 1:
        raise ValueError(f"cannot tell the model class from the checkpoint's state_dict (candidates: {found})")
    return found[0]

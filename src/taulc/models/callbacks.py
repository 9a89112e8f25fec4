"""Lightning callbacks of a training run: the ``early_stopping`` schema and the ``callbacks`` config group.

:func:`callbacks_config` picks the group's file (the command line's, else the model's ``callbacks_default``);
:func:`build_callbacks` instantiates it, every callback monitoring the model's validation score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from taulc.config import from_mapping
from taulc.errors import ConfigError
from taulc.paths import conf_dir

__all__ = ["EarlyStoppingSpec", "callbacks_config", "build_callbacks"]


@dataclass(frozen=True)
class EarlyStoppingSpec:
    """The ``early_stopping`` node of ``src/taulc/conf/train.yaml`` (read by ``src/taulc/conf/callbacks/early_stopping.yaml``):
    stop after ``patience`` epochs without a validation improvement of at least ``min_delta``; 0 or null = off."""

    patience: int | None = 10
    min_delta: float = 1.0e-3

    def __post_init__(self) -> None:
        if self.patience is not None and self.patience < 0:
            raise ConfigError(f"field 'early_stopping.patience' must be >= 0, got {self.patience!r}")
        if not self.min_delta >= 0:
            raise ConfigError(f"field 'early_stopping.min_delta' must be >= 0, got {self.min_delta!r}")

    @classmethod
    def from_config(cls, node: Mapping[str, Any] | None) -> EarlyStoppingSpec:
        return from_mapping(cls, node, "early_stopping")


def callbacks_config(c: Mapping[str, Any], model_cls: Any) -> dict[str, Any]:
    """The ``callbacks`` group: chosen on the command line (``callbacks=early_stopping``), else the file the
    model declares (``callbacks_default``: ``src/taulc/conf/callbacks/<name>.yaml``), resolved against the run's config
    (``${early_stopping.patience}``)."""

    if c.get("callbacks"):
        return dict(c["callbacks"])
    path = conf_dir() / "callbacks" / f"{model_cls.callbacks_default}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{model_cls.__name__}.callbacks_default = {model_cls.callbacks_default!r}: {path} not found")
    root = OmegaConf.create({k: v for k, v in c.items() if k != "callbacks"})
    root.callbacks = OmegaConf.load(path)
    return dict(OmegaConf.to_container(root.callbacks, resolve=True) or {})


def build_callbacks(cb_cfg: Mapping[str, Any], model: Any, checkpoint_dir: Path) -> list[Any]:
    """Instantiate the callbacks group; each monitors the model's :attr:`monitor` / :attr:`monitor_mode`.

    ``model_checkpoint`` (required, first) writes to ``checkpoint_dir`` (:attr:`taulc.runs.Run.checkpoints_dir`
    in training); a callback whose ``patience``
    is 0 or null is left out (``early_stopping.patience=0`` switches early stopping off)."""
    import hydra

    if "model_checkpoint" not in cb_cfg:
        raise KeyError(f"callbacks: 'model_checkpoint' is required (model selection); got {sorted(cb_cfg)}")
    out = []
    for key in ("model_checkpoint", *[k for k in cb_cfg if k != "model_checkpoint"]):
        spec = dict(cb_cfg[key] or {})
        if not spec or ("patience" in spec and not spec["patience"]):
            continue
        extra = {"dirpath": checkpoint_dir} if key == "model_checkpoint" else {}
        out.append(hydra.utils.instantiate(spec, monitor=model.monitor, mode=model.monitor_mode, **extra))
    return out

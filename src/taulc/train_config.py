"""The typed root of ``src/taulc/conf/train.yaml`` (:class:`TrainConfig`), parsed once by :func:`taulc.training.train`.

Each node goes through its own schema, which checks its ranges and names the field: ``target`` ->
:class:`taulc.evaluation.skill.TargetSpec`, ``split`` -> :class:`taulc.data.splits.SplitSpec`, ``data`` ->
:class:`taulc.data.train_spec.TrainDataSpec`, ``early_stopping`` -> :class:`taulc.models.callbacks.EarlyStoppingSpec`.
The ``model``, ``trainer`` and ``logger`` nodes stay Hydra instantiation targets (only ``trainer.max_epochs`` is
checked here). What needs the inputs (the checkpoint file, the dataset) is checked by
:func:`taulc.validate.check_train_config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from taulc.config import check_number, check_unknown_top_level
from taulc.data.splits import SplitSpec
from taulc.data.train_spec import TrainDataSpec
from taulc.errors import ConfigError
from taulc.evaluation.skill import TargetSpec, target_spec
from taulc.models.callbacks import EarlyStoppingSpec

__all__ = ["TrainConfig"]


@dataclass(frozen=True)
class TrainConfig:
    """What ``train.py`` reads of its composed config, typed; built by :meth:`from_config`."""

    target: TargetSpec
    split: SplitSpec
    data: TrainDataSpec
    early_stopping: EarlyStoppingSpec
    seed: int = 0
    max_epochs: int | None = None  # trainer.max_epochs
    ckpt_path: str | None = None
    results_table: str | None = None
    run_dir: str | None = None  # null: Hydra's working directory
    optimized_metric: str | None = None  # null: the model's own monitor
    model_target: str = ""  # model._target_, the class whose declarations decide inputs and callbacks
    logger: Mapping[str, Any] | None = None  # a Hydra target (``logger=csv|tensorboard|...``), checked by its builder

    def __post_init__(self) -> None:
        check_number(self.seed, "seed", lo=0, integer=True)
        if self.max_epochs is not None:
            check_number(self.max_epochs, "trainer.max_epochs", lo=1, integer=True)

    @classmethod
    def from_config(cls, c: Mapping[str, Any]) -> TrainConfig:
        """Parse the composed config (plain containers) once; the first bad field raises a ConfigError naming it."""
        check_unknown_top_level(c, "train", "train.py")
        target = target_spec(c.get("target"))
        seed = c.get("seed", 0)
        check_number(seed, "seed", lo=0, integer=True)
        model = c.get("model")
        if not isinstance(model, Mapping):
            raise ConfigError("field 'model' is missing (choose model=svm | ridge | hgb | mlp | gnn)")
        split = c.get("split")
        if not isinstance(split, Mapping) or "kind" not in split:
            raise ConfigError("field 'split' is missing (choose split=config | rate | random)")
        return cls(
            target=target,
            seed=int(seed),
            split=SplitSpec.from_config(split),
            data=TrainDataSpec.from_config(c.get("data")),
            max_epochs=(c.get("trainer") or {}).get("max_epochs"),
            early_stopping=EarlyStoppingSpec.from_config(c.get("early_stopping")),
            ckpt_path=None if c.get("ckpt_path") is None else str(c["ckpt_path"]),
            results_table=str(c["results_table"]) if c.get("results_table") else None,
            run_dir=str(c["run_dir"]) if c.get("run_dir") else None,
            optimized_metric=str(c["optimized_metric"]) if c.get("optimized_metric") else None,
            model_target=str(model.get("_target_", "")),
            logger=c.get("logger"),
        )

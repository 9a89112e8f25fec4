"""The Lightning Trainer's surroundings in a training run: the ``logger`` group, exact-solver detection and
the console (one log stream, Lightning's noise silenced)."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from taulc.errors import ConfigError

__all__ = [
    "LOGGER_MODULES",
    "check_logger_config",
    "build_logger",
    "is_exact_solver",
    "one_lightning_log_stream",
    "quiet_lightning",
]


#: logger group option -> the module its Lightning logger needs (src/taulc/conf/logger/)
LOGGER_MODULES = {"TensorBoardLogger": ("tensorboard", "tensorboardX"), "WandbLogger": ("wandb",), "MLFlowLogger": ("mlflow",)}


def check_logger_config(logger_cfg: Mapping[str, Any] | None) -> None:
    """Refuse ``logger=<x>`` before any work when the package that logger writes with is not installed."""

    if not logger_cfg:
        return
    target = str(logger_cfg.get("_target_", ""))
    if not target:
        raise ConfigError(
            "field 'logger._target_' is missing: expected a Lightning logger class "
            "(src/taulc/conf/logger/: csv | tensorboard | wandb | mlflow, or ~logger for none)"
        )
    mods = LOGGER_MODULES.get(target.rsplit(".", 1)[-1], ())
    if mods and not any(importlib.util.find_spec(m) is not None for m in mods):
        raise ConfigError(
            f"logger {target.rsplit('.', 1)[-1]} needs the '{mods[0]}' package, which is not installed: "
            f"`pip install {mods[0]}`, or choose another logger (logger=csv is the default)"
        )


def build_logger(logger_cfg: Mapping[str, Any] | None, run_dir: Path) -> Any:
    """The Lightning logger of the ``logger`` group, writing under the run directory (``False``: none)."""
    import hydra

    if not logger_cfg:
        return False
    cfg = dict(logger_cfg)
    if cfg.get("save_dir") is None:
        cfg["save_dir"] = str(run_dir)
    if str(cfg.get("_target_", "")).endswith("MLFlowLogger") and not cfg.get("tracking_uri"):
        cfg["tracking_uri"] = (Path(run_dir).resolve() / "mlruns").as_uri()
    return hydra.utils.instantiate(cfg)


def is_exact_solver(model: Any) -> bool:
    """A model solved in closed form (ridge, SVM): no trainable parameters, no optimizer."""
    return not getattr(model, "automatic_optimization", True) and not any(p.requires_grad for p in model.parameters())


#: Lightning messages that say nothing to a user of taulc (library internals or meaningless for exact solvers)
_LIGHTNING_NOISE = (
    r".*isinstance\(treespec, LeafSpec\)",  # Lightning's own use of a torch API it deprecates
    r".*configure_optimizers. returned .None.",  # exact solvers have no optimizer by design
    r".*smaller than the logging interval",  # one exact-solve epoch
    r".*does not have many workers",  # the tabular loaders are in memory
)


class _DropMessages(logging.Filter):
    def __init__(self, *needles: str) -> None:
        super().__init__()
        self.needles = needles

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        return not any(n in msg for n in self.needles)


def one_lightning_log_stream() -> None:
    """Lightning adds its own console handler to ``lightning.pytorch``/``lightning.fabric`` when it is
    imported before logging is configured; under Hydra (root handlers present) every line then appears
    twice. Drop those handlers so Lightning's lines go through the root's (tqdm-aware) handler once."""
    if not logging.getLogger().handlers:
        return
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        lg = logging.getLogger(name)
        for h in [h for h in lg.handlers if type(h) is logging.StreamHandler]:
            lg.removeHandler(h)
        lg.propagate = True


def quiet_lightning(exact: bool) -> Any:
    """Context in which Lightning's noise is silenced: its internal deprecation warnings and the litlogger
    tip always; for exact solvers also the no-optimizer and logging-interval warnings and the
    accelerator lines (GPU/TPU available), which mean nothing for a closed-form solve."""

    @contextlib.contextmanager
    def _ctx() -> Any:
        names = (
            "lightning.pytorch.utilities.rank_zero",
            "lightning.pytorch.accelerators.cuda",
            "lightning.fabric.utilities.seed",
        )
        needles = ("Tip: For seamless cloud logging",)
        if exact:
            needles += ("GPU available", "TPU available", "HPU available")
        filt = _DropMessages(*needles)
        loggers = [logging.getLogger(n) for n in names]
        for lg in loggers:
            lg.addFilter(filt)
        try:
            with warnings.catch_warnings():
                for i, pattern in enumerate(_LIGHTNING_NOISE):
                    if i == 0 or exact:
                        warnings.filterwarnings("ignore", message=pattern)
                yield
        finally:
            for lg in loggers:
                lg.removeFilter(filt)

    return _ctx()

"""``taulc-train`` / ``python train.py`` / ``python -m taulc.train``: train one structure -> dynamics model.

Thin Hydra entry point (``taulc/conf/train.yaml``); the logic lives in :mod:`taulc.training`.
Returns the validation objective so that ``hparams_search=...`` (Optuna) can optimise it.
"""

from __future__ import annotations

from typing import Any

from omegaconf import open_dict

from taulc.errors import exit_on_error
from taulc.hydra_app import hydra_entry
from taulc.runs import discard_refused_run
from taulc.training import train

__all__ = ["main"]


def _train(cfg: Any) -> float:
    from hydra.core.hydra_config import HydraConfig

    with open_dict(cfg):
        cfg.run_dir = HydraConfig.get().runtime.output_dir
    with exit_on_error("train.py", cleanup=lambda: discard_refused_run(cfg.run_dir)):  # refused input: exit 2
        return train(cfg)


def main() -> Any:
    """Console entry point; Hydra overrides on the command line (``model=svm``, ``--help``, ``--version``)."""

    return hydra_entry(_train, "train", "taulc-train")


if __name__ == "__main__":
    main()

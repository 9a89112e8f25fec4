"""Train a structure -> dynamics model: ``python train.py model=svm`` (ridge | svm | gnn | mlp).

Thin Hydra entry point; the logic lives in :mod:`taulc.training`.  Returns the
validation objective so that ``hparams_search=...`` (Optuna) can optimise it.
"""

from __future__ import annotations

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

import taulc  # noqa: F401  (loads the MPI library for LAMMPS)
from taulc.paths import conf_dir


@hydra.main(config_path=str(conf_dir()), config_name="train", version_base="1.3")
def main(cfg: DictConfig) -> float:
    from taulc.errors import exit_on_error  # noqa: PLC0415
    from taulc.fileio import discard_refused_run  # noqa: PLC0415
    from taulc.training import train  # noqa: PLC0415

    with open_dict(cfg):
        cfg.run_dir = HydraConfig.get().runtime.output_dir
    with exit_on_error("train.py", cleanup=lambda: discard_refused_run(cfg.run_dir)):  # refused input: exit 2
        return train(cfg)


if __name__ == "__main__":
    main()

"""Evaluate trained runs the way the core paper does: ``python evaluate.py run=latest``.

Thin Hydra entry point; the logic lives in :mod:`taulc.analysis.report`. Writes a report
directory (report.md, figures/*.png, tables/*.csv, summary.json) and prints a short summary.
"""

from __future__ import annotations

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

import taulc  # noqa: F401  (loads the MPI library for LAMMPS)
from taulc.paths import conf_dir


@hydra.main(config_path=str(conf_dir()), config_name="evaluate", version_base="1.3")
def main(cfg: DictConfig) -> None:
    from taulc.analysis.report import evaluate  # noqa: PLC0415
    from taulc.errors import exit_on_error  # noqa: PLC0415
    from taulc.fileio import discard_refused_run  # noqa: PLC0415

    out = HydraConfig.get().runtime.output_dir
    with exit_on_error("evaluate.py", cleanup=lambda: discard_refused_run(out)):  # refused input: exit 2
        evaluate(cfg, output_dir=out)


if __name__ == "__main__":
    main()

"""``python -m taulc.build dataset=<name>``: build a labelled descriptor/graph dataset.

Composes ``src/taulc/conf/build.yaml`` (system + labels + descriptor + dataset) and runs
:class:`taulc.data.builder.DatasetBuilder`.  Parallel shards: run
``python -m taulc.build -m dataset=demo 'build.only_rates=[0.001],[0.01]' hydra/launcher=joblib``
and then once more without ``only_rates`` to assemble the manifest.
"""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from taulc.data.builder import DatasetBuilder
from taulc.errors import exit_on_error
from taulc.hydra_app import hydra_entry
from taulc.paths import default_data_root
from taulc.runs import discard_refused_run

log = logging.getLogger("taulc.build")


def dataset_root(cfg: DictConfig) -> Path:
    root = Path(cfg.data_root) if cfg.get("data_root") else default_data_root()
    return root / str(cfg.dataset.name)


def run(cfg: DictConfig) -> Path | None:
    """Build the dataset of a composed ``src/taulc/conf/build.yaml``; the manifest path (``None`` with ``build.only_rates``)."""

    builder = DatasetBuilder(OmegaConf.to_container(cfg, resolve=True), dataset_root(cfg))
    b = builder.spec.build  # typed and checked (taulc.data.specs.BuildSpec)
    return builder.build(b.stages, b.only_rates, force=b.force, only_roles=b.only_roles)


def _build(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    run_dir = HydraConfig.get().runtime.output_dir
    with exit_on_error("taulc-build", cleanup=lambda: discard_refused_run(run_dir)):  # refused input: exit 2
        path = run(cfg)
    if path is not None:
        log.info("manifest: %s", path)


def main() -> None:
    """Console entry point (``taulc-build``); Hydra overrides on the command line (``--help``, ``--version``)."""

    hydra_entry(_build, "build", "taulc-build")


if __name__ == "__main__":
    main()

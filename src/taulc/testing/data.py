"""The tiny but real dataset the model contract trains on: 300 Kob-Andersen particles, LAMMPS + ICE labels.

Composed from the package's Hydra configs exactly as the entry points compose them, built once per
process and base directory (about a minute on one core).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import open_dict

from taulc.build import run
from taulc.data.dataset import load_shard
from taulc.data.manifest import read_manifest
from taulc.paths import conf_dir
from taulc.runs import Run

__all__ = [
    "TINY_OVERRIDES",
    "TRAIN_OVERRIDES",
    "compose",
    "train_cfg",
    "tiny_build_cfg",
    "build_tiny_dataset",
    "shard",
    "tilted_shard",
]

TINY_OVERRIDES = [
    "system.n_atoms=300",
    "dataset.name=tiny",
    "dataset.rates=[0.0,0.1]",
    "dataset.n_configs=3",
    "dataset.equilibration_time=4",
    "dataset.transient_time=1",
    "dataset.transient_time_max=1",
    "dataset.spacing=2",
    "dataset.sample_interval=0.1",
    "dataset.reference_time=4",
    "dataset.reference_runs=1",
    "labels.n_replicas=2",
    "labels.t_max=3",
    "labels.sample_interval=0.05",
    "labels.lc2=0.05",
    "labels.tau_2=1.0",
    "labels.tau_alpha=2.0",
    "engine.n_threads=1",
    "build.progress=false",
]
"""``build`` overrides of the tiny dataset: equilibrium + one shear rate, 3 configurations each, 2 ICE replicas."""

TRAIN_OVERRIDES = ["dataset=demo", "descriptor=gl", *(o for o in TINY_OVERRIDES if not o.startswith(("engine.", "build.")))]
"""The same overrides for ``train`` (which has no engine or build groups): the tiny dataset is a variant of
``dataset=demo`` (the build's default group), read with the snapshot descriptor ``gl`` (it stores no cage positions)."""


def compose(config_name: str, overrides: list[str]) -> Any:
    """Compose a taulc Hydra config exactly as the entry points do."""
    from hydra import compose as hcompose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        return hcompose(config_name=config_name, overrides=overrides)


def train_cfg(
    data_root: Path,
    run_dir: Path,
    overrides: Sequence[str] = (),
    *,
    results_table: Path | None = None,
    dataset: Sequence[str] = TRAIN_OVERRIDES,
) -> Any:
    """The ``train`` config of a quiet test run writing ``run_dir``: the dataset under ``data_root`` (default: the
    tiny one, ``dataset``), no progress bar or model summary, ``results_table`` (default: next to ``run_dir``)."""
    cfg = compose(
        "train",
        [
            f"data_root={data_root}",
            *dataset,
            f"results_table={results_table or Run(run_dir).results_path}",
            "trainer.enable_progress_bar=false",
            "trainer.enable_model_summary=false",
            *overrides,
        ],
    )
    with open_dict(cfg):
        cfg.run_dir = str(run_dir)
    return cfg


def tiny_build_cfg(data_root: Path, extra: list[str] | None = None) -> Any:
    """The ``build`` config of the tiny dataset under ``data_root``."""
    return compose("build", [f"data_root={data_root}", *TINY_OVERRIDES, *(extra or [])])


@functools.cache
def build_tiny_dataset(base: str) -> Path:
    """``<base>/tiny_data/tiny``, built on the first call for ``base`` (a pytest ``tmp_path_factory.getbasetemp()``)."""

    root = Path(base) / "tiny_data"
    root.mkdir(parents=True, exist_ok=True)
    run(tiny_build_cfg(root))
    return root / "tiny"


def shard(root: Path, config_id: int) -> dict[str, np.ndarray]:
    """The arrays of configuration ``config_id`` of a built dataset."""

    return load_shard(root, read_manifest(root)["shards"][config_id])


def tilted_shard(root: Path) -> dict[str, np.ndarray]:
    """A sheared (tilted-cell) configuration of a built dataset."""

    for k, _s in enumerate(read_manifest(root)["shards"]):
        z = shard(root, k)
        if abs(z["cell"][1, 0]) > 1e-6:
            return z
    raise AssertionError("no tilted configuration in the dataset")

"""Shared fixtures: a tiny but real dataset (LAMMPS + ICE labels), composed from src/taulc/conf/ like users do."""

from __future__ import annotations

from pathlib import Path

import pytest

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


def compose(config_name: str, overrides: list[str]):
    """Compose a taulc Hydra config exactly as the entry points do."""
    from hydra import compose as hcompose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from taulc.paths import conf_dir

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        return hcompose(config_name=config_name, overrides=overrides)


def tiny_build_cfg(data_root: Path, extra: list[str] | None = None):
    return compose("build", [f"data_root={data_root}", *TINY_OVERRIDES, *(extra or [])])


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """A 300-particle dataset: equilibrium + one shear rate, 3 configurations each, 2 ICE replicas."""
    from taulc.build import run

    root = tmp_path_factory.mktemp("data")
    cfg = tiny_build_cfg(root)
    run(cfg)
    return root / "tiny"

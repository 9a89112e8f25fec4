"""Shared helpers for the predict tests (tests/unit/predict/, tests/integration/): one tiny training run per model type, configurations, files."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from taulc.testing.data import TINY_OVERRIDES, compose, tilted_shard, train_cfg

MODELS = {
    "svm": ["model=svm", "model.C=0.1"],
    "ridge": ["model=ridge"],
    "gnn": ["model=gnn", "model.hidden=16", "model.n_layers=2", "trainer.max_epochs=2"],
}


@functools.cache
def trained_runs(dataset: str, base: str) -> dict[str, Path]:
    """Train svm, ridge and gnn once per test session on the tiny dataset; run dirs hold predictor.pt."""

    from taulc.training import train

    root, out = Path(dataset), Path(base)
    runs = {}
    for name, extra in MODELS.items():
        run = out / name
        train(train_cfg(root.parent, run, extra))
        runs[name] = run
    return runs


def replicate(pos: np.ndarray, sp: np.ndarray, cell: np.ndarray, n: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n x n x n periodic supercell (keeps the upper-triangular tilt form): big enough for the 2 x 5.5 width check."""
    shifts = np.array([(i, j, k) for i in range(n) for j in range(n) for k in range(n)], dtype=float) @ cell
    big = (pos[None, :, :] + shifts[:, None, :]).reshape(-1, 3)
    return big, np.tile(sp, len(shifts)), cell * n


def big_config(root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """2 x 2 x 2 replica of a tilted tiny configuration (2400 particles, widths > 11)."""
    z = tilted_shard(root)
    return replicate(z["positions"], z["species"], z["cell"])


def write_xyz(path: Path, pos: np.ndarray, sp: np.ndarray, cell: np.ndarray, meta: dict | None = None) -> Path:
    """taulc's own full-precision extxyz (species as Ni/P symbols)."""
    from taulc.md.configuration import Configuration, write_configuration

    return write_configuration(path, Configuration(positions=pos, species=sp, cell=cell, velocities=None, meta=dict(meta or {})))


def write_dump(path: Path, pos: np.ndarray, sp: np.ndarray, cell: np.ndarray, data: Path | None = None) -> Path:
    """A LAMMPS text dump written by LAMMPS itself (through the engine), full precision, sorted by id;
    with ``data``, also a LAMMPS data file (``write_data``) of the same configuration."""
    from omegaconf import OmegaConf

    from taulc.md.configuration import Configuration
    from taulc.md.lammps_engine import LammpsEngine
    from taulc.md.system import SystemSpec

    cfg = OmegaConf.to_container(compose("build", [f"data_root={path.parent}", *TINY_OVERRIDES]), resolve=True)
    cfg["system"]["n_atoms"] = len(sp)
    eng = LammpsEngine(SystemSpec.from_config(cfg["system"]), n_threads=1)
    try:
        eng.load(Configuration(positions=pos, species=sp, cell=cell, velocities=None, meta={}))
        eng.commands(f"write_dump all custom {path} id type x y z modify sort id format float %.17g")
        if data is not None:
            eng.commands(f"write_data {data} nocoeff")
    finally:
        eng.close()
    return path


def listing(d: Path) -> list[str]:
    """Every file under ``d`` (hidden temporaries included)."""
    return sorted(str(p.relative_to(d)) for p in d.rglob("*")) if d.exists() else []

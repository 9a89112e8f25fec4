"""Positions of the cage for new samples: what a predictor trained on ``gl_is`` / ``gl_cage`` needs.

A model trained on descriptors of the inherent state or of the cage-averaged positions
(:mod:`taulc.md.cage`, ``dataset.positions``) must see the same positions for a new sample,
so the predictor recomputes them exactly as the builder did: LAMMPS ``minimize`` at fixed
cell for the inherent state, and a shear-off MD run of the training ``window`` with fresh
Maxwell-Boltzmann velocities for the cage average.  The bundle records the recipe
(``inputs.positions``: window, frame spacing, minimiser, the pair potential, time step,
thermostat damping and the training temperature); the sample's temperature comes from, in
this order, ``--temperature``, a temperature the file records (``taulc.data.ingest.TEMPERATURE_KEYS``), the kinetic
temperature of the file's velocities, and last the training temperature (logged as an
assumption).  Needs LAMMPS (the ``lammps`` package); a few seconds per 1500-particle frame.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from taulc.data.ingest import recorded_temperature
from taulc.data.specs import CagePositionsSpec
from taulc.md.cage import cage_positions
from taulc.md.configuration import Configuration
from taulc.md.lammps_engine import LammpsEngine
from taulc.md.system import SystemSpec

log = logging.getLogger(__name__)

__all__ = ["positions_recipe", "sample_temperature", "cage_position_sets"]

#: Velocity seed of the cage-averaging run of a served sample (fixed: a prediction is reproducible).
SERVE_SEED = 20251


def positions_recipe(sets: list[str], dataset_positions: Mapping[str, Any] | None, system: Mapping[str, Any]) -> dict[str, Any]:
    """``inputs.positions`` of a bundle: the position sets a descriptor reads and how the dataset made them."""

    pos = CagePositionsSpec(**{k: v for k, v in dict(dataset_positions or {}).items()})
    pot = {k: system[k] for k in ("epsilon", "sigma", "cutoff", "cutoff_mode", "dt", "tdamp", "mass") if k in system}
    return {
        "sets": list(sets),
        "window": float(pos.window),
        "sample_every": int(pos.sample_every),
        "minimize_style": pos.minimize_style,
        "ftol": float(pos.ftol),
        "temperature": float(system.get("temperature", 0.6)),
        "system": pot,
    }


def sample_temperature(
    recipe: Mapping[str, Any], *, flag: float | None = None, info: Mapping[str, Any] | None = None, kinetic: float | None = None
) -> tuple[float, str]:
    """Temperature of the cage-averaging run and where it came from (module docstring order)."""

    if flag is not None:
        return float(flag), "--temperature"
    rec = recorded_temperature(info or {})
    if rec is not None and rec[0] > 0:
        return rec[0], f"the file's '{rec[1]}'"
    if kinetic is not None and np.isfinite(kinetic) and kinetic > 0:
        return float(kinetic), "the kinetic temperature of the file's velocities"
    return float(recipe["temperature"]), "the training temperature (the file records none; pass --temperature)"


def cage_position_sets(
    recipe: Mapping[str, Any], positions: np.ndarray, species: np.ndarray, cell: np.ndarray, temperature: float
) -> dict[str, np.ndarray]:
    """``{"inherent": (N, 3), "cage": (N, 3)}`` (the sets the recipe names) of one validated frame."""

    n = len(species)
    vol = abs(float(np.linalg.det(cell)))
    pot = dict(recipe.get("system") or {})
    system = SystemSpec(
        name="served-sample",
        n_atoms=n,
        density=n / vol,
        temperature=float(temperature),
        fraction_small=float(np.mean(np.asarray(species) == 1)),
        **pot,
    )
    conf = Configuration(
        positions=np.asarray(positions, dtype=np.float64), species=np.asarray(species), cell=np.asarray(cell, dtype=np.float64)
    )
    sets = list(recipe["sets"])
    with LammpsEngine(system, n_threads=1) as eng:
        out = cage_positions(
            eng,
            conf,
            window=float(recipe["window"]),
            seed=SERVE_SEED,
            sample_every=int(recipe["sample_every"]),
            style=str(recipe["minimize_style"]),
            ftol=float(recipe["ftol"]),
            inherent="inherent" in sets,
            cage="cage" in sets,
        )
    res = {}
    if "inherent" in sets:
        res["inherent"] = np.asarray(out["positions_inherent"], dtype=np.float64)
    if "cage" in sets:
        res["cage"] = np.asarray(out["positions_cage"], dtype=np.float64)
    return res

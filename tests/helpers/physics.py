"""Shared helpers for the inherent-state physics tests: tiny KA inherent states made by LAMMPS."""

from __future__ import annotations

import numpy as np

from taulc.md import Configuration, LammpsEngine, SystemSpec


def tiny_system(n: int = 250, cutoff_mode: str = "global") -> SystemSpec:
    return SystemSpec(
        name="tiny", n_atoms=n, density=1.2, temperature=0.6, cutoff_mode=cutoff_mode, melt_time=1.0, equilibration_time=2.0
    )


def tiny_inherent_state(system: SystemSpec, seed: int = 3, tilt: float = 0.0, ftol: float = 1e-11) -> Configuration:
    """A random KA liquid state (short melt), tilted by ``tilt`` (xy / Ly), minimised by LAMMPS CG."""
    with LammpsEngine(system, n_threads=1) as eng:
        eng.create(seed)
        eng.thermalize(seed + 1, 1.0)
        from taulc.md import Segment

        eng.run([Segment(1.0, 0.0, record=False)])
        conf = eng.snapshot()
        if tilt:
            cell = conf.cell.copy()
            frac = np.linalg.solve(cell.T, conf.positions.T).T
            cell[1, 0] = tilt * cell[1, 1]
            conf = Configuration(frac @ cell, conf.species, cell, None, conf.meta)
        return eng.minimize(conf, ftol=ftol)

"""Positions of the cage: the inherent state and the short-time cage average of a configuration.

Descriptors of the instantaneous (thermal) snapshot mix the structure of the cage with the
vibrations inside it.  Two cheap ways to see the cage itself, both stored per configuration
at build time (``dataset.positions``, :class:`taulc.data.specs.CagePositionsSpec`) and redone
by the predictor for new samples:

* **inherent state** (IS): the local energy minimum reached by steepest-descent-like
  minimisation at fixed cell (tilt kept), LAMMPS ``minimize`` (Stillinger & Weber 1982,
  "Hidden structure in liquids");
* **cage average**: ``r̄_i = (1/F) Σ_f r_i(t_f)``, the mean of the unwrapped positions over
  a short shear-off MD run of length ``window`` from the configuration with fresh
  Maxwell-Boltzmann velocities (Alkemade, Boattini, Filion & Smallenburg 2023, "Improving
  the prediction of glassy dynamics by pinpointing the local cage").  The window must be far
  below the first cage jumps, so that it averages vibrations, not rearrangements
  (:func:`jumps_inside_window` measures that from the ICE first-jump times).

Both functions take any :class:`taulc.md.engine.MDEngine` (the inherent state needs one that
minimises: LAMMPS).  Returned positions are wrapped into the configuration's cell.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from taulc.md.configuration import Configuration
from taulc.md.engine import Segment, _wrap

log = logging.getLogger(__name__)

__all__ = ["inherent_positions", "cage_average_positions", "cage_positions", "jumps_inside_window"]


def inherent_positions(
    engine: Any, conf: Configuration, *, style: str = "cg", ftol: float = 1e-6
) -> tuple[np.ndarray, dict[str, float]]:
    """Inherent-state positions of ``conf`` (N, 3) and the minimiser's record (energy, |F|, iterations)."""
    out = engine.minimize(conf, style=style, etol=0.0, ftol=float(ftol))
    info = dict(out.meta.get("minimize", {}))
    return _wrap(np.asarray(out.positions, dtype=np.float64), np.asarray(conf.cell, dtype=np.float64)), info


def cage_average_positions(engine: Any, conf: Configuration, *, window: float, seed: int, sample_every: int = 1) -> np.ndarray:
    """Mean unwrapped position of every particle over a shear-off run of ``window`` (N, 3), wrapped.

    The run starts at ``conf``'s positions and cell with fresh Maxwell-Boltzmann velocities at
    the system temperature from ``seed``; frames every ``sample_every`` MD steps, frame 0 (the
    configuration itself) included.
    """
    base = conf.copy()
    base.meta["time"] = 0.0
    engine.load(base)
    engine.thermalize(int(seed))
    traj = engine.run([Segment(float(window), 0.0)], sample_every=int(sample_every), record_positions=True)
    if traj is None or traj.unwrapped is None:
        raise RuntimeError("cage average: the engine recorded no positions")
    mean = np.asarray(traj.unwrapped, dtype=np.float64).mean(axis=0)
    return _wrap(mean, np.asarray(conf.cell, dtype=np.float64))


def cage_positions(
    engine: Any,
    conf: Configuration,
    *,
    window: float,
    seed: int,
    sample_every: int = 1,
    style: str = "cg",
    ftol: float = 1e-6,
    inherent: bool = True,
    cage: bool = True,
) -> dict[str, np.ndarray]:
    """Both position sets of one configuration as shard arrays.

    Keys: ``positions_inherent`` (float32), ``is_energy`` (U/N), ``is_fnorm``, ``is_iterations``;
    ``positions_cage`` (float32), ``cage_window``.  A set not asked for is absent.
    """
    out: dict[str, np.ndarray] = {}
    if inherent:
        pos, info = inherent_positions(engine, conf, style=style, ftol=ftol)
        out["positions_inherent"] = pos.astype(np.float32)
        out["is_energy"] = np.float64(info.get("energy", np.nan))
        out["is_fnorm"] = np.float64(info.get("fnorm", np.nan))
        out["is_iterations"] = np.int64(info.get("iterations", -1))
    if cage:
        out["positions_cage"] = cage_average_positions(engine, conf, window=window, seed=seed, sample_every=sample_every).astype(
            np.float32
        )
        out["cage_window"] = np.float64(window)
    return out


def jumps_inside_window(first_jump: np.ndarray, window: float) -> float:
    """Fraction of (replica, particle) first cage jumps that happen within ``window`` of the origin.

    ``first_jump``: ``(R, N)`` ICE first-jump times (NaN = censored).  A cage average over
    ``window`` is meaningful only where this fraction is small (a few per cent).
    """
    fj = np.asarray(first_jump, dtype=np.float64)
    return float(np.mean(np.isfinite(fj) & (fj <= float(window)))) if fj.size else float("nan")

"""Inherent states: minimise configurations with the MD engine, cached on disk.

The inherent state (IS) of a configuration is the local potential-energy
minimum reached by steepest-descent-like minimisation at fixed cell (tilt
kept), as used by Kapteijns et al. 2021 (App. A), Zeng, Yu & Wang 2025
(Methods, PHM) and Yu, Gao, Gao & Samwer (Methods, IS D_min; LAMMPS CG).
Minimiser settings come from a mapping (``src/taulc/conf/descriptor/kappa.yaml``'s
``minimize`` node, or any dict): ``style`` (cg | fire), ``etol``, ``ftol``,
``maxiter``, ``maxeval``.  Results are cached as extxyz files keyed by a hash
of the positions, species, cell, pair potential and minimiser settings, so a
rerun (or a killed run) never minimises the same configuration twice; the
force norm after minimisation is kept in ``meta['minimize']``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from taulc.md.configuration import Configuration, read_configuration, write_configuration
from taulc.md.lammps_engine import LammpsEngine
from taulc.md.system import SystemSpec

log = logging.getLogger(__name__)

__all__ = ["MINIMIZE_DEFAULTS", "minimize_settings", "system_for", "inherent_state"]

MINIMIZE_DEFAULTS: dict[str, Any] = {"style": "cg", "etol": 0.0, "ftol": 1e-10, "maxiter": 100_000, "maxeval": 1_000_000}


def minimize_settings(cfg: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults merged with ``cfg``; unknown keys are errors naming the field."""
    cfg = dict(cfg or {})
    unknown = sorted(set(cfg) - set(MINIMIZE_DEFAULTS))
    if unknown:
        raise ValueError(f"minimize config: unknown field(s) {unknown}; known: {sorted(MINIMIZE_DEFAULTS)}")
    out = {**MINIMIZE_DEFAULTS, **cfg}
    if out["style"] not in ("cg", "fire"):
        raise ValueError(f"minimize config: field 'style' must be 'cg' or 'fire', got {out['style']!r}")
    return out


def system_for(conf: Configuration, lj: Mapping[str, Any] | None = None, name: str = "inherent") -> SystemSpec:
    """A SystemSpec matching ``conf`` (N, ρ) with the pair potential of ``lj`` (default: KA, global r_c = 2.5)."""
    lj = dict(lj or {})
    kw: dict[str, Any] = {}
    for key in ("epsilon", "sigma"):
        if key in lj:
            kw[key] = {str(k): float(v) for k, v in dict(lj[key]).items()}
    for key in ("cutoff", "cutoff_mode"):
        if key in lj:
            kw[key] = lj[key]
    return SystemSpec(name=name, n_atoms=int(conf.n_atoms), density=float(conf.density), temperature=1.0, **kw)


def _key(conf: Configuration, system: SystemSpec, settings: Mapping[str, Any]) -> str:
    h = hashlib.sha256()
    for a in (conf.positions, conf.species, conf.cell):
        h.update(np.ascontiguousarray(a).tobytes())
    pot = {k: system.to_dict()[k] for k in ("epsilon", "sigma", "cutoff", "cutoff_mode")}
    h.update(json.dumps([pot, dict(settings)], sort_keys=True).encode())
    return h.hexdigest()[:20]


def inherent_state(
    conf: Configuration,
    system: SystemSpec,
    settings: Mapping[str, Any] | None = None,
    cache_dir: str | Path | None = None,
    engine: Any = None,
) -> Configuration:
    """IS of ``conf`` (cached in ``cache_dir/<hash>.extxyz`` when a directory is given).

    ``engine``: an MD engine with ``minimize`` (default: a 1-thread LAMMPS engine, closed after use).
    """
    s = minimize_settings(settings)
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"{_key(conf, system, s)}.extxyz"
        if path.exists():
            return read_configuration(path)
    own = engine is None
    if own:
        engine = LammpsEngine(system, n_threads=1)
    try:
        out = engine.minimize(conf, **s)
    finally:
        if own:
            engine.close()
    info = out.meta["minimize"]
    log.info(
        "inherent state: %s, %d iterations, |F| = %.2e, U/N = %.5f", s["style"], info["iterations"], info["fnorm"], info["energy"]
    )
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_configuration(path, out)
    return out

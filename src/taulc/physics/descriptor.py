"""The ``kappa`` descriptor family: local dipole stiffness κ_i of the inherent state.

κ_i is the arithmetic mean of κ_ij (Kapteijns et al. 2021, Eq. A4) over the
interacting pairs of i (their Sec. III.C), computed in the inherent state of
the configuration (:mod:`taulc.physics.inherent`).  One column per generation;
coarse-grained generations (Yu, Zeng & Wang 2025, Eqs. 11-13) are added by
:func:`taulc.structure.featurize` like for every family.  Registered with
``taulc.structure.features.EXTERNAL_FAMILIES`` (imported on first use).

Options (``src/taulc/conf/descriptor/kappa.yaml``): ``lj`` (epsilon, sigma, cutoff,
cutoff_mode; default the composed system's), ``minimize`` (style, etol, ftol,
maxiter, maxeval), ``inherent`` (false: the input is already an inherent
state), ``cache_dir`` (inherent-state cache; null = none), ``batch`` (solves
per batch), ``log`` (true: ln κ_i), ``generations``, ``rc``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from taulc.md.configuration import Configuration
from taulc.physics.elasticity import dipole_stiffness
from taulc.physics.hessian import PairTable
from taulc.physics.inherent import inherent_state, system_for

log = logging.getLogger(__name__)

KEYS = {"lj", "minimize", "inherent", "cache_dir", "batch", "log", "generations", "rc"}


def kappa_family(
    positions: np.ndarray, species: np.ndarray, cell: np.ndarray, params: Mapping[str, Any]
) -> tuple[np.ndarray, list[tuple[Any, Any, Any, Any]]]:
    """(κ_i (N, 1), base names) for :func:`taulc.structure.featurize`."""
    extra = set(params) - KEYS
    if extra:
        raise ValueError(f"descriptor config: family 'kappa' has unknown options {sorted(extra)}; allowed {sorted(KEYS)}")
    conf = Configuration(
        np.asarray(positions, dtype=np.float64), np.asarray(species, dtype=np.int64), np.asarray(cell, dtype=np.float64)
    )
    system = system_for(conf, params.get("lj"))
    if params.get("inherent", True):
        conf = inherent_state(conf, system, params.get("minimize"), params.get("cache_dir"))
    res = dipole_stiffness(
        conf.positions, conf.species, conf.cell, PairTable.from_system(system), batch=int(params.get("batch", 128))
    )
    k = res.kappa_local
    if params.get("log", False):
        k = np.log(k)
    return k[:, None], [(None, None, None, None)]

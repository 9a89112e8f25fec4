"""Atomic (per-particle) stresses of the binary LJ mixture, post hoc from a configuration.

Zeng, Yu & Wang 2025, "Connecting shear thinning and dynamic heterogeneity in
supercooled liquids by localized elasticity", Eq. 2-4 (after Egami 2011, "Atomic
level stresses"):

    σ_i,ab = +1/(2 Ω_i) Σ_j V'(r_ij) r_ij,a r_ij,b / r_ij   [- m v_i,a v_i,b / Ω_i]      (Eq. 2)

    Ω_b / Ω_s = (d_b / d_s)^D,   N_b Ω_b + N_s Ω_s = V                                    (Eq. 3)

    σ_c = Σ_{i∈F} σ_i,xy Ω_i / V_F                                                          (Eq. 4)

Conventions, stated because the paper's Eq. 2 is printed without them:

* **factor 1/2**: each pair's virial is split equally between its two particles
  (Egami), so that the volume-weighted sum over all particles is the global stress,
  ``Σ_i Ω_i σ_i,xy = ∂U/∂γ = -V p_xy`` with p_xy the engine's virial pressure component
  (``compute pressure NULL virial``; η = -<p_xy>/γ̇ of Zeng et al. Eq. 1).  Without
  the 1/2 the sum is twice the stress, and η_c of Eq. 8 would be twice η.
* **sign**: Eq. 2's own ``+dV/dr``: stress = minus pressure (σ_xy > 0 in steady shear
  with γ̇ > 0), the sign for which the paper's σ_c grows during elastic loading.  Under
  an affine strain ``r_x → r_x + γ r_y`` a pair changes length by ``∂r/∂γ = r_x r_y / r``,
  so ``∂U/∂γ = Σ_pairs V'(r) r_x r_y / r``, which the half-split distributes over the
  particles (the sign does not depend on ``r_ij = r_i − r_j`` or ``r_j − r_i``).
* **kinetic part**: off by default, like the engine's p_xy (the virial of Eq. 1).
  Given peculiar velocities, ``-m v_a v_b / Ω_i`` is added, and the volume-weighted
  sum then equals minus LAMMPS's full pressure tensor component (tested at γ̇ = 0).
* ``d_b / d_s = σ_bb / σ_ss`` (Kob-Andersen: 1/0.88), D = 3.

Pairs come from vesin (:func:`taulc.structure.neighbors.iter_neighbor_blocks`, half
lists in bounded-memory blocks), with per-pair-type cut-offs from the
:class:`~taulc.md.system.SystemSpec`; no loop over particles or pairs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
from tqdm.auto import tqdm

from taulc.md.system import SystemSpec
from taulc.physics.hessian import PairTable
from taulc.structure.neighbors import iter_neighbor_blocks, validate_system

log = logging.getLogger(__name__)

__all__ = [
    "atomic_shear_stress_frames",
    "atomic_stress",
    "atomic_virial",
    "cluster_stress",
    "frame_cell",
    "particle_volumes",
    "species_volumes",
]

#: upper-triangle components (a, b) returned by :func:`atomic_virial`
COMPONENTS = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))


def species_volumes(system: SystemSpec, species: np.ndarray, volume: float, dim: int = 3) -> tuple[float, float]:
    """(Ω_b, Ω_s) of Eq. 3: Ω_b/Ω_s = (σ_bb/σ_ss)^D and N_b Ω_b + N_s Ω_s = V."""
    species = np.asarray(species)
    ns = int(np.count_nonzero(species == 1))
    nb = species.shape[0] - ns
    ratio = (system.sigma["bb"] / system.sigma["ss"]) ** dim
    omega_s = volume / (nb * ratio + ns)
    return float(ratio * omega_s), float(omega_s)


def particle_volumes(system: SystemSpec, species: np.ndarray, volume: float) -> np.ndarray:
    """Ω_{α_i} of Eq. 3 for every particle (species 0 = big, 1 = small)."""
    ob, os_ = species_volumes(system, species, volume)
    return np.where(np.asarray(species) == 1, os_, ob)


def _pair_tables(system: SystemSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """2x2 tables of ε, σ and cut-off indexed by (species_i, species_j) (shared with the Hessian)."""
    t = PairTable.from_system(system)
    return t.epsilon, t.sigma, t.cutoff


def atomic_virial(
    positions: np.ndarray, species: np.ndarray, cell: np.ndarray, system: SystemSpec, *, max_pairs: int = 5_000_000
) -> np.ndarray:
    """Per-particle pair virial ``W_i,ab = -1/2 Σ_j V'(r_ij) r_a r_b / r`` (N, 6), components
    in the order xx, yy, zz, xy, xz, yz (:data:`COMPONENTS`).

    ``Σ_i W_i,ab = -V p_ab`` (virial part of the pressure tensor).  Memory is bounded by
    ``max_pairs`` pairs per vesin block.
    """
    pos, c, sp = validate_system(positions, cell, species)
    assert sp is not None
    n = pos.shape[0]
    eps, sig, rc = _pair_tables(system)
    out = np.zeros((n, 6))
    for block in iter_neighbor_blocks(pos, c, system.max_cutoff, max_pairs=max_pairs, n_threads=1):
        ci, nj, vec, d = block.directed()
        si, sj = sp[ci], sp[nj]
        keep = d < rc[si, sj]
        if not keep.all():
            ci, vec, d, si, sj = ci[keep], vec[keep], d[keep], si[keep], sj[keep]
        s6 = (sig[si, sj] / d) ** 6
        # V'(r)/r = -24 ε (2 s^12 - s^6) / r^2 ; W gets -1/2 V'(r) r_a r_b / r
        f_over_r = 12.0 * eps[si, sj] * (2.0 * s6 * s6 - s6) / (d * d)
        for k, (a, b) in enumerate(COMPONENTS):
            out[:, k] += np.bincount(ci, weights=f_over_r * vec[:, a] * vec[:, b], minlength=n)
    return out


def atomic_stress(
    positions: np.ndarray,
    species: np.ndarray,
    cell: np.ndarray,
    system: SystemSpec,
    *,
    velocities: np.ndarray | None = None,
    component: str | None = "xy",
    max_pairs: int = 5_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Atomic stress of Eq. 2 and particle volumes of Eq. 3.

    Args:
        positions, species, cell: one configuration (Cartesian positions, species 0/1,
            upper-triangular cell with tilt xy).
        system: pair parameters and cut-offs.
        velocities: peculiar velocities (N, 3); when given the kinetic term
            ``-m v_a v_b / Ω_i`` is included, otherwise only the configurational part
            (as the engine's p_xy).
        component: ``"xy"`` (default) returns σ_i,xy (N,); None returns (N, 6) in the
            :data:`COMPONENTS` order.

    Returns:
        ``(sigma, omega)`` with ``Σ_i omega_i sigma_i = -V p`` (stress = -pressure; for xy,
        ``∂U/∂γ`` of an affine shear when velocities are not given).
    """
    w = atomic_virial(positions, species, cell, system, max_pairs=max_pairs)
    volume = float(abs(np.linalg.det(np.asarray(cell, dtype=np.float64))))
    omega = particle_volumes(system, species, volume)
    if velocities is not None:
        v = np.asarray(velocities, dtype=np.float64)
        if v.shape != w.shape[:1] + (3,):
            raise ValueError(f"velocities: expected shape ({w.shape[0]}, 3), got {v.shape}")
        for k, (a, b) in enumerate(COMPONENTS):
            w[:, k] += system.mass * v[:, a] * v[:, b]
    sigma = -w / omega[:, None]
    if component is None:
        return sigma, omega
    names = {"xx": 0, "yy": 1, "zz": 2, "xy": 3, "xz": 4, "yz": 5}
    if component not in names:
        raise ValueError(f"component: expected one of {sorted(names)} or None, got {component!r}")
    return sigma[:, names[component]], omega


def frame_cell(cell: np.ndarray, tilt: float) -> np.ndarray:
    """The cell of a recorded frame: ``cell`` with its xy tilt replaced by ``tilt``."""
    c = np.array(cell, dtype=np.float64, copy=True)
    c[1, 0] = tilt
    return c


def atomic_shear_stress_frames(
    unwrapped: np.ndarray,
    tilt: np.ndarray,
    cell: np.ndarray,
    species: np.ndarray,
    system: SystemSpec,
    frames: Iterable[int] | None = None,
    progress: bool = False,
) -> np.ndarray:
    """σ_i,xy (Eq. 2) at recorded frames of a trajectory, ``(F_sel, N)``.

    ``unwrapped (F, N, 3)`` and ``tilt (F,)`` as stored in :class:`taulc.md.Trajectory`;
    ``cell`` is any frame's cell (its tilt is replaced per frame).  One vesin call per
    frame (the loop is over frames, not particles).
    """
    idx = list(range(unwrapped.shape[0])) if frames is None else [int(f) for f in frames]
    out = np.empty((len(idx), unwrapped.shape[1]))
    it: Iterable[int] = idx
    if progress:
        it = tqdm(idx, desc="atomic stress", unit="frame")
    for k, f in enumerate(it):
        c = frame_cell(cell, float(tilt[f]))
        out[k], _ = atomic_stress(np.asarray(unwrapped[f], dtype=np.float64), species, c, system)
    return out


def cluster_stress(sigma: np.ndarray, omega: np.ndarray, members: np.ndarray, volume: float) -> np.ndarray:
    """Eq. 4: σ_c = Σ_{i∈F} σ_i Ω_i / V_F for boolean ``members`` (..., N) and σ (..., N)."""
    return np.einsum("...n,...n->...", np.where(members, sigma, 0.0), np.broadcast_to(omega, sigma.shape)) / volume

"""Per-particle (atomic) shear stress recorded by the engine (Zeng, Yu & Wang 2025, Eq. 2-4).

Zeng, Yu & Wang 2025, *Connecting shear thinning and dynamic heterogeneity in
supercooled liquids by localized elasticity*, define the atomic shear stress of
particle i as a pair-virial sum over its neighbours divided by the volume Ω_α
the particle occupies (Eq. 2), with the volumes fixed per species by

    Ω_b / Ω_s = (d_b / d_s)^D,    N_b Ω_b + N_s Ω_s = V          (Eq. 3)

and the stress of a region F as ``σ_F = Σ_{i∈F} σ_i Ω_i / V_F`` (Eq. 4).

Convention used by taulc (sign and pair split stated once, here):

    σ_i,xy = s_i,xy / Ω_i,   s_i,xy = ½ Σ_j V'(r_ij) r_ij,x r_ij,y / r_ij

``s_i`` is LAMMPS's ``compute stress/atom NULL virial`` (a stress×volume; each
pair's virial split equally between its two particles — Eq. 2 as printed has
no ½, a uniform factor 2).  ``σ_i,xy`` is a *stress* (minus a pressure): it is
positive when the liquid resists a positive shear rate.  Summed over all
particles (Eq. 4 with F = the whole box)

    Σ_i σ_i,xy Ω_i / V = −p_xy,

where p_xy is the engine's virial pressure of Eq. 1 (``η = −⟨p_xy⟩/γ̇``), to
round-off when both are averaged over the same MD steps (tested to 1e-8).
The kinetic (m v_x v_y) part is left out, as in Eq. 1 and Eq. 2.
"""

from __future__ import annotations

import numpy as np

__all__ = ["particle_volumes", "region_stress"]


def particle_volumes(species: np.ndarray, volume: float, diameter_ratio: float, dim: int = 3) -> np.ndarray:
    """Per-particle volume Ω_i from Eq. 3 (species 0 = big, 1 = small).

    Args:
        species: ``(N,)`` 0/1 species.
        volume: box volume V.
        diameter_ratio: d_b / d_s (taulc uses σ_bb / σ_ss of the system).
        dim: dimension D.
    """
    sp = np.asarray(species)
    if not np.isin(sp, (0, 1)).all():
        raise ValueError("field 'species' must contain only 0 (big) and 1 (small)")
    if not (volume > 0 and diameter_ratio > 0):
        raise ValueError(f"volume and diameter_ratio must be > 0, got {volume}, {diameter_ratio}")
    n_b = int(np.count_nonzero(sp == 0))
    n_s = sp.size - n_b
    ratio = float(diameter_ratio) ** dim  # Ω_b / Ω_s
    omega_s = volume / (n_b * ratio + n_s)
    return np.where(sp == 0, ratio * omega_s, omega_s)


def region_stress(atom_stress: np.ndarray, omega: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Stress of the particles in ``mask`` (Eq. 4): ``Σ_F σ_i Ω_i / Σ_F Ω_i``.

    ``atom_stress`` is ``(..., N)`` (e.g. frames × particles); returns ``(...)``.
    """
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        raise ValueError("region_stress: empty particle mask")
    w = np.asarray(omega, dtype=np.float64)[m]
    return np.asarray(atom_stress)[..., m] @ w / w.sum()
